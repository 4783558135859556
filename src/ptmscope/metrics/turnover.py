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
a warning is raised when it has fewer than K rankable rows, a K-th download
count far below theirs, a different download window, or a different ranking
measure (download counts next to a ranked list without counts, as when
npm-high-impact lists and npm download-counts files are mixed).  Such a snapshot is
probably a partial listing and its turnover is inflated.  Far fewer rows
than its neighbours is used only as a fallback, when the K-th downloads
cannot be compared and the snapshot is not a ranked list: a top-N list
(top-pypi, npm-high-impact) with N >= K holds the whole top K however short
it is next to a full listing, so its row count says nothing.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import ibis
from pydantic import Field

from ..errors import NotMeasurable, PtmscopeError
from ..schema import Registry
from ..snapshots import Selection, SnapshotRef, as_selection, list_snapshots, registries_of, resolve
from ._common import alias_map, apply_aliases
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

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class CoverageWarning:
    snapshot_id: str
    kind: str  # "fewer_than_k", "few_rows", "low_kth", "window", "measure", "unrankable"
    message: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


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
            "warnings": [w.to_dict() for w in self.warnings],
        }


def _candidates(backend: Any, snaps: Sequence[SnapshotRef], registry: str, normalise: bool) -> ibis.Table:
    """One row per (snapshot, package) with its best downloads and rank."""
    p = backend.table("packages")
    p = p.filter(p.snapshot_id.isin([s.snapshot_id for s in snaps]))
    idcol = p.package_id if normalise else p.raw_id.coalesce(p.package_id)
    p = p.select(snapshot_id=p.snapshot_id, pid=idcol, downloads=p.downloads, src_rank=p["rank"])
    if normalise:
        p = apply_aliases(p, "pid", alias_map(backend, registry))
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


def _ranked_head(cand: ibis.Table, k: int) -> ibis.Table:
    """The rankable rows that can be in the first K of their snapshot, with their exact positions.

    Columns: snapshot_id, pid, downloads, ``pos`` (0-based place in the full
    order, ties broken by id) and ``tie_pos`` (0-based rank without the id:
    tied rows share it).  Sorting every row by all five keys (the last a
    string) is what made turnover slow, so this works in two steps.  Step 1
    ranks by downloads alone (null last) and keeps rows whose rank is < K:
    the rows above the K-th row's downloads plus all tied with it (for a
    ranked list without counts, every row).  A row never ranks lower by
    downloads alone than by the full keys, and every row ahead of a kept row
    in the full order is itself kept, so step 2's full ``row_number()`` and
    ``rank()`` over the kept rows give each kept row the same position as
    over the whole snapshot: the same top K and the same K-th row.
    """
    t = _rankable(cand)
    coarse = ibis.rank().over(ibis.window(group_by="snapshot_id", order_by=_order_keys(t, False)[:2]))
    t = t.mutate(_coarse=coarse)
    t = t.filter(t._coarse < k).drop("_coarse")
    rn = ibis.row_number().over(ibis.window(group_by="snapshot_id", order_by=_order_keys(t, True)))
    rk = ibis.rank().over(ibis.window(group_by="snapshot_id", order_by=_order_keys(t, False)))
    return t.mutate(pos=rn, tie_pos=rk).select("snapshot_id", "pid", "downloads", "pos", "tie_pos")


def _top_table(head: ibis.Table, k: int, tie_rule: str) -> ibis.Table:
    pos = head.pos if tie_rule == "id" else head.tie_pos
    return head.filter(pos < k).select("snapshot_id", "pid")


def _list_facts(cand: ibis.Table) -> dict[str, tuple[int, int, int]]:
    """snapshot_id -> (rankable rows, rows with the source's rank, rows with downloads), in one query."""
    t = _rankable(cand)
    df = (
        t.group_by("snapshot_id")
        .aggregate(n=t.count(), ranked=t.src_rank.count(), counted=t.downloads.count())
        .to_pandas()
    )
    return {str(r.snapshot_id): (int(r.n), int(r.ranked), int(r.counted)) for r in df.itertuples(index=False)}


def _list_kinds(lists: dict[str, tuple[int, int, int]]) -> tuple[set[str], set[str]]:
    """(top-N lists: every rankable row carries the source's rank, snapshots with download counts)."""
    ranked = {sid for sid, (n, rk, _) in lists.items() if rk == n}
    counted = {sid for sid, (_, _, c) in lists.items() if c > 0}
    return ranked, counted


def _snapshot_facts(
    lists: dict[str, tuple[int, int, int]], head: ibis.Table, k: int
) -> dict[str, tuple[int, int | None]]:
    """snapshot_id -> (rankable rows, downloads of the K-th row or None)."""
    kth = head.filter(head.pos == k - 1).select("snapshot_id", "downloads").to_pandas()
    kth_map = {str(r.snapshot_id): r.downloads for r in kth.itertuples(index=False)}
    out = {}
    for sid, (n, _, _) in lists.items():
        v = kth_map.get(sid)
        out[sid] = (n, None if v is None or v != v else int(v))
    return out


def _windows(backend: Any, snaps: Sequence[SnapshotRef]) -> dict[str, str | None]:
    p = backend.table("packages")
    p = p.filter(p.snapshot_id.isin([s.snapshot_id for s in snaps]) & p.downloads_window.notnull())
    df = p.group_by("snapshot_id").aggregate(w=p.downloads_window.max()).to_pandas()
    return {str(r.snapshot_id): str(r.w) for r in df.itertuples(index=False)}


def _coverage(
    snaps: Sequence[SnapshotRef],
    facts: dict[str, tuple[int, int | None]],
    windows: dict[str, str | None],
    k: int,
    ranked: set[str] = frozenset(),  # type: ignore[assignment]
    counted: set[str] | None = None,
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
        n_kth = [facts.get(n.snapshot_id, (0, None))[1] for n in nbrs]
        n_kth = [v for v in n_kth if v]
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
        if kth_comparable and kth < KTH_RATIO * statistics.median(n_kth):
            out.append(
                CoverageWarning(
                    s.snapshot_id,
                    "low_kth",
                    f"{s.snapshot_id}: the K-th package has {kth} downloads vs {', '.join(map(str, n_kth))} "
                    "in its neighbours; probably a partial listing or a different download window",
                )
            )
        if counted is not None:
            other = [n.snapshot_id for n in nbrs if (n.snapshot_id in counted) != (s.snapshot_id in counted)]
            if other:
                how = "by download counts" if s.snapshot_id in counted else "by the source's rank, without counts"
                out.append(
                    CoverageWarning(
                        s.snapshot_id,
                        "measure",
                        f"{s.snapshot_id}: ranked {how}, unlike its neighbour(s) {', '.join(other)}; "
                        "the two rankings measure popularity differently",
                    )
                )
        w = windows.get(s.snapshot_id)
        nw = {windows.get(n.snapshot_id) for n in nbrs} - {None}
        if w and nw and any(x != w for x in nw):
            out.append(
                CoverageWarning(
                    s.snapshot_id,
                    "window",
                    f"{s.snapshot_id}: downloads window {w!r} differs from its neighbours' ({', '.join(sorted(nw))})",
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
    cand = _candidates(backend, snaps, registry, normalise)
    # run before cache(): executing registers the alias memtable; Ibis 12's PySpark cache() does not
    lists = _list_facts(cand)
    # the head is small (about K rows per snapshot); materialise it once for the queries below
    head = _ranked_head(cand, k).cache()
    try:
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
        ranked, counted = _list_kinds(lists)
        warnings.extend(_coverage(usable, facts, _windows(backend, usable), k, ranked, counted))

        seq = ibis.memtable(
            {"snapshot_id": [s.snapshot_id for s in usable], "seq": list(range(len(usable)))},
            schema={"snapshot_id": "string", "seq": "int64"},
        )
        top = _top_table(head, k, tie_rule)
        top = top.join(seq, "snapshot_id")
        by_pid = ibis.window(group_by="pid", order_by="seq")
        top = top.mutate(prev_seq=top.seq.lag().over(by_pid), first_seq=top.seq.min().over(ibis.window(group_by="pid")))
        remained = (top.prev_seq.notnull() & (top.prev_seq == top.seq - 1)).cast("int64")
        newcomer = (top.first_seq == top.seq).cast("int64")
        agg = (
            top.mutate(r=remained, n=newcomer)
            .group_by("seq")
            .aggregate(in_top=ibis._.count(), remained=ibis._.r.sum(), newcomers=ibis._.n.sum())
            .order_by("seq")
            .to_pandas()
        )
        counts = {int(r.seq): (int(r.in_top), int(r.remained), int(r.newcomers)) for r in agg.itertuples(index=False)}
        distinct = int(top.pid.nunique().to_pandas()) if counts else 0
    finally:
        head.release()

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
    )


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
    for k in ks:
        res = turnover(backend, registry, snapshot_ids, k=k, tie_rule=tie_rule, normalise=normalise)
        ids = tuple(s.snapshot_id for s in res.snapshots)
        rows.append(sensitivity_row(res))
    return TurnoverSensitivity(registry, ids, tie_rule, normalise, tuple(rows))


# ---------------------------------------------------------------------------
# The registered metric: every registry of the selection, and a summary
# ---------------------------------------------------------------------------

PARTIAL_KINDS = ("fewer_than_k", "few_rows", "low_kth")
PRIMARY = "hf"  # the registry the paper's claim is about


@dataclass(frozen=True)
class TurnoverRun:
    """Turnover of each selected registry (same K and rules), and the K-sensitivity when asked."""

    results: tuple[TurnoverResult, ...]
    errors: dict[str, str]
    sensitivity: tuple[TurnoverSensitivity, ...] = ()

    @property
    def primary(self) -> TurnoverResult:
        by_reg = {r.registry: r for r in self.results}
        return by_reg.get(PRIMARY) or self.results[0]

    def to_dict(self) -> dict[str, Any]:
        d = self.primary.to_dict()
        d["other_registries"] = {r.registry: r.to_dict() for r in self.results if r is not self.primary}
        if self.errors:
            d["registry_errors"] = dict(sorted(self.errors.items()))
        if self.sensitivity:
            d["sensitivity"] = [x.to_dict() for x in self.sensitivity]
        return d


def _registries(backend: Any, p: TurnoverParams, sel: Selection) -> list[str]:
    if p.registry:
        return list(p.registry)
    if sel.snapshots:
        return registries_of(backend, sel)
    counts: dict[str, int] = {}
    for s in list_snapshots(backend):
        counts[s.registry] = counts.get(s.registry, 0) + 1
    regs = sorted(r for r, n in counts.items() if n >= 2)
    if not regs:
        raise NotMeasurable(f"{NAME}: no registry has at least two complete snapshots")
    return regs


def run_turnover(backend: Any, p: TurnoverParams, sel: Selection) -> TurnoverRun:
    """Turnover for each registry; a registry whose snapshots cannot be ranked is reported, not fatal."""
    regs = _registries(backend, p, sel)
    named = bool(p.registry) or bool(sel.snapshots)
    results: list[TurnoverResult] = []
    errors: dict[str, str] = {}
    sens: list[TurnoverSensitivity] = []
    named_snaps = resolve(backend, None, Selection(snapshots=sel.snapshots)) if sel.snapshots else []
    others = [s for s in named_snaps if s.registry not in regs]
    if others:
        raise PtmscopeError(
            f"snapshot {others[0].snapshot_id!r} is from registry {others[0].registry!r}, not {', '.join(regs)}"
        )
    for reg in regs:
        reg_sel = sel
        if sel.snapshots:
            mine = [s.snapshot_id for s in named_snaps if s.registry == reg]
            if not mine:
                raise PtmscopeError(
                    f"the selection names no {reg} snapshot; drop {reg} from the registries or name its snapshots"
                )
            reg_sel = sel.model_copy(update={"snapshots": tuple(mine)})
        try:
            res = turnover(backend, reg, reg_sel, k=p.top, tie_rule=p.ties, normalise=not p.raw_ids, mode=p.mode)
        except PtmscopeError as exc:
            if named or isinstance(exc, NotMeasurable):
                raise
            errors[reg] = str(exc)  # registries are independent: one unusable must not stop the others
            continue
        results.append(res)
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
    return TurnoverRun(tuple(results), errors, tuple(sens))


def _shares(res: TurnoverResult) -> tuple[list[float], list[float], list[str]]:
    # a step touching a snapshot the coverage check flags as a partial listing is
    # reported but left out of the median: partial lists inflate turnover
    flagged = {w.snapshot_id for w in res.warnings if w.kind in PARTIAL_KINDS}
    steps = list(zip(res.steps[:-1], res.steps[1:], strict=False))
    all_shares = [1 - b.remained / b.in_top for a, b in steps if b.in_top]
    shares = [
        1 - b.remained / b.in_top
        for a, b in steps
        if b.in_top and a.snapshot_id not in flagged and b.snapshot_id not in flagged
    ]
    return shares, all_shares, sorted(flagged)


def summarise(run: TurnoverRun, p: TurnoverParams) -> dict[str, Any]:
    """Median per-step turnover share per registry (the numbers the C2 turnover rule reads)."""
    per_reg: dict[str, dict[str, Any]] = {}
    for res in run.results:
        shares, all_shares, flagged = _shares(res)
        per_reg[res.registry] = {
            "n_steps": len(shares),
            "n_steps_all": len(all_shares),
            "turnover_shares": shares,
            "turnover_shares_all": all_shares,
            "flagged_snapshots": flagged,
            "median_turnover_share": statistics.median(shares) if shares else None,
            "median_turnover_share_all": statistics.median(all_shares) if all_shares else None,
        }
    for reg, err in run.errors.items():
        per_reg[reg] = {"error": err}
    hf = per_reg.get(PRIMARY, {})
    return {
        "formula": "turnover share of step i = 1 - Remained_i / |T_i| (i >= 2); median over the steps whose "
        "two snapshots the coverage check does not flag as partial (" + ", ".join(PARTIAL_KINDS) + ")",
        "registry": PRIMARY,
        "k": p.top,
        "n_steps": hf.get("n_steps", 0),
        "median_turnover_share": hf.get("median_turnover_share"),
        "median_turnover_share_all": hf.get("median_turnover_share_all"),
        "flagged_snapshots": hf.get("flagged_snapshots", []),
        "by_registry": dict(sorted(per_reg.items())),
    }


def _compute(ctx: Context, p: TurnoverParams) -> TurnoverRun:
    return run_turnover(ctx.backend, p, ctx.selection)


def _figure(run: TurnoverRun, p: TurnoverParams) -> Any:
    from ..figures.turnover import turnover_figure

    return turnover_figure(list(sorted(run.results, key=lambda r: r.registry)))


def _tables(data: dict[str, Any]) -> list[ReportTable]:
    rows = []
    for reg, v in sorted(data.get("summary", {}).get("by_registry", {}).items()):
        rows.append(
            [
                reg,
                v.get("n_steps"),
                v.get("median_turnover_share"),
                v.get("median_turnover_share_all"),
                v.get("error") or ", ".join(v.get("flagged_snapshots", [])) or "",
            ]
        )
    out = [
        ReportTable(
            "Turnover by registry (same K)",
            ("registry", "steps used", "median turnover share", "median, all steps", "flagged partial / error"),
            rows,
        )
    ]
    results = [data, *data.get("other_registries", {}).values()]
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


def _frames(run: TurnoverRun, data: dict[str, Any]) -> dict[str, Any]:
    import pandas as pd

    steps = [{"registry": r.registry, **s.to_dict()} for r in run.results for s in r.steps]
    warns = [{"registry": r.registry, **w.to_dict()} for r in run.results for w in r.warnings]
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
        summarise=summarise,
        figure=_figure,
        tables=_tables,
        frames=_frames,
        key_numbers=(
            ("inputs.snapshot_ids", "hf snapshots"),
            ("inputs.k", "K"),
            ("summary.median_turnover_share", "median turnover share per step (hf, steps between complete listings)"),
            ("summary.median_turnover_share_all", "median over all steps (incl. flagged partial listings)"),
            ("summary.flagged_snapshots", "snapshots flagged as partial"),
            ("distinct_ever", "distinct packages ever in the hf top-K"),
        ),
        caveats=(
            "turnover per step grows with the time between the two snapshots, and steps here are not normalised by "
            "it: compare registries at similar gaps (the snapshot dates are in the data and coverage table).",
        ),
        needs="two or more dated top lists or listings with downloads of a registry",
    )
)
