"""npm package ``download-counts`` (format ``npm-download-counts``): ``counts.json``.

Shape: one JSON object ``{"package name": last-month downloads, ...}``.
Mapping: key -> ``raw_id`` (``package_id`` lower-cased), value -> ``downloads``
(window ``last-month``), order of the object -> ``rank`` only if the object is
sorted by downloads (otherwise null).  A name repeated in the object is a
duplicate id: the first one wins and the repeats are counted in the notes.
Date: ``--date``, else the date the package version encodes
(``2.20251201.0`` -> 2025-12-01) in the file name, else a ``YYYY-MM-DD`` in
the name.  Files cut to the top N names (``top20000``
in the name) are noted as partial listings.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from pathlib import Path

from ..errors import InputError
from ..schema import SnapshotBatch
from ._common import (
    KeyRepeats,
    Notes,
    ReadOptions,
    build_packages,
    check_registry,
    count_value,
    date_in_name,
    finish,
    load_json,
    need_date,
)

FORMAT = "npm-download-counts"
_VERSION_DATE = re.compile(r"(?:^|[^\d])\d+\.(\d{4})(\d{2})(\d{2})\.\d+")
_TOP = re.compile(r"top(\d+)", re.I)


def detect(path: Path, head: bytes) -> bool:
    h = head.lstrip()[:200]
    return "counts" in path.name.lower() and h.startswith(b"{") and b'"rows"' not in head[:4096]


def date_from_name(name: str) -> dt.date | None:
    m = _VERSION_DATE.search(name)
    if m:
        try:
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            pass
    return date_in_name(name)


def read(path: Path, opts: ReadOptions | None = None) -> SnapshotBatch:
    opts = opts or ReadOptions()
    registry = check_registry(path, FORMAT, opts.registry, ("npm",))
    repeats = KeyRepeats()
    obj = load_json(path, repeats=repeats)
    if not isinstance(obj, dict):
        raise InputError(path, "expected a JSON object {package name: downloads}")
    # a name repeated in the object is a repeated row: the first one wins, the repeats are counted
    pairs = list(obj.items()) + repeats.repeated_pairs
    names = [k for k, _ in pairs]
    dls = [count_value(v, path=path, line=None, field_name=f"downloads of {k!r}", text=False) for k, v in pairs]
    notes = Notes()
    first = dls[: len(obj)]
    present = [d for d in first if d is not None]
    ranked = all(a >= b for a, b in itertools.pairwise(present)) and len(present) == len(first)
    cols = {
        "raw_id": names,
        "downloads": dls,
        "downloads_window": ["last-month" if d is not None else None for d in dls],
        "rank": list(range(1, len(names) + 1)) if ranked else None,
    }
    pkg, _ = build_packages(registry, cols, path=path, notes=notes, line_offset=1, id_column="name")
    m = _TOP.search(path.name)
    if m:
        notes.add(f"partial listing: the top {int(m.group(1)):,} packages only")
    taken_at = opts.taken_at
    if taken_at is None:
        taken_at = date_from_name(path.name)
        if taken_at:
            notes.add(f"date from the package version in the file name ({taken_at})")
    if taken_at is None:
        raise need_date(path)
    return finish(path, fmt=FORMAT, registry=registry, taken_at=taken_at, tables={"packages": pkg}, notes=notes)
