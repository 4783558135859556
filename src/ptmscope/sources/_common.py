"""Helpers shared by the importers: file reading, value validation, batch assembly."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import json
import math
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from ..errors import InputError

if TYPE_CHECKING:
    from ..schema import SnapshotBatch

IMPORTER_VERSION = "1"


def file_sha256(path: Path) -> str:
    """sha256 of the file's bytes as stored (compressed files are hashed compressed)."""
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc.strerror or exc}") from exc
    return h.hexdigest()


def check_readable(path: Path) -> None:
    if not path.exists():
        raise InputError(path, "no such file")
    if path.is_dir():
        raise InputError(path, "is a directory (pass a file, or a directory of one format)")
    try:
        with open(path, "rb") as f:
            f.read(1)
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc.strerror or exc}") from exc
    if path.stat().st_size == 0:
        raise InputError(path, "empty file")


def is_gzip(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(2) == b"\x1f\x8b"


def read_bytes(path: Path) -> bytes:
    """The file's content, gunzipped when it is gzip; truncation is an InputError."""
    check_readable(path)
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(raw)
        except (EOFError, OSError, zlib.error) as exc:
            raise InputError(path, f"corrupt or truncated gzip: {exc}") from exc
    else:
        data = raw
    if not data.strip():
        raise InputError(path, "empty file (no data after decompression)")
    return data


def read_text(path: Path) -> str:
    data = read_bytes(path)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(path, f"not UTF-8 text ({exc.reason})", line=line) from exc


def iter_json_lines(path: Path, data: bytes | None = None) -> Iterator[tuple[int, Any]]:
    """(line number, parsed value) of a JSON-lines file, gzip or not; blank lines skipped."""
    if data is None:
        data = read_bytes(path)
    for lineno, raw in enumerate(io.BytesIO(data), 1):
        if not raw.strip():
            continue
        try:
            yield lineno, json.loads(raw.rstrip(b"\r\n"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            col = getattr(exc, "colno", None)
            raise InputError(path, f"invalid JSON ({getattr(exc, 'msg', exc)})", line=lineno, column=col) from exc


def load_json(path: Path, data: bytes | None = None) -> Any:
    if data is None:
        text = read_text(path)
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InputError(path, f"not UTF-8 text ({exc.reason})", line=data[: exc.start].count(b"\n") + 1) from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(path, f"invalid JSON ({exc.msg})", line=exc.lineno, column=exc.colno) from exc


# -- value validation ------------------------------------------------------------


def count_value(value: Any, *, path: Path | str, line: int | None, field_name: str) -> int | None:
    """A download/like count: a non-negative integer, or None when absent.

    Accepts integral floats (``64243.0``, how pandas writes counts with nulls)
    and strings of digits (CSV); rejects booleans, fractions, text, negatives.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise InputError(path, f"{field_name} must be a number, got {value!r}", line=line, column=field_name)
    if isinstance(value, int):
        n = value
    elif isinstance(value, float):
        if math.isnan(value):
            return None
        if not value.is_integer():
            raise InputError(path, f"{field_name} must be a whole number, got {value!r}", line=line, column=field_name)
        n = int(value)
    elif isinstance(value, str):
        s = value.strip()
        if s == "" or s.lower() in ("na", "nan", "null", "none"):
            return None
        try:
            f = float(s)
        except ValueError:
            raise InputError(
                path, f"{field_name} must be a number, got {value[:40]!r}", line=line, column=field_name
            ) from None
        if not f.is_integer():
            raise InputError(path, f"{field_name} must be a whole number, got {value!r}", line=line, column=field_name)
        n = int(f)
    else:
        raise InputError(
            path, f"{field_name} must be a number, got {type(value).__name__}", line=line, column=field_name
        )
    if n < 0:
        raise InputError(path, f"{field_name} must not be negative, got {n}", line=line, column=field_name)
    return n


def timestamp_value(value: Any, *, path: Path | str, line: int | None, field_name: str) -> dt.datetime | None:
    """An ISO-8601 timestamp (``Z``, offsets, space separator), as aware UTC; None if absent."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        d = value
    elif isinstance(value, str):
        s = value.strip()
        try:
            d = dt.datetime.fromisoformat(s)
        except ValueError:
            raise InputError(
                path, f"{field_name} is not an ISO-8601 timestamp: {value[:40]!r}", line=line, column=field_name
            ) from None
    else:
        raise InputError(
            path, f"{field_name} must be a timestamp string, got {type(value).__name__}", line=line, column=field_name
        )
    if d.tzinfo is None:
        d = d.replace(tzinfo=dt.UTC)
    return d.astimezone(dt.UTC)


def parse_date(value: str, *, what: str = "--date") -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip()[:10])
    except ValueError:
        raise InputError(what, f"not a date (YYYY-MM-DD): {value!r}") from None


def count_array(
    values: pa.Array | pa.ChunkedArray, *, path: Path | str, field_name: str, line_offset: int | None = 1
) -> pa.Array:
    """Validate a column of counts in bulk (Arrow): int64, non-negative, nulls kept.

    ``line_offset`` is the file line of row 0 (2 for a CSV with a header);
    ``None`` when rows are not lines (a JSON document): errors then name the
    1-based row in the column instead.
    """
    try:
        return _count_array(values, path=path, field_name=field_name, line_offset=line_offset or 1)
    except InputError as exc:
        if line_offset is not None or exc.line is None:
            raise
        raise InputError(path, f"{exc.message} (row {exc.line})", column=exc.column) from None


def _count_array(
    values: pa.Array | pa.ChunkedArray, *, path: Path | str, field_name: str, line_offset: int
) -> pa.Array:
    import pyarrow.compute as pc

    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    t = values.type
    if pa.types.is_null(t):
        return pa.nulls(len(values), pa.int64())
    if pa.types.is_integer(t):
        arr = values.cast(pa.int64())
    elif pa.types.is_floating(t):
        arr_f = pc.if_else(pc.is_nan(values), pa.scalar(None, t), values)
        frac = pc.not_equal(arr_f, pc.floor(arr_f))
        bad = pc.index(pc.fill_null(frac, False), True).as_py()
        if bad >= 0:
            raise InputError(
                path,
                f"{field_name} must be a whole number, got {values[bad].as_py()!r}",
                line=bad + line_offset,
                column=field_name,
            )
        arr = arr_f.cast(pa.int64())
    elif pa.types.is_string(t) or pa.types.is_large_string(t):
        out = [
            count_value(v, path=path, line=i + line_offset, field_name=field_name)
            for i, v in enumerate(values.to_pylist())
        ]
        return pa.array(out, pa.int64())
    else:
        raise InputError(path, f"{field_name} must be numeric, got column type {t}", column=field_name)
    neg = pc.index(pc.fill_null(pc.less(arr, 0), False), True).as_py()
    if neg >= 0:
        raise InputError(
            path,
            f"{field_name} must not be negative, got {arr[neg].as_py()}",
            line=neg + line_offset,
            column=field_name,
        )
    return arr


# -- assembly --------------------------------------------------------------------


@dataclass
class Notes:
    """Coverage remarks collected while importing; joined into ``snapshots.notes``."""

    items: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def add(self, text: str) -> None:
        if text and text not in self.items:
            self.items.append(text)

    def warn(self, text: str) -> None:
        self.warnings.append(text)
        self.add(text)

    def text(self) -> str | None:
        return "; ".join(self.items) or None


def dedupe_first(ids: list[str] | pa.Array, *, source: str, notes: Notes, what: str = "id") -> list[int]:
    """Row indices to keep: the first row of each id.  Repeats are counted in the notes."""
    import pyarrow.compute as pc

    arr = ids if isinstance(ids, pa.Array) else pa.array(ids, pa.string())
    n = len(arr)
    if n == 0:
        return []
    t = pa.table({"id": arr, "i": pa.array(range(n), pa.int64())})
    g = t.group_by("id", use_threads=False).aggregate([("i", "min"), ("i", "count")])
    if g.num_rows == n:
        return list(range(n))
    keep = pc.sort_indices(g.column("i_min"))
    first = g.column("i_min").take(keep).to_pylist()
    counts = g.column("i_count")
    multi = g.filter(pc.greater(counts, 1))
    n_dup = n - g.num_rows
    ex = ", ".join(sorted(multi.column("id").to_pylist())[:3])
    notes.warn(f"{n_dup} duplicate {what}s (kept the first row of each; e.g. {ex})")
    return first


@dataclass
class ReadOptions:
    """What the caller knows that the data may not say."""

    registry: str | None = None  # override of the format's registry
    taken_at: dt.date | None = None  # --date: overrides any date in the data
    cards_path: Path | None = None
    aliases: dict[str, str] | None = None
    sidecar: dict[str, dict[str, str]] | None = None  # file name -> its row of a snapshots.csv beside it


def sidecar_rows(directory: Path) -> dict[str, dict[str, str]]:
    """Rows of ``snapshots.csv`` in ``directory`` keyed by their ``file`` column (empty when absent)."""
    import csv

    p = directory / "snapshots.csv"
    if not p.is_file():
        return {}
    try:
        text = p.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(p, f"cannot read: {exc.strerror or exc}") from exc
    rows = list(csv.DictReader(text.splitlines()))
    if rows and "file" not in rows[0]:
        return {}
    return {r["file"]: r for r in rows if r.get("file")}


def sidecar_for(path: Path, opts: ReadOptions) -> dict[str, str] | None:
    side = opts.sidecar if opts.sidecar is not None else sidecar_rows(path.parent)
    return side.get(path.name)


_DATE_IN_NAME = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")


def date_in_name(name: str) -> dt.date | None:
    """A full ``YYYY-MM-DD`` date in a file name (``repo_names_2022-08-15.txt``), else None."""
    m = _DATE_IN_NAME.search(name)
    if not m:
        return None
    try:
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def need_date(path: Path) -> InputError:
    return InputError(path, "the data carries no collection date; pass --date YYYY-MM-DD")


def normalise_ids(registry: str, raw: list[Any], *, path: Path | str, line_offset: int, column: str) -> list[str]:
    """Canonical package ids; an empty or non-text id is an error naming its line."""
    return normalise_id_array(registry, raw, path=path, line_offset=line_offset, column=column).to_pylist()


def normalise_id_array(
    registry: str, raw: list[Any] | pa.Array, *, path: Path | str, line_offset: int, column: str
) -> pa.Array:
    """:func:`ptmscope.aliases.normalise_id` over a column, in Arrow (no per-row Python)."""
    import pyarrow.compute as pc

    try:
        arr = raw if isinstance(raw, pa.Array) else pa.array(raw, pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        bad = next(i for i, r in enumerate(raw) if not isinstance(r, str) and r is not None)
        raise InputError(path, f"id is not text ({raw[bad]!r})", line=bad + line_offset, column=column) from None
    if not pa.types.is_string(arr.type):
        arr = arr.cast(pa.string())
    trimmed = pc.utf8_trim_whitespace(arr)
    bad_mask = pc.fill_null(pc.equal(trimmed, ""), True)
    bad = pc.index(bad_mask, True).as_py()
    if bad >= 0:
        raise InputError(path, f"empty or missing id ({arr[bad].as_py()!r})", line=bad + line_offset, column=column)
    if registry == "pypi":
        return pc.utf8_lower(pc.replace_substring_regex(trimmed, pattern=r"[-_.]+", replacement="-"))
    if registry == "npm":
        return pc.utf8_lower(trimmed)
    return trimmed


def build_packages(
    registry: str,
    cols: dict[str, Any],
    *,
    path: Path | str,
    notes: Notes,
    line_offset: int,
    id_column: str,
) -> tuple[pa.Table, list[int]]:
    """The canonical ``packages`` table from column lists/arrays (``raw_id`` required).

    Ids are normalised; a repeated id keeps its first row (counted in the
    notes).  Returns the table (snapshot_id still empty) and the kept row
    indices, so callers can filter rows of their other tables the same way.
    """
    from ..schema import PACKAGES

    raw = cols["raw_id"]
    if isinstance(raw, pa.ChunkedArray):
        raw = raw.combine_chunks()
    raw_arr = raw if isinstance(raw, pa.Array) else None
    if raw_arr is None:
        try:
            raw_arr = pa.array(list(raw), pa.string())
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            raw_arr = None
    ids = normalise_id_array(
        registry, raw_arr if raw_arr is not None else list(raw), path=path, line_offset=line_offset, column=id_column
    )
    keep = dedupe_first(ids, source=str(path), notes=notes)
    n = len(ids)
    arrays = []
    for f in PACKAGES:
        if f.name == "snapshot_id":
            arr = pa.nulls(n, pa.string())
        elif f.name == "package_id":
            arr = ids
        elif f.name == "raw_id":
            arr = raw_arr
        elif f.name in cols and cols[f.name] is not None:
            v = cols[f.name]
            arr = v if isinstance(v, (pa.Array, pa.ChunkedArray)) else pa.array(v, type=f.type)
            if isinstance(arr, pa.ChunkedArray):
                arr = arr.combine_chunks()
            if arr.type != f.type:
                arr = arr.cast(f.type)
        else:
            arr = pa.nulls(n, f.type)
        arrays.append(arr)
    table = pa.Table.from_arrays(arrays, schema=PACKAGES)
    if len(keep) != n:
        table = table.take(pa.array(keep, pa.int64()))
    return table, keep


def finish(
    path: Path,
    *,
    fmt: str,
    registry: str,
    taken_at: dt.date,
    tables: dict[str, pa.Table],
    notes: Notes,
    sha: str | None = None,
    manifest: dict[str, Any] | None = None,
) -> SnapshotBatch:
    """Fill snapshot ids, add coverage notes, wrap as a :class:`SnapshotBatch`."""
    from ..schema import Snapshot, SnapshotBatch, make_snapshot_id

    sha = sha or file_sha256(path)
    sid = make_snapshot_id(registry, taken_at, sha)
    pkg = tables["packages"]
    if pkg.num_rows == 0:
        raise InputError(path, "no rows (nothing to import)")
    nulls = pkg.column("downloads").null_count
    if nulls == pkg.num_rows:
        notes.add("no download counts in this source")
    elif nulls:
        notes.add(f"{nulls} of {pkg.num_rows} rows without downloads (kept, as null)")
    out = {}
    for k, t in tables.items():
        out[k] = t.set_column(0, "snapshot_id", pa.repeat(pa.scalar(sid, pa.string()), t.num_rows))
    snap = Snapshot(
        snapshot_id=sid,
        registry=registry,
        taken_at=taken_at,
        source_format=fmt,
        source_file=str(path),
        source_sha256=sha,
        row_count=pkg.num_rows,
        importer_version=IMPORTER_VERSION,
        notes=notes.text(),
        manifest=json.dumps(manifest, sort_keys=True) if manifest else None,
    )
    return SnapshotBatch(snap, out, list(notes.warnings))


def check_registry(path: Path, fmt: str, wanted: str | None, allowed: tuple[str, ...]) -> str:
    reg = wanted or allowed[0]
    if reg not in allowed:
        raise InputError(path, f"format {fmt} holds {'/'.join(allowed)} data, not registry {reg!r}")
    return reg
