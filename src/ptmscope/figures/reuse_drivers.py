"""T3.6: standardised effects of popularity, maintenance and quality on each reuse outcome."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ._style import PALETTE, new_figure, style

if TYPE_CHECKING:
    from ..metrics.reuse_drivers import ReuseResult

COLOURS = {"popularity": PALETTE[1], "commits": PALETTE[0], "recency": PALETTE[3], "quality": PALETTE[2]}


def reuse_figure(result: ReuseResult) -> Any:
    outs = result.outcomes
    fig, axes = new_figure(len(outs), 1, width=4.2 * len(outs), height=3.4, squeeze=False)
    with style():
        for ax, o in zip(axes[0], outs, strict=True):
            ax.set_title(
                f"{o['outcome']}" + (f" (n={o['n']:,}, {o['n_nonzero']:,} > 0)" if "n" in o else ""), fontsize=9
            )
            if not o.get("analysed"):
                ax.text(
                    0.5,
                    0.5,
                    "not analysed:\n" + o.get("why_not", ""),
                    ha="center",
                    va="center",
                    transform=ax.transAxes,
                    fontsize=8,
                    color="#8d96a3",
                    wrap=True,
                )
                ax.set_xticks([])
                ax.set_yticks([])
                continue
            coefs = o["rank_regression"]["coefficients"]
            names = list(coefs)  # popularity, commits, recency, quality
            y = np.arange(len(names))[::-1]
            for yi, k in zip(y, names, strict=True):
                c = coefs[k]
                lo, hi = c["ci"]
                if lo is not None and hi is not None:
                    ax.hlines(yi, lo, hi, colors=COLOURS[k], linewidth=1.8)
                ax.scatter([c["estimate"]], [yi], color=COLOURS[k], zorder=3, s=22)
            ax.axvline(0, color="#8d96a3", linewidth=0.8, linestyle="--")
            ax.set_yticks(y)
            ax.set_yticklabels(names)
            ax.set_xlabel("standardised rank coefficient (95% bootstrap CI)")
            ax.set_title(f"{ax.get_title()}\n{o['verdict']}", fontsize=9)
        fig.suptitle(
            f"T3.6: reuse vs popularity, maintenance, quality; {result.n_models:,} models of {result.snapshot_id}",
            fontsize=10,
        )
        fig.tight_layout()
    return fig
