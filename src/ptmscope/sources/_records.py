"""Reading helpers of the dataset, commit-log and dependents importers.

Each input file is read once: the bytes that are hashed are the bytes that
are parsed.  Rows are located by their first line (CSV) or by their 1-based
row number (Parquet), so an error names where it is.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import hashlib
import io
import math
import re
import sys
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputError
from ._common import check_readable, count_value

# Counts above 2**53 are not exact in the float columns most sources use; no registry comes near.
MAX_COUNT = 2**53
_MIN_YEAR, _MAX_YEAR = 1970, 2100
# git's default date format (Tue Jan 25 16:34:18 2022 +0100), parsed without the locale-dependent strptime
_GIT_TIME = re.compile(
    r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +(\d{1,2}) "
    r"(\d{2}):(\d{2}):(\d{2}) (\d{4}) ([+-])(\d{2})(\d{2})"
)
_MONTHS = {m: i for i, m in enumerate("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(), 1)}  # noqa: SIM905

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


@dataclass(frozen=True)
class Source:
    """One input file: its sha256 (of the bytes on disk) and its content (gunzipped when gzip)."""

    path: Path
    sha256: str
    data: bytes

    def text(self) -> str:
        try:
            return self.data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = self.data[: exc.start].count(b"\n") + 1
            raise InputError(self.path, f"not UTF-8 text ({exc.reason})", line=line) from exc


def read_source(path: Path, *, allow_gzip: bool = True) -> Source:
    """Read ``path`` once; a truncated gzip stream or an empty file is an error."""
    check_readable(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc.strerror or exc}") from exc
    sha = hashlib.sha256(raw).hexdigest()
    data = raw
    if allow_gzip and raw[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(raw)
        except (EOFError, OSError, zlib.error) as exc:
            raise InputError(path, f"corrupt or truncated gzip: {exc}") from exc
    if not data.strip():
        raise InputError(path, "empty file (no data after decompression)")
    return Source(path, sha, data)


def combined_sha(*shas: str) -> str:
    """One sha256 for a snapshot read from several files (order matters)."""
    return hashlib.sha256("".join(shas).encode()).hexdigest()


# -- where a row is -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Locator:
    """Turns a row index into ``file:line`` (CSV, JSON lines) or ``(row N)`` (Parquet) in errors."""

    path: Path | str
    lines: Sequence[int] | None = None  # first line of each row; None: rows are not lines

    def error(self, i: int, message: str, column: str | None = None) -> InputError:
        if self.lines is not None:
            return InputError(self.path, message, line=self.lines[i], column=column)
        return InputError(self.path, f"{message} (row {i + 1})", column=column)

    def relocate(self, i: int, exc: InputError) -> InputError:
        """The same error, placed at row ``i``."""
        return self.error(i, exc.message, None if exc.column is None else str(exc.column))


# -- CSV ------------------------------------------------------------------------------------------


def csv_rows(path: Path | str, text: str) -> Iterator[tuple[int, list[str]]]:
    """(first line, fields) of each non-blank CSV record; quoted fields may span lines."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InputError(path, f"malformed CSV: {exc}", line=start) from exc
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        yield start, row


def match_columns(
    path: Path | str,
    header: Sequence[str],
    spec: Mapping[str, tuple[str, ...]],
    required: Sequence[str],
    *,
    line: int | None = 1,
) -> dict[str, int]:
    """canonical name -> column index, first accepted name wins (case-insensitive)."""
    low = {h.strip().lstrip("\ufeff").lower(): i for i, h in reversed(list(enumerate(header)))}
    out: dict[str, int] = {}
    for key, names in spec.items():
        for n in names:
            if n.lower() in low:
                out[key] = low[n.lower()]
                break
    missing = [k for k in required if k not in out]
    if missing:
        want = "; ".join(f"{k} ({' / '.join(spec[k])})" for k in missing)
        found = ", ".join(h.strip() for h in header)[:200]
        raise InputError(path, f"missing required column(s): {want}; found: {found}", line=line)
    return out


# -- values ---------------------------------------------------------------------------------------


def count_of(value: Any, *, path: Path | str, line: int | None, field_name: str) -> int | None:
    """A non-negative whole number no larger than :data:`MAX_COUNT`, or None when absent."""
    if isinstance(value, float) and math.isinf(value):
        raise InputError(path, f"{field_name} out of range: {value!r}", line=line, column=field_name)
    n = count_value(value, path=path, line=line, field_name=field_name)
    if n is not None and n > MAX_COUNT:
        raise InputError(
            path, f"{field_name} out of range (at most {MAX_COUNT}), got {value!r}", line=line, column=field_name
        )
    return n


_TRUE = {"true", "1", "yes", "t", "y"}
_FALSE = {"false", "0", "no", "f", "n"}


def bool_of(value: Any, *, path: Path | str, line: int | None, field_name: str) -> bool | None:
    """A boolean (``True``/``False``, or their usual spellings in text); None when absent."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        s = value.strip().lower()
        if s == "":
            return None
        if s in _TRUE:
            return True
        if s in _FALSE:
            return False
    raise InputError(path, f"{field_name} must be true or false, got {str(value)[:40]!r}", line=line, column=field_name)


def time_of(value: Any, *, path: Path | str, line: int | None, field_name: str) -> tuple[dt.datetime | None, bool]:
    """(aware UTC time, whether the source gave no offset) from ISO 8601 or git's date format.

    A time without an offset is taken as UTC.  Years outside 1970..2100 are refused.
    """
    if value is None:
        return None, False
    if isinstance(value, dt.datetime):
        d, naive = value, value.tzinfo is None
    elif isinstance(value, str):
        s = value.strip()
        if not s:
            return None, False
        try:
            d = dt.datetime.fromisoformat(s)
        except ValueError:
            try:
                d = _git_time(s)
            except ValueError:
                raise InputError(
                    path,
                    f"{field_name} is not a time (ISO 8601, or git's 'Tue Jan 25 16:34:18 2022 +0100'): {s[:40]!r}",
                    line=line,
                    column=field_name,
                ) from None
        naive = d.tzinfo is None
    else:
        raise InputError(path, f"{field_name} must be a time, got {type(value).__name__}", line=line, column=field_name)
    if naive:
        d = d.replace(tzinfo=dt.UTC)
    d = d.astimezone(dt.UTC)
    if not _MIN_YEAR <= d.year <= _MAX_YEAR:
        raise InputError(
            path,
            f"{field_name} out of range ({_MIN_YEAR}..{_MAX_YEAR}): {str(value)[:40]!r}",
            line=line,
            column=field_name,
        )
    return d, naive


def _git_time(s: str) -> dt.datetime:
    m = _GIT_TIME.fullmatch(s)
    if m is None:
        raise ValueError(s)
    mon, day, hh, mm, ss, year, sign, oh, om = m.groups()
    offset = dt.timedelta(hours=int(oh), minutes=int(om)) * (1 if sign == "+" else -1)
    tz = dt.timezone(offset)
    return dt.datetime(int(year), _MONTHS[mon], int(day), int(hh), int(mm), int(ss), tzinfo=tz)


def text_of(value: Any, *, path: Path | str, line: int | None, field_name: str) -> str | None:
    """A string field: text, or None when absent/empty; other types are an error."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if not isinstance(value, str):
        raise InputError(path, f"{field_name} must be text, got {type(value).__name__}", line=line, column=field_name)
    return value if value.strip() else None


def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook`` for :func:`json.loads`: a repeated key is an error, not a silent overwrite."""
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"duplicate key {k!r}")
        out[k] = v
    return out


def owner_of(package_id: str) -> str | None:
    """The Hub namespace of an id (``org/name`` -> ``org``); None for un-namespaced legacy ids."""
    return package_id.split("/", 1)[0] if "/" in package_id else None
