"""Getting data out of a store: a table, a filtered table or a read-only SQL query to Parquet, CSV or JSON lines.

The store is opened read-only (DuckDB itself refuses any write), and SQL
given by the user must be exactly one ``SELECT``-like statement (``SELECT``,
``WITH``, ``FROM``, ``VALUES``, ``TABLE``, ``DESCRIBE``, ``SUMMARIZE``,
``SHOW``), checked with DuckDB's own parser before it runs: ``COPY``,
``ATTACH``, ``INSERT``, ``PRAGMA``, ``SET`` or a second statement are refused
with one line naming what was found.  Values go in as parameters (``?``),
never pasted into the SQL; a table name is checked against the store's
tables and quoted.

Rows are streamed in Arrow record batches (memory stays bounded on a
multi-million-row table) and written with pyarrow: Parquet keeps every type
(lists, timestamps); CSV writes a list or struct value as JSON text; JSON
lines write one object per row with ISO dates.  The file is written next to
its final name and renamed when complete, so a failed export leaves no
partial file.  ``-`` writes CSV or JSON lines to standard output.
"""

from __future__ import annotations

import datetime as dt
import decimal
import io
import json
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal, get_args

import pyarrow as pa

from .errors import InputError, PtmscopeError, StoreError

ExportFormat = Literal["parquet", "csv", "jsonl"]
EXPORT_FORMATS: tuple[str, ...] = get_args(ExportFormat)
SUFFIXES = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
BATCH_ROWS = 100_000


@dataclass(frozen=True)
class ExportResult:
    path: str  # "-" for standard output
    format: str
    rows: int
    columns: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "format": self.format, "rows": self.rows, "columns": list(self.columns)}


def format_for(out: str | os.PathLike[str], fmt: str | None) -> str:
    """The output format: the one asked for, else the file suffix's."""
    if fmt is not None:
        if fmt not in EXPORT_FORMATS:
            raise PtmscopeError(f"unknown export format {fmt!r}; choose one of {', '.join(EXPORT_FORMATS)}")
        return fmt
    if str(out) == "-":
        raise PtmscopeError("writing to standard output needs an explicit format (csv or jsonl)")
    suffix = Path(out).suffix.lower()
    if suffix not in SUFFIXES:
        raise PtmscopeError(
            f"{out}: cannot tell the format from the suffix {suffix or '(none)'}; "
            f"use {', '.join(SUFFIXES)} or name the format"
        )
    return SUFFIXES[suffix]


def check_read_only_sql(sql: str) -> None:
    """Refuse anything but one SELECT-like statement (DuckDB's parser decides what the statement is)."""
    import duckdb

    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise InputError("SQL", f"does not parse: {_first_line(exc)}") from None
    if len(statements) != 1:
        raise InputError("SQL", f"must be one statement, got {len(statements)}")
    kind = statements[0].type
    if kind != duckdb.StatementType.SELECT:
        raise InputError("SQL", f"only a read-only query (SELECT ...) can be exported, not {kind.name}")


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _connect(store_path: str | os.PathLike[str] | None) -> Any:
    import duckdb

    from .store import resolve_store_path

    path = resolve_store_path(store_path)
    if not path.is_file():
        raise StoreError(f"{path}: no store here (run `ptmscope ingest` first, or pass --store)")
    try:
        return duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise StoreError(f"{path}: cannot open store: {_first_line(exc)}") from exc


def store_tables(con: Any) -> dict[str, list[str]]:
    """Table name -> column names, from information_schema (the store's own tables only)."""
    rows = con.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = 'main' ORDER BY table_name, ordinal_position"
    ).fetchall()
    out: dict[str, list[str]] = {}
    for t, c in rows:
        out.setdefault(str(t), []).append(str(c))
    return out


def table_query(
    con: Any,
    table: str,
    *,
    snapshot_ids: Sequence[str] | None = None,
    where: str | None = None,
    params: Sequence[Any] = (),
) -> tuple[str, list[Any]]:
    """``SELECT * FROM table`` with an optional snapshot filter and a user ``WHERE`` condition (its ``?`` bound)."""
    tables = store_tables(con)
    if table not in tables:
        raise InputError("table", f"no table {table!r} in the store; tables: {', '.join(sorted(tables))}")
    sql = f"SELECT * FROM {_quote_ident(table)}"
    conds: list[str] = []
    args: list[Any] = []
    if snapshot_ids:
        if "snapshot_id" not in tables[table]:
            raise InputError("table", f"table {table!r} has no snapshot_id column to filter by")
        conds.append("snapshot_id IN (" + ", ".join("?" for _ in snapshot_ids) + ")")
        args.extend(snapshot_ids)
    if where:
        conds.append(f"({where})")
        args.extend(params)
    elif params:
        raise InputError("parameters", "given without a WHERE condition or SQL query that uses them")
    if conds:
        sql += " WHERE " + " AND ".join(conds)
    return sql, args


def _batches(con: Any, sql: str, params: Sequence[Any]) -> pa.RecordBatchReader:
    import duckdb

    check_read_only_sql(sql)
    try:
        rel = con.sql(sql, params=list(params) or None)
        reader = getattr(rel, "to_arrow_reader", None) or rel.fetch_arrow_reader  # DuckDB 2 / DuckDB 1.x
        return reader(BATCH_ROWS)
    except duckdb.Error as exc:
        raise InputError("SQL", _first_line(exc)) from None


def _json_default(o: Any) -> Any:
    if isinstance(o, (dt.date, dt.datetime, dt.time)):
        return o.isoformat()
    if isinstance(o, decimal.Decimal):
        return float(o)
    if isinstance(o, bytes):
        return o.hex()
    if isinstance(o, dt.timedelta):
        return o.total_seconds()
    return str(o)


def _csv_ready(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Nested values (lists, structs, maps) as JSON text: CSV has no other way to hold them."""
    cols = []
    for col in batch.columns:
        t = col.type
        if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_struct(t) or pa.types.is_map(t):
            col = pa.array(
                [None if v is None else json.dumps(v, default=_json_default) for v in col.to_pylist()], pa.string()
            )
        cols.append(col)
    return pa.RecordBatch.from_arrays(cols, names=batch.schema.names)


def _write(reader: pa.RecordBatchReader, fmt: str, stream: IO[bytes]) -> int:
    n = 0
    if fmt == "parquet":
        import pyarrow.parquet as pq

        with pq.ParquetWriter(stream, reader.schema) as w:
            for b in reader:
                w.write_batch(b)
                n += b.num_rows
    elif fmt == "csv":
        import pyarrow.csv as pcsv

        writer = None
        for b in _nonempty_or_schema(reader):
            b = _csv_ready(b)
            if writer is None:
                writer = pcsv.CSVWriter(stream, b.schema)
            writer.write_batch(b)
            n += b.num_rows
        if writer is not None:
            writer.close()
    else:
        for b in reader:
            for row in b.to_pylist():
                stream.write((json.dumps(row, default=_json_default, ensure_ascii=False) + "\n").encode("utf-8"))
            n += b.num_rows
    return n


def _nonempty_or_schema(reader: pa.RecordBatchReader) -> Iterator[pa.RecordBatch]:
    """The batches, or one empty batch so that an empty result still gets its header row."""
    seen = False
    for b in reader:
        seen = True
        yield b
    if not seen:
        yield pa.RecordBatch.from_pylist([], schema=reader.schema)


def write_reader(reader: pa.RecordBatchReader, out: str | os.PathLike[str], fmt: str) -> ExportResult:
    """Stream ``reader`` into ``out`` (``-``: standard output) as ``fmt``; a failure leaves no partial file."""
    import duckdb

    columns = tuple(reader.schema.names)
    if str(out) == "-":
        if fmt == "parquet":
            raise PtmscopeError("Parquet cannot be written to standard output; name a file")
        binary = getattr(sys.stdout, "buffer", None)
        buf = binary if binary is not None else io.BytesIO()
        try:
            n = _write(reader, fmt, buf)
        except (pa.ArrowException, duckdb.Error) as exc:
            raise PtmscopeError(f"export failed: {_first_line(exc)}") from None
        if binary is None:
            sys.stdout.write(buf.getvalue().decode("utf-8"))
        sys.stdout.flush()
        return ExportResult("-", fmt, n, columns)
    target = Path(out)
    if target.is_dir():
        raise InputError(target, "is a folder; name the file to write")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    except OSError as exc:
        raise InputError(target, f"cannot write: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            n = _write(reader, fmt, fh)
        os.replace(tmp, target)
    except (pa.ArrowException, duckdb.Error) as exc:
        Path(tmp).unlink(missing_ok=True)
        raise PtmscopeError(f"export failed: {_first_line(exc)}") from None
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise InputError(target, f"cannot write: {exc.strerror or exc}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return ExportResult(str(target), fmt, n, columns)


def export(
    out: str | os.PathLike[str],
    *,
    store: str | os.PathLike[str] | None = None,
    table: str | None = None,
    sql: str | None = None,
    snapshot_ids: Sequence[str] | None = None,
    where: str | None = None,
    params: Sequence[Any] = (),
    fmt: str | None = None,
) -> ExportResult:
    """Write ``table`` (optionally filtered) or the result of the read-only query ``sql`` to ``out``."""
    if (table is None) == (sql is None):
        raise PtmscopeError("export needs exactly one of a table or an SQL query")
    if sql is not None and (snapshot_ids or where):
        raise PtmscopeError("a snapshot filter or WHERE condition applies to a table; put it in the SQL query")
    kind = format_for(out, fmt)
    con = _connect(store)
    try:
        if table is not None:
            query, args = table_query(con, table, snapshot_ids=snapshot_ids, where=where, params=params)
        else:
            query, args = str(sql), list(params)
        return write_reader(_batches(con, query, args), out, kind)
    finally:
        con.close()


def export_doc_scores(
    out: str | os.PathLike[str],
    *,
    store: str | os.PathLike[str] | None = None,
    snapshot_id: str | None = None,
    scorer_key: str | None = None,
    fmt: str | None = None,
) -> ExportResult:
    """Per-model documentation scores (:func:`ptmscope.metrics.docs.documentation_scores`) to ``out``."""
    from .metrics.docs import documentation_scores
    from .store import Store

    kind = format_for(out, fmt)
    with Store(store, read_only=True) as st:
        # one row per model of one snapshot: small enough to hold (ibis 12's batch reader fails on DuckDB 2)
        t = documentation_scores(st.backend, snapshot_id=snapshot_id, scorer_key=scorer_key).to_pyarrow()
    return write_reader(pa.RecordBatchReader.from_batches(t.schema, t.to_batches(BATCH_ROWS)), out, kind)
