"""Growth of the Hub: models and authors new per month; is the growth exponential?

Formula: for the chosen snapshot, ``n_m`` = number of packages whose
``created_at`` falls in calendar month ``m``, and ``a_m`` = number of authors
(the ``author`` column, else the id's namespace) whose *first* package was
created in month ``m``.  The growth rate is a quasi-Poisson GLM with log
link, ``E[n_m] = exp(a + b * t_m)`` (``t_m`` = months since the first fitted
month): monthly growth ``exp(b) - 1``, doubling time ``ln 2 / b`` months; the
95% CIs use the Pearson chi-square scale (over-dispersion), the doubling
time's is ``ln 2`` over the slope's CI.  The fit window runs from the month
after which no month has fewer than ``min_count`` new models (authors), so
the sparse first months of a registry do not steer the fit, to the last
*complete* month before the snapshot date (the snapshot's own month is
partial).

Is it *exponential*?  Three mean curves are fitted to the same window by
maximum likelihood with the same negative-binomial (NB2) error,
``Var = mu + alpha * mu^2``, ``alpha`` estimated per curve: exponential
``mu = exp(a + b t)``, linear ``mu = a + b t`` and quadratic
``mu = a + b t + c t^2`` (both constrained to ``mu > 0`` on the window).
They are compared by AIC (``2k - 2 log L``, ``k`` counting ``alpha``);
``exp_aic_margin`` = lowest AIC of the other two minus the exponential's
(positive: the exponential fits better; a margin of 2 or more is the usual
"clearly better").

Tests T3.12 (extension test ext.growth).  Caveat: a listing only holds models
that still existed when it was taken, so deleted models are missing from
early months (survivorship), which biases the growth rate upwards.
"""

from __future__ import annotations

import datetime as dt
import math
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import ibis
import numpy as np
from pydantic import Field

from ..errors import NotMeasurable
from ..snapshots import Selection, as_selection, namespace_expr, pick
from .registry import Context, Metric, Params, ReportTable, register

NAME = "growth"
CURVES = ("exponential", "linear", "quadratic")
NO_NAMESPACE = "(no namespace)"


class GrowthParams(Params):
    min_count: int = Field(
        10,
        ge=1,
        description="The fit starts once every month has at least this many new models (authors).",
    )
    registry: Literal["hf", "hf-datasets"] = Field(
        "hf", description="Whose growth: Hub models (hf) or Hub datasets (hf-datasets)."
    )


DEFAULTS = GrowthParams()


@dataclass(frozen=True)
class GrowthResult:
    metric: str
    snapshot_id: str
    taken_at: str
    synthetic: bool
    min_count: int
    n_packages_with_created: int
    months: list[str]  # every month with at least one model, up to the snapshot month
    counts: list[int]
    fit_first_month: str | None
    fit_last_month: str | None
    n_months_fit: int
    slope: float | None  # b, per month (log scale)
    slope_ci: list[float] | None
    monthly_growth: float | None  # exp(b) - 1
    monthly_growth_ci: list[float] | None
    doubling_months: float | None
    pseudo_r2: float | None  # 1 - deviance / null deviance
    p_slope: float | None
    method: str = "quasi-Poisson GLM, log link, months since first fitted month"
    registry: str = "hf"
    doubling_months_ci: list[float | None] | None = None
    # new authors per month (first package of each author), aligned with ``months``
    n_authors: int = 0
    author_counts: list[int] = field(default_factory=list)
    authors: dict[str, Any] = field(default_factory=dict)  # the same fit for new authors
    # exponential vs linear vs quadratic (NB2 likelihood, AIC), per series ("models", "authors")
    comparison: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    best_curve: dict[str, str | None] = field(default_factory=dict)
    exp_aic_margin: dict[str, float | None] = field(default_factory=dict)
    rests_on: list[dict[str, Any]] = field(default_factory=list)
    # the models' comparison again on windows starting each January (at least 12 months long)
    window_sensitivity: list[dict[str, Any]] = field(default_factory=list)
    comparison_method: str = (
        "maximum likelihood, negative binomial NB2 error with its own alpha per curve; AIC = 2k - 2 log L"
    )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _month_start(d: dt.date) -> dt.date:
    return dt.date(d.year, d.month, 1)


def _add_month(d: dt.date) -> dt.date:
    return dt.date(d.year + (d.month == 12), d.month % 12 + 1, 1)


def _by_month(df: Any, column: str = "month") -> dict[dt.date, int]:
    out: dict[dt.date, int] = {}
    for m, n in zip(df[column], df["n"], strict=False):
        d = m.date() if hasattr(m, "date") else dt.date.fromisoformat(str(m)[:10])
        out[_month_start(d)] = out.get(_month_start(d), 0) + int(n)
    return out


def monthly_counts(backend: Any, snapshot_id: str) -> dict[dt.date, int]:
    p = backend.table("packages")
    p = p.filter((p.snapshot_id == snapshot_id) & p.created_at.notnull())
    g = p.group_by(month=p.created_at.truncate("M")).aggregate(n=p.count())
    return _by_month(g.execute())


def monthly_new_authors(backend: Any, snapshot_id: str) -> dict[dt.date, int]:
    """Authors by the month of their first package (author column, else the id's namespace)."""
    p = backend.table("packages")
    p = p.filter((p.snapshot_id == snapshot_id) & p.created_at.notnull())
    a = ibis.coalesce(p.author, namespace_expr(p.package_id), ibis.literal(NO_NAMESPACE))
    first = p.mutate(a=a).group_by("a").aggregate(first=ibis._.created_at.min())
    g = first.group_by(month=first["first"].truncate("M")).aggregate(n=first.count())
    return _by_month(g.execute())


def fit_exponential(counts: list[int]) -> dict[str, Any]:
    """Quasi-Poisson log-link fit of counts over t = 0..len-1."""
    import statsmodels.api as sm

    y = np.asarray(counts, dtype=float)
    t = np.arange(len(y), dtype=float)
    X = sm.add_constant(t)
    res = sm.GLM(y, X, family=sm.families.Poisson()).fit(scale="X2")
    b = float(res.params[1])
    lo, hi = (float(v) for v in res.conf_int(0.05)[1])
    null_dev = float(res.null_deviance)
    return {
        "slope": b,
        "slope_ci": [lo, hi],
        "monthly_growth": math.expm1(b),
        "monthly_growth_ci": [math.expm1(lo), math.expm1(hi)],
        "doubling_months": (math.log(2) / b) if b > 0 else None,
        "doubling_months_ci": [math.log(2) / hi if hi > 0 else None, math.log(2) / lo if lo > 0 else None],
        "pseudo_r2": (1.0 - float(res.deviance) / null_dev) if null_dev > 0 else None,
        "p_slope": float(res.pvalues[1]),
    }


# ---------------------------------------------------------------------------
# Exponential vs linear vs quadratic: one NB2 likelihood, AIC
# ---------------------------------------------------------------------------


def nb2_loglik(y: np.ndarray, mu: np.ndarray, alpha: float) -> float:
    """Negative binomial (NB2) log-likelihood: mean mu, variance mu + alpha * mu^2.

    Written to stay accurate as alpha -> 0 (the Poisson limit): log Gamma(y + r) - log Gamma(r) as
    log Gamma(y) - log B(y, r), and r log(r / (r + mu)) as -r log1p(mu / r), with r = 1 / alpha.
    """
    from scipy.special import betaln, gammaln

    r = 1.0 / alpha
    pos = y > 0
    ratio = np.zeros_like(y, dtype=float)
    ratio[pos] = gammaln(y[pos]) - betaln(y[pos], r)
    terms = ratio - gammaln(y + 1) - r * np.log1p(mu / r) + y * (np.log(mu) - np.log(r + mu))
    return float(np.sum(terms))


class _NB2:
    """:func:`nb2_loglik` for one fixed y, with the terms that do not depend on mu or alpha computed once.

    The optimiser calls it some 10,000 times per curve; the arithmetic is the
    same, operation for operation, so the values are identical to the function's.
    """

    def __init__(self, y: np.ndarray) -> None:
        from scipy.special import betaln, gammaln

        self._betaln = betaln
        self.y = y
        self.pos = y > 0
        self.ypos = y[self.pos]
        self.gl_ypos = gammaln(self.ypos)
        self.gl_y1 = gammaln(y + 1)

    def __call__(self, mu: np.ndarray, alpha: float) -> float:
        r = 1.0 / alpha
        ratio = np.zeros_like(self.y, dtype=float)
        ratio[self.pos] = self.gl_ypos - self._betaln(self.ypos, r)
        terms = ratio - self.gl_y1 - r * np.log1p(mu / r) + self.y * (np.log(mu) - np.log(r + mu))
        return float(np.sum(terms))


def _curve(name: str, s: np.ndarray, scale: float) -> Callable[[np.ndarray], np.ndarray]:
    """The mean curve on scaled time ``s`` in [0, 1] and counts in units of ``scale`` (parameters of order 1)."""
    if name == "exponential":
        return lambda b: scale * np.exp(b[0] + b[1] * s)
    if name == "linear":
        return lambda b: scale * (b[0] + b[1] * s)
    return lambda b: scale * (b[0] + b[1] * s + b[2] * s * s)


def _starts(name: str, y: np.ndarray, s: np.ndarray) -> list[np.ndarray]:
    """Starting points (scaled): least squares on the right scale, a flat line and a ramp from the minimum."""
    if name == "exponential":
        return [np.polyfit(s, np.log(np.maximum(y, 0.5)), 1)[::-1], np.array([0.0, 0.0])]
    deg = 1 if name == "linear" else 2
    flat = np.zeros(deg + 1)
    flat[0] = 1.0
    lo = max(float(y.min()), 0.05)
    ramp = np.zeros(deg + 1)
    ramp[0], ramp[1] = lo, max(float(y.max()) - lo, 0.0)
    return [np.polyfit(s, y, deg)[::-1], flat, ramp]


def _unscale(name: str, b: np.ndarray, scale: float, span: float) -> list[float]:
    """Scaled parameters -> those of the curve in months since the first fitted month and counts."""
    if name == "exponential":
        return [math.log(scale) + float(b[0]), float(b[1]) / span]
    return [scale * float(c) / span**i for i, c in enumerate(b)]


def fit_curve(name: str, counts: list[int] | np.ndarray) -> dict[str, Any]:
    """Maximum-likelihood fit of one mean curve with NB2 error; mu must stay positive on the window.

    Parameters are scaled to order 1 (time to [0, 1], counts to their mean); L-BFGS-B from several
    starting points (least squares, flat, ramp; two alphas), then Nelder-Mead polishes the best.
    """
    from scipy.optimize import minimize

    y = np.asarray(counts, dtype=float)
    span = max(float(len(y) - 1), 1.0)
    s = np.arange(len(y), dtype=float) / span
    scale = max(float(y.mean()), 0.5)
    mean = _curve(name, s, scale)
    loglik = _NB2(y)

    def nll(beta: np.ndarray, log_alpha: float) -> float:
        mu = mean(beta)
        if not np.all(np.isfinite(mu)) or np.any(mu <= 0):
            return 1e300
        v = -loglik(mu, math.exp(log_alpha))
        return v if math.isfinite(v) else 1e300

    starts = []
    for b0 in _starts(name, y / scale, s):
        mu0 = mean(b0)
        if np.any(mu0 <= 0):  # least squares went negative: lift the intercept
            b0 = b0.copy()
            b0[0] += float(-mu0.min()) / scale + 0.05
        starts.append(b0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        fits = []
        for b0 in starts:
            mu0 = mean(b0)
            moments = float(np.sum((y - mu0) ** 2 - mu0) / np.sum(mu0**2))
            for la in {math.log(min(max(moments, 1e-6), 10.0)), math.log(1e-3)}:
                fits.append(
                    minimize(
                        lambda th: nll(th[:-1], float(th[-1])),
                        np.r_[b0, la],
                        method="L-BFGS-B",
                        bounds=[(None, None)] * len(b0) + [(-20.0, 5.0)],
                    )
                )
        best = min(fits, key=lambda r: r.fun)
        joint = minimize(
            lambda th: nll(th[:-1], float(th[-1])),
            best.x,
            method="Nelder-Mead",
            options={"maxiter": 8000, "xatol": 1e-10, "fatol": 1e-11},
        )
    llf = -float(joint.fun)
    k = len(joint.x)
    return {
        "curve": name,
        "params": _unscale(name, joint.x[:-1], scale, span),
        "alpha": math.exp(float(joint.x[-1])),
        "k": k,
        "llf": llf,
        "aic": 2 * k - 2 * llf,
    }


def compare_curves(counts: list[int]) -> tuple[list[dict[str, Any]], str | None, float | None]:
    """The three fits with delta AIC, the best curve, and the exponential's AIC margin over the others."""
    fits = [fit_curve(c, counts) for c in CURVES]
    ok = [f for f in fits if math.isfinite(f["aic"]) and f["llf"] > -1e299]
    if not ok:
        return fits, None, None
    lowest = min(f["aic"] for f in ok)
    for f in fits:
        f["delta_aic"] = f["aic"] - lowest if f in ok else None
    best = min(ok, key=lambda f: f["aic"])["curve"]
    exp = next(f for f in fits if f["curve"] == "exponential")
    others = [f["aic"] for f in ok if f["curve"] != "exponential"]
    margin = (min(others) - exp["aic"]) if exp in ok and others else None
    return fits, best, margin


# ---------------------------------------------------------------------------
# The metric
# ---------------------------------------------------------------------------

_NO_FIT = ("slope", "slope_ci", "monthly_growth", "monthly_growth_ci", "doubling_months", "doubling_months_ci")


def _window(months: list[dt.date], counts: list[int], snap_month: dt.date, min_count: int) -> list[int]:
    """Indices of the fit window: from the month after which no month falls below min_count to the last complete one."""
    complete = [i for i, mm in enumerate(months) if mm < snap_month]
    below = [i for i in complete if counts[i] < min_count]
    start = (below[-1] + 1) if below else (complete[0] if complete else None)
    return [] if start is None else [i for i in complete if i >= start]


def growth(
    backend: Any,
    *,
    snapshot_id: str | Selection | None = None,
    min_count: int = DEFAULTS.min_count,
    registry: str = DEFAULTS.registry,
) -> GrowthResult:
    """Monthly new models and authors of the chosen snapshot, growth rates and the curve comparison."""
    chosen = pick(backend, registry, as_selection(snapshot_id), columns=("created_at",), min_rows=2, what=NAME)
    by_month = monthly_counts(backend, chosen.snapshot_id)
    if not by_month:
        raise NotMeasurable(f"{NAME}: snapshot {chosen.snapshot_id} has no creation dates")
    new_authors = monthly_new_authors(backend, chosen.snapshot_id)
    snap_month = _month_start(chosen.taken_at)
    first = min(by_month)
    months, counts = [], []
    m = first
    while m <= min(max(by_month), snap_month):
        months.append(m)
        counts.append(by_month.get(m, 0))
        m = _add_month(m)
    author_counts = [new_authors.get(mm, 0) for mm in months]

    fit: dict[str, Any] = {k: None for k in (*_NO_FIT, "pseudo_r2", "p_slope")}
    window = _window(months, counts, snap_month, min_count)
    first_fit = last_fit = None
    comparison: dict[str, list[dict[str, Any]]] = {}
    best: dict[str, str | None] = {}
    margin: dict[str, float | None] = {}
    if len(window) >= 3:
        series = [counts[i] for i in window]
        fit = fit_exponential(series)
        first_fit, last_fit = months[window[0]].isoformat()[:7], months[window[-1]].isoformat()[:7]
        comparison["models"], best["models"], margin["models"] = compare_curves(series)
    sensitivity = []
    for i in window:
        if months[i].month != 1 or i == window[0] or window[-1] - i + 1 < 12:
            continue
        sub = [counts[j] for j in window if j >= i]
        _, b_sub, m_sub = compare_curves(sub)
        rate = fit_exponential(sub)["monthly_growth"]
        sensitivity.append(
            {
                "from": months[i].isoformat()[:7],
                "months": len(sub),
                "best_curve": b_sub,
                "exp_aic_margin": m_sub,
                "monthly_growth": rate,
            }
        )
    a_window = _window(months, author_counts, snap_month, min_count)
    authors: dict[str, Any] = {"n_months_fit": len(a_window)}
    if len(a_window) >= 3:
        a_series = [author_counts[i] for i in a_window]
        af = fit_exponential(a_series)
        authors.update(
            {k: af[k] for k in ("monthly_growth", "monthly_growth_ci", "doubling_months", "doubling_months_ci")}
        )
        authors["fit_first_month"] = months[a_window[0]].isoformat()[:7]
        authors["fit_last_month"] = months[a_window[-1]].isoformat()[:7]
        comparison["authors"], best["authors"], margin["authors"] = compare_curves(a_series)
    what = "datasets" if registry == "hf-datasets" else "models"
    return GrowthResult(
        metric=NAME,
        snapshot_id=chosen.snapshot_id,
        taken_at=chosen.taken_at.isoformat(),
        synthetic=chosen.synthetic,
        min_count=min_count,
        n_packages_with_created=int(sum(counts)),
        months=[mm.isoformat()[:7] for mm in months],
        counts=[int(c) for c in counts],
        fit_first_month=first_fit,
        fit_last_month=last_fit,
        n_months_fit=len(window) if first_fit else 0,
        registry=registry,
        n_authors=int(sum(author_counts)),
        author_counts=[int(c) for c in author_counts],
        authors=authors,
        comparison=comparison,
        best_curve=best,
        exp_aic_margin=margin,
        window_sensitivity=sensitivity,
        rests_on=[
            {
                "snapshot_id": chosen.snapshot_id,
                "what": f"{what} with a creation date ({int(sum(author_counts)):,} authors)",
                "n": int(sum(counts)),
            }
        ],
        **fit,
    )


def summarise(result: GrowthResult, p: GrowthParams) -> dict[str, Any]:
    """The numbers the ext.growth rule reads: the models' growth rate and the exponential's AIC margins."""
    ci: list[float | None] = [None, None]
    if result.monthly_growth_ci:
        ci = list(result.monthly_growth_ci)
    margins = [result.exp_aic_margin.get("models"), *(r["exp_aic_margin"] for r in result.window_sensitivity)]
    known = [m for m in margins if m is not None]
    return {
        "n_windows": len(known),
        "exp_aic_margin_min": min(known) if known else None,
        "exp_aic_margin_max": max(known) if known else None,
        "series": "models" if result.registry == "hf" else "datasets",
        "n_months_fit": result.n_months_fit,
        "monthly_growth_ci_low": ci[0],
        "monthly_growth_ci_high": ci[1],
        "best_curve": result.best_curve.get("models"),
        "exp_aic_margin": result.exp_aic_margin.get("models"),
        "authors_best_curve": result.best_curve.get("authors"),
        "authors_exp_aic_margin": result.exp_aic_margin.get("authors"),
    }


def _compute(ctx: Context, p: GrowthParams) -> GrowthResult:
    return growth(ctx.backend, snapshot_id=ctx.selection, min_count=p.min_count, registry=p.registry)


def _figure(result: GrowthResult, p: GrowthParams) -> Any:
    from ..figures.growth import growth_figure

    return growth_figure(result)


def _tables(data: dict[str, Any]) -> list[ReportTable]:
    months, counts = data.get("months", []), data.get("counts", [])
    authors = data.get("author_counts") or [None] * len(months)
    rows = [[m, c, a] for m, c, a in zip(months, counts, authors, strict=False)]
    what = "datasets" if data.get("registry") == "hf-datasets" else "models"
    fits = [
        [series, f["curve"], f["k"], f["llf"], f["aic"], f.get("delta_aic"), f["alpha"]]
        for series, fs in sorted((data.get("comparison") or {}).items(), reverse=True)
        for f in fs
    ]
    return [
        ReportTable(
            "Exponential vs linear vs quadratic (NB2 likelihood, fit window)",
            ("series", "curve", "parameters", "log-likelihood", "AIC", "ΔAIC", "NB2 alpha"),
            fits,
        ),
        ReportTable(
            "The comparison for new models on later windows (to the same last month)",
            ("from", "months", "best curve", "exponential's AIC margin", "monthly growth (exponential)"),
            [
                [r["from"], r["months"], r["best_curve"], r["exp_aic_margin"], r["monthly_growth"]]
                for r in data.get("window_sensitivity", [])
            ],
        ),
        ReportTable(
            "Data this rests on",
            ("snapshot", "what", "n"),
            [[r["snapshot_id"], r["what"], r["n"]] for r in data.get("rests_on", [])],
        ),
        ReportTable(f"New {what} and new authors per month", ("month", f"{what} created", "new authors"), rows[-24:]),
    ]


METRIC = register(
    Metric(
        name=NAME,
        title="Growth: models and authors new per month; exponential vs linear vs quadratic",
        params=GrowthParams,
        compute=_compute,
        summarise=summarise,
        figure=_figure,
        tables=_tables,
        key_numbers=(
            ("snapshot_id", "snapshot"),
            ("n_packages_with_created", "models with a creation date"),
            ("n_authors", "their authors"),
            ("fit_first_month", "fit from"),
            ("fit_last_month", "fit to"),
            ("monthly_growth", "monthly growth rate of new models"),
            ("monthly_growth_ci", "95% CI"),
            ("doubling_months", "doubling time (months)"),
            ("doubling_months_ci", "doubling time 95% CI"),
            ("best_curve.models", "best curve for new models (AIC)"),
            ("exp_aic_margin.models", "exponential's AIC margin (models; > 0: exponential best)"),
            ("summary.exp_aic_margin_min", "smallest margin over the fit window and later January starts"),
            ("summary.exp_aic_margin_max", "largest margin over those windows"),
            ("authors.monthly_growth", "monthly growth rate of new authors"),
            ("best_curve.authors", "best curve for new authors (AIC)"),
            ("exp_aic_margin.authors", "exponential's AIC margin (authors)"),
            ("pseudo_r2", "pseudo R² (exponential, quasi-Poisson)"),
        ),
        caveats=(
            "a listing holds only models that still existed when it was taken (deleted models are missing from "
            "early months), which biases the growth rate upwards.",
            "the curve comparison depends on the window: a curve that is exponential early and slows later is "
            "better described by a quadratic over the whole window.",
        ),
        needs="creation dates (packages.created_at) of one Hub snapshot",
    )
)
