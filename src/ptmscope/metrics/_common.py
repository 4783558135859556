"""Helpers shared by the metric modules: snapshot selection and identity mapping.

Everything here works on any Ibis backend that exposes the canonical tables
(``snapshots``, ``packages``, ``package_libraries``, ``lineage``, ``aliases``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import ibis

from ..aliases import builtin_aliases
from ..errors import PtmscopeError


@dataclass(frozen=True)
class SnapshotRef:
    """The few facts about a snapshot that metrics report with their numbers."""

    snapshot_id: str
    registry: str
    taken_at: dt.date
    row_count: int
    notes: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "snapshot_id": self.snapshot_id,
            "registry": self.registry,
            "taken_at": self.taken_at.isoformat(),
            "row_count": self.row_count,
            "notes": self.notes,
        }


def _as_date(v: Any) -> dt.date:
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    if hasattr(v, "date"):  # pandas Timestamp
        return v.date()
    return dt.date.fromisoformat(str(v)[:10])


def list_snapshots(backend: Any, registry: str | None = None) -> list[SnapshotRef]:
    """Complete snapshots, ordered by date then id (optionally of one registry)."""
    t = backend.table("snapshots")
    if "status" in t.columns:
        t = t.filter(t.status == "complete")
    if registry:
        t = t.filter(t.registry == registry)
    cols = ["snapshot_id", "registry", "taken_at", "row_count", "notes"]
    df = t.select(*cols).order_by(["taken_at", "snapshot_id"]).to_pandas()
    return [
        SnapshotRef(
            snapshot_id=str(r.snapshot_id),
            registry=str(r.registry),
            taken_at=_as_date(r.taken_at),
            row_count=int(r.row_count),
            notes=None if r.notes is None or (isinstance(r.notes, float)) else str(r.notes),
        )
        for r in df.itertuples(index=False)
    ]


def resolve_snapshots(backend: Any, registry: str | None, snapshot_ids: Sequence[str] | None) -> list[SnapshotRef]:
    """The snapshots a metric runs on, in date order.

    With ``snapshot_ids`` every id must exist (and belong to ``registry`` when
    one is given); without, all complete snapshots of ``registry``.
    """
    known = {s.snapshot_id: s for s in list_snapshots(backend)}
    if snapshot_ids:
        out = []
        for sid in snapshot_ids:
            s = known.get(sid)
            if s is None:
                raise PtmscopeError(f"no snapshot {sid!r} in the store (see `ptmscope snapshots`)")
            if registry and s.registry != registry:
                raise PtmscopeError(f"snapshot {sid!r} is from registry {s.registry!r}, not {registry!r}")
            out.append(s)
        return sorted(out, key=lambda s: (s.taken_at, s.snapshot_id))
    out = [s for s in known.values() if registry is None or s.registry == registry]
    if not out:
        raise PtmscopeError(
            f"the store has no complete snapshots{' of registry ' + repr(registry) if registry else ''} "
            "(run `ptmscope ingest` first)"
        )
    return sorted(out, key=lambda s: (s.taken_at, s.snapshot_id))


def pick_snapshot(backend: Any, registry: str, snapshot_id: str | None, *, needs: str) -> SnapshotRef:
    """One snapshot: the one named, else the newest of ``registry`` with rows in table ``needs``.

    A named snapshot without rows in ``needs`` is an error (an empty result would look like a finding).
    """
    if snapshot_id:
        snap = resolve_snapshots(backend, registry, [snapshot_id])[0]
        t = backend.table(needs)
        if int(t.filter(t.snapshot_id == snap.snapshot_id).count().to_pandas()) == 0:
            raise PtmscopeError(
                f"snapshot {snapshot_id!r} has no rows in table {needs!r} "
                "(e.g. a listing without lineage); name one that has, or omit --snapshots"
            )
        return snap
    snaps = resolve_snapshots(backend, registry, None)
    t = backend.table(needs)
    have = set(t.select("snapshot_id").distinct().to_pandas()["snapshot_id"].astype(str))
    with_rows = [s for s in snaps if s.snapshot_id in have]
    if not with_rows:
        raise PtmscopeError(
            f"no {registry} snapshot has rows in table {needs!r}; ingest one that does "
            "(e.g. a Hub dump with model cards) or name it with --snapshots"
        )
    return with_rows[-1]


def alias_map(backend: Any, registry: str) -> dict[str, str]:
    """alias -> canonical id: built-in Hub renames, overridden by the store's ``aliases`` table."""
    out = dict(builtin_aliases(registry))
    try:
        t = backend.table("aliases")
    except Exception:  # a backend without the table: built-ins only
        return out
    df = t.filter(t.registry == registry).select("alias", "canonical").to_pandas()
    out.update(zip(df["alias"].astype(str), df["canonical"].astype(str), strict=False))
    # one hop only, as documented in ptmscope.aliases; drop identity rows
    return {a: c for a, c in out.items() if a != c}


def apply_aliases(t: ibis.Table, column: str, aliases: dict[str, str]) -> ibis.Table:
    """Replace ``column`` by its canonical id where the alias table knows one."""
    if not aliases:
        return t
    m = ibis.memtable(
        {"_alias": list(aliases.keys()), "_canonical": list(aliases.values())},
        schema={"_alias": "string", "_canonical": "string"},
    )
    j = t.left_join(m, t[column] == m._alias)
    return j.mutate(**{column: j._canonical.coalesce(j[column])}).drop("_alias", "_canonical")


def nearest_snapshots(snaps: Sequence[SnapshotRef], targets: Sequence[dt.date]) -> list[SnapshotRef]:
    """For each target date the snapshot closest to it (ties: the earlier one)."""
    if not snaps:
        return []
    out = []
    for d in targets:
        best = min(snaps, key=lambda s: (abs((s.taken_at - d).days), s.taken_at))
        out.append(best)
    return out
