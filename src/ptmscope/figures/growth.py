"""New models (bars) and new authors (line) per month, log y, with the fitted exponential,
linear and quadratic curves for the models over the fit window (AIC in the legend)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ._style import PALETTE, new_figure, style

if TYPE_CHECKING:
    from ..metrics.growth import GrowthResult

_CURVE_STYLE = {"exponential": (PALETTE[1], "-"), "linear": (PALETTE[4], ":"), "quadratic": (PALETTE[3], "--")}


def _mean(curve: str, params: list[float], t: np.ndarray) -> np.ndarray:
    b = np.asarray(params, dtype=float)
    if curve == "exponential":
        return np.exp(b[0] + b[1] * t)
    return np.asarray(sum(c * t**i for i, c in enumerate(b)), dtype=float)


def growth_figure(result: GrowthResult) -> Any:
    fig, ax = new_figure(width=6.4, height=3.6)
    what = "datasets" if result.registry == "hf-datasets" else "models"
    with style():
        x = np.arange(len(result.months))
        y = np.array(result.counts, dtype=float)
        ax.bar(x, np.where(y > 0, y, np.nan), width=0.9, color=PALETTE[0], alpha=0.85, label=f"new {what}")
        if result.author_counts:
            a = np.array(result.author_counts, dtype=float)
            ax.plot(x, np.where(a > 0, a, np.nan), color=PALETTE[2], linewidth=1.2, label="new authors")
        fits = result.comparison.get("models", [])
        if fits and result.fit_first_month in result.months and result.fit_last_month in result.months:
            i0 = result.months.index(result.fit_first_month)
            i1 = result.months.index(result.fit_last_month)
            xs = np.arange(i0, i1 + 1)
            for f in fits:
                colour, ls = _CURVE_STYLE[f["curve"]]
                mu = _mean(f["curve"], f["params"], (xs - i0).astype(float))
                d = f.get("delta_aic")
                tag = f"ΔAIC {d:.1f}" if d is not None else "no fit"
                extra = ""
                if f["curve"] == "exponential" and result.monthly_growth is not None:
                    extra = f", {result.monthly_growth * 100:+.1f}%/month"
                ax.plot(
                    xs,
                    np.where(mu > 0, mu, np.nan),
                    color=colour,
                    linestyle=ls,
                    linewidth=1.6,
                    label=f"{f['curve']} fit ({tag}{extra})",
                )
        ax.set_yscale("log")
        step = max(1, len(x) // 10)
        ax.set_xticks(x[::step])
        ax.set_xticklabels(result.months[::step], rotation=30, ha="right")
        ax.set_ylabel(f"New {what} / authors per month")
        ax.set_xlabel("Month of creation (an author's: of their first)")
        ax.set_title(f"Growth ({result.snapshot_id}, {result.n_packages_with_created:,} {what})")
        ax.legend(frameon=False, loc="upper left", fontsize=7)
        ax.yaxis.grid(True, linewidth=0.4, alpha=0.6)
        ax.set_axisbelow(True)
        fig.tight_layout()
    return fig
