"""Turnover on the real npm and PyPI lists: the repeated npm-high-impact release and the changes of measure.

Expected pairs come from the data's own snapshots.csv (its ``duplicate_of_previous``,
``measure`` and ``window`` columns), never from ptmscope.
"""

from __future__ import annotations

import csv
import itertools
import json
from pathlib import Path

import pytest

from ptmscope.metrics.turnover import turnover
from ptmscope.sources import ingest, plan
from ptmscope.store import Store
from realdata import shared_path

pytestmark = pytest.mark.realdata


def _rows(folder: Path) -> list[dict[str, str]]:
    with open(folder / "snapshots.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _version_of(st: Store) -> dict[str, str]:
    df = st.backend.table("snapshots").select("snapshot_id", "manifest").to_pandas()
    return {r.snapshot_id: json.loads(r.manifest)["version"] for r in df.itertuples(index=False)}


@pytest.fixture(scope="module")
def npm_store(tmp_path_factory) -> Path:
    d = shared_path("npm", "npm-high-impact")
    path = tmp_path_factory.mktemp("npm") / "npm.duckdb"
    with Store(path) as st:
        ingest(st, plan(d))
    return path


def test_npm_high_impact_repeat_and_measure_change(npm_store):
    rows = _rows(shared_path("npm", "npm-high-impact"))
    key = lambda r: tuple(int(x) for x in r["version"].split("."))  # noqa: E731
    rows.sort(key=key)
    repeats = {
        (a["version"], b["version"]) for a, b in itertools.pairwise(rows) if b["duplicate_of_previous"] == "True"
    }
    changes = {(a["version"], b["version"]) for a, b in itertools.pairwise(rows) if a["measure"] != b["measure"]}
    assert repeats == {("1.6.0", "1.7.0")} and changes == {("1.11.0", "1.12.0")}  # what the data says

    with Store(npm_store, read_only=True) as st:
        version = _version_of(st)
        r = turnover(st.backend, "npm", k=1000)
    dup = [w for w in r.warnings if w.kind == "duplicate"]
    assert {(version[w.other_snapshot_id], version[w.snapshot_id]) for w in dup} == repeats
    assert [version[s] for s in r.dropped] == ["1.7.0"]
    assert "1.7.0" not in {version[s.snapshot_id] for s in r.steps} and len(r.steps) == len(rows) - 1
    measure = [w for w in r.warnings if w.kind == "measure"]
    assert {(version[w.other_snapshot_id], version[w.snapshot_id]) for w in measure} == changes
    assert "npm's last-week downloads" in measure[0].message and "ecosyste.ms" in measure[0].message
    # the flagged step is reported but left out of the medians; no step is a zero-turnover repeat any more
    flagged = [s for s in r.steps if s.flags]
    assert [version[s.snapshot_id] for s in flagged] == ["1.12.0"] and flagged[0].flags == ("measure",)
    assert all(s.remained < s.in_top for s in r.steps[1:])
    assert r.rates()["n_steps"] == len(rows) - 3  # 14 lists, one repeat, first has no step, one changed step


def test_npm_high_impact_manifest_records_the_ranking_measure(npm_store):
    rows = {r["version"]: r for r in _rows(shared_path("npm", "npm-high-impact"))}
    with Store(npm_store, read_only=True) as st:
        df = st.backend.table("snapshots").select("manifest").to_pandas()
    for m in (json.loads(x) for x in df["manifest"]):
        text = rows[m["version"]]["measure"]
        assert m["ranking_measure"] == ("ecosystems-downloads" if "ecosyste.ms" in text else "npm-downloads-last-week")


def test_pypi_window_change_2025_07(tmp_path):
    d = shared_path("pypi", "top-pypi-packages")
    rows = [r for r in _rows(d) if "2025-05-01" <= r["snapshot_date"] <= "2025-08-01"]
    changes = [
        (a["snapshot_date"], b["snapshot_date"]) for a, b in itertools.pairwise(rows) if a["backend"] != b["backend"]
    ]
    assert changes == [("2025-06-13", "2025-07-05")]  # BigQuery -> ClickHouse, per the data's README
    with Store(tmp_path / "p.duckdb") as st:
        for r in rows:
            ingest(st, plan(d / r["file"]))
        res = turnover(st.backend, "pypi", k=1000)
    (w,) = res.warnings
    assert w.kind == "window" and (w.other_snapshot_id[5:15], w.snapshot_id[5:15]) == changes[0]
    assert [s.flags for s in res.steps] == [(), (), ("window",), ()]


def test_cli_prints_the_warnings_and_json_carries_rates(cli, npm_store):
    code, out, err = cli("metric", "turnover", "--registry", "npm", "--no-sensitivity", "--store", npm_store)
    assert code == 0, err
    assert "holds the same ranked list as" in err and "the ranking measure changes" in err
    code, out, err = cli("metric", "turnover", "--registry", "npm", "--no-sensitivity", "--json", "--store", npm_store)
    d = json.loads(out)
    assert {w["kind"] for w in d["warnings"]} == {"duplicate", "measure"}
    assert len(d["dropped_snapshots"]) == 1 and d["rates"]["n_year_pairs"] >= 1
    assert all(s["turnover_per_year"] is not None for s in d["steps"][1:])
