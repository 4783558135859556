"""Models created per month (log y) with the fitted exponential curve."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from ._style import PALETTE, new_figure, style

if TYPE_CHECKING:
    from ..metrics.growth import GrowthResult


def growth_figure(result: GrowthResult) -> Any:
    fig, ax = new_figure(width=6.0, height=3.2)
    with style():
        x = np.arange(len(result.months))
        y = np.array(result.counts, dtype=float)
        ax.bar(x, np.where(y > 0, y, np.nan), width=0.9, color=PALETTE[0], label="models created")
        if result.slope is not None and result.fit_first_month in result.months:
            i0 = result.months.index(result.fit_first_month)
            i1 = result.months.index(result.fit_last_month)
            xs = np.arange(i0, i1 + 1)
            ys = np.asarray(y[i0 : i1 + 1], dtype=float)
            # refit intercept for drawing only: level of the GLM equals mean log-rate match
            t = xs - i0
            a = math.log(max(ys.sum(), 1.0) / np.exp(result.slope * t).sum())
            g = result.monthly_growth * 100
            ax.plot(
                xs,
                np.exp(a + result.slope * t),
                color=PALETTE[1],
                linewidth=1.6,
                label=f"exponential fit: {g:+.1f}%/month",
            )
        ax.set_yscale("log")
        step = max(1, len(x) // 10)
        ax.set_xticks(x[::step])
        ax.set_xticklabels(result.months[::step], rotation=30, ha="right")
        ax.set_ylabel("Models created per month")
        ax.set_xlabel("Month of creation")
        ax.set_title(f"Growth ({result.snapshot_id})")
        ax.legend(frameon=False, loc="upper left")
        ax.yaxis.grid(True, linewidth=0.4, alpha=0.6)
        ax.set_axisbelow(True)
        fig.tight_layout()
    return fig
