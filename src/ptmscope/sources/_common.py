"""Helpers shared by the importers: file reading, value validation, batch assembly."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import hashlib
import io
import json
import math
import os
import re
import sys
import tempfile
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from ..errors import InputError

if TYPE_CHECKING:
    from ..schema import SnapshotBatch

IMPORTER_VERSION = "1"

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # model cards sit in CSV fields


# -- reading: every byte parsed is a byte hashed ----------------------------------------
#
# An importer must file its rows under the sha256 of exactly the bytes it parsed, even when
# the file is replaced while it is read.  So files are read ONCE through these helpers, which
# hash what they return and remember it (per path, in a context variable that ``plan`` resets
# for each file); ``finish`` takes the sha256 from there, never from a second read.

_READS: ContextVar[dict[str, str] | None] = ContextVar("ptmscope_source_reads", default=None)


def _read_key(path: Path | str) -> str:
    return os.path.abspath(path)


def _record_read(path: Path | str, sha: str) -> None:
    reads = _READS.get()
    if reads is None:
        reads = {}
        _READS.set(reads)
    reads[_read_key(path)] = sha


@contextmanager
def fresh_reads() -> Iterator[None]:
    """Forget earlier reads: what ``finish`` hashes is what the importer read inside this block."""
    token = _READS.set({})
    try:
        yield
    finally:
        _READS.reset(token)


def source_sha256(path: Path | str) -> str:
    """sha256 of the bytes of ``path`` that the last read through these helpers returned."""
    sha = (_READS.get() or {}).get(_read_key(path))
    if sha is None:
        raise RuntimeError(
            f"internal: {path} was not read through ptmscope.sources._common (read_source, read_bytes, "
            "read_text, load_json, private_copy), so the bytes parsed were not hashed"
        )
    return sha


def combined_sha256(shas: dict[str, str]) -> str:
    """One sha256 for an import of several files: of their names and hashes, sorted."""
    return hashlib.sha256("".join(f"{k}\0{v}\n" for k, v in sorted(shas.items())).encode()).hexdigest()


def paired_sha256(listing_sha: str, cards_sha: str) -> str:
    """The sha256 a listing imported with its cards file is filed under: of the two hashes, listing first."""
    return hashlib.sha256((listing_sha + cards_sha).encode()).hexdigest()


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


def read_source(path: Path) -> bytes:
    """The file's bytes as stored, read once; their sha256 is what ``finish`` files the rows under."""
    check_readable(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc.strerror or exc}") from exc
    _record_read(path, hashlib.sha256(raw).hexdigest())
    return raw


def read_bytes(path: Path) -> bytes:
    """The file's content, gunzipped when it is gzip; truncation is an InputError."""
    raw = read_source(path)
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


def decode_text(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(path, f"not UTF-8 text ({exc.reason})", line=line) from exc


def read_text(path: Path) -> str:
    return decode_text(path, read_bytes(path))


@contextmanager
def private_copy(path: Path) -> Iterator[Path]:
    """A private copy of ``path`` (for readers that need a file, e.g. SQLite), hashed as it is copied.

    The copy is what gets parsed, and its bytes are the bytes hashed, whatever
    happens to ``path`` meanwhile.  Removed on exit.
    """
    check_readable(path)
    h = hashlib.sha256()
    fd, name = tempfile.mkstemp(prefix="ptmscope-", suffix=path.suffix)
    tmp = Path(name)
    try:
        try:
            with open(path, "rb") as src, os.fdopen(fd, "wb") as dst:
                for chunk in iter(lambda: src.read(1 << 20), b""):
                    h.update(chunk)
                    dst.write(chunk)
        except OSError as exc:
            raise InputError(
                path, f"cannot read (making a private copy in {tmp.parent}): {exc.strerror or exc}"
            ) from exc
        _record_read(path, h.hexdigest())
        yield tmp
    finally:
        with suppress(OSError):
            tmp.unlink()


# -- JSON: strict about what JSON leaves open ---------------------------------------------


class KeyRepeats:
    """Keys repeated within one JSON object: the FIRST value is kept, the repeats are counted.

    ``hook`` is a ``json.loads`` ``object_pairs_hook`` (Python's default keeps
    the last value silently).  A mapping whose keys are ids (npm
    ``counts.json``) keeps its repeated pairs in ``repeated_pairs`` so the
    importer can treat them as repeated rows.
    """

    def __init__(self) -> None:
        self.count = 0
        self.examples: list[str] = []
        self.repeated_pairs: list[tuple[str, Any]] = []

    def hook(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out = dict(pairs)
        if len(out) == len(pairs):
            return out
        out = {}
        for k, v in pairs:
            if k in out:
                self.count += 1
                self.repeated_pairs.append((k, v))
                if k not in self.examples and len(self.examples) < 3:
                    self.examples.append(k)
            else:
                out[k] = v
        return out

    def note(self, notes: Notes, where: str = "JSON objects") -> None:
        if self.count:
            ex = ", ".join(self.examples)
            notes.warn(f"{self.count} repeated keys in {where} (kept the first value of each; e.g. {ex})")


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_SURROGATE_ESCAPE_B = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _lone_surrogate(value: Any) -> str | None:
    """The first string (or key) holding a lone UTF-16 surrogate, which is not Unicode text."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            if any("\ud800" <= c <= "\udfff" for c in v):
                return v
        elif isinstance(v, dict):
            stack.extend(v.keys())
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return None


def _json_loads(text: str | bytes, repeats: KeyRepeats | None) -> Any:
    value = json.loads(text, object_pairs_hook=(repeats or KeyRepeats()).hook)
    escapes = _SURROGATE_ESCAPE.search(text) if isinstance(text, str) else _SURROGATE_ESCAPE_B.search(text)
    if escapes:  # rare: only then look for escapes that decode to lone surrogates
        bad = _lone_surrogate(value)
        if bad is not None:
            shown = bad.encode("utf-8", "backslashreplace").decode("ascii", "replace")[:40]
            raise ValueError(f"a lone surrogate escape in '{shown}' is not Unicode text")
    return value


def _json_error(path: Path, exc: Exception, line: int | None = None) -> InputError:
    if isinstance(exc, json.JSONDecodeError):
        return InputError(
            path, f"invalid JSON ({exc.msg})", line=exc.lineno if line is None else line, column=exc.colno
        )
    if isinstance(exc, RecursionError):
        return InputError(path, "invalid JSON (nested too deeply)", line=line)
    return InputError(path, f"invalid JSON ({exc})", line=line)  # e.g. a number of thousands of digits


def iter_json_lines(
    path: Path, data: bytes | None = None, *, repeats: KeyRepeats | None = None
) -> Iterator[tuple[int, Any]]:
    """(line number, parsed value) of a JSON-lines file, gzip or not; blank lines skipped."""
    if data is None:
        data = read_bytes(path)
    for lineno, raw in enumerate(io.BytesIO(data), 1):
        if not raw.strip():
            continue
        try:
            yield lineno, _json_loads(raw.rstrip(b"\r\n"), repeats)
        except UnicodeDecodeError as exc:
            raise InputError(path, f"invalid JSON ({exc.reason})", line=lineno) from exc
        except (ValueError, RecursionError) as exc:
            raise _json_error(path, exc, lineno) from exc


def load_json(path: Path, data: bytes | None = None, *, repeats: KeyRepeats | None = None) -> Any:
    text = read_text(path) if data is None else decode_text(path, data)
    try:
        return _json_loads(text, repeats)
    except (ValueError, RecursionError) as exc:
        raise _json_error(path, exc) from exc


def loads_json_field(
    text: str, *, path: Path | str, line: int | None, column: str, repeats: KeyRepeats | None = None
) -> Any:
    """A JSON value held in one field of a row (a CSV column of JSON), errors naming row and column."""
    try:
        return _json_loads(text, repeats)
    except json.JSONDecodeError as exc:
        raise InputError(path, f"{column} is not JSON ({exc.msg})", line=line, column=column) from None
    except (ValueError, RecursionError) as exc:
        raise InputError(
            path, f"{column} is not JSON ({_json_error(Path(path), exc).message})", line=line, column=column
        ) from None


# -- CSV ------------------------------------------------------------------------------------


def check_header(path: Path | str, names: list[str], *, line: int | None = 1) -> None:
    """Refuse a header that names a column twice (which of the two would be meant?)."""
    seen: dict[str, int] = {}
    for i, n in enumerate(names, 1):
        key = n.strip()
        if key in seen:
            raise InputError(
                path, f"column {key!r} appears twice in the header (columns {seen[key]} and {i})", line=line
            )
        seen[key] = i


def check_columns(path: Path | str, names: list[str], accepted: Iterable[str], *, line: int | None = None) -> None:
    """Refuse a column named twice, or two spellings of a column read here (``downloads``, ``Downloads``)."""
    check_header(path, names, line=line)
    wanted = {w.lower() for w in accepted}
    seen: dict[str, str] = {}
    for n in names:
        k = n.strip().lower()
        if k in wanted and k in seen:
            raise InputError(path, f"columns {seen[k]!r} and {n!r} differ only in case; which one is meant?", line=line)
        seen[k] = n


def csv_records(
    path: Path | str, text: str, *, delimiter: str = ",", header: bool = True, strict: bool = False
) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Header and ``(line, row)`` of CSV text; a row with another number of fields than the header is an error.

    ``line`` is the file line where the record starts (quoted values may span
    lines).  Blank lines are skipped.  ``header=False``: the text has no
    header; fields are named ``1``, ``2``, ... and every row must have as many
    as the first.  ``strict``: a quote must close a field (``"a"b`` is an error).
    """
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, strict=strict)
    names: list[str] | None = None
    rows: list[tuple[int, dict[str, str]]] = []
    end = 0
    try:
        for rec in reader:
            start, end = end + 1, reader.line_num
            if header and names is None:
                names = [h.strip() for h in rec]
                check_header(path, names, line=start)
                continue
            if not rec:
                continue
            if names is None:
                names = [str(i) for i in range(1, len(rec) + 1)]
            if len(rec) != len(names):
                ref = "the header" if header else "the first row"
                raise InputError(path, f"row has {len(rec)} fields, {ref} has {len(names)} (malformed CSV)", line=start)
            rows.append((start, dict(zip(names, rec, strict=True))))
    except csv.Error as exc:
        raise InputError(path, f"malformed CSV: {exc}", line=reader.line_num) from exc
    if names is None:
        raise InputError(path, "empty CSV (no header)" if header else "empty CSV (no rows)", line=1)
    return names, rows


# -- value validation: one checked conversion for every number ---------------------------

INT64_MAX = 2**63 - 1  # the store's BIGINT
_MISSING_TEXT = ("", "na", "nan", "null", "none")


def _show(value: Any, *, number: bool = False) -> str:
    """A value as the message shows it: numbers as written (1e+300), other text quoted; long text cut."""
    if isinstance(value, str):
        text = value.strip() if number else value
        text = text[:40] + ("…" if len(text) > 40 else "")
        return text if number else repr(text)
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _range_text(low: int, high: int) -> str:
    return f"({low} … {'2^63-1' if high == INT64_MAX else high})"


def checked_int(
    value: Any,
    *,
    path: Path | str,
    line: int | None,
    field_name: str,
    column: str | None = None,
    low: int = 0,
    high: int = INT64_MAX,
    text: bool = True,
) -> int | None:
    """A whole number in ``low .. high`` (default: a count that fits the store), or None when absent.

    Accepts ints, integral floats (``64243.0``, how pandas writes counts with
    nulls) and, when ``text`` (CSV, SQLite), text of either; NaN and
    empty/``NA`` text are absent.  Booleans, fractions, other text and other
    types, text where the source has types (JSON: ``"12"``), and numbers out of
    range are an :class:`InputError` naming file, line and column.
    """
    col = column or field_name
    if value is None:
        return None
    if isinstance(value, bool):
        raise InputError(path, f"{field_name} must be a number, got {value!r}", line=line, column=col)
    shown = value
    if isinstance(value, str) and not text:
        raise InputError(path, f"{field_name} must be a number, got text {_show(value)}", line=line, column=col)
    if isinstance(value, str):
        written = value.strip()
        if written.lower() in _MISSING_TEXT:
            return None
        if "_" in written:  # Python reads 1_000 as a number; data does not
            raise InputError(path, f"{field_name} must be a number, got {_show(shown)}", line=line, column=col)
        try:
            value = int(written)
        except ValueError:
            try:
                value = float(written)
            except ValueError:
                raise InputError(
                    path, f"{field_name} must be a number, got {_show(shown)}", line=line, column=col
                ) from None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if value < 0 <= low and not math.isinf(value):
            raise InputError(path, f"{field_name} must not be negative, got {_show(shown)}", line=line, column=col)
        if math.isinf(value) or not low <= value <= high:
            raise InputError(
                path,
                f"{field_name} {_show(shown, number=True)} out of range {_range_text(low, high)}",
                line=line,
                column=col,
            )
        if not value.is_integer():
            raise InputError(path, f"{field_name} must be a whole number, got {_show(shown)}", line=line, column=col)
        value = int(value)
    if not isinstance(value, int):
        raise InputError(path, f"{field_name} must be a number, got {type(value).__name__}", line=line, column=col)
    if value < 0 <= low:
        raise InputError(path, f"{field_name} must not be negative, got {value}", line=line, column=col)
    if not low <= value <= high:
        raise InputError(
            path,
            f"{field_name} {_show(shown, number=True)} out of range {_range_text(low, high)}",
            line=line,
            column=col,
        )
    return value


def count_value(value: Any, *, path: Path | str, line: int | None, field_name: str, text: bool = True) -> int | None:
    """A download/like count: a non-negative integer that fits the store, or None when absent."""
    return checked_int(value, path=path, line=line, field_name=field_name, text=text)


# git's default date format (Tue Jan 25 16:34:18 2022 +0100), parsed without the locale-dependent strptime
_GIT_TIME = re.compile(
    r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +(\d{1,2}) "
    r"(\d{2}):(\d{2}):(\d{2}) (\d{4}) ([+-])(\d{2})(\d{2})"
)
_MONTHS = {
    m: i for i, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)
}


def _git_time(s: str) -> dt.datetime | None:
    m = _GIT_TIME.fullmatch(s)
    if m is None:
        return None
    mon, day, hh, mm, ss, year, sign, oh, om = m.groups()
    offset = dt.timedelta(hours=int(oh), minutes=int(om)) * (1 if sign == "+" else -1)
    try:
        return dt.datetime(int(year), _MONTHS[mon], int(day), int(hh), int(mm), int(ss), tzinfo=dt.timezone(offset))
    except ValueError:
        return None


def time_value(
    value: Any,
    *,
    path: Path | str,
    line: int | None,
    field_name: str,
    git: bool = False,
    years: tuple[int, int] = (1, 9999),
) -> tuple[dt.datetime | None, bool]:
    """(aware UTC time, whether the source gave no offset), or (None, False) when absent.

    ISO 8601 (``Z``, offsets, space separator), and with ``git`` also git's
    ``Tue Jan 25 16:34:18 2022 +0100``; a time without an offset is read as
    UTC.  A time outside ``years`` is out of range.
    """
    if value is None:
        return None, False
    if isinstance(value, dt.datetime):
        d = value
    elif isinstance(value, str):
        s = value.strip()
        if not s:
            return None, False
        try:
            d = dt.datetime.fromisoformat(s)
        except ValueError:
            found = _git_time(s) if git else None
            if found is None:
                what = (
                    "a time (ISO 8601, or git's 'Tue Jan 25 16:34:18 2022 +0100')" if git else "an ISO-8601 timestamp"
                )
                raise InputError(
                    path, f"{field_name} is not {what}: {value[:40]!r}", line=line, column=field_name
                ) from None
            d = found
    else:
        raise InputError(
            path, f"{field_name} must be a timestamp string, got {type(value).__name__}", line=line, column=field_name
        )
    naive = d.tzinfo is None
    try:
        utc = (d.replace(tzinfo=dt.UTC) if naive else d).astimezone(dt.UTC)
    except OverflowError:
        utc = None
    low, high = years
    if utc is None or not low <= utc.year <= high:
        raise InputError(
            path,
            f"{field_name} {_show(str(value), number=True)} out of range (years {low} … {high} in UTC)",
            line=line,
            column=field_name,
        )
    return utc, naive


def timestamp_value(value: Any, *, path: Path | str, line: int | None, field_name: str) -> dt.datetime | None:
    """An ISO-8601 timestamp (``Z``, offsets, space separator), as aware UTC; None if absent."""
    return time_value(value, path=path, line=line, field_name=field_name)[0]


def text_value(value: Any, *, path: Path | str, line: int | None, field_name: str) -> str | None:
    """A text field: a string or absent; any other type is an error (never silently dropped)."""
    if value is None or isinstance(value, str):
        return value
    raise InputError(path, f"{field_name} must be text, got {type(value).__name__}", line=line, column=field_name)


def parse_date(value: str, *, what: str = "--date") -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip()[:10])
    except ValueError:
        raise InputError(what, f"not a date (YYYY-MM-DD): {value!r}") from None


def count_array(
    values: pa.Array | pa.ChunkedArray, *, path: Path | str, field_name: str, line_offset: int | None = 1
) -> pa.Array:
    """Validate a column of counts in bulk (Arrow): int64, non-negative, in range, nulls kept.

    ``line_offset`` is the file line of row 0 (2 for a CSV with a header);
    ``None`` when rows are not lines (a JSON document, a Parquet file): errors
    then name the 1-based row in the column instead.
    """
    try:
        return _count_array(values, path=path, field_name=field_name, line_offset=line_offset or 1)
    except InputError as exc:
        if line_offset is not None or exc.line is None:
            raise
        raise InputError(path, f"{exc.message} (row {exc.line})", column=exc.column) from None


def count_list(
    values: list[Any], *, path: Path | str, field_name: str, line_offset: int | None = 1, text: bool = True
) -> pa.Array:
    """:func:`count_value` over parsed values of any type, as int64; errors as in :func:`count_array`."""
    try:
        return _count_list(values, path=path, field_name=field_name, line_offset=line_offset or 1, text=text)
    except InputError as exc:
        if line_offset is not None or exc.line is None:
            raise
        raise InputError(path, f"{exc.message} (row {exc.line})", column=exc.column) from None


def _count_list(
    values: list[Any], *, path: Path | str, field_name: str, line_offset: int, text: bool = True
) -> pa.Array:
    out = [
        count_value(v, path=path, line=i + line_offset, field_name=field_name, text=text) for i, v in enumerate(values)
    ]
    return pa.array(out, pa.int64())


def _first(mask: pa.Array) -> int:
    import pyarrow.compute as pc

    return int(pc.index(pc.fill_null(mask, False), True).as_py())


def _count_array(
    values: pa.Array | pa.ChunkedArray, *, path: Path | str, field_name: str, line_offset: int
) -> pa.Array:
    import pyarrow.compute as pc

    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    t = values.type

    def per_row() -> pa.Array:  # exact, with the value as written in the message
        return _count_list(values.to_pylist(), path=path, field_name=field_name, line_offset=line_offset)

    if pa.types.is_null(t):
        return pa.nulls(len(values), pa.int64())
    if pa.types.is_unsigned_integer(t) and t.bit_width == 64:
        big = _first(pc.greater(values, pa.scalar(INT64_MAX, t)))
        if big >= 0:
            return per_row()
        arr = values.cast(pa.int64())
    elif pa.types.is_integer(t):
        arr = values.cast(pa.int64())
    elif pa.types.is_floating(t):
        arr_f = pc.if_else(pc.is_nan(values), pa.scalar(None, t), values)
        bad = pc.or_(pc.not_equal(arr_f, pc.floor(arr_f)), pc.greater_equal(pc.abs(arr_f), 2.0**63))
        if _first(bad) >= 0:
            return per_row()
        arr = arr_f.cast(pa.int64())
    elif pa.types.is_string(t) or pa.types.is_large_string(t):
        try:
            arr = values.cast(pa.int64())  # the common case: digits only
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return per_row()
    else:
        raise InputError(path, f"{field_name} must be numeric, got column type {t}", column=field_name)
    neg = _first(pc.less(arr, 0))
    if neg >= 0:
        raise InputError(
            path,
            f"{field_name} must not be negative, got {arr[neg].as_py()}",
            line=neg + line_offset,
            column=field_name,
        )
    return arr


_TRUE = ("true", "1", "yes", "t", "y")
_FALSE = ("false", "0", "no", "f", "n")


def bool_value(value: Any, *, path: Path | str, line: int | None, field_name: str) -> bool | None:
    """A yes/no value: a boolean, 0/1, or true/false text (``yes``, ``t``, ...); None when absent."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE + _MISSING_TEXT:
        t = value.strip().lower()
        return None if t in _MISSING_TEXT else t in _TRUE
    raise InputError(path, f"{field_name} must be true or false, got {_show(value)}", line=line, column=field_name)


def bool_array(
    values: pa.Array | pa.ChunkedArray, *, path: Path | str, field_name: str, line_offset: int | None = 1
) -> pa.Array:
    """A yes/no column: booleans, 0/1, or true/false text; anything else names its row."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if pa.types.is_boolean(values.type):
        return values
    if pa.types.is_null(values.type):
        return pa.nulls(len(values), pa.bool_())
    out: list[bool | None] = []
    for i, v in enumerate(values.to_pylist()):
        try:
            out.append(bool_value(v, path=path, line=i + (line_offset or 1), field_name=field_name))
        except InputError as exc:
            if line_offset is not None:
                raise
            raise InputError(path, f"{exc.message} (row {i + 1})", column=exc.column) from None
    return pa.array(out, pa.bool_())


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
    """Rows of ``snapshots.csv`` in ``directory`` keyed by their ``file`` column (empty when absent).

    A file listed twice keeps its first row (the rule for every repeated key).
    """
    p = directory / "snapshots.csv"
    if not p.is_file():
        return {}
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise InputError(p, f"cannot read: {exc.strerror or exc}") from exc
    header, rows = csv_records(p, decode_text(p, data))
    if "file" not in header:
        return {}
    out: dict[str, dict[str, str]] = {}
    for _, r in rows:
        if r.get("file"):
            out.setdefault(r["file"], r)
    return out


def sidecar_for(path: Path, opts: ReadOptions) -> dict[str, str] | None:
    side = opts.sidecar if opts.sidecar is not None else sidecar_rows(path.parent)
    return side.get(path.name)


def sidecar_date(path: Path, side: dict[str, str] | None, column: str) -> dt.date | None:
    """The date ``column`` of a file's ``snapshots.csv`` row, None when absent; not a date is an error."""
    value = (side or {}).get(column) or ""
    if not value.strip():
        return None
    try:
        return dt.date.fromisoformat(value.strip()[:10])
    except ValueError:
        raise InputError(
            path.parent / "snapshots.csv", f"{column} of {path.name} is not a date: {value[:30]!r}", column=column
        ) from None


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


def given_date(path: Path, opts: ReadOptions, notes: Notes) -> dt.date | None:
    """The date the caller or the files around the data give: ``--date``, else the file's ``snapshots.csv`` row
    (``snapshot_date``), else a ``YYYY-MM-DD`` in its name (noted); None when none does."""
    if opts.taken_at is not None:
        return opts.taken_at
    taken = sidecar_date(path, sidecar_for(path, opts), "snapshot_date")
    if taken is None:
        taken = date_in_name(path.name)
        if taken is not None:
            notes.add(f"date taken from the file name ({taken})")
    return taken


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

    sha = sha or source_sha256(path)
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
