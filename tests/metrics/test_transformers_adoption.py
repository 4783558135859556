"""transformers_adoption (T3.2) on a store built by hand: which snapshots it combines, the monthly
shares, newcomers, and descendants per model by library, all counted by hand."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hand_store import build, utc
from statsmodels.stats.proportion import proportion_confint

from ptmscope.engine import connect
from ptmscope.metrics.transformers_adoption import AdoptionParams, _trend, adoption, summarise

L_IDS = ["a/1", "a/2", "b/1", "c/1", "d/1", "e/1", "gpt2"]
LIBS = {
    "package_id": ["a/1", "a/2", "a/2", "b/1", "c/1", "d/1", "gpt2"],
    # c/1 has only the tag-only 'pytorch': no Hub library
    "library": ["transformers", "transformers", "pytorch", "diffusers", "pytorch", "transformers", "transformers"],
    "origin": ["tag"] * 7,
}
CREATED = {
    "a/1": utc(2021, 11, 5),
    "a/2": utc(2021, 12, 10),
    "b/1": utc(2021, 12, 20),
    "c/1": utc(2022, 1, 3),
    "d/1": utc(2022, 5, 1),  # after the library snapshot: a re-created repository
    "e/1": utc(2022, 1, 20),
    "gpt2": utc(2019, 6, 1),
}
LINEAGE = {
    "child": ["d/1", "e/1", "c/1", "x/9"],
    "parent_id": ["a/1", "a/1", "b/1", "a/2"],
    "origin": ["card_yaml", "base_model_tag", "card_yaml", "card_text"],
}


def make_store(path):
    """The hand-built store of this module's tests (also used by the Spark parity test)."""
    build(
        path,
        [
            ("hf", "2022-02-15", {"packages": {"package_id": L_IDS}, "package_libraries": LIBS, "lineage": LINEAGE}),
            (
                "hf",
                "2022-10-01",
                {"packages": {"package_id": [*CREATED, "z/1"], "created_at": [*CREATED.values(), utc(2022, 9, 1)]}},
            ),
            # both libraries and creation times, but for fewer models: not chosen
            (
                "hf",
                "2025-04-26",
                {
                    "packages": {"package_id": ["q/1", "q/2"], "created_at": [utc(2024, 1, 2), utc(2024, 2, 2)]},
                    "package_libraries": {"package_id": ["q/1"], "library": ["transformers"], "origin": ["tag"]},
                },
            ),
        ],
    )
    return path


@pytest.fixture
def store(tmp_path):
    return make_store(tmp_path / "t.duckdb")


def test_creation_shares_by_hand(store):
    res = adoption(connect(store), params=AdoptionParams(recent_months=2, n_boot=0))
    c = res.creation
    assert c["library_snapshot"].startswith("hf-2022-02-15") and c["created_snapshot"].startswith("hf-2022-10-01")
    assert c["n_models"] == 6 and c["n_recreated_left_out"] == 1
    got = {r["month"]: (r["models"], r["declaring"], r["declaring_any_library"], r["new_authors"]) for r in c["months"]}
    assert got == {
        "2019-06": (1, 1, 1, 1),  # gpt2 (no namespace)
        "2021-11": (1, 1, 1, 1),  # a/1, author a
        "2021-12": (2, 1, 2, 1),  # a/2 (a is not new), b/1 diffusers (b new)
        "2022-01": (2, 0, 0, 2),  # c/1 tag-only pytorch, e/1 nothing
    }
    rec = c["recent"]
    assert (rec["from"], rec["to"], rec["models"], rec["declaring"]) == ("2021-12", "2022-01", 4, 1)
    lo, hi = proportion_confint(1, 4, method="wilson")
    assert rec["share"] == 0.25 and rec["share_ci"] == pytest.approx([lo, hi])
    assert rec["share_of_library_models"] == 0.5
    assert rec["new_authors"] == 3 and rec["newcomer_share"] == 0.0


def test_reuse_by_library_by_hand(store):
    res = adoption(connect(store), params=AdoptionParams(n_boot=0, min_models=1))
    r = res.reuse
    assert r["snapshot_id"].startswith("hf-2022-02-15") and r["n_edges"] == 3  # the card_text edge left out
    groups = {g["group"]: (g["models"], g["reused"], g["n_descendants"]) for g in r["groups"]}
    assert groups == {"transformers": (4, 1, 2), "other libraries only": (1, 1, 1), "no library": (2, 0, 0)}
    assert r["comparison"]["descendants_per_model_ratio"] == pytest.approx((2 / 4) / (1 / 1))
    assert r["comparison"]["share_reused_ratio"] == pytest.approx((1 / 4) / 1)
    assert {x["library"]: x["models"] for x in r["by_library"]} == {"transformers": 4, "diffusers": 1}
    # with the Trainer's card sentence counted, a/2 gains a descendant
    res2 = adoption(connect(store), params=AdoptionParams(n_boot=0, exclude_card_text=False))
    g2 = {g["group"]: g["n_descendants"] for g in res2.reuse["groups"]}
    assert g2["transformers"] == 3 and res2.reuse["n_edges"] == 4


def test_summary_and_rests_on(store):
    p = AdoptionParams(recent_months=2, n_boot=200)
    res = adoption(connect(store), params=p)
    s = summarise(res, p)
    assert s["n_recent"] == 4 and s["recent_share"] == 0.25
    assert s["n_models_library"] == 4 and s["n_models_other"] == 1
    assert s["reuse_ratio"] == pytest.approx(0.5)
    ns = [r["n"] for r in res.rests_on]
    assert ns == [6, 7]
    snaps = {x["snapshot_id"][:13]: x for x in res.sources}
    assert snaps["hf-2022-10-01"]["created"] == 8 and snaps["hf-2022-02-15"]["with_library"] == 6


def test_trend_point_estimate_equals_a_logit_on_single_models():
    import statsmodels.api as sm

    months = ["2021-01", "2021-02", "2021-03", "2021-04", "2021-05"]
    n = [40, 50, 60, 80, 100]
    k = [30, 34, 36, 40, 45]
    t = _trend(months, k, n, min_count=30)
    x = np.concatenate([np.full(nn, i / 12.0) for i, nn in enumerate(n)])
    y = np.concatenate([np.r_[np.ones(kk), np.zeros(nn - kk)] for kk, nn in zip(k, n, strict=True)])
    ref = sm.Logit(y, sm.add_constant(x)).fit(disp=0)
    assert t["odds_ratio_per_year"] == pytest.approx(np.exp(ref.params[1]), rel=1e-6)
    assert t["odds_ratio_per_year_ci"][0] < t["odds_ratio_per_year"] < t["odds_ratio_per_year_ci"][1]
    assert _trend(months, k, [10, 10, 10, 10, 10], min_count=30) is None


def test_no_creation_times_anywhere_still_measures_reuse(tmp_path):
    path = tmp_path / "r.duckdb"
    build(
        path, [("hf", "2022-02-15", {"packages": {"package_id": L_IDS}, "package_libraries": LIBS, "lineage": LINEAGE})]
    )
    res = adoption(connect(path), params=AdoptionParams(n_boot=0))
    assert res.creation is None and "creation times" in res.creation_missing
    assert res.reuse is not None
    assert res.notes == [f"creation not measurable: {res.creation_missing}"]


def test_cli_json_and_plot(cli, store, tmp_path):
    code, out, err = cli(
        "metric",
        "transformers_adoption",
        "--recent-months",
        "2",
        "--n-boot",
        "50",
        "--json",
        "--plot",
        tmp_path / "t.svg",
        "--store",
        store,
    )
    assert code == 0, err
    d = json.loads(out)
    assert d["summary"]["recent_share"] == 0.25
    assert (tmp_path / "t.svg").stat().st_size > 1000
