"""Paper Figure 5 style: preservation rate of the top-10 libraries, counts on the bars."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ._style import PALETTE, new_figure, style

if TYPE_CHECKING:
    from ..metrics.preservation import PreservationResult


def preservation_figure(result: PreservationResult, top: int = 10) -> Any:
    rated = [(r, r.rate) for r in result.top(top) if r.rate is not None]  # top() already keeps rated rows only
    rows = [r for r, _ in rated]
    fig, ax = new_figure(width=max(4.0, 0.55 * max(len(rows), 4) + 1.5), height=3.4)
    with style():
        x = np.arange(len(rows))
        rates = np.array([rate for _, rate in rated], dtype=float)
        lo = np.array([rate - r.ci_low if r.ci_low is not None else 0.0 for r, rate in rated])
        hi = np.array([r.ci_high - rate if r.ci_high is not None else 0.0 for r, rate in rated])
        ax.bar(
            x,
            rates,
            0.7,
            color=PALETTE[0],
            yerr=[lo, hi] if rows else None,
            error_kw={"elinewidth": 0.8, "capsize": 2, "ecolor": "#444444"},
        )
        for xi, (r, rate) in zip(x, rated, strict=False):
            top_y = (r.ci_high if r.ci_high is not None else rate) + 0.02
            ax.text(xi, min(top_y, 1.08), f"{r.numerator}/{r.denominator}", ha="center", va="bottom", fontsize=6.5)
        ax.set_xticks(x)
        ax.set_xticklabels([r.library for r in rows], rotation=45, ha="right", rotation_mode="anchor")
        ax.set_ylim(0, 1.15)
        ax.set_yticks([0, 0.25, 0.5, 0.75, 1.0])
        ax.set_xlabel("Library")
        if result.mode == "paper":
            ax.set_ylabel("Preservation rate $P_L$ (eq. 1)")
            what = "paper eq. 1"
        else:
            ax.set_ylabel("Share of multi-library\ndescendants with $L$")
            what = "artifact: the published code's quantity"
        ax.set_title(
            f"Library preservation ({what})\n{result.snapshot.snapshot_id}; bars: 95% bootstrap CI", fontsize=9
        )
        if not rows:
            ax.text(0.5, 0.5, "no library has enough descendants", transform=ax.transAxes, ha="center")
        fig.tight_layout()
    return fig
