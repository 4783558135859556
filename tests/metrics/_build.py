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
    return {"package_id": ids, "downloads": downloads if downloads is not None else [None] * len(ids),
            "rank": None if downloads is not None else list(range(1, len(ids) + 1))}


def open_store(path: Path) -> Store:
    return Store(path)
