"""Statistics shared by every metric: bootstrap intervals, log-log fits,
correlations, two-sample tests, multiple-testing correction, effect sizes.

All functions take plain sequences (lists, numpy arrays, pandas Series), drop
nothing silently (NaNs raise), and return small frozen dataclasses with
``to_dict()``.  Bootstraps are seeded so results are reproducible to the byte.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np

from .errors import PtmscopeError

Alternative = Literal["greater", "less", "two-sided"]


def _arr(x: Any, name: str) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    if a.ndim != 1:
        raise PtmscopeError(f"{name}: expected a one-dimensional sequence")
    if np.isnan(a).any():
        raise PtmscopeError(f"{name}: contains missing values (NaN); drop or impute them first")
    return a


def _clean(v: float) -> float | None:
    """NaN/inf -> None so results serialise as JSON null."""
    if v is None:
        return None
    v = float(v)
    return None if math.isnan(v) or math.isinf(v) else v


class _Dict:
    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)  # type: ignore[call-overload]
        return {
            k: (_clean(v) if isinstance(v, float) else list(map(_clean, v)) if isinstance(v, tuple) else v)
            for k, v in d.items()
        }


@dataclass(frozen=True)
class Interval(_Dict):
    estimate: float
    low: float
    high: float
    level: float
    n_boot: int
    method: str = "percentile bootstrap"


# Resampling draws at most this many indices at once, so memory stays bounded
# (a 2000 x 3,000,000 index matrix would need 48 GB).
_CHUNK_CELLS = 4_000_000


def _chunks(n: int, n_boot: int) -> Iterator[int]:
    """Sizes of successive batches of bootstrap replicates of a sample of n."""
    step = max(1, min(n_boot, _CHUNK_CELLS // max(n, 1)))
    done = 0
    while done < n_boot:
        k = min(step, n_boot - done)
        yield k
        done += k


def _percentiles(boots: np.ndarray, level: float) -> tuple[float, float]:
    lo, hi = np.nanquantile(boots, [(1 - level) / 2, 1 - (1 - level) / 2])
    return float(lo), float(hi)


def bootstrap_ci(
    values: Sequence[float],
    statistic: Callable[[np.ndarray], float] = np.mean,
    *,
    n_boot: int = 2000,
    seed: int = 0,
    level: float = 0.95,
) -> Interval:
    """Percentile bootstrap interval of ``statistic`` over ``values``.

    Replicates are drawn in batches of bounded size; ``np.mean`` is
    vectorised over a batch, any other statistic is called per replicate.
    """
    a = _arr(values, "values")
    if a.size == 0 or n_boot <= 0:
        return Interval(float(statistic(a)) if a.size else float("nan"), float("nan"), float("nan"), level, n_boot)
    rng = np.random.default_rng(seed)
    parts = []
    for k in _chunks(a.size, n_boot):
        sample = a[rng.integers(0, a.size, size=(k, a.size))]
        if statistic is np.mean:
            parts.append(sample.mean(axis=1))
        else:
            parts.append(np.array([statistic(row) for row in sample], dtype=float))
    lo, hi = _percentiles(np.concatenate(parts), level)
    return Interval(float(statistic(a)), lo, hi, level, n_boot)


def bootstrap_share_ci(successes: int, n: int, *, n_boot: int = 2000, seed: int = 0, level: float = 0.95) -> Interval:
    """Bootstrap interval of a share ``successes / n``.

    Resampling n 0/1 values with replacement gives a Binomial(n, p) count, so
    the replicates are drawn from that directly: the same distribution as
    :func:`bootstrap_ci` on the 0/1 vector, in O(n_boot) instead of O(n_boot * n).
    """
    if n <= 0:
        return Interval(float("nan"), float("nan"), float("nan"), level, n_boot)
    if not 0 <= successes <= n:
        raise PtmscopeError(f"share: successes {successes} outside 0..{n}")
    p = successes / n
    boots = np.random.default_rng(seed).binomial(n, p, size=n_boot) / n
    lo, hi = _percentiles(boots, level)
    return Interval(p, lo, hi, level, n_boot, "percentile bootstrap (binomial replicates)")


def bootstrap_ratio_ci(
    numerators: Sequence[float],
    denominators: Sequence[float],
    *,
    n_boot: int = 2000,
    seed: int = 0,
    level: float = 0.95,
) -> Interval:
    """Cluster bootstrap of a ratio of sums, sum(num) / sum(den).

    Clusters (e.g. base models with their descendants) are resampled with
    replacement; a replicate's counts per cluster are one multinomial draw,
    so the ratio is two matrix products per batch.
    """
    num, den = _arr(numerators, "numerators"), _arr(denominators, "denominators")
    if num.size != den.size:
        raise PtmscopeError(f"numerators and denominators differ in length ({num.size} vs {den.size})")
    n = num.size
    total = den.sum()
    est = float(num.sum() / total) if n and total else float("nan")
    if n == 0:
        return Interval(est, float("nan"), float("nan"), level, n_boot)
    rng = np.random.default_rng(seed)
    probs = np.full(n, 1.0 / n)
    parts = []
    for k in _chunks(n, n_boot):
        w = rng.multinomial(n, probs, size=k).astype(float)
        d = w @ den
        with np.errstate(invalid="ignore", divide="ignore"):
            parts.append(np.where(d > 0, (w @ num) / np.where(d > 0, d, 1.0), np.nan))
    lo, hi = _percentiles(np.concatenate(parts), level)
    return Interval(est, lo, hi, level, n_boot, "cluster percentile bootstrap")


def bootstrap_groups_ci(
    groups: Sequence[Any],
    statistic: Callable[[list[Any]], float],
    *,
    n_boot: int = 2000,
    seed: int = 0,
    level: float = 0.95,
) -> Interval:
    """Cluster bootstrap: resample whole groups (e.g. base models with their
    descendants) with replacement and recompute ``statistic(list_of_groups)``."""
    groups = list(groups)
    if not groups:
        return Interval(float("nan"), float("nan"), float("nan"), level, n_boot)
    rng = np.random.default_rng(seed)
    n = len(groups)
    boots = np.empty(n_boot)
    for b in range(n_boot):
        pick = rng.integers(0, n, size=n)
        boots[b] = statistic([groups[i] for i in pick])
    lo, hi = np.nanquantile(boots, [(1 - level) / 2, 1 - (1 - level) / 2])
    return Interval(float(statistic(groups)), float(lo), float(hi), level, n_boot)


@dataclass(frozen=True)
class OLSFit(_Dict):
    """y' = intercept + slope * x' on log10-transformed data."""

    slope: float
    intercept: float
    slope_ci: tuple[float, float]
    intercept_ci: tuple[float, float]
    r2: float
    n: int
    p_slope: float
    offset: float
    level: float = 0.95


def loglog_ols(x: Sequence[float], y: Sequence[float], *, offset: float = 0.0, level: float = 0.95) -> OLSFit:
    """Ordinary least squares of log10(y + offset) on log10(x + offset).

    With ``offset=0`` non-positive values are an error (say which); the
    paper's code used ``offset=1e-5``.
    """
    xa, ya = _arr(x, "x"), _arr(y, "y")
    if xa.size != ya.size:
        raise PtmscopeError(f"x and y differ in length ({xa.size} vs {ya.size})")
    xs, ys = xa + offset, ya + offset
    if (xs <= 0).any() or (ys <= 0).any():
        raise PtmscopeError(
            f"log-log fit needs positive values: {(xs <= 0).sum()} x and {(ys <= 0).sum()} y "
            f"are <= 0 after offset {offset}"
        )
    n = xa.size
    if n < 3:
        nan = float("nan")
        return OLSFit(nan, nan, (nan, nan), (nan, nan), nan, int(n), nan, offset, level)
    lx, ly = np.log10(xs), np.log10(ys)
    from scipy import stats as sps  # imported when used: SciPy takes seconds to import

    res = sps.linregress(lx, ly)
    t = sps.t.ppf(1 - (1 - level) / 2, n - 2)
    return OLSFit(
        slope=float(res.slope),
        intercept=float(res.intercept),
        slope_ci=(float(res.slope - t * res.stderr), float(res.slope + t * res.stderr)),
        intercept_ci=(
            float(res.intercept - t * res.intercept_stderr),
            float(res.intercept + t * res.intercept_stderr),
        ),
        r2=float(res.rvalue**2),
        n=int(n),
        p_slope=float(res.pvalue),
        offset=offset,
        level=level,
    )


@dataclass(frozen=True)
class Correlation(_Dict):
    method: str
    coef: float
    p: float
    ci: tuple[float, float]
    n: int


def _corr(method: str, x: Any, y: Any, n_boot: int, seed: int, level: float) -> Correlation:
    xa, ya = _arr(x, "x"), _arr(y, "y")
    if xa.size != ya.size:
        raise PtmscopeError(f"x and y differ in length ({xa.size} vs {ya.size})")
    from scipy import stats as sps

    fn = sps.spearmanr if method == "spearman" else sps.kendalltau
    n = xa.size
    if n < 3:
        nan = float("nan")
        return Correlation(method, nan, nan, (nan, nan), int(n))
    r = fn(xa, ya)
    coef, p = float(r.statistic), float(r.pvalue)
    lo = hi = float("nan")
    if n_boot > 0:
        rng = np.random.default_rng(seed)
        boots = np.empty(n_boot)
        for b in range(n_boot):
            i = rng.integers(0, n, size=n)
            boots[b] = fn(xa[i], ya[i]).statistic
        lo, hi = (float(v) for v in np.nanquantile(boots, [(1 - level) / 2, 1 - (1 - level) / 2]))
    return Correlation(method, coef, p, (lo, hi), int(n))


def spearman(x: Any, y: Any, *, n_boot: int = 1000, seed: int = 0, level: float = 0.95) -> Correlation:
    """Spearman's rho with its p-value and a percentile bootstrap interval."""
    return _corr("spearman", x, y, n_boot, seed, level)


def kendall(x: Any, y: Any, *, n_boot: int = 1000, seed: int = 0, level: float = 0.95) -> Correlation:
    """Kendall's tau-b with its p-value and a percentile bootstrap interval."""
    return _corr("kendall", x, y, n_boot, seed, level)


@dataclass(frozen=True)
class TestResult(_Dict):
    test: str
    statistic: float
    p: float
    alternative: str
    df: float | None = None
    n_a: int = 0
    n_b: int = 0

    __test__ = False  # not a pytest class


def welch_t(a: Any, b: Any, *, alternative: Alternative = "greater") -> TestResult:
    """Welch's unequal-variance t-test of mean(a) vs mean(b) (the paper's C3 test)."""
    aa, ba = _arr(a, "a"), _arr(b, "b")
    from scipy import stats as sps

    r = sps.ttest_ind(aa, ba, equal_var=False, alternative=alternative)
    df = getattr(r, "df", None)
    return TestResult(
        "welch_t",
        float(r.statistic),
        float(r.pvalue),
        alternative,
        _clean(df) if df is not None else None,
        aa.size,
        ba.size,
    )


def mann_whitney(a: Any, b: Any, *, alternative: Alternative = "greater") -> TestResult:
    """Mann-Whitney U test (distribution of a shifted above b for 'greater')."""
    aa, ba = _arr(a, "a"), _arr(b, "b")
    from scipy import stats as sps

    r = sps.mannwhitneyu(aa, ba, alternative=alternative)
    return TestResult("mann_whitney_u", float(r.statistic), float(r.pvalue), alternative, None, aa.size, ba.size)


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values, in the input order."""
    p = np.asarray(pvalues, dtype=float)
    m = p.size
    order = np.argsort(p, kind="stable")
    adj = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        adj[i] = running
    return [float(v) for v in adj]


def cohens_d(a: Any, b: Any) -> float:
    """Cohen's d with the pooled standard deviation (mean(a) - mean(b))."""
    aa, ba = _arr(a, "a"), _arr(b, "b")
    na, nb = aa.size, ba.size
    if na < 2 or nb < 2:
        return float("nan")
    pooled = math.sqrt(((na - 1) * aa.var(ddof=1) + (nb - 1) * ba.var(ddof=1)) / (na + nb - 2))
    if pooled == 0:
        return float("nan")
    return float((aa.mean() - ba.mean()) / pooled)


def cliffs_delta(a: Any, b: Any) -> float:
    """Cliff's delta = P(a > b) - P(a < b), computed by ranks in O(n log n)."""
    aa, ba = _arr(a, "a"), _arr(b, "b")
    if aa.size == 0 or ba.size == 0:
        return float("nan")
    bs = np.sort(ba)
    less = np.searchsorted(bs, aa, side="left")  # b values below each a
    greater = ba.size - np.searchsorted(bs, aa, side="right")  # b values above each a
    return float((less.sum() - greater.sum()) / (aa.size * ba.size))


def mean_diff_ci(a: Any, b: Any, *, n_boot: int = 2000, seed: int = 0, level: float = 0.95) -> Interval:
    """Bootstrap interval of mean(a) - mean(b), resampling each group independently."""
    aa, ba = _arr(a, "a"), _arr(b, "b")
    est = float(aa.mean() - ba.mean()) if aa.size and ba.size else float("nan")
    if not aa.size or not ba.size:
        return Interval(est, float("nan"), float("nan"), level, n_boot)
    rng = np.random.default_rng(seed)
    parts = []
    for k in _chunks(aa.size + ba.size, n_boot):
        ia = rng.integers(0, aa.size, size=(k, aa.size))
        ib = rng.integers(0, ba.size, size=(k, ba.size))
        parts.append(aa[ia].mean(axis=1) - ba[ib].mean(axis=1))
    lo, hi = _percentiles(np.concatenate(parts), level)
    return Interval(est, lo, hi, level, n_boot)


def gini(values: Any) -> float:
    """Gini coefficient of non-negative values (0 = equal, 1 = one holds all)."""
    a = np.sort(_arr(values, "values"))
    if a.size == 0 or a.sum() == 0:
        return float("nan")
    if (a < 0).any():
        raise PtmscopeError("gini: values must be non-negative")
    n = a.size
    cum = np.cumsum(a)
    return float((n + 1 - 2 * (cum.sum() / cum[-1])) / n)
