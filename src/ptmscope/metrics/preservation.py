"""Library preservation rate (claim C1; paper equation 1).

For a library L let B_L be the base models that support L *and at least one
other library*, and D_b the direct descendants of base b (lineage rows whose
resolved parent is b, in the same snapshot).  With S(d, L) = 1 when
descendant d supports L:

    P_L = Σ_{b∈B_L} Σ_{d∈D_b} S(d, L)  /  Σ_{b∈B_L} |D_b|          (eq. 1)

i.e. of all descendants of multi-library bases that support L, the share
that kept L.  Reported per library: P_L, numerator, denominator, |B_L| (and
how many of them have descendants), and a 95% percentile bootstrap interval
that resamples base models (a cluster bootstrap: a base's descendants are not
independent of each other; no interval when only one base contributes).  A descendant with several parents in B_L counts
once per parent, as the double sum says.  Bases without descendants add 0 to
both sums; P_L is undefined (None) when the denominator is 0.  B_L is taken
literally: every model supporting L and another library, whether or not it
has descendants (``n_bases``); ``n_bases_with_descendants`` says how many
actually contribute, and the bootstrap resamples those (the others change
neither sum).

Descendants without metadata in the snapshot (lineage children that are not
in its ``packages`` table, e.g. the 6,171 edge-only children of the 2025-04
model-tree data) have *unknown* libraries, not an empty set: counting them
as S(d, L) = 0 would push every P_L towards 0.  They are left out of D_b and
counted in ``unknown_descendants`` (with a note).  A descendant that is in
``packages`` but carries no library is known, and counts as not preserving L.

``mode="artifact"`` computes what the paper's published code
(``proportion_DirectDescendantsToLibrary.py``) actually computed: among all
models that have a base model (descendants, parents never consulted) and
that carry at least two libraries, the share tagged with L:

    P_L^artifact = |{d : d has a parent, |libs(d)| >= 2, L ∈ libs(d)}|
                   / |{d : d has a parent, |libs(d)| >= 2}|

Its interval resamples those descendants.  The two agree only by accident:
the artifact never looks at the parent's libraries, so it measures how
common L is among multi-library fine-tunes, not whether L was preserved.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, get_args

import ibis
from pydantic import Field

from .. import stats
from ..errors import PtmscopeError
from ..schema import Registry
from ..snapshots import Selection, SnapshotRef, as_selection, pick
from .registry import Context, Metric, Params, ReportTable, register

NAME = "preservation"

Mode = Literal["paper", "artifact"]
MODES: tuple[str, ...] = get_args(Mode)


class PreservationParams(Params):
    registry: Registry = Field("hf", description="Registry (the Hub has libraries and lineage).")
    mode: Mode = Field(
        "paper", description="paper: the formula as the paper states it; artifact: what its published code computed."
    )
    n_boot: int = Field(2000, ge=0, description="Bootstrap resamples (over base models) for the intervals; 0 = none.")
    seed: int = Field(0, description="Bootstrap seed.")
    level: float = Field(0.95, gt=0, lt=1, description="Confidence level of the intervals.")
    min_denominator: int = Field(1, ge=1, description="Rank and plot only libraries with at least this denominator.")
    top: int = Field(10, ge=1, description="Libraries to show and plot.")
    min_denominator_other: int = Field(
        30, ge=1, description="A rival library (for the verdict) needs at least this many descendants ..."
    )
    min_bases_other: int = Field(10, ge=1, description="... from at least this many base models.")


DEFAULTS = PreservationParams()


@dataclass(frozen=True)
class LibraryRate:
    library: str
    rate: float | None
    numerator: int
    denominator: int
    n_bases: int  # |B_L| (paper); descendants considered (artifact)
    n_bases_with_descendants: int
    ci_low: float | None
    ci_high: float | None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class PreservationResult:
    snapshot: SnapshotRef
    mode: str
    libraries: tuple[LibraryRate, ...]  # sorted by rate desc, then denominator desc, then name
    n_boot: int
    seed: int
    level: float
    min_denominator: int
    notes: tuple[str, ...] = ()
    unknown_descendants: int = 0  # (base, descendant) pairs left out: descendant without metadata (paper mode)

    def top(self, n: int = 10) -> list[LibraryRate]:
        return [r for r in self.libraries if r.rate is not None and r.denominator >= self.min_denominator][:n]

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": NAME,
            "inputs": {
                "snapshot_id": self.snapshot.snapshot_id,
                "snapshot": self.snapshot.to_dict(),
                "mode": self.mode,
                "n_boot": self.n_boot,
                "seed": self.seed,
                "level": self.level,
                "min_denominator": self.min_denominator,
            },
            "libraries": [r.to_dict() for r in self.libraries],
            "unknown_descendants": self.unknown_descendants,
            "notes": list(self.notes),
        }


def _libs(backend: Any, sid: str) -> ibis.Table:
    pl = backend.table("package_libraries")
    pl = pl.filter((pl.snapshot_id == sid) & pl.library.notnull() & pl.package_id.notnull())
    return pl.select(pkg=pl.package_id, library=pl.library.lower()).distinct()


def _edges(backend: Any, sid: str) -> ibis.Table:
    lin = backend.table("lineage")
    lin = lin.filter((lin.snapshot_id == sid) & lin.parent_id.notnull() & (lin.parent_id != lin.child))
    return lin.select(parent=lin.parent_id, child=lin.child).distinct()


def _sort(rows: list[LibraryRate]) -> tuple[LibraryRate, ...]:
    return tuple(sorted(rows, key=lambda r: (r.rate is None, -(r.rate or 0.0), -r.denominator, r.library)))


def _known_packages(backend: Any, sid: str) -> ibis.Table:
    """Ids of the snapshot's packages (for semi and anti joins only: repeats do not matter there)."""
    p = backend.table("packages")
    p = p.filter((p.snapshot_id == sid) & p.package_id.notnull())
    return p.select(known=p.package_id)


def _paper(backend: Any, sid: str, n_boot: int, seed: int, level: float, min_den: int) -> tuple[list[LibraryRate], int]:
    libs = _libs(backend, sid)
    nlibs = libs.group_by("pkg").aggregate(n=libs.count())
    multi = nlibs.filter(nlibs.n >= 2).select(base=nlibs.pkg)
    bl = libs.join(multi, libs.pkg == multi.base).select("base", "library")  # (b, L) with b ∈ B_L
    all_edges = _edges(backend, sid)
    known = _known_packages(backend, sid)
    # descendants without metadata have unknown libraries: out of D_b, counted
    unknown = all_edges.anti_join(known, all_edges.child == known.known)
    unknown = unknown.semi_join(multi, unknown.parent == multi.base)
    edges = all_edges.semi_join(known, all_edges.child == known.known)
    edges = edges.semi_join(multi, edges.parent == multi.base)
    # one row per (edge b -> d, library L of b): d counts in D_b for L, and kept L or not
    be = edges.join(bl, edges.parent == bl.base).select("base", "library", "child")
    child_libs = libs.select(c_pkg=libs.pkg, c_lib=libs.library, kept=ibis.literal(1))
    j = be.left_join(child_libs, (be.child == child_libs.c_pkg) & (be.library == child_libs.c_lib))
    j = j.select("library", "base", kept=j.kept.coalesce(0))
    # per library: |B_L|, then the sums of eq. 1 and the bases contributing to them, in one small result
    n_bases = bl.group_by("library").aggregate(n_bases=bl.count())
    per_base = j.group_by(["library", "base"]).aggregate(den=j.count(), num=j.kept.sum())
    sums = per_base.group_by("library").aggregate(
        den=per_base.den.sum(), num=per_base.num.sum(), n_with=per_base.count()
    )
    totals = n_bases.left_join(sums, "library").select(n_bases.library, "n_bases", "den", "num", "n_with")
    totals = totals.mutate(n_unknown=unknown.count().as_scalar())
    df = totals.order_by("library").to_pandas()
    n_unknown = int(df["n_unknown"].iloc[0]) if len(df) else int(unknown.count().to_pandas())
    boot_libs = []
    for r in df.itertuples(index=False):
        tot_d = 0 if r.den is None or r.den != r.den else int(r.den)
        # one contributing base gives a zero-width "interval": no interval rather than a false certainty
        if tot_d and n_boot > 0 and tot_d >= min_den and int(r.n_with) >= 2:
            boot_libs.append(str(r.library))
    arrays: dict[str, tuple[Any, Any, Any]] = {}
    if boot_libs:
        # bases without descendants add 0 to both sums: the bootstrap resamples the informative ones;
        # bases with the same (num, den) are interchangeable, so only the profiles and their counts come back
        pb = per_base.filter(per_base.library.isin(boot_libs))
        prof = pb.group_by(["library", "num", "den"]).aggregate(bases=pb.count())
        pf = prof.order_by(["library", "num", "den"]).to_pandas()
        for lib, g in pf.groupby("library", sort=True):
            arrays[str(lib)] = (
                g["num"].to_numpy(dtype=float),
                g["den"].to_numpy(dtype=float),
                g["bases"].to_numpy(dtype=float),
            )
    out = []
    for r in df.itertuples(index=False):
        tot_d = 0 if r.den is None or r.den != r.den else int(r.den)
        tot_n = 0 if r.num is None or r.num != r.num else int(r.num)
        n_with = 0 if r.n_with is None or r.n_with != r.n_with else int(r.n_with)
        lo = hi = None
        if str(r.library) in arrays:
            num, den, bases = arrays[str(r.library)]
            iv = stats.bootstrap_ratio_ci(num, den, counts=bases, n_boot=n_boot, seed=seed, level=level)
            lo, hi = iv.low, iv.high
        out.append(
            LibraryRate(
                library=str(r.library),
                rate=tot_n / tot_d if tot_d else None,
                numerator=tot_n,
                denominator=tot_d,
                n_bases=int(r.n_bases),
                n_bases_with_descendants=n_with,
                ci_low=lo,
                ci_high=hi,
            )
        )
    return out, n_unknown


def _artifact(backend: Any, sid: str, n_boot: int, seed: int, level: float, min_den: int) -> list[LibraryRate]:
    libs = _libs(backend, sid)
    lin = backend.table("lineage")
    lin = lin.filter((lin.snapshot_id == sid) & lin.child.notnull())
    dl = libs.semi_join(lin, libs.pkg == lin.child).select("pkg", "library")
    n = dl.group_by("pkg").aggregate(n=dl.count())
    multi = n.filter(n.n >= 2).select(m=n.pkg)
    dl = dl.semi_join(multi, dl.pkg == multi.m)
    # (pkg, library) pairs are distinct: rows per library = its models; every multi-library model has rows
    per = dl.group_by("library").aggregate(cnt=dl.count()).mutate(total=multi.count().as_scalar())
    df = per.order_by("library").to_pandas()
    out = []
    for r in df.itertuples(index=False):
        cnt, total = int(r.cnt), int(r.total)
        lo = hi = None
        if total and n_boot > 0 and total >= min_den:
            iv = stats.bootstrap_share_ci(cnt, total, n_boot=n_boot, seed=seed, level=level)
            lo, hi = iv.low, iv.high
        out.append(
            LibraryRate(
                library=str(r.library),
                rate=cnt / total if total else None,
                numerator=cnt,
                denominator=total,
                n_bases=total,
                n_bases_with_descendants=total,
                ci_low=lo,
                ci_high=hi,
            )
        )
    return out


def preservation(
    backend: Any,
    snapshot_id: str | Selection | None = None,
    *,
    registry: str = DEFAULTS.registry,
    mode: Mode = DEFAULTS.mode,
    n_boot: int = DEFAULTS.n_boot,
    seed: int = DEFAULTS.seed,
    level: float = DEFAULTS.level,
    min_denominator: int = DEFAULTS.min_denominator,
) -> PreservationResult:
    """P_L for every library of one snapshot (see the module docstring)."""
    if mode not in MODES:
        raise PtmscopeError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
    snap = pick(backend, registry, as_selection(snapshot_id), table="lineage", what=NAME).snapshot
    n_unknown = 0
    if mode == "paper":
        rows, n_unknown = _paper(backend, snap.snapshot_id, n_boot, seed, level, min_denominator)
    else:
        rows = _artifact(backend, snap.snapshot_id, n_boot, seed, level, min_denominator)
    notes = []
    if n_unknown:
        notes.append(
            f"{n_unknown:,} descendants of multi-library bases have no metadata in this snapshot "
            "(libraries unknown) and are left out of the denominators"
        )
    if not rows:
        notes.append(
            "no library has a multi-library base model with descendants"
            if mode == "paper"
            else "no descendant carries two or more libraries"
        )
    return PreservationResult(
        snapshot=snap,
        mode=mode,
        libraries=_sort(rows),
        n_boot=n_boot,
        seed=seed,
        level=level,
        min_denominator=min_denominator,
        notes=tuple(notes),
        unknown_descendants=n_unknown,
    )


def summarise(res: PreservationResult, p: PreservationParams) -> dict[str, Any]:
    """transformers' P_L against the best rival library (the numbers the C1 verdict rule reads)."""
    min_den, min_bases = p.min_denominator_other, p.min_bases_other
    libs = {r.library: r for r in res.libraries}
    t = libs.get("transformers")
    # a rival needs descendants from several base models: one family with many
    # children (e.g. 4 diffusers bases in the 2025-04 trees) is not evidence
    others = [
        r
        for r in res.libraries
        if r.library != "transformers"
        and r.rate is not None
        and r.denominator >= min_den
        and r.n_bases_with_descendants >= min_bases
    ]
    best = max(others, key=lambda r: (r.rate, r.denominator, r.library), default=None)
    t_rate = t.rate if t else None
    b_rate = best.rate if best else None
    return {
        "formula": "transformers P_L minus the highest P_L of any other library with denominator >= "
        f"{min_den} and descendants from >= {min_bases} base models",
        "transformers_rate": t_rate,
        "transformers_denominator": t.denominator if t else 0,
        "transformers_ci": [t.ci_low, t.ci_high] if t else None,
        "best_other_library": best.library if best else None,
        "best_other_rate": b_rate,
        "transformers_minus_best_other": (t_rate - b_rate) if (t_rate is not None and b_rate is not None) else None,
        # the rival's point estimate against transformers' bootstrap CI: a verdict should not
        # rest on a difference the family-level resampling cannot tell from noise
        "transformers_ci_low_minus_best_other": (
            (t.ci_low - b_rate) if (t and b_rate is not None and t.ci_low is not None) else None
        ),
        "transformers_ci_high_minus_best_other": (
            (t.ci_high - b_rate) if (t and b_rate is not None and t.ci_high is not None) else None
        ),
    }


def _compute(ctx: Context, p: PreservationParams) -> PreservationResult:
    return preservation(
        ctx.backend,
        ctx.selection,
        registry=p.registry,
        mode=p.mode,
        n_boot=p.n_boot,
        seed=p.seed,
        level=p.level,
        min_denominator=p.min_denominator,
    )


def _figure(result: PreservationResult, p: PreservationParams) -> Any:
    from ..figures.preservation import preservation_figure

    return preservation_figure(result, p.top)


def _tables(data: dict[str, Any]) -> list[ReportTable]:
    rows = [
        [r["library"], r["rate"], [r["ci_low"], r["ci_high"]], r["numerator"], r["denominator"], r["n_bases"]]
        for r in data.get("libraries", [])
        if r["rate"] is not None and r["denominator"] >= data.get("inputs", {}).get("min_denominator", 1)
    ]
    return [
        ReportTable(
            "Preservation rate by library (top 10)",
            ("library", "P_L", "95% CI", "kept", "descendants", "bases"),
            rows[:10],
        )
    ]


METRIC = register(
    Metric(
        name=NAME,
        title="Library preservation rate P_L (paper eq. 1)",
        params=PreservationParams,
        compute=_compute,
        summarise=summarise,
        figure=_figure,
        tables=_tables,
        key_numbers=(
            ("inputs.snapshot_id", "snapshot"),
            ("summary.transformers_rate", "P_L transformers"),
            ("summary.transformers_ci", "95% CI"),
            ("summary.transformers_denominator", "descendants of multi-library transformers bases"),
            ("summary.best_other_library", "best other library"),
            ("summary.best_other_rate", "its P_L"),
        ),
        needs="lineage (base-model edges) and libraries of one snapshot",
    )
)
