"""Build small canonical stores by hand for the metric tests."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

from ptmscope.schema import Snapshot, SnapshotBatch, make_snapshot_id, to_table
from ptmscope.store import Store


def add_snapshot(
    store: Store,
    registry: str,
    date: str,
    packages: dict[str, list[Any]],
    *,
    libraries: dict[str, list[Any]] | None = None,
    lineage: dict[str, list[Any]] | None = None,
    notes: str | None = None,
) -> str:
    """Add one snapshot with the given column lists; returns its id."""
    taken = dt.date.fromisoformat(date)
    sha = hashlib.sha256(repr((registry, date, packages, libraries, lineage)).encode()).hexdigest()
    sid = make_snapshot_id(registry, taken, sha)
    n = len(next(iter(packages.values()))) if packages else 0
    pk = dict(packages)
    pk.setdefault("raw_id", list(pk["package_id"]))
    tables = {"packages": to_table("packages", pk, sid)}
    if libraries:
        tables["package_libraries"] = to_table("package_libraries", libraries, sid)
    if lineage:
        lin = dict(lineage)
        lin.setdefault("parent_ref", list(lin["parent_id"]))
        lin.setdefault("relation", ["finetune"] * len(lin["child"]))
        lin.setdefault("origin", ["synthetic"] * len(lin["child"]))
        tables["lineage"] = to_table("lineage", lin, sid)
    snap = Snapshot(
        snapshot_id=sid,
        registry=registry,
        taken_at=taken,
        source_format="test",
        source_file=f"{registry}-{date}.test",
        source_sha256=sha,
        row_count=n,
        importer_version="test",
        notes=notes,
        synthetic=True,
    )
    store.add_batch(SnapshotBatch(snap, tables))
    return sid


def ranked(ids: list[str], downloads: list[int | None] | None = None) -> dict[str, list[Any]]:
    return {
        "package_id": ids,
        "downloads": downloads if downloads is not None else [None] * len(ids),
        "rank": None if downloads is not None else list(range(1, len(ids) + 1)),
    }


def open_store(path: Path) -> Store:
    return Store(path)


def mem_backend(snapshots: list[tuple[str, str, str]], tables: dict[str, dict[str, list[Any]]]) -> Any:
    """An in-memory Ibis DuckDB backend with canonical tables (fast, for property tests).

    ``snapshots``: (snapshot_id, registry, YYYY-MM-DD); ``tables``: name -> column lists
    including ``snapshot_id``.
    """
    import ibis
    import pyarrow as pa

    from ptmscope.schema import ALIASES, DATA_TABLES

    con = ibis.duckdb.connect()
    snap = pa.table(
        {
            "snapshot_id": [s[0] for s in snapshots],
            "registry": [s[1] for s in snapshots],
            "taken_at": pa.array([dt.date.fromisoformat(s[2]) for s in snapshots], pa.date32()),
            "row_count": pa.array([0] * len(snapshots), pa.int64()),
            "notes": pa.array([None] * len(snapshots), pa.string()),
            "status": ["complete"] * len(snapshots),
        }
    )
    con.create_table("snapshots", snap)
    for name, schema in {**DATA_TABLES, "aliases": ALIASES}.items():
        cols = tables.get(name, {})
        n = len(next(iter(cols.values()))) if cols else 0
        arrays = [pa.array(cols[f.name], f.type) if f.name in cols else pa.nulls(n, f.type) for f in schema]
        con.create_table(name, pa.Table.from_arrays(arrays, schema=schema))
    return con
