"""Share of cards missing each of the five sections (with 95% CI)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..cards.base import SECTION_LABELS as LABELS
from ._style import PALETTE, new_figure, style

if TYPE_CHECKING:
    from ..metrics.underdoc import UnderdocResult


def underdoc_figure(result: UnderdocResult) -> Any:
    fig, ax = new_figure(width=5.6, height=2.8)
    with style():
        secs = list(reversed(result.sections))
        y = np.arange(len(secs))
        share = np.array([result.missing_share_cards[s] for s in secs])
        ci = np.array([result.missing_share_cards_ci[s] for s in secs])
        ax.barh(y, share, color=PALETTE[1], xerr=[share - ci[:, 0], ci[:, 1] - share], ecolor="#2e4057", capsize=2)
        ax.set_yticks(y)
        ax.set_yticklabels([LABELS.get(s, s) for s in secs])
        ax.set_xlim(0, 1)
        ax.axvline(0.5, color="#8d96a3", linewidth=0.8, linestyle="--")
        ax.set_xlabel(f"Share of {result.n_scored:,} cards missing the section")
        ax.set_title(f"Under-documentation ({result.missing_card_share:.0%} of models have no card)")
        fig.tight_layout()
    return fig
