"""Growth of the Hub: models created per month and an exponential fit.

Formula: for the chosen snapshot, ``n_m`` = number of packages whose
``created_at`` falls in calendar month ``m``.  The fit is a quasi-Poisson GLM
with log link, ``E[n_m] = exp(a + b * t_m)`` (``t_m`` = months since the
first fitted month), so the monthly growth rate is ``exp(b) - 1`` and the
doubling time ``ln 2 / b`` months; the 95% CI of ``b`` uses the Pearson
chi-square scale (over-dispersion).  The fit window runs from the first month
with at least ``min_count`` models to the last *complete* month before the
snapshot date (the snapshot's own month is partial).

Tests T3.12 (extension test ext.growth).  Caveat: a listing only holds models
that still existed when it was taken, so deleted models are missing from
early months (survivorship), which biases the growth rate upwards.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from pydantic import Field

from ..errors import NotMeasurable
from ..snapshots import Selection, as_selection, pick
from .registry import Context, Metric, Params, ReportTable, register

NAME = "growth"


class GrowthParams(Params):
    min_count: int = Field(
        10, ge=1, description="The fit starts at the first month with at least this many new models."
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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _month_start(d: dt.date) -> dt.date:
    return dt.date(d.year, d.month, 1)


def _add_month(d: dt.date) -> dt.date:
    return dt.date(d.year + (d.month == 12), d.month % 12 + 1, 1)


def monthly_counts(backend: Any, snapshot_id: str) -> dict[dt.date, int]:
    p = backend.table("packages")
    p = p.filter((p.snapshot_id == snapshot_id) & p.created_at.notnull())
    g = p.group_by(month=p.created_at.truncate("M")).aggregate(n=p.count())
    df = g.execute()
    out: dict[dt.date, int] = {}
    for m, n in zip(df["month"], df["n"], strict=False):
        d = m.date() if hasattr(m, "date") else dt.date.fromisoformat(str(m)[:10])
        out[_month_start(d)] = out.get(_month_start(d), 0) + int(n)
    return out


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
        "pseudo_r2": (1.0 - float(res.deviance) / null_dev) if null_dev > 0 else None,
        "p_slope": float(res.pvalues[1]),
    }


def growth(
    backend: Any, *, snapshot_id: str | Selection | None = None, min_count: int = DEFAULTS.min_count
) -> GrowthResult:
    """Monthly new models of the chosen Hub snapshot and the exponential fit (module docstring)."""
    chosen = pick(backend, "hf", as_selection(snapshot_id), columns=("created_at",), min_rows=2, what=NAME)
    by_month = monthly_counts(backend, chosen.snapshot_id)
    if not by_month:
        raise NotMeasurable(f"{NAME}: snapshot {chosen.snapshot_id} has no creation dates")
    snap_month = _month_start(chosen.taken_at)
    first = min(by_month)
    months, counts = [], []
    m = first
    while m <= min(max(by_month), snap_month):
        months.append(m)
        counts.append(by_month.get(m, 0))
        m = _add_month(m)
    # fit window: first month reaching min_count .. last complete month
    fit_idx = [i for i, mm in enumerate(months) if mm < snap_month]
    start = next((i for i in fit_idx if counts[i] >= min_count), None)
    fit = {
        k: None
        for k in ("slope", "slope_ci", "monthly_growth", "monthly_growth_ci", "doubling_months", "pseudo_r2", "p_slope")
    }
    first_fit = last_fit = None
    n_fit = 0
    if start is not None:
        window = [i for i in fit_idx if i >= start]
        n_fit = len(window)
        if n_fit >= 3:
            fit = fit_exponential([counts[i] for i in window])
            first_fit, last_fit = months[window[0]].isoformat()[:7], months[window[-1]].isoformat()[:7]
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
        n_months_fit=n_fit,
        **fit,
    )


def _compute(ctx: Context, p: GrowthParams) -> GrowthResult:
    return growth(ctx.backend, snapshot_id=ctx.selection, min_count=p.min_count)


def _figure(result: GrowthResult, p: GrowthParams) -> Any:
    from ..figures.growth import growth_figure

    return growth_figure(result)


def _tables(data: dict[str, Any]) -> list[ReportTable]:
    rows = [[m, c] for m, c in zip(data.get("months", []), data.get("counts", []), strict=False)]
    return [ReportTable("Models created per month", ("month", "models created"), rows[-24:])]


METRIC = register(
    Metric(
        name=NAME,
        title="Growth: models created per month, exponential fit",
        params=GrowthParams,
        compute=_compute,
        figure=_figure,
        tables=_tables,
        key_numbers=(
            ("snapshot_id", "snapshot"),
            ("n_packages_with_created", "models with a creation date"),
            ("fit_first_month", "fit from"),
            ("fit_last_month", "fit to"),
            ("monthly_growth", "monthly growth rate"),
            ("monthly_growth_ci", "95% CI"),
            ("doubling_months", "doubling time (months)"),
            ("pseudo_r2", "pseudo R²"),
        ),
        caveats=(
            "a listing holds only models that still existed when it was taken (deleted models are missing from "
            "early months), which biases the growth rate upwards.",
        ),
        needs="creation dates (packages.created_at) of one Hub snapshot",
    )
)
