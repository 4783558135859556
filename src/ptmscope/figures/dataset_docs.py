"""Dataset-card score vs downloads: top vs bottom datasets (box plots) and the mean score per downloads band."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING, Any

from ._style import PALETTE, new_figure, style
from .docs import group_boxes, ties_legend

if TYPE_CHECKING:
    from ..metrics.dataset_docs import DatasetDocsResult


def dataset_docs_figure(result: DatasetDocsResult) -> Any:
    """Left: card score of the top-N and bottom-N datasets by downloads; right: mean card score per band."""
    width_chars = 80
    sp = result.spearman
    rho = f"Spearman ρ = {sp.coef:.3f} [{sp.ci[0]:.3f}, {sp.ci[1]:.3f}], n = {sp.n:,}"
    what = textwrap.fill(
        f"{result.snapshot_id}, {result.scorer_key}: {result.n_compared:,} datasets with a download count; {rho}",
        width=width_chars,
    )
    p = result.params
    legend = textwrap.fill(ties_legend(result.tests.draws, p.ties, p.seed), width=width_chars)
    title = f"Dataset-card sections (0–5) vs downloads\n{what}\n{legend}"
    fig, axes = new_figure(ncols=2, width=7.2, height=3.2 + 0.14 * title.count("\n"), squeeze=False)
    ax_box, ax_band = axes[0]
    with style():
        if result.comparisons:
            group_boxes(ax_box, result.comparisons[0], ylim=(-0.15, 5.15), holm=False)
        else:
            ax_box.text(0.5, 0.5, "too few datasets to compare", ha="center", transform=ax_box.transAxes)
        ax_box.set_ylabel("card sections present (0–5)")
        bands = [b for b in result.bands if b["n"]]
        xs = list(range(len(bands)))
        ax_band.bar(xs, [b["mean_card_score"] for b in bands], color=PALETTE[3], alpha=0.8, width=0.65)
        for x, b in zip(xs, bands, strict=True):
            ax_band.annotate(
                f"n={b['n']:,}\n{100 * b['share_with_card']:.0f}% card",
                xy=(x, b["mean_card_score"]),
                xytext=(0, 2),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=6,
            )
        ax_band.set_xticks(xs)
        ax_band.set_xticklabels([b["band"] for b in bands], rotation=30, ha="right")
        ax_band.set_xlabel("downloads (last 30 days)")
        ax_band.set_ylabel("mean card sections")
        ax_band.set_ylim(0, 5.15)
        ax_band.set_title("by downloads band")
        fig.suptitle(title, fontsize=8)
        fig.tight_layout()
    return fig
