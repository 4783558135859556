"""Paper Figure 6 style: Remained / Newcomers / Returning per snapshot, log y,
one panel per registry side by side; below each, the turnover per year.

Warnings are drawn, not only printed: a suspected partial listing gets a red
triangle, a step whose ranking measure or download window changes a dashed
line between its two snapshots (in both rows), and a repeated list left out
of the steps is counted in the panel title.  The lower row shows each step's
share annualised (dots; hollow when the step is not comparable) and, where
the registry has snapshots a year apart, the measured year-apart turnover
(crosses, at the later snapshot), with the median of the comparable values
as a line and in the title.

A panel with many snapshots (more than :data:`MAX_BARS`, e.g. 164 PyPI
listings) draws one line per series instead of grouped bars, and labels only
about :data:`MAX_TICK_LABELS` dates, so it stays readable; panels get widths
in proportion to their number of snapshots.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.ticker import FuncFormatter

from ..metrics._kinds import CHANGE_KINDS, PARTIAL_KINDS
from ._style import PALETTE, new_figure, style

if TYPE_CHECKING:
    from ..metrics.turnover import TurnoverResult

REGISTRY_NAMES = {"hf": "Hugging Face", "npm": "npm", "pypi": "PyPI"}
SERIES = (
    ("remained", "Remained", PALETTE[0]),
    ("newcomers", "Newcomers", PALETTE[1]),
    ("returning", "Returning", PALETTE[2]),
)
MAX_BARS = 24
MAX_TICK_LABELS = 12
PARTIAL_LABEL = "possibly partial listing"
CHANGE_LABEL = "ranking measure or window changes"
CHANGE_COLOUR = "#7a1f5c"
STEP_LABEL = "step, annualised"
YEAR_LABEL = "snapshots a year apart"


def _tick_labels(dates: Sequence[str], thinned: bool) -> list[str]:
    """Year-month, or the full date when two labelled snapshots share a month."""
    months = [d[:7] for d in dates]
    return list(dates) if not thinned and len(set(months)) < len(months) else months


def _panel_ratio(n_steps: int) -> float:
    return float(min(2.5, max(1.0, n_steps / 6)))


def _pct(v: float | None) -> str:
    return "–" if v is None else f"{v:.0%}"


def _rates_panel(ax: Any, res: TurnoverResult, x: Any) -> None:
    """Per-year turnover: annualised steps (dots) and year-apart pairs (crosses), comparable medians as lines."""
    steps = res.steps
    colour = PALETTE[3]
    for xi, s in zip(x, steps, strict=False):
        if s.turnover_per_year is None:
            continue
        face = colour if s.comparable else "none"
        ax.plot([xi], [s.turnover_per_year], marker="o", markersize=3, color=colour, markerfacecolor=face)
    pos = {s.snapshot_id: i for i, s in enumerate(steps)}
    for p in res.year_pairs:
        if p.turnover_share is None or p.to_snapshot_id not in pos:
            continue
        ax.plot(
            [pos[p.to_snapshot_id]],
            [p.turnover_share],
            marker="x",
            markersize=4,
            color=PALETTE[1] if not p.flags else "#bbbbbb",
        )
    rates = res.rates()
    for key, c in (("median_turnover_per_year", colour), ("median_turnover_year_apart", PALETTE[1])):
        if rates[key] is not None:
            ax.axhline(rates[key], color=c, linewidth=0.8, linestyle=":")
    ax.set_ylim(0, 1.05)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0%}"))
    ax.set_title(
        f"per year: steps {_pct(rates['median_turnover_per_year'])}, "
        f"year apart {_pct(rates['median_turnover_year_apart'])} (medians)",
        fontsize=8,
    )
    ax.yaxis.grid(True, which="major", linewidth=0.4, alpha=0.6)
    ax.set_axisbelow(True)


def turnover_figure(results: Sequence[TurnoverResult]) -> Any:
    """One column per result (registry), snapshots on x (dates under the lower row): counts (shared log y) above,
    per-year rates below."""
    from matplotlib.lines import Line2D

    n = max(1, len(results))
    ratios = [_panel_ratio(len(r.steps)) for r in results] or [1.0]
    fig, grid = new_figure(
        ncols=n,
        nrows=2,
        width=min(14.0, max(4.0, 2.9 * sum(ratios))),
        height=5.2,
        sharey="row",
        squeeze=False,
        gridspec_kw={"width_ratios": ratios, "height_ratios": [3.0, 1.4]},
    )
    axes, rate_axes = grid[0], grid[1]
    any_change = False
    with style():
        peak = max([1] + [max(s.remained, s.newcomers, s.returning) for r in results for s in r.steps])
        for ax, rax, res in zip(axes, rate_axes, results, strict=False):
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
                if any(f in CHANGE_KINDS for f in s.flags):
                    any_change = True
                    for a in (ax, rax):
                        a.axvline(xi - 0.5, color=CHANGE_COLOUR, linestyle="--", linewidth=0.9)
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
            _rates_panel(rax, res, x)
            every = max(1, -(-len(steps) // MAX_TICK_LABELS))
            labels = _tick_labels([s.taken_at for s in steps], thinned=every > 1)
            ticks = x[::every]
            for a in (ax, rax):
                a.set_xlim(-0.6, len(steps) - 0.4)
                a.set_xticks(ticks)
            ax.set_xticklabels([])
            rax.set_xticklabels([labels[i] for i in ticks], rotation=45, ha="right", rotation_mode="anchor")
            name = REGISTRY_NAMES.get(res.registry, res.registry)
            repeats = f", {len(res.dropped)} repeated list(s) left out" if res.dropped else ""
            ax.set_title(
                f"{name}\ntop {res.k:,}, {len(steps)} snapshots{repeats}\n{res.distinct_ever:,} distinct ever",
                fontsize=9,
            )
            rax.set_xlabel("Snapshot")
            ax.yaxis.grid(True, which="major", linewidth=0.4, alpha=0.6)
            ax.set_axisbelow(True)
        axes[0].set_ylabel("Packages in the top K")
        rate_axes[0].set_ylabel("Turnover per year")
        seen: dict[str, Any] = {}
        for ax in axes:
            for h, lab in zip(*ax.get_legend_handles_labels(), strict=False):
                seen.setdefault(lab, h)
        if any_change:
            seen[CHANGE_LABEL] = Line2D([], [], color=CHANGE_COLOUR, linestyle="--", linewidth=0.9)
        seen[STEP_LABEL] = Line2D([], [], color=PALETTE[3], marker="o", markersize=3, linestyle="none")
        seen[YEAR_LABEL] = Line2D([], [], color=PALETTE[1], marker="x", markersize=4, linestyle="none")
        series = [lab for _, lab, _ in SERIES if lab in seen]
        labels = series + [lab for lab in seen if lab not in series]  # the series first, the markers after
        fig.legend(
            [seen[lab] for lab in labels],
            labels,
            loc="upper center",
            ncol=min(len(labels), 4),
            frameon=False,
            bbox_to_anchor=(0.5, 1.1),
        )
        fig.tight_layout()
    return fig
