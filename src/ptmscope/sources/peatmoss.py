"""PeaTMOSS SQLite databases (schema ``PeaTMOSS_schema.sql``, Jiang et al. 2024).

Format name ``peatmoss``.  The database is opened read-only through the
standard library's ``sqlite3``.  Mapping:

=====================  =====================================================================
canonical              PeaTMOSS
=====================  =====================================================================
packages.raw_id        ``model.context_id`` (the Hub id), else ``model.repo_url`` without the Hub prefix
downloads / likes      ``model.downloads`` / ``model.likes`` (window ``30d``)
sha                    ``model.sha``
author                 ``author.name`` via ``model_to_author`` (first), else the id's owner part
license                ``license.name`` via ``model_to_license`` (first by name)
tags                   ``tag.name`` via ``model_to_tag``
last_modified          latest ``hf_commit.created_at`` of the model
package_libraries      ``library.name`` via ``model_to_library`` and ``framework.name`` via
                       ``model_to_framework``; origin ``peatmoss``
lineage                ``model_to_base_model`` when the table exists (the 2023-10 release;
                       the 2023-08 schema lacks it): ``model_id`` -> ``base_model_name`` (or
                       ``base_model_id`` / ``base_model``); relation ``unknown``, origin ``peatmoss``
=====================  =====================================================================

Only Hugging Face models are imported (``model_hub.name``/``url`` mentioning
Hugging Face, or a ``huggingface.co`` repo URL); PyTorch Hub models are
counted in the notes.  PeaTMOSS records no collection date: ``--date`` is
needed unless ``hf_commit`` dates exist (their maximum is then a lower bound).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from .. import lineage as lin
from ..errors import InputError
from ..schema import SnapshotBatch, to_table
from ._common import (
    Notes,
    ReadOptions,
    build_packages,
    check_registry,
    count_value,
    finish,
    need_date,
    private_copy,
    text_value,
    timestamp_value,
)

FORMAT = "peatmoss"
SQLITE_MAGIC = b"SQLite format 3\x00"


def _connect(path: Path) -> sqlite3.Connection:
    try:
        return sqlite3.connect(path.resolve().as_uri() + "?mode=ro&immutable=1", uri=True)
    except sqlite3.DatabaseError as exc:  # pragma: no cover - connect is lazy
        raise InputError(path, f"not a readable SQLite database: {exc}") from exc


def _tables(con: sqlite3.Connection) -> dict[str, list[str]]:
    names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return {n: [r[1] for r in con.execute("SELECT * FROM pragma_table_info(?)", (n,))] for n in names}


def detect(path: Path, head: bytes) -> bool:
    if not head.startswith(SQLITE_MAGIC):
        return False
    try:
        con = _connect(path)
        try:
            t = _tables(con)
        finally:
            con.close()
    except sqlite3.DatabaseError:
        return False
    return "model" in t and "context_id" in t["model"]


_HUB_PREFIXES = ("https://huggingface.co/", "http://huggingface.co/", "https://hf.co/")


def _hub_id(context_id: Any, repo_url: Any) -> str | None:
    if isinstance(context_id, str) and context_id.strip():
        s = context_id.strip()
        for p in _HUB_PREFIXES:
            if s.startswith(p):
                return s[len(p) :].strip("/")
        return s
    if isinstance(repo_url, str):
        for p in _HUB_PREFIXES:
            if repo_url.startswith(p):
                return repo_url[len(p) :].strip("/")
    return None


def _many(
    con: sqlite3.Connection, tables: dict[str, list[str]], link: str, target: str, key: str
) -> dict[int, list[str]]:
    """model id -> sorted names through a ``model_to_<x>`` link table."""
    if link not in tables or target not in tables:
        return {}
    sql = f'SELECT l.model_id, t.name FROM "{link}" l JOIN "{target}" t ON t.id = l."{key}" WHERE t.name IS NOT NULL'
    out: dict[int, list[str]] = {}
    for mid, name in con.execute(sql):
        out.setdefault(mid, []).append(str(name))
    for v in out.values():
        v.sort()
    return out


def read(path: Path, opts: ReadOptions | None = None) -> SnapshotBatch:
    opts = opts or ReadOptions()
    registry = check_registry(path, FORMAT, opts.registry, ("hf",))
    with private_copy(path) as copy:  # what is read is what is hashed, whatever happens to path meanwhile
        return _read(path, copy, opts, registry)


def _read(path: Path, copy: Path, opts: ReadOptions, registry: str) -> SnapshotBatch:
    with open(copy, "rb") as f:
        if not f.read(16).startswith(SQLITE_MAGIC):
            raise InputError(path, "not a SQLite database (format peatmoss expects PeaTMOSS.db)")
    notes = Notes()
    con = _connect(copy)
    try:
        try:
            tables = _tables(con)
        except sqlite3.DatabaseError as exc:
            raise InputError(path, f"not a readable SQLite database: {exc}") from exc
        if "model" not in tables:
            raise InputError(path, "missing required table: model (is this a PeaTMOSS database?)")
        need = {"id", "context_id"}
        missing = need - set(tables["model"])
        if missing:
            raise InputError(path, f"table model lacks required columns: {', '.join(sorted(missing))}")
        mcols = set(tables["model"])
        sel = [
            c if c in mcols else "NULL"
            for c in ("id", "context_id", "repo_url", "downloads", "likes", "sha", "model_hub_id")
        ]
        rows = con.execute(f"SELECT {', '.join(sel)} FROM model ORDER BY id").fetchall()
        hubs: dict[Any, str] = {}
        if "model_hub" in tables:
            hubs = {
                r[0]: f"{r[1] or ''} {r[2] or ''}".lower() for r in con.execute("SELECT id, name, url FROM model_hub")
            }
        authors = _many(con, tables, "model_to_author", "author", "author_id")
        licenses = _many(con, tables, "model_to_license", "license", "license_id")
        tags = _many(con, tables, "model_to_tag", "tag", "tag_id")
        libs = _many(con, tables, "model_to_library", "library", "library_id")
        frameworks = _many(con, tables, "model_to_framework", "framework", "framework_id")
        commits: dict[int, str] = {}
        if "hf_commit" in tables:
            commits = dict(con.execute("SELECT model_id, MAX(created_at) FROM hf_commit GROUP BY model_id").fetchall())
        base_rows: list[tuple[Any, ...]] = []
        if "model_to_base_model" in tables:
            bcols = tables["model_to_base_model"]
            ref = next((c for c in ("base_model_name", "base_model", "base_model_id", "parent") if c in bcols), None)
            if "model_id" not in bcols or ref is None:
                raise InputError(path, "table model_to_base_model needs columns model_id and base_model_name")
            base_rows = con.execute(f'SELECT model_id, "{ref}" FROM model_to_base_model').fetchall()
            base_is_id = ref == "base_model_id"
        else:
            base_is_id = False
            notes.add("no model_to_base_model table (2023-08 schema): no lineage")
    except sqlite3.DatabaseError as exc:
        raise InputError(path, f"cannot read PeaTMOSS tables: {exc}") from exc
    finally:
        con.close()

    ids: list[str] = []
    mids: list[int] = []
    cols: dict[str, list[Any]] = {
        k: [] for k in ("raw_id", "downloads", "likes", "sha", "author", "license", "tags", "last_modified")
    }
    not_hf = 0
    for line, (mid, ctx, url, dl, lk, sha, hub) in enumerate(rows, 1):
        hub_text = hubs.get(hub, "")
        is_hf = (
            ("hugging" in hub_text) or (isinstance(url, str) and "huggingface.co" in url) or (not hubs and hub is None)
        )
        if hubs and not is_hf:
            not_hf += 1
            continue
        pid = _hub_id(ctx, url)
        if pid is None:
            raise InputError(
                path, f"model row id={mid} has no Hub id (context_id / repo_url)", line=line, column="context_id"
            )
        ids.append(pid)
        mids.append(mid)
        cols["raw_id"].append(pid)
        cols["downloads"].append(count_value(dl, path=path, line=line, field_name="downloads"))
        cols["likes"].append(count_value(lk, path=path, line=line, field_name="likes"))
        cols["sha"].append(text_value(sha, path=path, line=line, field_name="sha"))
        a = authors.get(mid)
        cols["author"].append(a[0] if a else (pid.split("/", 1)[0] if "/" in pid else None))
        lic = licenses.get(mid)
        cols["license"].append(lic[0] if lic else None)
        cols["tags"].append(tags.get(mid) or [])
        cols["last_modified"].append(
            timestamp_value(commits.get(mid), path=path, line=line, field_name="hf_commit.created_at")
        )
    if not_hf:
        notes.add(f"{not_hf} non-Hugging-Face models (e.g. PyTorch Hub) skipped")
    cols["downloads_window"] = ["30d" if d is not None else None for d in cols["downloads"]]
    pkg, keep = build_packages(registry, cols, path=path, notes=notes, line_offset=1, id_column="context_id")
    kept_mids = [mids[i] for i in keep]
    pid_of = {m: pkg.column("package_id")[i].as_py() for i, m in enumerate(kept_mids)}

    lp, ll = [], []
    for m in kept_mids:
        seen = set()
        for name in libs.get(m, []) + frameworks.get(m, []):
            k = name.strip().lower()
            if k and k not in seen:
                seen.add(k)
                lp.append(pid_of[m])
                ll.append(k)
    tables_out = {
        "packages": pkg,
        "package_libraries": to_table(
            "package_libraries", {"package_id": lp, "library": ll, "origin": ["peatmoss"] * len(lp)}, ""
        ),
    }
    if base_rows:
        ctx_of = dict(zip(mids, ids, strict=False))
        children, refs = [], []
        for mid, ref in base_rows:
            child = pid_of.get(mid)
            if child is None:
                continue
            parent = ctx_of.get(ref) if base_is_id else ref
            if not isinstance(parent, str) or not parent.strip():
                continue
            children.append(child)
            refs.append(lin.LineageRef(parent.strip(), "unknown", "peatmoss"))
        resolver = lin.Resolver(pid_of.values(), opts.aliases)
        lt = lin.lineage_table(children, refs, "", resolver)
        tables_out["lineage"] = lt
        notes.add(
            f"lineage: {lt.num_rows} base-model links, {lt.num_rows - lt.column('parent_id').null_count} resolved"
        )
    taken_at = opts.taken_at
    if taken_at is None:
        dates = [d for d in pkg.column("last_modified").to_pylist() if d is not None]
        if dates:
            taken_at = max(dates).date()
            notes.add(f"date = latest hf_commit date ({taken_at}); a lower bound")
    if taken_at is None:
        raise need_date(path)
    return finish(path, fmt=FORMAT, registry=registry, taken_at=taken_at, tables=tables_out, notes=notes)
