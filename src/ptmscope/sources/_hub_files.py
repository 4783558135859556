"""Repository files and parameter counts of Hub ``ModelInfo`` records.

``siblings`` -> ``package_files`` (path, size when given) and
``safetensors.total`` (else ``gguf.total``) -> ``packages.parameters``, for
every producer of ``ModelInfo`` dicts: the hf-api importer, the raw family
files of the model trees, the crawler.  Both spellings of a sibling are read:
a JSON object ``{"rfilename": ..., "size": ...}`` (the API) and the text
``RepoSibling(rfilename='...', size=123, ...)`` that huggingface_hub's
objects leave when a collector writes them with ``str()`` (parsed with a
regular expression, never evaluated).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ..errors import InputError
from ..schema import to_table
from ._common import KeyRepeats, Notes, count_value, loads_json_field, timestamp_value

_SIBLING_TEXT = re.compile(
    r"RepoSibling\(rfilename=(?P<q>['\"])(?P<name>(?:\\.|(?!(?P=q)).)*)(?P=q)"
    r"(?:,\s*size=(?P<size>None|\d+))?"
)
_TOTAL_TEXT = re.compile(r"\btotal=(\d+)")
_NO_METADATA = {"", "n/a", "na", "null", "none", "nan"}


def _sibling(item: Any, *, source: str | Path, line: int | None) -> tuple[str, int | None]:
    if isinstance(item, Mapping):
        name = item.get("rfilename")
        if not isinstance(name, str) or not name.strip():
            raise InputError(source, "sibling without a file name (rfilename)", line=line, column="siblings")
        size = count_value(item.get("size"), path=source, line=line, field_name="siblings.size", text=False)
        return name, size
    if isinstance(item, str):
        m = _SIBLING_TEXT.match(item.strip())
        if m is None or not m.group("name").strip():
            raise InputError(source, f"unreadable sibling {item[:60]!r}", line=line, column="siblings")
        name = m.group("name").replace("\\" + m.group("q"), m.group("q"))
        size_text = m.group("size")
        if size_text in (None, "None"):
            return name, None
        return name, count_value(size_text, path=source, line=line, field_name="siblings.size")
    raise InputError(
        source, f"a sibling must be an object or text, got {type(item).__name__}", line=line, column="siblings"
    )


def siblings_of(record: Mapping[str, Any], *, source: str | Path, line: int | None) -> list[tuple[str, int | None]]:
    """[(path, size)] of a record's ``siblings`` (empty when absent); a repeated path keeps its first entry."""
    sib = record.get("siblings")
    if sib is None:
        return []
    if not isinstance(sib, list):
        raise InputError(source, f"siblings must be a list, got {type(sib).__name__}", line=line, column="siblings")
    out: dict[str, int | None] = {}
    for item in sib:
        name, size = _sibling(item, source=source, line=line)
        out.setdefault(name, size)
    return list(out.items())


def parameters_of(record: Mapping[str, Any], *, source: str | Path, line: int | None) -> int | None:
    """The parameter count: ``safetensors.total``, else ``gguf.total``; None when neither says."""
    for key in ("safetensors", "gguf"):
        info = record.get(key)
        if isinstance(info, Mapping) and info.get("total") is not None:
            return count_value(info["total"], path=source, line=line, field_name=f"{key}.total", text=False)
        if isinstance(info, str):
            m = _TOTAL_TEXT.search(info)
            if m:
                return count_value(m.group(1), path=source, line=line, field_name=f"{key}.total")
    return None


class HubFiles:
    """Collects files and parameter counts of ``ModelInfo`` records, first record of each id wins."""

    def __init__(self) -> None:
        self.parameters: dict[str, int] = {}
        self.created: dict[str, Any] = {}
        self.without_metadata = 0
        self.file_ids: list[str] = []
        self.paths: list[str] = []
        self.sizes: list[int | None] = []
        self._seen: set[str] = set()
        self.records_with_siblings = 0
        self.repeats = KeyRepeats()  # repeated keys in metadata JSON read here (the first value kept)

    def add(self, package_id: str, record: Mapping[str, Any], *, source: str | Path, line: int | None) -> None:
        if package_id in self._seen:
            return
        self._seen.add(package_id)
        key = "createdAt" if "createdAt" in record else "created_at"
        created = record.get(key)
        if created is not None:
            self.created[package_id] = timestamp_value(created, path=source, line=line, field_name=key)
        params = parameters_of(record, source=source, line=line)
        if params is not None:
            self.parameters[package_id] = params
        files = siblings_of(record, source=source, line=line)
        if record.get("siblings") is not None:
            self.records_with_siblings += 1
        for path, size in files:
            self.file_ids.append(package_id)
            self.paths.append(path)
            self.sizes.append(size)

    def add_metadata(self, package_id: str, text: str | None, *, source: Path, line: int | None) -> None:
        """A ``ModelInfo`` JSON written into a CSV cell (the model trees' ``metadata``); placeholders skipped."""
        if text is None or text.strip().lower() in _NO_METADATA:
            if package_id not in self._seen:
                self.without_metadata += 1
            return
        meta = loads_json_field(text, path=source, line=line, column="metadata", repeats=self.repeats)
        if not isinstance(meta, dict):
            raise InputError(source, "metadata is not a JSON object", line=line, column="metadata")
        self.add(package_id, meta, source=source, line=line)

    def files_table(self, snapshot_id: str, only: set[str] | None = None) -> pa.Table:
        ids, paths, sizes = self.file_ids, self.paths, self.sizes
        if only is not None:
            keep = [i for i, p in enumerate(ids) if p in only]
            ids, paths, sizes = [ids[i] for i in keep], [paths[i] for i in keep], [sizes[i] for i in keep]
        return to_table("package_files", {"package_id": ids, "path": paths, "size_bytes": sizes}, snapshot_id)

    def with_parameters(self, packages: pa.Table) -> pa.Table:
        """``packages`` with ``parameters`` filled where a record gave a count (existing values kept)."""
        if not self.parameters:
            return packages
        got = pa.array([self.parameters.get(p) for p in packages.column("package_id").to_pylist()], pa.int64())
        merged = pc.coalesce(packages.column("parameters"), got)
        return packages.set_column(packages.schema.get_field_index("parameters"), "parameters", merged)

    def with_created(self, packages: pa.Table) -> pa.Table:
        """``packages`` with ``created_at`` filled where it is null and a record gave one."""
        if not self.created:
            return packages
        got = pa.array(
            [self.created.get(p) for p in packages.column("package_id").to_pylist()], pa.timestamp("us", tz="UTC")
        )
        merged = pc.coalesce(packages.column("created_at"), got)
        return packages.set_column(packages.schema.get_field_index("created_at"), "created_at", merged)

    def apply_to_listing(self, tables: dict[str, pa.Table], notes: Notes) -> str:
        """Enrich a listing built elsewhere (the model trees' nodes.csv) and say what was added."""
        pkg = tables["packages"]
        before = pkg.column("created_at").null_count
        pkg = self.with_created(self.with_parameters(pkg))
        tables["packages"] = pkg
        self.repeats.note(notes, "the metadata JSON of raw/")
        ids = set(pkg.column("package_id").to_pylist())
        files = self.files_table("", only=ids)
        if files.num_rows:
            tables["package_files"] = files
        return (
            f"raw/ metadata: {pkg.num_rows - pkg.column('parameters').null_count} parameter counts, "
            f"{files.num_rows} files of {len(set(files.column('package_id').to_pylist()))} models, "
            f"{before - pkg.column('created_at').null_count} creation times added; "
            f"{self.without_metadata} models without metadata (N/A)"
        )

    def apply(self, tables: dict[str, pa.Table], snapshot_id: str, notes: Notes) -> None:
        """Fill ``packages.parameters`` and add ``package_files`` (when any record had siblings)."""
        tables["packages"] = self.with_parameters(tables["packages"])
        if self.parameters:
            notes.add(f"parameter counts (safetensors/gguf total) for {len(self.parameters)} models")
        if self.records_with_siblings:
            files = tables["package_files"] = self.files_table(snapshot_id)
            sized = files.num_rows - files.column("size_bytes").null_count
            notes.add(
                f"files: {files.num_rows} paths of {self.records_with_siblings} models with siblings"
                + (f" ({sized} with sizes)" if sized else " (no sizes)")
            )
