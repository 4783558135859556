"""Hand-built snapshots with any canonical tables (cards, commits, dependents ...) for the metric tests."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from ptmscope.schema import Snapshot, SnapshotBatch, make_snapshot_id, to_table
from ptmscope.store import Store


def add_tables(
    store: Store,
    date: str,
    tables: dict[str, dict[str, list[Any]]],
    *,
    registry: str = "hf",
    notes: str | None = None,
    name: str = "t",
) -> str:
    """One snapshot whose tables are given as column lists (``packages`` required; raw_id defaults to package_id)."""
    taken = dt.date.fromisoformat(date)
    sha = hashlib.sha256(repr((registry, date, name, sorted(tables))).encode()).hexdigest()
    sid = make_snapshot_id(registry, taken, sha)
    built = {}
    for table, cols in tables.items():
        cols = dict(cols)
        if table == "packages":
            cols.setdefault("raw_id", list(cols["package_id"]))
        if table == "lineage":
            cols.setdefault("parent_ref", list(cols["parent_id"]))
            cols.setdefault("relation", ["finetune"] * len(cols["child"]))
            cols.setdefault("origin", ["card_yaml"] * len(cols["child"]))
        if table == "cards":
            cols.setdefault("missing", [t is None for t in cols["text"]])
        built[table] = to_table(table, cols, sid)
    n = built["packages"].num_rows
    snap = Snapshot(sid, registry, taken, "test", f"{name}-{date}.test", sha, n, "test", notes=notes)
    store.add_batch(SnapshotBatch(snap, built))
    return sid
