"""Paper Figure 7 style: log-binned 2D histogram of (popularity, descendants)
with the fitted log-log line."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.colors import LogNorm

from ._style import new_figure, style

if TYPE_CHECKING:
    from ..metrics.descendants import DescendantsResult

X_LABELS = {
    "own": "Downloads of the base model",
    "descendants_sum": "Summed downloads of its descendants",
    "from_file": "Downloads (as given)",
}


def _edges(values: np.ndarray) -> np.ndarray:
    top = max(1.0, float(values.max())) if values.size else 10.0
    return np.logspace(0, max(1, math.ceil(math.log10(top * 1.0001))), 30)


def _count_edges(values: np.ndarray) -> np.ndarray:
    """Log-spaced bins for integer counts: one bin per integer while the log spacing is finer than 1
    (no empty stripes between 1 and 2), log-spaced bins above."""
    raw = np.unique(np.round(_edges(values)))
    return np.unique(np.concatenate([[0.5], raw + 0.5]))


def descendants_figure(result: DescendantsResult) -> Any:
    x = result.popularity_values
    y = result.count_values
    pos = (x > 0) & (y > 0)
    fig, ax = new_figure(width=5.2, height=4.0)
    with style():
        xb, yb = _edges(x[pos]), _count_edges(y[pos])
        if pos.any():
            h = ax.hist2d(x[pos], y[pos], bins=[xb, yb], norm=LogNorm(), cmap="viridis")
            fig.colorbar(h[3], ax=ax, label="Base models")
        ax.set_xscale("log")
        ax.set_yscale("log")
        fit = result.fit
        if fit is not None and fit.slope == fit.slope:
            xs = np.logspace(0, math.log10(xb[-1]), 100)
            off = fit.offset
            ys = 10 ** (fit.slope * np.log10(xs + off) + fit.intercept) - off
            sign = "-" if fit.intercept < 0 else "+"
            ax.plot(
                xs,
                ys,
                color="#d1495b",
                linewidth=2,
                label=rf"$\log_{{10}} y = {fit.slope:.3f}\,\log_{{10}} x {sign} {abs(fit.intercept):.3f}$"
                f"  (OLS, n={fit.n:,}, {result.mode} fit)",
            )
            ax.legend(loc="upper left", frameon=True, framealpha=0.9, edgecolor="none", fontsize=7)
        ax.set_xlim(xb[0], xb[-1])
        ax.set_ylim(yb[0], yb[-1] * 10)  # an empty decade on top for the legend
        ax.set_xlabel(X_LABELS.get(result.popularity, result.popularity))
        kind = "descendants (transitive)" if result.transitive else "direct descendants"
        ax.set_ylabel(f"Number of {kind}")
        hidden = int((~pos).sum())
        src = result.snapshot.snapshot_id if result.snapshot else result.source.rsplit("/", 1)[-1]
        if len(src) > 60:
            src = src[:57] + "..."
        ax.set_title(f"Descendants vs popularity\n{src}", fontsize=9)
        if hidden:
            ax.text(
                1.0,
                -0.19,
                f"{hidden} bases with 0 downloads or 0 descendants not shown",
                transform=ax.transAxes,
                ha="right",
                va="top",
                fontsize=6.5,
                color="#555555",
            )
        fig.tight_layout()
    return fig
