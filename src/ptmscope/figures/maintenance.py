"""T3.7: kinds of maintenance per year, and high- vs low-maintenance models compared."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..maintenance import CATEGORIES
from ._style import PALETTE, new_figure, style

if TYPE_CHECKING:
    from ..metrics.maintenance import MaintenanceResult

COLOURS = {"perfective": PALETTE[0], "corrective": PALETTE[1], "adaptive": PALETTE[2], "other": "#c5ccd6"}


def maintenance_figure(result: MaintenanceResult) -> Any:
    fig, (ax_y, ax_c) = new_figure(2, 1, width=10.0, height=3.8, gridspec_kw={"width_ratios": [1.6, 1]})
    with style():
        years = [r["year"] for r in result.years]
        x = np.arange(len(years))
        bottom = np.zeros(len(years))
        for k in CATEGORIES:
            share = np.array([r[f"{k}_share"] for r in result.years], dtype=float)
            ax_y.bar(x, share, bottom=bottom, color=COLOURS[k], label=k, width=0.75)
            bottom += share
        for xi, r in zip(x, result.years, strict=True):
            ax_y.text(xi, 1.01, f"{r['commits']:,}", ha="center", va="bottom", fontsize=7, color="#2e4057")
        ax_y.set_xticks(x)
        ax_y.set_xticklabels([str(y) for y in years])
        ax_y.set_ylim(0, 1.1)
        ax_y.set_ylabel("share of the year's commits")
        selection = " (weight-file commits only)" if result.weight_file_only else ""
        ax_y.set_title(f"Kinds of maintenance per year{selection}; commits on top", fontsize=9)
        ax_y.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
        # right: Cliff's delta of each measure, high vs low maintenance
        rows = result.comparisons
        y = np.arange(len(rows))[::-1]
        for yi, r in zip(y, rows, strict=True):
            if not r["measured"]:
                ax_c.text(0, yi, "not measured", ha="center", va="center", fontsize=7, color="#8d96a3")
                continue
            lo, hi = r["delta_ci"]
            colour = PALETTE[3] if not r.get("proxy") else PALETTE[5]
            if lo is not None and hi is not None:
                ax_c.hlines(yi, lo, hi, colors=colour, linewidth=1.6)
            ax_c.scatter([r["cliffs_delta"]], [yi], color=colour, zorder=3, s=18)
            ax_c.text(
                0.97,
                yi - 0.22,
                f"n high/low = {r['n_high']}/{r['n_low']}",
                ha="right",
                va="top",
                fontsize=7,
                color="#2e4057",
            )
        ax_c.axvline(0, color="#8d96a3", linewidth=0.8, linestyle="--")
        for v in (-result.negligible_delta, result.negligible_delta):
            ax_c.axvline(v, color="#8d96a3", linewidth=0.6, linestyle=":")
        ax_c.set_xlim(-1, 1)
        ax_c.set_ylim(-0.7, len(rows) - 0.5)
        ax_c.set_yticks(y)
        ax_c.set_yticklabels([r["measure"] + (" (name proxy)" if r.get("proxy") else "") for r in rows])
        ax_c.set_xlabel(
            f"Cliff's delta, high vs low maintenance (95% CI)\ndotted: negligible band ±{result.negligible_delta:g}"
        )
        median = result.split.get("median_rate")
        ax_c.set_title(
            f"High = above median commits/month ({median:.3g})" if median is not None else "High vs low", fontsize=9
        )
        pshare = result.perfective_share_of_maintenance
        fig.suptitle(
            f"T3.7: {result.n_commits:,} commits of {result.n_repos:,} repositories ({result.snapshot_id}); "
            + (f"perfective share of maintenance {pshare:.2f}" if pshare is not None else "no maintenance commits"),
            fontsize=10,
        )
        fig.tight_layout()
    return fig
