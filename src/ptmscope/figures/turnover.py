"""Paper Figure 6 style: Remained / Newcomers / Returning per snapshot, log y,
one panel per registry side by side."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.ticker import FuncFormatter

from ..metrics.turnover import TurnoverResult
from ._style import PALETTE, new_figure, style

REGISTRY_NAMES = {"hf": "Hugging Face", "npm": "npm", "pypi": "PyPI"}
SERIES = (("remained", "Remained", PALETTE[0]), ("newcomers", "Newcomers", PALETTE[1]), ("returning", "Returning", PALETTE[2]))


def turnover_figure(results: Sequence[TurnoverResult]) -> Any:
    """One panel per result (registry), grouped bars per snapshot, shared log y axis."""
    n = max(1, len(results))
    fig, axes = new_figure(ncols=n, width=max(4.0, 3.6 * n), height=3.4, sharey=True, squeeze=False)
    axes = axes[0]
    with style():
        for ax, res in zip(axes, results):
            steps = res.steps
            x = np.arange(len(steps))
            width = 0.27
            for j, (attr, label, colour) in enumerate(SERIES):
                vals = np.array([getattr(s, attr) for s in steps], dtype=float)
                # log axis: zero bars cannot be drawn, mark them with a 0 label instead
                bars = ax.bar(x + (j - 1) * width, np.where(vals > 0, vals, np.nan), width, label=label, color=colour)
                for xi, v in zip(x + (j - 1) * width, vals):
                    if v == 0:
                        ax.text(xi, 0.55, "0", ha="center", va="bottom", fontsize=6, color=colour)
                del bars
            ax.set_yscale("log")
            peak = max([1] + [max(s.remained, s.newcomers, s.returning) for s in steps])
            # bottom below 1 so that a bar of height 1 is visible
            ax.set_ylim(0.5, max(10.0, peak * 2.0))
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}" if v >= 1 else ""))
            ax.set_xlim(-0.6, len(steps) - 0.4)
            ax.set_xticks(x)
            ax.set_xticklabels([s.taken_at[:7] for s in steps], rotation=30, ha="right")
            name = REGISTRY_NAMES.get(res.registry, res.registry)
            ax.set_title(f"{name}: K={res.k}, {res.distinct_ever:,} distinct")
            ax.set_xlabel("Snapshot")
            ax.yaxis.grid(True, which="major", linewidth=0.4, alpha=0.6)
            ax.set_axisbelow(True)
            flagged = {w.snapshot_id for w in res.warnings if w.kind in ("few_rows", "low_kth", "fewer_than_k")}
            for xi, s in zip(x, steps):
                if s.snapshot_id in flagged:
                    ax.text(xi, 0.98, "partial?", transform=ax.get_xaxis_transform(), ha="center", va="top",
                            fontsize=7, color="#b00000")
        axes[0].set_ylabel("Packages")
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="upper center", ncol=3, frameon=False, bbox_to_anchor=(0.5, 1.06))
        fig.tight_layout()
    return fig
