"""Issue 6's extra metrics give the same numbers on PySpark as on DuckDB (the
ones whose Ibis expressions use string, regex and date functions).  Lives here
to share this folder's single Spark session; the world comes from
tests/report/world.py."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.spark


def _same(a, b, path="") -> None:
    if isinstance(a, dict):
        assert set(a) == set(b), path
        for k in a:
            _same(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            _same(x, y, f"{path}.{i}")
    elif isinstance(a, float) and isinstance(b, float):
        assert (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12), path
    else:
        assert a == b, path


def test_growth_concentration_naming_spark_equals_duckdb(spark, tmp_path):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "report"))
    from world import make_world

    from ptmscope.engine import connect
    from ptmscope.metrics.concentration import concentration
    from ptmscope.metrics.growth import growth
    from ptmscope.metrics.naming import naming
    from ptmscope.spark import connect_spark

    path = make_world(tmp_path / "world.duckdb", n=120)
    sp = connect_spark(path, session=spark.newSession())
    duck = connect(path)
    for fn in (naming, growth, concentration):
        _same(fn(duck).to_dict(), fn(sp).to_dict(), fn.__name__)
