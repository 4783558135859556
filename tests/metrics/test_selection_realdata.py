"""T3.5 (attributes), T3.6 (reuse) and T3.7 (maintenance) on ../shared/data through ``ptmscope metric NAME --json``.

Expected counts are computed here from the raw files (JSON lines, CSV, Parquet) and the
shipped rename aliases, not from the store.
"""

from __future__ import annotations

import csv
import gzip
import json
from collections import defaultdict
from pathlib import Path

import pytest

from ptmscope.aliases import builtin_aliases
from realdata import shared_path

pytestmark = pytest.mark.realdata

ALIASES = dict(builtin_aliases("hf"))


def canon(pid: str) -> str:
    return ALIASES.get(pid, pid)


@pytest.fixture(scope="module")
def real_store(tmp_path_factory) -> Path:
    hf = ("hf",)
    dump = shared_path(*hf, "2022-02_hub-dump", "model_infos.jsonl.gz")
    cards = shared_path(*hf, "2022-02_hub-dump", "model_cards.jsonl.gz")
    listing = shared_path(*hf, "2022-10_model-card-study", "model_info.parquet")
    trees = shared_path(*hf, "2025-04_model-trees")
    log = shared_path(*hf, "safetensors-history", "fixed3_repository_evolution_commits_0_5014.csv")
    deps = shared_path(*hf, "2023_peatmoss-artifact", "gh_repo_to_hf_model_license_mapping.csv")
    from ptmscope.cli import main
    from ptmscope.pipeline import score_cards
    from ptmscope.store import Store

    path = tmp_path_factory.mktemp("sel") / "store.duckdb"
    for args in (
        [dump, "--cards", cards],
        [listing, "--format", "hf-listing", "--date", "2022-10-01"],
        [trees, "--format", "lineage-edges"],
        [log, "--format", "commit-log"],
        [deps, "--format", "gh-dependents", "--date", "2023-08-01"],
    ):
        assert main(["ingest", *map(str, args), "--store", str(path)]) == 0
    with Store(path) as s:
        score_cards(s)
    return path


def _dump() -> dict[str, dict]:
    out = {}
    with gzip.open(shared_path("hf", "2022-02_hub-dump", "model_infos.jsonl.gz"), "rt") as fh:
        for line in fh:
            r = json.loads(line)
            out.setdefault(r["modelId"], r)
    return out


def _commit_log() -> dict[str, set[str]]:
    repos: dict[str, set[str]] = defaultdict(set)
    path = shared_path("hf", "safetensors-history", "fixed3_repository_evolution_commits_0_5014.csv")
    with open(path, newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            repos[canon(r["repo_url"].strip())].add(r["commit_hash"].strip())
    return repos


def _json(cli, *args) -> dict:
    code, out, err = cli(*args)
    assert code == 0, err
    return json.loads(out)


def test_attributes_on_the_hub_dump_and_on_the_model_trees(cli, real_store, tmp_path):
    import yaml

    d = _json(
        cli, "metric", "attributes", "--json", "--n-boot", "20", "--plot", tmp_path / "a.svg", "--store", real_store
    )
    dump = _dump()
    with_dl = {k for k, r in dump.items() if r.get("downloads") is not None}
    assert d["snapshot_id"].startswith("hf-2022-02-15") and d["n"] == len(with_dl)
    # no parameter counts or file sizes in the 2022 dump: size cannot be measured there, and says so
    size = next(b for b in d["table4_blocks"] if b["block"] == "size")
    assert size["measured"] is False and d["blocks_measured"] == 4
    # performance and datasets read with a YAML parser here; the metric reads the front matter with regexes
    results, datasets = set(), set()
    with gzip.open(shared_path("hf", "2022-02_hub-dump", "model_cards.jsonl.gz"), "rt") as fh:
        for line in fh:
            r = json.loads(line)
            text = r.get("readme") or ""
            if r.get("readme_missing") or not text.lstrip().startswith("---"):
                continue
            try:
                meta = yaml.safe_load(text.lstrip().split("---", 2)[1])
            except yaml.YAMLError:
                continue
            if not isinstance(meta, dict):
                continue
            mi = meta.get("model-index")
            if isinstance(mi, list) and any(
                isinstance(m, dict)
                and any(
                    isinstance(res, dict)
                    and any(isinstance(x, dict) and "value" in x for x in res.get("metrics") or [])
                    for res in m.get("results") or []
                )
                for m in mi
            ):
                results.add(r["modelId"])
            if meta.get("datasets"):
                datasets.add(r["modelId"])
    share_results = len(results & with_dl) / len(with_dl)
    assert d["shares"]["reports_results"] == pytest.approx(share_results, abs=0.003)
    tag_ds = {k for k in with_dl if any(t.startswith("dataset:") for t in dump[k].get("tags") or [])}
    assert d["shares"]["declares_datasets"] == pytest.approx(
        len((datasets | tag_ds) & with_dl) / len(with_dl), abs=0.003
    )
    assert Path(tmp_path / "a.svg").read_text().lstrip().startswith("<?xml")

    t = _json(
        cli, "metric", "attributes", "--snapshots", "2025-04-26", "--json", "--n-boot", "0", "--store", real_store
    )
    nodes = {}
    with open(shared_path("hf", "2025-04_model-trees", "nodes.csv"), newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            nodes.setdefault(r["model_id"], r)
    params: dict[str, int] = {}
    csv.field_size_limit(2**31 - 1)
    for f in sorted(shared_path("hf", "2025-04_model-trees", "raw").glob("*.csv")):
        with open(f, newline="", encoding="utf-8") as fh:
            for r in csv.DictReader(fh):
                pid, meta = r["model_id"].strip(), (r.get("metadata") or "").strip()
                if pid in params or not meta.startswith("{"):
                    continue
                m = json.loads(meta)
                total = next((m[k]["total"] for k in ("safetensors", "gguf") if isinstance(m.get(k), dict)), None)
                if total:
                    params[pid] = int(total)
    known = {k for k, r in nodes.items() if r["downloads"] not in ("", None) and params.get(k, 0) > 0}
    assert t["size_measure"] == "parameters" and t["size_known"] == len(known)


def test_maintenance_on_the_commit_log(cli, real_store, tmp_path):
    import pandas as pd

    d = _json(
        cli, "metric", "maintenance", "--json", "--n-boot", "100", "--plot", tmp_path / "m.svg", "--store", real_store
    )
    repos = _commit_log()
    assert d["n_repos"] == len(repos) == 1031
    assert d["n_commits"] == sum(len(v) for v in repos.values())
    assert d["weight_file_only"] is True and any("weight file" in n for n in d["notes"])
    assert d["split"]["n_high"] + d["split"]["n_low"] == len(repos)
    # downloads come from the 2022-10 listing, the snapshot with download counts for most commit repos
    listing = pd.read_parquet(shared_path("hf", "2022-10_model-card-study", "model_info.parquet"))
    have = {canon(m) for m, dl in zip(listing["modelId"], listing["downloads"], strict=True) if dl == dl}
    comp = {c["measure"]: c for c in d["comparisons"]}
    assert comp["downloads"]["snapshot_id"].startswith("hf-2022-10-01")
    assert comp["downloads"]["n_high"] + comp["downloads"]["n_low"] == len(have & set(repos))
    assert comp["size"].get("proxy") is True  # no snapshot has sizes of these repos
    assert comp["documentation"]["snapshot_id"].startswith("hf-2022-02-15")
    assert set(d["summary"]["parts"]) == {"perfective", "downloads", "size", "documentation"}


def test_reuse_joins_the_dump_the_commit_log_and_the_github_mapping(cli, real_store, tmp_path):
    from scipy.stats import spearmanr

    d = _json(
        cli, "metric", "reuse_drivers", "--json", "--n-boot", "100", "--plot", tmp_path / "r.svg", "--store", real_store
    )
    dump = _dump()
    repos = _commit_log()
    base = {}
    for k, r in dump.items():  # canonical id -> downloads, for models of the dump with downloads and commits
        if r.get("downloads") is not None and canon(k) in repos:
            base[canon(k)] = max(base.get(canon(k), 0), r["downloads"])
    assert d["snapshot_id"].startswith("hf-2022-02-15") and d["n_models"] == len(base)
    deps: dict[str, set[str]] = defaultdict(set)
    path = shared_path("hf", "2023_peatmoss-artifact", "gh_repo_to_hf_model_license_mapping.csv")
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.reader(fh):
            deps[canon(row[1].strip())].add(row[0].strip().lower())
    out = {o["outcome"]: o for o in d["outcomes"]}
    gh = out["github_dependents"]
    ids = sorted(base)
    counts = [len(deps.get(i, ())) for i in ids]
    assert gh["n_nonzero"] == sum(1 for c in counts if c > 0)
    assert gh["spearman"]["popularity"] == pytest.approx(spearmanr([base[i] for i in ids], counts)[0], abs=1e-9)
    assert d["summary"]["n_outcomes_analysed"] >= 1
