"""Helpers of the dataset, commit-log and dependents importers that :mod:`._common` has no counterpart for.

Reading, hashing, numbers, yes/no values, times, repeated JSON keys and CSV
field counts all go through :mod:`._common`; what is here finds a row's
columns by their accepted names and says where a row is when rows are not
lines (Parquet).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputError
from ._common import check_columns, text_value

# commit and creation times outside these years are typos or placeholders, not times
PLAUSIBLE_YEARS = (1970, 2100)


@dataclass(frozen=True)
class Locator:
    """Turns a row index into ``file:line`` (CSV) or ``(row N)`` (Parquet) in errors."""

    path: Path | str
    lines: Sequence[int] | None = None  # first line of each row; None: rows are not lines

    def line(self, i: int) -> int | None:
        return None if self.lines is None else self.lines[i]

    def error(self, i: int, message: str, column: str | None = None) -> InputError:
        if self.lines is not None:
            return InputError(self.path, message, line=self.lines[i], column=column)
        return InputError(self.path, f"{message} (row {i + 1})", column=column)

    def relocate(self, i: int, exc: InputError) -> InputError:
        """The same error, placed at row ``i``."""
        return self.error(i, exc.message, None if exc.column is None else str(exc.column))


def match_columns(
    path: Path | str,
    header: Sequence[str],
    spec: Mapping[str, tuple[str, ...]],
    required: Sequence[str],
    *,
    line: int | None = 1,
) -> dict[str, str]:
    """canonical name -> the header's column, first accepted name wins (case-insensitive).

    A column named twice, or two spellings of an accepted name, is an error
    (which one would be meant?).
    """
    names = [h.strip() for h in header]
    check_columns(path, names, (n for ns in spec.values() for n in ns), line=line)
    low = {h.lower(): h for h in names}
    out: dict[str, str] = {}
    for key, accepted in spec.items():
        found = next((low[n.lower()] for n in accepted if n.lower() in low), None)
        if found is not None:
            out[key] = found
    missing = [k for k in required if k not in out]
    if missing:
        want = "; ".join(f"{k} ({' / '.join(spec[k])})" for k in missing)
        found_text = ", ".join(names)[:200]
        raise InputError(path, f"missing required column(s): {want}; found: {found_text}", line=line)
    return out


def text_of(value: Any, *, path: Path | str, line: int | None, field_name: str) -> str | None:
    """A text field: text, or None when absent, blank or NaN (pandas' missing); other types are an error."""
    if isinstance(value, float) and math.isnan(value):
        return None
    text = text_value(value, path=path, line=line, field_name=field_name)
    return text if text is not None and text.strip() else None


def owner_of(package_id: str) -> str | None:
    """The Hub namespace of an id (``org/name`` -> ``org``); None for un-namespaced legacy ids."""
    return package_id.split("/", 1)[0] if "/" in package_id else None
