"""authorship, transformers_adoption, pickle_only and growth on the real data (../shared/data), through
``ptmscope metric NAME --json``; expected numbers recomputed from the raw files with pandas (or
plain SQL on the store), never copied from the metric."""

from __future__ import annotations

import gzip
import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from realdata import shared_path

pytestmark = [pytest.mark.realdata, pytest.mark.slow]

DUMP = ("hf", "2022-02_hub-dump", "model_infos.jsonl.gz")
LISTING = ("hf", "2022-10_model-card-study", "model_info.parquet")
TREES = ("hf", "2025-04_model-trees")
HISTORY = ("hf", "safetensors-history", "fixed3_repository_evolution_commits_0_5014.csv")
STATE = r"^(training_args\.bin|optimizer\.pt|scheduler\.pt|scaler\.pt|rng_state.*\.pth)$"


@pytest.fixture(scope="module")
def real(tmp_path_factory) -> Path:
    paths = [shared_path(*p) for p in (DUMP, LISTING, TREES, HISTORY)]
    from ptmscope.cli import main

    store = tmp_path_factory.mktemp("t3") / "store.duckdb"
    for args in (
        [paths[0]],
        [paths[1], "--format", "hf-listing", "--date", "2022-10-01"],
        [paths[2], "--format", "lineage-edges"],
        [paths[3], "--format", "commit-log"],
    ):
        assert main(["ingest", *map(str, args), "--store", str(store)]) == 0
    return store


@pytest.fixture(scope="module")
def dump() -> pd.DataFrame:
    with gzip.open(shared_path(*DUMP), "rt", encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh]
    d = pd.DataFrame(
        {
            "id": [r["modelId"] for r in rows],
            "downloads": [r.get("downloads") for r in rows],
            "likes": [r.get("likes") for r in rows],
            "library_name": [r.get("library_name") for r in rows],
            "tags": [r.get("tags") or [] for r in rows],
        }
    )
    d["owner"] = [i.split("/")[0] if "/" in i else "(no namespace)" for i in d["id"]]
    return d


def _metric(cli, store: Path, name: str, *args: str) -> dict:
    code, out, err = cli("metric", name, "--json", "--store", str(store), *args)
    assert code == 0, err
    return json.loads(out)


def _expected_top(values: pd.Series, k: int) -> pd.Series:
    """Weight of each item among the k largest, ties at the cutoff shared equally."""
    v = values.sort_values(ascending=False)
    cut = v.iloc[k - 1]
    above = (values > cut).sum()
    tied = (values == cut).sum()
    return (values > cut).astype(float) + (values == cut) * (k - above) / tied


def test_authorship_on_the_2022_02_dump(cli, real, dump):
    d = _metric(cli, real, "authorship", "--n-boot", "100")
    assert d["snapshot_id"].startswith("hf-2022-02-15")  # the one snapshot with downloads and likes
    for measure in ("downloads", "likes"):
        x = dump[dump[measure].notna()].copy()
        x["top"] = _expected_top(x[measure].astype(float), 1000)
        per = x.groupby("owner").agg(total=(measure, "sum"), models=("id", "size"), top=("top", "sum"))
        k = math.ceil(0.01 * len(per))
        in_group = _expected_top(per["total"].astype(float), k)
        share_top = float((in_group * per["top"]).sum() / per["top"].sum())
        share_all = float((in_group * per["models"]).sum() / per["models"].sum())
        block = next(b for b in d["measures"] if b["measure"] == measure)
        row = next(r for r in block["groups"] if r["kind"] == "share" and r["k"] == 1000)
        assert block["n_authors"] == len(per) and row["group_authors"] == k
        assert row["share_top"] == pytest.approx(share_top) and row["share_all"] == pytest.approx(share_all)
        s = np.sort(per["total"].to_numpy(float))
        n = len(s)
        gini = float(((2 * np.arange(1, n + 1) - n - 1) * s).sum() / (n * s.sum()))
        assert block["gini"] == pytest.approx(gini)
    n_dl, n_likes = int(dump["downloads"].notna().sum()), int(dump["likes"].notna().sum())
    assert d["rests_on"][0]["n"] == len(dump)
    assert f"downloads for {n_dl:,}, likes for {n_likes:,}" in d["rests_on"][0]["what"]


def test_growth_on_the_2022_10_listing(cli, real):
    import statsmodels.api as sm

    raw = pd.read_parquet(shared_path(*LISTING))
    d = _metric(cli, real, "growth")
    assert d["snapshot_id"].startswith("hf-2022-10-01")
    t = raw.dropna(subset=["creation_time"])
    months = t["creation_time"].dt.strftime("%Y-%m")
    counts = months.value_counts()
    assert {m: c for m, c in zip(d["months"], d["counts"], strict=True) if c} == counts.to_dict()
    first = t.groupby("author")["creation_time"].min().dt.strftime("%Y-%m").value_counts()
    assert {m: c for m, c in zip(d["months"], d["author_counts"], strict=True) if c} == first.to_dict()
    i0, i1 = d["months"].index(d["fit_first_month"]), d["months"].index(d["fit_last_month"])
    y = np.array(d["counts"][i0 : i1 + 1], dtype=float)
    assert min(y) >= 10 and all(c < 10 for c in d["counts"][:i0][-1:])  # the window starts after the last thin month
    ref = sm.NegativeBinomial(y, sm.add_constant(np.arange(len(y), dtype=float))).fit(disp=0)
    exp = next(f for f in d["comparison"]["models"] if f["curve"] == "exponential")
    assert exp["aic"] == pytest.approx(ref.aic, abs=1e-3)
    assert d["summary"]["exp_aic_margin_min"] <= d["exp_aic_margin"]["models"] <= d["summary"]["exp_aic_margin_max"]


def test_transformers_adoption_joins_the_dump_and_the_listing(cli, real, dump):
    d = _metric(cli, real, "transformers_adoption", "--n-boot", "100")
    c = d["creation"]
    assert c["library_snapshot"].startswith("hf-2022-02-15") and c["created_snapshot"].startswith("hf-2022-10-01")
    raw = pd.read_parquet(shared_path(*LISTING))[["modelId", "creation_time"]].dropna()
    j = dump.merge(raw, left_on="id", right_on="modelId")
    j = j[j["creation_time"] <= pd.Timestamp("2022-02-15 23:59:59", tz="UTC")]
    assert c["n_models"] == len(j)
    j["transformers"] = [
        (isinstance(ln, str) and ln.strip().lower() == "transformers") or "transformers" in tags
        for ln, tags in zip(j["library_name"], j["tags"], strict=True)
    ]
    recent = j[
        (j["creation_time"] >= pd.Timestamp("2021-02-01", tz="UTC"))
        & (j["creation_time"] < pd.Timestamp("2022-02-01", tz="UTC"))
    ]
    assert (c["recent"]["from"], c["recent"]["to"]) == ("2021-02", "2022-01")
    assert c["recent"]["models"] == len(recent)
    assert c["recent"]["share"] == pytest.approx(recent["transformers"].mean())
    r = d["reuse"]
    assert r["snapshot_id"].startswith("hf-2025-04")
    import duckdb

    con = duckdb.connect(str(real), read_only=True)
    sid = r["snapshot_id"]
    want = con.execute(
        """
        with e as (select distinct child, parent_id from lineage
                   where snapshot_id = ? and parent_id is not null and origin <> 'card_text'),
             nd as (select parent_id, count(*) d from e group by 1)
        select count(*), sum(coalesce(nd.d, 0)) from packages p
        join (select distinct package_id from package_libraries where snapshot_id = ? and library = 'transformers') t
          on t.package_id = p.package_id
        left join nd on nd.parent_id = p.package_id where p.snapshot_id = ?
        """,
        [sid, sid, sid],
    ).fetchone()
    con.close()
    g = next(x for x in r["groups"] if x["group"] == "transformers")
    assert (g["models"], g["n_descendants"]) == (want[0], want[1])


def test_pickle_only_on_the_model_trees_and_the_history(cli, real):
    d = _metric(cli, real, "pickle_only", "--n-boot", "200")
    assert "not in registry data" in d["not_measurable"]
    f = d["files"]
    assert f["snapshot_id"].startswith("hf-2025-04")  # the 2022-02 dump predates safetensors
    import duckdb

    con = duckdb.connect(str(real), read_only=True)
    edges, child_po, parent_po = con.execute(
        r"""
        with f as (select snapshot_id, package_id, lower(path) p, lower(regexp_extract(path, '[^/]*$')) b
                   from package_files where snapshot_id = ?),
        c as (select package_id,
                bool_or(ends_with(p, '.safetensors')) st,
                bool_or(regexp_matches(p, '\.(bin|pt|pth|ckpt|pkl|pickle|joblib|h5)$')
                        and not regexp_matches(b, ?)) pk,
                bool_or(regexp_matches(p, '\.(onnx|msgpack|gguf|ggml|tflite|mlmodel|npz|keras)$')) ot
              from f group by 1),
        w as (select package_id, pk and not st po from c where st or pk or ot),
        e as (select distinct child, parent_id from lineage where snapshot_id = ? and parent_id is not null)
        select count(*), sum(wc.po::int), sum(wp.po::int)
        from e join w wc on wc.package_id = e.child join w wp on wp.package_id = e.parent_id
        """,
        [f["snapshot_id"], STATE, f["snapshot_id"]],
    ).fetchone()
    con.close()
    s = d["summary"]
    assert s["n_edges"] == edges
    assert s["desc_share"] == pytest.approx(child_po / edges) and s["base_share"] == pytest.approx(parent_po / edges)
    # the commit history, from the raw CSV: a file is pickle-based by its format label or suffix
    raw = pd.read_csv(shared_path(*HISTORY), dtype=str)
    base = raw["model_file_path"].str.replace("\\", "/", regex=False).str.split("/").str[-1].str.lower()
    state = base.str.match(STATE)
    fmt = raw["serialization_format"].fillna("")
    raw["pk"] = ~state & (
        fmt.isin(["torch.save", "pickle", "h5/hdf5", "joblib"])
        | base.str.contains(r"\.(?:bin|pt|pth|ckpt|pkl|pickle|joblib|h5)$", regex=True)
    )
    raw["st"] = ~state & ((fmt == "safetensors") | base.str.endswith(".safetensors"))
    per = raw.assign(repo=raw["repo_url"].str.lower()).groupby("repo")[["pk", "st"]].any()
    per = per[per["pk"] | per["st"]]
    cm = d["commits"]
    assert cm["repos"] == len(per)
    assert cm["n_pickle_only"] == int((per["pk"] & ~per["st"]).sum())
    assert re.fullmatch(r"hf-2024-09-\d\d-[0-9a-f]{8}", cm["snapshot_id"])
