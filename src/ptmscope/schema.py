"""The canonical data model: one set of tables for every registry.

Every importer and crawler produces a :class:`SnapshotBatch` (pure data, no
store access); :meth:`ptmscope.store.Store.add_batch` writes it in one
transaction.  The table definitions below are the single source of truth for
the store's DDL, for ``docs/data-model.md`` and for the Arrow schemas the
importers fill.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal, get_args

import pyarrow as pa

# "hf-datasets": dataset repositories of the Hugging Face Hub (a repo type of
# the same Hub, listed and measured apart from its models)
Registry = Literal["hf", "hf-datasets", "npm", "pypi"]
REGISTRIES: tuple[str, ...] = get_args(Registry)

LibraryOrigin = Literal["library_name", "tag", "peatmoss", "synthetic"]
Relation = Literal["finetune", "adapter", "quantized", "merge", "unknown"]
RELATIONS: tuple[str, ...] = get_args(Relation)
LineageOrigin = Literal["card_yaml", "base_model_tag", "card_text", "peatmoss", "edge_list", "synthetic"]

# Arrow schemas of the data tables (snapshot_id is added by the store).
PACKAGES = pa.schema(
    [
        ("snapshot_id", pa.string()),
        ("package_id", pa.string()),  # normalised id (PEP 503 for PyPI; Hub ids as given)
        ("raw_id", pa.string()),  # id exactly as the source wrote it
        ("rank", pa.int64()),  # 1-based rank when the source is a ranked list, else null
        ("downloads", pa.int64()),  # nullable: the source may not say
        ("downloads_window", pa.string()),  # e.g. "30d", "last-week", "all-time"; null if unknown
        ("likes", pa.int64()),
        ("author", pa.string()),
        ("created_at", pa.timestamp("us", tz="UTC")),
        ("last_modified", pa.timestamp("us", tz="UTC")),
        ("task", pa.string()),  # Hub pipeline_tag / task category
        ("license", pa.string()),
        ("sha", pa.string()),
        ("model_type", pa.string()),  # config.model_type (architecture family) when known
        ("tags", pa.list_(pa.string())),
        ("parameters", pa.int64()),  # parameter count when the source says (Hub safetensors.total)
    ]
)

PACKAGE_LIBRARIES = pa.schema(
    [
        ("snapshot_id", pa.string()),
        ("package_id", pa.string()),
        ("library", pa.string()),  # Hub library vocabulary key, lower case
        ("origin", pa.string()),  # LibraryOrigin
    ]
)

LINEAGE = pa.schema(
    [
        ("snapshot_id", pa.string()),
        ("child", pa.string()),  # package_id of the descendant
        ("parent_ref", pa.string()),  # the parent reference exactly as written
        ("parent_id", pa.string()),  # resolved package id, null when unresolved
        ("relation", pa.string()),  # Relation
        ("origin", pa.string()),  # LineageOrigin
    ]
)

CARDS = pa.schema(
    [
        ("snapshot_id", pa.string()),
        ("package_id", pa.string()),
        ("text", pa.string()),  # null when missing
        ("text_sha256", pa.string()),  # null when missing
        ("missing", pa.bool_()),
    ]
)

PACKAGE_FILES = pa.schema(
    [
        ("snapshot_id", pa.string()),
        ("package_id", pa.string()),
        ("path", pa.string()),  # file path in the repository (Hub siblings' rfilename)
        ("size_bytes", pa.int64()),  # null when the source does not say
    ]
)

COMMITS = pa.schema(
    [
        ("snapshot_id", pa.string()),
        ("package_id", pa.string()),
        ("commit_id", pa.string()),  # commit hash
        ("committed_at", pa.timestamp("us", tz="UTC")),
        ("author", pa.string()),
        ("message", pa.string()),
        ("files", pa.list_(pa.string())),  # files the commit touched, when known (may be partial)
        ("formats", pa.list_(pa.string())),  # serialization format of each of ``files`` (same order), when known
    ]
)

DEPENDENTS = pa.schema(
    [
        ("snapshot_id", pa.string()),
        ("package_id", pa.string()),  # the package depended on (e.g. a Hub model id)
        ("dependent", pa.string()),  # who depends on it, e.g. "github:owner/repo"
        ("kind", pa.string()),  # "github" (a repository), "package" ...
        ("license", pa.string()),  # licence the source records for the link, if any
    ]
)

ALIASES = pa.schema(
    [
        ("registry", pa.string()),
        ("alias", pa.string()),  # old id, e.g. bert-base-uncased
        ("canonical", pa.string()),  # new id, e.g. google-bert/bert-base-uncased
        ("origin", pa.string()),  # "builtin" or the file it came from
    ]
)

DATA_TABLES: dict[str, pa.Schema] = {
    "packages": PACKAGES,
    "package_libraries": PACKAGE_LIBRARIES,
    "lineage": LINEAGE,
    "cards": CARDS,
    "package_files": PACKAGE_FILES,
    "commits": COMMITS,
    "dependents": DEPENDENTS,
}

SnapshotStatus = Literal["complete", "in_progress"]

SNAPSHOTS_DDL = """
CREATE TABLE IF NOT EXISTS snapshots (
    snapshot_id VARCHAR PRIMARY KEY,
    registry VARCHAR NOT NULL,
    taken_at DATE NOT NULL,
    source_format VARCHAR NOT NULL,
    source_file VARCHAR NOT NULL,
    source_sha256 VARCHAR NOT NULL,
    row_count BIGINT NOT NULL,
    importer_version VARCHAR NOT NULL,
    notes VARCHAR,
    status VARCHAR NOT NULL DEFAULT 'complete',
    synthetic BOOLEAN NOT NULL DEFAULT FALSE,
    manifest VARCHAR,
    ingested_at TIMESTAMP NOT NULL
)
"""

#: the snapshots columns a user sees (listings, the report's provenance): all but the manifest and ingest time
SNAPSHOT_COLUMNS: tuple[str, ...] = (
    "snapshot_id",
    "registry",
    "taken_at",
    "source_format",
    "source_file",
    "source_sha256",
    "row_count",
    "importer_version",
    "notes",
    "status",
    "synthetic",
)


def duck_type(t: pa.DataType) -> str:
    if pa.types.is_string(t):
        return "VARCHAR"
    if pa.types.is_int64(t):
        return "BIGINT"
    if pa.types.is_boolean(t):
        return "BOOLEAN"
    if pa.types.is_float64(t):
        return "DOUBLE"
    if pa.types.is_timestamp(t):
        return "TIMESTAMPTZ" if t.tz else "TIMESTAMP"
    if pa.types.is_list(t):
        return duck_type(t.value_type) + "[]"
    raise TypeError(f"no DuckDB type for {t}")


def table_ddl(name: str, schema: pa.Schema) -> str:
    cols = ",\n    ".join(f"{f.name} {duck_type(f.type)}" for f in schema)
    return f"CREATE TABLE IF NOT EXISTS {name} (\n    {cols}\n)"


@dataclass(frozen=True)
class Snapshot:
    """One dated listing of one registry, with its provenance."""

    snapshot_id: str
    registry: str
    taken_at: dt.date
    source_format: str
    source_file: str
    source_sha256: str
    row_count: int
    importer_version: str
    notes: str | None = None
    status: str = "complete"
    synthetic: bool = False
    manifest: str | None = None  # JSON text


def make_snapshot_id(registry: str, taken_at: dt.date, source_sha256: str) -> str:
    """Stable, readable id: ``hf-2022-02-21-3f2a9c1b``."""
    return f"{registry}-{taken_at.isoformat()}-{source_sha256[:8]}"


@dataclass
class SnapshotBatch:
    """Everything one import produces, validated, before it touches the store.

    ``tables`` maps a name of :data:`DATA_TABLES` to an Arrow table with
    exactly that schema (the store fills ``snapshot_id``).
    """

    snapshot: Snapshot
    tables: dict[str, pa.Table] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def table(self, name: str) -> pa.Table:
        t = self.tables.get(name)
        if t is None:
            return DATA_TABLES[name].empty_table()
        return t


def to_table(name: str, rows: dict[str, list], snapshot_id: str) -> pa.Table:
    """Build an Arrow table of canonical table ``name`` from column lists.

    Missing columns become nulls; ``snapshot_id`` is filled in.
    """
    schema = DATA_TABLES[name]
    n = None
    for v in rows.values():
        n = len(v)
        break
    n = n or 0
    arrays = []
    for f in schema:
        if f.name == "snapshot_id":
            arrays.append(pa.array([snapshot_id] * n, type=f.type))
        elif f.name in rows:
            arrays.append(pa.array(rows[f.name], type=f.type))
        else:
            arrays.append(pa.nulls(n, type=f.type))
    return pa.Table.from_arrays(arrays, schema=schema)
