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

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from ..errors import InputError
from ..schema import SnapshotBatch, to_table
from . import hf_api
from ._common import (
    KeyRepeats,
    Notes,
    ReadOptions,
    bool_array,
    bool_value,
    check_registry,
    count_array,
    count_value,
    csv_records,
    decode_text,
    dedupe_first,
    finish,
    given_date,
    iter_json_lines,
    need_date,
    paired_sha256,
    read_bytes,
    source_sha256,
    time_value,
)
from ._records import PLAUSIBLE_YEARS, Locator, match_columns, owner_of, text_of

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


@dataclass
class _Listing:
    """The listing's columns: an Arrow table (Parquet) or CSV records, located by row or by line."""

    names: list[str]
    n: int
    loc: Locator
    table: pa.Table | None = None
    rows: list[dict[str, str]] | None = None

    def values(self, name: str | None) -> list[Any]:
        if name is None:
            return [None] * self.n
        if self.table is not None:
            return self.table.column(name).to_pylist()
        assert self.rows is not None
        return [r[name] for r in self.rows]

    def checked(self, name: str | None, check: Callable[..., Any]) -> list[Any]:
        """``check(value, path=, line=, field_name=)`` of every value of a column, errors placed at their row."""
        out = []
        for i, v in enumerate(self.values(name)):
            try:
                out.append(check(v, path=self.loc.path, line=self.loc.line(i), field_name=name))
            except InputError as exc:
                raise self.loc.relocate(i, exc) from None
        return out

    def counts(self, name: str | None) -> list[int | None]:
        if name is not None and self.table is not None:  # typed: checked in bulk, as the other listings are
            return count_array(
                self.table.column(name), path=self.loc.path, field_name=name, line_offset=None
            ).to_pylist()
        return self.checked(name, count_value)

    def flags(self, name: str | None) -> list[bool | None]:
        if name is not None and self.table is not None:
            return bool_array(
                self.table.column(name), path=self.loc.path, field_name=name, line_offset=None
            ).to_pylist()
        return self.checked(name, bool_value)


def _listing(path: Path, data: bytes) -> _Listing:
    """The Parquet or CSV listing held in ``data`` (the bytes read and hashed)."""
    if data.startswith(PARQUET_MAGIC):
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(pa.BufferReader(data))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as exc:
            raise InputError(path, f"unreadable Parquet: {' '.join(str(exc).split())}") from exc
        names = [str(n) for n in table.column_names]
        return _Listing(names, table.num_rows, Locator(path), table=table)
    names, records = csv_records(path, decode_text(path, data), strict=True)
    return _Listing(names, len(records), Locator(path, [ln for ln, _ in records]), rows=[r for _, r in records])


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


def read_cards(path: Path, data: bytes, notes: Notes) -> dict[str, str | None]:
    """dataset id -> card text (None: the record has no text) from a JSON-lines cards file."""
    cards: dict[str, str | None] = {}
    dups: list[str] = []
    repeats = KeyRepeats()
    for lineno, rec in iter_json_lines(path, data, repeats=repeats):
        if not isinstance(rec, dict):
            raise InputError(path, f"expected a JSON object, got {type(rec).__name__}", line=lineno)
        id_key = next((k for k in CARD_ID if k in rec), None)
        pid = rec.get(id_key) if id_key else None
        if not isinstance(pid, str) or not pid.strip():
            raise InputError(path, f"card record has no dataset id ({' / '.join(CARD_ID)})", line=lineno, column=id_key)
        text_key = next((k for k in CARD_TEXT if k in rec), None)
        text = rec.get(text_key) if text_key else None
        if text is not None and not isinstance(text, str):
            raise InputError(
                path, f"card text must be a string, got {type(text).__name__}", line=lineno, column=text_key
            )
        pid = pid.strip()
        if pid in cards:
            dups.append(pid)
            continue
        cards[pid] = text
    if not cards:
        raise InputError(path, "no card records")
    repeats.note(notes, "the cards file's records")
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
    lst = _listing(path, read_bytes(path))
    col: dict[str, str | None] = dict(
        match_columns(path, lst.names, COLUMNS, ("id",), line=1 if lst.loc.lines is not None else None)
    )
    if lst.n == 0:
        raise InputError(path, "no rows (nothing to import)")
    id_name = col["id"]
    raw_ids = lst.values(id_name)
    pids: list[str] = []
    for i, raw in enumerate(raw_ids):
        if raw is not None and not isinstance(raw, str):
            raise lst.loc.error(i, f"dataset id must be text, got {type(raw).__name__}", id_name)
        if raw is None or not raw.strip():
            raise lst.loc.error(i, f"empty or missing dataset id ({raw!r})", id_name)
        pids.append(raw.strip())
    authors = lst.checked(col.get("author"), text_of)
    times = {}
    naive_times = 0
    for key in ("created_at", "last_modified"):
        pairs = lst.checked(col.get(key), _time)
        naive_times += sum(naive for _, naive in pairs)
        times[key] = [t for t, _ in pairs]
    downloads = lst.counts(col.get("downloads"))
    likes = lst.counts(col.get("likes"))
    tasks = [
        _task_text(v, loc=lst.loc, i=i, column=col.get("task") or "task")
        for i, v in enumerate(lst.values(col.get("task")))
    ]
    domains = lst.checked(col.get("domain"), text_of)
    licenses = lst.checked(col.get("license"), text_of)
    has_card_all = lst.flags(col.get("has_card"))
    has_text_all = lst.flags(col.get("has_nonempty_card"))
    keep = dedupe_first(pids, source=str(path), notes=notes, what="dataset id")  # every row validated, first wins
    if naive_times:
        notes.add(f"{naive_times} times without a time zone, read as UTC")

    cols: dict[str, list[Any]] = {
        "raw_id": [raw_ids[i] for i in keep],
        "package_id": [pids[i] for i in keep],
        "author": [(authors[i] or "").strip() or owner_of(pids[i]) for i in keep],
        "created_at": [times["created_at"][i] for i in keep],
        "last_modified": [times["last_modified"][i] for i in keep],
        "downloads": [downloads[i] for i in keep],
        "likes": [likes[i] for i in keep],
        "task": [tasks[i] for i in keep],
        "tags": [_tags(tasks[i], domains[i]) for i in keep],
        "license": [licenses[i].strip() if licenses[i] else None for i in keep],
    }
    cols["downloads_window"] = [DOWNLOADS_WINDOW if d is not None else None for d in cols["downloads"]]
    tables: dict[str, pa.Table] = {"packages": to_table("packages", cols, "")}

    sha, manifest = source_sha256(path), None  # of exactly the bytes parsed above
    cards: dict[str, str | None] | None = None
    if opts.cards_path is not None:
        cards_path = Path(opts.cards_path)
        cards_data = read_bytes(cards_path)
        if hf_api.is_cards_file(cards_data[:65536]):
            raise InputError(cards_path, "this is a model-card file, not dataset cards (dataset_name, card)")
        cards = read_cards(cards_path, cards_data, notes)
        cards_sha = source_sha256(cards_path)
        sha = paired_sha256(sha, cards_sha)
        manifest = {"cards_file": str(opts.cards_path), "cards_sha256": cards_sha}
    else:
        beside = _sibling_cards(path)
        if beside is not None:
            notes.add(f"card texts not imported: {beside.name} lies beside this listing (pass it with --cards)")
    card_t = _cards_table(
        cols["package_id"], [has_card_all[i] for i in keep], [has_text_all[i] for i in keep], cards, notes
    )
    if card_t is not None:
        tables["cards"] = card_t

    zero = sum(1 for d in cols["downloads"] if d == 0)
    notes.add(f"{len(keep)} datasets ({zero} with 0 downloads)")
    if "domain" in col:
        notes.add("domain (the source's label, not a Hub field) kept as tag domain:<label>")
    taken_at = given_date(path, opts, notes)
    if taken_at is None:
        latest = max((t for t in cols["created_at"] + cols["last_modified"] if t is not None), default=None)
        if latest is None:
            raise need_date(path)
        taken_at = latest.date()
        notes.add(f"date = latest creation/modification time in the listing ({taken_at}); a lower bound")
    return finish(
        path, fmt=FORMAT, registry=registry, taken_at=taken_at, tables=tables, notes=notes, sha=sha, manifest=manifest
    )


def _time(value: Any, *, path: Path | str, line: int | None, field_name: str) -> tuple[Any, bool]:
    return time_value(value, path=path, line=line, field_name=field_name, git=True, years=PLAUSIBLE_YEARS)


def _tags(task: str | None, domain: str | None) -> list[str]:
    tags = [f"task_categories:{t.strip()}" for t in (task or "").split(",") if t.strip()]
    if domain:
        tags.append(f"domain:{domain.strip()}")
    return tags


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
