"""Small stores built by hand with any canonical table (files, commits, lineage ...)."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

from ptmscope.schema import Snapshot, SnapshotBatch, make_snapshot_id, to_table
from ptmscope.store import Store


def add(store: Store, registry: str, date: str, tables: dict[str, dict[str, list[Any]]], *, fmt: str = "test") -> str:
    """Add one snapshot whose tables are given as column lists (``packages`` required); returns its id."""
    taken = dt.date.fromisoformat(date)
    sha = hashlib.sha256(repr((registry, date, sorted((k, repr(v)) for k, v in tables.items()))).encode()).hexdigest()
    sid = make_snapshot_id(registry, taken, sha)
    pk = dict(tables["packages"])
    pk.setdefault("raw_id", list(pk["package_id"]))
    arrow = {"packages": to_table("packages", pk, sid)}
    for name, cols in tables.items():
        if name == "packages":
            continue
        cols = dict(cols)
        if name == "lineage":
            n = len(cols["child"])
            cols.setdefault("parent_ref", list(cols["parent_id"]))
            cols.setdefault("relation", ["finetune"] * n)
            cols.setdefault("origin", ["card_yaml"] * n)
        arrow[name] = to_table(name, cols, sid)
    snap = Snapshot(
        snapshot_id=sid,
        registry=registry,
        taken_at=taken,
        source_format=fmt,
        source_file=f"{registry}-{date}.test",
        source_sha256=sha,
        row_count=len(pk["package_id"]),
        importer_version="test",
        synthetic=True,
    )
    store.add_batch(SnapshotBatch(snap, arrow))
    return sid


def build(path: Path, snapshots: list[tuple[str, str, dict[str, dict[str, list[Any]]]]]) -> list[str]:
    """A store file with the given (registry, date, tables) snapshots; their ids in order."""
    with Store(path) as s:
        return [add(s, reg, date, tables) for reg, date, tables in snapshots]


def utc(y: int, m: int, d: int = 1) -> dt.datetime:
    return dt.datetime(y, m, d, 12, tzinfo=dt.UTC)
