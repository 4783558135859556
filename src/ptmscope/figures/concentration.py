"""Download concentration: cumulative share of downloads held by the top x%
of authors (log x), with the top-1% / top-10% points and the Gini."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ._style import PALETTE, new_figure, style

if TYPE_CHECKING:
    from ..metrics.concentration import ConcentrationResult


def concentration_figure(result: ConcentrationResult) -> Any:
    fig, ax = new_figure(width=5.4, height=3.6)
    with style():
        pts = np.array(result.top_curve, dtype=float)
        ax.plot(
            pts[:, 0] * 100,
            pts[:, 1],
            color=PALETTE[0],
            linewidth=1.8,
            label=f"{result.n_authors:,} authors, Gini {result.gini:.3f} "
            f"[{result.gini_ci[0]:.3f}, {result.gini_ci[1]:.3f}]",
        )
        ax.plot(pts[:, 0] * 100, pts[:, 0], color="#8d96a3", linewidth=0.8, linestyle="--", label="equal shares")
        for q, share, colour in ((0.01, result.top1_share, PALETTE[1]), (0.10, result.top10_share, PALETTE[2])):
            ax.scatter([q * 100], [share], color=colour, zorder=3, label=f"top {q:.0%}: {share:.1%} of downloads")
        ax.set_xscale("log")
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("Top x% of authors by downloads (log scale)")
        ax.set_ylabel("Their share of all downloads")
        ax.set_title(f"Download concentration ({result.snapshot_id})")
        ax.legend(frameon=False, loc="lower right", fontsize=7)
        ax.yaxis.grid(True, linewidth=0.4, alpha=0.6)
        fig.tight_layout()
    return fig
