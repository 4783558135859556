"""hugovk's top-pypi-packages JSON (format ``top-pypi``), both shapes.

* early 2018 files: a bare list ``[{"download_count": n, "project": name}, ...]``;
* later files: ``{"last_update": "YYYY-MM-DD HH:MM:SS", "source"?: "ClickHouse",
  "rows": [{"download_count": n, "project": name}, ...]}``.

Mapping: ``project`` -> ``raw_id`` (``package_id`` is its PEP 503 name),
``download_count`` -> ``downloads``, position in the file -> ``rank`` (the
files are sorted by downloads, most first).  Window: ``30d`` (30 days before
``last_update``, BigQuery/pypinfo) or ``previous-month`` when ``source`` is
ClickHouse (from 2025-07); ``365d`` for a ``-365-days`` file; ``unknown`` for
the bare-list ``top-pypi-packages.json`` files of January 2018, whose counts are ~12x
those of the 30-day files that follow (so not 30 days, though its
``snapshots.csv`` row says so).  Date: ``--date``, else ``last_update``, else the
``snapshot_date`` of a ``snapshots.csv`` beside the file, else a date in the
file name.  The lists are top-N cuts (1,000 .. 15,000 rows): each snapshot's
notes say so.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ..errors import InputError
from ..schema import SnapshotBatch
from ._common import (
    KeyRepeats,
    Notes,
    ReadOptions,
    build_packages,
    check_registry,
    count_array,
    count_list,
    date_in_name,
    finish,
    load_json,
    need_date,
    sidecar_date,
    sidecar_for,
)

FORMAT = "top-pypi"


def detect(path: Path, head: bytes) -> bool:
    h = head[:4096]
    return b'"project"' in h and b'"download_count"' in h


def _window(path: Path, obj: Any, side: dict[str, str] | None) -> str:
    src = obj.get("source") if isinstance(obj, dict) else None
    text = f"{src or ''} {(side or {}).get('backend', '')}".lower()
    if "clickhouse" in text:
        return "previous-month"
    name = (side or {}).get("source_path") or path.name
    if "365-days" in name:
        return "365d"
    if isinstance(obj, list) and "30-days" not in name and "top-pypi-packages.json" in name:
        # the bare top-pypi-packages.json of January 2018 predates the -30-days file: its counts are
        # ~12x those of the 30-day files that follow (simplejson 270M; pip 15.5M a week later), so
        # it is not a 30-day window, whatever snapshots.csv says; we do not know which it is
        return "unknown"
    return "30d"


def read(path: Path, opts: ReadOptions | None = None) -> SnapshotBatch:
    opts = opts or ReadOptions()
    registry = check_registry(path, FORMAT, opts.registry, ("pypi",))
    repeats = KeyRepeats()
    obj = load_json(path, repeats=repeats)
    if isinstance(obj, list):
        rows = obj
        last_update = None
    elif isinstance(obj, dict) and isinstance(obj.get("rows"), list):
        rows = obj["rows"]
        last_update = obj.get("last_update")
    else:
        raise InputError(path, "not a top-pypi-packages file (expected a list, or an object with 'rows')")
    notes = Notes()
    repeats.note(notes, "the file's objects")
    if last_update is not None and not isinstance(last_update, str):
        raise InputError(path, f"last_update must be text, got {type(last_update).__name__}", column="last_update")
    try:
        raw = [r["project"] for r in rows]
        counts = [r.get("download_count") for r in rows]
    except (TypeError, KeyError):
        for i, r in enumerate(rows, 1):
            if not isinstance(r, dict):
                raise InputError(path, f"rows[{i}] is not an object", column=f"rows[{i}]") from None
            if "project" not in r:
                raise InputError(path, f"rows[{i}] lacks required field 'project'", column="project") from None
        raise
    try:
        dl_arr = pa.array(counts)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):  # mixed types, or ints beyond int64
        dl_arr = None
    if dl_arr is None or not (pa.types.is_integer(dl_arr.type) or pa.types.is_floating(dl_arr.type)):
        dl_arr = count_list(counts, path=path, field_name="download_count", line_offset=None, text=False)
    dls = count_array(dl_arr, path=path, field_name="download_count", line_offset=None)
    side = sidecar_for(path, opts)
    window = _window(path, obj, side)
    if window == "unknown":
        notes.add(
            "download window unknown: this early top-pypi-packages.json (no -30-days in its name) has counts "
            "about 12x those of the 30-day files that follow, so it is not a 30-day count"
        )
    cols = {
        "raw_id": raw,
        "downloads": dls,
        "downloads_window": pc.if_else(pc.is_null(dls), pa.scalar(None, pa.string()), pa.scalar(window)),
        "rank": list(range(1, len(raw) + 1)),
    }
    pkg, _ = build_packages(registry, cols, path=path, notes=notes, line_offset=1, id_column="project")
    notes.add(f"partial listing: the top {len(raw):,} projects by downloads ({window})")
    taken_at = opts.taken_at
    if taken_at is None and isinstance(last_update, str) and last_update.strip():
        try:
            taken_at = dt.date.fromisoformat(last_update.strip()[:10])
        except ValueError:
            raise InputError(path, f"last_update is not a date: {last_update[:30]!r}", column="last_update") from None
    if taken_at is None:
        taken_at = sidecar_date(path, side, "snapshot_date")
        if taken_at is not None:
            notes.add("date from snapshots.csv (the file has no last_update)")
    if taken_at is None:
        taken_at = date_in_name(path.name)
        if taken_at:
            notes.add("date from the file name (the file has no last_update)")
    if taken_at is None:
        raise need_date(path)
    manifest = {"source_commit": side["commit"]} if side and side.get("commit") else None
    return finish(
        path, fmt=FORMAT, registry=registry, taken_at=taken_at, tables={"packages": pkg}, notes=notes, manifest=manifest
    )
