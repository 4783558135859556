"""Top-N vs bottom-N by a popularity measure, with the models tied at a cut-off drawn at random.

Shared by the C3 test (:mod:`ptmscope.metrics.docs`) and the dataset-card test
(:mod:`ptmscope.metrics.dataset_docs`).

Most models tie at the bottom of a registry (0 downloads, 0 likes, no
dependents), so which of them form the bottom N is a choice, and ordering by
id (alphabetically first ids) is an arbitrary one.  Two rules:

* ``draw`` (default): order the rows by (measure, random key) and take the
  first N and the last N.  The keys come from the seed, one set per draw
  (``numpy.random.default_rng([seed, draw])``), so every draw takes the models
  tied at a cut-off uniformly at random; ``draws`` such draws are made.  Every
  test runs on every draw (Holm across the measures within a draw).  A
  comparison reports the draw with the median Welch t (its groups, tests and
  effect sizes), the spread of each statistic over all draws (min, 2.5%,
  median, 97.5%, max), and one bootstrap CI of the mean difference whose
  resamples are spread over all draws.  When nothing tied straddles a cut-off
  (and the rows themselves are not drawn) every draw would be the same: one is
  made.
* ``all``: every row tied at a cut-off value joins its group (the groups may
  be larger than N); one comparison.

N is capped at half the rows that have the measure and at the number of rows
above its lowest value, so every top row is strictly more popular than the
least popular ones; when the compared rows differ between draws (a population
cut inside a tie) the smallest cap over the draws is used for all of them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import numpy as np

from .. import stats

GroupTies = Literal["draw", "all"]
GROUP_TIES: tuple[str, ...] = get_args(GroupTies)

#: statistics whose spread over the draws is reported
SPREAD_STATS = (
    "welch_t",
    "welch_p",
    "p_welch_holm",
    "mann_whitney_p",
    "p_mann_whitney_holm",
    "cohens_d",
    "cliffs_delta",
    "mean_diff",
    "top_mean",
    "bottom_mean",
)
_QUANTILES = (("min", 0.0), ("q025", 0.025), ("median", 0.5), ("q975", 0.975), ("max", 1.0))


def ties_text(rule: str, draws: int, seed: int, noun: str) -> str:
    """How the rows (``noun``: "model", "dataset") tied at a cut-off were handled, for the report."""
    if rule == "all":
        return f"every {noun} tied at a cut-off value joins its group (groups may be larger than N); one comparison"
    if draws == 1:
        return "no tie straddles a cut-off: the groups are fixed, one comparison"
    return (
        f"{noun}s tied at a cut-off drawn at random, {draws} draws (seed {seed}); reported: the draw with the "
        "median Welch t, the spread of every statistic over the draws, and a bootstrap CI over all draws"
    )


def r6(x: float | None) -> float | None:
    """6 significant digits, NaN as None: p-values like 1e-154 must survive."""
    return None if x is None or not np.isfinite(x) else float(f"{float(x):.6g}")


def spread(values: Sequence[float] | np.ndarray) -> dict[str, float | int | None]:
    """Min, 2.5%, median, 97.5% and max of the finite values (None when there are none)."""
    a = np.asarray(values, dtype=float)
    a = a[np.isfinite(a)]
    if a.size == 0:
        return {k: None for k, _ in _QUANTILES}
    out = {k: r6(float(np.quantile(a, q))) for k, q in _QUANTILES}
    return {k: int(v) if v is not None and float(v).is_integer() else v for k, v in out.items()}  # counts stay counts


@dataclass(frozen=True)
class Measure:
    """A popularity measure: one value per row (NaN where the source does not say)."""

    name: str
    label: str
    values: np.ndarray


@dataclass(frozen=True)
class GroupComparison:
    """Top-N vs bottom-N rows by one measure (the median draw, and the spread over all draws)."""

    measure: str
    label: str
    n: int  # nominal models per group (capped by the data)
    n_top: int  # actual group sizes (larger than n under the "all" rule)
    n_bottom: int
    n_with_measure: int  # compared rows that have the measure
    top_cutoff: float  # smallest measure value in the top group
    bottom_cutoff: float  # largest measure value in the bottom group
    ties_at_top_cutoff: int  # compared rows whose measure equals the top cut-off
    ties_at_bottom_cutoff: int
    drawn_top: int  # rows of the top group chosen at random among those tied at its cut-off
    drawn_bottom: int
    draws: int
    median_draw: int
    welch: stats.TestResult
    mann_whitney: stats.TestResult
    p_welch_holm: float
    p_mann_whitney_holm: float
    cohens_d: float
    cliffs_delta: float
    mean_diff: stats.Interval
    top_mean: float
    bottom_mean: float
    top_median: float
    bottom_median: float
    group_means: dict[str, tuple[float, float]] = field(default_factory=dict)  # column -> (top, bottom)
    over_draws: dict[str, dict[str, float | int | None]] = field(default_factory=dict)
    top_scores: tuple[float, ...] = field(repr=False, default=())
    bottom_scores: tuple[float, ...] = field(repr=False, default=())

    @property
    def p_welch_holm_max(self) -> float:
        """The largest Holm-adjusted Welch p over the draws (the verdict must hold whichever ties are drawn)."""
        v = self.over_draws.get("p_welch_holm", {}).get("max")
        return self.p_welch_holm if v is None else float(v)

    def to_dict(self, score: str = "score") -> dict[str, Any]:
        return {
            "measure": self.measure,
            "label": self.label,
            "n_per_group": self.n,
            "n_top": self.n_top,
            "n_bottom": self.n_bottom,
            "n_with_measure": self.n_with_measure,
            "top_cutoff": self.top_cutoff,
            "bottom_cutoff": self.bottom_cutoff,
            "ties_at_top_cutoff": self.ties_at_top_cutoff,
            "ties_at_bottom_cutoff": self.ties_at_bottom_cutoff,
            "drawn_top": self.drawn_top,
            "drawn_bottom": self.drawn_bottom,
            "draws": self.draws,
            "median_draw": self.median_draw,
            score: {
                "top_mean": r6(self.top_mean),
                "bottom_mean": r6(self.bottom_mean),
                "top_median": r6(self.top_median),
                "bottom_median": r6(self.bottom_median),
            },
            **{k: {"top_mean": r6(t), "bottom_mean": r6(b)} for k, (t, b) in self.group_means.items()},
            "welch_t": self.welch.to_dict(),
            "mann_whitney_u": self.mann_whitney.to_dict(),
            "p_welch_holm": r6(self.p_welch_holm),
            "p_welch_holm_max": r6(self.p_welch_holm_max),
            "p_mann_whitney_holm": r6(self.p_mann_whitney_holm),
            "cohens_d": r6(self.cohens_d),
            "cliffs_delta": r6(self.cliffs_delta),
            "mean_difference": self.mean_diff.to_dict(),
            "over_draws": self.over_draws,
        }


@dataclass(frozen=True)
class GroupTests:
    """Every measure's comparison, the draws made and what each draw counted in its rows."""

    comparisons: tuple[GroupComparison, ...]
    draws: int
    notes: tuple[str, ...]
    counts: dict[str, dict[str, float | int | None]]  # name -> spread over the draws of the rows' count
    n_rows: dict[str, float | int | None]  # spread over the draws of the number of compared rows


RowsFn = Callable[[np.ndarray | None], np.ndarray]


def _result(test: str, statistic: float, p: float, df: float | None, n_a: int, n_b: int) -> stats.TestResult:
    clean = None if df is None or not np.isfinite(df) else float(df)
    return stats.TestResult(test, float(statistic), float(p), "greater", clean, int(n_a), int(n_b))


def _key(seed: int, draw: int, n: int) -> np.ndarray:
    return np.random.default_rng([seed, draw]).random(n)


def _cap(v: np.ndarray, top: int) -> int:
    if v.size == 0:
        return 0
    return min(top, v.size // 2, int((v > v.min()).sum()))


def _groups(v: np.ndarray, k: np.ndarray | None, n: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Indices (into v) of the top and bottom group; None when the "all" rule makes them overlap."""
    if k is None:
        s = np.sort(v)
        t, b = s[-n], s[n - 1]
        if b >= t:
            return None
        return np.flatnonzero(v >= t), np.flatnonzero(v <= b)
    order = np.lexsort((k, v))
    return order[-n:], order[:n]


def _straddles(v: np.ndarray, n: int) -> bool:
    """More rows tie at a cut-off value than the group has room for."""
    if n < 1 or v.size == 0:
        return False
    s = np.sort(v)
    return bool((v >= s[-n]).sum() > n or (v <= s[n - 1]).sum() > n)


def compare_groups(
    measures: Sequence[Measure],
    score: np.ndarray,
    rows: RowsFn,
    *,
    random_rows: bool,
    top: int,
    ties: str,
    draws: int,
    n_boot: int,
    seed: int,
    describe: Mapping[str, np.ndarray] | None = None,
    count: Mapping[str, np.ndarray] | None = None,
) -> GroupTests:
    """Compare ``score`` between the top-N and bottom-N rows by each measure (see the module docstring).

    ``rows(key)`` gives the indices of the rows compared in a draw (``key``: one
    random number per row, None under the "all" rule); ``random_rows`` says
    whether they depend on the key.  ``describe`` columns are averaged per
    group (the median draw's); ``count`` masks are counted in each draw's rows.
    """
    describe = describe or {}
    count = count or {}
    n_all = int(score.size)
    notes: list[str] = []
    n_draws = 1 if ties == "all" else max(1, draws)

    def keys(r: int) -> np.ndarray | None:
        return None if ties == "all" else _key(seed, r, n_all)

    def have(idx: np.ndarray, m: Measure) -> np.ndarray:
        return idx[np.isfinite(m.values[idx])]

    # pass 1: the caps (smallest over the draws when the rows are drawn) and whether a draw changes anything
    first = rows(keys(0))
    caps = {m.name: _cap(m.values[have(first, m)], top) for m in measures}
    if ties == "draw":
        if random_rows:
            for r in range(1, n_draws):
                idx = rows(keys(r))
                for m in measures:
                    caps[m.name] = min(caps[m.name], _cap(m.values[have(idx, m)], top))
        elif not any(_straddles(m.values[have(first, m)], caps[m.name]) for m in measures if caps[m.name] >= 2):
            n_draws = 1  # nothing tied straddles a cut-off: every draw would be the same
    for m in measures:
        v0 = m.values[have(first, m)]
        n_have, n_above = int(v0.size), int((v0 > v0.min()).sum()) if v0.size else 0
        n = caps[m.name]
        if n < 2:
            notes.append(f"{m.name}: only {n_above} of {n_have} compared models are above the lowest value; no test")
        elif n < top:
            why = (
                f"only {n_above} models have {m.name} above the lowest value"
                if n == n_above
                else f"half of the {n_have} models that have it"
            )
            if random_rows and n_draws > 1:
                why += "; the smallest cap over the draws"
            notes.append(f"{m.name}: N capped at {n} ({why})")
    tested = [m for m in measures if caps[m.name] >= 2]

    # pass 2: the groups and tests of every draw
    per: dict[str, list[dict[str, Any]]] = {m.name: [] for m in tested}
    counted: dict[str, list[int]] = {k: [] for k in count}
    n_rows: list[int] = []
    overlap: set[str] = set()
    for r in range(n_draws):
        k = keys(r)
        idx = first if r == 0 else rows(k)
        n_rows.append(int(idx.size))
        for name, mask in count.items():
            counted[name].append(int(mask[idx].sum()))
        for m in tested:
            h = have(idx, m)
            v = m.values[h]
            g = _groups(v, None if k is None else k[h], caps[m.name])
            if g is None:
                overlap.add(m.name)
                continue
            ti, bi = np.sort(h[g[0]]), np.sort(h[g[1]])  # row order: the same group gives the same arrays
            t_cut, b_cut = float(m.values[ti].min()), float(m.values[bi].max())
            n_t_tie, n_b_tie = int((v == t_cut).sum()), int((v == b_cut).sum())
            a, b = score[ti], score[bi]
            per[m.name].append(
                {
                    "top": ti,
                    "bottom": bi,
                    "d": stats.cohens_d(a, b),
                    "delta": stats.cliffs_delta(a, b),
                    "t_cut": t_cut,
                    "b_cut": b_cut,
                    "t_ties": n_t_tie,
                    "b_ties": n_b_tie,
                    # drawn: the group's members tied at its cut-off when more tie there than it takes
                    "t_drawn": int((m.values[ti] == t_cut).sum()) if (v >= t_cut).sum() > ti.size else 0,
                    "b_drawn": int((m.values[bi] == b_cut).sum()) if (v <= b_cut).sum() > bi.size else 0,
                    "n_have": int(h.size),
                }
            )
    for name in sorted(overlap):
        notes.append(f"{name}: the tied values fill both groups (every model tied at a cut-off joins it); no test")
    tested = [m for m in tested if m.name not in overlap and per[m.name]]

    # the two-sample tests of all draws at once, then Holm across the measures within each draw
    tests = {
        m.name: stats.two_sample_rows([score[d["top"]] for d in per[m.name]], [score[d["bottom"]] for d in per[m.name]])
        for m in tested
    }
    holm_w = np.full((n_draws, len(tested)), np.nan)
    holm_u = np.full((n_draws, len(tested)), np.nan)
    for r in range(n_draws):
        if tested:
            holm_w[r] = stats.holm([tests[m.name][r, 2] for m in tested])
            holm_u[r] = stats.holm([tests[m.name][r, 4] for m in tested])

    comps = []
    for j, m in enumerate(tested):
        ds = per[m.name]
        res = tests[m.name]
        t_stats = res[:, 0]
        order = np.argsort(np.where(np.isnan(t_stats), np.inf, t_stats), kind="stable")
        med = int(order[(len(ds) - 1) // 2])
        d0 = ds[med]
        a, b = score[d0["top"]], score[d0["bottom"]]
        diffs = [float(score[d["top"]].mean() - score[d["bottom"]].mean()) for d in ds]
        ci = stats.mean_diff_ci_draws(
            [(score[d["top"]], score[d["bottom"]]) for d in ds],
            n_boot=n_boot,
            seed=seed,
            estimate=diffs[med],
        )
        series: dict[str, Any] = {
            "welch_t": t_stats,
            "welch_p": res[:, 2],
            "p_welch_holm": holm_w[:, j],
            "mann_whitney_p": res[:, 4],
            "p_mann_whitney_holm": holm_u[:, j],
            "cohens_d": [d["d"] for d in ds],
            "cliffs_delta": [d["delta"] for d in ds],
            "mean_diff": diffs,
            "top_mean": [float(score[d["top"]].mean()) for d in ds],
            "bottom_mean": [float(score[d["bottom"]].mean()) for d in ds],
        }
        comps.append(
            GroupComparison(
                measure=m.name,
                label=m.label,
                n=caps[m.name],
                n_top=int(d0["top"].size),
                n_bottom=int(d0["bottom"].size),
                n_with_measure=d0["n_have"],
                top_cutoff=d0["t_cut"],
                bottom_cutoff=d0["b_cut"],
                ties_at_top_cutoff=d0["t_ties"],
                ties_at_bottom_cutoff=d0["b_ties"],
                drawn_top=d0["t_drawn"],
                drawn_bottom=d0["b_drawn"],
                draws=n_draws,
                median_draw=med,
                welch=_result("welch_t", res[med, 0], res[med, 2], res[med, 1], a.size, b.size),
                mann_whitney=_result("mann_whitney_u", res[med, 3], res[med, 4], None, a.size, b.size),
                p_welch_holm=float(holm_w[med, j]),
                p_mann_whitney_holm=float(holm_u[med, j]),
                cohens_d=d0["d"],
                cliffs_delta=d0["delta"],
                mean_diff=ci,
                top_mean=float(a.mean()),
                bottom_mean=float(b.mean()),
                top_median=float(np.median(a)),
                bottom_median=float(np.median(b)),
                group_means={
                    c: (float(np.mean(col[d0["top"]])), float(np.mean(col[d0["bottom"]])))
                    for c, col in describe.items()
                },
                over_draws={k: spread(v) for k, v in series.items()},
                top_scores=tuple(float(x) for x in a),
                bottom_scores=tuple(float(x) for x in b),
            )
        )
    return GroupTests(
        comparisons=tuple(comps),
        draws=n_draws,
        notes=tuple(notes),
        counts={k: spread(v) for k, v in counted.items()},
        n_rows=spread(n_rows),
    )
