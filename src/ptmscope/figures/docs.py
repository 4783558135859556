"""Paper Figure 8 style: documentation score of top-N vs bottom-N models, one pair of boxes per popularity measure."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING, Any

from ._style import PALETTE, new_figure, style

if TYPE_CHECKING:
    from ..metrics.docs import DocsResult


def _p_text(p: float) -> str:
    if p < 1e-300:
        return "p < 1e-300"
    if p < 1e-3:
        return f"p = {p:.1e}"
    return f"p = {p:.3f}"


def docs_figure(result: DocsResult) -> Any:
    """Side-by-side box plots (top vs bottom) of the documentation score per measure."""
    comps = result.comparisons
    ncols = max(len(comps), 1)
    # long scorer keys (embedding settings) are wrapped to the figure's width, not allowed to widen it;
    # the figure grows by the title lines so the panels keep their height
    width_chars = max(34, int((2.3 * ncols + 0.6) * 11))
    what = textwrap.fill(f"{result.snapshot_id}, {result.scorer_key}", width=width_chars, break_on_hyphens=True)
    legend = textwrap.fill("box: quartiles and median; ◇ mean; whiskers 1.5 × IQR", width=width_chars)
    title = f"Documentation score, top vs bottom\n{what}\n{legend}"
    fig, axes = new_figure(
        ncols=ncols, width=2.3 * ncols + 0.6, height=2.9 + 0.14 * title.count("\n"), sharey=True, squeeze=False
    )
    with style():
        for ax, c in zip(axes[0], comps, strict=False):
            bp = ax.boxplot(
                [list(c.top_scores), list(c.bottom_scores)],
                widths=0.55,
                patch_artist=True,
                showmeans=True,
                meanprops={"marker": "D", "markersize": 3.5, "markerfacecolor": "white", "markeredgecolor": "#222222"},
                medianprops={"color": "#222222", "linewidth": 1.0},
                flierprops={"marker": ".", "markersize": 2, "alpha": 0.4},
            )
            for patch, colour in zip(bp["boxes"], (PALETTE[0], PALETTE[1]), strict=False):
                patch.set_facecolor(colour)
                patch.set_alpha(0.75)
            ax.set_xticks([1, 2])
            ax.set_xticklabels([f"top {c.n}", f"bottom {c.n}"])
            ax.set_title(f"by {c.measure}")
            ax.annotate(  # a fixed distance below the tick labels, whatever the panel's height
                f"Welch {_p_text(c.p_welch_holm)} (Holm)\nd = {c.cohens_d:.2f}, Cliff's δ = {c.cliffs_delta:.2f}",
                xy=(0.5, 0.0),
                xycoords="axes fraction",
                xytext=(0, -22),
                textcoords="offset points",
                ha="center",
                va="top",
                fontsize=7,
            )
            ax.set_ylim(-0.03, 1.03)
        if not comps:
            axes[0][0].text(
                0.5, 0.5, "no popularity measure could be tested", ha="center", transform=axes[0][0].transAxes
            )
        axes[0][0].set_ylabel("documentation score")
        fig.suptitle(title, fontsize=8)
        fig.tight_layout()
    return fig
