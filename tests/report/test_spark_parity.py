"""The extra metrics give the same numbers on PySpark as on DuckDB (the three whose
Ibis expressions use string, regex and date functions; attributes and underdoc
only join and pull, checked by hand once: same numbers)."""

from __future__ import annotations

import math
import shutil

import pytest

pytestmark = [pytest.mark.spark, pytest.mark.slow]


def _same(a, b, path="") -> None:
    if isinstance(a, dict):
        assert set(a) == set(b), path
        for k in a:
            _same(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            _same(x, y, f"{path}.{i}")
    elif isinstance(a, float) and isinstance(b, float):
        assert (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12), path
    else:
        assert a == b, path


def test_extra_metrics_spark_equals_duckdb(world_store, tmp_path):
    pytest.importorskip("pyspark", reason="pyspark not installed (extra [spark])")
    if shutil.which("java") is None:
        pytest.skip("no Java runtime on PATH (Spark needs Java 17+)")
    from ptmscope.engine import connect
    from ptmscope.metrics.concentration import concentration
    from ptmscope.metrics.growth import growth
    from ptmscope.metrics.naming import naming
    from ptmscope.spark import spark_session

    session = spark_session(
        "local[1]",
        {"spark.sql.warehouse.dir": str(tmp_path / "wh"), "spark.sql.shuffle.partitions": "2",
         "spark.driver.memory": "1g"},
        app_name="ptmscope-report-tests",
    )
    try:
        sp = connect(world_store, "spark", session=session)
        duck = connect(world_store)
        for fn in (naming, growth, concentration):
            _same(fn(duck).to_dict(), fn(sp).to_dict(), fn.__name__)
    finally:
        session.stop()
