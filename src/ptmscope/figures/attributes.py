"""C4 (Table 4's attributes vs downloads): each attribute's incremental R² and the coefficients behind it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ._style import PALETTE, new_figure, style

if TYPE_CHECKING:
    from ..metrics.attributes import AttributesResult

_GREY = "#8d96a3"


def attributes_figure(result: AttributesResult) -> Any:
    rows = [c for c in result.coefficients if c["term"] != "Intercept"]
    rows = list(reversed(rows))
    height = max(3.2, 0.22 * len(rows) + 1.4)
    fig, (ax_b, ax_c) = new_figure(2, 1, width=10.0, height=height, gridspec_kw={"width_ratios": [1, 1.5]})
    colour = {r["block"]: PALETTE[i % len(PALETTE)] for i, r in enumerate(result.table4_blocks)}
    with style():
        # left: Cohen's f² of each Table 4 attribute (unique incremental R² / (1 - R²)), with bootstrap CI
        labels, ys = [], np.arange(len(result.table4_blocks))[::-1]
        for y, r in zip(ys, result.table4_blocks, strict=True):
            labels.append(r["label"])
            if not r["measured"]:
                ax_b.text(0, y, "  not measured", va="center", fontsize=8, color=_GREY)
                continue
            lo, hi = r["f2_ci"]
            ax_b.barh(y, r["f2"], color=colour[r["block"]], height=0.6)
            if lo is not None and hi is not None:
                ax_b.hlines(y, lo, hi, colors="#2e4057", linewidth=1.2)
            ax_b.text(max(r["f2"], hi or 0), y, f"  ΔR²={r['delta_r2']:.3f}", va="center", fontsize=7, color="#2e4057")
        ax_b.axvline(result.small_f2, color=PALETTE[1], linewidth=0.9, linestyle="--")
        ax_b.text(result.small_f2, -0.75, f" small effect (f²={result.small_f2:g})", fontsize=7, color=PALETTE[1])
        ax_b.set_ylim(-0.9, len(ys) - 0.5)
        ax_b.set_yticks(ys)
        ax_b.set_yticklabels(labels)
        ax_b.set_xlabel("Cohen's f² of the attribute's unique ΔR² (95% bootstrap CI)")
        ax_b.set_title(f"Table 4 attributes measured: {result.blocks_measured} of 5", fontsize=9)
        # right: coefficients, coloured by block (controls grey)
        y = np.arange(len(rows))
        est = np.array([c["estimate"] for c in rows])
        lo = np.array([c["ci_low"] for c in rows])
        hi = np.array([c["ci_high"] for c in rows])
        colours = [colour.get(c.get("block", ""), _GREY) for c in rows]
        ax_c.hlines(y, lo, hi, colors=colours, linewidth=1.4)
        ax_c.scatter(est, y, color=colours, zorder=3, s=14)
        ax_c.axvline(0, color=_GREY, linewidth=0.8, linestyle="--")
        ax_c.set_yticks(y)
        ax_c.set_yticklabels([c["term"] for c in rows], fontsize=7)
        # categorical terms are contrasts against the first (most common named) level: say which
        refs = ", ".join(f"{k} = {v[0]}" for k, v in sorted(result.levels.items()) if v)
        ax_c.set_xlabel(
            "Effect on ln(1 + downloads), 95% CI (HC3); grey = controls"
            + (f"\nreference levels: {refs}" if refs else "")
        )
        fig.suptitle(
            f"C4: attributes vs downloads, {result.snapshot_id} (n={result.n:,}, R²={result.r2:.2f}, "
            f"controls alone {result.r2_controls:.2f})",
            fontsize=10,
        )
        fig.tight_layout()
    return fig
