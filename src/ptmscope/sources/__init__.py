"""Importers: one module per source format, a registry, auto-detection, and ``ingest``.

Every importer is a module with ``FORMAT``, ``detect(path, head) -> bool`` and
``read(path, ReadOptions) -> SnapshotBatch``; ``read`` validates everything
and never touches the store.  Importers read each file ONCE through
:mod:`._common` (``read_bytes``/``read_text``/``load_json``, ``private_copy``
for files a library must open itself, e.g. SQLite): ``finish`` files the rows
under the sha256 of exactly those bytes, and raises if a file was not read
that way.  Numbers go through ``checked_int``/``count_value``/``count_array``
(ranges, types), JSON through ``load_json``/``iter_json_lines`` (repeated keys:
first wins, counted with ``KeyRepeats``), CSV through ``csv_records`` (field
counts, repeated columns) -- ``tests/test_adversarial_importers.py`` holds
every registered format to that and needs a sample for each new one.  :func:`load` turns a path (file or directory)
into validated batches; :func:`ingest` then writes them.

Formats (``--format``): see :data:`Format`; the column mapping of each is in
the module docstrings and in ``docs/formats.md``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gzip
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Literal, get_args

import pyarrow as pa

from ..errors import InputError, StoreError
from ..schema import DATA_TABLES, Snapshot, SnapshotBatch
from . import (
    commit_log,
    gh_dependents,
    hf_api,
    hf_datasets,
    hf_listing,
    lineage_edges,
    npm_counts,
    npm_high_impact,
    peatmoss,
    top_pypi,
)
from ._common import ReadOptions, fresh_reads, sidecar_rows

if TYPE_CHECKING:
    from ..store import Store

Format = Literal[
    "hf-api",
    "hf-listing",
    "peatmoss",
    "lineage-edges",
    "top-pypi",
    "npm-high-impact",
    "npm-download-counts",
    "hf-datasets",
    "commit-log",
    "gh-dependents",
]
FORMATS: tuple[str, ...] = get_args(Format)

IMPORTERS: dict[str, ModuleType] = {
    "hf-api": hf_api,
    "hf-listing": hf_listing,
    "peatmoss": peatmoss,
    "lineage-edges": lineage_edges,
    "top-pypi": top_pypi,
    "npm-high-impact": npm_high_impact,
    "npm-download-counts": npm_counts,
    "hf-datasets": hf_datasets,
    "commit-log": commit_log,
    "gh-dependents": gh_dependents,
}
assert set(IMPORTERS) == set(FORMATS)

# Detection order: the most specific content signatures first.
_DETECT_ORDER = (
    "peatmoss",
    "lineage-edges",
    "hf-datasets",
    "commit-log",
    "gh-dependents",
    "top-pypi",
    "npm-high-impact",
    "npm-download-counts",
    "hf-api",
    "hf-listing",
)

# Pairs of formats whose files can look alike; --format decides between them.
_SHARED_SHAPES = {
    frozenset(("hf-listing", "npm-download-counts")),
    frozenset(("hf-listing", "hf-api")),
    frozenset(("hf-listing", "hf-datasets")),  # a Parquet/CSV listing whose id column is neither's
}

# Formats recognised by named columns no other format has: a file they claim is refused under another --format
# (a commit log has a ``repo`` column, which hf-listing would take for a model id).
_SPECIFIC = ("hf-datasets", "commit-log", "gh-dependents")

# Formats that read a cards file (--cards, or the one cards file of their folder).
_TAKES_CARDS = ("hf-api", "hf-datasets")

# Files in a data directory that are provenance, not data.
_SKIP_NAMES = {"snapshots.csv", "provenance.tsv", "readme.md", "license", "license.txt"}


def _head(path: Path, n: int = 65536) -> bytes:
    """The first ``n`` bytes of the file's content (decompressed when gzip)."""
    try:
        with open(path, "rb") as f:
            raw = f.read(n)
            if raw[:2] != b"\x1f\x8b":
                return raw
        with gzip.open(path, "rb") as g:
            return g.read(n)
    except (EOFError, OSError, zlib.error) as exc:
        if isinstance(exc, (gzip.BadGzipFile, EOFError, zlib.error)):
            raise InputError(path, f"corrupt or truncated gzip: {exc}") from exc
        raise InputError(path, f"cannot read: {getattr(exc, 'strerror', None) or exc}") from exc


def _cards_kind(head: bytes) -> str | None:
    """The format whose listing a cards file goes with (hf-api: model cards, hf-datasets: dataset cards)."""
    if hf_api.is_cards_file(head):
        return "hf-api"
    if hf_datasets.is_cards_file(head):
        return "hf-datasets"
    return None


def detect_format(path: Path) -> str:
    """The format of ``path`` from its name and content, or an error asking for ``--format``."""
    if path.is_dir():
        if lineage_edges.detect(path, b""):
            return "lineage-edges"
        raise InputError(path, "is a directory; give a file, or a directory of files to import one by one")
    if not path.exists():
        raise InputError(path, "no such file")
    head = _head(path)
    if not head.strip():
        raise InputError(path, "empty file")
    hits = [f for f in _DETECT_ORDER if IMPORTERS[f].detect(path, head)]
    if not hits:
        if hf_api.is_cards_file(head):
            raise InputError(path, "this is a model-card file; pass it with --cards beside its Hub API dump (hf-api)")
        if hf_datasets.is_cards_file(head):
            raise InputError(
                path, "this is a dataset-card file; pass it with --cards beside its dataset listing (hf-datasets)"
            )
        raise InputError(
            path, f"cannot tell the format from the name and content; pass --format ({', '.join(FORMATS)})"
        )
    return hits[0]


def check_format(path: Path, fmt: str) -> None:
    """Refuse a file that is plainly of another format than ``--format`` says."""
    if fmt not in IMPORTERS:
        raise InputError(path, f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")
    if path.is_dir():
        return
    head = _head(path)
    if not head.strip():
        raise InputError(path, "empty file")
    specific = next((f for f in _SPECIFIC if f != fmt and IMPORTERS[f].detect(path, head)), None)
    if specific is not None and (fmt not in _SPECIFIC or not IMPORTERS[fmt].detect(path, head)):
        raise InputError(path, f"this looks like format {specific}, not {fmt} (check --format)")
    if IMPORTERS[fmt].detect(path, head):
        return
    others = [f for f in _DETECT_ORDER if f != fmt and IMPORTERS[f].detect(path, head)]
    if others and frozenset((fmt, others[0])) not in _SHARED_SHAPES:
        raise InputError(path, f"this looks like format {others[0]}, not {fmt} (check --format)")


@dataclass
class Planned:
    """One file of a ``load`` and what will be imported from it."""

    path: Path
    format: str
    batch: SnapshotBatch


def _files_of(directory: Path) -> list[Path]:
    """Data files of a directory (sorted; provenance files and hidden files skipped)."""
    out = []
    for p in sorted(directory.iterdir()):
        if p.name.startswith(".") or p.name.lower() in _SKIP_NAMES or p.is_dir():
            continue
        out.append(p)
    return out


def plan(
    path: Path,
    *,
    format: str | None = None,
    registry: str | None = None,
    taken_at: dt.date | None = None,
    cards_path: Path | None = None,
    aliases: dict[str, str] | None = None,
    on_file: Callable[[Path, int, int], None] | None = None,
) -> list[Planned]:
    """Read and validate everything ``path`` holds, without touching any store.

    A file gives one batch.  A directory gives one batch per data file in it
    (``snapshots.csv`` beside the files supplies dates), except a
    lineage-edges folder (``edges.csv`` inside), which is one snapshot.
    ``on_file(path, i, n)`` is called before each file (progress).
    """
    path = Path(path)
    if not path.exists():
        raise InputError(path, "no such file or directory")
    if cards_path is not None and not Path(cards_path).is_file():
        raise InputError(cards_path, "no such cards file")
    opts = ReadOptions(registry=registry, taken_at=taken_at, cards_path=cards_path, aliases=aliases)
    if path.is_dir() and not (format in (None, "lineage-edges") and lineage_edges.detect(path, b"")):
        files = _files_of(path)
        if not files:
            subdirs = [p.name for p in sorted(path.iterdir()) if p.is_dir() and not p.name.startswith(".")]
            if subdirs:
                raise InputError(
                    path,
                    "no data files at the top level (sub-directories are not searched; "
                    f"ingest them one by one, e.g. {path / subdirs[0]})",
                )
            raise InputError(path, "empty directory: no data files")
        kinds = {f: _cards_kind(_head(f)) for f in files}
        cards_files = [f for f in files if kinds[f]]
        files = [f for f in files if f not in cards_files]
        if cards_files and cards_path is None:
            # a dump folder (model_infos + model_cards, dataset_info + dataset_cards): pair them when unambiguous
            kind = kinds[cards_files[0]] or ""
            dumps = [f for f in files if format in (None, kind) and IMPORTERS[kind].detect(f, _head(f))]
            if len(cards_files) == 1 and len(dumps) == 1 and len(files) == 1:
                opts.cards_path = cards_files[0]
            else:
                raise InputError(
                    path, f"{cards_files[0].name} is a cards file; pass its listing with --cards {cards_files[0]}"
                )
        if not files:
            raise InputError(path, "no data files (only cards)")
        if opts.cards_path is not None and len(files) > 1:
            raise InputError(path, "--cards goes with one Hub API dump, not a directory of files")
        opts.sidecar = sidecar_rows(path)
    else:
        files = [path]
    out = []
    for i, f in enumerate(files):
        if on_file:
            on_file(f, i, len(files))
        if not f.is_dir():
            try:
                with open(f, "rb"):
                    pass
            except OSError as exc:
                raise InputError(f, f"cannot read: {exc.strerror or exc}") from exc
        fmt = format
        if fmt is None:
            fmt = detect_format(f)
        else:
            check_format(f, fmt)
        if opts.cards_path is not None and fmt not in _TAKES_CARDS:
            raise InputError(opts.cards_path, f"a cards file goes with formats {' or '.join(_TAKES_CARDS)}, not {fmt}")
        with fresh_reads():  # the sha256 filed is of the bytes this read parsed, nothing read earlier
            batch = IMPORTERS[fmt].read(f, opts)
        if taken_at is not None:  # provenance: say the date is the user's, not the data's
            snap = batch.snapshot
            note = f"date {taken_at.isoformat()} given with --date"
            batch.snapshot = dataclasses.replace(snap, notes=f"{snap.notes}; {note}" if snap.notes else note)
        out.append(Planned(f, fmt, batch))
    return out


@dataclass
class IngestResult:
    """What one file did to the store."""

    path: str
    format: str
    snapshot_id: str
    registry: str
    taken_at: dt.date
    rows: int
    created: bool  # False: the same source was already in the store
    notes: str | None
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "format": self.format,
            "snapshot_id": self.snapshot_id,
            "registry": self.registry,
            "taken_at": self.taken_at.isoformat(),
            "rows": self.rows,
            "created": self.created,
            "notes": self.notes,
            "warnings": list(self.warnings),
        }


def _precheck(store: Store, planned: Iterable[Planned], replace: bool) -> None:
    """Refuse before writing anything if any batch would clash with the store."""
    stored = store.snapshots(include_incomplete=True)
    same_source = {(s.registry, s.source_sha256, s.source_format, s.taken_at) for s in stored}
    by_name = {(s.registry, s.source_format, Path(s.source_file).name, s.taken_at): s for s in stored}
    seen: dict[tuple[str, str, str, dt.date], Path] = {}
    for p in planned:
        s = p.batch.snapshot
        key = (s.registry, s.source_format, Path(s.source_file).name, s.taken_at)
        if key in seen and seen[key] != p.path:
            raise InputError(p.path, f"same name, format and date as {seen[key]}; pass --date to tell them apart")
        seen[key] = p.path
        if replace or (s.registry, s.source_sha256, s.source_format, s.taken_at) in same_source:
            continue
        old = by_name.get(key)
        if old is not None:
            raise StoreError(
                f"{s.source_file}: the store already has snapshot {old.snapshot_id} from a file of this name "
                f"and date with different content (sha256 {old.source_sha256[:12]} vs {s.source_sha256[:12]}); "
                "pass --replace to replace it, or --date to file it as another snapshot"
            )


def ingest(
    store: Store,
    planned: list[Planned],
    *,
    replace: bool = False,
    on_batch: Callable[[Planned, int, int], None] | None = None,
) -> list[IngestResult]:
    """Write validated batches after checking that none clashes with the store.

    All new snapshots of one call are written in ONE transaction with one bulk
    Arrow insert per table (a directory of 164 files costs one commit), so a
    failure -- or a kill -- leaves no trace of any of them.  A batch whose
    source (registry, sha256, format, date) is already stored is skipped and
    reported with ``created=False``.  With ``replace``, the stored snapshots
    that a batch replaces (same registry, format, date and file name) are
    deleted in that same transaction: afterwards the store holds all the old
    snapshots or all the new ones, never a mix.
    """
    _precheck(store, planned, replace)
    results: list[IngestResult] = []

    def result(p: Planned, sid: str, rows: int, created: bool) -> IngestResult:
        s = p.batch.snapshot
        return IngestResult(
            path=str(p.path),
            format=p.format,
            snapshot_id=sid,
            registry=s.registry,
            taken_at=s.taken_at,
            rows=rows,
            created=created,
            notes=s.notes,
            warnings=list(p.batch.warnings),
        )

    def key(s: Snapshot) -> tuple[str, str, str, dt.date]:
        return (s.registry, s.source_sha256, s.source_format, s.taken_at)

    def name_key(s: Snapshot) -> tuple[str, str, str, dt.date]:
        return (s.registry, s.source_format, Path(s.source_file).name, s.taken_at)

    existing = store.snapshots(include_incomplete=True)
    stored = {key(s): s for s in existing}
    new: list[Planned] = []
    upgraded: list[str] = []
    for p in planned:
        s = p.batch.snapshot
        old = stored.get(key(s))
        if old is not None and old.importer_version == s.importer_version:
            results.append(result(p, old.snapshot_id, old.row_count, False))
            continue
        if old is not None:
            # the same bytes read by an older importer: re-imported in place (the importer's output changed)
            upgraded.append(old.snapshot_id)
            p.batch.warnings.append(
                f"re-imported {old.snapshot_id}: it was written by importer version {old.importer_version}, "
                f"this is version {s.importer_version}"
            )
        stored[key(s)] = s
        new.append(p)
        results.append(result(p, s.snapshot_id, s.row_count, True))
    if not new:
        return results
    replaced: list[str] = list(upgraded)
    if replace:
        names = {name_key(p.batch.snapshot): p for p in new}
        replaced += [s.snapshot_id for s in existing if name_key(s) in names and s.snapshot_id not in replaced]
        kept = {r.snapshot_id: r.path for r in results if not r.created}
        for s in existing:
            if s.snapshot_id in replaced and s.snapshot_id in kept:
                raise StoreError(
                    f"{kept[s.snapshot_id]}: is already stored as {s.snapshot_id}, which "
                    f"{names[name_key(s)].path} would replace; import them in separate calls"
                )
    taken = {s.snapshot_id: s for s in existing if s.snapshot_id not in replaced}
    for p in new:
        s = p.batch.snapshot
        other = taken.get(s.snapshot_id)
        if other is not None:  # the same bytes, registry and date under another format
            raise StoreError(
                f"{p.path}: snapshot id {s.snapshot_id} is already taken by {other.source_file} "
                f"(format {other.source_format}, the same bytes and date); pass --date to file it under another date"
            )
        taken[s.snapshot_id] = s
    with store.transaction() as con:
        for sid in replaced:
            store.delete_rows(sid)
        for i, p in enumerate(new):
            if on_batch:
                on_batch(p, i, len(new))
            store.insert_snapshot(p.batch.snapshot)
        for name, schema in DATA_TABLES.items():
            parts = [p.batch.table(name) for p in new]
            parts = [t for t in parts if t.num_rows]
            if not parts:
                continue
            for t in parts:
                if t.schema != schema:
                    raise StoreError(f"internal: table {name} of a batch does not match the canonical schema")
            table = pa.concat_tables(parts)
            view = f"_ptmscope_ingest_{name}"
            con.register(view, table)
            try:
                con.execute(f"INSERT INTO {name} SELECT * FROM {view}")
            finally:
                con.unregister(view)
    return results


__all__ = [
    "FORMATS",
    "IMPORTERS",
    "Format",
    "IngestResult",
    "Planned",
    "ReadOptions",
    "check_format",
    "detect_format",
    "ingest",
    "plan",
]
