"""Lorenz curve of downloads over authors, with top-1%/10% shares and Gini."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..metrics.concentration import ConcentrationResult
from ._style import PALETTE, new_figure, style


def concentration_figure(result: ConcentrationResult) -> Any:
    fig, ax = new_figure(width=4.6, height=3.6)
    with style():
        pts = np.array(result.lorenz, dtype=float)
        ax.plot([0, 1], [0, 1], color="#8d96a3", linewidth=0.8, linestyle="--", label="equal shares")
        ax.plot(pts[:, 0], pts[:, 1], color=PALETTE[0], linewidth=1.8, label=f"authors (Gini {result.gini:.2f})")
        for q, share, colour in ((0.01, result.top1_share, PALETTE[1]), (0.10, result.top10_share, PALETTE[2])):
            ax.scatter([1 - q], [1 - share], color=colour, zorder=3,
                       label=f"top {q:.0%} of authors: {share:.0%} of downloads")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xlabel("Share of authors (least downloaded first)")
        ax.set_ylabel("Share of downloads")
        ax.set_title(f"Download concentration, {result.n_authors:,} authors")
        ax.legend(frameon=False, loc="upper left", fontsize=7)
        fig.tight_layout()
    return fig
