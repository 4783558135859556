"""Hub API dumps: ``ModelInfo`` records (JSON array or JSON lines, gzip or not).

Format name ``hf-api``.  Both field spellings are read:

=================  ===============================================  ==========================
canonical column   2022 camelCase                                   current (API / huggingface_hub)
=================  ===============================================  ==========================
package_id/raw_id  ``modelId``                                      ``id`` (``modelId`` still accepted)
downloads          ``downloads`` (30 days)                          ``downloads``
likes              ``likes``                                        ``likes``
author             first part of the id                             ``author``
created_at         --                                               ``createdAt`` / ``created_at``
last_modified      ``lastModified``                                 ``lastModified`` / ``last_modified``
task               ``pipeline_tag``                                 ``pipeline_tag``
license            ``license:`` tag                                 ``cardData.license`` / ``card_data``, else tag
sha                ``sha``                                          ``sha``
model_type         ``config.model_type``                            ``config.model_type``
tags               ``tags``                                         ``tags``
=================  ===============================================  ==========================

``downloadsAllTime``/``downloads_all_time``, ``safetensors`` and ``gguf`` are
read only as evidence of a library (``safetensors``/``gguf``), never as counts.

The public entry points are pure functions usable by any producer of
``ModelInfo`` dicts (the importer below, the live crawler):

* :func:`model_row` -- one record to one canonical ``packages`` row plus its
  libraries and (unresolved) lineage references;
* :func:`records_to_tables` -- many records (and optional cards) to the
  canonical Arrow tables of one snapshot, with lineage resolved against the
  ids of those records;
* :func:`read` -- the importer: a dump file (plus an optional cards file) to a
  validated :class:`~ptmscope.schema.SnapshotBatch`.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import pyarrow as pa

from .. import lineage as lin
from ..errors import InputError
from ..schema import SnapshotBatch, to_table
from ._common import (
    KeyRepeats,
    Notes,
    ReadOptions,
    check_registry,
    count_value,
    finish,
    iter_json_lines,
    load_json,
    need_date,
    paired_sha256,
    read_bytes,
    source_sha256,
    text_value,
    timestamp_value,
)
from ._hub_files import HubFiles

FORMAT = "hf-api"
DOWNLOADS_WINDOW = "30d"  # the Hub's ``downloads`` field: downloads in the last ~30 days


@cache
def hub_libraries() -> tuple[frozenset[str], frozenset[str]]:
    """(library keys of the Hub vocabulary, tag-only libraries), exact spelling.

    Shipped as ``ptmscope/data/hf_libraries.csv``, derived from the npm package
    ``@huggingface/tasks`` (``model_libraries.json``, MIT).
    """
    text = resources.files("ptmscope").joinpath("data/hf_libraries.csv").read_text(encoding="utf-8")
    lines = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
    keys: set[str] = set()
    tag_only: set[str] = set()
    for row in csv.DictReader(lines):
        (keys if row["kind"] == "library_key" else tag_only).add(row["library"])
    return frozenset(keys), frozenset(tag_only)


def libraries_of(library_name: str | None, tags: Iterable[str] | None) -> list[tuple[str, str]]:
    """[(library, origin)] of one model, one row per library, lower case.

    ``library_name`` gives origin ``library_name``; tags that are Hub library
    keys or tag-only libraries (safetensors, pytorch, tf, jax, onnx, gguf, ...)
    give origin ``tag`` unless ``library_name`` already named that library.
    """
    keys, tag_only = hub_libraries()
    out: dict[str, str] = {}
    if isinstance(library_name, str) and library_name.strip():
        out[library_name.strip().lower()] = "library_name"
    for t in tags or ():
        if isinstance(t, str) and (t in keys or t in tag_only):
            out.setdefault(t.lower(), "tag")
    return list(out.items())


def _get(rec: Mapping[str, Any], *names: str) -> Any:
    for n in names:
        v = rec.get(n)
        if v is not None:
            return v
    return None


@dataclass
class ModelRow:
    """What one ``ModelInfo`` record contributes to a snapshot."""

    package: dict[str, Any]
    libraries: list[tuple[str, str]] = field(default_factory=list)
    lineage: list[lin.LineageRef] = field(default_factory=list)


def _card_data(rec: Mapping[str, Any]) -> dict[str, Any] | None:
    cd = _get(rec, "cardData", "card_data")
    if isinstance(cd, str):  # huggingface_hub dumps sometimes keep it as YAML text
        return lin.parse_yaml_mapping(cd)
    return cd if isinstance(cd, dict) else None


def model_row(record: Mapping[str, Any], *, source: str | Path = "<records>", line: int | None = None) -> ModelRow:
    """One ``ModelInfo`` dict -> canonical ``packages`` row, libraries, lineage refs.

    Raises :class:`~ptmscope.errors.InputError` naming ``source``, ``line`` and
    the field when the record is not a mapping, has no id, or has a count that
    is not a non-negative whole number or a date that is not ISO-8601.
    """
    if not isinstance(record, Mapping):
        raise InputError(source, f"expected a JSON object, got {type(record).__name__}", line=line)
    raw_id = _get(record, "id", "modelId", "model_id")
    if not isinstance(raw_id, str) or not raw_id.strip():
        raise InputError(source, "record has no model id (field id / modelId)", line=line, column="id")
    pid = raw_id.strip()
    tags = record.get("tags")
    if tags is not None and not (isinstance(tags, list) and all(isinstance(t, str) for t in tags)):
        raise InputError(source, "tags must be a list of strings", line=line, column="tags")
    tags = list(tags) if tags else []
    downloads = count_value(record.get("downloads"), path=source, line=line, field_name="downloads", text=False)
    likes = count_value(record.get("likes"), path=source, line=line, field_name="likes", text=False)
    card_data = _card_data(record)
    license_ = None
    if card_data:
        lic = card_data.get("license")
        if isinstance(lic, list):
            lic = next((x for x in lic if isinstance(x, str)), None)
        if isinstance(lic, str) and lic.strip():
            license_ = lic.strip()
    if license_ is None:
        license_ = next((t[len("license:") :] for t in tags if t.startswith("license:")), None)
    config = record.get("config")
    model_type = config.get("model_type") if isinstance(config, dict) else None
    model_type = text_value(model_type, path=source, line=line, field_name="config.model_type")
    author = text_value(record.get("author"), path=source, line=line, field_name="author")
    if not author:
        author = pid.split("/", 1)[0] if "/" in pid else None
    task = text_value(record.get("pipeline_tag"), path=source, line=line, field_name="pipeline_tag")
    sha = text_value(record.get("sha"), path=source, line=line, field_name="sha")
    library_name = text_value(record.get("library_name"), path=source, line=line, field_name="library_name")
    package = {
        "package_id": pid,
        "raw_id": raw_id,
        "downloads": downloads,
        "downloads_window": DOWNLOADS_WINDOW if downloads is not None else None,
        "likes": likes,
        "author": author,
        "created_at": timestamp_value(
            _get(record, "createdAt", "created_at"), path=source, line=line, field_name="createdAt"
        ),
        "last_modified": timestamp_value(
            _get(record, "lastModified", "last_modified"), path=source, line=line, field_name="lastModified"
        ),
        "task": task,
        "license": license_,
        "sha": sha,
        "model_type": model_type,
        "tags": tags,
    }
    lib_tags = list(tags)
    if record.get("safetensors"):
        lib_tags.append("safetensors")
    if record.get("gguf"):
        lib_tags.append("gguf")
    libraries = libraries_of(library_name, lib_tags)
    refs = lin.refs_from_card_data(card_data, tags) + lin.refs_from_tags(tags)
    return ModelRow(package, libraries, refs)


_PACKAGE_COLUMNS = (
    "package_id",
    "raw_id",
    "downloads",
    "downloads_window",
    "likes",
    "author",
    "created_at",
    "last_modified",
    "task",
    "license",
    "sha",
    "model_type",
    "tags",
)


def records_to_tables(
    records: Iterable[Mapping[str, Any] | tuple[int, Mapping[str, Any]]],
    snapshot_id: str,
    *,
    source: str | Path = "<records>",
    cards: Mapping[str, str | None] | None = None,
    aliases: Mapping[str, str] | None = None,
    notes: Notes | None = None,
) -> dict[str, pa.Table]:
    """``ModelInfo`` dicts (+ cards) -> canonical Arrow tables of one snapshot.

    ``records`` yields dicts, or ``(line, dict)`` pairs when the caller knows
    the line numbers (errors then name that line; otherwise the position).
    ``cards`` maps a model id to its card text (``None`` = the model has no
    card); models absent from ``cards`` get no ``cards`` row.  Card YAML front
    matter and the Trainer sentence add lineage.  ``aliases`` (old -> new id)
    helps resolve parent references; references resolve only to ids present
    in ``records``; the others stay with ``parent_id`` null.

    A repeated id keeps its first record; repeats are counted in ``notes``.

    Returns ``{"packages", "package_libraries", "lineage", "cards"}`` with the
    schemas of :data:`ptmscope.schema.DATA_TABLES`.
    """
    notes = notes if notes is not None else Notes()
    cols: dict[str, list[Any]] = {c: [] for c in _PACKAGE_COLUMNS}
    lib_pkg: list[str] = []
    lib_name: list[str] = []
    lib_origin: list[str] = []
    lin_child: list[str] = []
    lin_refs: list[lin.LineageRef] = []
    seen: set[str] = set()
    dup: list[str] = []
    files = HubFiles()
    for pos, item in enumerate(records, 1):
        if isinstance(item, tuple):
            line, rec = item
        else:
            line, rec = pos, item
        row = model_row(rec, source=source, line=line)
        pid = row.package["package_id"]
        if pid in seen:
            dup.append(pid)
            continue
        seen.add(pid)
        files.add(pid, rec, source=source, line=line)
        for c in _PACKAGE_COLUMNS:
            cols[c].append(row.package[c])
        for name, origin in row.libraries:
            lib_pkg.append(pid)
            lib_name.append(name)
            lib_origin.append(origin)
        refs = row.lineage
        if cards is not None and pid in cards:
            text = cards[pid]
            fm = lin.lineage_front_matter(text)
            refs = refs + lin.refs_from_card_data(fm, row.package["tags"]) + lin.refs_from_card_text(text)
        for r in lin.dedupe(refs):
            lin_child.append(pid)
            lin_refs.append(r)
    if dup:
        ex = ", ".join(sorted(set(dup))[:3])
        notes.warn(f"{len(dup)} duplicate model ids (kept the first record of each; e.g. {ex})")

    resolver = lin.Resolver(seen, aliases)
    tables = {
        "packages": to_table("packages", cols, snapshot_id),
        "package_libraries": to_table(
            "package_libraries", {"package_id": lib_pkg, "library": lib_name, "origin": lib_origin}, snapshot_id
        ),
        "lineage": lin.lineage_table(lin_child, lin_refs, snapshot_id, resolver),
    }
    files.apply(tables, snapshot_id, notes)
    if cards is not None:
        tables["cards"] = cards_table(cards, snapshot_id, only=seen)
    return tables


def cards_table(cards: Mapping[str, str | None], snapshot_id: str, *, only: set[str] | None = None) -> pa.Table:
    """Canonical ``cards`` rows; ``None`` text means the model has no card."""
    ids: list[str] = []
    texts: list[str | None] = []
    shas: list[str | None] = []
    missing: list[bool] = []
    for pid, text in cards.items():
        if only is not None and pid not in only:
            continue
        ids.append(pid)
        if text is None:
            texts.append(None)
            shas.append(None)
            missing.append(True)
        else:
            texts.append(text)
            shas.append(hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest())
            missing.append(False)
    return to_table("cards", {"package_id": ids, "text": texts, "text_sha256": shas, "missing": missing}, snapshot_id)


# -- the importer -----------------------------------------------------------------


def _iter_records(path: Path, data: bytes, repeats: KeyRepeats) -> Iterable[tuple[int, Any]]:
    """JSON lines, or one JSON array / object holding the records."""
    import json

    head = data[:4096].lstrip()
    if head.startswith(b"["):
        records = load_json(path, data, repeats=repeats)
        return ((i, r) for i, r in enumerate(records, 1))
    if head.startswith(b"{"):
        first_line = data.lstrip().split(b"\n", 1)[0]
        try:
            json.loads(first_line)
        except (ValueError, RecursionError):
            obj = load_json(path, data, repeats=repeats)  # one pretty-printed object
            if isinstance(obj, dict):
                for key in ("models", "items", "data", "rows"):
                    if isinstance(obj.get(key), list):
                        return ((i, r) for i, r in enumerate(obj[key], 1))
            return iter([(1, obj)])
        return iter_json_lines(path, data, repeats=repeats)
    raise InputError(path, "not a Hub API dump (expected JSON lines or a JSON array of ModelInfo records)", line=1)


def read_cards(path: Path, notes: Notes | None = None) -> dict[str, str | None]:
    """A model-card JSON-lines file: ``{modelId|id, readme|text|card, readme_missing?}`` per line.

    Fast path: Arrow's JSON reader; on any irregularity (invalid line, odd
    types, a key repeated within a line) the line-by-line reader runs and
    names the offending line.  A repeated model id keeps its first card;
    repeats are counted in ``notes``.
    """
    notes = notes if notes is not None else Notes()
    data = read_bytes(path)
    fast = _read_cards_arrow(data, notes)
    if fast is not None:
        return fast
    cards: dict[str, str | None] = {}
    repeats = KeyRepeats()
    dup = 0
    for line, rec in iter_json_lines(path, data, repeats=repeats):
        if not isinstance(rec, dict):
            raise InputError(path, f"expected a JSON object, got {type(rec).__name__}", line=line)
        pid = _get(rec, "modelId", "id", "model_id")
        if not isinstance(pid, str) or not pid.strip():
            raise InputError(path, "card record has no model id (modelId / id)", line=line, column="modelId")
        text = _get(rec, "readme", "text", "card")
        if text is not None and not isinstance(text, str):
            raise InputError(path, "card text must be a string", line=line, column="readme")
        if rec.get("readme_missing") is True:
            text = None
        dup += pid.strip() in cards
        cards.setdefault(pid.strip(), text)
    repeats.note(notes, "the cards file's records")
    _note_card_repeats(notes, dup)
    return cards


def _note_card_repeats(notes: Notes, dup: int) -> None:
    if dup:
        notes.warn(f"cards: {dup} repeated model ids in the cards file (kept the first card of each)")


def _read_cards_arrow(data: bytes, notes: Notes) -> dict[str, str | None] | None:
    import io

    import pyarrow.compute as pc
    import pyarrow.json as pj

    try:
        t = pj.read_json(io.BytesIO(data))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    names = t.column_names
    id_col = next((c for c in ("modelId", "id", "model_id") if c in names), None)
    text_col = next((c for c in ("readme", "text", "card") if c in names), None)
    if id_col is None:
        return None
    ids = t.column(id_col)
    if not pa.types.is_string(ids.type) or ids.null_count:
        return None
    ids = pc.utf8_trim_whitespace(ids)
    if pc.any(pc.equal(ids, "")).as_py():
        return None
    if text_col is not None:
        texts = t.column(text_col)
        if pa.types.is_null(texts.type):
            texts = pa.nulls(t.num_rows, pa.string())
        elif not pa.types.is_string(texts.type):
            return None
    else:
        texts = pa.nulls(t.num_rows, pa.string())
    if "readme_missing" in names:
        miss = t.column("readme_missing")
        if not (pa.types.is_boolean(miss.type) or pa.types.is_null(miss.type)):
            return None
        if pa.types.is_boolean(miss.type):
            texts = pc.if_else(pc.fill_null(miss, False), pa.scalar(None, pa.string()), texts)
    cards: dict[str, str | None] = {}
    for pid, text in zip(ids.to_pylist(), texts.to_pylist(), strict=False):
        cards.setdefault(pid, text)
    _note_card_repeats(notes, t.num_rows - len(cards))
    return cards


def _date_from_records(pkg: pa.Table) -> dt.date | None:
    import pyarrow.compute as pc

    lm = pc.max(pkg.column("last_modified")).as_py()
    return lm.date() if lm else None


def detect(path: Path, head: bytes) -> bool:
    """JSON (lines) whose first record has a ``modelId`` or ``id`` and Hub-looking fields."""
    h = head.lstrip()[:4096]
    if not (h.startswith(b"{") or h.startswith(b"[")) or is_cards_file(head):
        return False
    return (b'"modelId"' in h or b'"id"' in h) and any(
        k in h for k in (b'"sha"', b'"lastModified"', b'"last_modified"', b'"pipeline_tag"', b'"tags"', b'"downloads"')
    )


def is_cards_file(head: bytes) -> bool:
    """JSON lines of model cards (``modelId``/``id`` with ``readme``/``readme_missing``), not ModelInfo."""
    first = head.lstrip()[:4096].split(b"\n", 1)[0]
    return (
        first.startswith(b"{")
        and (b'"readme"' in first or b'"readme_missing"' in first)
        and (b'"modelId"' in first or b'"id"' in first)
        and b'"sha"' not in first
    )


def read(path: Path, opts: ReadOptions | None = None) -> SnapshotBatch:
    """Import a Hub API dump (and optionally its cards) as one snapshot.

    The date is ``opts.taken_at`` or, failing that, the latest
    ``lastModified`` in the dump (a lower bound of the collection date, said
    so in the notes).
    """
    opts = opts or ReadOptions()
    registry = check_registry(path, FORMAT, opts.registry, ("hf",))
    notes = Notes()
    data = read_bytes(path)
    sha = source_sha256(path)  # of exactly the bytes parsed below
    cards = read_cards(opts.cards_path, notes) if opts.cards_path else None
    manifest = None
    if opts.cards_path:
        cards_sha = source_sha256(opts.cards_path)
        sha = paired_sha256(sha, cards_sha)
        manifest = {"cards_file": str(opts.cards_path), "cards_sha256": cards_sha}
    repeats = KeyRepeats()
    records = _iter_records(path, data, repeats)
    tables = records_to_tables(records, "", source=path, cards=cards, aliases=opts.aliases, notes=notes)
    repeats.note(notes, "the dump's records")
    pkg = tables["packages"]
    if pkg.num_rows == 0:
        raise InputError(path, "no model records")
    taken_at = opts.taken_at
    if taken_at is None:
        taken_at = _date_from_records(pkg)
        if taken_at is None:
            raise need_date(path)
        notes.add(f"date = latest lastModified in the dump ({taken_at}); collection may be a few days later")
    if cards is not None:
        card_t = tables["cards"]
        n_missing = sum(card_t.column("missing").to_pylist())
        notes.add(f"cards: {card_t.num_rows} ({card_t.num_rows - n_missing} with text, {n_missing} missing)")
        no_card = pkg.num_rows - card_t.num_rows
        if no_card:
            notes.add(f"{no_card} models absent from the cards file")
    lt = tables["lineage"]
    if lt.num_rows:
        unresolved = lt.column("parent_id").null_count
        notes.add(f"lineage: {lt.num_rows} references, {lt.num_rows - unresolved} resolved in this snapshot")
    return finish(
        path, fmt=FORMAT, registry=registry, taken_at=taken_at, tables=tables, notes=notes, sha=sha, manifest=manifest
    )
