"""The C1/C2 figures: what a reader sees (labels, scales, legend, counts), not only that a file appears."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pytest

from ptmscope.figures._style import save
from ptmscope.figures.descendants import descendants_figure
from ptmscope.figures.preservation import preservation_figure
from ptmscope.figures.turnover import MAX_TICK_LABELS, turnover_figure
from ptmscope.metrics.descendants import descendants_from_pairs
from ptmscope.metrics.preservation import LibraryRate, PreservationResult
from ptmscope.metrics.turnover import CoverageWarning, TurnoverResult, TurnoverStep
from ptmscope.snapshots import SnapshotRef


def _turnover(registry: str, n: int, partial: tuple[int, ...] = ()) -> TurnoverResult:
    day0 = dt.date(2020, 1, 1)
    snaps = tuple(SnapshotRef(f"{registry}-{i}", registry, day0 + dt.timedelta(days=7 * i), 2000) for i in range(n))
    steps = tuple(
        TurnoverStep(
            s.snapshot_id,
            s.taken_at.isoformat(),
            10,
            0 if i == 0 else 7,
            10 if i == 0 else 2,
            0 if i == 0 else 1,
            10 + 3 * i,
            2000,
            5,
        )
        for i, s in enumerate(snaps)
    )
    warns = tuple(CoverageWarning(snaps[i].snapshot_id, "low_kth", "partial") for i in partial)
    return TurnoverResult(registry, snaps, 10, "id", True, "paper", steps, 10 + 3 * (n - 1), warns)


def _tick_texts(ax) -> list[str]:
    return [t.get_text() for t in ax.get_xticklabels() if t.get_text()]


def test_turnover_panels_log_scale_legend_and_partial_marker():
    fig = turnover_figure([_turnover("hf", 4, partial=(2,)), _turnover("pypi", 4)])
    ax_hf, ax_pypi = fig.axes[:2]
    assert ax_hf.get_yscale() == "log" and ax_pypi.get_yscale() == "log"
    assert ax_hf.get_title().startswith("Hugging Face") and ax_pypi.get_title().startswith("PyPI")
    assert "19 distinct ever" in ax_hf.get_title() and "top 10, 4 snapshots" in ax_hf.get_title()
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend[:4] == ["Remained", "Newcomers", "Returning", "possibly partial listing"]
    assert "ranking measure or window changes" not in legend  # nothing changed here
    rate_hf = fig.axes[2]  # the per-year row under the counts carries the dates
    assert _tick_texts(rate_hf) == ["2020-01-01", "2020-01-08", "2020-01-15", "2020-01-22"]  # one month: full dates
    assert _tick_texts(ax_hf) == []
    assert [b.get_height() for b in ax_hf.patches[4:8]] == [10, 2, 2, 2]  # newcomers bars


def test_turnover_figure_draws_changes_repeats_and_yearly_rates():
    res = _turnover("npm", 4)
    snaps = res.snapshots
    steps = list(res.steps)
    # step 2 changes the ranking measure; every later step: 3 of 10 left over 7 days
    steps = [
        dataclasses.replace(
            s,
            gap_days=None if i == 0 else 7,
            turnover_share=None if i == 0 else 0.3,
            turnover_per_year=None if i == 0 else 1 - 0.7 ** (365.25 / 7),
            flags=("measure",) if i == 2 else (),
        )
        for i, s in enumerate(steps)
    ]
    warn = CoverageWarning(snaps[2].snapshot_id, "measure", "changes", snaps[1].snapshot_id)
    res = dataclasses.replace(res, steps=tuple(steps), warnings=(warn,), dropped=("npm-x",))
    fig = turnover_figure([res])
    ax, rax = fig.axes[0], fig.axes[1]
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "ranking measure or window changes" in legend
    # a dashed line between snapshots 1 and 2 in both rows
    for a in (ax, rax):
        assert [ln.get_xdata()[0] for ln in a.lines if ln.get_linestyle() == "--"] == [1.5]
    assert "1 repeated list(s) left out" in ax.get_title()
    # the per-year dots: filled for comparable steps, hollow for the changed one; y is a share
    dots = [ln for ln in rax.lines if ln.get_marker() == "o"]
    assert [round(float(d.get_ydata()[0]), 6) for d in dots] == [round(1 - 0.7 ** (365.25 / 7), 6)] * 3
    assert [d.get_markerfacecolor() == "none" for d in dots] == [False, True, False]
    assert rax.get_ylim()[1] <= 1.05 and "per year" in rax.get_title()


def test_turnover_with_many_snapshots_stays_readable():
    """164 PyPI listings as bars were an unreadable comb of overlapping labels."""
    fig = turnover_figure([_turnover("hf", 5), _turnover("pypi", 164, partial=(1, 2))])
    ax_hf, ax_pypi = fig.axes[:2]
    assert len(_tick_texts(ax_pypi)) <= MAX_TICK_LABELS
    assert not ax_pypi.patches and len(ax_pypi.lines) >= 3  # lines, not 492 bars
    # the many-snapshot panel is wider than the small one
    assert ax_pypi.get_position().width > 1.5 * ax_hf.get_position().width
    assert fig.get_size_inches()[0] <= 14.0


def _pres(mode: str) -> PreservationResult:
    rows = (LibraryRate("transformers", 0.75, 3, 4, 2, 2, 0.5, 1.0), LibraryRate("tf", 0.25, 1, 4, 2, 2, 0.0, 0.5))
    return PreservationResult(SnapshotRef("hf-x", "hf", dt.date(2022, 2, 15), 10), mode, rows, 100, 0, 0.95, 1)


@pytest.mark.parametrize("mode", ["paper", "artifact"])
def test_preservation_counts_on_bars_and_mode_in_labels(mode):
    fig = preservation_figure(_pres(mode))
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.texts]
    assert "3/4" in texts and "1/4" in texts
    assert [round(b.get_height(), 2) for b in ax.patches] == [0.75, 0.25]
    assert mode in ax.get_title()
    assert ("$P_L$" in ax.get_ylabel()) == (mode == "paper")


def test_descendants_log_axes_fit_line_and_no_empty_count_stripes(tmp_path):
    pairs = tmp_path / "pairs.csv"
    rng = np.random.default_rng(1)
    x = rng.integers(1, 10**6, 300)
    y = rng.integers(1, 40, 300)
    pairs.write_text("downloads,count\n" + "".join(f"{a},{b}\n" for a, b in zip(x, y, strict=False)))
    res = descendants_from_pairs(pairs, n_boot=0)
    fig = descendants_figure(res)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    (label,) = [t.get_text() for t in ax.get_legend().get_texts()]
    assert f"{res.fit.slope:.3f}" in label and "n=300" in label
    # counts are integers: each small count gets a bin of its own (log bins left empty stripes between 1 and 2)
    counts_per_row = ax.collections[0].get_array().reshape(-1, 29).sum(axis=1)  # rows = count bins
    assert counts_per_row[0] == (y == 1).sum() and counts_per_row[1] == (y == 2).sum()
    assert ax.get_ylim()[0] < 1
    out = save(fig, tmp_path / "d.png")
    assert out.stat().st_size > 1000
