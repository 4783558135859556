"""The store: transactional, idempotent, refuses silent replacement."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

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


# -- DuckDB memory limit and spill folder -----------------------------------------


def _meminfo_bytes() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no MemTotal")


def _setting_bytes(con, name: str) -> float:
    value, unit = con.execute(f"SELECT current_setting('{name}')").fetchone()[0].split()
    return float(value) * {"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}[unit]


@pytest.fixture
def engine_env(monkeypatch):
    from ptmscope.store import set_engine_defaults

    monkeypatch.delenv("PTMSCOPE_MEMORY_LIMIT", raising=False)
    monkeypatch.delenv("PTMSCOPE_TEMP_DIRECTORY", raising=False)
    set_engine_defaults()
    yield monkeypatch
    set_engine_defaults()


def test_default_memory_limit_is_a_quarter_of_ram_at_most_1gib_and_spills_beside_the_store(store_path, engine_env):
    with Store(store_path) as s:
        want = min(_meminfo_bytes() / 4, 1 << 30)
        assert _setting_bytes(s.con, "memory_limit") == pytest.approx(want, rel=0.05 if want >= 1 << 30 else 0.002)
        assert s.con.execute("SELECT current_setting('temp_directory')").fetchone()[0] == str(store_path) + ".tmp"
    with Store(store_path, read_only=True) as s:  # read-only connections get it too
        assert _setting_bytes(s.con, "memory_limit") == pytest.approx(want, rel=0.05 if want >= 1 << 30 else 0.002)


def test_memory_limit_from_the_environment_and_arguments(store_path, tmp_path, engine_env):
    engine_env.setenv("PTMSCOPE_MEMORY_LIMIT", "300MB")
    engine_env.setenv("PTMSCOPE_TEMP_DIRECTORY", str(tmp_path / "spill"))
    with Store(store_path) as s:
        assert _setting_bytes(s.con, "memory_limit") == pytest.approx(300e6, rel=0.002)
        assert s.con.execute("SELECT current_setting('temp_directory')").fetchone()[0] == str(tmp_path / "spill")
    with Store(store_path, memory_limit="10%", temp_directory=tmp_path / "x") as s:
        # DuckDB shows GiB with one decimal
        assert _setting_bytes(s.con, "memory_limit") == pytest.approx(_meminfo_bytes() / 10, rel=0.05)
    engine_env.setenv("PTMSCOPE_MEMORY_LIMIT", "plenty")
    with pytest.raises(StoreError, match="PTMSCOPE_MEMORY_LIMIT: expected a size"):
        Store(store_path)
    with pytest.raises(StoreError, match="below the minimum"):
        Store(store_path, memory_limit="1MB")


def test_cli_memory_limit_and_temp_dir_apply_to_every_store(store_path, tmp_path, engine_env, cli):
    with Store(store_path):
        pass
    code, _, err = cli("--memory-limit", "a lot", "snapshots", "--store", str(store_path))
    assert code == 1 and err.strip().startswith("error: --memory-limit:") and len(err.strip().splitlines()) == 1
    code, _, err = cli(
        "--memory-limit", "200MiB", "--temp-dir", str(tmp_path / "sp"), "snapshots", "--store", str(store_path)
    )
    assert code == 0, err
    with Store(store_path, read_only=True) as s:  # the process-wide setting the option made
        assert _setting_bytes(s.con, "memory_limit") == 200 << 20
        assert s.con.execute("SELECT current_setting('temp_directory')").fetchone()[0] == str(tmp_path / "sp")


def test_a_query_beyond_the_limit_spills_into_the_temp_directory(store_path, tmp_path, engine_env):
    spill = tmp_path / "spill"
    with Store(store_path, memory_limit="128MiB", temp_directory=spill) as s:
        n, total = s.con.execute(
            "SELECT count(*), sum(len(v)) FROM (SELECT i, repeat('x', 64) || i AS v FROM range(1500000) t(i) "
            "ORDER BY v DESC)"
        ).fetchone()
        assert n == 1_500_000
        assert total == sum(64 + len(str(i)) for i in range(1_500_000))
        assert spill.is_dir()  # DuckDB created it to spill the sort


def test_bulk_writes_cap_the_pool_and_restore_the_settings_even_after_spilling(store_path, tmp_path, engine_env):
    from ptmscope.store import BULK_WRITE_MEMORY

    with Store(store_path, memory_limit="2GB", temp_directory=tmp_path / "spill") as s:
        with s.bulk_writes():
            assert _setting_bytes(s.con, "memory_limit") == BULK_WRITE_MEMORY
            s.con.execute("CREATE TABLE t AS SELECT i, repeat('y', 200) || i AS v FROM range(1500000) t(i)")
            assert s.con.execute("SELECT count(DISTINCT v) FROM t").fetchone()[0] == 1_500_000
            assert (tmp_path / "spill").is_dir()  # it spilled: the folder cannot be switched any more
        assert _setting_bytes(s.con, "memory_limit") == pytest.approx(2e9, rel=0.05)
        assert s.con.execute("SELECT current_setting('preserve_insertion_order')").fetchone()[0] is True


def test_a_snapshot_of_an_older_importer_is_re_imported_from_the_same_file(tmp_path, cli):
    """The importer's output changed (version bumped): the same file again replaces the old rows, same id."""
    import duckdb

    src = tmp_path / "listing.csv"
    src.write_text("model,downloads\na/x,5\nb/y,3\n", encoding="utf-8")
    store = tmp_path / "s.duckdb"
    code, out, err = cli("ingest", src, "--date", "2022-01-01", "--store", store, "--json")
    assert code == 0, err
    sid = json.loads(out)["results"][0]["snapshot_id"]
    con = duckdb.connect(str(store))
    con.execute("UPDATE snapshots SET importer_version = '0' WHERE snapshot_id = ?", [sid])
    con.execute("DELETE FROM packages WHERE snapshot_id = ? AND package_id = 'b/y'", [sid])  # what v0 left out
    con.close()
    code, out, err = cli("ingest", src, "--date", "2022-01-01", "--store", store, "--json")
    assert code == 0, err
    r = json.loads(out)["results"][0]
    assert r["snapshot_id"] == sid and r["created"] is True
    assert any("re-imported" in w and "version 0" in w for w in r["warnings"])
    con = duckdb.connect(str(store), read_only=True)
    assert con.execute("SELECT count(*) FROM packages WHERE snapshot_id = ?", [sid]).fetchone()[0] == 2
    assert con.execute("SELECT count(*) FROM snapshots").fetchone()[0] == 1
    con.close()
    code, out, err = cli("ingest", src, "--date", "2022-01-01", "--store", store, "--json")
    assert json.loads(out)["results"][0]["created"] is False  # same version now: nothing to do


def _free_blocks(con) -> int:
    return con.execute("SELECT free_blocks FROM pragma_database_size()").fetchone()[0]


def test_a_wide_rows_insert_leaves_no_free_space_in_the_file(store_path, engine_env):
    """Two threads end with a partial row group each; merging them at the commit's checkpoint rewrites the
    row groups between them and leaves the old blocks free (measured: half a synthetic world's card text)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    n, step = 1_000_000, 50_000
    ids = pc.binary_join_element_wise("u/m-", pa.array(range(n)).cast(pa.string()), "")

    def chunks():
        for lo in range(0, n, step):
            part = ids.slice(lo, step)
            m = len(part)
            yield pa.table(
                {
                    "snapshot_id": pa.nulls(m, pa.string()),
                    "package_id": part,
                    "text": part,
                    "text_sha256": pa.nulls(m, pa.string()),
                    "missing": pa.repeat(pa.scalar(False), m),
                }
            )

    with Store(store_path, memory_limit="1GB") as s:
        s.con.execute("SET threads = 2")
        with s.bulk_writes():
            with s.transaction(), s.wide_rows():
                s.append_stream("cards", chunks(), "s1")
            s.con.execute("CHECKPOINT")
        assert s.con.execute("SELECT count(*), count(DISTINCT package_id) FROM cards").fetchone() == (n, n)
        groups = s.con.execute("SELECT count(DISTINCT row_group_id) FROM pragma_storage_info('cards')").fetchone()[0]
        assert groups == -(-n // 122_880)  # one partial row group, the last
        assert _free_blocks(s.con) == 0


def test_wide_rows_one_thread_and_a_pool_for_a_row_group_then_back(store_path, engine_env):
    from ptmscope.store import BULK_WRITE_MEMORY, WIDE_ROWS_MEMORY

    with Store(store_path, memory_limit="2GB") as s:
        s.con.execute("SET threads = 3")
        with s.bulk_writes():
            with s.wide_rows():
                assert s.con.execute("SELECT current_setting('threads')").fetchone()[0] == 1
                assert _setting_bytes(s.con, "memory_limit") == WIDE_ROWS_MEMORY
            assert s.con.execute("SELECT current_setting('threads')").fetchone()[0] == 3
            assert _setting_bytes(s.con, "memory_limit") == BULK_WRITE_MEMORY
        assert _setting_bytes(s.con, "memory_limit") == pytest.approx(2e9, rel=0.05)
    with Store(store_path, memory_limit="200MiB") as s, s.bulk_writes(), s.wide_rows():
        assert _setting_bytes(s.con, "memory_limit") == 200 << 20  # never above the store's own limit


@pytest.mark.parametrize("first", ["x/new-b", "x/new-a"])
def test_an_alias_stored_twice_resolves_the_same_in_the_store_and_the_metrics(tmp_path, first):
    """Two canonical ids for one alias: the insertion order must not decide, and both readers must agree."""
    from ptmscope.engine import connect
    from ptmscope.metrics._common import alias_map

    other = "x/new-a" if first == "x/new-b" else "x/new-b"
    path = tmp_path / "s.duckdb"
    with Store(path) as s:
        s.add_aliases("hf", [("x/old", first)], origin="test")
        s.add_aliases("hf", [("x/old", other), ("x/same", "x/same")], origin="test")
    with Store(path, read_only=True) as s:
        stored = s.aliases("hf")
    assert stored["x/old"] == "x/new-b"  # the larger canonical id, whichever came first
    assert "x/same" not in stored  # identity rows say nothing
    assert alias_map(connect(str(path)), "hf")["x/old"] == stored["x/old"]
