"""Hub model-metadata listings: SQLite, CSV, Parquet, JSON ``{id: downloads}``, plain id lists.

Format name ``hf-listing``.  One row per model, columns found by name (case
insensitive; the first name present wins):

==============  ================================================================
canonical       source column names
==============  ================================================================
raw_id          ``modelId``, ``model_id``, ``model``, ``id``, ``repo_id``, ``repo``, ``name``  (required)
downloads       ``downloads``, ``downloads_last_month``, ``monthly_downloads``, ``downloads_30d``, ``download_count``
likes           ``likes``
author          ``author`` (else the part of the id before ``/``)
created_at      ``creation_time``, ``created_at``, ``createdAt``
last_modified   ``lastModified``, ``last_modified``
task            ``pipeline_tag``, ``task``, ``task_category``
sha             ``sha``
license         ``license``
library         ``library_name``, ``library`` (-> ``package_libraries``, origin ``library_name``)
has card        ``has_modelcard`` (-> ``cards`` rows without text: only whether a card exists)
==============  ================================================================

Containers: SQLite (opened read-only through the standard library; the one
table with an id column, e.g. ``PeaTMOSS_ANCIENT``), CSV (gzip or not; an
unnamed index column is ignored), Parquet, a JSON object mapping ids to
download counts (e.g. PeaTMOSS's ``2k_filtered_models.json``; only with
``--format hf-listing``, since npm's ``counts.json`` has the same shape) and a
text file of one id per line (``.txt``, gzip or not).

Download counts are the Hub's 30-day counts (``downloads_window = "30d"``).
The date comes from ``--date``, else a full ``YYYY-MM-DD`` in the file name,
else the latest creation/modification time in the data (a lower bound, said
so in the notes), else the import asks for ``--date``.
"""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ..errors import InputError
from ..schema import SnapshotBatch, to_table
from ._common import (
    KeyRepeats,
    Notes,
    ReadOptions,
    bool_array,
    build_packages,
    check_columns,
    check_header,
    check_readable,
    check_registry,
    count_array,
    count_list,
    csv_records,
    decode_text,
    finish,
    given_date,
    load_json,
    need_date,
    private_copy,
    read_bytes,
    timestamp_value,
)

FORMAT = "hf-listing"
DOWNLOADS_WINDOW = "30d"

ID_COLUMNS = ("modelId", "model_id", "model", "id", "repo_id", "repo", "name")
COLUMN_NAMES: dict[str, tuple[str, ...]] = {
    "downloads": ("downloads", "downloads_last_month", "monthly_downloads", "downloads_30d", "download_count"),
    "likes": ("likes",),
    "author": ("author",),
    "created_at": ("creation_time", "created_at", "createdAt"),
    "last_modified": ("lastModified", "last_modified"),
    "task": ("pipeline_tag", "task", "task_category"),
    "sha": ("sha",),
    "license": ("license",),
    "library": ("library_name", "library"),
    "has_card": ("has_modelcard",),
    "private": ("private",),
}
SQLITE_MAGIC = b"SQLite format 3\x00"


def _find(names: list[str], wanted: tuple[str, ...]) -> str | None:
    low = {n.lower(): n for n in names}
    for w in wanted:
        if w.lower() in low:
            return low[w.lower()]
    return None


def _kind(path: Path, head: bytes) -> str | None:
    name = path.name.lower()
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(b"PAR1"):
        return "parquet"
    if name.endswith((".csv", ".csv.gz", ".tsv", ".tsv.gz")):
        return "csv"
    if name.endswith((".txt", ".txt.gz")):
        return "txt"
    if name.endswith((".json", ".json.gz")):
        return "json"
    return None


def detect(path: Path, head: bytes) -> bool:
    """SQLite with an id-column table (not PeaTMOSS), Parquet/CSV with an id column, ``.txt`` id lists."""
    kind = _kind(path, head)
    if kind == "sqlite":
        try:
            tables = _sqlite_tables(path)
        except InputError:
            return False
        if "model" in tables and "context_id" in tables["model"]:
            return False  # a PeaTMOSS database
        return any(_find(cols, ID_COLUMNS) for cols in tables.values())
    if kind == "parquet":
        return True
    if kind == "csv":
        header = head.split(b"\n", 1)[0].decode("utf-8", "replace").strip().lstrip("\ufeff")
        cols = [c.strip().strip('"') for c in header.split(",")]
        low = {c.lower() for c in cols}
        if {"parent", "child"} <= low or "base_model_tags" in low or {"metadata", "children"} <= low:
            return False  # lineage edge lists
        return _find(cols, ID_COLUMNS) is not None
    if kind == "txt":
        first = head.split(b"\n", 1)[0].strip()
        return bool(first) and b"," not in first and b" " not in first and not first.startswith((b"{", b"["))
    return False


# -- readers: each returns (column name -> Arrow array), the id column name, line offset ---------------


def _sqlite_uri(path: Path) -> str:
    return path.resolve().as_uri() + "?mode=ro&immutable=1"


def _sqlite_tables(path: Path) -> dict[str, list[str]]:
    try:
        con = sqlite3.connect(_sqlite_uri(path), uri=True)
        try:
            names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            out = {}
            for n in names:
                cols = [r[1] for r in con.execute("SELECT * FROM pragma_table_info(?)", (n,))]
                out[n] = cols
            return out
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise InputError(path, f"not a readable SQLite database: {exc}") from exc


def _read_sqlite(path: Path, copy: Path) -> tuple[pa.Table, str]:
    """The id table of a SQLite listing, read from ``copy`` (a private copy of ``path``)."""
    with open(copy, "rb") as f:
        if not f.read(16).startswith(SQLITE_MAGIC):
            raise InputError(path, "not a SQLite database (the file changed while it was read?)")
    try:
        tables = _sqlite_tables(copy)
    except InputError as exc:
        raise InputError(path, exc.message) from None
    cands = [t for t, cols in tables.items() if _find(cols, ID_COLUMNS)]
    if not cands:
        raise InputError(path, f"no table with a model id column (one of {', '.join(ID_COLUMNS)})")
    if len(cands) > 1:
        raise InputError(path, f"several tables with model ids ({', '.join(sorted(cands))}); cannot choose")
    table = cands[0]
    cols = tables[table]
    try:
        con = sqlite3.connect(_sqlite_uri(copy), uri=True)
        try:
            quoted = ", ".join('"' + c.replace('"', '""') + '"' for c in cols)
            cur = con.execute(f'SELECT {quoted} FROM "{table.replace(chr(34), chr(34) * 2)}" ORDER BY rowid')
            rows = cur.fetchall()
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise InputError(path, f"cannot read table {table}: {exc}") from exc
    data = {c: [r[i] for r in rows] for i, c in enumerate(cols)}
    arrays = {}
    for c, vals in data.items():
        try:
            arrays[c] = pa.array(vals)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            arrays[c] = pa.array([None if v is None else str(v) for v in vals], pa.string())
    return pa.table(arrays), table


def _read_csv(path: Path, data: bytes) -> pa.Table:
    """Every column as text (counts are checked exactly later); a malformed row names its line."""
    import csv as _csv

    import pyarrow.csv as pcsv

    text_head = data[:65536].decode("utf-8-sig", "replace")
    delim = "\t" if path.name.lower().endswith((".tsv", ".tsv.gz")) else ","
    header = next(_csv.reader(io.StringIO(text_head), delimiter=delim), [])
    if not header:
        raise InputError(path, "empty CSV (no header)", line=1)
    check_header(path, header)
    try:
        return pcsv.read_csv(
            io.BytesIO(data),
            read_options=pcsv.ReadOptions(use_threads=True),
            parse_options=pcsv.ParseOptions(delimiter=delim, newlines_in_values=True),
            convert_options=pcsv.ConvertOptions(
                column_types=dict.fromkeys(header, pa.string()), strings_can_be_null=True
            ),
        )
    except pa.ArrowInvalid as exc:
        csv_records(path, decode_text(path, data), delimiter=delim)  # raises naming the line, when it can
        msg = str(exc).splitlines()[0]
        raise InputError(path, f"malformed CSV: {msg}") from exc


def _read_parquet(path: Path, raw: bytes) -> pa.Table:
    import pyarrow.parquet as pq

    try:
        return pq.read_table(pa.BufferReader(raw))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as exc:
        raise InputError(path, f"unreadable Parquet: {' '.join(str(exc).split())}") from exc


def _read_txt(path: Path, data: bytes) -> pa.Table:
    ids = []
    for i, line in enumerate(decode_text(path, data).splitlines(), 1):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        if "," in s or " " in s or "\t" in s:
            raise InputError(path, f"not a model id: {s[:60]!r} (expected one id per line)", line=i)
        ids.append(s)
    return pa.table({"model": pa.array(ids, pa.string())})


def _read_json_mapping(path: Path, data: bytes, notes: Notes) -> pa.Table:
    repeats = KeyRepeats()
    obj = load_json(path, data, repeats=repeats)
    if isinstance(obj, dict) and obj:
        # a model id repeated in the object is a repeated row: the first wins (counted with the duplicates)
        pairs = list(obj.items()) + repeats.repeated_pairs
        vals = [v for _, v in pairs]
        if all(v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in vals):
            downloads = count_list(vals, path=path, field_name="downloads", line_offset=None)
            return pa.table({"model": pa.array([k for k, _ in pairs], pa.string()), "downloads": downloads})
    if isinstance(obj, list) and obj and all(isinstance(r, dict) for r in obj):
        repeats.note(notes, "the file's records")
        try:
            return pa.Table.from_pylist(obj)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as exc:
            raise InputError(path, f"records of mixed types: {' '.join(str(exc).split())}") from exc
    raise InputError(path, "expected a JSON object {model id: downloads} or a list of records")


# -- the importer --------------------------------------------------------------------------


def _timestamps(col: pa.ChunkedArray, *, path: Path, name: str, line_offset: int) -> pa.Array:
    t = col.type
    if pa.types.is_timestamp(t):
        arr = col.combine_chunks()
        try:
            if t.tz is None:
                arr = pc.assume_timezone(arr, "UTC")
            return arr.cast(pa.timestamp("us", tz="UTC"))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise InputError(
                path, f"{name}: timestamps out of range ({' '.join(str(exc).split())})", column=name
            ) from None
    if not (pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_null(t)):
        raise InputError(path, f"{name} must be timestamps or ISO-8601 text, got column type {t}", column=name)
    vals = col.to_pylist()
    out = [timestamp_value(v, path=path, line=i + line_offset, field_name=name) for i, v in enumerate(vals)]
    return pa.array(out, pa.timestamp("us", tz="UTC"))


def _strings(col: pa.ChunkedArray, *, path: Path, name: str) -> pa.Array:
    """A text column: strings as they are; numbers as their text; other types (lists, bytes...) refused."""
    arr = col.combine_chunks()
    t = arr.type
    if not (
        pa.types.is_string(t)
        or pa.types.is_large_string(t)
        or pa.types.is_null(t)
        or pa.types.is_integer(t)
        or pa.types.is_dictionary(t)
    ):
        raise InputError(path, f"{name} must be text, got column type {t}", column=name)
    try:
        return arr.cast(pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise InputError(path, f"{name} must be text ({' '.join(str(exc).split())})", column=name) from None


def read(path: Path, opts: ReadOptions | None = None) -> SnapshotBatch:
    """Import one listing file as one snapshot."""
    opts = opts or ReadOptions()
    registry = check_registry(path, FORMAT, opts.registry, ("hf",))
    check_readable(path)
    with open(path, "rb") as f:
        head = f.read(64)
    notes = Notes()
    line_offset: int | None = 2  # CSV: header on line 1; None: rows are not lines (errors name the row)
    kind: str | None
    if _kind(path, head) == "sqlite":
        kind = "sqlite"
        with private_copy(path) as copy:  # what is read is what is hashed
            table, tname = _read_sqlite(path, copy)
        notes.add(f"SQLite table {tname}")
        line_offset = 1  # row number
    else:
        data = read_bytes(path)  # one read: parsed and hashed
        kind = _kind(path, data[:64])
        if kind == "parquet":
            table = _read_parquet(path, data)
            line_offset = None
        elif kind == "csv":
            table = _read_csv(path, data)
        elif kind == "txt":
            table = _read_txt(path, data)
            line_offset = 1
        elif kind == "json":
            table = _read_json_mapping(path, data, notes)
            line_offset = None
        else:
            raise InputError(path, "not a listing this importer knows (SQLite, CSV, Parquet, JSON, .txt id list)")
    names = table.column_names
    check_columns(path, names, ID_COLUMNS + tuple(w for ws in COLUMN_NAMES.values() for w in ws))
    id_col = _find(names, ID_COLUMNS)
    if id_col is None:
        raise InputError(
            path, f"missing required column: a model id (one of {', '.join(ID_COLUMNS)}); found {', '.join(names)}"
        )
    col = {k: _find(names, v) for k, v in COLUMN_NAMES.items()}
    cols: dict[str, Any] = {"raw_id": _strings(table.column(id_col), path=path, name=id_col)}
    if col["downloads"]:
        cols["downloads"] = count_array(
            table.column(col["downloads"]), path=path, field_name=col["downloads"], line_offset=line_offset
        )
        cols["downloads_window"] = pc.if_else(
            pc.is_null(cols["downloads"]), pa.scalar(None, pa.string()), pa.scalar(DOWNLOADS_WINDOW)
        )
    if col["likes"]:
        cols["likes"] = count_array(
            table.column(col["likes"]), path=path, field_name=col["likes"], line_offset=line_offset
        )
    for key in ("task", "sha", "license"):
        if (name := col[key]) is not None:
            cols[key] = _strings(table.column(name), path=path, name=name)
    ids_py = cols["raw_id"].to_pylist()
    if col["author"]:
        cols["author"] = _strings(table.column(col["author"]), path=path, name=col["author"])
    else:
        cols["author"] = [i.split("/", 1)[0] if isinstance(i, str) and "/" in i else None for i in ids_py]
    for key in ("created_at", "last_modified"):
        if (name := col[key]) is not None:
            cols[key] = _timestamps(table.column(name), path=path, name=name, line_offset=line_offset or 1)
    pkg, keep = build_packages(registry, cols, path=path, notes=notes, line_offset=line_offset or 1, id_column=id_col)
    keep_idx = pa.array(keep, pa.int64())
    tables: dict[str, pa.Table] = {"packages": pkg}
    pids = pkg.column("package_id")
    if col["library"]:
        lib = _strings(table.column(col["library"]), path=path, name=col["library"]).take(keep_idx)
        mask = pc.and_(pc.is_valid(lib), pc.not_equal(pc.utf8_trim_whitespace(lib), ""))
        mask = pc.fill_null(mask, False)
        tables["package_libraries"] = to_table(
            "package_libraries",
            {
                "package_id": pids.filter(mask).to_pylist(),
                "library": pc.utf8_lower(lib.filter(mask)).to_pylist(),
                "origin": ["library_name"] * pc.sum(mask.cast(pa.int64())).as_py() if len(mask) else [],
            },
            "",
        )
    if col["has_card"]:
        has = bool_array(
            table.column(col["has_card"]), path=path, field_name=col["has_card"], line_offset=line_offset
        ).take(keep_idx)
        missing = pc.invert(pc.fill_null(has, False))
        n = len(missing)
        tables["cards"] = to_table(
            "cards",
            {
                "package_id": pids.to_pylist(),
                "text": [None] * n,
                "text_sha256": [None] * n,
                "missing": missing.to_pylist(),
            },
            "",
        )
        notes.add(f"cards: existence only ({n - pc.sum(missing.cast(pa.int64())).as_py()} of {n} have one), no text")
    if col["private"]:
        priv = sum(1 for v in table.column(col["private"]).to_pylist() if v in (True, 1, "True", "true", "1"))
        if priv:
            notes.add(f"{priv} rows marked private")
    if kind == "txt":
        notes.add("id list only: no downloads or metadata")
    taken_at = given_date(path, opts, notes)
    if taken_at is None:
        latest = None
        for key in ("last_modified", "created_at"):
            m = pc.max(pkg.column(key)).as_py()
            if m is not None and (latest is None or m > latest):
                latest = m
        if latest is not None:
            taken_at = latest.date()
            notes.add(f"date = latest creation/modification time in the data ({taken_at}); a lower bound")
    if taken_at is None:
        raise need_date(path)
    return finish(path, fmt=FORMAT, registry=registry, taken_at=taken_at, tables=tables, notes=notes)
