"""The dataset, commit-log and dependents importers, and Hub files/parameters, on ../shared/data.

Expected numbers are recomputed here from the raw files with pandas or the
standard library (never from the importers), and cross-checked against the
figures of ../shared/data/README.md where it gives them.
"""

from __future__ import annotations

import collections
import csv
import datetime as dt
import glob
import gzip
import json
import sys

import pandas as pd
import pytest

from ptmscope.pipeline import load_config
from ptmscope.sources import detect_format, plan
from realdata import ROOT, shared_path

pytestmark = pytest.mark.realdata


def _one(path, **kw):
    (p,) = plan(path, **kw)
    return p


def test_dataset_listing_and_cards_2023_03():
    d = shared_path("hf", "2023-03_dataset-cards")
    info = pd.read_parquet(d / "dataset_info.parquet")
    with gzip.open(d / "dataset_cards.jsonl.gz", "rt", encoding="utf-8") as fh:
        cards = {r["dataset_name"]: r["card"] for r in map(json.loads, fh)}
    assert len(info) == 24_065 and len(cards) == 7_433  # the README's figures
    created = pd.to_datetime(info["dataset_creation_time"], format="%a %b %d %H:%M:%S %Y %z", utc=True)

    assert detect_format(d / "dataset_info.parquet") == "hf-datasets"
    p = _one(d)  # the folder: listing paired with its cards file
    b = p.batch
    assert (p.format, b.snapshot.registry) == ("hf-datasets", "hf-datasets")
    assert b.snapshot.row_count == info["dataset_name"].nunique() == 24_065
    assert b.snapshot.taken_at == created.max().date() == dt.date(2023, 3, 16)
    pkg = b.table("packages").to_pandas().set_index("package_id")
    ref = info.set_index("dataset_name")
    assert pkg["downloads"].sum() == int(ref["downloads"].sum())
    assert int((pkg["downloads"] == 0).sum()) == int((ref["downloads"] == 0).sum()) == 16_011
    assert (pkg["author"] == ref.loc[pkg.index, "author"]).all()
    assert (pkg["created_at"] == created.set_axis(info["dataset_name"]).loc[pkg.index]).all()

    c = b.table("cards").to_pandas().set_index("package_id")
    assert len(c) == 24_065
    assert int(c["missing"].sum()) == int((~info["has_card"]).sum()) == 10_054
    with_text = c[c["text"].notna()]
    assert len(with_text) == 7_433
    assert with_text["text"].to_dict() == cards
    empty = info[info["has_card"] & ~info["has_nonempty_card"]]["dataset_name"]
    assert len(empty) == 6_578
    assert c.loc[empty, "text"].isna().all() and not c.loc[empty, "missing"].any()


def test_safetensors_history_commits():
    f = shared_path("hf", "safetensors-history", "fixed3_repository_evolution_commits_0_5014.csv")
    raw = pd.read_csv(f, dtype=str, keep_default_na=False)
    assert len(raw) == 8_171
    pairs = raw[["repo_url", "commit_hash"]].drop_duplicates()
    # the README says 4,735 commits: distinct hashes; two hashes recur in two albert repos (copied histories)
    assert raw["commit_hash"].nunique() == 4_735
    assert len(pairs) == 4_737
    assert raw["repo_url"].nunique() == 1_031

    assert detect_format(f) == "commit-log"
    b = _one(f).batch
    commits = b.table("commits").to_pandas()
    assert len(commits) == len(pairs)
    assert commits["commit_id"].nunique() == 4_735
    assert b.snapshot.row_count == commits["package_id"].nunique() == 1_031
    assert b.snapshot.taken_at == pd.to_datetime(raw["date"]).max().date() == dt.date(2024, 9, 25)
    assert "only commits that touched a model weight file" in b.snapshot.notes

    # files: the distinct (repo, commit, file) rows, the collector's "<repo>\" prefix removed and "\" read as "/"
    def norm(r):
        p = r.model_file_path
        if p.startswith(r.repo_url + "\\"):
            p = p[len(r.repo_url) + 1 :]
        return p.replace("\\", "/")

    raw["path"] = raw.apply(norm, axis=1)
    files = raw.drop_duplicates(["repo_url", "commit_hash", "path"])
    assert sum(len(x) for x in commits["files"]) == len(files)
    got = collections.Counter(fmt for fmts in commits["formats"] for fmt in fmts)
    assert got == collections.Counter(files["serialization_format"])
    assert all(len(a) == len(b) for a, b in zip(commits["files"], commits["formats"], strict=True))


def test_peatmoss_github_dependents():
    f = shared_path("hf", "2023_peatmoss-artifact", "gh_repo_to_hf_model_license_mapping.csv")
    with open(f, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert len(rows) == 22_861
    repos = {r[0] for r in rows}
    models = {r[1] for r in rows}
    links = {(r[1], r[0]) for r in rows}
    assert (len(repos), len(models)) == (7_956, 1_512)

    assert detect_format(f) == "gh-dependents"
    b = _one(f, taken_at=dt.date(2023, 8, 1)).batch
    dep = b.table("dependents").to_pandas()
    assert len(dep) == len(links) == 22_860  # one (model, repo) pair appears twice with two licences
    assert dep["dependent"].nunique() == 7_956
    assert set(dep["dependent"]) == {"github:" + r.removeprefix("github.com/") for r in repos}
    assert b.snapshot.row_count == dep["package_id"].nunique() == 1_512
    assert set(dep["kind"]) == {"github"}
    assert "1 repeated (model, repository) links" in b.snapshot.notes


def test_hub_dump_2022_02_siblings():
    d = shared_path("hf", "2022-02_hub-dump")
    expected = 0
    seen = set()
    with gzip.open(d / "model_infos.jsonl.gz", "rt", encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            if rec["modelId"] in seen:
                continue
            seen.add(rec["modelId"])
            expected += len({s["rfilename"] for s in rec.get("siblings") or []})
    b = _one(d / "model_infos.jsonl.gz").batch
    files = b.table("package_files")
    assert files.num_rows == expected
    assert files.column("size_bytes").null_count == files.num_rows  # the 2022 API gave no sizes
    assert b.table("packages").column("parameters").null_count == b.snapshot.row_count  # no safetensors field yet


def test_model_trees_2025_04_parameters_and_files():
    d = shared_path("hf", "2025-04_model-trees")
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    with open(d / "nodes.csv", newline="", encoding="utf-8") as fh:
        nodes = {r["model_id"].strip() for r in csv.DictReader(fh)}
    first: dict[str, dict] = {}
    for rf in sorted(glob.glob(str(d / "raw" / "*.csv"))):
        with open(rf, newline="", encoding="utf-8") as fh:
            for r in csv.DictReader(fh):
                pid = r["model_id"].strip()
                if pid in first or r["metadata"].strip() == "N/A":
                    continue
                first[pid] = json.loads(r["metadata"])

    def total(m):
        for key in ("safetensors", "gguf"):  # the Hub's parameter counts, safetensors first
            if (m.get(key) or {}).get("total") is not None:
                return m[key]["total"]
        return None

    params = {k: total(m) for k, m in first.items() if k in nodes and total(m) is not None}
    n_files = sum(len(set(m.get("siblings") or [])) for k, m in first.items() if k in nodes)

    b = _one(d).batch
    pkg = b.table("packages").to_pandas().set_index("package_id")
    got = pkg["parameters"].dropna().astype(int).to_dict()
    assert got == params
    assert params  # not vacuous
    assert b.table("package_files").num_rows == n_files


def test_real_data_config_ingests_the_new_sources():
    shared_path("hf")
    cfg = load_config(ROOT / "examples" / "real-data.toml")
    new = {s.format: s for s in cfg.sources if s.format in ("hf-datasets", "commit-log", "gh-dependents")}
    assert sorted(new) == ["commit-log", "gh-dependents", "hf-datasets"]
    counts = {}
    for fmt, s in new.items():
        (p,) = plan(s.path, format=fmt, taken_at=s.date, cards_path=s.cards)  # the config holds dates as dates
        counts[fmt] = {k: t.num_rows for k, t in p.batch.tables.items()}
    # the same figures as the tests above, now through the run configuration
    assert counts["hf-datasets"]["packages"] == 24_065
    assert counts["hf-datasets"]["cards"] == 24_065
    assert counts["commit-log"]["commits"] == 4_737
    assert counts["gh-dependents"]["dependents"] == 22_860
