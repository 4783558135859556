"""One local Spark session for all parity tests (a JVM start costs ~10 s).

Each store gets its own ``session.newSession()``: same SparkContext, separate
temporary views, so two stores never see each other's tables.
"""

from __future__ import annotations

import shutil

import pytest


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    pytest.importorskip("pyspark", reason="pyspark not installed (extra [spark])")
    if shutil.which("java") is None:
        pytest.skip("no Java runtime on PATH (Spark needs Java 17+)")
    from ptmscope.spark import spark_session

    wh = tmp_path_factory.mktemp("spark-warehouse")
    session = spark_session(
        "local[2]",
        {
            "spark.sql.warehouse.dir": str(wh),
            "spark.sql.shuffle.partitions": "2",
            "spark.driver.memory": "1g",
            # tiny data: compiling generated code and adaptive re-planning cost more than they save
            "spark.sql.codegen.wholeStage": "false",
            "spark.sql.adaptive.enabled": "false",
        },
        app_name="ptmscope-tests",
    )
    yield session
    session.stop()
