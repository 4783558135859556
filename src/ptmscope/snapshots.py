"""Choosing snapshots: the one place that turns what a user asks for into snapshots.

A *selection* says which snapshots a computation may use:

* ``snapshots``: tokens, each an exact snapshot id, a unique id prefix
  (``pypi-2019-01-04``) or a date (``2019-01-04``: the snapshots taken that
  day);
* ``since`` / ``until``: an inclusive date window;
* ``every``: ``month``, ``quarter`` or ``year``: one snapshot per calendar
  period, the one whose date is nearest the period's first day (ties: the
  earlier snapshot); a snapshot is used at most once, and a period whose
  nearest snapshot is more than half a period away is skipped.

Metrics over several snapshots (turnover) use every selected snapshot of a
registry (:func:`resolve`).  Metrics over one snapshot (:func:`pick`) take,
among the selected complete snapshots of the registry, the one with the most
*usable* rows (rows of the needed table whose needed columns are all
non-null), ties going to the newer snapshot; a selection that names a single
snapshot must have usable rows, otherwise that is an error, never an empty
result.

Expressed in Ibis so it runs on any backend.  "Not measurable" is raised
only as :class:`~ptmscope.errors.NotMeasurable` (the data cannot answer);
a selection that names something absent is a :class:`~ptmscope.errors.PtmscopeError`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

import ibis
from pydantic import Field

from .errors import NotMeasurable, PtmscopeError
from .validation import StrictModel

Every = Literal["month", "quarter", "year"]
EVERY: tuple[str, ...] = get_args(Every)
_PERIOD_MONTHS = {"month": 1, "quarter": 3, "year": 12}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class SnapshotRef:
    """The facts about a snapshot that results report with their numbers."""

    snapshot_id: str
    registry: str
    taken_at: dt.date
    row_count: int
    notes: str | None = None
    synthetic: bool = False
    source_format: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "snapshot_id": self.snapshot_id,
            "registry": self.registry,
            "taken_at": self.taken_at.isoformat(),
            "row_count": self.row_count,
            "notes": self.notes,
        }


@dataclass(frozen=True)
class Chosen:
    """A snapshot picked for a one-snapshot metric, with why."""

    snapshot: SnapshotRef
    usable_rows: int

    @property
    def snapshot_id(self) -> str:
        return self.snapshot.snapshot_id

    @property
    def taken_at(self) -> dt.date:
        return self.snapshot.taken_at

    @property
    def synthetic(self) -> bool:
        return self.snapshot.synthetic


class Selection(StrictModel):
    """Which snapshots to use (see the module docstring); empty = all complete ones."""

    snapshots: tuple[str, ...] = Field(
        (), strict=False, description="Snapshot ids, unique id prefixes or dates (YYYY-MM-DD)."
    )
    since: dt.date | None = Field(None, strict=False, description="Only snapshots taken on or after this date.")
    until: dt.date | None = Field(None, strict=False, description="Only snapshots taken on or before this date.")
    every: Every | None = Field(None, description="One snapshot per month, quarter or year (nearest the start).")

    @property
    def empty(self) -> bool:
        return not self.snapshots and self.since is None and self.until is None and self.every is None

    def describe(self) -> str:
        parts = []
        if self.snapshots:
            parts.append("snapshots " + ", ".join(self.snapshots))
        if self.since:
            parts.append(f"since {self.since.isoformat()}")
        if self.until:
            parts.append(f"until {self.until.isoformat()}")
        if self.every:
            parts.append(f"every {self.every}")
        return "; ".join(parts) or "all complete snapshots"


ALL = Selection()


def as_selection(
    snapshots: str | Sequence[str] | Selection | None = None,
    *,
    since: dt.date | str | None = None,
    until: dt.date | str | None = None,
    every: str | None = None,
) -> Selection:
    """A :class:`Selection` from loose arguments (a comma-separated string, a list, dates as text)."""
    if isinstance(snapshots, Selection):
        if since is None and until is None and every is None:
            return snapshots
        base = snapshots.snapshots
    elif snapshots is None:
        base = ()
    elif isinstance(snapshots, str):
        base = tuple(s.strip() for s in snapshots.split(",") if s.strip())
    else:
        base = tuple(str(s).strip() for s in snapshots if str(s).strip())
    from .validation import validate_data

    return validate_data(
        Selection, {"snapshots": base, "since": since, "until": until, "every": every}, "snapshot selection"
    )


def as_date(v: Any) -> dt.date:
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    if hasattr(v, "date"):  # pandas Timestamp
        return v.date()
    return dt.date.fromisoformat(str(v)[:10])


def _text(v: Any) -> str | None:
    if v is None or isinstance(v, float):  # pandas turns a null string into NaN
        return None
    return str(v)


def list_snapshots(backend: Any, registry: str | None = None) -> list[SnapshotRef]:
    """Complete snapshots, ordered by date then id (optionally of one registry)."""
    t = backend.table("snapshots")
    if "status" in t.columns:
        t = t.filter(t.status == "complete")
    if registry:
        t = t.filter(t.registry == registry)
    # the optional columns may be absent from hand-built backends (tests, notebooks)
    cols = [
        c
        for c in ("snapshot_id", "registry", "taken_at", "row_count", "notes", "synthetic", "source_format")
        if c in t.columns or c in ("snapshot_id", "registry", "taken_at")
    ]
    df = t.select(*cols).order_by(["taken_at", "snapshot_id"]).to_pandas()
    return [
        SnapshotRef(
            snapshot_id=str(r.snapshot_id),
            registry=str(r.registry),
            taken_at=as_date(r.taken_at),
            row_count=int(getattr(r, "row_count", 0) or 0),
            notes=_text(getattr(r, "notes", None)),
            synthetic=bool(getattr(r, "synthetic", False)),
            source_format=_text(getattr(r, "source_format", None)),
        )
        for r in df.itertuples(index=False)
    ]


def snapshot_info(backend: Any, snapshot_id: str) -> SnapshotRef:
    """One complete snapshot by exact id."""
    for s in list_snapshots(backend):
        if s.snapshot_id == snapshot_id:
            return s
    raise PtmscopeError(f"no snapshot {snapshot_id!r} in the store (see `ptmscope snapshots`)")


def _match_token(token: str, pool: Sequence[SnapshotRef], registry: str | None) -> list[SnapshotRef]:
    exact = [s for s in pool if s.snapshot_id == token]
    if exact:
        return exact
    if _DATE.match(token):
        try:
            day = dt.date.fromisoformat(token)
        except ValueError:
            raise PtmscopeError(f"snapshot selection: {token!r} is not a valid date") from None
        on_day = [s for s in pool if s.taken_at == day]
        if on_day:
            return on_day
        near = sorted(pool, key=lambda s: (abs((s.taken_at - day).days), s.taken_at))[:3]
        hint = f"; nearest: {', '.join(s.snapshot_id for s in near)}" if near else ""
        scope = f" {registry}" if registry else ""
        raise PtmscopeError(f"no{scope} snapshot taken on {token}{hint} (or use --every / --since / --until)")
    pref = [s for s in pool if s.snapshot_id.startswith(token)]
    if len(pref) == 1:
        return pref
    if len(pref) > 1:
        shown = ", ".join(s.snapshot_id for s in pref[:5]) + (" ..." if len(pref) > 5 else "")
        raise PtmscopeError(f"snapshot prefix {token!r} is ambiguous: {len(pref)} snapshots ({shown})")
    return []


def _by_period(snaps: Sequence[SnapshotRef], every: str) -> list[SnapshotRef]:
    if not snaps:
        return []
    months = _PERIOD_MONTHS[every]
    first, last = snaps[0].taken_at, snaps[-1].taken_at
    start_month = (first.month - 1) // months * months + 1
    period = dt.date(first.year, start_month, 1)
    out: list[SnapshotRef] = []
    used: set[str] = set()
    half = dt.timedelta(days=months * 30.44 / 2)
    while period <= last + half:
        nearest = min(snaps, key=lambda s: (abs((s.taken_at - period).days), s.taken_at))
        if abs(nearest.taken_at - period) <= half and nearest.snapshot_id not in used:
            out.append(nearest)
            used.add(nearest.snapshot_id)
        m = period.month - 1 + months
        period = dt.date(period.year + m // 12, m % 12 + 1, 1)
    return sorted(out, key=lambda s: (s.taken_at, s.snapshot_id))


def resolve(backend: Any, registry: str | None, selection: Selection | None = None) -> list[SnapshotRef]:
    """The selected complete snapshots (of ``registry`` when given), in date order.

    Named tokens must each match (an unknown id is an error); a named snapshot
    of another registry is an error.  With nothing named, all complete
    snapshots of the registry (empty list when there are none).
    """
    sel = selection or ALL
    everything = list_snapshots(backend)
    pool = [s for s in everything if registry is None or s.registry == registry]
    if sel.snapshots:
        chosen: dict[str, SnapshotRef] = {}
        for tok in sel.snapshots:
            got = _match_token(tok, pool, registry)
            if not got and registry is not None:
                other = _match_token(tok, everything, None) if not _DATE.match(tok) else []
                if other:
                    raise PtmscopeError(
                        f"snapshot {other[0].snapshot_id!r} is from registry {other[0].registry!r}, not {registry!r}"
                    )
            if not got:
                raise PtmscopeError(f"no snapshot {tok!r} in the store (see `ptmscope snapshots`)")
            for s in got:
                chosen[s.snapshot_id] = s
        pool = list(chosen.values())
    if sel.since:
        pool = [s for s in pool if s.taken_at >= sel.since]
    if sel.until:
        pool = [s for s in pool if s.taken_at <= sel.until]
    pool.sort(key=lambda s: (s.taken_at, s.snapshot_id))
    if sel.every:
        pool = _by_period(pool, sel.every)
    return pool


def registries_of(backend: Any, selection: Selection) -> list[str]:
    """The registries the named snapshots belong to, in first-named order."""
    found = resolve(backend, None, Selection(snapshots=selection.snapshots))
    return list(dict.fromkeys(s.registry for s in found))


def usable_counts(
    backend: Any,
    snaps: Sequence[SnapshotRef],
    table: str,
    columns: Sequence[str] = (),
    rows: ibis.Table | None = None,
) -> dict[str, int]:
    """Rows of ``table`` (or of the ``rows`` expression) per snapshot whose ``columns`` are all non-null."""
    if not snaps:
        return {}
    t = rows if rows is not None else backend.table(table)
    t = t.filter(t.snapshot_id.isin([s.snapshot_id for s in snaps]))
    for col in columns:
        t = t.filter(t[col].notnull())
    df = t.group_by("snapshot_id").aggregate(n=t.count()).to_pandas()
    return {str(sid): int(n) for sid, n in zip(df["snapshot_id"], df["n"], strict=False)}


def pick(
    backend: Any,
    registry: str,
    selection: Selection | None = None,
    *,
    table: str = "packages",
    columns: Sequence[str] = (),
    min_rows: int = 1,
    what: str = "this metric",
    rows: ibis.Table | None = None,
    rows_meaning: str | None = None,
) -> Chosen:
    """The one snapshot a one-snapshot metric uses (rule in the module docstring).

    ``rows`` replaces the usable rows of ``table`` by an Ibis expression with a
    ``snapshot_id`` column (e.g. packages that have downloads *and* a library);
    ``rows_meaning`` says in words what they are.
    """
    sel = selection or ALL
    snaps = resolve(backend, registry, sel)
    need = rows_meaning or (f"rows in table {table!r}" + (f" with {', '.join(columns)}" if columns else ""))
    if not snaps:
        if not sel.empty:
            raise PtmscopeError(f"{what}: no complete {registry} snapshot matches {sel.describe()}")
        raise NotMeasurable(f"{what}: the store has no complete {registry} snapshot")
    counts = usable_counts(backend, snaps, table, columns, rows)
    if len(snaps) == 1 and sel.snapshots and counts.get(snaps[0].snapshot_id, 0) < min_rows:
        raise PtmscopeError(
            f"{what}: snapshot {snaps[0].snapshot_id!r} has no {need} (at least {min_rows} needed); "
            "name one that has, or select none"
        )
    best = max(snaps, key=lambda s: (counts.get(s.snapshot_id, 0), s.taken_at, s.snapshot_id))
    n = counts.get(best.snapshot_id, 0)
    if n < min_rows:
        amount = f"at least {min_rows} " if min_rows > 1 else ""
        raise NotMeasurable(
            f"{what}: no complete {registry} snapshot has {amount}{need}"
            + (f" ({sel.describe()})" if not sel.empty else "")
        )
    return Chosen(best, n)


def nearest(snaps: Sequence[SnapshotRef], targets: Sequence[dt.date]) -> list[SnapshotRef]:
    """For each target date the snapshot closest to it (ties: the earlier one)."""
    if not snaps:
        return []
    return [min(snaps, key=lambda s: (abs((s.taken_at - d).days), s.taken_at)) for d in targets]


def namespace_expr(package_id: Any) -> Any:
    """Hub namespace (the part before '/'), null for legacy un-namespaced ids."""
    # find/substr rather than split()[0]: no list per row
    return ibis.ifelse(package_id.contains("/"), package_id.substr(0, package_id.find("/")), ibis.null("string"))
