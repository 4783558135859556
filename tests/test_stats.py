"""Statistics helpers, pinned on hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ptmscope import stats
from ptmscope.errors import PtmscopeError


def test_loglog_exact_power_law():
    x = [1, 10, 100, 1000]
    y = [10 * v**2 for v in x]  # log10 y = 1 + 2 log10 x
    fit = stats.loglog_ols(x, y)
    assert fit.slope == pytest.approx(2.0)
    assert fit.intercept == pytest.approx(1.0)
    assert fit.r2 == pytest.approx(1.0)
    assert fit.n == 4


def test_loglog_rejects_zero_without_offset_and_accepts_with():
    with pytest.raises(PtmscopeError, match="positive"):
        stats.loglog_ols([0, 1, 2], [1, 2, 3])
    fit = stats.loglog_ols([0, 1, 2, 3], [1, 2, 3, 4], offset=1e-5)
    assert fit.n == 4 and fit.offset == 1e-5


def test_holm_hand_computed():
    assert stats.holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert stats.holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])


def test_cliffs_delta_hand_computed():
    assert stats.cliffs_delta([1, 2, 3], [2]) == 0.0
    assert stats.cliffs_delta([5, 6], [1, 2]) == 1.0
    assert stats.cliffs_delta([1, 2], [5, 6]) == -1.0
    # 3 vs [1,3,5]: greater 1, less 1 ; 4 vs: greater 2, less 1 -> (3-2)/6
    assert stats.cliffs_delta([3, 4], [1, 3, 5]) == pytest.approx(1 / 6)


@given(st.lists(st.integers(0, 20), min_size=1, max_size=15), st.lists(st.integers(0, 20), min_size=1, max_size=15))
@settings(max_examples=60, deadline=None)
def test_cliffs_delta_matches_pairwise_definition(a, b):
    brute = sum((x > y) - (x < y) for x in a for y in b) / (len(a) * len(b))
    assert stats.cliffs_delta(a, b) == pytest.approx(brute)


def test_cohens_d_hand_computed():
    assert stats.cohens_d([1, 2, 3], [3, 4, 5]) == pytest.approx(-2.0)


def test_gini_extremes():
    assert stats.gini([1, 1, 1, 1]) == pytest.approx(0.0)
    assert stats.gini([0, 0, 0, 1]) == pytest.approx(0.75)


def test_welch_one_sided_direction():
    hi = [10, 11, 12, 13, 14, 15]
    lo = [1, 2, 3, 4, 5, 6]
    assert stats.welch_t(hi, lo, alternative="greater").p < 0.001
    assert stats.welch_t(lo, hi, alternative="greater").p > 0.99
    mw = stats.mann_whitney(hi, lo)
    assert mw.statistic == 36 and mw.p < 0.01


def test_bootstrap_is_seeded_and_brackets_estimate():
    rng = np.random.default_rng(1)
    v = rng.normal(5, 1, 200)
    a = stats.bootstrap_ci(v, seed=3)
    b = stats.bootstrap_ci(v, seed=3)
    assert a == b
    assert a.low < a.estimate < a.high
    assert a.low < 5 < a.high


def test_group_bootstrap_of_constant_ratio_is_degenerate():
    groups = [(1, 2), (2, 4), (3, 6)]  # every group has ratio 1/2
    iv = stats.bootstrap_groups_ci(groups, lambda g: sum(x for x, _ in g) / sum(y for _, y in g), n_boot=200)
    assert iv.estimate == iv.low == iv.high == 0.5


def test_spearman_monotone_and_nan_rejected():
    c = stats.spearman([1, 2, 3, 4, 5], [2, 4, 8, 16, 32], n_boot=50)
    assert c.coef == pytest.approx(1.0)
    with pytest.raises(PtmscopeError, match="missing"):
        stats.spearman([1, math.nan, 3], [1, 2, 3])


def test_mean_diff_ci_contains_true_difference():
    a = np.arange(100, dtype=float) + 10
    b = np.arange(100, dtype=float)
    iv = stats.mean_diff_ci(a, b, n_boot=500)
    assert iv.estimate == pytest.approx(10.0)
    assert iv.low < 10 < iv.high
    d = iv.to_dict()
    assert d["estimate"] == pytest.approx(10.0)


def test_share_ci_agrees_with_resampling_the_01_vector():
    v = np.r_[np.ones(150), np.zeros(350)]
    direct = stats.bootstrap_share_ci(150, 500, n_boot=4000, seed=1)
    generic = stats.bootstrap_ci(v, np.mean, n_boot=4000, seed=1)
    assert direct.estimate == pytest.approx(0.3)
    assert direct.low == pytest.approx(generic.low, abs=0.01)
    assert direct.high == pytest.approx(generic.high, abs=0.01)
    with pytest.raises(PtmscopeError):
        stats.bootstrap_share_ci(6, 5)


def test_ratio_ci_agrees_with_the_generic_group_bootstrap():
    rng = np.random.default_rng(7)
    den = rng.integers(1, 40, 120).astype(float)
    num = np.floor(den * rng.uniform(0.2, 0.9, 120))
    fast = stats.bootstrap_ratio_ci(num, den, n_boot=3000, seed=2)
    slow = stats.bootstrap_groups_ci(list(range(120)), lambda g: num[g].sum() / den[g].sum(), n_boot=3000, seed=2)
    assert fast.estimate == pytest.approx(num.sum() / den.sum())
    assert fast.low == pytest.approx(slow.low, abs=0.01)
    assert fast.high == pytest.approx(slow.high, abs=0.01)
    flat = stats.bootstrap_ratio_ci([1, 2, 3], [2, 4, 6], n_boot=100)
    assert flat.low == flat.high == flat.estimate == 0.5


def test_ratio_ci_on_grouped_profiles_equals_the_ungrouped_clusters():
    # 300 clusters with only a few distinct (num, den) profiles, given once per cluster and once grouped
    rng = np.random.default_rng(11)
    den = rng.integers(1, 5, 300).astype(float)
    num = np.minimum(den, rng.integers(0, 4, 300)).astype(float)
    prof, inv = np.unique(np.column_stack([num, den]), axis=0, return_inverse=True)
    cnt = np.bincount(inv.reshape(-1))
    one_by_one = stats.bootstrap_ratio_ci(num, den, n_boot=500, seed=4)
    grouped = stats.bootstrap_ratio_ci(prof[::-1, 0], prof[::-1, 1], counts=cnt[::-1], n_boot=500, seed=4)
    assert grouped.estimate == pytest.approx(num.sum() / den.sum())
    assert (grouped.low, grouped.high) == (one_by_one.low, one_by_one.high)
    assert one_by_one.low < one_by_one.estimate < one_by_one.high
    with pytest.raises(PtmscopeError, match="counts"):
        stats.bootstrap_ratio_ci([1.0], [2.0], counts=[1.5])
    with pytest.raises(PtmscopeError, match="counts"):
        stats.bootstrap_ratio_ci([1.0, 2.0], [2.0, 3.0], counts=[1.0])


def test_batches_cover_every_replicate(monkeypatch):
    monkeypatch.setattr(stats, "_CHUNK_CELLS", 10)  # n=7 -> one replicate per batch
    assert sum(stats._chunks(7, 5)) == 5 and len(list(stats._chunks(7, 5))) == 5
    iv = stats.bootstrap_ci(np.arange(7.0), np.median, n_boot=50, seed=0)
    assert iv.low <= iv.estimate <= iv.high
    md = stats.mean_diff_ci(np.arange(7.0) + 3, np.arange(7.0), n_boot=50)
    assert md.estimate == pytest.approx(3.0) and md.low <= 3.0 <= md.high


@pytest.mark.parametrize("method", ["spearman", "kendall"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_replicates_without_sorting_are_scipys_to_the_bit(method: str, seed: int):
    """Heavy ties (counts of descendants), distinct values, and a nearly constant variable."""
    from scipy import stats as sps

    from ptmscope.stats import _Replicates

    rng = np.random.default_rng(seed)
    n = 300
    cases = [
        (rng.lognormal(3, 2, n).round(), rng.zipf(2.0, n).astype(float)),  # downloads vs counts
        (rng.normal(size=n), rng.normal(size=n)),  # no ties
        (np.where(rng.random(n) < 0.99, 1.0, 2.0), rng.integers(0, 5, n).astype(float)),  # often constant
    ]
    fn = sps.spearmanr if method == "spearman" else sps.kendalltau
    for x, y in cases:
        rep = _Replicates(method, x, y)
        for _ in range(60):
            i = rng.integers(0, n, size=n)
            want, got = fn(x[i], y[i]).statistic, rep(i)
            assert (np.isnan(want) and np.isnan(got)) or want == got


def test_correlation_intervals_do_not_depend_on_the_fast_replicates(monkeypatch):
    rng = np.random.default_rng(5)
    x, y = rng.lognormal(2, 2, 200).round(), rng.zipf(2.2, 200).astype(float)
    fast = (stats.spearman(x, y, n_boot=80, seed=3), stats.kendall(x, y, n_boot=80, seed=3))
    monkeypatch.setattr(stats, "FAST_CORR_MIN", 10**9)
    slow = (stats.spearman(x, y, n_boot=80, seed=3), stats.kendall(x, y, n_boot=80, seed=3))
    assert fast == slow
