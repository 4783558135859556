"""The snapshot store: one DuckDB file, read and written through Ibis.

Writes go through :meth:`Store.add_batch`, which validates nothing itself (the
importers hand over an already-validated :class:`~ptmscope.schema.SnapshotBatch`)
and writes every table of one snapshot in a single transaction, so a failed
import leaves no trace.  Reads go through :meth:`Store.table`, an Ibis table,
so metric code written against it runs on any Ibis backend.
"""

from __future__ import annotations

import datetime as dt
import errno
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import duckdb
import ibis
import pyarrow as pa

from .errors import PtmscopeError, StoreError
from .schema import ALIASES, DATA_TABLES, SNAPSHOTS_DDL, Snapshot, SnapshotBatch, duck_type, table_ddl

DEFAULT_STORE = "ptmscope.duckdb"
STORE_ENV = "PTMSCOPE_STORE"
MEMORY_LIMIT_ENV = "PTMSCOPE_MEMORY_LIMIT"
TEMP_DIRECTORY_ENV = "PTMSCOPE_TEMP_DIRECTORY"
# DuckDB's own default is 80% of RAM, which its buffer pool fills with cached table blocks while
# writing or scanning a big store; ptmscope's queries stream and spill, so a small pool costs little.
DEFAULT_MEMORY_SHARE = 0.25
DEFAULT_MEMORY_CAP = 1 << 30
MIN_MEMORY_LIMIT = 128 << 20
BULK_WRITE_MEMORY = 256 << 20
# One row group (122,880 rows) of model-card text is ~330 MB before compression; a pool that holds it
# keeps DuckDB from spilling it while it is built and reading it back to compress it.
WIDE_ROWS_MEMORY = 512 << 20
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|tb|kib|mib|gib|tib|%)\s*$", re.IGNORECASE)
_UNITS = {"b": 1, "kb": 1000, "mb": 1000**2, "gb": 1000**3, "tb": 1000**4}
_UNITS.update({"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40})
_engine_defaults: dict[str, str | None] = {"memory_limit": None, "temp_directory": None}


def resolve_store_path(path: str | os.PathLike[str] | None = None) -> Path:
    """``--store`` wins, then ``$PTMSCOPE_STORE``, then ``./ptmscope.duckdb``."""
    if path:
        return Path(path)
    env = os.environ.get(STORE_ENV)
    if env:
        return Path(env)
    return Path(DEFAULT_STORE)


DUCKDB_MAGIC = b"DUCK"  # bytes 8..11 of every DuckDB database file (after an 8-byte checksum)
_MAGIC_AT = 8
_OTHER_MAGIC = (
    (b"SQLite format 3\x00", "a SQLite database"),
    (b"PAR1", "a Parquet file"),
    (b"\x1f\x8b", "gzip data"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"ARROW1", "an Arrow file"),
)


def _describe(head: bytes) -> str:
    """What a file that is not a DuckDB database looks like, for the error message."""
    if not head:
        return "an empty file"
    for magic, what in _OTHER_MAGIC:
        if head.startswith(magic):
            return what
    try:
        text = head.decode("utf-8").lstrip("\ufeff").lstrip()
    except UnicodeDecodeError:
        return "binary data of an unknown kind"
    if text.startswith(("{", "[")):
        return "JSON text"
    return "CSV or other text"


def check_store_path(path: Path, *, read_only: bool = False) -> list[Path]:
    """Refuse, in one line, a path that cannot be a store; create missing folders for a new one.

    An existing path must be a DuckDB database file (its header says so):
    DuckDB 2 would otherwise open a CSV, JSON or Parquet file as an empty
    in-memory database and every write would be lost.  A missing path is a new
    store when writing (its folders are created; returned, so a failed open can
    remove them) and an error when reading.
    """
    if path.is_dir():
        raise StoreError(f"{path}: is a directory, not a store file")
    if path.exists():
        try:
            with open(path, "rb") as f:
                head = f.read(64)
        except OSError as exc:
            raise StoreError(f"{path}: cannot read store: {exc.strerror or exc}") from exc
        if head[_MAGIC_AT : _MAGIC_AT + len(DUCKDB_MAGIC)] != DUCKDB_MAGIC:
            raise StoreError(
                f"{path}: not a store: this is {_describe(head)}, not a DuckDB database "
                "(give a store, or a path that does not exist yet to create one)"
            )
        return []
    if read_only:
        raise StoreError(f"{path}: no store here (run `ptmscope ingest` first, or pass --store)")
    missing = [d for d in (path.parent, *path.parent.parents) if not d.exists()]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"{path}: cannot create the store's folder {path.parent}: {exc.strerror or exc}") from exc
    return missing


_IO_FAILURES = {errno.ENOSPC: "no space left on device", errno.EDQUOT: "disk quota exceeded"}


def _io_failure(exc: BaseException) -> str | None:
    """'no space left on device' (or another I/O failure) when ``exc`` or its cause is one, else None."""
    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, OSError) and e.errno in _IO_FAILURES:
            return _IO_FAILURES[e.errno]
        text = str(e)
        for code, what in _IO_FAILURES.items():
            if os.strerror(code) in text:
                return what
        if isinstance(e, duckdb.IOException):
            return "I/O error"
        e = e.__cause__ or e.__context__
    return None


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def _store_error(path: Path, exc: BaseException, doing: str, *, rolled_back: bool = False) -> StoreError:
    """One line for a failed open or write; a rolled-back write says that nothing was written."""
    failure = _io_failure(exc)
    tail = "; nothing was written" if rolled_back else ""
    if failure in ("no space left on device", "disk quota exceeded"):
        return StoreError(f"{failure} while writing {path}{tail}")
    if failure is not None:  # the I/O error, not what failed after it (an aborted transaction)
        while exc.__context__ is not None and not isinstance(exc, duckdb.IOException):
            exc = exc.__context__
    return StoreError(f"{path}: {doing}: {_one_line(exc)}{tail}")


def physical_memory() -> int:
    """Bytes of RAM this process may use: the machine's, or its cgroup's limit when lower."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    with suppress(OSError, ValueError):
        cg = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if cg != "max":
            total = min(total, int(cg))
    return total


def parse_memory_limit(text: str, *, what: str = "memory limit") -> int:
    """Bytes of a size such as ``2GB``, ``512MiB`` or ``25%`` (of RAM)."""
    m = _SIZE_RE.match(text)
    if not m:
        raise StoreError(f"{what}: expected a size such as 2GB, 512MiB or 25% (of RAM), got {text!r}")
    value, unit = float(m.group(1)), m.group(2).lower()
    size = int(physical_memory() * value / 100) if unit == "%" else int(value * _UNITS[unit])
    if size < MIN_MEMORY_LIMIT:
        raise StoreError(f"{what}: {text!r} is below the minimum of {MIN_MEMORY_LIMIT >> 20} MiB")
    return size


def default_memory_limit() -> int:
    """A quarter of RAM, at most 1 GiB (DuckDB would take 80%)."""
    return max(MIN_MEMORY_LIMIT, min(int(physical_memory() * DEFAULT_MEMORY_SHARE), DEFAULT_MEMORY_CAP))


def set_engine_defaults(*, memory_limit: str | None = None, temp_directory: str | None = None) -> None:
    """Process-wide DuckDB settings for every store opened afterwards (the CLI's global options)."""
    if memory_limit is not None:
        parse_memory_limit(memory_limit)
    _engine_defaults["memory_limit"] = memory_limit
    _engine_defaults["temp_directory"] = temp_directory


@dataclass(frozen=True)
class EngineSettings:
    """What every DuckDB connection to a store is given: ``memory_limit`` bytes and the spill folder."""

    memory_limit: int
    temp_directory: Path

    @classmethod
    def resolve(
        cls, store_path: Path, memory_limit: str | None = None, temp_directory: str | os.PathLike[str] | None = None
    ) -> EngineSettings:
        """An argument wins, then :func:`set_engine_defaults`, then the environment, then the default:
        a quarter of RAM up to 1 GiB, spilling to ``<store>.tmp`` beside the store (or the system's
        temporary folder when the store's folder is not writable)."""
        if memory_limit is None:
            memory_limit = _engine_defaults["memory_limit"]
        if memory_limit is not None:
            limit = parse_memory_limit(memory_limit)
        elif os.environ.get(MEMORY_LIMIT_ENV, "").strip():
            limit = parse_memory_limit(os.environ[MEMORY_LIMIT_ENV], what=MEMORY_LIMIT_ENV)
        else:
            limit = default_memory_limit()
        tmp = temp_directory or _engine_defaults["temp_directory"] or os.environ.get(TEMP_DIRECTORY_ENV, "").strip()
        if tmp:
            spill = Path(tmp)
        else:
            folder = store_path.absolute().parent
            spill = (
                store_path.absolute().with_name(store_path.name + ".tmp")
                if os.access(folder, os.W_OK)
                else Path(tempfile.gettempdir()) / f"ptmscope-spill-{os.getuid()}"
            )
        return cls(limit, spill)

    def apply(self, con: Any) -> None:
        """``SET`` both on a native DuckDB connection (they are database-wide)."""
        set_memory_limit(con, self.memory_limit)
        path = str(self.temp_directory).replace("'", "''")
        con.execute(f"SET temp_directory = '{path}'")


def set_memory_limit(con: Any, limit: int) -> None:
    con.execute(f"SET memory_limit = '{limit >> 20}MiB'")


@dataclass(frozen=True)
class AddResult:
    snapshot_id: str
    created: bool  # False when the same source was already in the store
    rows: int


class Store:
    """A ptmscope store (a DuckDB file).

    ``read_only=True`` never writes to the file, and refuses a path that does
    not exist rather than creating an empty store.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        read_only: bool = False,
        memory_limit: str | None = None,
        temp_directory: str | os.PathLike[str] | None = None,
    ) -> None:
        self.path = resolve_store_path(path)
        self.read_only = read_only
        new = not self.path.exists()
        made = check_store_path(self.path, read_only=read_only)
        self.settings = EngineSettings.resolve(self.path, memory_limit, temp_directory)
        self._pool = self.settings.memory_limit  # DuckDB's memory limit now (lower while writing in bulk)
        try:
            self.backend = ibis.duckdb.connect(str(self.path), read_only=read_only)
        except Exception as exc:  # duckdb raises IOException and friends
            self._forget(new, made)
            raise _store_error(self.path, exc, "cannot open store") from exc
        self.settings.apply(self.con)
        if not read_only:
            try:
                self._ensure_schema()
            except Exception as exc:
                self.close()
                self._forget(new, made)
                raise _store_error(self.path, exc, "cannot prepare store") from exc

    def _forget(self, new: bool, made: list[Path]) -> None:
        """Remove what a failed open of a new store created (the file, its WAL, new folders)."""
        if not new:
            return
        for p in (self.path, Path(f"{self.path}.wal")):
            with suppress(OSError):
                p.unlink()
        for d in made:
            with suppress(OSError):
                d.rmdir()

    # -- lifecycle -------------------------------------------------------
    def close(self) -> None:
        with suppress(Exception):  # pragma: no cover - already closed
            self.backend.disconnect()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def con(self) -> Any:
        """The native DuckDB connection (for transactions and bulk inserts)."""
        return self.backend.con

    def _ensure_schema(self) -> None:
        self.con.execute(SNAPSHOTS_DDL)
        for name, schema in DATA_TABLES.items():
            self.con.execute(table_ddl(name, schema))
            self._add_missing_columns(name, schema)
        self.con.execute(table_ddl("aliases", ALIASES))

    def _add_missing_columns(self, name: str, schema: pa.Schema) -> None:
        """A store written by an older ptmscope gains the columns added since (as nulls)."""
        have = {
            r[0]
            for r in self.con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = 'main' AND table_name = ?",
                [name],
            ).fetchall()
        }
        for f in schema:
            if f.name not in have:
                self.con.execute(f'ALTER TABLE "{name}" ADD COLUMN "{f.name}" {duck_type(f.type)}')

    # -- reading -----------------------------------------------------------
    def table(self, name: str) -> ibis.Table:
        return self.backend.table(name)

    def has_table(self, name: str) -> bool:
        # information_schema, not backend.list_tables(): ibis 12 calls a DuckDB
        # method (fetch_arrow_table) that DuckDB 2 removed
        row = self.con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'main' AND table_name = ?", [name]
        ).fetchone()
        return bool(row and row[0])

    def snapshots(self, registry: str | None = None, *, include_incomplete: bool = False) -> list[Snapshot]:
        """Snapshots ordered by registry, date, id."""
        sql = "SELECT * FROM snapshots"
        conds, params = [], []
        if registry:
            conds.append("registry = ?")
            params.append(registry)
        if not include_incomplete:
            conds.append("status = 'complete'")
        if conds:
            sql += " WHERE " + " AND ".join(conds)
        sql += " ORDER BY registry, taken_at, snapshot_id"
        cur = self.con.execute(sql, params)
        cols = [d[0] for d in cur.description]
        out = []
        for row in cur.fetchall():
            rec = dict(zip(cols, row, strict=False))
            out.append(
                Snapshot(
                    snapshot_id=rec["snapshot_id"],
                    registry=rec["registry"],
                    taken_at=rec["taken_at"],
                    source_format=rec["source_format"],
                    source_file=rec["source_file"],
                    source_sha256=rec["source_sha256"],
                    row_count=rec["row_count"],
                    importer_version=rec["importer_version"],
                    notes=rec["notes"],
                    status=rec["status"],
                    synthetic=rec["synthetic"],
                    manifest=rec["manifest"],
                )
            )
        return out

    def snapshot(self, snapshot_id: str) -> Snapshot:
        for s in self.snapshots(include_incomplete=True):
            if s.snapshot_id == snapshot_id:
                return s
        raise StoreError(f"{self.path}: no snapshot {snapshot_id!r} (see `ptmscope snapshots`)")

    def aliases(self, registry: str = "hf") -> dict[str, str]:
        """alias -> canonical id, stored aliases over the built-in list."""
        from .aliases import builtin_aliases

        out = dict(builtin_aliases(registry))
        # ordered as metrics' alias_map reads them: an alias stored twice resolves the same way in both
        rows = self.con.execute(
            "SELECT alias, canonical FROM aliases WHERE registry = ? ORDER BY alias, canonical", [registry]
        ).fetchall()
        out.update(dict(rows))
        return {a: c for a, c in out.items() if a != c}

    # -- writing -----------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[Any]:
        """BEGIN ... COMMIT on the native connection; ROLLBACK on any error.

        A write that fails for lack of space (or another I/O error) is rolled
        back and raised as one-line :class:`StoreError`; the store keeps what it
        held before the transaction.
        """
        if self.read_only:
            raise StoreError(f"{self.path}: store opened read-only")
        con = self.con
        con.execute("BEGIN TRANSACTION")
        try:
            yield con
        except BaseException as exc:
            with suppress(Exception):  # a failed write may have aborted the transaction already
                con.execute("ROLLBACK")
            if isinstance(exc, PtmscopeError):  # already one line, from the caller's own checks
                raise
            if isinstance(exc, Exception) and _io_failure(exc) is not None:
                raise _store_error(self.path, exc, "cannot write store", rolled_back=True) from exc
            if isinstance(exc, duckdb.ConstraintException):  # e.g. a snapshot id taken: one line, not a traceback
                raise _store_error(self.path, exc, "refused", rolled_back=True) from exc
            raise
        try:
            con.execute("COMMIT")
        except Exception as exc:
            with suppress(Exception):
                con.execute("ROLLBACK")
            raise _store_error(self.path, exc, "commit failed", rolled_back=True) from exc

    @contextmanager
    def bulk_writes(self) -> Iterator[None]:
        """Settings for writing millions of rows, restored afterwards: row order not kept (faster
        parallel appends; it carries no meaning), no progress bar, and a buffer pool of at most
        :data:`BULK_WRITE_MEMORY` (it would only cache the blocks just written)."""
        con = self.con
        con.execute("SET preserve_insertion_order = false")
        con.execute("SET enable_progress_bar = false")
        self._pool = min(self.settings.memory_limit, BULK_WRITE_MEMORY)
        set_memory_limit(con, self._pool)
        try:
            yield
        finally:
            con.execute("RESET preserve_insertion_order")
            con.execute("RESET enable_progress_bar")
            # (the spill folder stays: DuckDB refuses to switch it once used)
            self._pool = self.settings.memory_limit
            set_memory_limit(con, self._pool)

    @contextmanager
    def wide_rows(self) -> Iterator[None]:
        """For bulk writes of a table with large rows (model-card text): one thread, so one row group is
        built at a time, in a pool of :data:`WIDE_ROWS_MEMORY` (at most the store's limit) that holds it.
        Under the bulk cap DuckDB spills the row group and reads it back (about 40% more CPU); with two
        threads each ends the insert with a partial row group, and the commit's checkpoint merges them by
        rewriting the row groups between them, which leaves the old blocks as free space in the file
        (about half a snapshot's card text)."""
        con = self.con
        threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
        con.execute("SET threads = 1")
        set_memory_limit(con, min(self.settings.memory_limit, WIDE_ROWS_MEMORY))
        try:
            yield
        finally:
            con.execute(f"SET threads = {int(threads)}")
            set_memory_limit(con, self._pool)

    def find_same_source(self, batch: SnapshotBatch) -> Snapshot | None:
        s = batch.snapshot
        for old in self.snapshots(s.registry, include_incomplete=True):
            if (
                old.source_sha256 == s.source_sha256
                and old.source_format == s.source_format
                and old.taken_at == s.taken_at
            ):
                return old
        return None

    def add_batch(self, batch: SnapshotBatch, *, replace: bool = False) -> AddResult:
        """Write one snapshot and its rows in one transaction.

        Idempotent: the same source (sha256, format, registry, date) again
        returns the existing snapshot.  A *changed* file with the same name,
        format and date is refused unless ``replace`` is given, in which case
        the old snapshot is removed in the same transaction.
        """
        s = batch.snapshot
        same = self.find_same_source(batch)
        if same is not None:
            return AddResult(same.snapshot_id, False, same.row_count)
        clash = [
            old
            for old in self.snapshots(s.registry, include_incomplete=True)
            if old.taken_at == s.taken_at
            and old.source_format == s.source_format
            and Path(old.source_file).name == Path(s.source_file).name
        ]
        if clash and not replace:
            old = clash[0]
            raise StoreError(
                f"{s.source_file}: the store already has snapshot {old.snapshot_id} from a file of this name "
                f"and date with different content (sha256 {old.source_sha256[:12]} vs {s.source_sha256[:12]}); "
                "pass --replace to replace it, or --date to file it as another snapshot"
            )
        with self.transaction() as con:
            for old in clash:
                self._delete(con, old.snapshot_id)
            self._insert_snapshot(con, s)
            for name in DATA_TABLES:
                self._insert_table(con, name, batch.table(name), s.snapshot_id)
        return AddResult(s.snapshot_id, True, s.row_count)

    def _insert_snapshot(self, con: Any, s: Snapshot) -> None:
        con.execute(
            "INSERT INTO snapshots (snapshot_id, registry, taken_at, source_format, source_file, source_sha256, "
            "row_count, importer_version, notes, status, synthetic, manifest, ingested_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                s.snapshot_id,
                s.registry,
                s.taken_at,
                s.source_format,
                s.source_file,
                s.source_sha256,
                s.row_count,
                s.importer_version,
                s.notes,
                s.status,
                s.synthetic,
                s.manifest,
                dt.datetime.now(dt.UTC).replace(tzinfo=None),
            ],
        )

    def _insert_table(self, con: Any, name: str, table: pa.Table, snapshot_id: str) -> None:
        if table.num_rows == 0:
            return
        self._insert_stream(con, name, [table], snapshot_id)

    def _insert_stream(
        self, con: Any, name: str, chunks: Iterable[pa.Table | pa.RecordBatch], snapshot_id: str
    ) -> None:
        """One INSERT that DuckDB feeds from an Arrow stream, chunk by chunk: only the chunk being read
        is in memory, and ``snapshot_id`` is a constant of the query, not a column built per row."""
        schema = DATA_TABLES[name]
        failure: list[BaseException] = []

        def batches() -> Iterator[pa.RecordBatch]:
            try:
                for t in chunks:
                    if t.schema.names != schema.names:
                        raise StoreError(
                            f"internal: table {name} has columns {t.schema.names}, expected {schema.names}"
                        )
                    if not t.schema.equals(schema):
                        t = t.cast(schema)
                    yield from t.to_batches() if isinstance(t, pa.Table) else (t,)
            except BaseException as exc:  # DuckDB would report it as its own error; keep the original
                failure.append(exc)
                raise

        cols = ", ".join(f'"{f.name}"' for f in schema if f.name != "snapshot_id")
        view = f"_ptmscope_stream_{name}"
        con.register(view, pa.RecordBatchReader.from_batches(schema, batches()))
        try:
            con.execute(f'INSERT INTO "{name}" ("snapshot_id", {cols}) SELECT ?, {cols} FROM "{view}"', [snapshot_id])
        except Exception:
            with suppress(Exception):  # in an aborted transaction this fails too, hiding the cause
                con.unregister(view)
            if failure:
                raise failure[0] from None
            raise
        con.unregister(view)

    def append_rows(self, name: str, table: pa.Table, snapshot_id: str) -> None:
        """Append rows to a data table inside the caller's transaction (crawler pages)."""
        self._insert_table(self.con, name, table, snapshot_id)

    def append_stream(self, name: str, chunks: Iterable[pa.Table | pa.RecordBatch], snapshot_id: str) -> None:
        """Append a stream of Arrow chunks to a data table inside the caller's transaction (bulk writers)."""
        self._insert_stream(self.con, name, chunks, snapshot_id)

    def insert_snapshot(self, snapshot: Snapshot) -> None:
        """Insert a snapshot row inside the caller's transaction (crawler start)."""
        self._insert_snapshot(self.con, snapshot)

    def _snapshot_tables(self, con: Any) -> list[str]:
        rows = con.execute(
            "SELECT DISTINCT table_name FROM information_schema.columns "
            "WHERE column_name = 'snapshot_id' AND table_schema = 'main' AND table_name <> 'snapshots'"
        ).fetchall()
        return sorted(r[0] for r in rows)

    def _delete(self, con: Any, snapshot_id: str) -> None:
        for t in self._snapshot_tables(con):
            con.execute(f'DELETE FROM "{t}" WHERE snapshot_id = ?', [snapshot_id])
        con.execute("DELETE FROM snapshots WHERE snapshot_id = ?", [snapshot_id])

    def delete_rows(self, snapshot_id: str) -> None:
        """Delete a snapshot and its rows inside the caller's transaction (``ingest --replace``)."""
        self._delete(self.con, snapshot_id)

    def delete_snapshot(self, snapshot_id: str) -> None:
        self.snapshot(snapshot_id)  # raises when absent
        with self.transaction() as con:
            self._delete(con, snapshot_id)

    def add_aliases(self, registry: str, pairs: list[tuple[str, str]], origin: str) -> None:
        with self.transaction() as con:
            con.executemany("INSERT INTO aliases VALUES (?, ?, ?, ?)", [(registry, a, c, origin) for a, c in pairs])
