"""Paper Figure 8 style: documentation score of top-N vs bottom-N models, one pair of boxes per popularity measure."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING, Any

from ._style import PALETTE, new_figure, style

if TYPE_CHECKING:
    from ..metrics._groups import GroupComparison
    from ..metrics.docs import DocsResult


def p_text(p: float | None) -> str:
    if p is None or p != p:
        return "p = n/a"
    if p < 1e-300:
        return "p < 1e-300"
    if p < 1e-3:
        return f"p = {p:.1e}"
    return f"p = {p:.3f}"


def ties_legend(draws: int, rule: str, seed: int) -> str:
    """What the boxes show when models tie at a cut-off, in one line."""
    if rule == "all":
        return "ties at a cut-off: every tied model joins its group"
    if draws == 1:
        return "no tie straddles a cut-off: one draw"
    return f"ties at a cut-off drawn at random, {draws} draws (seed {seed}); boxes: the median draw by Welch t"


def group_boxes(ax: Any, c: GroupComparison, *, ylim: tuple[float, float], holm: bool = True) -> None:
    """Top and bottom group side by side, with the (Holm) Welch p (largest over draws), d and Cliff's delta below."""
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
    ax.set_xticklabels([f"top {c.n_top:,}", f"bottom {c.n_bottom:,}"])
    ax.set_title("\n".join(textwrap.wrap(f"by {c.label}", 30)))
    worst = "" if c.draws == 1 else " (max over draws)"
    ax.annotate(  # a fixed distance below the tick labels, whatever the panel's height
        f"Welch {p_text(c.p_welch_holm_max)}{' (Holm)' if holm else ''}{worst}\n"
        f"d = {c.cohens_d:.2f}, Cliff's δ = {c.cliffs_delta:.2f}",
        xy=(0.5, 0.0),
        xycoords="axes fraction",
        xytext=(0, -22),
        textcoords="offset points",
        ha="center",
        va="top",
        fontsize=7,
    )
    ax.set_ylim(*ylim)


def docs_figure(result: DocsResult) -> Any:
    """Side-by-side box plots (top vs bottom) of the documentation score per measure, the population stated."""
    comps = result.comparisons
    ncols = max(len(comps), 1)
    # long scorer keys (embedding settings) are wrapped to the figure's width, not allowed to widen it;
    # the figure grows by the title lines so the panels keep their height
    width_chars = max(34, int((2.3 * ncols + 0.6) * 11))
    pop = result.population
    what = textwrap.fill(f"{result.snapshot_id}, {result.scorer_key}", width=width_chars, break_on_hyphens=True)
    population = textwrap.fill(
        f"population: {pop['definition']} ({pop['n_models']:,} models, {pop['n_over_50_downloads']:,} of them with "
        f"over 50 downloads; {result.n_compared:,.0f} compared)",
        width=width_chars,
    )
    p = result.params
    legend = textwrap.fill(
        f"{ties_legend(result.tests.draws, p.ties, p.seed)}; box: quartiles and median; ◇ mean; whiskers 1.5 × IQR",
        width=width_chars,
    )
    title = f"Documentation score, top vs bottom\n{what}\n{population}\n{legend}"
    fig, axes = new_figure(
        ncols=ncols, width=2.3 * ncols + 0.6, height=2.9 + 0.14 * title.count("\n"), sharey=True, squeeze=False
    )
    with style():
        for ax, c in zip(axes[0], comps, strict=False):
            group_boxes(ax, c, ylim=(-0.03, 1.03), holm=len(comps) > 1)
        if not comps:
            axes[0][0].text(
                0.5, 0.5, "no popularity measure could be tested", ha="center", transform=axes[0][0].transAxes
            )
        axes[0][0].set_ylabel("documentation score")
        fig.suptitle(title, fontsize=8)
        fig.tight_layout()
    return fig
