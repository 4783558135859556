"""The store: transactional, idempotent, refuses silent replacement."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from ptmscope.errors import StoreError
from ptmscope.schema import Snapshot, SnapshotBatch, make_snapshot_id, to_table
from ptmscope.store import Store


def _batch(ids: list[str], sha_seed: str = "a", date: str = "2022-02-15", fname: str = "x.json") -> SnapshotBatch:
    sha = hashlib.sha256(sha_seed.encode()).hexdigest()
    taken = dt.date.fromisoformat(date)
    sid = make_snapshot_id("hf", taken, sha)
    snap = Snapshot(sid, "hf", taken, "hf-api", fname, sha, len(ids), "test")
    pk = to_table("packages", {"package_id": ids, "raw_id": ids, "downloads": list(range(len(ids)))}, sid)
    return SnapshotBatch(snap, {"packages": pk})


def test_add_batch_writes_rows_and_is_idempotent(store_path):
    with Store(store_path) as s:
        r1 = s.add_batch(_batch(["a/x", "b/y"]))
        r2 = s.add_batch(_batch(["a/x", "b/y"]))
        assert r1.created and not r2.created and r1.snapshot_id == r2.snapshot_id
        assert s.table("packages").count().execute() == 2
        assert [x.snapshot_id for x in s.snapshots()] == [r1.snapshot_id]


def test_changed_file_same_name_is_refused_then_replaced(store_path):
    with Store(store_path) as s:
        s.add_batch(_batch(["a/x"], "a"))
        with pytest.raises(StoreError, match="different content"):
            s.add_batch(_batch(["a/x", "c/z"], "b"))
        assert s.table("packages").count().execute() == 1
        r = s.add_batch(_batch(["a/x", "c/z"], "b"), replace=True)
        assert [x.snapshot_id for x in s.snapshots()] == [r.snapshot_id]
        assert s.table("packages").count().execute() == 2


def test_failed_write_leaves_no_trace(store_path):
    with Store(store_path) as s:
        b = _batch(["a/x"])
        b.tables["lineage"] = b.tables["packages"]  # wrong schema: fails mid-transaction
        with pytest.raises(StoreError):
            s.add_batch(b)
        assert s.snapshots(include_incomplete=True) == []
        assert s.table("packages").count().execute() == 0


def test_read_only_refuses_missing_store(tmp_path):
    with pytest.raises(StoreError, match="no store"):
        Store(tmp_path / "nope.duckdb", read_only=True)


def test_has_table(store_path):
    with Store(store_path) as s:
        assert s.has_table("packages")
        assert not s.has_table("card_scores_nope")
    with Store(store_path, read_only=True) as s:
        assert s.has_table("lineage")
