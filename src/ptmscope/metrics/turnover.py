"""Top-K turnover (claim C2; paper equations 2-4).

For an ordered list of snapshots S_1 .. S_n of one registry let T_i be the set
of packages in the top K of S_i (by downloads, else by the source's rank).
For every step i > 1:

* Remained_i  = |T_i ∩ T_{i-1}|                                   (eq. 2)
* Newcomers_i = |T_i \\ (T_1 ∪ ... ∪ T_{i-1})|                     (eq. 3)
* Returning_i = |(T_i \\ T_{i-1}) ∩ (T_1 ∪ ... ∪ T_{i-2})|         (eq. 4)

so Remained + Newcomers + Returning = |T_i| (= K for a full snapshot).  The
first snapshot counts all of T_1 as newcomers.  ``distinct_ever`` is
|T_1 ∪ ... ∪ T_n|, the number the paper reports (npm 1,127, PyPI 1,429,
HF 2,535 over four snapshots, K = 1000).

Ordering inside a snapshot: downloads descending, then the source's rank,
then the package id; rows with neither downloads nor a rank cannot be ranked
and are left out (the paper's code did the same with ``downloads IS NOT
NULL``).  Ties at rank K follow :data:`TieRule`: ``id`` (default) breaks them
by package id so T_i has exactly K members; ``all`` keeps every package tied
with the K-th, so T_i may exceed K.

Identity: with ``normalise=True`` (default) packages are compared by their
normalised ``package_id`` (PEP 503 for PyPI, lower case for npm) after
following the Hub's renamed-repo aliases, so ``bert-base-uncased`` and
``google-bert/bert-base-uncased`` are one model.  ``normalise=False`` uses the
ids exactly as the sources wrote them (``raw_id``), reproducing raw counts.

Differences from the paper's published code (``turnover.ipynb``): it ranked
with ``ORDER BY downloads DESC LIMIT 1000`` (ties at K broken arbitrarily by
the database), compared names exactly as stored, and set the first step's
newcomers to the constant K rather than the size of T_1.  ``mode="artifact"``
reproduces the last two choices (raw ids, first step = K); ties stay
deterministic because an arbitrary order cannot be reproduced.

Coverage check: each snapshot is compared with its neighbours in the list;
a warning is raised when it has fewer than K rankable rows or a K-th
download count far below theirs.  Such a snapshot is probably a partial
listing and its turnover is inflated.  Far fewer rows than its neighbours is
used only as a fallback, when the K-th downloads cannot be compared and the
snapshot is not a ranked list: a top-N list (top-pypi, npm-high-impact) with
N >= K holds the whole top K however short it is next to a full listing, so
its row count says nothing.

Comparability of a step (two consecutive snapshots): a warning names both
snapshots when

* the *ranking measure* changes (``measure``): the snapshot manifest's
  ``ranking_measure`` (npm-high-impact: npm's last-week downloads up to
  v1.11, the ecosyste.ms ``downloads`` field from v1.12), else "download
  counts" for a snapshot with counts and "the source's rank" for a ranked
  list without them;
* the *download window* changes (``window``): PyPI's 30-day BigQuery counts
  vs the previous calendar month from ClickHouse (2025-07 on);
* the two hold the *same ranked list* (``duplicate``): the same packages in
  the same order with the same downloads over every rankable row (not only
  the top K: a top K that merely stays put is a finding).  The later one
  (by date; on the same date, the higher release ``version`` in the manifest,
  else the larger id) is left out of the steps: a re-release (npm-high-impact
  1.7.0 repeats 1.6.0) would otherwise add a step with no turnover at all.

Per-year rates, two ways, because registries are sampled at different
intervals (PyPI weekly to monthly, npm quarterly, Hub listings months apart):

* *annualised steps*: step i's turnover share r_i = 1 - Remained_i / |T_i|
  covers the d_i days since the previous snapshot, and

      r_year,i = 1 - (1 - r_i) ** (365.25 / d_i)

  assumes a constant daily chance of leaving the top K, the same for every
  member, and misses packages that left and came back between two
  snapshots.  The assumption does not hold well: packages near rank K move
  in and out all the time, so short steps annualise to higher rates (PyPI's
  top 1,000: about 0.43 from weekly and monthly steps, 0.27 from quarterly,
  0.21 from half-yearly, 0.16 from yearly ones).  Steps on the same day have
  no annual rate.  :func:`rate_summary` gives the median over comparable
  steps and the pooled rate 1 - prod(1 - r_i) ** (365.25 / sum(d_i));
* *year apart* (no model): for each snapshot, the one nearest to 365.25 days
  later (within :data:`YEAR_TOLERANCE_DAYS`), and 1 - |T_a ∩ T_b| / |T_b|;
  the median over the comparable pairs.  Prefer it whenever a registry has
  snapshots a year apart; the annualised rate is the fallback for short
  series (the Hub's listings of 2022).
"""

from __future__ import annotations

import contextvars
import itertools
import json
import math
import re
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple, get_args

import ibis
from pydantic import Field

from ..errors import NotMeasurable, PtmscopeError
from ..schema import Registry
from ..snapshots import Selection, SnapshotRef, as_selection, list_snapshots, registries_of, resolve
from ._common import alias_map, apply_aliases
from ._kinds import CHANGE_KINDS, PARTIAL_KINDS
from .registry import Context, Metric, Params, ReportTable, register

NAME = "turnover"

TieRule = Literal["id", "all"]
TIE_RULES: tuple[str, ...] = get_args(TieRule)
Mode = Literal["paper", "artifact"]
MODES: tuple[str, ...] = get_args(Mode)
SENSITIVITY_KS: tuple[int, ...] = (100, 500, 1000, 5000)


class TurnoverParams(Params):
    registry: tuple[Registry, ...] = Field(
        (),
        strict=False,
        description="Registries (default: those of the named snapshots, else every registry with at least two "
        "selected complete snapshots).",
    )
    top: int = Field(1000, ge=1, description="K: size of the top list.")
    ties: TieRule = Field("id", description="Ties at rank K: id = break by id (exactly K), all = keep all tied.")
    raw_ids: bool = Field(
        False, description="Compare ids as the sources wrote them (no PEP 503 / alias normalisation)."
    )
    mode: Mode = Field(
        "paper", description="paper: the formula as the paper states it; artifact: what its published code computed."
    )
    sensitivity: bool = Field(False, description=f"Also compute the table over K in {SENSITIVITY_KS}.")


DEFAULTS = TurnoverParams()

# Coverage thresholds: a snapshot is suspicious below these fractions of its neighbours.
ROWS_RATIO = 0.5
KTH_RATIO = 0.2
DAYS_PER_YEAR = 365.25
YEAR_TOLERANCE_DAYS = 45  # a "year apart" pair is 365 +- this many days apart

ANNUAL_METHOD = (
    "per-step turnover share r = 1 - Remained/|T_i| over the d days since the previous snapshot, converted to a "
    "yearly rate 1 - (1 - r)^(365.25/d); assumes a constant daily chance of leaving the top K and misses packages "
    "that left and came back between two snapshots; short steps annualise to higher rates than long ones"
)
YEAR_METHOD = (
    "year apart: for each snapshot the one nearest to 365.25 days later (within "
    f"{YEAR_TOLERANCE_DAYS} days), turnover 1 - |T_a ∩ T_b| / |T_b|; no model"
)
MEASURE_NAMES = {
    "npm-downloads-last-week": "npm's last-week downloads",
    "ecosystems-downloads": "the ecosyste.ms downloads field",
    "download counts": "download counts",
    "source rank": "the source's rank (measure not recorded)",
}


@dataclass(frozen=True)
class TurnoverStep:
    snapshot_id: str
    taken_at: str
    in_top: int
    remained: int
    newcomers: int
    returning: int
    distinct_so_far: int
    rows: int  # rankable rows in the snapshot
    kth_downloads: int | None  # downloads of the K-th package (None: no downloads, ranked list)
    gap_days: int | None = None  # days since the previous snapshot (None for the first)
    turnover_share: float | None = None  # 1 - remained / in_top (None for the first step)
    turnover_per_year: float | None = None  # the share as a yearly rate (see the module docstring)
    flags: tuple[str, ...] = ()  # warning kinds that make this step not comparable (partial, measure, window)

    @property
    def comparable(self) -> bool:
        return self.turnover_share is not None and not self.flags

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["flags"] = list(self.flags)
        return d


@dataclass(frozen=True)
class YearPair:
    """Two snapshots about a year apart and the share of the later top K not in the earlier one."""

    from_snapshot_id: str
    to_snapshot_id: str
    gap_days: int
    in_top: int
    remained: int
    turnover_share: float | None
    flags: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["flags"] = list(self.flags)
        return d


@dataclass(frozen=True)
class CoverageWarning:
    snapshot_id: str
    # per snapshot: "fewer_than_k", "few_rows", "low_kth", "unrankable";
    # per step (other_snapshot_id = the earlier snapshot): "measure", "window", "duplicate"
    kind: str
    message: str
    other_snapshot_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def annual_rate(share: float | None, gap_days: int | None) -> float | None:
    """A per-step turnover share over ``gap_days`` as a yearly rate (constant-rate model)."""
    if share is None or gap_days is None or gap_days <= 0:
        return None
    if share >= 1:
        return 1.0
    return 1 - (1 - share) ** (DAYS_PER_YEAR / gap_days)


@dataclass(frozen=True)
class TurnoverResult:
    registry: str
    snapshots: tuple[SnapshotRef, ...]
    k: int
    tie_rule: str
    normalise: bool
    mode: str
    steps: tuple[TurnoverStep, ...]
    distinct_ever: int
    warnings: tuple[CoverageWarning, ...] = field(default_factory=tuple)
    dropped: tuple[str, ...] = ()  # snapshots left out as repeats of the one before
    year_pairs: tuple[YearPair, ...] = ()

    def rates(self) -> dict[str, Any]:
        """Per-step and per-year turnover over the comparable steps (see :func:`rate_summary`)."""
        return rate_summary(self)

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": NAME,
            "inputs": {
                "registry": self.registry,
                "snapshot_ids": [s.snapshot_id for s in self.snapshots],
                "snapshots": [s.to_dict() for s in self.snapshots],
                "k": self.k,
                "tie_rule": self.tie_rule,
                "normalise": self.normalise,
                "mode": self.mode,
            },
            "steps": [s.to_dict() for s in self.steps],
            "distinct_ever": self.distinct_ever,
            "dropped_snapshots": list(self.dropped),
            "year_pairs": [p.to_dict() for p in self.year_pairs],
            "rates": self.rates(),
            "warnings": [w.to_dict() for w in self.warnings],
        }


def rate_summary(res: TurnoverResult) -> dict[str, Any]:
    """Medians of the per-step and per-year shares; steps flagged partial or changing measure are left out."""
    later = [s for s in res.steps[1:] if s.turnover_share is not None]
    used = [s for s in later if s.comparable]
    shares = [s.turnover_share for s in used if s.turnover_share is not None]
    shares_all = [s.turnover_share for s in later if s.turnover_share is not None]
    yearly = [s.turnover_per_year for s in used if s.turnover_per_year is not None]
    gaps = [s.gap_days for s in used if s.gap_days is not None]
    year = [p.turnover_share for p in res.year_pairs if not p.flags and p.turnover_share is not None]
    pooled = None
    timed = [s for s in used if s.gap_days and s.turnover_share is not None]
    if timed:
        total_days = sum(s.gap_days or 0 for s in timed)
        survival = math.prod(1 - (s.turnover_share or 0.0) for s in timed)
        pooled = 1.0 if survival <= 0 else 1 - survival ** (DAYS_PER_YEAR / total_days)
    return {
        "method": ANNUAL_METHOD,
        "n_steps": len(shares),
        "n_steps_all": len(shares_all),
        "turnover_shares": shares,
        "turnover_shares_all": shares_all,
        "median_turnover_share": statistics.median(shares) if shares else None,
        "median_turnover_share_all": statistics.median(shares_all) if shares_all else None,
        "median_gap_days": statistics.median(gaps) if gaps else None,
        "median_turnover_per_year": statistics.median(yearly) if yearly else None,
        "pooled_turnover_per_year": pooled,
        "year_method": YEAR_METHOD,
        "n_year_pairs": len(year),
        "median_turnover_year_apart": statistics.median(year) if year else None,
        "flagged_snapshots": sorted({w.snapshot_id for w in res.warnings if w.kind in PARTIAL_KINDS}),
        "not_comparable_steps": [
            {"snapshot_id": s.snapshot_id, "flags": list(s.flags)} for s in later if not s.comparable
        ],
        "dropped_snapshots": list(res.dropped),
    }


def _raw_rows(backend: Any, snaps: Sequence[SnapshotRef], normalise: bool) -> ibis.Table:
    """The snapshots' package rows with the id used for comparing (before aliases) and the ranking columns."""
    p = backend.table("packages")
    p = p.filter(p.snapshot_id.isin([s.snapshot_id for s in snaps]))
    idcol = p.package_id if normalise else p.raw_id.coalesce(p.package_id)
    return p.select(
        snapshot_id=p.snapshot_id, pid=idcol, downloads=p.downloads, src_rank=p["rank"], window=p.downloads_window
    )


def _candidates(raw: ibis.Table, aliases: Mapping[str, str]) -> ibis.Table:
    """One row per (snapshot, package) with its best downloads and rank."""
    p = raw.select("snapshot_id", "pid", "downloads", "src_rank")
    p = apply_aliases(p, "pid", dict(aliases))
    # renaming can merge two rows of one snapshot: keep the best figures
    return p.group_by(["snapshot_id", "pid"]).aggregate(downloads=p.downloads.max(), src_rank=p.src_rank.min())


def _order_keys(t: ibis.Table, with_id: bool) -> list[Any]:
    # explicit null handling: backends differ in where NULLs sort by default
    keys = [
        t.downloads.isnull().cast("int8"),
        t.downloads.desc(),
        t.src_rank.isnull().cast("int8"),
        t.src_rank,
    ]
    if with_id:
        keys.append(t.pid)
    return keys


def _rankable(cand: ibis.Table) -> ibis.Table:
    return cand.filter(cand.downloads.notnull() | cand.src_rank.notnull())


def _coarse_head(cand: ibis.Table, k: int) -> ibis.Table:
    """Rankable candidates whose rank by downloads alone (nulls last) is below K (see :func:`_positions`)."""
    t = _rankable(cand)
    coarse = ibis.rank().over(ibis.window(group_by="snapshot_id", order_by=_order_keys(t, False)[:2]))
    t = t.mutate(_coarse=coarse)
    return t.filter(t._coarse < k).select("snapshot_id", "pid", "downloads", "src_rank")


def _positions(head: ibis.Table, k: int) -> ibis.Table:
    """The rows that can be in the first K of their snapshot, with their exact positions.

    ``head`` holds, per snapshot, every candidate whose downloads are at
    least the K-th row's (all tied with it included; for a ranked list
    without counts, every row).  A row never ranks lower by downloads alone
    than by the full keys, and every row ahead of a kept row in the full
    order is itself kept, so the full ``row_number()`` (``pos``, ties broken
    by id) and ``rank()`` (``tie_pos``, tied rows share it) over the head
    give each row the same 0-based position as over the whole snapshot:
    the same top K and the same K-th row.  Sorting every row of a snapshot
    by all five keys (the last a string) is what made turnover slow.
    Only rows inside the top K under either tie rule are returned.
    """
    rn = ibis.row_number().over(ibis.window(group_by="snapshot_id", order_by=_order_keys(head, True)))
    rk = ibis.rank().over(ibis.window(group_by="snapshot_id", order_by=_order_keys(head, False)))
    t = head.mutate(pos=rn, tie_pos=rk)
    return t.filter((t.pos < k) | (t.tie_pos < k)).select("snapshot_id", "pid", "downloads", "pos", "tie_pos")


class ListFacts(NamedTuple):
    n: int  # rankable rows
    ranked: int  # rows with the source's rank
    counted: int  # rows with downloads
    fingerprint: Any  # (sum of downloads, sum of ranks): equal lists have equal ones


def _list_facts(cand: ibis.Table) -> dict[str, ListFacts]:
    """Per snapshot: row counts and a fingerprint of its ranked list, in one query."""
    t = _rankable(cand)
    df = (
        t.group_by("snapshot_id")
        .aggregate(
            n=t.count(),
            ranked=t.src_rank.count(),
            counted=t.downloads.count(),
            s_dl=t.downloads.sum(),
            s_rank=t.src_rank.sum(),
        )
        .to_pandas()
    )
    return {str(r.snapshot_id): _facts_row(r) for r in df.itertuples(index=False)}


def _facts_row(r: Any) -> ListFacts:
    def num(v: Any) -> int | None:
        return None if v is None or v != v else int(v)

    return ListFacts(int(r.n), int(r.ranked), int(r.counted), (num(r.s_dl), num(r.s_rank)))


# Snapshots with fewer rankable rows than this take the general path (a window over the deduplicated rows)
FAST_MIN_ROWS = 50_000


_SHARED_LISTINGS: contextvars.ContextVar[dict[str, list[str]] | None] = contextvars.ContextVar(
    "turnover_listings", default=None
)
_SHARED: contextvars.ContextVar[dict[Any, Any] | None] = contextvars.ContextVar("turnover_shared", default=None)


@dataclass
class _Prepared:
    """What turnover needs from a set of snapshots that does not depend on K (reused over several K)."""

    raw: ibis.Table
    aliases: dict[str, str]
    facts: dict[str, ListFacts]  # of the rows as stored (= the candidates' for snapshots in ``unique``)
    windows: dict[str, str]
    unique: set[str]  # large snapshots whose rankable rows carry no alias and no repeated id


def _prepare(backend: Any, snaps: Sequence[SnapshotRef], registry: str, normalise: bool) -> _Prepared:
    """Counts, windows and the checks of :func:`_facts_and_head`'s Top-N path, in a few scans."""
    raw = _raw_rows(backend, snaps, normalise)
    aliases = alias_map(backend, registry) if normalise else {}
    rk = raw.downloads.notnull() | raw.src_rank.notnull()
    df = (
        raw.group_by("snapshot_id")
        .aggregate(
            n=raw.count(where=rk),
            ranked=raw.src_rank.count(),
            counted=raw.downloads.count(),
            s_dl=raw.downloads.sum(),
            s_rank=raw.src_rank.sum(),
            w=raw.window.max(),
        )
        .to_pandas()
    )
    windows = {str(r.snapshot_id): str(r.w) for r in df.itertuples(index=False) if isinstance(r.w, str)}
    raw_facts = {str(r.snapshot_id): _facts_row(r) for r in df.itertuples(index=False) if int(r.n) > 0}
    fast = [sid for sid, f in raw_facts.items() if f.n >= FAST_MIN_ROWS]
    if fast and aliases:
        # a rankable row named by an alias gets another id: general path
        hit = raw.filter(raw.snapshot_id.isin(fast) & rk)
        if len(aliases) <= 1000:
            hit = hit.filter(hit.pid.isin(sorted(aliases)))
        else:
            m = ibis.memtable({"_alias": sorted(aliases)}, schema={"_alias": "string"})
            hit = hit.semi_join(m, hit.pid == m._alias)
        named = set(hit.select("snapshot_id").distinct().to_pandas()["snapshot_id"].astype(str))
        fast = [sid for sid in fast if sid not in named]
    if fast:
        # a repeated id merges rows: general path (one distinct count per snapshot, no GROUP BY)
        per = [
            raw.filter((raw.snapshot_id == sid) & rk).aggregate(snapshot_id=ibis.literal(sid), nd=ibis._.pid.nunique())
            for sid in fast
        ]
        nd = (ibis.union(*per) if len(per) > 1 else per[0]).to_pandas()
        distinct = {str(r.snapshot_id): int(r.nd) for r in nd.itertuples(index=False)}
        fast = [sid for sid in fast if distinct.get(sid) == raw_facts[sid].n]
    return _Prepared(raw, dict(aliases), raw_facts, windows, set(fast))


def _facts_and_head(prep: _Prepared, k: int) -> tuple[dict[str, ListFacts], Any]:
    """(list facts per snapshot, the top rows with positions as a DataFrame).

    The result is that of deduplicating (snapshot, id) and ranking every row
    (:func:`_candidates`, :func:`_coarse_head`), computed without doing so
    where it provably changes nothing: a snapshot whose rankable rows carry no
    alias and no repeated id has one candidate per row (checked: one distinct
    count per snapshot, and a filter on the alias ids), and with at least K
    download counts its coarse head is the rows with downloads >= the K-th
    largest, found by one Top-N query per snapshot.
    Other snapshots (small lists, aliases, repeats, fewer than K counts) take
    the general path; both feed the same exact positions (:func:`_positions`).
    """
    raw, aliases, raw_facts = prep.raw, prep.aliases, prep.facts
    fast = [sid for sid in raw_facts if sid in prep.unique and raw_facts[sid].counted >= k]
    slow = [sid for sid in raw_facts if sid not in fast]
    lists = {sid: raw_facts[sid] for sid in fast}
    parts = []
    if fast:
        d = raw.filter(raw.downloads.notnull())
        # the K-th largest downloads: the least of the first K (no OFFSET: Ibis' PySpark backend
        # adds a row-number column for it)
        kth = [
            d.filter(d.snapshot_id == sid)
            .select("downloads")
            .order_by(ibis.desc("downloads"))
            .limit(k)
            .aggregate(snapshot_id=ibis.literal(sid), downloads=ibis._.downloads.min())
            for sid in fast
        ]
        th = ibis.union(*kth).to_pandas() if len(kth) > 1 else kth[0].to_pandas()
        cond = ibis.or_(
            *[(raw.snapshot_id == str(r.snapshot_id)) & (raw.downloads >= int(r.downloads)) for r in th.itertuples()]
        )
        parts.append(raw.filter(cond).select("snapshot_id", "pid", "downloads", "src_rank"))
    if slow:
        cand = _candidates(raw.filter(raw.snapshot_id.isin(slow)), aliases)
        lists.update(_list_facts(cand))
        parts.append(_coarse_head(cand, k))
    if not parts:
        return lists, None
    head = parts[0] if len(parts) == 1 else parts[0].union(parts[1])
    return lists, _positions(head, k).to_pandas()


def _list_kinds(lists: dict[str, ListFacts]) -> tuple[set[str], set[str]]:
    """(top-N lists: every rankable row carries the source's rank, snapshots with download counts)."""
    ranked = {sid for sid, f in lists.items() if f.ranked == f.n}
    counted = {sid for sid, f in lists.items() if f.counted > 0}
    return ranked, counted


def _top_sets(head: Any, k: int, tie_rule: str) -> dict[str, set[str]]:
    """snapshot_id -> its top K ids (T_i)."""
    if head is None:
        return {}
    pos = head["pos"] if tie_rule == "id" else head["tie_pos"]
    top = head[pos < k]
    out: dict[str, set[str]] = {}
    for sid, pid in zip(top["snapshot_id"].astype(str), top["pid"], strict=False):
        out.setdefault(sid, set()).add(pid)
    return out


def _snapshot_facts(lists: dict[str, ListFacts], head: Any, k: int) -> dict[str, tuple[int, int | None]]:
    """snapshot_id -> (rankable rows, downloads of the K-th row or None)."""
    kth_map: dict[str, Any] = {}
    if head is not None:
        kth = head[head["pos"] == k - 1]
        kth_map = dict(zip(kth["snapshot_id"].astype(str), kth["downloads"], strict=False))
    out = {}
    for sid, f in lists.items():
        v = kth_map.get(sid)
        out[sid] = (f.n, None if v is None or v != v else int(v))
    return out


def _manifests(backend: Any, snaps: Sequence[SnapshotRef]) -> dict[str, tuple[str | None, dict[str, Any]]]:
    """snapshot_id -> (source format, parsed manifest); a store without these columns gives empty ones."""
    t = backend.table("snapshots")
    cols = [c for c in ("source_format", "manifest") if c in t.columns]
    df = t.filter(t.snapshot_id.isin([s.snapshot_id for s in snaps])).select("snapshot_id", *cols).to_pandas()
    out: dict[str, tuple[str | None, dict[str, Any]]] = {}
    for r in df.to_dict("records"):
        raw = r.get("manifest")
        try:
            man = json.loads(raw) if isinstance(raw, str) and raw else {}
        except ValueError:
            man = {}
        fmt = r.get("source_format")
        out[str(r["snapshot_id"])] = (fmt if isinstance(fmt, str) else None, man if isinstance(man, dict) else {})
    return out


def _ranking_measure(fmt: str | None, manifest: Mapping[str, Any], counted: bool) -> str:
    """What a snapshot's order measures: the manifest's ``ranking_measure``, else what its columns show."""
    m = manifest.get("ranking_measure")
    if isinstance(m, str) and m:
        return m
    if fmt == "npm-high-impact":  # stores ingested before the importer recorded it: the release says
        from ..sources.npm_high_impact import ranking_measure

        by_version = ranking_measure(str(manifest.get("version") or ""))
        if by_version:
            return by_version
    return "download counts" if counted else "source rank"


def _version_key(manifest: Mapping[str, Any]) -> tuple[int, ...] | None:
    v = manifest.get("version")
    if not isinstance(v, str) or not re.fullmatch(r"v?\d+(\.\d+)*", v):
        return None
    return tuple(int(x) for x in v.lstrip("v").split("."))


def _identical_pairs(
    raw: ibis.Table, aliases: Mapping[str, str], snaps: Sequence[SnapshotRef], lists: dict[str, ListFacts]
) -> set[tuple[str, str]]:
    """Consecutive (earlier, later) pairs holding the same ranked list: same ids, downloads and ranks on every row.

    Only pairs with equal counts and fingerprints are compared, in one join on (id, downloads, rank).
    """
    pairs = [
        (a.snapshot_id, b.snapshot_id)
        for a, b in itertools.pairwise(snaps)
        if a.snapshot_id in lists and lists[a.snapshot_id] == lists.get(b.snapshot_id)
    ]
    if not pairs:
        return set()
    pm = ibis.memtable(
        {"a_sid": [a for a, _ in pairs], "b_sid": [b for _, b in pairs]},
        schema={"a_sid": "string", "b_sid": "string"},
    )
    both = sorted({x for pair in pairs for x in pair})
    t = _rankable(_candidates(raw.filter(raw.snapshot_id.isin(both)), aliases))
    t = t.mutate(dl=t.downloads.fill_null(-1), rk=t.src_rank.fill_null(-1))
    left = t.join(pm, t.snapshot_id == pm.a_sid).select("a_sid", "b_sid", "pid", "dl", "rk")
    right = t.select(r_sid=t.snapshot_id, r_pid=t.pid, r_dl=t.dl, r_rk=t.rk)
    j = left.join(
        right,
        [left.b_sid == right.r_sid, left.pid == right.r_pid, left.dl == right.r_dl, left.rk == right.r_rk],
    )
    df = j.group_by(["a_sid", "b_sid"]).aggregate(n=j.count()).to_pandas()
    same = set()
    for r in df.itertuples(index=False):
        if int(r.n) == lists[str(r.a_sid)].n:  # every row matched one of the other's (ids are unique per snapshot)
            same.add((str(r.a_sid), str(r.b_sid)))
    return same


def _drop_repeats(
    snaps: Sequence[SnapshotRef],
    same: set[tuple[str, str]],
    manifests: Mapping[str, tuple[str | None, dict[str, Any]]],
) -> tuple[list[SnapshotRef], list[CoverageWarning]]:
    """Leave out each snapshot that repeats the list before it, naming both."""
    kept: list[SnapshotRef] = []
    notes: list[CoverageWarning] = []
    for s in snaps:
        if not kept or (kept[-1].snapshot_id, s.snapshot_id) not in same:
            kept.append(s)
            continue
        prev = kept[-1]
        drop, keep = s, prev
        if prev.taken_at == s.taken_at:  # same date: the order by id is arbitrary; the later release is the repeat
            vp = _version_key(manifests.get(prev.snapshot_id, (None, {}))[1])
            vs = _version_key(manifests.get(s.snapshot_id, (None, {}))[1])
            if vp is not None and vs is not None and vp > vs:
                drop, keep = prev, s
                kept[-1] = s
        notes.append(
            CoverageWarning(
                drop.snapshot_id,
                "duplicate",
                f"{drop.snapshot_id}{_version_text(manifests, drop)} holds the same ranked list as "
                f"{keep.snapshot_id}{_version_text(manifests, keep)} (same packages, order and downloads); "
                "left out of the steps (a re-release, not zero turnover)",
                keep.snapshot_id,
            )
        )
    return kept, notes


def _version_text(manifests: Mapping[str, tuple[str | None, dict[str, Any]]], s: SnapshotRef) -> str:
    v = manifests.get(s.snapshot_id, (None, {}))[1].get("version")
    return f" (release {v})" if isinstance(v, str) and v else ""


def _step_warnings(
    snaps: Sequence[SnapshotRef], measures: Mapping[str, str], windows: Mapping[str, str | None]
) -> list[CoverageWarning]:
    """A warning per step whose two snapshots rank by different measures or count downloads over different windows."""
    out: list[CoverageWarning] = []
    for a, b in itertools.pairwise(snaps):
        ma, mb = measures[a.snapshot_id], measures[b.snapshot_id]
        if ma != mb:
            out.append(
                CoverageWarning(
                    b.snapshot_id,
                    "measure",
                    f"{a.snapshot_id} -> {b.snapshot_id}: the ranking measure changes from "
                    f"{MEASURE_NAMES.get(ma, ma)} to {MEASURE_NAMES.get(mb, mb)}; this step's turnover mixes two "
                    "popularity measures and is left out of the medians",
                    a.snapshot_id,
                )
            )
        wa, wb = windows.get(a.snapshot_id), windows.get(b.snapshot_id)
        if wa and wb and wa != wb:
            out.append(
                CoverageWarning(
                    b.snapshot_id,
                    "window",
                    f"{a.snapshot_id} -> {b.snapshot_id}: the downloads window changes from {wa!r} to {wb!r}; "
                    "this step's turnover mixes two windows and is left out of the medians",
                    a.snapshot_id,
                )
            )
    return out


def _year_partners(snaps: Sequence[SnapshotRef]) -> list[tuple[int, int]]:
    """(i, j): for each snapshot i the later one nearest to 365.25 days after it, if within the tolerance."""
    out = []
    for i, a in enumerate(snaps):
        best: tuple[int, int] | None = None
        for j in range(i + 1, len(snaps)):
            d = (snaps[j].taken_at - a.taken_at).days
            if d > DAYS_PER_YEAR + YEAR_TOLERANCE_DAYS:
                break
            if d >= DAYS_PER_YEAR - YEAR_TOLERANCE_DAYS and (
                best is None or abs(d - DAYS_PER_YEAR) < abs(best[1] - DAYS_PER_YEAR)
            ):
                best = (j, d)
        if best is not None:
            out.append((i, best[0]))
    return out


def _overlaps(tops: Mapping[str, set[str]], pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """|T_a ∩ T_b| for each (a, b) pair of snapshot ids."""
    return {(a, b): len(tops.get(a, set()) & tops.get(b, set())) for a, b in pairs}


def _coverage(
    snaps: Sequence[SnapshotRef],
    facts: dict[str, tuple[int, int | None]],
    k: int,
    ranked: set[str] = frozenset(),  # type: ignore[assignment]
) -> list[CoverageWarning]:
    out: list[CoverageWarning] = []
    for i, s in enumerate(snaps):
        rows, kth = facts.get(s.snapshot_id, (0, None))
        if rows < k:
            out.append(
                CoverageWarning(
                    s.snapshot_id,
                    "fewer_than_k",
                    f"{s.snapshot_id}: only {rows} rankable rows, fewer than K={k}; its top set is incomplete",
                )
            )
        nbrs = [snaps[j] for j in (i - 1, i + 1) if 0 <= j < len(snaps)]
        if not nbrs:
            continue
        n_kth: list[int] = [v for v in (facts.get(n.snapshot_id, (0, None))[1] for n in nbrs) if v]
        kth_comparable = kth is not None and bool(n_kth)
        n_rows = [facts.get(n.snapshot_id, (0, None))[0] for n in nbrs]
        n_rows = [r for r in n_rows if r > 0]
        rows_tell = not kth_comparable and s.snapshot_id not in ranked and rows >= k
        if rows_tell and n_rows and rows < ROWS_RATIO * statistics.median(n_rows):
            out.append(
                CoverageWarning(
                    s.snapshot_id,
                    "few_rows",
                    f"{s.snapshot_id}: {rows} rankable rows vs {', '.join(map(str, n_rows))} in its neighbours; "
                    "probably a partial listing, so its turnover is inflated",
                )
            )
        if kth is not None and n_kth and kth < KTH_RATIO * statistics.median(n_kth):
            out.append(
                CoverageWarning(
                    s.snapshot_id,
                    "low_kth",
                    f"{s.snapshot_id}: the K-th package has {kth} downloads vs {', '.join(map(str, n_kth))} "
                    "in its neighbours; probably a partial listing or a different download window",
                )
            )
    return out


def turnover(
    backend: Any,
    registry: str,
    snapshot_ids: Sequence[str] | Selection | None = None,
    *,
    k: int = DEFAULTS.top,
    tie_rule: TieRule = DEFAULTS.ties,
    normalise: bool = not DEFAULTS.raw_ids,
    mode: Mode = DEFAULTS.mode,
) -> TurnoverResult:
    """Remained / Newcomers / Returning per step over the snapshots of one registry."""
    if k < 1:
        raise PtmscopeError(f"K must be at least 1 (got {k})")
    if tie_rule not in TIE_RULES:
        raise PtmscopeError(f"unknown tie rule {tie_rule!r}; choose one of {', '.join(TIE_RULES)}")
    if mode not in MODES:
        raise PtmscopeError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
    if mode == "artifact":
        normalise = False
    snaps = resolve(backend, registry, as_selection(snapshot_ids))
    if not snaps:
        raise PtmscopeError(
            f"the store has no complete snapshots of registry {registry!r} (run `ptmscope ingest` first)"
        )
    shared = _SHARED.get()
    key = (id(backend), registry, tuple(x.snapshot_id for x in snaps), normalise)
    prep = shared.get(key) if shared is not None else None
    if prep is None:
        prep = _prepare(backend, snaps, registry, normalise)
        if shared is not None:
            shared[key] = prep
    raw, aliases, windows_all = prep.raw, prep.aliases, prep.windows
    lists, head = _facts_and_head(prep, k)
    facts = _snapshot_facts(lists, head, k)
    warnings: list[CoverageWarning] = []
    usable = []
    for s in snaps:
        if facts.get(s.snapshot_id, (0, None))[0] == 0:
            warnings.append(
                CoverageWarning(
                    s.snapshot_id,
                    "unrankable",
                    f"{s.snapshot_id}: no downloads and no ranks, cannot take a top K; left out",
                )
            )
        else:
            usable.append(s)
    if not usable:
        raise PtmscopeError(f"none of the {len(snaps)} snapshot(s) has downloads or ranks to rank by")
    manifests = _manifests(backend, usable)
    ranked, counted = _list_kinds(lists)
    measures = {
        s.snapshot_id: _ranking_measure(*manifests.get(s.snapshot_id, (None, {})), s.snapshot_id in counted)
        for s in usable
    }
    windows = {s.snapshot_id: windows_all[s.snapshot_id] for s in usable if s.snapshot_id in windows_all}
    same = {
        (a, b)
        for a, b in _identical_pairs(raw, aliases, usable, lists)
        if measures[a] == measures[b] and windows.get(a) == windows.get(b)
    }
    usable, repeats = _drop_repeats(usable, same, manifests)
    warnings.extend(repeats)
    warnings.extend(_coverage(usable, facts, k, ranked))
    warnings.extend(_step_warnings(usable, measures, windows))

    tops = _top_sets(head, k, tie_rule)
    counts: dict[int, tuple[int, int, int]] = {}
    ever: set[str] = set()
    before: set[str] = set()
    for i, s in enumerate(usable):
        ids = tops.get(s.snapshot_id, set())
        if ids:
            counts[i] = (len(ids), len(ids & before), len(ids - ever))
        ever |= ids
        before = ids
    distinct = len(ever)
    partners = _year_partners(usable)
    overlap = _overlaps(tops, [(usable[i].snapshot_id, usable[j].snapshot_id) for i, j in partners])

    partial = {w.snapshot_id for w in warnings if w.kind in PARTIAL_KINDS}
    changed = {(w.other_snapshot_id, w.snapshot_id, w.kind) for w in warnings if w.kind in CHANGE_KINDS}
    steps = []
    so_far = 0
    for i, s in enumerate(usable):
        in_top, rem, new = counts.get(i, (0, 0, 0))
        ret = in_top - rem - new
        so_far += new
        reported_new = new
        if mode == "artifact" and i == 0:
            reported_new = k  # the published code hard-coded the first step as K newcomers
        rows, kth = facts[s.snapshot_id]
        gap = share = None
        flags: list[str] = []
        if i > 0:
            prev = usable[i - 1]
            gap = (s.taken_at - prev.taken_at).days
            share = 1 - rem / in_top if in_top else None
            flags = [
                *(["partial"] if {prev.snapshot_id, s.snapshot_id} & partial else []),
                *(kind for kind in CHANGE_KINDS if (prev.snapshot_id, s.snapshot_id, kind) in changed),
            ]
        steps.append(
            TurnoverStep(
                snapshot_id=s.snapshot_id,
                taken_at=s.taken_at.isoformat(),
                in_top=in_top,
                remained=rem,
                newcomers=reported_new,
                returning=ret,
                distinct_so_far=so_far,
                rows=rows,
                kth_downloads=kth,
                gap_days=gap,
                turnover_share=share,
                turnover_per_year=annual_rate(share, gap),
                flags=tuple(flags),
            )
        )
    year_pairs = []
    for i, j in partners:
        a, b = usable[i], usable[j]
        in_top = counts.get(j, (0, 0, 0))[0]
        both = overlap.get((a.snapshot_id, b.snapshot_id), 0)
        wa, wb = windows.get(a.snapshot_id), windows.get(b.snapshot_id)
        flags = [
            *(["partial"] if {a.snapshot_id, b.snapshot_id} & partial else []),
            *(["measure"] if measures[a.snapshot_id] != measures[b.snapshot_id] else []),
            *(["window"] if wa and wb and wa != wb else []),
        ]
        year_pairs.append(
            YearPair(
                from_snapshot_id=a.snapshot_id,
                to_snapshot_id=b.snapshot_id,
                gap_days=(b.taken_at - a.taken_at).days,
                in_top=in_top,
                remained=both,
                turnover_share=1 - both / in_top if in_top else None,
                flags=tuple(flags),
            )
        )
    return TurnoverResult(
        registry=registry,
        snapshots=tuple(usable),
        k=k,
        tie_rule=tie_rule,
        normalise=normalise,
        mode=mode,
        steps=tuple(steps),
        distinct_ever=distinct,
        warnings=tuple(warnings),
        dropped=tuple(w.snapshot_id for w in repeats),
        year_pairs=tuple(year_pairs),
    )


CLAIM_REGISTRY = "hf"
SUMMARY_FORMULA = (
    "turnover share of step i = 1 - Remained_i / |T_i| (i >= 2); medians over the comparable steps: neither "
    "snapshot flagged as a partial listing (" + ", ".join(PARTIAL_KINDS) + ") and no change of ranking measure or "
    "download window between them; a repeated list (same packages, order and downloads) is left out"
)


@dataclass(frozen=True)
class TurnoverOverview:
    """Turnover of every registry with at least two complete snapshots, and the Hub claim's summary."""

    k: int
    results: dict[str, TurnoverResult]
    errors: dict[str, str] = field(default_factory=dict)
    sensitivity: tuple[TurnoverSensitivity, ...] = ()

    def ordered(self) -> list[TurnoverResult]:
        return [self.results[r] for r in sorted(self.results)]

    def to_dict(self) -> dict[str, Any]:
        """The Hub's result at the top (what the claim rule reads), every registry under ``summary.by_registry``."""
        hf = self.results.get(CLAIM_REGISTRY)
        # the claim's registry at the top (what the rule and the report read first); without it, the first other
        shown = hf if hf is not None else (self.ordered()[0] if self.results else None)
        data: dict[str, Any] = (
            shown.to_dict()
            if shown is not None
            else {"metric": NAME, "inputs": {"registry": None, "k": self.k}, "steps": [], "rates": None}
        )
        by_reg: dict[str, Any] = {}
        for reg, res in sorted(self.results.items()):
            by_reg[reg] = {
                **res.rates(),
                "n_snapshots": len(res.snapshots),
                "first": res.snapshots[0].taken_at.isoformat(),
                "last": res.snapshots[-1].taken_at.isoformat(),
                "distinct_ever": res.distinct_ever,
                "n_warnings": len(res.warnings),
            }
        for reg, err in sorted(self.errors.items()):
            by_reg[reg] = {"error": err}
        claim = by_reg.get(CLAIM_REGISTRY, {})
        summary: dict[str, Any] = {
            "formula": SUMMARY_FORMULA,
            "annual_method": ANNUAL_METHOD,
            "k": self.k,
            "claim_registry": CLAIM_REGISTRY,
            "n_steps": claim.get("n_steps", 0),
            "median_turnover_share": claim.get("median_turnover_share"),
            "median_turnover_share_all": claim.get("median_turnover_share_all"),
            "median_turnover_per_year": claim.get("median_turnover_per_year"),
            "pooled_turnover_per_year": claim.get("pooled_turnover_per_year"),
            "flagged_snapshots": claim.get("flagged_snapshots", []),
            "by_registry": by_reg,
        }
        if hf is None:
            others = ", ".join(sorted(self.results)) or "none"
            summary["note"] = (
                f"no Hub turnover: {self.errors.get(CLAIM_REGISTRY) or 'fewer than two complete hf snapshots'}; "
                f"the Hub claim needs Hub steps; turnover of the other registries ({others}) is shown for comparison"
            )
        data["summary"] = summary
        data["warnings"] = [
            {**w.to_dict(), "registry": reg} for reg, res in sorted(self.results.items()) for w in res.warnings
        ]
        data["other_registries"] = {r: v.to_dict() for r, v in sorted(self.results.items()) if v is not shown}
        if self.sensitivity:
            data["sensitivity"] = [x.to_dict() for x in self.sensitivity]
        return data


REGISTRY_TABLE_HEADER = [
    "registry",
    "snapshots",
    "steps used / all",
    "median gap (days)",
    "median share per step",
    "per year, annualised steps",
    "per year, year apart (pairs)",
    "not comparable / error",
]


def registry_table(data: Mapping[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """(header, rows) comparing registries, from :meth:`TurnoverOverview.to_dict` output (for reports)."""
    rows: list[list[Any]] = []
    for reg, v in sorted((data.get("summary") or {}).get("by_registry", {}).items()):
        if "error" in v:
            rows.append([reg, None, None, None, None, None, None, v["error"]])
            continue
        issues = [
            *(f"{sid} partial" for sid in v.get("flagged_snapshots", [])),
            *(f"{x['snapshot_id']}: {', '.join(x['flags'])}" for x in v.get("not_comparable_steps", [])),
            *(f"{sid} repeats the list before it (left out)" for sid in v.get("dropped_snapshots", [])),
        ]
        year = v.get("median_turnover_year_apart")
        rows.append(
            [
                reg,
                f"{v.get('n_snapshots')} ({v.get('first')} to {v.get('last')})",
                f"{v.get('n_steps')} / {v.get('n_steps_all')}",
                v.get("median_gap_days"),
                v.get("median_turnover_share"),
                v.get("median_turnover_per_year"),
                None if year is None else f"{year:.3f} ({v.get('n_year_pairs')})",
                "; ".join(dict.fromkeys(issues)),
            ]
        )
    return list(REGISTRY_TABLE_HEADER), rows


def complete_snapshot_counts(backend: Any) -> dict[str, int]:
    s = backend.table("snapshots")
    if "status" in s.columns:
        s = s.filter(s.status == "complete")
    df = s.group_by("registry").aggregate(n=s.count()).to_pandas()
    return {str(r): int(n) for r, n in zip(df["registry"], df["n"], strict=False)}


def turnover_overview(
    backend: Any, *, k: int = DEFAULTS.top, registries: Sequence[str] | None = None
) -> TurnoverOverview:
    """Turnover of each registry with two or more complete snapshots (all of them by default).

    A registry whose snapshots cannot be ranked is recorded with the reason
    and the others still run; the Hub's claim is judged on the Hub's steps
    only, but npm and PyPI are measured without it.
    """
    params = TurnoverParams(top=k, registry=tuple(registries or ()))
    return run_turnover(backend, params, Selection())


@dataclass(frozen=True)
class SensitivityRow:
    k: int
    distinct_ever: int
    distinct_per_k: float  # distinct_ever / K: 1 = no turnover at all, n = complete turnover
    mean_newcomer_share: float | None  # mean over steps 2..n of newcomers / |T_i|
    mean_remained_share: float | None
    incomplete_snapshots: int  # snapshots with fewer than K rankable rows

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class TurnoverSensitivity:
    registry: str
    snapshot_ids: tuple[str, ...]
    tie_rule: str
    normalise: bool
    rows: tuple[SensitivityRow, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": "turnover_sensitivity",
            "inputs": {
                "registry": self.registry,
                "snapshot_ids": list(self.snapshot_ids),
                "tie_rule": self.tie_rule,
                "normalise": self.normalise,
                "ks": [r.k for r in self.rows],
            },
            "rows": [r.to_dict() for r in self.rows],
        }


def sensitivity_row(res: TurnoverResult) -> SensitivityRow:
    later = [s for s in res.steps[1:] if s.in_top]
    new_share = [s.newcomers / s.in_top for s in later]
    rem_share = [s.remained / s.in_top for s in later]
    return SensitivityRow(
        k=res.k,
        distinct_ever=res.distinct_ever,
        distinct_per_k=res.distinct_ever / res.k,
        mean_newcomer_share=sum(new_share) / len(new_share) if new_share else None,
        mean_remained_share=sum(rem_share) / len(rem_share) if rem_share else None,
        incomplete_snapshots=sum(1 for w in res.warnings if w.kind == "fewer_than_k"),
    )


def turnover_sensitivity(
    backend: Any,
    registry: str,
    snapshot_ids: Sequence[str] | Selection | None = None,
    *,
    ks: Sequence[int] = SENSITIVITY_KS,
    tie_rule: TieRule = DEFAULTS.ties,
    normalise: bool = not DEFAULTS.raw_ids,
) -> TurnoverSensitivity:
    """The same turnover at several K (default 100, 500, 1000, 5000)."""
    rows = []
    ids: tuple[str, ...] = ()
    token = _SHARED.set(_SHARED.get() or {})  # the counts and checks that do not depend on K: once for all K
    try:
        for k in ks:
            res = turnover(backend, registry, snapshot_ids, k=k, tie_rule=tie_rule, normalise=normalise)
            ids = tuple(s.snapshot_id for s in res.snapshots)
            rows.append(sensitivity_row(res))
    finally:
        _SHARED.reset(token)
    return TurnoverSensitivity(registry, ids, tie_rule, normalise, tuple(rows))


# ---------------------------------------------------------------------------
# The registered metric: every registry of the selection, and a summary
# ---------------------------------------------------------------------------


def _listing_snapshots(backend: Any, registry: str | None = None) -> dict[str, list[str]]:
    """Per registry: complete snapshots that list packages with downloads or ranks (not commit logs, mappings).

    One query for every registry (``registry`` narrows it to one).
    """
    snaps = list_snapshots(backend, registry)
    if not snaps:
        return {}
    p = backend.table("packages")
    p = p.filter(p.snapshot_id.isin([x.snapshot_id for x in snaps]) & (p.downloads.notnull() | p["rank"].notnull()))
    have = set(p.select("snapshot_id").distinct().to_pandas()["snapshot_id"].astype(str))
    out: dict[str, list[str]] = {}
    for x in snaps:
        if x.snapshot_id in have:
            out.setdefault(x.registry, []).append(x.snapshot_id)
    return out


def _cached_listings(backend: Any) -> dict[str, list[str]]:
    """:func:`_listing_snapshots` of every registry, once per :func:`run_turnover` call."""
    got = _SHARED_LISTINGS.get()
    if got is None:
        got = _listing_snapshots(backend)
        _SHARED_LISTINGS.set(got)
    return got


def _registries(backend: Any, p: TurnoverParams, sel: Selection) -> tuple[list[str], dict[str, str]]:
    """The registries to measure, and why others with snapshots are not measured."""
    if p.registry:
        return list(p.registry), {}
    if sel.snapshots:
        return registries_of(backend, sel), {}
    listings = _cached_listings(backend)
    counts = {r: len(listings.get(r, [])) for r in sorted({x.registry for x in list_snapshots(backend)})}
    regs = [r for r, n in counts.items() if n >= 2]
    if not regs:
        have = ", ".join(f"{r}: {n}" for r, n in sorted(counts.items())) or "no snapshots"
        raise NotMeasurable(f"{NAME} needs at least two complete snapshots of one registry ({have})")
    errors = {}
    if CLAIM_REGISTRY not in regs and counts.get(CLAIM_REGISTRY):
        errors[CLAIM_REGISTRY] = f"only {counts[CLAIM_REGISTRY]} complete hf snapshot"
    return regs, errors


def run_turnover(backend: Any, p: TurnoverParams, sel: Selection) -> TurnoverOverview:
    """Turnover for each registry (same K and rules); a registry that cannot be ranked is reported, not fatal."""
    listings_token = _SHARED_LISTINGS.set(None)
    try:
        return _run_turnover(backend, p, sel)
    finally:
        _SHARED_LISTINGS.reset(listings_token)


def _run_turnover(backend: Any, p: TurnoverParams, sel: Selection) -> TurnoverOverview:
    regs, errors = _registries(backend, p, sel)
    named = bool(p.registry) or bool(sel.snapshots)
    named_snaps = resolve(backend, None, Selection(snapshots=sel.snapshots)) if sel.snapshots else []
    others = [s for s in named_snaps if s.registry not in regs]
    if others:
        raise PtmscopeError(
            f"snapshot {others[0].snapshot_id!r} is from registry {others[0].registry!r}, not {', '.join(regs)}"
        )
    token = _SHARED.set(_SHARED.get() or {})  # counts and checks shared by the main run and the sensitivity runs
    try:
        return _run_registries(backend, p, sel, regs, errors, named, named_snaps)
    finally:
        _SHARED.reset(token)


def _run_registries(
    backend: Any,
    p: TurnoverParams,
    sel: Selection,
    regs: list[str],
    errors: dict[str, str],
    named: bool,
    named_snaps: list[SnapshotRef],
) -> TurnoverOverview:
    results: dict[str, TurnoverResult] = {}
    sens: list[TurnoverSensitivity] = []
    for reg in regs:
        reg_sel = sel
        if sel.snapshots:
            mine = [s.snapshot_id for s in named_snaps if s.registry == reg]
            if not mine:
                raise PtmscopeError(
                    f"the selection names no {reg} snapshot; drop {reg} from the registries or name its snapshots"
                )
            reg_sel = sel.model_copy(update={"snapshots": tuple(mine)})
        elif sel.empty:
            # commit logs and dependents mappings are snapshots of the registry too, but not listings
            listings = tuple(_cached_listings(backend).get(reg, []))
            reg_sel = Selection(snapshots=listings) if listings else sel
        try:
            res = turnover(backend, reg, reg_sel, k=p.top, tie_rule=p.ties, normalise=not p.raw_ids, mode=p.mode)
        except PtmscopeError as exc:
            if named or isinstance(exc, NotMeasurable):
                raise
            errors[reg] = str(exc)  # registries are independent: one unusable must not stop the others
            continue
        results[reg] = res
        if p.sensitivity:
            sens.append(
                turnover_sensitivity(
                    backend, reg, [x.snapshot_id for x in res.snapshots], tie_rule=p.ties, normalise=res.normalise
                )
            )
    if not results:
        raise NotMeasurable(
            f"{NAME}: no registry could be ranked ({'; '.join(f'{r}: {e}' for r, e in errors.items())})"
        )
    return TurnoverOverview(p.top, results, errors, tuple(sens))


def _compute(ctx: Context, p: TurnoverParams) -> TurnoverOverview:
    return run_turnover(ctx.backend, p, ctx.selection)


def _figure(run: TurnoverOverview, p: TurnoverParams) -> Any:
    from ..figures.turnover import turnover_figure

    return turnover_figure(run.ordered())


def _tables(data: dict[str, Any]) -> list[ReportTable]:
    header, rows = registry_table(data)
    out = [ReportTable("Turnover by registry (same K; per step and per year)", tuple(header), rows)]
    results = [r for r in (data, *data.get("other_registries", {}).values()) if r.get("steps")]
    for r in sorted(results, key=lambda r: r.get("inputs", {}).get("registry", "")):
        reg = r.get("inputs", {}).get("registry", "")
        out.append(
            ReportTable(
                f"{reg}: top-{r.get('inputs', {}).get('k')} per snapshot",
                (
                    "snapshot",
                    "date",
                    "in top",
                    "remained",
                    "newcomers",
                    "returning",
                    "distinct so far",
                    "K-th downloads",
                ),
                [
                    [
                        s["snapshot_id"],
                        s["taken_at"],
                        s["in_top"],
                        s["remained"],
                        s["newcomers"],
                        s["returning"],
                        s["distinct_so_far"],
                        s["kth_downloads"],
                    ]
                    for s in r.get("steps", [])
                ],
            )
        )
    for sv in data.get("sensitivity", []) or []:
        out.append(
            ReportTable(
                f"{sv['inputs']['registry']}: sensitivity over K",
                ("K", "distinct ever", "distinct / K", "mean newcomer share", "mean remained share", "incomplete"),
                [
                    [
                        r["k"],
                        r["distinct_ever"],
                        r["distinct_per_k"],
                        r["mean_newcomer_share"],
                        r["mean_remained_share"],
                        r["incomplete_snapshots"],
                    ]
                    for r in sv["rows"]
                ],
            )
        )
    return out


def _frames(run: TurnoverOverview, data: dict[str, Any]) -> dict[str, Any]:
    import pandas as pd

    steps = [{"registry": r.registry, **s.to_dict()} for r in run.ordered() for s in r.steps]
    warns = [{"registry": r.registry, **w.to_dict()} for r in run.ordered() for w in r.warnings]
    summ = [
        {"registry": reg, **{k: v for k, v in vals.items() if not isinstance(v, list)}}
        for reg, vals in data["summary"]["by_registry"].items()
    ]
    out = {"steps": pd.DataFrame(steps), "warnings": pd.DataFrame(warns), "summary": pd.DataFrame(summ)}
    if run.sensitivity:
        out["sensitivity"] = pd.DataFrame(
            [{"registry": x.registry, **r.to_dict()} for x in run.sensitivity for r in x.rows]
        )
    return out


METRIC = register(
    Metric(
        name=NAME,
        title="Top-K turnover (paper eqs. 2-4)",
        params=TurnoverParams,
        compute=_compute,
        snapshots="many",
        figure=_figure,
        tables=_tables,
        frames=_frames,
        key_numbers=(
            ("inputs.registry", "registry shown first (the claim's, hf, when measured)"),
            ("inputs.snapshot_ids", "its snapshots"),
            ("inputs.k", "K"),
            ("summary.median_turnover_share", "median turnover share per step (hf, steps between complete listings)"),
            ("summary.median_turnover_share_all", "median over all steps (incl. flagged partial listings)"),
            ("summary.median_turnover_per_year", "median turnover per year (hf, annualised steps)"),
            ("summary.flagged_snapshots", "snapshots flagged as partial"),
            ("distinct_ever", "distinct packages ever in its top-K"),
        ),
        caveats=(
            "turnover per step grows with the time between the two snapshots: compare registries per year. 'year "
            "apart' measures it between snapshots about a year apart; 'annualised' converts each step with "
            "1 - (1 - share)^(365.25/days), which assumes a constant rate and gives higher rates for short steps "
            "than for long ones (PyPI: about 0.43 from monthly steps, 0.17 a year apart).",
        ),
        needs="two or more dated top lists or listings with downloads of a registry",
    )
)
