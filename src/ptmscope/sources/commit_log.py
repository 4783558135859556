"""Commit logs of Hub repositories (format ``commit-log``; registry ``hf``, or ``hf-datasets``).

Two CSV shapes (gzip or not), columns found by name (case-insensitive):

* **safetensors-history** (s2e-lab/model-evolution): one row per (commit,
  model file): ``repo_url, commit_hash, model_file_path,
  serialization_format, message, author, date``;
* **plain**: one row per commit: ``repo, commit, date, author, message``.

==============  ==================================================================
canonical       source columns
==============  ==================================================================
package_id      ``repo_url`` / ``repo`` / ``repo_id``: a Hub id or URL, normalised
                (``https://huggingface.co/`` and ``.git`` removed; ``datasets/``
                removed for registry ``hf-datasets``)
commit_id       ``commit_hash`` / ``commit`` / ``commit_id`` (hex, lower-cased)
committed_at    ``date`` / ``committed_at`` (ISO 8601 or git's format; no offset = UTC)
author          ``author``
message         ``message``
files           ``model_file_path`` / ``file``, ``\\`` as ``/``, the collector's
                ``<repo id>\\`` prefix removed; one list per commit, first-seen order
formats         ``serialization_format`` / ``format``, aligned with ``files``
==============  ==================================================================

``commits`` holds one row per (repository, commit).  The snapshot's
``packages`` are the repositories of the log (``raw_id`` as first written,
``author`` = the id's namespace, no downloads or dates): a log is not a
listing of the Hub.  Repeated (commit, file) rows, or repeated commits in the
plain shape, keep the first row (counted in the notes); rows of one commit
that disagree on date, author or message keep the first and are counted.

Date: ``--date``, else a ``snapshots.csv`` row or a ``YYYY-MM-DD`` in the file
name, else the latest commit time (a lower bound, noted).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from ..schema import SnapshotBatch, to_table
from ._common import Notes, ReadOptions, check_registry, csv_records, finish, given_date, read_text, time_value
from ._records import PLAUSIBLE_YEARS, match_columns, owner_of, text_of

FORMAT = "commit-log"
REGISTRIES = ("hf", "hf-datasets")

COLUMNS: dict[str, tuple[str, ...]] = {
    "repo": ("repo_url", "repo", "repo_id"),
    "commit": ("commit_hash", "commit", "commit_id"),
    "date": ("date", "committed_at"),
    "author": ("author",),
    "message": ("message",),
    "file": ("model_file_path", "file"),
    "format": ("serialization_format", "format"),
}
REQUIRED = ("repo", "commit", "date")

WEIGHT_COMMITS_NOTE = (
    "covers only commits that touched a model weight file (the safetensors-history selection): commits that "
    "changed only cards, configs or code are absent, so per-repository commit counts, recency and the mix of "
    "maintenance kinds lean toward weight uploads and conversions (e.g. 'Adding `safetensors` variant', "
    "training checkpoints) and under-count documentation and code maintenance; files/formats list only the "
    "model files of each commit"
)

_HEX = re.compile(r"[0-9a-fA-F]{7,64}")
_HUB_HOSTS = ("huggingface.co/", "hf.co/", "www.huggingface.co/")
_ID_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def _header(head: bytes) -> set[str]:
    line = head.split(b"\n", 1)[0].decode("utf-8", "replace").lstrip("\ufeff").strip()
    return {c.strip().strip('"').lower() for c in line.split(",")}


def detect(path: Path, head: bytes) -> bool:
    """CSV whose header names a repository, a commit and a date column."""
    if path.is_dir():
        return False
    cols = _header(head)
    return all(any(n.lower() in cols for n in COLUMNS[k]) for k in REQUIRED)


def hub_repo_id(raw: str, registry: str) -> str | None:
    """A Hub repo id from an id or URL (None when it is not one)."""
    s = raw.strip()
    for scheme in ("https://", "http://"):
        if s.lower().startswith(scheme):
            s = s[len(scheme) :]
    for host in _HUB_HOSTS:
        if s.lower().startswith(host):
            s = s[len(host) :]
            break
    s = s.strip("/")
    if s.endswith(".git"):
        s = s[:-4]
    if s.startswith("datasets/"):
        if registry != "hf-datasets":
            return None
        s = s[len("datasets/") :]
    elif s.startswith("spaces/"):
        return None
    parts = s.split("/")
    if not 1 <= len(parts) <= 2 or not all(_ID_PART.fullmatch(p) for p in parts):
        return None
    return s


def _file_path(raw: str, repo_raw: str, repo_id: str) -> tuple[str, bool]:
    """(repository path, whether the collector's local ``<repo>\\`` prefix was removed)."""
    stripped = False
    for prefix in {repo_raw.strip() + "\\", repo_id + "\\"}:
        if raw.startswith(prefix):
            raw = raw[len(prefix) :]
            stripped = True
            break
    p = raw.replace("\\", "/").strip()
    while p.startswith("./"):
        p = p[2:]
    return p.lstrip("/"), stripped


@dataclass
class _Commit:
    package_id: str
    commit_id: str
    committed_at: dt.datetime
    author: str | None
    message: str | None
    files: list[str] = field(default_factory=list)
    formats: list[str | None] = field(default_factory=list)
    seen_files: set[str] = field(default_factory=set)


def read(path: Path, opts: ReadOptions | None = None) -> SnapshotBatch:
    """Import a commit-log CSV as one snapshot of ``commits`` (and the repositories it names)."""
    opts = opts or ReadOptions()
    registry = check_registry(path, FORMAT, opts.registry, REGISTRIES)
    notes = Notes()
    header, rows = csv_records(path, read_text(path), strict=True)  # read once, hashed; field counts checked
    col = match_columns(path, header, COLUMNS, REQUIRED)
    per_file = "file" in col
    commits: dict[tuple[str, str], _Commit] = {}
    repos: dict[str, str] = {}  # package id -> raw id as first written
    n_rows = dup_rows = disagree = naive = prefixed = 0

    def get(row: dict[str, str], key: str) -> str | None:
        return row[col[key]] if key in col else None

    for line, row in rows:
        n_rows += 1
        repo_raw = get(row, "repo") or ""
        if not repo_raw.strip():
            raise InputError(path, "empty repository id", line=line, column=col["repo"])
        pid = hub_repo_id(repo_raw, registry)
        if pid is None:
            raise InputError(
                path, f"not a {registry} repository id or URL: {repo_raw[:80]!r}", line=line, column=col["repo"]
            )
        cid = (get(row, "commit") or "").strip()
        if not _HEX.fullmatch(cid):
            raise InputError(
                path, f"commit hash must be 7..64 hex digits, got {cid[:80]!r}", line=line, column=col["commit"]
            )
        cid = cid.lower()
        when, was_naive = time_value(
            get(row, "date"), path=path, line=line, field_name=col["date"], git=True, years=PLAUSIBLE_YEARS
        )
        if when is None:
            raise InputError(path, "empty commit date", line=line, column=col["date"])
        naive += was_naive
        author = text_of(get(row, "author"), path=path, line=line, field_name=col.get("author", "author"))
        message = get(row, "message")
        message = message if message is not None and message.strip() else None
        repos.setdefault(pid, repo_raw)
        key = (pid, cid)
        c = commits.get(key)
        if c is None:
            c = commits[key] = _Commit(pid, cid, when, author, message)
        else:
            if (c.committed_at, c.author, c.message) != (when, author, message):
                disagree += 1
            if not per_file:
                dup_rows += 1
                continue
        if per_file:
            raw_file = get(row, "file") or ""
            if not raw_file.strip():
                raise InputError(path, "empty model file path", line=line, column=col["file"])
            fpath, was_prefixed = _file_path(raw_file, repo_raw, pid)
            prefixed += was_prefixed
            if fpath in c.seen_files:
                dup_rows += 1
                continue
            c.seen_files.add(fpath)
            c.files.append(fpath)
            fmt = get(row, "format")
            c.formats.append(fmt.strip() if fmt is not None and fmt.strip() else None)
    if not commits:
        raise InputError(path, "no rows (nothing to import)")

    cl = list(commits.values())
    hashes = Counter(c.commit_id for c in cl)
    shared = sorted(h for h, k in hashes.items() if k > 1)
    notes.add(
        f"{n_rows} rows -> {len(cl)} commits ({len(hashes)} distinct hashes) of {len(repos)} repositories"
        + (" (safetensors-history shape: one row per commit and model file)" if per_file else "")
    )
    if per_file:
        notes.add(WEIGHT_COMMITS_NOTE)
    else:
        notes.add("plain commit log: files and formats unknown (null)")
    notes.add("packages: the repositories of the log, without downloads or metadata (not a listing of the Hub)")
    if shared:
        notes.add(
            f"{len(shared)} commit hashes appear in more than one repository (copied histories; "
            f"one row per repository; e.g. {shared[0][:12]})"
        )
    if dup_rows:
        what = "(commit, file)" if per_file else "commit"
        notes.warn(f"{dup_rows} repeated {what} rows (kept the first of each)")
    if disagree:
        notes.warn(
            f"{disagree} rows disagree with the first row of their commit on date, author or message (kept the first)"
        )
    if naive:
        notes.add(f"{naive} commit times without a time zone, read as UTC")
    if prefixed:
        notes.add(f"{prefixed} file paths lost the collector's local '<repo>\\' prefix")

    commits_t = to_table(
        "commits",
        {
            "package_id": [c.package_id for c in cl],
            "commit_id": [c.commit_id for c in cl],
            "committed_at": [c.committed_at for c in cl],
            "author": [c.author for c in cl],
            "message": [c.message for c in cl],
            "files": [c.files if per_file else None for c in cl],
            "formats": [c.formats if per_file else None for c in cl],
        },
        "",
    )
    pids = list(repos)
    pkg = to_table(
        "packages", {"package_id": pids, "raw_id": [repos[p] for p in pids], "author": [owner_of(p) for p in pids]}, ""
    )

    taken_at = given_date(path, opts, notes)
    if taken_at is None:
        taken_at = max(c.committed_at for c in cl).date()
        notes.add(f"date = latest commit time ({taken_at}); a lower bound of the collection date")
    return finish(
        path,
        fmt=FORMAT,
        registry=registry,
        taken_at=taken_at,
        tables={"packages": pkg, "commits": commits_t},
        notes=notes,
    )
