"""Coefficient plot of the C4 regression (estimate with 95% CI)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ._style import PALETTE, new_figure, style

if TYPE_CHECKING:
    from ..metrics.attributes import AttributesResult


def attributes_figure(result: AttributesResult) -> Any:
    rows = [c for c in result.coefficients if c["term"] != "Intercept"]
    rows = list(reversed(rows))
    fig, ax = new_figure(width=6.0, height=max(2.6, 0.24 * len(rows) + 1.0))
    with style():
        y = np.arange(len(rows))
        est = np.array([c["estimate"] for c in rows])
        lo = np.array([c["ci_low"] for c in rows])
        hi = np.array([c["ci_high"] for c in rows])
        colours = [PALETTE[0] if c["term"].startswith(("task[", "library[")) else PALETTE[2] for c in rows]
        ax.hlines(y, lo, hi, colors=colours, linewidth=1.4)
        ax.scatter(est, y, color=colours, zorder=3, s=14)
        ax.axvline(0, color="#8d96a3", linewidth=0.8, linestyle="--")
        ax.set_yticks(y)
        ax.set_yticklabels([c["term"] for c in rows])
        # categorical terms are contrasts against the first (most common) level: say which
        refs = ", ".join(f"{k} = {v[0]}" for k, v in sorted(result.levels.items()) if v)
        ax.set_xlabel("Effect on ln(1 + downloads), 95% CI (HC3)" + (f"\nreference levels: {refs}" if refs else ""))
        ax.set_title(f"C4: attributes vs downloads (n={result.n:,}, R²={result.r2:.2f})")
        fig.tight_layout()
    return fig
