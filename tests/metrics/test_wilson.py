"""naming.wilson is statsmodels' Wilson interval to the bit (it is written out to avoid importing statsmodels)."""

from __future__ import annotations

import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from ptmscope.metrics.naming import Z_975, wilson


def test_the_quantile_is_scipys():
    assert stats.norm.isf(0.025) == Z_975


@pytest.mark.parametrize("n", [1, 2, 3, 7, 10, 31, 100, 999, 12_345, 1_000_003, 2**40 + 1])
def test_same_floats_as_statsmodels(n: int):
    ks = sorted(k for k in {0, 1, n // 3, n // 2, n - 1, n, n - 7} if 0 <= k <= n)
    for k in ks:
        lo, hi = proportion_confint(k, n, alpha=0.05, method="wilson")
        want = [0.0 if k == 0 else float(lo), 1.0 if k == n else float(hi)]
        assert wilson(k, n) == want, (k, n)
