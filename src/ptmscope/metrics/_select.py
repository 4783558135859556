"""Choosing the snapshot a cross-sectional metric runs on (shared by the
growth, concentration, naming, attributes and under-documentation metrics).

Rule: among the complete snapshots of the registry, the one with the most
rows that have every needed column non-null; ties go to the latest date, then
the larger snapshot id.  Expressed in Ibis so it runs on any backend.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import ibis

from ..errors import PtmscopeError


class NotMeasurable(PtmscopeError):
    """The data at hand cannot answer this metric (the message says why)."""


@dataclass(frozen=True)
class Chosen:
    snapshot_id: str
    taken_at: dt.date
    synthetic: bool
    usable_rows: int


def snapshot_info(backend: Any, snapshot_id: str) -> Chosen:
    s = backend.table("snapshots")
    df = s.filter(s.snapshot_id == snapshot_id).select("snapshot_id", "taken_at", "synthetic").execute()
    if df.empty:
        raise NotMeasurable(f"no snapshot {snapshot_id!r} in the store")
    r = df.iloc[0]
    return Chosen(str(r.snapshot_id), _date(r.taken_at), bool(r.synthetic), -1)


def _date(v: Any) -> dt.date:
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    return dt.date.fromisoformat(str(v)[:10])


def pick_snapshot(
    backend: Any,
    *,
    registry: str = "hf",
    need: tuple[str, ...] = (),
    snapshot_id: str | None = None,
    min_rows: int = 1,
    what: str = "this metric",
) -> Chosen:
    """The snapshot to use (``snapshot_id`` wins when given)."""
    if snapshot_id:
        info = snapshot_info(backend, snapshot_id)
        return info
    snaps = backend.table("snapshots")
    snaps = snaps.filter((snaps.registry == registry) & (snaps.status == "complete"))
    p = backend.table("packages")
    cond = ibis.literal(True)
    for col in need:
        cond = cond & p[col].notnull()
    counts = p.filter(cond).group_by("snapshot_id").aggregate(usable=ibis._.count())
    j = snaps.inner_join(counts, "snapshot_id").select("snapshot_id", "taken_at", "synthetic", "usable")
    df = j.execute()
    if df.empty or int(df["usable"].max()) < min_rows:
        cols = ", ".join(need) or "any rows"
        raise NotMeasurable(f"{what}: no complete {registry} snapshot has at least {min_rows} packages with {cols}")
    df = df.assign(taken=df["taken_at"].map(_date)).sort_values(
        ["usable", "taken", "snapshot_id"], ascending=[False, False, False]
    )
    r = df.iloc[0]
    return Chosen(str(r.snapshot_id), r.taken, bool(r.synthetic), int(r.usable))


def namespace_expr(package_id: Any) -> Any:
    """Hub namespace (the part before '/'), null for legacy un-namespaced ids."""
    return ibis.ifelse(package_id.contains("/"), package_id.split("/")[0], ibis.null("string"))
