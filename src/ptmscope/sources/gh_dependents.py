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

import csv
import io
import re
from pathlib import Path

from ..errors import InputError
from ..schema import SnapshotBatch, to_table
from ._common import Notes, ReadOptions, check_registry, csv_records, finish, given_date, need_date, read_text
from ._records import match_columns, owner_of

FORMAT = "gh-dependents"
REGISTRIES = ("hf",)
KIND = "github"

COLUMNS: dict[str, tuple[str, ...]] = {
    "repo": ("github_repo", "gh_repo", "dependent"),
    "model": ("model_id", "model", "package_id"),
    "url": ("model_url",),
    "license": ("license", "licence"),
}
# GitHub account names are letters, digits and hyphens (so ``github.com/o`` is not the repository o of github.com)
_GH = re.compile(r"^(?:https?://)?(?:www\.)?github\.com/([A-Za-z0-9-]+)/([A-Za-z0-9_.-]+?)(?:\.git)?/?$", re.I)
_BARE = re.compile(r"^([A-Za-z0-9-]+)/([A-Za-z0-9_.-]+)$")
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


def _first_record(text: str) -> list[str]:
    """The first non-blank CSV record (a malformed one is left for :func:`csv_records` to report)."""
    try:
        return next((rec for rec in csv.reader(io.StringIO(text)) if rec), [])
    except csv.Error:
        return []


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
    text = read_text(path)  # read once, hashed
    first = _first_record(text)
    headerless = bool(first) and bool(_GH.match(first[0].strip()))
    fields, rows = csv_records(path, text, header=not headerless, strict=True)  # field counts checked
    if headerless:
        if not 2 <= len(fields) <= 4:
            raise InputError(
                path,
                f"expected 2 to 4 fields (GitHub repo, model id, model URL, licence), got {len(fields)}",
                line=rows[0][0] if rows else 1,
            )
        col = dict(zip(("repo", "model", "url", "license"), fields, strict=False))
        names = {"repo": "1 (GitHub repo)", "model": "2 (model id)", "url": "3 (model URL)", "license": "4 (licence)"}
    else:
        col = match_columns(path, fields, COLUMNS, ("repo", "model"))
        names = col

    links: dict[tuple[str, str], str | None] = {}
    models: dict[str, str | None] = {}  # model id -> first licence
    repos: set[str] = set()
    dups: list[str] = []
    for line, row in rows:
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
    n_rows = len(rows)
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
    taken_at = given_date(path, opts, notes)
    if taken_at is None:
        raise need_date(path)
    return finish(
        path,
        fmt=FORMAT,
        registry=registry,
        taken_at=taken_at,
        tables={"packages": pkg, "dependents": dependents},
        notes=notes,
    )
