"""authorship, transformers_adoption, pickle_only and growth give the same numbers on PySpark as on
DuckDB (windows, unnest with offsets, regexes, array columns, date truncation), on the hand-built
stores of tests/metrics."""

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
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{path}.{i}")
    elif isinstance(a, float) and isinstance(b, float):
        assert (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12), path
    else:
        assert a == b, path


def test_table3_metrics_spark_equals_duckdb(spark, tmp_path):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "metrics"))
    import test_authorship as ta
    import test_pickle_only as tp
    import test_transformers_adoption as tt

    from ptmscope.engine import connect
    from ptmscope.metrics.authorship import AuthorshipParams, authorship
    from ptmscope.metrics.growth import growth
    from ptmscope.metrics.pickle_only import PickleOnlyParams, pickle_only
    from ptmscope.metrics.transformers_adoption import AdoptionParams, adoption
    from ptmscope.spark import connect_spark

    a = ta.make_store(tmp_path / "a.duckdb")
    p = tp.make_store(tmp_path / "p.duckdb")
    t = tt.make_store(tmp_path / "t.duckdb")
    runs = [
        (a, lambda b: authorship(b, params=AuthorshipParams(top=3, n_boot=100))),
        (p, lambda b: pickle_only(b, params=PickleOnlyParams(n_boot=100))),
        (t, lambda b: adoption(b, params=AdoptionParams(recent_months=2, n_boot=100, min_models=1))),
        (t, lambda b: growth(b, min_count=1)),
    ]
    for path, fn in runs:
        duck = connect(path)
        sp = connect_spark(path, session=spark.newSession())
        _same(fn(duck).to_dict(), fn(sp).to_dict(), path.name)
