"""The PySpark engine: the store's tables in a Spark session, behind an Ibis backend.

:func:`connect_spark` exports every table of a store (the canonical ones and
any feature tables such as card scores) to Parquet with DuckDB, registers
each as a Spark temporary view under the same name, and returns
``ibis.pyspark.connect(session)``.  Metric code written as Ibis expressions
then runs unchanged on Spark.

Local mode (the default, ``local[*]``) needs only the ``[spark]`` extra and a
Java 17+ runtime.  For a cluster pass ``master="spark://host:7077"`` (or
``yarn``) and ``export_dir=`` on a file system every executor can read (a
shared mount); the default export goes to a local temporary folder, which only
a local session can see.  The export folder is removed when the Python process
exits (or by :func:`close_spark`).

Spark settings: ``conf`` entries override the defaults below, which keep a
local session small and quiet (UI off, 4 shuffle partitions, warehouse in a
temporary folder, UTC session time zone).  Without code changes (e.g. from
the CLI's ``--engine spark``), ``PTMSCOPE_SPARK_MASTER`` sets the master URL,
``PTMSCOPE_SPARK_CONF`` adds settings as ``key=value;key=value`` and
``PTMSCOPE_SPARK_EXPORT_DIR`` names a folder (on storage the executors share)
in which each run exports into a fresh sub-folder, removed at exit.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from .errors import PtmscopeError, StoreError

DEFAULT_CONF: dict[str, str] = {
    "spark.sql.shuffle.partitions": "4",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.driver.memory": "2g",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    # Spark parses dates and timestamps the modern way; Parquet from DuckDB is already proleptic
    "spark.sql.parquet.datetimeRebaseModeInRead": "CORRECTED",
    "spark.sql.parquet.int96RebaseModeInRead": "CORRECTED",
}

EXPORT_DIR_ENV = "PTMSCOPE_SPARK_EXPORT_DIR"

_TEMP_DIRS: list[str] = []


def _cleanup() -> None:
    for d in _TEMP_DIRS:
        shutil.rmtree(d, ignore_errors=True)
    _TEMP_DIRS.clear()


atexit.register(_cleanup)


def _env_conf() -> dict[str, str]:
    raw = os.environ.get("PTMSCOPE_SPARK_CONF", "").strip()
    out: dict[str, str] = {}
    for item in filter(None, (x.strip() for x in raw.split(";"))):
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise PtmscopeError(f"PTMSCOPE_SPARK_CONF: expected key=value, got {item!r}")
        out[key.strip()] = value.strip()
    return out


def spark_session(master: str | None = None, conf: dict[str, str] | None = None, app_name: str = "ptmscope") -> Any:
    """A (possibly existing) SparkSession with ptmscope's defaults and quiet logs."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - depends on the extra
        raise PtmscopeError("the spark engine needs the [spark] extra: pip install 'ptmscope[spark]'") from exc
    settings = dict(DEFAULT_CONF)
    if "spark.sql.warehouse.dir" not in (conf or {}):
        wh = tempfile.mkdtemp(prefix="ptmscope-spark-warehouse-")
        _TEMP_DIRS.append(wh)
        settings["spark.sql.warehouse.dir"] = wh
    settings.update(_env_conf())
    settings.update(conf or {})
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # workers use this interpreter
    builder = SparkSession.builder.appName(app_name).master(
        master or os.environ.get("PTMSCOPE_SPARK_MASTER", "local[*]")
    )
    for k, v in settings.items():
        builder = builder.config(k, v)
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # JVM missing, bad master URL ...
        raise PtmscopeError(f"cannot start Spark (master {master or 'local[*]'}): {exc}") from exc
    session.sparkContext.setLogLevel("ERROR")
    return session


def export_store(store_path: str | Path | None, export_dir: str | Path) -> dict[str, Path]:
    """Write every table of the store to ``export_dir/<table>.parquet``; returns name -> path."""
    from .store import Store

    out = Path(export_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    with Store(store_path, read_only=True) as store:
        con = store.con
        names = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY table_name"
            ).fetchall()
        ]
        for name in names:
            p = out / f"{name}.parquet"
            # identifiers come from the catalogue, quoted; the path is a parameter-free literal we made
            con.execute(f"COPY (SELECT * FROM \"{name}\") TO '{p.as_posix()}' (FORMAT PARQUET, COMPRESSION ZSTD)")
            paths[name] = p
    return paths


def connect_spark(
    store_path: str | Path | None = None,
    master: str | None = None,
    conf: dict[str, str] | None = None,
    *,
    session: Any = None,
    export_dir: str | Path | None = None,
    **options: Any,
) -> Any:
    """An Ibis PySpark backend exposing the store's tables under their own names.

    ``session`` reuses a SparkSession (tests share one); otherwise one is
    created with ``master`` and ``conf``.  Views of an earlier store in the
    same session are replaced.
    """
    import ibis

    from .store import resolve_store_path

    if options:
        raise PtmscopeError(f"unknown spark option(s): {', '.join(sorted(options))}")
    path = resolve_store_path(store_path)
    if not path.exists():
        raise StoreError(f"{path}: no store here (run `ptmscope ingest` first, or pass --store)")
    if export_dir is None:
        shared = os.environ.get(EXPORT_DIR_ENV, "").strip() or None
        if shared:
            try:
                Path(shared).mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise PtmscopeError(f"{EXPORT_DIR_ENV}: cannot create {shared}: {exc}") from exc
        export_dir = tempfile.mkdtemp(prefix="ptmscope-spark-export-", dir=shared)
        _TEMP_DIRS.append(str(export_dir))
    paths = export_store(path, export_dir)
    spark = session if session is not None else spark_session(master, conf)
    for name, p in paths.items():
        spark.read.parquet(str(p)).createOrReplaceTempView(name)
    backend = ibis.pyspark.connect(spark)
    backend._ptmscope_export_dir = str(export_dir)  # for close_spark and debugging
    return backend


def close_spark(backend: Any, *, stop: bool = False) -> None:
    """Drop the temporary export of ``backend``; ``stop=True`` also stops its Spark session."""
    d = getattr(backend, "_ptmscope_export_dir", None)
    if stop:
        backend._session.stop()
    if d and d in _TEMP_DIRS:
        shutil.rmtree(d, ignore_errors=True)
        _TEMP_DIRS.remove(d)
