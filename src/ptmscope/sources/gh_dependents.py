"""GitHub-repository-to-model mappings: downstream dependents (format ``gh-dependents``, registry ``hf``).

Two CSV shapes (gzip or not):

* **headerless** (PeaTMOSS's ``gh_repo_to_hf_model_license_mapping.csv``):
  ``GitHub repo, model id[, model URL[, licence]]`` -- recognised by a first
  field like ``github.com/owner/repo``;
* **with a header**: ``github_repo`` / ``gh_repo`` / ``dependent``,
  ``model_id`` / ``model`` / ``package_id``, optional ``model_url``,
  ``license`` / ``licence``.

=============  ====================================================================
canonical      source
=============  ====================================================================
dependents     one row per (model, repository):
  package_id   the model id (when a model URL is given it must be
               ``https://huggingface.co/<model id>``; an empty id is taken from it)
  dependent    ``github:owner/repo`` from ``github.com/owner/repo``,
               ``https://github.com/owner/repo(.git)`` or ``owner/repo``
  kind         ``github``
  license      the licence the source gives for the link (PeaTMOSS: the model's)
packages       one row per model named (first licence seen, ``author`` = namespace,
               no downloads): the models that have at least one mapped repository
=============  ====================================================================

A repeated (model, repository) link keeps its first row (counted in the
notes).  Date: ``--date``, a ``snapshots.csv`` row or a ``YYYY-MM-DD`` in the
file name; the mapping itself carries none (the PeaTMOSS artifact is from 2023).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from ..errors import InputError
from ..schema import SnapshotBatch, to_table
from ._common import Notes, ReadOptions, check_registry, date_in_name, finish, need_date, sidecar_for
from ._records import csv_rows, match_columns, owner_of, read_source

FORMAT = "gh-dependents"
REGISTRIES = ("hf",)
KIND = "github"

COLUMNS: dict[str, tuple[str, ...]] = {
    "repo": ("github_repo", "gh_repo", "dependent"),
    "model": ("model_id", "model", "package_id"),
    "url": ("model_url",),
    "license": ("license", "licence"),
}
_GH = re.compile(r"^(?:https?://)?(?:www\.)?github\.com/([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+?)(?:\.git)?/?$", re.I)
_BARE = re.compile(r"^([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+)$")
_HUB_URL = re.compile(r"^https?://(?:www\.)?(?:huggingface\.co|hf\.co)/(.+?)/?$")
_MODEL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(?:/[A-Za-z0-9][A-Za-z0-9._-]*)?$")


def _first_fields(head: bytes) -> list[str]:
    line = head.split(b"\n", 1)[0].decode("utf-8", "replace").lstrip("\ufeff").strip()
    return [c.strip().strip('"') for c in line.split(",")]


def detect(path: Path, head: bytes) -> bool:
    """A CSV whose first field is a GitHub repository (headerless) or whose header names repo and model."""
    if path.is_dir():
        return False
    fields = _first_fields(head)
    if len(fields) >= 2 and _GH.match(fields[0]) and _MODEL_ID.match(fields[1]):
        return True
    low = {f.lower() for f in fields}
    return any(n in low for n in COLUMNS["repo"]) and any(n in low for n in COLUMNS["model"])


def github_dependent(raw: str) -> str | None:
    """``github:owner/repo`` of a GitHub repository reference, None when it is not one."""
    s = raw.strip()
    m = _GH.match(s) or _BARE.match(s)
    if not m:
        return None
    return f"github:{m.group(1)}/{m.group(2)}"


def read(path: Path, opts: ReadOptions | None = None) -> SnapshotBatch:
    """Import a GitHub-to-model mapping as one snapshot of ``dependents``."""
    opts = opts or ReadOptions()
    registry = check_registry(path, FORMAT, opts.registry, REGISTRIES)
    notes = Notes()
    src = read_source(path)
    rows = csv_rows(path, src.text())
    first = next(rows, None)
    if first is None:
        raise InputError(path, "empty file", line=1)
    fields1 = first[1]
    headerless = bool(_GH.match(fields1[0].strip()))
    if headerless:
        if not 2 <= len(fields1) <= 4:
            raise InputError(
                path, f"expected 2 to 4 fields (GitHub repo, model id, model URL, licence), got {len(fields1)}", line=1
            )
        width = len(fields1)
        col = {k: i for i, k in enumerate(("repo", "model", "url", "license")) if i < width}
        names = {"repo": "1 (GitHub repo)", "model": "2 (model id)", "url": "3 (model URL)", "license": "4 (licence)"}
        body = [first, *rows]
    else:
        col = match_columns(path, fields1, COLUMNS, ("repo", "model"))
        width = len(fields1)
        names = {k: fields1[i].strip() for k, i in col.items()}
        body = list(rows)

    links: dict[tuple[str, str], str | None] = {}
    models: dict[str, str | None] = {}  # model id -> first licence
    repos: set[str] = set()
    n_rows = 0
    dups: list[str] = []
    for line, row in body:
        if len(row) != width:
            raise InputError(path, f"expected {width} fields, got {len(row)}", line=line)
        n_rows += 1
        raw_repo = row[col["repo"]]
        dep = github_dependent(raw_repo)
        if dep is None:
            raise InputError(path, f"not a GitHub repository: {raw_repo[:80]!r}", line=line, column=names["repo"])
        model = row[col["model"]].strip()
        url = row[col["url"]].strip() if "url" in col else ""
        if url:
            m = _HUB_URL.match(url)
            if m is None:
                raise InputError(path, f"not a Hub model URL: {url[:80]!r}", line=line, column=names["url"])
            if not model:
                model = m.group(1)
            elif m.group(1) != model:
                raise InputError(
                    path, f"model URL {url[:80]!r} does not match model id {model!r}", line=line, column=names["url"]
                )
        if not _MODEL_ID.match(model):
            raise InputError(path, f"not a Hub model id: {model[:80]!r}", line=line, column=names["model"])
        lic = row[col["license"]].strip() if "license" in col else ""
        key = (model, dep)
        if key in links:
            dups.append(f"{dep} -> {model}")
            continue
        links[key] = lic or None
        models.setdefault(model, lic or None)
        repos.add(dep)
    if not links:
        raise InputError(path, "no rows (nothing to import)")
    if dups:
        notes.warn(f"{len(dups)} repeated (model, repository) links (kept the first row of each; e.g. {dups[0]})")
    notes.add(
        f"{n_rows} rows -> {len(links)} links from {len(repos)} GitHub repositories to {len(models)} models "
        "(dependents as the source maps them)"
    )
    notes.add("packages: only models with at least one mapped repository, without downloads (not a listing of the Hub)")

    keys = list(links)
    dependents = to_table(
        "dependents",
        {
            "package_id": [k[0] for k in keys],
            "dependent": [k[1] for k in keys],
            "kind": [KIND] * len(keys),
            "license": [links[k] for k in keys],
        },
        "",
    )
    ids = list(models)
    pkg = to_table(
        "packages",
        {"package_id": ids, "raw_id": ids, "author": [owner_of(m) for m in ids], "license": [models[m] for m in ids]},
        "",
    )
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
        raise need_date(path)
    return finish(
        path,
        fmt=FORMAT,
        registry=registry,
        taken_at=taken_at,
        tables={"packages": pkg, "dependents": dependents},
        notes=notes,
        sha=src.sha256,
    )
