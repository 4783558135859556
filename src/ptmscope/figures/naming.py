"""Share of names naming their architecture, per architecture family."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ._style import PALETTE, new_figure, style

if TYPE_CHECKING:
    from ..metrics.naming import NamingResult


def naming_figure(result: NamingResult) -> Any:
    rows = list(reversed(result.by_model_type))
    fig, ax = new_figure(width=5.6, height=max(2.4, 0.25 * len(rows) + 1.0))
    with style():
        y = np.arange(len(rows))
        shares = [r["share"] for r in rows]
        ax.barh(y, shares, color=PALETTE[3])
        ax.set_yticks(y)
        # family names come from data; matplotlib draws them as glyph paths (no markup)
        ax.set_yticklabels([f"{r['model_type']} (n={r['n']:,})" for r in rows])
        ax.axvline(
            result.share_naming,
            color=PALETTE[1],
            linewidth=1.2,
            label=f"all: {result.share_naming:.0%} name their architecture",
        )
        ax.set_xlim(0, 1)
        ax.set_xlabel("Share of model names containing config.model_type")
        ax.legend(frameon=False, loc="lower right", fontsize=7)
        ax.set_title("Naming")
        fig.tight_layout()
    return fig
