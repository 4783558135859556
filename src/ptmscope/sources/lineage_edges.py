"""Lineage edge lists of model families (format ``lineage-edges``; the 2025-04 model-trees data).

Two shapes:

* **Derived tables** -- ``edges.csv`` (``parent, child, relation[, source_file]``)
  with, beside it, ``nodes.csv`` (``model_id, downloads, likes, library_name,
  pipeline_tag, created_at, last_modified, license, base_model_tags, tags, ...``)
  and optionally ``raw/*.csv``.  Passing ``edges.csv``, ``nodes.csv`` or their
  folder imports them together as ONE snapshot:

  - ``packages`` from ``nodes.csv`` (without it: the edge endpoints, no metadata);
  - ``package_libraries`` from ``library_name`` (origin ``library_name``) and tags (origin ``tag``);
  - ``lineage`` from ``edges.csv`` (origin ``edge_list``, relation as given), from the
    ``base_model:`` tags of ``nodes.csv`` (origin ``base_model_tag``) and, when ``raw/``
    is there, from the cards' YAML ``base_model`` and Trainer sentence (``card_yaml``,
    ``card_text``);
  - ``cards`` from the ``card`` column of ``raw/*.csv`` (empty text = missing).

* **A raw family file** -- ``raw/<family>_finetunes_<YYYYMMDD>_<HHMMSS>.csv`` with
  ``model_id, card, metadata`` (a ``ModelInfo`` JSON, read by
  :func:`ptmscope.sources.hf_api.model_row`), ``children``, ``adapters``,
  ``quantized``, ``merges`` (comma-separated Hub URLs).  One snapshot per file;
  the child lists become ``edge_list`` lineage with relations finetune,
  adapter, quantized, merge.

Date: ``--date``, else the latest ``_YYYYMMDD_`` timestamp in the crawl file
names (``source_file`` column or the raw file's name), else ask.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa

from .. import lineage as lin
from ..errors import InputError
from ..schema import RELATIONS, SnapshotBatch, to_table
from . import hf_api
from ._common import (
    KeyRepeats,
    Notes,
    ReadOptions,
    build_packages,
    check_registry,
    combined_sha256,
    count_value,
    csv_records,
    finish,
    loads_json_field,
    need_date,
    read_text,
    source_sha256,
    timestamp_value,
)
from ._hub_files import HubFiles

FORMAT = "lineage-edges"
_STAMP = re.compile(r"_(\d{4})(\d{2})(\d{2})_\d{6}")
_CHILD_COLUMNS = {"children": "finetune", "adapters": "adapter", "quantized": "quantized", "merges": "merge"}

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


def _header(head: bytes) -> set[str]:
    line = head.split(b"\n", 1)[0].decode("utf-8", "replace").lstrip("\ufeff").strip()
    return {c.strip().strip('"').lower() for c in line.split(",")}


def detect(path: Path, head: bytes) -> bool:
    if path.is_dir():
        return (path / "edges.csv").is_file()
    cols = _header(head)
    return {"parent", "child"} <= cols or "base_model_tags" in cols or {"model_id", "metadata", "children"} <= cols


def _stamp_date(names: list[str]) -> dt.date | None:
    best = None
    for n in names:
        for m in _STAMP.finditer(n or ""):
            try:
                d = dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                continue
            best = d if best is None or d > best else best
    return best


def _rows(path: Path, required: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    """``(line, row)`` of a CSV file, read once (and hashed); every row must have the header's fields."""
    fields, rows = csv_records(path, read_text(path))
    missing = [c for c in required if c not in fields]
    if missing:
        raise InputError(path, f"missing required column(s): {', '.join(missing)}", line=1)
    return rows


def _json_list(value: str | None, *, path: Path, line: int, column: str) -> list[str]:
    if value is None or not value.strip():
        return []
    v = loads_json_field(value, path=path, line=line, column=column)
    if not isinstance(v, list):
        raise InputError(path, f"{column} is not a JSON list", line=line, column=column)
    bad = next((x for x in v if not isinstance(x, str)), None)
    if bad is not None:
        raise InputError(
            path, f"{column} must be a list of strings, got a {type(bad).__name__} in it", line=line, column=column
        )
    return v


def _url_list(value: str | None) -> list[str]:
    if not value:
        return []
    return [lin.clean_ref(x) for x in value.split(",") if x.strip()]


# -- derived tables: edges.csv + nodes.csv (+ raw/) ---------------------------------------


def _read_folder(folder: Path, opts: ReadOptions, registry: str) -> SnapshotBatch:
    edges_p, nodes_p, raw_dir = folder / "edges.csv", folder / "nodes.csv", folder / "raw"
    if not edges_p.is_file():
        raise InputError(folder, "no edges.csv here (format lineage-edges)")
    notes = Notes()
    files = [edges_p]
    edge_rows = _rows(edges_p, ("parent", "child", "relation"))
    bad = next(((line, e) for line, e in edge_rows if e["relation"] not in RELATIONS), None)
    if bad is not None:
        raise InputError(
            edges_p,
            f"unknown relation {bad[1]['relation']!r} (expected one of {', '.join(RELATIONS)})",
            line=bad[0],
            column="relation",
        )
    edges = [e for _, e in edge_rows]

    libs: list[tuple[str, str, str]] = []
    tag_refs: list[tuple[str, lin.LineageRef]] = []
    if nodes_p.is_file():
        files.append(nodes_p)
        node_rows = _rows(nodes_p, ("model_id",))
        nodes = [r for _, r in node_rows]
        cols: dict[str, list[Any]] = {
            k: []
            for k in (
                "raw_id",
                "downloads",
                "likes",
                "task",
                "created_at",
                "last_modified",
                "license",
                "tags",
                "author",
            )
        }
        lib_names: list[str | None] = []
        for line, r in node_rows:
            pid = (r.get("model_id") or "").strip()
            cols["raw_id"].append(pid)
            cols["downloads"].append(count_value(r.get("downloads"), path=nodes_p, line=line, field_name="downloads"))
            cols["likes"].append(count_value(r.get("likes"), path=nodes_p, line=line, field_name="likes"))
            cols["task"].append(r.get("pipeline_tag") or None)
            cols["created_at"].append(
                timestamp_value(r.get("created_at"), path=nodes_p, line=line, field_name="created_at")
            )
            cols["last_modified"].append(
                timestamp_value(r.get("last_modified"), path=nodes_p, line=line, field_name="last_modified")
            )
            cols["license"].append(r.get("license") or None)
            tags = _json_list(r.get("tags"), path=nodes_p, line=line, column="tags")
            bm = _json_list(r.get("base_model_tags"), path=nodes_p, line=line, column="base_model_tags")
            cols["tags"].append(tags)
            cols["author"].append(pid.split("/", 1)[0] if "/" in pid else None)
            lib_names.append(r.get("library_name") or None)
            for ref in lin.refs_from_tags(list(dict.fromkeys(tags + bm))):
                tag_refs.append((pid, ref))
        cols["downloads_window"] = ["30d" if d is not None else None for d in cols["downloads"]]
        pkg, keep = build_packages(registry, cols, path=nodes_p, notes=notes, line_offset=2, id_column="model_id")
        for i in keep:
            pid = cols["raw_id"][i]
            for name, origin in hf_api.libraries_of(lib_names[i], cols["tags"][i]):
                libs.append((pid, name, origin))
        stamp_names = [r.get("source_file", "") for r in nodes] + [e.get("source_file", "") for e in edges]
        seen_tag: set[tuple[str, str]] = set()
        unique_tag_refs: list[tuple[str, lin.LineageRef]] = []
        for child, ref in tag_refs:
            tag_key = (child, ref.parent_ref.lower())
            if tag_key not in seen_tag:
                seen_tag.add(tag_key)
                unique_tag_refs.append((child, ref))
        tag_refs = unique_tag_refs
    else:
        ends = list(dict.fromkeys([e["parent"].strip() for e in edges] + [e["child"].strip() for e in edges]))
        pkg, _ = build_packages(
            registry, {"raw_id": ends}, path=edges_p, notes=notes, line_offset=2, id_column="parent/child"
        )
        notes.add("no nodes.csv: packages are the edge endpoints, without metadata")
        stamp_names = [e.get("source_file", "") for e in edges]

    ids = set(pkg.column("package_id").to_pylist())
    children: list[str] = []
    refs: list[lin.LineageRef] = []
    seen_edge: set[tuple[str, str, str]] = set()
    for e in edges:
        key = (e["child"].strip(), e["parent"].strip(), e["relation"])
        if key in seen_edge:
            continue
        seen_edge.add(key)
        children.append(key[0])
        refs.append(lin.LineageRef(key[1], key[2], "edge_list"))
    if len(seen_edge) != len(edges):
        notes.add(
            f"{len(edges) - len(seen_edge)} repeated edges in edges.csv (same child, parent, relation) counted once"
        )
    for child, ref in tag_refs:
        children.append(child)
        refs.append(ref)

    cards: dict[str, str | None] = {}
    hub = HubFiles()
    if raw_dir.is_dir():
        raw_files = sorted(raw_dir.glob("*.csv"))
        for rf in raw_files:
            files.append(rf)
            stamp_names.append(rf.name)
            for line, r in _rows(rf, ("model_id",)):
                pid = (r.get("model_id") or "").strip()
                if pid and "metadata" in r:
                    hub.add_metadata(pid, r["metadata"], source=rf, line=line)
                if not pid or pid in cards or "card" not in r:
                    continue  # some family files have no card column: cards unknown there
                text = r.get("card")
                cards[pid] = text if text and text.strip() else None
        for pid, text in cards.items():
            if text is None:
                continue
            for ref in lin.refs_from_card_data(lin.lineage_front_matter(text)) + lin.refs_from_card_text(text):
                children.append(pid)
                refs.append(ref)

    resolver = lin.Resolver(ids, opts.aliases)
    lt = lin.lineage_table(children, refs, "", resolver)
    tables: dict[str, pa.Table] = {
        "packages": pkg,
        "package_libraries": to_table(
            "package_libraries",
            {"package_id": [x[0] for x in libs], "library": [x[1] for x in libs], "origin": [x[2] for x in libs]},
            "",
        ),
        "lineage": lt,
    }
    if cards:
        tables["cards"] = hf_api.cards_table(cards, "")
        n_text = sum(1 for t in cards.values() if t is not None)
        notes.add(f"cards from raw/: {len(cards)} models ({n_text} with text)")
    if raw_dir.is_dir():
        notes.add(hub.apply_to_listing(tables, notes))
    not_pkg = len({c for c in children} - ids)
    notes.add(
        f"lineage: {lt.num_rows} rows ({len(seen_edge)} edges), "
        f"{lt.num_rows - lt.column('parent_id').null_count} parents resolved; "
        f"{not_pkg} children are not in packages (listed only as descendants)"
    )
    notes.add(
        "partial listing: 25 model families and their descendants, not the whole Hub"
        if raw_dir.is_dir() and len(list(raw_dir.glob("*.csv"))) == 25
        else "partial listing: selected model families only"
    )
    taken_at = opts.taken_at or _stamp_date(stamp_names)
    if taken_at is None:
        raise need_date(edges_p)
    if opts.taken_at is None:
        notes.add(f"date = latest crawl timestamp in the file names ({taken_at})")
    shas = {str(p.relative_to(folder)): source_sha256(p) for p in files}  # of the bytes read above
    sha = combined_sha256(shas)
    return finish(
        edges_p,
        fmt=FORMAT,
        registry=registry,
        taken_at=taken_at,
        tables=tables,
        notes=notes,
        sha=sha,
        manifest={"files": shas},
    )


# -- one raw family file ---------------------------------------------------------------------


def _read_raw(path: Path, opts: ReadOptions, registry: str) -> SnapshotBatch:
    notes = Notes()
    rows = _rows(path, ("model_id", "metadata"))
    records: list[tuple[int, dict[str, Any]]] = []
    cards: dict[str, str | None] = {}
    children: list[str] = []
    refs: list[lin.LineageRef] = []
    repeats = KeyRepeats()
    for line, r in rows:
        pid = (r.get("model_id") or "").strip()
        raw_meta = r.get("metadata") or ""
        meta = (
            loads_json_field(raw_meta, path=path, line=line, column="metadata", repeats=repeats)
            if raw_meta.strip()
            else {}
        )
        if not isinstance(meta, dict):
            raise InputError(path, "metadata is not a JSON object", line=line, column="metadata")
        meta.setdefault("id", pid)
        records.append((line, meta))
        if "card" in r:
            cards.setdefault(pid, r["card"] if (r.get("card") or "").strip() else None)
        for column, relation in _CHILD_COLUMNS.items():
            for child in _url_list(r.get(column)):
                children.append(child)
                refs.append(lin.LineageRef(pid, relation, "edge_list"))
    tables = hf_api.records_to_tables(records, "", source=path, cards=cards or None, aliases=opts.aliases, notes=notes)
    repeats.note(notes, "the metadata JSON")
    ids = set(tables["packages"].column("package_id").to_pylist())
    edge_t = lin.lineage_table(children, refs, "", lin.Resolver(ids, opts.aliases))
    tables["lineage"] = pa.concat_tables([tables["lineage"], edge_t])
    lt = tables["lineage"]
    notes.add(
        f"one model family; lineage: {lt.num_rows} rows, "
        f"{lt.num_rows - lt.column('parent_id').null_count} parents resolved"
    )
    taken_at = opts.taken_at or _stamp_date([path.name])
    if taken_at is None:
        raise need_date(path)
    return finish(path, fmt=FORMAT, registry=registry, taken_at=taken_at, tables=tables, notes=notes)


def read(path: Path, opts: ReadOptions | None = None) -> SnapshotBatch:
    opts = opts or ReadOptions()
    registry = check_registry(path, FORMAT, opts.registry, ("hf",))
    if path.is_dir():
        return _read_folder(path, opts, registry)
    if not path.exists():
        raise InputError(path, "no such file")
    head = b""
    if path.is_file():
        with open(path, "rb") as f:
            head = f.read(4096)
    cols = _header(head)
    if {"model_id", "metadata"} <= cols:
        return _read_raw(path, opts, registry)
    if path.name in ("edges.csv", "nodes.csv") or {"parent", "child"} <= cols or "base_model_tags" in cols:
        if {"parent", "child"} <= cols and path.name != "edges.csv":
            raise InputError(
                path, "an edge list must be named edges.csv (with nodes.csv beside it), or pass its folder"
            )
        return _read_folder(path.parent, opts, registry)
    raise InputError(
        path,
        "not a lineage edge list (expected edges.csv/nodes.csv, or a raw family CSV with model_id, metadata)",
        line=1,
    )
