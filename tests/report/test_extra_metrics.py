"""Growth, concentration, naming, attributes, under-documentation on tiny
stores whose answers are computed by hand."""

from __future__ import annotations

import datetime as dt
import hashlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ptmscope.engine import connect
from ptmscope.schema import Snapshot, SnapshotBatch, make_snapshot_id, to_table
from ptmscope.store import Store


def _store(path, packages: dict, *, libraries=None, cards=None, lineage=None, taken=dt.date(2022, 6, 15)):
    sha = hashlib.sha256(repr(sorted(packages)).encode() + path.name.encode()).hexdigest()
    sid = make_snapshot_id("hf", taken, sha)
    n = len(packages["package_id"])
    tables = {"packages": to_table("packages", {"raw_id": packages["package_id"], **packages}, sid)}
    if libraries:
        tables["package_libraries"] = to_table("package_libraries", libraries, sid)
    if cards:
        tables["cards"] = to_table("cards", cards, sid)
    if lineage:
        tables["lineage"] = to_table("lineage", lineage, sid)
    with Store(path) as s:
        s.add_batch(SnapshotBatch(Snapshot(sid, "hf", taken, "test", "t.jsonl", sha, n, "test"), tables))
    return connect(path), sid


def utc(y, m, d=1):
    return dt.datetime(y, m, d, tzinfo=dt.UTC)


# -- growth ---------------------------------------------------------------------------


def test_growth_exact_doubling(tmp_path):
    from ptmscope.metrics.growth import growth

    # 10, 20, 40, 80, 160 models in Jan..May 2022; snapshot in June (partial month excluded)
    created = [utc(2022, m + 1, 2) for m in range(5) for _ in range(10 * 2**m)]
    ids = [f"a/m{i}" for i in range(len(created))]
    b, _sid = _store(tmp_path / "g.duckdb", {"package_id": ids, "created_at": created})
    r = growth(b, min_count=10)
    assert r.counts == [10, 20, 40, 80, 160]
    assert r.months == ["2022-01", "2022-02", "2022-03", "2022-04", "2022-05"]
    assert r.n_months_fit == 5
    assert r.monthly_growth == pytest.approx(1.0, rel=1e-9)
    assert r.doubling_months == pytest.approx(1.0, rel=1e-9)
    assert r.pseudo_r2 == pytest.approx(1.0)


def test_growth_gap_months_are_zero_and_partial_month_dropped(tmp_path):
    from ptmscope.metrics.growth import growth

    created = [utc(2022, 1, 5)] * 3 + [utc(2022, 3, 5)] * 2 + [utc(2022, 6, 1)] * 7
    ids = [f"a/m{i}" for i in range(len(created))]
    b, _ = _store(tmp_path / "g.duckdb", {"package_id": ids, "created_at": created})
    r = growth(b, min_count=1)
    assert r.months == ["2022-01", "2022-02", "2022-03", "2022-04", "2022-05", "2022-06"]
    assert r.counts == [3, 0, 2, 0, 0, 7]
    # June is the snapshot's own, partial month; May has 0 < min_count models, so no window is left
    assert r.fit_last_month is None and r.n_months_fit == 0 and r.slope is None


def test_growth_window_starts_once_every_month_reaches_min_count(tmp_path):
    from ptmscope.metrics.growth import growth

    # Jan 12, Feb 2 (below 10), then 15, 20, 30, 40: the fit starts in March, not January
    per_month = {1: 12, 2: 2, 3: 15, 4: 20, 5: 30, 6: 40}
    created = [utc(2022, m, 3) for m, k in per_month.items() for _ in range(k)]
    b, _ = _store(
        tmp_path / "w.duckdb",
        {"package_id": [f"a/m{i}" for i in range(len(created))], "created_at": created},
        taken=dt.date(2022, 7, 20),
    )
    r = growth(b, min_count=10)
    assert (r.fit_first_month, r.fit_last_month, r.n_months_fit) == ("2022-03", "2022-06", 4)


# -- concentration --------------------------------------------------------------------


def test_concentration_hand_computed(tmp_path):
    from ptmscope.metrics.concentration import concentration

    # authors: a holds 90 (two models), b 9, c 1; one legacy id without namespace holds 0
    b, _ = _store(
        tmp_path / "c.duckdb",
        {
            "package_id": ["a/x", "a/y", "b/z", "c/w", "legacy"],
            "downloads": [60, 30, 9, 1, 0],
            "author": [None, None, "b", None, None],
        },
    )
    r = concentration(b, n_boot=50)
    assert r.n_authors == 4 and r.total_downloads == 100
    assert r.top1_k == 1 and r.top1_share == pytest.approx(0.9)
    assert r.top10_k == 1 and r.top10_share == pytest.approx(0.9)
    # Gini of [0, 1, 9, 90]: mean abs difference / (2 * mean)
    v = np.array([0, 1, 9, 90], dtype=float)
    g = np.abs(v[:, None] - v[None, :]).sum() / (2 * len(v) ** 2 * v.mean())
    assert r.gini == pytest.approx(g)
    assert r.top_packages[0] == {"package_id": "a/x", "downloads": 60}
    assert r.top_authors[0]["author"] == "a"
    assert r.no_namespace_share == 0.0
    assert r.lorenz[0] == [0.0, 0.0] and r.lorenz[-1] == [1.0, 1.0]
    assert r.top_curve[-1] == [1.0, 1.0]


def test_concentration_legacy_share_counts_ids_whatever_their_author(tmp_path):
    from ptmscope.metrics.concentration import concentration

    # the Hub API names "huggingface" as author of legacy ids: they still count as un-namespaced
    b, _ = _store(
        tmp_path / "c2.duckdb",
        {
            "package_id": ["bert-base-uncased", "gpt2", "a/x", "b/y"],
            "downloads": [50, 25, 20, 5],
            "author": ["huggingface", None, "a", None],
        },
    )
    r = concentration(b, n_boot=50)
    assert r.no_namespace_share == pytest.approx(0.75)
    assert {x["author"] for x in r.top_authors} == {"huggingface", "(no namespace)", "a", "b"}


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 10**6), min_size=1, max_size=300))
def test_top_share_properties(values):
    from ptmscope.metrics.concentration import top_curve, top_share

    d = np.sort(np.array(values, dtype=float))[::-1]
    s1, k1 = top_share(d, 0.01)
    s10, k10 = top_share(d, 0.10)
    assert 1 <= k1 <= k10 <= len(d)
    if d.sum() > 0:
        assert 0 <= s1 <= s10 <= 1 + 1e-12
        # the top k hold at least k/n of the total
        assert s10 >= k10 / len(d) - 1e-12
        curve = top_curve(d)
        ys = [y for _, y in curve]
        assert ys == sorted(ys) and curve[-1][0] == 1.0


# -- naming ---------------------------------------------------------------------------


def test_wilson_bounds_are_exact_at_the_edges():
    from ptmscope.metrics.naming import wilson

    assert wilson(0, 2820)[0] == 0.0 and wilson(2820, 2820)[1] == 1.0
    lo, hi = wilson(3, 5)
    # Wilson 95% interval for 3/5, by hand: (p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n)
    z, n, p = 1.959963984540054, 5, 0.6
    c = (p + z * z / (2 * n)) / (1 + z * z / n)
    h = z * ((p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5) / (1 + z * z / n)
    assert lo == pytest.approx(c - h) and hi == pytest.approx(c + h)


def test_naming_hand_computed(tmp_path):
    from ptmscope.metrics.naming import naming

    ids = ["a/bert-base-x", "b/My_XLM-RoBERTa", "c/DialoGPT-small", "d/opus-mt-en-de", "gpt2", "e/no-type"]
    types = ["bert", "xlm-roberta", "gpt2", "marian", "gpt2", None]
    b, _ = _store(tmp_path / "n.duckdb", {"package_id": ids, "model_type": types, "downloads": [5, 4, 3, 2, 1, 0]})
    r = naming(b)
    assert r.n_packages == 6 and r.n_with_model_type == 5
    assert r.n_naming_architecture == 3  # bert, xlm-roberta (normalised), gpt2; not DialoGPT, not opus-mt
    assert r.share_naming == pytest.approx(0.6)
    lo, hi = r.share_naming_ci
    assert lo < 0.6 < hi
    assert [e["package_id"] for e in r.examples_not_naming] == ["c/DialoGPT-small", "d/opus-mt-en-de"]
    by = {x["model_type"]: (x["n"], x["naming"]) for x in r.by_model_type}
    assert by["gpt2"] == (2, 1)


@pytest.mark.parametrize("first_miss", [5, 1500])
def test_naming_examples_are_the_most_downloaded_wherever_they_rank(tmp_path, first_miss):
    # 2,000 bert models by falling downloads; from rank first_miss on, every 100th does not name "bert"
    from ptmscope.metrics.naming import naming

    n = 2000
    ids = [f"o/bert-{i:04d}" if i < first_miss or i % 100 else f"o/model-{i:04d}" for i in range(n)]
    downloads = [n - i for i in range(n)]
    b, _ = _store(tmp_path / "e.duckdb", {"package_id": ids, "model_type": ["bert"] * n, "downloads": downloads})
    r = naming(b, n_examples=3)
    misses = sorted((i for i in range(n) if not ids[i].startswith("o/bert")), key=lambda i: -downloads[i])
    assert [e["package_id"] for e in r.examples_not_naming] == [ids[i] for i in misses[:3]]
    assert r.n_naming_architecture == n - len(misses)


# -- under-documentation --------------------------------------------------------------


def test_underdoc_hand_computed(tmp_path):
    from ptmscope.metrics.underdoc import underdoc

    full = (
        "# M\n\nThis model classifies English sentences into topics for news articles.\n\n"
        "## Limitations\n\nIt is biased towards news.\n\n## How to use\n\n```python\nfrom transformers import "
        "pipeline\npipeline('text-classification')\n```\n\n## Training\n\nTrained on AG News for 3 epochs.\n\n"
        "## Evaluation\n\nAccuracy 0.91 on the test split.\n"
    )
    thin = "# M\n\nThis model classifies English sentences into topics for news articles.\n"
    ids = ["a/1", "a/2", "a/3", "a/4"]
    texts = [full, thin, thin]
    b, _ = _store(
        tmp_path / "u.duckdb",
        {"package_id": ids},
        cards={
            "package_id": ids[:3],
            "text": texts,
            "text_sha256": [hashlib.sha256(t.encode()).hexdigest() for t in texts],
            "missing": [False] * 3,
        },
    )
    r = underdoc(b)
    assert (r.n_models, r.n_cards, r.n_missing_card) == (4, 3, 1)
    assert r.missing_share_cards["description"] == 0.0
    assert r.missing_share_cards["limitations"] == pytest.approx(2 / 3)
    assert r.missing_share_models["limitations"] == pytest.approx(3 / 4)
    assert r.sections_missing_in_half == 4
    assert r.score_distribution == {"0": 0, "1": 2, "2": 0, "3": 0, "4": 0, "5": 1}
    assert r.scores_from == "scored on the fly"
    # the same numbers from the stored card scores (aggregated in the backend)
    from ptmscope.pipeline import score_cards

    b.disconnect()
    with Store(tmp_path / "u.duckdb") as st:
        score_cards(st)
    r2 = underdoc(connect(tmp_path / "u.duckdb"))
    assert r2.scores_from == "stored card_scores"
    d1, d2 = r.to_dict(), r2.to_dict()
    d1.pop("scores_from"), d2.pop("scores_from")
    assert d1 == d2


def test_not_measurable_reasons(tmp_path):
    from ptmscope.errors import NotMeasurable
    from ptmscope.metrics.growth import growth
    from ptmscope.metrics.naming import naming

    b, _ = _store(tmp_path / "e.duckdb", {"package_id": ["a/b"], "downloads": [1]})
    with pytest.raises(NotMeasurable, match="created_at"):
        growth(b)
    with pytest.raises(NotMeasurable, match="model_type"):
        naming(b)
