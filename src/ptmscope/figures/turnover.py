"""Paper Figure 6 style: Remained / Newcomers / Returning per snapshot, log y,
one panel per registry side by side.

A panel with many snapshots (more than :data:`MAX_BARS`, e.g. 164 PyPI
listings) draws one line per series instead of grouped bars, and labels only
about :data:`MAX_TICK_LABELS` dates, so it stays readable; panels get widths
in proportion to their number of snapshots.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.ticker import FuncFormatter

from ..metrics.turnover import TurnoverResult
from ._style import PALETTE, new_figure, style

REGISTRY_NAMES = {"hf": "Hugging Face", "npm": "npm", "pypi": "PyPI"}
SERIES = (
    ("remained", "Remained", PALETTE[0]),
    ("newcomers", "Newcomers", PALETTE[1]),
    ("returning", "Returning", PALETTE[2]),
)
PARTIAL_KINDS = ("few_rows", "low_kth", "fewer_than_k")
MAX_BARS = 24
MAX_TICK_LABELS = 12
PARTIAL_LABEL = "possibly partial listing"


def _tick_labels(dates: Sequence[str], thinned: bool) -> list[str]:
    """Year-month, or the full date when two labelled snapshots share a month."""
    months = [d[:7] for d in dates]
    return list(dates) if not thinned and len(set(months)) < len(months) else months


def _panel_ratio(n_steps: int) -> float:
    return float(min(2.5, max(1.0, n_steps / 6)))


def turnover_figure(results: Sequence[TurnoverResult]) -> Any:
    """One panel per result (registry), snapshots on x, shared log y axis."""
    n = max(1, len(results))
    ratios = [_panel_ratio(len(r.steps)) for r in results] or [1.0]
    fig, axes = new_figure(
        ncols=n,
        width=min(14.0, max(4.0, 2.9 * sum(ratios))),
        height=3.4,
        sharey=True,
        squeeze=False,
        gridspec_kw={"width_ratios": ratios},
    )
    axes = axes[0]
    with style():
        peak = max([1] + [max(s.remained, s.newcomers, s.returning) for r in results for s in r.steps])
        for ax, res in zip(axes, results, strict=False):
            steps = res.steps
            x = np.arange(len(steps))
            flagged = {w.snapshot_id for w in res.warnings if w.kind in PARTIAL_KINDS}
            bars = len(steps) <= MAX_BARS
            for j, (attr, label, colour) in enumerate(SERIES):
                vals = np.array([getattr(s, attr) for s in steps], dtype=float)
                shown = np.where(vals > 0, vals, np.nan)  # log axis: zeros cannot be drawn
                if bars:
                    xs = x + (j - 1) * 0.27
                    ax.bar(xs, shown, 0.27, label=label, color=colour)
                    for xi, v in zip(xs, vals, strict=False):
                        if v == 0:
                            ax.text(xi, 0.55, "0", ha="center", va="bottom", fontsize=6, color=colour)
                else:
                    ax.plot(x, shown, color=colour, label=label, linewidth=1.0, marker="o", markersize=1.8)
            for xi, s in zip(x, steps, strict=False):
                if s.snapshot_id not in flagged:
                    continue
                ax.plot(
                    [xi],
                    [0.975],
                    transform=ax.get_xaxis_transform(),
                    marker="v",
                    markersize=4,
                    linestyle="none",
                    color="#b00000",
                    label=PARTIAL_LABEL,
                    clip_on=False,
                )
            ax.set_yscale("log")
            # bottom below 1 so that a bar of height 1 is visible; headroom for the partial markers
            ax.set_ylim(0.5, max(10.0, peak * 2.5))
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}" if v >= 1 else ""))
            ax.set_xlim(-0.6, len(steps) - 0.4)
            every = max(1, -(-len(steps) // MAX_TICK_LABELS))
            labels = _tick_labels([s.taken_at for s in steps], thinned=every > 1)
            ticks = x[::every]
            ax.set_xticks(ticks)
            ax.set_xticklabels([labels[i] for i in ticks], rotation=45, ha="right", rotation_mode="anchor")
            name = REGISTRY_NAMES.get(res.registry, res.registry)
            ax.set_title(
                f"{name}\ntop {res.k:,}, {len(steps)} snapshots\n{res.distinct_ever:,} distinct ever", fontsize=9
            )
            ax.set_xlabel("Snapshot")
            ax.yaxis.grid(True, which="major", linewidth=0.4, alpha=0.6)
            ax.set_axisbelow(True)
        axes[0].set_ylabel("Packages in the top K")
        seen: dict[str, Any] = {}
        for ax in axes:
            for h, lab in zip(*ax.get_legend_handles_labels(), strict=False):
                seen.setdefault(lab, h)
        labels = sorted(seen, key=lambda lab: lab == PARTIAL_LABEL)  # the series first, the marker last
        fig.legend(
            [seen[lab] for lab in labels],
            labels,
            loc="upper center",
            ncol=len(seen),
            frameon=False,
            bbox_to_anchor=(0.5, 1.1),
        )
        fig.tight_layout()
    return fig
