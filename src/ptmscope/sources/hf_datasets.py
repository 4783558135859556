"""Hub dataset listings and dataset cards (format ``hf-datasets``, registry ``hf-datasets``).

The listing is Parquet or CSV (gzip or not), one row per dataset, columns
found by name (case-insensitive, first name present wins):

===============  ====================================================================
canonical        source column names
===============  ====================================================================
raw_id           ``dataset_name``, ``dataset_id``, ``datasetId`` (required)
author           ``author`` (else the part of the id before ``/``)
created_at       ``dataset_creation_time``, ``created_at``, ``createdAt``, ``creation_time``
                 (ISO 8601 or git's ``Tue Jan 25 16:34:18 2022 +0100``)
last_modified    ``last_modified``, ``lastModified``
downloads        ``downloads`` (window ``30d``, the Hub's count)
likes            ``likes``
task             ``task``, ``task_categories``: the source's text (comma-separated
                 categories), ``None`` read as null
tags             ``task_categories:<t>`` for each task, ``domain:<d>`` from ``domain``
license          ``license``
cards            ``has_card`` / ``has_nonempty_card`` with the card texts (below)
===============  ====================================================================

Card texts come from a JSON-lines file (gzip or not) of
``{"dataset_name" | "id" | "datasetId": ..., "card" | "text" | "readme": ...}``,
paired with the listing by ``--cards FILE`` or by ingesting the folder that
holds exactly one listing and one such file.  ``cards`` rows:

* ``has_card`` false: ``missing`` true, text null;
* a text in the cards file: that text, ``missing`` false;
* ``has_card`` true without a text (the source's "empty" cards, or no cards
  file given): text null, ``missing`` false -- a card exists, its text is not
  in the source;
* no ``has_card`` column and no text: no row (unknown).

Date: ``--date``, else a ``snapshots.csv`` row or a ``YYYY-MM-DD`` in the
file name, else the latest creation/modification time in the listing (a
lower bound, said so in the notes).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

import pyarrow as pa

from ..errors import InputError
from ..schema import SnapshotBatch, to_table
from . import hf_api
from ._common import Notes, ReadOptions, check_registry, date_in_name, finish, need_date, sidecar_for
from ._records import (
    Locator,
    Source,
    bool_of,
    combined_sha,
    count_of,
    csv_rows,
    match_columns,
    owner_of,
    read_source,
    text_of,
    time_of,
    unique_keys,
)

FORMAT = "hf-datasets"
REGISTRY = "hf-datasets"
DOWNLOADS_WINDOW = "30d"

ID_COLUMNS = ("dataset_name", "dataset_id", "datasetId")
COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ID_COLUMNS,
    "author": ("author",),
    "created_at": ("dataset_creation_time", "created_at", "createdAt", "creation_time"),
    "last_modified": ("last_modified", "lastModified"),
    "downloads": ("downloads",),
    "likes": ("likes",),
    "task": ("task", "task_categories"),
    "domain": ("domain",),
    "license": ("license",),
    "has_card": ("has_card",),
    "has_nonempty_card": ("has_nonempty_card",),
}
CARD_ID = ("dataset_name", "id", "datasetId")
CARD_TEXT = ("card", "text", "readme")
_NO_TASK = {"", "none", "null", "nan"}
PARQUET_MAGIC = b"PAR1"


# -- detection ------------------------------------------------------------------------------------


def _first_line(head: bytes) -> bytes:
    return head.lstrip()[:65536].split(b"\n", 1)[0]


def is_cards_file(head: bytes) -> bool:
    """JSON lines of dataset cards: a ``dataset_name`` and a card text on the first line."""
    first = _first_line(head)
    return first.startswith(b"{") and b'"dataset_name"' in first and any(f'"{k}"'.encode() in first for k in CARD_TEXT)


def _parquet_names(path: Path) -> list[str]:
    import pyarrow.parquet as pq

    try:
        return list(pq.read_schema(path).names)
    except (pa.ArrowInvalid, OSError):
        return []


def detect(path: Path, head: bytes) -> bool:
    """Parquet or CSV whose columns include a dataset id (``dataset_name``, ``dataset_id``, ``datasetId``)."""
    if path.is_dir():
        return False
    if head.startswith(PARQUET_MAGIC):
        names = {n.lower() for n in _parquet_names(path)}
    elif path.name.lower().endswith((".csv", ".csv.gz")):
        header = head.split(b"\n", 1)[0].decode("utf-8", "replace").lstrip("\ufeff")
        names = {c.strip().strip('"').lower() for c in header.split(",")}
    else:
        return False
    return any(c.lower() in names for c in ID_COLUMNS)


# -- reading the listing --------------------------------------------------------------------------


def _listing(src: Source) -> tuple[list[str], dict[str, list[Any]], Locator]:
    """(column names, column name -> values, locator) of a Parquet or CSV listing."""
    if src.data.startswith(PARQUET_MAGIC):
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(pa.BufferReader(src.data))
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError(src.path, f"unreadable Parquet: {str(exc).splitlines()[0]}") from exc
        names = [str(n) for n in table.column_names]
        return names, {n: table.column(n).to_pylist() for n in names}, Locator(src.path)
    rows = csv_rows(src.path, src.text())
    first = next(rows, None)
    if first is None:
        raise InputError(src.path, "empty CSV (no header)", line=1)
    names = [h.strip().lstrip("\ufeff") for h in first[1]]
    values: dict[str, list[Any]] = {n: [] for n in names}
    lines: list[int] = []
    for line, row in rows:
        if len(row) != len(names):
            raise InputError(src.path, f"expected {len(names)} fields, got {len(row)}", line=line)
        lines.append(line)
        for n, v in zip(names, row, strict=True):
            values[n].append(v)
    return names, values, Locator(src.path, lines)


def _task_text(value: Any, *, loc: Locator, i: int, column: str) -> str | None:
    if isinstance(value, list):
        value = ",".join(str(v) for v in value if v is not None)
    try:
        s = text_of(value, path=loc.path, line=None, field_name=column)
    except InputError as exc:
        raise loc.relocate(i, exc) from None
    if s is None or s.strip().lower() in _NO_TASK:
        return None
    return s.strip()


# -- cards ----------------------------------------------------------------------------------------


def read_cards(src: Source, notes: Notes) -> dict[str, str | None]:
    """dataset id -> card text (None: the record has no text) from a JSON-lines cards file."""
    cards: dict[str, str | None] = {}
    dups: list[str] = []
    for lineno, raw in enumerate(src.data.split(b"\n"), 1):
        if not raw.strip():
            continue
        try:
            rec = json.loads(raw, object_pairs_hook=unique_keys)
        except json.JSONDecodeError as exc:
            raise InputError(src.path, f"invalid JSON ({exc.msg})", line=lineno, column=exc.colno) from exc
        except ValueError as exc:  # duplicate key, or undecodable bytes
            raise InputError(src.path, f"invalid JSON ({exc})", line=lineno) from exc
        if not isinstance(rec, dict):
            raise InputError(src.path, f"expected a JSON object, got {type(rec).__name__}", line=lineno)
        id_key = next((k for k in CARD_ID if k in rec), None)
        pid = rec.get(id_key) if id_key else None
        if not isinstance(pid, str) or not pid.strip():
            raise InputError(
                src.path, f"card record has no dataset id ({' / '.join(CARD_ID)})", line=lineno, column=id_key
            )
        text_key = next((k for k in CARD_TEXT if k in rec), None)
        text = rec.get(text_key) if text_key else None
        if text is not None and not isinstance(text, str):
            raise InputError(
                src.path, f"card text must be a string, got {type(text).__name__}", line=lineno, column=text_key
            )
        pid = pid.strip()
        if pid in cards:
            dups.append(pid)
            continue
        cards[pid] = text
    if not cards:
        raise InputError(src.path, "no card records")
    if dups:
        ex = ", ".join(sorted(set(dups))[:3])
        notes.warn(f"cards file: {len(dups)} repeated dataset ids (kept the first card of each; e.g. {ex})")
    return cards


def _sibling_cards(path: Path) -> Path | None:
    """A dataset-cards file beside the listing (for a hint in the notes; never read implicitly)."""
    try:
        for p in sorted(path.parent.iterdir()):
            if p != path and "card" in p.name.lower() and p.is_file():
                from . import _head

                if is_cards_file(_head(p, 4096)):
                    return p
    except (OSError, InputError):
        return None
    return None


# -- the importer ---------------------------------------------------------------------------------


def read(path: Path, opts: ReadOptions | None = None) -> SnapshotBatch:
    """Import a dataset listing (and optionally its cards) as one ``hf-datasets`` snapshot."""
    opts = opts or ReadOptions()
    registry = check_registry(path, FORMAT, opts.registry, (REGISTRY,))
    notes = Notes()
    src = read_source(path)
    names, values, loc = _listing(src)
    col = match_columns(path, names, COLUMNS, ("id",), line=1 if loc.lines is not None else None)
    name_of = {k: names[i] for k, i in col.items()}
    n = len(values[name_of["id"]])
    if n == 0:
        raise InputError(path, "no rows (nothing to import)")

    absent: list[Any] = [None] * n
    fields = {k: values[name_of[k]] if k in name_of else absent for k in COLUMNS}

    def field(key: str) -> list[Any]:
        return fields[key]

    def check(i: int, fn: Any, value: Any, column: str) -> Any:
        try:
            return fn(value, path=path, line=None, field_name=column)
        except InputError as exc:
            raise loc.relocate(i, exc) from None

    cols: dict[str, list[Any]] = {
        k: [] for k in ("raw_id", "package_id", "author", "created_at", "last_modified", "downloads", "likes", "task")
    }
    cols.update(tags=[], license=[])
    has_card: list[bool | None] = []
    has_text: list[bool | None] = []
    naive_times = 0
    seen: set[str] = set()
    dups: list[str] = []
    id_name = name_of["id"]
    for i, raw in enumerate(field("id")):
        if raw is not None and not isinstance(raw, str):
            raise loc.error(i, f"dataset id must be text, got {type(raw).__name__}", id_name)
        if raw is None or not raw.strip():
            raise loc.error(i, f"empty or missing dataset id ({raw!r})", id_name)
        pid = raw.strip()
        author = check(i, text_of, field("author")[i], name_of.get("author", "author"))
        times = []
        for key in ("created_at", "last_modified"):
            t, naive = check(i, time_of, field(key)[i], name_of.get(key, key))
            naive_times += naive
            times.append(t)
        dl = check(i, count_of, field("downloads")[i], name_of.get("downloads", "downloads"))
        lk = check(i, count_of, field("likes")[i], name_of.get("likes", "likes"))
        task = _task_text(field("task")[i], loc=loc, i=i, column=name_of.get("task", "task"))
        domain = check(i, text_of, field("domain")[i], name_of.get("domain", "domain"))
        lic = check(i, text_of, field("license")[i], name_of.get("license", "license"))
        hc = check(i, bool_of, field("has_card")[i], name_of.get("has_card", "has_card"))
        ht = check(i, bool_of, field("has_nonempty_card")[i], name_of.get("has_nonempty_card", "has_nonempty_card"))
        if pid in seen:  # validated like the others, then dropped: the first row wins
            dups.append(pid)
            continue
        seen.add(pid)
        row_tags = [f"task_categories:{t.strip()}" for t in (task or "").split(",") if t.strip()]
        if domain:
            row_tags.append(f"domain:{domain.strip()}")
        for key, value in (
            ("raw_id", raw),
            ("package_id", pid),
            ("author", author.strip() if author else owner_of(pid)),
            ("created_at", times[0]),
            ("last_modified", times[1]),
            ("downloads", dl),
            ("likes", lk),
            ("task", task),
            ("tags", row_tags),
            ("license", lic.strip() if lic else None),
        ):
            cols[key].append(value)
        has_card.append(hc)
        has_text.append(ht)
    if dups:
        ex = ", ".join(sorted(set(dups))[:3])
        notes.warn(f"{len(dups)} duplicate dataset ids (kept the first row of each; e.g. {ex})")
    if naive_times:
        notes.add(f"{naive_times} times without a time zone, read as UTC")

    ids_ = cols["package_id"]
    downloads = cols["downloads"]
    cols["downloads_window"] = [DOWNLOADS_WINDOW if d is not None else None for d in downloads]
    pkg = to_table("packages", cols, "")
    tables: dict[str, pa.Table] = {"packages": pkg}

    sha, manifest = src.sha256, None
    cards: dict[str, str | None] | None = None
    if opts.cards_path is not None:
        csrc = read_source(Path(opts.cards_path))
        if hf_api.is_cards_file(csrc.data[:65536]):
            raise InputError(opts.cards_path, "this is a model-card file, not dataset cards (dataset_name, card)")
        cards = read_cards(csrc, notes)
        sha = combined_sha(src.sha256, csrc.sha256)
        manifest = {"cards_file": str(opts.cards_path), "cards_sha256": csrc.sha256}
    else:
        beside = _sibling_cards(path)
        if beside is not None:
            notes.add(f"card texts not imported: {beside.name} lies beside this listing (pass it with --cards)")
    card_t = _cards_table(ids_, has_card, has_text, cards, notes)
    if card_t is not None:
        tables["cards"] = card_t

    zero = sum(1 for d in downloads if d == 0)
    notes.add(f"{len(ids_)} datasets ({zero} with 0 downloads)")
    if "domain" in name_of:
        notes.add("domain (the source's label, not a Hub field) kept as tag domain:<label>")
    taken_at = opts.taken_at
    if taken_at is None:
        side = sidecar_for(path, opts)
        if side and side.get("snapshot_date"):
            taken_at = dt.date.fromisoformat(side["snapshot_date"][:10])
    if taken_at is None:
        taken_at = date_in_name(path.name)
        if taken_at is not None:
            notes.add(f"date taken from the file name ({taken_at})")
    if taken_at is None:
        latest = max((t for t in cols["created_at"] + cols["last_modified"] if t is not None), default=None)
        if latest is None:
            raise need_date(path)
        taken_at = latest.date()
        notes.add(f"date = latest creation/modification time in the listing ({taken_at}); a lower bound")
    return finish(
        path, fmt=FORMAT, registry=registry, taken_at=taken_at, tables=tables, notes=notes, sha=sha, manifest=manifest
    )


def _cards_table(
    ids: list[str],
    has_card: list[bool | None],
    has_text: list[bool | None],
    cards: dict[str, str | None] | None,
    notes: Notes,
) -> pa.Table | None:
    """The ``cards`` rows of the listing's datasets (rules in the module docstring)."""
    out_ids: list[str] = []
    texts: list[str | None] = []
    missing: list[bool] = []
    empty = no_text = text_against_listing = card_by_nonempty = 0
    for pid, hc, ht in zip(ids, has_card, has_text, strict=True):
        text = cards.get(pid) if cards is not None else None
        if hc is None and ht:
            hc = True
        elif hc is False and ht:
            card_by_nonempty += 1
            hc = True
        if text is not None:
            if hc is False:
                text_against_listing += 1
            out_ids.append(pid)
            texts.append(text)
            missing.append(False)
        elif hc is None:
            continue
        else:
            out_ids.append(pid)
            texts.append(None)
            missing.append(not hc)
            if hc and ht is False:
                empty += 1
            elif hc and cards is not None:
                no_text += 1
    if not out_ids:
        return None
    shas = [hashlib.sha256(t.encode("utf-8", "surrogatepass")).hexdigest() if t is not None else None for t in texts]
    n_text = sum(t is not None for t in texts)
    n_missing = sum(missing)
    n_none = len(out_ids) - n_text - n_missing
    notes.add(f"cards: {len(out_ids)} rows ({n_text} with text, {n_missing} missing, {n_none} without text)")
    if empty:
        notes.add(f"{empty} datasets have a card the source marks empty (text null, missing false)")
    if cards is None and n_missing < len(out_ids):
        notes.add("no cards file: card existence only, no texts")
    if no_text:
        notes.warn(f"{no_text} datasets with a non-empty card per the listing have no text in the cards file")
    if text_against_listing:
        notes.warn(f"{text_against_listing} card texts for datasets the listing marks without a card (text kept)")
    if card_by_nonempty:
        notes.warn(f"{card_by_nonempty} rows with has_nonempty_card true but has_card false (read as having a card)")
    if cards is not None:
        known = set(ids)
        orphans = [k for k in cards if k not in known]
        if orphans:
            notes.warn(
                f"{len(orphans)} cards for datasets not in the listing (dropped; e.g. {', '.join(sorted(orphans)[:3])})"
            )
    return to_table("cards", {"package_id": out_ids, "text": texts, "text_sha256": shas, "missing": missing}, "")
