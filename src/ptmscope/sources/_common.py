"""Helpers shared by the importers: file reading, value validation, batch assembly."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import json
import math
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from ..errors import InputError

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


def iter_json_lines(path: Path) -> Iterator[tuple[int, Any]]:
    """(line number, parsed value) of a JSON-lines file, gzip or not; blank lines skipped."""
    data = read_bytes(path)
    for lineno, raw in enumerate(io.BytesIO(data), 1):
        if not raw.strip():
            continue
        try:
            yield lineno, json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            col = getattr(exc, "colno", None)
            raise InputError(path, f"invalid JSON ({getattr(exc, 'msg', exc)})", line=lineno, column=col) from exc


def load_json(path: Path) -> Any:
    text = read_text(path)
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
        d = d.replace(tzinfo=dt.timezone.utc)
    return d.astimezone(dt.timezone.utc)


def parse_date(value: str, *, what: str = "--date") -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip()[:10])
    except ValueError:
        raise InputError(what, f"not a date (YYYY-MM-DD): {value!r}") from None


def count_array(values: pa.Array | pa.ChunkedArray, *, path: Path | str, field_name: str, line_offset: int = 1) -> pa.Array:
    """Validate a column of counts in bulk (Arrow): int64, non-negative, nulls kept.

    ``line_offset`` is the file line of row 0 (2 for a CSV with a header).
    """
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
                path, f"{field_name} must be a whole number, got {values[bad].as_py()!r}",
                line=bad + line_offset, column=field_name,
            )
        arr = arr_f.cast(pa.int64())
    elif pa.types.is_string(t) or pa.types.is_large_string(t):
        out = [count_value(v, path=path, line=i + line_offset, field_name=field_name) for i, v in enumerate(values.to_pylist())]
        return pa.array(out, pa.int64())
    else:
        raise InputError(path, f"{field_name} must be numeric, got column type {t}", column=field_name)
    neg = pc.index(pc.fill_null(pc.less(arr, 0), False), True).as_py()
    if neg >= 0:
        raise InputError(
            path, f"{field_name} must not be negative, got {arr[neg].as_py()}", line=neg + line_offset, column=field_name
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


def dedupe_first(ids: list[str], *, source: str, notes: Notes, what: str = "id") -> list[int]:
    """Row indices to keep: the first row of each id.  Repeats are counted in the notes."""
    seen: set[str] = set()
    keep: list[int] = []
    dups: list[str] = []
    for i, pid in enumerate(ids):
        if pid in seen:
            dups.append(pid)
            continue
        seen.add(pid)
        keep.append(i)
    if dups:
        ex = ", ".join(sorted(set(dups))[:3])
        notes.warn(f"{len(dups)} duplicate {what}s (kept the first row of each; e.g. {ex})")
    return keep
