"""Which files of a report folder the report owns, so a new report never deletes or overwrites anyone else's.

Every report writes ``.ptmscope-report.json`` (the *manifest*) next to its
files: the relative path and sha256 of each file it wrote.  The next report
into the same folder may replace or remove exactly those files, and only
while their bytes are still the ones recorded (a file the user edited is
theirs again).  Everything else is left alone:

* an empty or new folder is fine;
* a folder with a manifest is a previous report: its own files are replaced
  or removed, other files (``notes.txt``, a user's ``figures/x.png``) stay;
  a file that is not the report's but sits where the report writes
  (``index.html``, ``report.md``, ``results.json``, ``figures/*.svg``) is
  refused unless the caller forces it;
* a non-empty folder without a manifest is not a report folder: refused
  unless forced, and when forced, files are replaced only where the report
  writes one of the same name -- nothing is ever deleted that the manifest
  does not list.

Files are written to a temporary name and renamed into place, and the
manifest names a file *before* it is written (with no hash: "being
written"), so a report killed half-way leaves a folder the next report can
still take over.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import PtmscopeError

MANIFEST = ".ptmscope-report.json"
MANIFEST_KIND = "ptmscope-report"
TOP_LEVEL = ("index.html", "report.md", "results.json")


class ReportFolderError(PtmscopeError):
    """The report folder holds files the report did not write; nothing was written."""


def _sha256(path: Path) -> str | None:
    try:
        with path.open("rb") as f:
            return hashlib.file_digest(f, "sha256").hexdigest()
    except OSError:
        return None


def _is_report_path(rel: str) -> bool:
    """A path a report may write: the three top-level files and ``figures/*.svg``."""
    return rel in TOP_LEVEL or (rel.startswith("figures/") and rel.endswith(".svg") and rel.count("/") == 1)


def _entries(root: Path) -> list[str]:
    """Relative POSIX paths of every file and symlink under ``root`` (folders themselves are not entries)."""
    out: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        base = Path(dirpath)
        for name in filenames:
            out.append((base / name).relative_to(root).as_posix())
        for name in dirnames:
            if (base / name).is_symlink():
                out.append((base / name).relative_to(root).as_posix())
    return sorted(out)


def _read_manifest(root: Path) -> dict[str, str | None] | None:
    """The files a previous report recorded, or None when there is no (valid) manifest."""
    p = root / MANIFEST
    if not p.is_file() or p.is_symlink():
        return None
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(data, dict) or data.get("kind") != MANIFEST_KIND or not isinstance(data.get("files"), dict):
        return None
    files: dict[str, str | None] = {}
    for rel, sha in data["files"].items():
        safe = isinstance(rel, str) and _is_report_path(rel) and ".." not in rel.split("/")
        if not safe or not (sha is None or isinstance(sha, str)):
            return None  # a manifest naming other paths is not ours to trust
        files[rel] = sha
    return files


@dataclass
class ReportFolder:
    """A report folder checked for writing: what the report owns there and what it must leave alone."""

    root: Path
    force: bool = False
    is_report: bool = False  # a manifest of an earlier report was found
    owned: dict[str, str | None] = field(default_factory=dict)  # files of the earlier report, unchanged since
    foreign: list[str] = field(default_factory=list)  # everything else in the folder

    def check_targets(self, targets: list[str]) -> None:
        """Refuse (unless forced) when a file the report is about to write belongs to someone else."""
        clash = [t for t in targets if t in self.foreign]
        if clash and not self.force:
            shown = ", ".join(clash[:3]) + (f" and {len(clash) - 3} more" if len(clash) > 3 else "")
            raise ReportFolderError(
                f"{self.root}: {shown} {'was' if len(clash) == 1 else 'were'} not written by this report folder's "
                "earlier ptmscope report (or changed since); refusing to overwrite. Move "
                f"{'it' if len(clash) == 1 else 'them'} away, choose another folder, or force it"
            )

    def write(self, files: Mapping[str, bytes]) -> list[str]:
        """Write ``files`` (relative path -> bytes), remove the earlier report's other files; returns the removed."""
        targets = sorted(files)
        for t in targets:
            if not _is_report_path(t):
                raise ValueError(f"not a report file name: {t}")
        self.check_targets(targets)
        stale = sorted(set(self.owned) - set(files))
        # first claim what is about to be written (no hash yet), so an interruption leaves it ours
        pending: dict[str, str | None] = dict.fromkeys(targets)
        pending.update({s: self.owned[s] for s in stale})
        self._write_manifest(pending)
        for rel in targets:
            _atomic_write(self.root / rel, files[rel])
        removed = []
        for rel in stale:
            p = self.root / rel
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
                removed.append(rel)
        self._write_manifest({rel: hashlib.sha256(files[rel]).hexdigest() for rel in targets})
        return removed

    def _write_manifest(self, files: Mapping[str, str | None]) -> None:
        body = {"kind": MANIFEST_KIND, "version": 1, "files": dict(sorted(files.items()))}
        _atomic_write(self.root / MANIFEST, (json.dumps(body, indent=2, sort_keys=True) + "\n").encode())


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".ptmscope-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def check_report_dir(path: str | Path, *, force: bool = False) -> ReportFolder:
    """Create ``path`` if needed and check the report may write there; :class:`ReportFolderError` if not.

    Run it before any work so a refused folder costs nothing; ``write_report``
    runs it again right before writing.
    """
    root = Path(path)
    try:
        root.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=root, prefix=".ptmscope-probe-")  # a fresh name: never a user's file
        os.close(fd)
        os.unlink(probe)
    except FileExistsError:
        raise PtmscopeError(f"{root}: exists and is not a folder; cannot write the report there") from None
    except OSError as exc:
        raise PtmscopeError(f"{root}: cannot write the report there: {exc.strerror or exc}") from None
    recorded = _read_manifest(root)
    entries = [e for e in _entries(root) if e != MANIFEST]
    folder = ReportFolder(root, force=force, is_report=recorded is not None)
    for rel in entries:
        sha = (recorded or {}).get(rel, "")
        p = root / rel
        mine = rel in (recorded or {}) and not p.is_symlink() and (sha is None or _sha256(p) == sha)
        if mine:
            folder.owned[rel] = sha
        else:
            folder.foreign.append(rel)
    for rel, sha in (recorded or {}).items():
        if rel not in folder.owned and not (root / rel).exists() and not (root / rel).is_symlink():
            folder.owned[rel] = sha  # already gone: nothing to protect
    if recorded is None and entries and not force:
        shown = ", ".join(entries[:3]) + (f" and {len(entries) - 3} more" if len(entries) > 3 else "")
        raise ReportFolderError(
            f"{root}: not empty ({shown}) and not a ptmscope report folder (no {MANIFEST}); "
            "write the report to a new or empty folder, or force it (only files with the report's "
            "names are then replaced, nothing is deleted)"
        )
    if recorded is not None:  # every report writes these three; which figures it writes is known only later
        folder.check_targets([e for e in folder.foreign if e in TOP_LEVEL])
    return folder


__all__ = ["MANIFEST", "ReportFolder", "ReportFolderError", "check_report_dir"]
