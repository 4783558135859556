"""Store paths and store writes that fail: one line, exit 1, the store (or the non-store file) as it was.

* every command that opens a store refuses a file that is not a DuckDB
  database before doing any work (DuckDB 2 would open a CSV, JSON or Parquet
  file as an empty in-memory database, and a crawl into it "succeeded" and
  saved nothing);
* a new store in a folder that does not exist yet gets its folder;
* a disk that fills up during an ingest: rolled back, one line, store as before.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import subprocess
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ptmscope.errors import StoreError
from ptmscope.store import Store


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def _not_stores(tmp: Path) -> dict[str, Path]:
    """Files of other kinds, each given as --store."""
    csv = tmp / "t.csv"
    csv.write_text("a,b\n1,2\n")
    js = tmp / "t.json"
    js.write_text(json.dumps({"a": 1}))
    parquet = tmp / "t.parquet"
    pq.write_table(pa.table({"a": [1, 2]}), parquet)
    lite = tmp / "t.sqlite"
    con = sqlite3.connect(lite)
    con.execute("CREATE TABLE t (a INTEGER)")
    con.commit()
    con.close()
    rnd = tmp / "random.duckdb"
    rnd.write_bytes(hashlib.sha256(b"seed").digest() * 200)
    empty = tmp / "empty.duckdb"
    empty.write_bytes(b"")
    return {"csv": csv, "json": js, "parquet": parquet, "sqlite": lite, "random": rnd, "empty": empty}


KINDS = ["csv", "json", "parquet", "sqlite", "random", "empty"]


def _commands(tmp: Path, store: Path) -> dict[str, list[str]]:
    counts = tmp / "in" / "2.20250101.0_counts.json"
    counts.parent.mkdir(exist_ok=True)
    counts.write_text(json.dumps({"a": 3, "b": 1}))
    data = tmp / "data"
    data.mkdir(exist_ok=True)
    s = str(store)
    return {
        "ingest": ["ingest", str(counts), "--store", s],
        "snapshots": ["snapshots", "--store", s],
        "info": ["info", "npm-2025-01-01-00000000", "--store", s],
        "metric turnover": ["metric", "turnover", "--registry", "npm", "--store", s],
        "metric preservation": ["metric", "preservation", "--store", s],
        "metric descendants": ["metric", "descendants", "--store", s],
        "metric docs": ["metric", "docs", "--store", s],
        "cards score": ["cards", "score", "--store", s],
        "crawl status": ["crawl", "status", "--store", s],
        "crawl hf": ["crawl", "hf", "--store", s, "--endpoint", "http://127.0.0.1:9", "--limit", "5", "--quiet"],
        "report": ["report", "--store", s, "--out", str(tmp / "report")],
        "synth": ["synth", "--out", s, "--models", "50", "--snapshots", "1", "--top-list-size", "10"],
        "reproduce esem24": ["reproduce", "esem24", "--data", str(data), "--out", str(tmp / "esem"), "--store", s],
    }


COMMANDS = [
    "ingest",
    "snapshots",
    "info",
    "metric turnover",
    "metric preservation",
    "metric descendants",
    "metric docs",
    "cards score",
    "crawl status",
    "crawl hf",
    "report",
    "synth",
    "reproduce esem24",
]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_refuses_a_store_that_is_not_duckdb(command, tmp_path, cli):
    files = _not_stores(tmp_path)
    for kind in ("csv", "sqlite", "empty"):  # every kind is refused by Store itself (below)
        store = files[kind]
        before = _sha(store)
        args = _commands(tmp_path, store)[command]
        code, out, err = cli(*args)
        lines = [ln for ln in err.splitlines() if ln.strip()]
        assert code == 1, (kind, out, err)
        assert len(lines) == 1, (kind, err)
        assert lines[0].startswith(f"error: {store}: not a store: "), (kind, lines[0])
        assert "not a DuckDB database" in lines[0]
        assert _sha(store) == before, kind
        # refused before any work: no report or reproduction folder was started
        assert not (tmp_path / "report").exists() and not (tmp_path / "esem").exists(), kind


def test_crawl_into_a_csv_store_fetches_nothing_and_fails(tmp_path, cli):
    from crawl.fakehub import FakeHub, synthetic_records

    store = _not_stores(tmp_path)["csv"]
    before = _sha(store)
    recs, cards = synthetic_records(40, seed=1)
    with FakeHub(recs, cards) as hub:
        code, out, err = cli("crawl", "hf", "--store", store, "--endpoint", hub.url, "--limit", "20", "--quiet")
        assert hub.list_log == []
    assert code == 1 and out == ""
    assert err.strip().startswith(f"error: {store}: not a store: this is CSV or other text")
    assert _sha(store) == before


@pytest.mark.parametrize("kind", KINDS)
def test_store_class_refuses_other_files_read_only_and_writable(kind, tmp_path):
    store = _not_stores(tmp_path)[kind]
    before = _sha(store)
    for ro in (True, False):
        with pytest.raises(StoreError, match=r"not a store: this is .*, not a DuckDB database"):
            Store(store, read_only=ro)
    assert _sha(store) == before


def test_a_real_store_and_its_wal_still_open(tmp_path):
    p = tmp_path / "s.duckdb"
    with Store(p) as s:
        assert s.has_table("packages")
    with Store(p, read_only=True) as s:
        assert s.snapshots() == []


def test_new_store_in_a_missing_folder_is_created(tmp_path, cli):
    counts = tmp_path / "2.20250101.0_counts.json"
    counts.write_text(json.dumps({"a": 3, "b": 1}))
    store = tmp_path / "out" / "deeper" / "x.duckdb"
    code, out, err = cli("ingest", counts, "--store", store, "--json")
    assert code == 0, err
    assert [r["rows"] for r in json.loads(out)["results"]] == [2]
    with Store(store, read_only=True) as s:
        assert [x.row_count for x in s.snapshots()] == [2]


def test_read_only_open_of_a_missing_store_is_refused_and_creates_nothing(tmp_path, cli):
    store = tmp_path / "out" / "x.duckdb"
    code, _, err = cli("snapshots", "--store", store)
    assert code == 1 and f"error: {store}: no store here" in err
    assert not (tmp_path / "out").exists()


def test_failed_open_of_a_new_store_removes_what_it_created(tmp_path, monkeypatch):
    import ibis

    def boom(*a, **k):
        raise duckdb.IOException("IO Error: Could not write file: No space left on device")

    monkeypatch.setattr(ibis.duckdb, "connect", boom)
    store = tmp_path / "new" / "sub" / "x.duckdb"
    with pytest.raises(StoreError, match=r"^no space left on device while writing .*x\.duckdb$"):
        Store(store)
    assert not (tmp_path / "new").exists()


# -- disk full --------------------------------------------------------------------------------


def _seed_store(cli, tmp: Path, store: Path) -> None:
    good = tmp / "good" / "2.20250101.0_counts.json"
    good.parent.mkdir(exist_ok=True)
    good.write_text(json.dumps({"a": 3, "b": 1}))
    code, _, err = cli("ingest", good, "--store", store)
    assert code == 0, err


def _contents(store: Path) -> tuple[list[tuple], list[tuple]]:
    with Store(store, read_only=True) as s:
        snaps = s.con.execute("SELECT snapshot_id, row_count FROM snapshots ORDER BY 1").fetchall()
        rows = s.con.execute("SELECT snapshot_id, package_id, downloads FROM packages ORDER BY 1, 2").fetchall()
    return snaps, rows


def _big_counts(tmp: Path, n: int) -> Path:
    p = tmp / "big" / "2.20250201.0_counts.json"
    p.parent.mkdir(exist_ok=True)
    p.write_text(json.dumps({f"pkg-{i:07d}-{hashlib.md5(str(i).encode()).hexdigest()}": n - i for i in range(n)}))
    return p


class _FullDisk:
    """A connection proxy whose INSERT INTO packages fails as DuckDB does when the disk is full."""

    def __init__(self, con):
        self._con = con

    def execute(self, sql, *args):
        if sql.lstrip().upper().startswith("INSERT INTO PACKAGES"):
            raise duckdb.IOException('IO Error: Could not write file "store.duckdb": No space left on device')
        return self._con.execute(sql, *args)

    def __getattr__(self, name):
        return getattr(self._con, name)


@pytest.mark.parametrize("replace", [False, True])
def test_disk_full_during_ingest_injected(replace, tmp_path, cli, monkeypatch):
    """DuckDB's 'No space left on device' at the insert: rolled back, one line, exit 1, store as before."""
    store = tmp_path / "s.duckdb"
    _seed_store(cli, tmp_path, store)
    before = _contents(store)
    sha = _sha(store)
    real = Store.con.fget
    monkeypatch.setattr(Store, "con", property(lambda self: _FullDisk(real(self))))
    extra = ["--replace"] if replace else []
    code, out, err = cli("ingest", _big_counts(tmp_path, 50), "--store", store, *extra)
    monkeypatch.undo()
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 1 and out == ""
    assert lines == [f"error: no space left on device while writing {store}; nothing was written"], err
    assert _contents(store) == before
    assert _sha(store) == sha


@contextlib.contextmanager
def _tiny_filesystem(where: Path, size: str):
    where.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {r.stderr.decode().strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tiny tmpfs needs root")
def test_disk_full_during_ingest_real(tmp_path, cli):
    """A real full disk (a 4 MiB tmpfs, filled up): the ingest is refused in one line, the store keeps its rows."""
    with _tiny_filesystem(tmp_path / "mnt", "4m") as mnt:
        store = mnt / "s.duckdb"
        _seed_store(cli, tmp_path, store)
        before = _contents(store)
        sha = _sha(store)
        free = os.statvfs(mnt)
        filler = mnt / "filler"
        filler.write_bytes(b"x" * (free.f_bavail * free.f_frsize - 16 * 1024))
        code, out, err = cli("ingest", _big_counts(tmp_path, 5_000), "--store", store)
        lines = [ln for ln in err.splitlines() if ln.strip()]
        assert code == 1 and out == ""
        assert lines == [f"error: no space left on device while writing {store}; nothing was written"], err
        filler.unlink()
        assert _contents(store) == before
        assert _sha(store) == sha
        # and the store takes the same write once there is room
        code, _, err = cli("ingest", _big_counts(tmp_path, 5_000), "--store", store)
        assert code == 0, err
        assert len(_contents(store)[0]) == 2


def test_transaction_rolls_back_and_names_disk_full(tmp_path):
    full = r"^no space left on device while writing .*; nothing was written$"
    with Store(tmp_path / "s.duckdb") as s:
        with pytest.raises(StoreError, match=full), s.transaction() as con:
            con.execute("INSERT INTO aliases VALUES ('hf', 'a', 'b', 'test')")
            raise duckdb.IOException("IO Error: Could not write file: No space left on device")
        assert s.con.execute("SELECT count(*) FROM aliases").fetchone() == (0,)


def test_same_bytes_as_another_format_and_date_is_one_line(tmp_path, cli):
    """A JSON array of Hub records can be read as hf-api and as hf-listing: one snapshot id, refused in one line."""
    recs = tmp_path / "recs.json"
    recs.write_text(json.dumps([{"modelId": "a/b", "lastModified": "2022-01-01T00:00:00Z", "downloads": 1}]))
    store = tmp_path / "s.duckdb"
    code, _, err = cli("ingest", recs, "--store", store, "--date", "2022-01-05")
    assert code == 0, err
    sha = _sha(store)
    code, out, err = cli("ingest", recs, "--format", "hf-listing", "--store", store, "--date", "2022-01-05")
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 1 and out == ""
    assert len(lines) == 1 and lines[0].startswith(f"error: {recs}: snapshot id hf-2022-01-05-"), err
    assert "already taken" in lines[0]
    assert _sha(store) == sha


def test_constraint_violation_in_a_transaction_is_one_line(tmp_path):
    refused = r"refused: .*[Dd]uplicate key.*; nothing was written$"
    with Store(tmp_path / "s.duckdb") as s:
        s.con.execute("CREATE TABLE t (k INTEGER PRIMARY KEY)")
        with pytest.raises(StoreError, match=refused), s.transaction() as con:
            con.execute("INSERT INTO t VALUES (1), (1)")
        assert s.con.execute("SELECT count(*) FROM t").fetchone() == (0,)
