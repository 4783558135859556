"""Turnover across sources: repeated lists, measure and window changes, per-year rates, all registries."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from metric_tables import mem_backend

from ptmscope.errors import NotMeasurable
from ptmscope.metrics.turnover import annual_rate, registry_table, turnover, turnover_overview


def backend(snaps: list[tuple[str, str, list[str], list[int] | None, dict[str, Any] | None]], **extra: Any) -> Any:
    """snaps: (registry, date, ids in rank order, downloads or None, manifest or None); ids '<registry>-<date>[-n]'."""
    meta, cols, manifests = [], {"snapshot_id": [], "package_id": [], "downloads": [], "rank": []}, []
    seen: dict[str, int] = {}
    for reg, date, ids, dls, man in snaps:
        sid = f"{reg}-{date}"
        seen[sid] = seen.get(sid, 0) + 1
        sid += f"-{seen[sid]}" if seen[sid] > 1 else ""
        meta.append((sid, reg, date))
        manifests.append((sid, man))
        cols["snapshot_id"] += [sid] * len(ids)
        cols["package_id"] += ids
        cols["downloads"] += dls if dls is not None else [None] * len(ids)
        cols["rank"] += list(range(1, len(ids) + 1))
    for k, v in extra.items():
        cols[k] = v
    cols["raw_id"] = list(cols["package_id"])
    con = mem_backend(meta, {"packages": cols})
    con.raw_sql("ALTER TABLE snapshots ADD COLUMN manifest VARCHAR")
    con.raw_sql("ALTER TABLE snapshots ADD COLUMN source_format VARCHAR DEFAULT 'test'")
    for sid, man in manifests:
        if man is not None:
            con.raw_sql(f"UPDATE snapshots SET manifest = '{json.dumps(man)}' WHERE snapshot_id = '{sid}'")
    return con


NAMES = [f"p{i:02d}" for i in range(30)]


def test_a_repeated_list_is_left_out_with_a_note_naming_both():
    b = backend(
        [
            ("npm", "2023-01-01", NAMES, None, None),
            ("npm", "2023-04-01", NAMES[1:] + NAMES[:1], None, None),
            ("npm", "2023-07-01", NAMES[1:] + NAMES[:1], None, None),  # the same ranked list again
            ("npm", "2023-10-01", NAMES[2:] + NAMES[:2], None, None),
        ]
    )
    r = turnover(b, "npm", k=10)
    assert [s.snapshot_id for s in r.steps] == ["npm-2023-01-01", "npm-2023-04-01", "npm-2023-10-01"]
    assert r.dropped == ("npm-2023-07-01",)
    (w,) = [w for w in r.warnings if w.kind == "duplicate"]
    assert (w.snapshot_id, w.other_snapshot_id) == ("npm-2023-07-01", "npm-2023-04-01")
    assert "npm-2023-07-01" in w.message and "npm-2023-04-01" in w.message
    # the step after the repeat compares with the kept list: top 10 = p02..p11 vs p01..p10 -> 9 stay
    assert (r.steps[2].remained, r.steps[2].gap_days) == (9, 183)  # April to October


def test_a_top_k_that_stays_put_is_a_finding_not_a_repeat():
    tail_changes = NAMES[:10] + NAMES[20:] + NAMES[10:20]
    b = backend([("pypi", "2023-01-01", NAMES, None, None), ("pypi", "2023-02-01", tail_changes, None, None)])
    r = turnover(b, "pypi", k=10)
    assert r.dropped == () and len(r.steps) == 2
    assert (r.steps[1].remained, r.steps[1].turnover_share) == (10, 0.0)


def test_same_day_repeat_drops_the_later_release():
    # ids sort 'npm-2024-02-20' before 'npm-2024-02-20-2', but the manifest says the first is release 1.7.0
    b = backend(
        [
            ("npm", "2023-11-22", NAMES[::-1], None, {"version": "1.5.0"}),
            ("npm", "2024-02-20", NAMES, None, {"version": "1.7.0"}),
            ("npm", "2024-02-20", NAMES, None, {"version": "1.6.0"}),
        ]
    )
    r = turnover(b, "npm", k=10)
    assert r.dropped == ("npm-2024-02-20",)
    assert [s.snapshot_id for s in r.steps] == ["npm-2023-11-22", "npm-2024-02-20-2"]
    (w,) = [w for w in r.warnings if w.kind == "duplicate"]
    assert "release 1.7.0" in w.message and "release 1.6.0" in w.message


def test_ranking_measure_change_from_the_manifest_is_a_step_warning():
    b = backend(
        [
            ("npm", "2025-02-28", NAMES, None, {"ranking_measure": "npm-downloads-last-week"}),
            ("npm", "2025-06-05", NAMES[1:] + NAMES[:1], None, {"ranking_measure": "npm-downloads-last-week"}),
            ("npm", "2025-12-04", NAMES[3:] + NAMES[:3], None, {"ranking_measure": "ecosystems-downloads"}),
        ]
    )
    r = turnover(b, "npm", k=10)
    (w,) = [w for w in r.warnings if w.kind == "measure"]
    assert (w.other_snapshot_id, w.snapshot_id) == ("npm-2025-06-05", "npm-2025-12-04")
    assert "npm's last-week downloads" in w.message and "ecosyste.ms" in w.message
    assert [s.flags for s in r.steps] == [(), (), ("measure",)]
    rates = r.rates()
    assert rates["n_steps"] == 1 and rates["n_steps_all"] == 2
    assert rates["median_turnover_share"] == pytest.approx(0.1)  # p00 left at the comparable step


def test_npm_high_impact_release_gives_the_measure_in_stores_without_it():
    """Stores ingested before the importer wrote ranking_measure: the release version in the manifest decides."""
    b = backend(
        [
            ("npm", "2025-06-05", NAMES, None, {"version": "1.11.0"}),
            ("npm", "2025-12-04", NAMES[::-1], None, {"version": "1.12.0"}),
        ]
    )
    b.raw_sql("UPDATE snapshots SET source_format = 'npm-high-impact'")
    assert [w.kind for w in turnover(b, "npm", k=10).warnings] == ["measure"]


def test_window_change_names_both_snapshots_and_identical_counts_in_two_windows_are_no_repeat():
    n = len(NAMES)
    b = backend(
        [("pypi", day, NAMES, list(range(100, 100 - n, -1)), None) for day in ("2025-06-13", "2025-07-05")],
        downloads_window=["30d"] * n + ["previous-month"] * n,
    )
    r = turnover(b, "pypi", k=10)
    assert r.dropped == ()
    (w,) = r.warnings
    assert (w.kind, w.other_snapshot_id, w.snapshot_id) == ("window", "pypi-2025-06-13", "pypi-2025-07-05")
    assert "'30d'" in w.message and "'previous-month'" in w.message


def test_per_year_rates_by_hand():
    # 10 in the top; step 1: 1 leaves over 91 days; step 2: 2 leave over 365 days
    b = backend(
        [
            ("pypi", "2021-01-01", NAMES, None, None),
            ("pypi", "2021-04-02", NAMES[1:], None, None),
            ("pypi", "2022-04-02", NAMES[3:], None, None),
        ]
    )
    r = turnover(b, "pypi", k=10)
    s1, s2 = r.steps[1], r.steps[2]
    assert (s1.gap_days, s2.gap_days) == (91, 365)
    assert s1.turnover_share == pytest.approx(0.1) and s2.turnover_share == pytest.approx(0.2)
    assert s1.turnover_per_year == pytest.approx(1 - 0.9 ** (365.25 / 91))
    assert s2.turnover_per_year == pytest.approx(1 - 0.8 ** (365.25 / 365))
    rates = r.rates()
    assert rates["median_gap_days"] == 228
    assert rates["pooled_turnover_per_year"] == pytest.approx(1 - (0.9 * 0.8) ** (365.25 / 456))
    # year apart: 2021-01-01 -> 2022-04-02 is 456 days (too far); 2021-04-02 -> 2022-04-02 is 365 days
    (p,) = r.year_pairs
    assert (p.from_snapshot_id, p.to_snapshot_id, p.gap_days) == ("pypi-2021-04-02", "pypi-2022-04-02", 365)
    assert p.turnover_share == pytest.approx(0.2)  # p01, p02 gone from {p01..p10} -> {p03..p12}
    assert rates["median_turnover_year_apart"] == pytest.approx(0.2) and rates["n_year_pairs"] == 1


def test_annual_rate_edges():
    assert annual_rate(0.5, 365.25) == pytest.approx(0.5)  # type: ignore[arg-type]
    assert annual_rate(0.19, 730) == pytest.approx(1 - math.sqrt(0.81) ** (730.5 / 730))
    assert annual_rate(1.0, 30) == 1.0
    assert annual_rate(0.1, 0) is None and annual_rate(None, 30) is None


def test_overview_measures_npm_and_pypi_with_a_single_hub_snapshot():
    b = backend(
        [
            ("hf", "2022-02-21", NAMES, list(range(100, 70, -1)), None),
            ("npm", "2023-01-01", NAMES, None, None),
            ("npm", "2023-04-01", NAMES[1:], None, None),
            ("pypi", "2023-01-01", NAMES, None, None),
            ("pypi", "2024-01-01", NAMES[4:], None, None),
        ]
    )
    ov = turnover_overview(b, k=10)
    assert sorted(ov.results) == ["npm", "pypi"] and "hf" in ov.errors
    d = ov.to_dict()
    s = d["summary"]
    assert s["n_steps"] == 0 and s["median_turnover_share"] is None
    assert "needs Hub steps" in s["note"] and "npm, pypi" in s["note"]
    assert s["by_registry"]["npm"]["median_turnover_share"] == pytest.approx(0.1)
    assert s["by_registry"]["pypi"]["median_turnover_year_apart"] == pytest.approx(0.4)
    assert s["by_registry"]["hf"] == {"error": "only 1 complete hf snapshot"}
    header, rows = registry_table(d)
    assert [r[0] for r in rows] == ["hf", "npm", "pypi"] and rows[0][-1] == "only 1 complete hf snapshot"
    assert header[5] == "per year, annualised steps" and rows[2][5] == pytest.approx(0.4, abs=1e-3)


def test_overview_not_measurable_without_two_snapshots_of_any_registry():
    b = backend([("hf", "2022-02-21", NAMES, None, None), ("npm", "2023-01-01", NAMES, None, None)])
    with pytest.raises(NotMeasurable, match=r"at least two complete snapshots of one registry \(hf: 1, npm: 1\)"):
        turnover_overview(b, k=10)
