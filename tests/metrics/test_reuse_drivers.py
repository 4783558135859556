"""T3.6: reuse vs popularity, maintenance and quality, on hand-built stores with known drivers."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
import statsmodels.api as sm
from scipy.stats import rankdata
from store_tables import add_tables

from ptmscope.claims import evaluate, load_rules
from ptmscope.engine import connect
from ptmscope.store import Store

BASE = dt.date(2022, 2, 15)
N = 80
CARD = (
    "# Model\n\nThis model classifies short English sentences into topics for news articles.\n\n"
    "## How to use\n\n```python\nfrom transformers import pipeline\npipeline('text-classification')\n```\n"
)
THIN = "# Model\n\nA model.\n"


def _build(path, *, driver: str = "popularity", seed: int = 0):
    """N models; reuse counts grow with ``driver`` ("popularity" = downloads, "commits" = commit count)."""
    rng = np.random.default_rng(seed)
    ids = ["bert-base-uncased"] + [f"org{k % 4}/m{k}" for k in range(1, N)]
    canonical = ["google-bert/bert-base-uncased", *ids[1:]]
    downloads = rng.permutation(np.arange(1, N + 1) * 37)
    n_commits = rng.integers(1, 9, N)
    last_mod = [dt.datetime(2021, 1, 1, tzinfo=dt.UTC) + dt.timedelta(days=int(d)) for d in rng.integers(0, 400, N)]
    score = rng.integers(0, N, N)
    drive = {"popularity": downloads, "commits": n_commits * 100 + rng.integers(0, 50, N)}[driver]
    rank = rankdata(drive) / N  # 0..1
    n_desc = np.where(rank > 0.6, np.round(10 * rank), 0).astype(int)
    n_dep = np.where(rank > 0.3, np.round(20 * rank), 0).astype(int)
    lineage = {"child": [], "parent_id": []}
    for k in range(N):
        for j in range(n_desc[k]):
            lineage["child"].append(f"kid/{k}-{j}")
            lineage["parent_id"].append(ids[k])
    commits = {"package_id": [], "commit_id": [], "committed_at": [], "message": []}
    for k in range(N):
        for j in range(int(n_commits[k])):
            commits["package_id"].append(canonical[k])
            commits["commit_id"].append(f"{k:04d}{j:04d}")
            commits["committed_at"].append(dt.datetime(2021, 6, 1, tzinfo=dt.UTC) + dt.timedelta(days=30 * j))
            commits["message"].append("Update pytorch_model.bin")
        # one commit after the base snapshot: counted only with commits_until = "all"
        commits["package_id"].append(canonical[k])
        commits["commit_id"].append(f"{k:04d}late")
        commits["committed_at"].append(dt.datetime(2023, 1, 1, tzinfo=dt.UTC))
        commits["message"].append("Update pytorch_model.bin")
    deps = {"package_id": [], "dependent": [], "kind": []}
    for k in range(N):
        for j in range(n_dep[k]):
            deps["package_id"].append(canonical[k])  # the mapping uses today's names
            deps["dependent"].append(f"github:u{j}/r{k}")
            deps["kind"].append("github")
    with Store(path) as s:
        add_tables(
            s,
            BASE.isoformat(),
            {
                "packages": {
                    "package_id": ids,
                    "downloads": downloads.tolist(),
                    "last_modified": last_mod,
                    "task": ["fill-mask"] * N,
                    "license": ["mit" if x % 2 else None for x in score],
                    "model_type": ["bert"] * N,
                    "tags": [["dataset:glue"] if x % 3 else [] for x in score],
                },
                "cards": {"package_id": ids, "text": [CARD if x % 4 else THIN for x in score]},
                "lineage": lineage,
            },
            name="base",
        )
        add_tables(s, "2024-09-25", {"packages": {"package_id": canonical}, "commits": commits}, name="log")
        add_tables(s, "2023-08-01", {"packages": {"package_id": sorted(set(deps["package_id"]))}, "dependents": deps})
        from ptmscope.pipeline import score_cards

        score_cards(s)
    return {
        "ids": ids,
        "downloads": downloads,
        "commits": n_commits,
        "last_modified": last_mod,
        "descendants": n_desc,
        "dependents": n_dep,
    }


def _expected_rank_coefs(y, cols):
    z = [(rankdata(c) - rankdata(c).mean()) / rankdata(c).std() for c in [y, *cols]]
    return sm.OLS(z[0], np.column_stack(z[1:])).fit().params


def test_rank_coefficients_and_verdict_when_popularity_drives_reuse(store_path):
    from ptmscope.metrics.docs import documentation_scores
    from ptmscope.metrics.reuse_drivers import reuse

    w = _build(store_path)
    b = connect(store_path)
    r = reuse(b, n_boot=200)
    assert r.n_models == N and r.n_base_candidates == N  # repo 0 joined through the rename alias
    assert r.dependents_snapshot_id is not None and r.commits_until == "snapshot"
    q = documentation_scores(b, snapshot_id=r.snapshot_id).execute().set_index("package_id")["documentation_score"]
    end = dt.datetime.combine(BASE, dt.time(23, 59, 59), tzinfo=dt.UTC)
    recency = [-(end - t).total_seconds() / 86400 for t in w["last_modified"]]
    cols = [w["downloads"], w["commits"], recency, [q[i] for i in w["ids"]]]
    out = {o["outcome"]: o for o in r.outcomes}
    for name, key in (("direct_descendants", "descendants"), ("github_dependents", "dependents")):
        o = out[name]
        assert o["analysed"] and o["n_nonzero"] == int((w[key] > 0).sum()) and o["sum"] == int(w[key].sum())
        exp = _expected_rank_coefs(w[key], cols)
        got = o["rank_regression"]["coefficients"]
        for k, e in zip(("popularity", "commits", "recency", "quality"), exp, strict=True):
            assert got[k]["estimate"] == pytest.approx(e, abs=1e-9), (name, k)
        d = o["rank_regression"]["differences"]["quality"]
        assert d["estimate"] == pytest.approx(exp[0] - abs(exp[3]), abs=1e-9)
        assert o["verdict"] == "popularity exceeds both"
        # counts made from ranks are not overdispersed: the count model falls back to Poisson and says so
        assert o["nb2"]["converged"] and o["nb2"]["model"] == "poisson" and o["nb2"]["alpha"] == 0.0
        assert o["nb2"]["coefficients"]["popularity"]["ci"][0] > 0
    res = {"summary": {"n_models": N, "n_outcomes_analysed": 2, "n_outcomes_open": 0, "n_outcomes_refuted": 0}}
    rule = next(x for x in load_rules() if x.id == "ext.reuse_drivers")
    assert evaluate(rule, res).verdict == "supported"


def test_commits_after_the_base_snapshot_count_only_when_asked(store_path):
    from ptmscope.metrics.reuse_drivers import reuse

    w = _build(store_path)
    b = connect(store_path)
    before = next(d for d in reuse(b, n_boot=0).descriptives if d["variable"] == "commits")
    after = next(d for d in reuse(b, n_boot=0, commits_until="all").descriptives if d["variable"] == "commits")
    assert before["mean"] == pytest.approx(w["commits"].mean())
    assert after["mean"] == pytest.approx(w["commits"].mean() + 1)


def test_maintenance_driving_reuse_refutes_the_claim(store_path):
    from ptmscope.metrics import registry

    _build(store_path, driver="commits", seed=3)
    res = registry.get("reuse_drivers").run(connect(store_path), {"n_boot": 200})
    out = {o["outcome"]: o for o in res.data["outcomes"]}
    assert all(o["verdict"] == "another exceeds popularity" for o in out.values())
    assert res.data["summary"]["n_outcomes_refuted"] == 2
    rule = next(x for x in load_rules() if x.id == "ext.reuse_drivers")
    assert evaluate(rule, res.data).verdict == "not supported"


def test_an_outcome_with_too_few_reused_models_is_not_analysed(store_path):
    from ptmscope.metrics.reuse_drivers import reuse

    w = _build(store_path)
    r = reuse(connect(store_path), n_boot=0, min_nonzero=int((w["descendants"] > 0).sum()) + 1)
    o = next(x for x in r.outcomes if x["outcome"] == "direct_descendants")
    assert o["analysed"] is False and "needed" in o["why_not"]


def test_figure(store_path):
    from ptmscope.figures.reuse_drivers import reuse_figure
    from ptmscope.metrics.reuse_drivers import reuse

    _build(store_path)
    fig = reuse_figure(reuse(connect(store_path), n_boot=50))
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["popularity", "commits", "recency", "quality"]
    assert "popularity exceeds both" in fig.axes[0].get_title()


def test_cli_json_and_plot(cli, store_path, tmp_path):
    import json

    _build(store_path)
    plot = tmp_path / "r.svg"
    code, out, err = cli("metric", "reuse_drivers", "--n-boot", "20", "--json", "--plot", plot, "--store", store_path)
    assert code == 0, err
    d = json.loads(out)
    assert d["n_models"] == N and d["summary"]["n_outcomes_analysed"] == 2
    assert plot.read_text(encoding="utf-8").lstrip().startswith("<?xml")
    code, _, err = cli("metric", "reuse_drivers", "--commits-until", "later", "--store", store_path)
    assert code != 0 and "later" in err
