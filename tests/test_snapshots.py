"""Choosing snapshots by id, unique prefix, date, --since/--until and --every, the same in the CLI and Python."""

from __future__ import annotations

import csv
import datetime as dt
import json
import sys
from pathlib import Path

import pytest

import ptmscope
from realdata import shared_path

sys.path.insert(0, str(Path(__file__).parent / "metrics"))

from metric_tables import add_snapshot

from ptmscope.errors import PtmscopeError
from ptmscope.store import Store

PYPI_DATES = ["2019-01-04", "2019-01-18", "2019-07-05", "2020-01-03", "2020-06-30", "2020-12-20", "2022-03-01"]


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sel") / "s.duckdb"
    with Store(path) as st:
        for i, d in enumerate(PYPI_DATES):
            add_snapshot(st, "pypi", d, {"package_id": ["a", "b", f"c{i}"], "downloads": [30, 20, 10]})
        add_snapshot(st, "npm", "2019-01-04", {"package_id": ["x", "y"], "downloads": [2, 1]})
    return path


def _ids(store: Path, **kw) -> list[str]:
    with ptmscope.open_store(store) as st:
        return [s.snapshot_id for s in st.select_snapshots(**kw)]


def _dates(store: Path, **kw) -> list[str]:
    with ptmscope.open_store(store) as st:
        return [s.taken_at.isoformat() for s in st.select_snapshots(**kw)]


def nearest_each_period(dates: list[str], months: int) -> list[str]:
    """Independent oracle of --every: the date nearest each period start, within half a period, used once."""
    ds = sorted(dt.date.fromisoformat(d) for d in dates)
    first = ds[0]
    start = dt.date(first.year, (first.month - 1) // months * months + 1, 1)
    half = months * 30.44 / 2
    out: list[dt.date] = []
    while (start - ds[-1]).days <= half:
        best = min(ds, key=lambda d: (abs((d - start).days), d))
        if abs((best - start).days) <= half and best not in out:
            out.append(best)
        m = start.month - 1 + months
        start = dt.date(start.year + m // 12, m % 12 + 1, 1)
    return [d.isoformat() for d in sorted(out)]


def test_ids_prefixes_and_dates(store):
    all_pypi = _ids(store, registry="pypi")
    assert len(all_pypi) == len(PYPI_DATES)
    one = all_pypi[3]
    assert _ids(store, registry="pypi", snapshots=one) == [one]
    assert _ids(store, registry="pypi", snapshots="pypi-2019-07-05") == [all_pypi[2]]  # unique prefix
    assert _dates(store, registry="pypi", snapshots="2020-06-30,2019-01-04") == ["2019-01-04", "2020-06-30"]
    # a date names every registry's snapshot of that day unless the registry is given
    assert sorted(s.split("-")[0] for s in _ids(store, snapshots="2019-01-04")) == ["npm", "pypi"]


def test_bad_tokens_say_what_to_do(store):
    with pytest.raises(PtmscopeError, match=r"prefix 'pypi-2019-01' is ambiguous: 2 snapshots"):
        _ids(store, registry="pypi", snapshots="pypi-2019-01")
    with pytest.raises(PtmscopeError, match=r"no pypi snapshot taken on 2019-03-01; nearest: .*2019-01-18"):
        _ids(store, registry="pypi", snapshots="2019-03-01")
    with pytest.raises(PtmscopeError, match=r"no snapshot 'nope'"):
        _ids(store, registry="pypi", snapshots="nope")
    with pytest.raises(PtmscopeError, match=r"is from registry 'npm', not 'pypi'"):
        _ids(store, registry="pypi", snapshots=_ids(store, registry="npm")[0])
    with pytest.raises(PtmscopeError, match=r"every: 'weekly' is not one of"):
        _ids(store, registry="pypi", every="weekly")


def test_since_until_every(store):
    assert _dates(store, registry="pypi", since="2019-06-01", until="2020-12-31") == [
        "2019-07-05",
        "2020-01-03",
        "2020-06-30",
        "2020-12-20",
    ]
    for every, months in (("year", 12), ("quarter", 3), ("month", 1)):
        assert _dates(store, registry="pypi", every=every) == nearest_each_period(PYPI_DATES, months), every
    # every applies inside the window
    assert _dates(store, registry="pypi", since="2020-01-01", every="year") == nearest_each_period(
        [d for d in PYPI_DATES if d >= "2020-01-01"], 12
    )


def test_cli_takes_the_same_selection(cli, store):
    code, out, err = cli(
        "metric", "turnover", "--registry", "pypi", "--top", "3", "--every", "year", "--json", "--store", store
    )
    assert code == 0, err
    used = [s["taken_at"] for s in json.loads(out)["inputs"]["snapshots"]]
    assert used == nearest_each_period(PYPI_DATES, 12)
    code, out, err = cli(
        "snapshots", "--registry", "pypi", "--since", "2020-01-01", "--format", "csv", "--store", store
    )
    assert code == 0, err
    assert [r["taken_at"] for r in csv.DictReader(out.splitlines())] == [d for d in PYPI_DATES if d >= "2020-01-01"]
    code, out, err = cli(
        "metric",
        "turnover",
        "--registry",
        "pypi",
        "--snapshots",
        "pypi-2019-01-18,2020-06-30",
        "--json",
        "--store",
        store,
    )
    assert code == 0, err
    assert [s["taken_at"] for s in json.loads(out)["inputs"]["snapshots"]] == ["2019-01-18", "2020-06-30"]
    code, _, err = cli("metric", "turnover", "--registry", "pypi", "--snapshots", "pypi-2019-01", "--store", store)
    assert code == 1 and "ambiguous" in err and len(err.strip().splitlines()) == 1


def test_one_snapshot_metrics_choose_among_the_selection(tmp_path):
    """A one-snapshot metric takes the selected snapshot with most usable rows, never one outside the selection."""
    from ptmscope.metrics import registry
    from ptmscope.snapshots import as_selection

    path = tmp_path / "hf.duckdb"
    with Store(path) as st:
        small = add_snapshot(st, "hf", "2022-01-15", {"package_id": ["o/a", "o/b", "p/c"], "downloads": [5, 3, 1]})
        big = add_snapshot(st, "hf", "2022-06-15", {"package_id": [f"o/m{i}" for i in range(6)], "downloads": [1] * 6})
    conc = registry.get("concentration")
    with Store(path, read_only=True) as st:
        assert conc.run(st.backend, {"n_boot": 10}).data["snapshot_id"] == big  # most usable rows
        assert conc.run(st.backend, {"n_boot": 10}, as_selection(until="2022-03-01")).data["snapshot_id"] == small
        assert conc.run(st.backend, {"n_boot": 10}, as_selection("2022-01-15")).data["snapshot_id"] == small
        with pytest.raises(PtmscopeError, match=r"no complete hf snapshot matches since 2023-01-01"):
            conc.run(st.backend, {"n_boot": 10}, as_selection(since="2023-01-01"))


@pytest.mark.realdata
def test_real_pypi_one_per_year(cli, tmp_path):
    """Issue 15: one PyPI snapshot per year 2019-2026, chosen by date, not with jq."""
    folder = shared_path("pypi/top-pypi-packages")
    rows = list(csv.DictReader((folder / "snapshots.csv").read_text(encoding="utf-8").splitlines()))
    dates = sorted({r["snapshot_date"][:10] for r in rows if r["snapshot_date"][:10] >= "2019-01-01"})
    store = tmp_path / "pypi.duckdb"
    code, _, err = cli("ingest", folder, "--store", store)
    assert code == 0, err
    code, out, err = cli(
        "snapshots",
        "--registry",
        "pypi",
        "--since",
        "2019-01-01",
        "--every",
        "year",
        "--format",
        "csv",
        "--store",
        store,
    )
    assert code == 0, err
    got = [r["taken_at"] for r in csv.DictReader(out.splitlines())]
    assert got == nearest_each_period(dates, 12)
    # one per year 2019..2026, each the snapshot nearest that year's 1 January
    assert len(got) == 8
    for year, d in zip(range(2019, 2027), got, strict=True):
        assert abs((dt.date.fromisoformat(d) - dt.date(year, 1, 1)).days) <= 183, (year, d)
