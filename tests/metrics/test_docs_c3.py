"""C3 as §5.5 specifies it, on a hand-built store: the top-downloads population, the GitHub dependents
measure (ids matched through the rename aliases and letter case), ties drawn at random with a seed."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests

from ptmscope.cards import SECTIONS, CardScore
from ptmscope.cards.storage import score_snapshot
from ptmscope.metrics.docs import c3_test, documentation_table, summarise
from ptmscope.schema import Snapshot, SnapshotBatch, to_table
from ptmscope.store import Store

SID = "hf-2022-02-15-bbbbbbbb"
DEP_2023 = "hf-2023-08-01-cccccccc"
DEP_2025 = "hf-2025-01-01-dddddddd"

# id -> (downloads, likes, card score 0..5 or None for no card)
MODELS: dict[str, tuple[int | None, int, int | None]] = {
    "bert-base-uncased": (1000, 9, 5),  # renamed google-bert/bert-base-uncased (built-in alias)
    "Org/Model-B": (900, 8, 4),  # the 2023 mapping writes it org/model-b
    "org/c": (800, 7, 5),
    "org/d": (700, 6, 3),
    "org/e": (600, 5, 2),
    "org/f": (500, 4, 4),
    "org/g": (400, 0, 1),
    "org/h": (300, 0, None),
    "org/i": (5, 0, 1),
    "org/j": (5, 0, 0),
    "org/k": (5, 0, 2),
    "org/l": (None, 3, 3),  # no download count: never in a top-downloads population
}
# The packages carry no author, tags, licence, architecture or library: metadata score 0 for every model,
# so the documentation score is card / 5 / 2.
DOC = {m: (v[2] or 0) / 10 for m, v in MODELS.items()}
MAPPING_2023 = [
    ("google-bert/bert-base-uncased", "github:a/r1"),
    ("google-bert/bert-base-uncased", "github:a/r2"),
    ("bert-base-uncased", "github:a/r2"),  # the same model under its old id: r2 counts once
    ("bert-base-uncased", "github:a/r3"),
    ("org/model-b", "github:a/r4"),
    ("org/c", "github:a/r5"),
    ("org/c", "github:a/r6"),
    ("org/zzz", "github:a/r7"),  # not in the snapshot
]
DEPENDENTS = {"bert-base-uncased": 3, "Org/Model-B": 1, "org/c": 2}


class FixedScorer:
    name = "fixed"
    key = "fixed-v1"

    def score(self, text: str | None) -> CardScore:
        if text is None:
            return CardScore.empty("no card")
        n = int(text.split()[-1])
        return CardScore.from_flags({s: i < n for i, s in enumerate(SECTIONS)}, {s: "fixed" for s in SECTIONS})

    def score_many(self, texts: Sequence[str | None]) -> list[CardScore]:
        return [self.score(t) for t in texts]


def _mapping_batch(sid: str, day: dt.date, links: list[tuple[str, str]]) -> SnapshotBatch:
    models = sorted({m for m, _ in links})
    snap = Snapshot(sid, "hf", day, "gh-dependents", "map.csv", sid[-8:] * 8, len(models), "test")
    return SnapshotBatch(
        snap,
        {
            "packages": to_table("packages", {"package_id": models, "raw_id": models}, sid),
            "dependents": to_table(
                "dependents",
                {
                    "package_id": [m for m, _ in links],
                    "dependent": [d for _, d in links],
                    "kind": ["github"] * len(links),
                    "license": [None] * len(links),
                },
                sid,
            ),
        },
    )


def build(path: Path, *, mapping: bool = True) -> Store:
    ids = list(MODELS)
    texts = [None if MODELS[m][2] is None else f"card {MODELS[m][2]}" for m in ids]
    tables = {
        "packages": to_table(
            "packages",
            {
                "package_id": ids,
                "raw_id": ids,
                "downloads": [MODELS[m][0] for m in ids],
                "likes": [MODELS[m][1] for m in ids],
            },
            SID,
        ),
        "cards": to_table(
            "cards",
            {
                "package_id": ids,
                "text": texts,
                "text_sha256": [None if t is None else f"sha-{i}" for i, t in enumerate(texts)],
                "missing": [t is None for t in texts],
            },
            SID,
        ),
    }
    st = Store(path)
    snap = Snapshot(SID, "hf", dt.date(2022, 2, 15), "hf-api", "model_infos.jsonl.gz", "b" * 64, len(ids), "test")
    st.add_batch(SnapshotBatch(snap, tables))
    if mapping:
        st.add_batch(_mapping_batch(DEP_2023, dt.date(2023, 8, 1), MAPPING_2023))
        # a later mapping that would give org/c ten repositories: farther from the cards, not used
        st.add_batch(_mapping_batch(DEP_2025, dt.date(2025, 1, 1), [("org/c", f"github:b/r{i}") for i in range(10)]))
    score_snapshot(st, SID, FixedScorer())
    return st


@pytest.fixture
def st(store_path: Path) -> Store:
    return build(store_path)


def test_dependents_matched_through_aliases_and_case(st: Store) -> None:
    t, _, _ = documentation_table(st.backend, SID, "fixed-v1")
    df = t.to_pandas().set_index("package_id")
    assert df["dependents"].to_dict() == {m: DEPENDENTS.get(m, 0) for m in MODELS}
    assert df["dependents_match"].astype(object).where(df["dependents_match"].notna(), None).to_dict() == {
        m: {"bert-base-uncased": "id", "org/c": "id", "Org/Model-B": "case"}.get(m) for m in MODELS
    }
    r = c3_test(st.backend, top=2, population_size=8, by=("dependents",), draws=10, n_boot=50)
    dep = r.dependents
    assert dep["source"] == DEP_2023 and dep["taken_at"] == "2023-08-01"
    assert dep["n_links"] == len(MAPPING_2023) and dep["n_repositories"] == 7
    assert dep["snapshot_models_matched_by_id"] == 2 and dep["snapshot_models_matched_by_case"] == 1
    assert dep["mapped_ids_not_in_snapshot"] == 1  # org/zzz
    assert dep["population_models_with_dependents"]["max"] == 3


def test_population_is_the_top_by_downloads_and_groups_come_from_it(st: Store) -> None:
    r = c3_test(st.backend, top=2, population_size=8, by=("downloads", "likes"), n_boot=200)
    pop = r.population
    assert pop["n_models"] == 8 and pop["cutoff_downloads"] == 300 and pop["n_tied_at_cutoff"] == 1
    assert pop["n_eligible"] == 11 and pop["n_over_50_downloads"] == 8
    assert r.tests.draws == 1  # no tie straddles a cut-off: the groups are fixed
    inside = [m for m in MODELS if MODELS[m][0] is not None and MODELS[m][0] >= 300]
    assert r.mean_documentation_score == pytest.approx(np.mean([DOC[m] for m in inside]))
    comps = {c.measure: c for c in r.comparisons}
    top = [DOC["bert-base-uncased"], DOC["Org/Model-B"]]
    bottom_dl = [DOC["org/g"], DOC["org/h"]]  # the least downloaded of the population, not org/i..k (5 downloads)
    bottom_likes = [DOC["org/g"], DOC["org/h"]]  # 0 likes inside the population (org/i..k are outside)
    assert sorted(comps["downloads"].bottom_scores) == pytest.approx(sorted(bottom_dl))
    assert sorted(comps["likes"].bottom_scores) == pytest.approx(sorted(bottom_likes))
    p = [sps.ttest_ind(top, b, equal_var=False, alternative="greater").pvalue for b in (bottom_dl, bottom_likes)]
    holm = multipletests(p, method="holm")[1]
    for c, pv, ph in zip((comps["downloads"], comps["likes"]), p, holm, strict=True):
        assert c.welch.p == pytest.approx(pv) and c.p_welch_holm == pytest.approx(ph)
        assert c.p_welch_holm_max == pytest.approx(ph)
    # the whole snapshot instead: org/i..k (5 downloads) form the bottom by downloads, drawn 2 of 3
    snap = c3_test(st.backend, top=2, population="snapshot", by=("downloads",), n_boot=50, draws=30)
    (d,) = snap.comparisons
    assert snap.population["n_models"] == 12 and d.drawn_bottom == 2 and d.ties_at_bottom_cutoff == 3
    assert set(d.bottom_scores) <= {DOC["org/i"], DOC["org/j"], DOC["org/k"]}


def test_population_cut_inside_a_tie_is_drawn(st: Store) -> None:
    r = c3_test(st.backend, top=2, population_size=9, by=("downloads",), n_boot=50, draws=60)
    pop = r.population
    # 8 models above 5 downloads, 3 tie at 5 for the one place left
    assert (pop["n_models"], pop["n_above_cutoff"], pop["n_tied_at_cutoff"], pop["n_drawn_at_cutoff"]) == (9, 8, 3, 1)
    (d,) = r.comparisons
    # the bottom 2 by downloads: the drawn 5-download model and org/h (300)
    tied = [DOC["org/i"], DOC["org/j"], DOC["org/k"]]
    means = d.over_draws["bottom_mean"]
    assert means["min"] == pytest.approx((min(tied) + DOC["org/h"]) / 2)
    assert means["max"] == pytest.approx((max(tied) + DOC["org/h"]) / 2)
    # the population's mean weighs each tied model by its chance (1 in 3) to be drawn
    w = {m: 1.0 for m in MODELS if MODELS[m][0] is not None and MODELS[m][0] > 5}
    w.update({"org/i": 1 / 3, "org/j": 1 / 3, "org/k": 1 / 3})
    assert r.mean_documentation_score == pytest.approx(sum(DOC[m] * x for m, x in w.items()) / 9)
    assert r.n_compared == pytest.approx(9)
    # ties = all: every model at 5 downloads joins the population
    assert c3_test(st.backend, top=2, population_size=9, by=("downloads",), ties="all").population["n_models"] == 11


def test_min_downloads_is_the_over_50_rule(st: Store) -> None:
    r = c3_test(st.backend, top=2, min_downloads=51, by=("downloads",), n_boot=50)
    assert r.population["n_models"] == 8 and r.population["definition"].endswith("with at least 51 downloads")
    assert any("fewer than 15,000" in n for n in r.notes)
    assert "applied" in r.population["peatmoss_over_50_rule"]


def test_ties_drawn_at_random_spread_and_holm_over_draws(st: Store) -> None:
    r = c3_test(st.backend, top=2, population_size=8, n_boot=300, draws=200)
    comps = {c.measure: c for c in r.comparisons}
    assert list(comps) == ["downloads", "likes", "dependents"]
    dep = comps["dependents"]
    # top 2 by dependents: bert-base-uncased (3) and org/c (2); bottom 2 drawn among the 5 with none in the population
    assert sorted(dep.top_scores) == pytest.approx([0.5, 0.5])
    zero = ["org/d", "org/e", "org/f", "org/g", "org/h"]
    assert (dep.ties_at_bottom_cutoff, dep.drawn_bottom, dep.draws) == (5, 2, 200)
    pairs = list(combinations([DOC[m] for m in zero], 2))
    means = [np.mean(p) for p in pairs]
    assert dep.over_draws["bottom_mean"]["min"] == pytest.approx(min(means))
    assert dep.over_draws["bottom_mean"]["max"] == pytest.approx(max(means))
    # Holm within each draw with the two fixed measures; the largest over the 10 possible draws
    top = [DOC["bert-base-uncased"], DOC["Org/Model-B"]]
    fixed = sps.ttest_ind(top, [DOC["org/g"], DOC["org/h"]], equal_var=False, alternative="greater").pvalue
    worst = max(
        multipletests(
            [fixed, fixed, sps.ttest_ind([0.5, 0.5], list(p), equal_var=False, alternative="greater").pvalue],
            method="holm",
        )[1][2]
        for p in pairs
    )
    assert dep.p_welch_holm_max == pytest.approx(worst, rel=1e-5)
    s = summarise(r, r.params)
    assert s["p_holm"] == max(c.to_dict()["p_welch_holm_max"] for c in r.comparisons)
    assert s["mean_diff_low"] == min(c.mean_diff.low for c in r.comparisons)
    assert s["n_per_group"] == 2 and s["measures"] == ["downloads", "likes", "dependents"]


def test_all_tied_models_join_the_group(st: Store) -> None:
    r = c3_test(st.backend, top=2, population_size=8, by=("dependents",), ties="all", n_boot=50)
    (dep,) = r.comparisons
    zero = [DOC[m] for m in ("org/d", "org/e", "org/f", "org/g", "org/h")]
    assert sorted(dep.bottom_scores) == pytest.approx(sorted(zero)) and dep.n_bottom == 5
    assert dep.welch.p == pytest.approx(sps.ttest_ind([0.5, 0.5], zero, equal_var=False, alternative="greater").pvalue)
    assert r.to_dict()["ties"]["rule"] == "all"


def test_pooled_bootstrap_over_draws() -> None:
    from ptmscope import stats

    one = stats.mean_diff_ci_draws([([1.0, 2.0, 3.0], [0.0, 1.0])], n_boot=500, seed=3)
    assert one == stats.mean_diff_ci([1.0, 2.0, 3.0], [0.0, 1.0], n_boot=500, seed=3)
    # constant groups: every resample of draw 1 gives 1, of draw 2 gives 2; half the resamples each
    iv = stats.mean_diff_ci_draws([([1.0, 1.0], [0.0, 0.0]), ([2.0, 2.0], [0.0, 0.0])], n_boot=400)
    assert (iv.low, iv.high, iv.estimate) == (1.0, 2.0, 1.5)


def test_cli_defaults_are_the_papers(cli, store_path: Path) -> None:
    build(store_path).close()
    code, out, err = cli("metric", "docs", "--store", store_path, "--json", "--n-boot", "50", "--draws", "20")
    assert code == 0, err
    d = json.loads(out)
    assert d["inputs"]["population"] == "top-downloads" and d["inputs"]["population_size"] == 15000
    assert d["inputs"]["by"] == ["downloads", "likes", "dependents"] and d["inputs"]["ties"] == "draw"
    assert d["population"]["definition"] == "top 15,000 models by downloads"
    assert [c["measure"] for c in d["comparisons"]] == ["downloads", "likes", "dependents"]
    assert d["comparisons"][2]["label"] == "downstream GitHub dependents"
    assert d["ties"]["draws_made"] == 20 and "drawn at random" in d["ties"]["how"]
    code, out, err = cli("metric", "docs", "--store", store_path, "--ties", "some")
    assert code != 0 and "some" in err


def test_without_a_mapping_descendants_stand_in(store_path: Path) -> None:
    st = build(store_path, mapping=False)
    r = c3_test(st.backend, top=2, population_size=8, n_boot=50, draws=5)
    assert r.dependents["substitute"] == "descendants"
    assert [c.measure for c in r.comparisons] == ["downloads", "likes"]  # no lineage here: no descendant test
    assert any("substitute" in n or "stand in" in n for n in r.notes)


@pytest.mark.spark
@pytest.mark.slow
def test_same_results_on_spark(store_path: Path) -> None:
    import shutil

    pytest.importorskip("pyspark", reason="pyspark not installed (extra [spark])")
    if shutil.which("java") is None:
        pytest.skip("no Java runtime on PATH (Spark needs Java 17+)")
    from ptmscope.engine import connect

    st = build(store_path)
    kw = {"top": 2, "population_size": 9, "n_boot": 50, "draws": 20}
    duck = c3_test(st.backend, **kw).to_dict()
    st.close()
    spark = connect(store_path, "spark")
    assert c3_test(spark, **kw).to_dict() == duck
