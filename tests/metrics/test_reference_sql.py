"""Every metric's point estimate against an independent oracle: hand-written DuckDB SQL on a synthetic world.

The queries are those of ``benchmarks/reference_sql.py`` (the limit the
benchmark times the library against): written without Ibis and without the
library's code paths, so a change of any metric's numbers fails here.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from ptmscope.engine import connect
from ptmscope.synth import SynthConfig, write_store

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import reference_sql as rs


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any]:
    path = tmp_path_factory.mktemp("world") / "w.duckdb"
    write_store(path, SynthConfig(models=6000, snapshots=3, seed=3, cards="none"))
    return rs.connect_duckdb(str(path)), connect(path)


# growth's curve fits take seconds whatever the data: its monthly counts are checked below instead
@pytest.mark.parametrize("name", sorted(set(rs.REFERENCES) - {"growth"}))
def test_library_gives_the_hand_written_sqls_numbers(world: tuple[Any, Any], name: str):
    con, backend = world
    ref, lib = rs.REFERENCES[name]
    want, got = ref(con), lib(backend)
    assert rs.same(want, got), f"{name}:\n  SQL:     {want}\n  library: {got}"


def test_monthly_counts_of_growth(world: tuple[Any, Any]):
    from ptmscope.metrics.growth import monthly_counts

    con, backend = world
    want = rs.ref_growth_counts(con)
    got = monthly_counts(backend, want["snapshot_id"])
    assert {m.isoformat()[:7]: n for m, n in got.items()} == want["counts"]


def test_the_comparison_can_fail(world: tuple[Any, Any]):
    con, _ = world
    want = rs.ref_turnover(con, "hf")
    other = {**want, "distinct_ever": want["distinct_ever"] + 1}
    assert not rs.same(want, other)
    assert not rs.same(1.0, 1.0 + 1e-6)
