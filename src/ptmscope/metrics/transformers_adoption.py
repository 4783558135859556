"""Transformers and the accessibility of PTM creation and reuse (Table 3 claim T3.2).

Two measurements, each on the snapshot that can answer it (both named in
the result):

**Creation.**  For a *library snapshot* L (Hub libraries per model, from
``package_libraries``) and the creation times of its models, per calendar
month ``m``: ``share_m`` = models created in ``m`` (and still listed at L)
that declare the library (default ``transformers``) / models created in
``m``; also the share among models declaring any Hub library (Hub library
keys; tag-only frameworks and formats such as ``pytorch`` or
``safetensors`` are not libraries here), and, for *newcomers*, the share of
authors whose first model (in L) declares it.  95% Wilson intervals per
month; the pooled share over the last ``recent_months`` complete months;
and the trend as a binomial GLM (logit of the share on months, months with
at least ``min_count`` new models): odds ratio per year with its 95% CI.

Creation times come from L when its models have them, else from the Hub
listing that has them for the most of L's models (joined on the model id;
a creation time after L's date belongs to a re-created repository and is
left out, counted).  The pair (L, source of creation times) is chosen, among
the selected snapshots with libraries, as the one with the most models
that have both (the rule of :func:`ptmscope.snapshots.pick`: most usable
rows, ties to the newer).  On the shared real data that is the 2022-02 Hub
dump (libraries) with the 2022-10 listing (creation times); the 2025-04
model trees have both, for 1,970 models of 25 hand-picked families.

**Downstream reuse.**  On the snapshot with the most resolved lineage edges
(origins: all but ``card_text``, unless ``exclude_card_text`` is off: the
Trainer writes its "fine-tuned version of" sentence only into transformers
models' cards, which would credit transformers by construction), each model
has ``d`` = its direct descendants (distinct children).  Per Hub library:
models, share with at least one descendant, descendants per model and per
reused model.  Models declaring the library are compared with models that
declare only other Hub libraries: ratio of descendants per model, and of the
share reused, each with a 95% percentile bootstrap interval (models
resampled within each group, from the engine's histogram of ``d``).

Association, not cause: a majority of new models declaring transformers and
their greater reuse are what the claim predicts, but neither shows that the
library *made* creation or reuse easier.  What would settle it: creation
times and the library declared *at creation* for every model (a full Hub
crawl expanding ``createdAt`` and ``library_name`` month by month), time from
a base model's release to its first descendant by library, and the change in
a library's model creation around the date the Hub integrated it.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict, dataclass
from typing import Any

import ibis
import numpy as np
from pydantic import Field

from ..errors import NotMeasurable, PtmscopeError
from ..snapshots import SnapshotRef, as_selection, list_snapshots, namespace_expr, pick, resolve
from ..sources.hf_api import hub_libraries
from .naming import wilson
from .registry import Context, Metric, Params, ReportTable, register

NAME = "transformers_adoption"
NO_NAMESPACE = "(no namespace)"


class AdoptionParams(Params):
    library: str = Field("transformers", min_length=1, description="The library whose adoption is measured.")
    recent_months: int = Field(12, ge=1, description="Pooled share over this many last complete months.")
    min_count: int = Field(30, ge=1, description="Months with fewer new models are left out of the trend fit.")
    min_models: int = Field(10, ge=1, description="Libraries with fewer models are not listed in the reuse table.")
    exclude_card_text: bool = Field(
        True, description="Leave out lineage found in the Trainer's card sentence (written only for transformers)."
    )
    n_boot: int = Field(1000, ge=0, description="Bootstrap resamples for the reuse ratios (0: none).")
    seed: int = Field(0, description="Bootstrap seed.")


DEFAULTS = AdoptionParams()


@dataclass(frozen=True)
class AdoptionResult:
    metric: str
    library: str
    synthetic: bool
    creation: dict[str, Any] | None  # None with creation_missing saying why
    creation_missing: str | None
    reuse: dict[str, Any] | None
    reuse_missing: str | None
    sources: list[dict[str, Any]]  # what each Hub snapshot can show
    rests_on: list[dict[str, Any]]
    notes: list[str]  # what could not be measured, and why (shown as notes in the report)
    method: str = (
        "monthly share of new models declaring the library (Wilson CI), binomial GLM trend; descendants per model "
        "by library, ratio vs other-library models (bootstrap within groups)"
    )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _bare(msg: str | None) -> str:
    """A reason without this metric's name in front (the combined message names it once)."""
    return (msg or "").removeprefix(f"{NAME}: ")


def _tag_only() -> list[str]:
    return sorted(hub_libraries()[1])


def _month(v: Any) -> str:
    d = v.date() if hasattr(v, "date") else dt.date.fromisoformat(str(v)[:10])
    return d.isoformat()[:7]


# ---------------------------------------------------------------------------
# Which snapshot can show what
# ---------------------------------------------------------------------------


def source_table(backend: Any, snaps: list[SnapshotRef]) -> list[dict[str, Any]]:
    """Per Hub snapshot: models, with creation time, with a library, resolved lineage edges."""
    if not snaps:
        return []
    ids = [s.snapshot_id for s in snaps]
    p = backend.table("packages")
    p = p.filter(p.snapshot_id.isin(ids))
    pk = p.group_by("snapshot_id").aggregate(models=p.count(), created=p.created_at.notnull().sum()).execute()
    lib = backend.table("package_libraries")
    lib = lib.filter(lib.snapshot_id.isin(ids))
    lb = lib.group_by("snapshot_id").aggregate(with_library=lib.package_id.nunique()).execute()
    ln = backend.table("lineage")
    ln = ln.filter(ln.snapshot_id.isin(ids) & ln.parent_id.notnull())
    le = ln.group_by("snapshot_id").aggregate(edges=ln.count()).execute()
    by: dict[str, dict[str, Any]] = {
        s.snapshot_id: {"snapshot_id": s.snapshot_id, "taken_at": s.taken_at.isoformat()} for s in snaps
    }
    for df, cols in ((pk, ("models", "created")), (lb, ("with_library",)), (le, ("edges",))):
        for r in df.itertuples(index=False):
            for c in cols:
                by[str(r.snapshot_id)][c] = int(getattr(r, c))
    out = []
    for s in snaps:
        row = by[s.snapshot_id]
        for c in ("models", "created", "with_library", "edges"):
            row.setdefault(c, 0)
        out.append(row)
    return out


def choose_creation_pair(backend: Any, library_snaps: list[SnapshotRef]) -> tuple[SnapshotRef, SnapshotRef, int, int]:
    """(L, C, usable models, re-created): L's models with a creation time from C no later than L's date."""
    every = {s.snapshot_id: s for s in list_snapshots(backend, "hf")}
    p = backend.table("packages")
    lib_ids = [s.snapshot_id for s in library_snaps]
    left = p.filter(p.snapshot_id.isin(lib_ids)).select(l_sid=p.snapshot_id, pid=p.package_id)
    right = p.filter(p.snapshot_id.isin(list(every)) & p.created_at.notnull())
    right = right.select(c_sid=right.snapshot_id, cid=right.package_id, created=right.created_at)
    snaps = backend.table("snapshots")
    snaps = snaps.select(s_sid=snaps.snapshot_id, l_taken=snaps.taken_at)
    j = left.join(right, left.pid == right.cid)
    j = j.join(snaps, j.l_sid == snaps.s_sid)
    late = j.created.date() > j.l_taken
    # ordered: max() below keeps the first of tied pairs (same L, same usable count, C other than L)
    g = (
        j.group_by(["l_sid", "c_sid"])
        .aggregate(usable=(~late).sum(), recreated=late.sum())
        .order_by(["l_sid", "c_sid"])
        .execute()
    )
    if g.empty:
        raise NotMeasurable("no Hub snapshot gives creation times for the models of a snapshot with libraries")
    rows = [
        (int(r.usable), every[str(r.l_sid)].taken_at, str(r.l_sid), str(r.c_sid), int(r.recreated))
        for r in g.itertuples(index=False)
        if str(r.l_sid) in every
    ]
    usable, _, l_sid, c_sid, recreated = max(rows, key=lambda r: (r[0], r[1], r[2], r[3] == r[2]))
    if usable == 0:
        raise NotMeasurable("no Hub snapshot gives creation times (before its date) for a snapshot with libraries")
    lib_snap = next(s for s in library_snaps if s.snapshot_id == l_sid)
    return lib_snap, every[c_sid], usable, recreated


# ---------------------------------------------------------------------------
# Creation
# ---------------------------------------------------------------------------


def _creation_rows(backend: Any, lsnap: SnapshotRef, csnap: SnapshotRef, library: str) -> tuple[Any, Any]:
    """Monthly counts (models, declaring the library, declaring any library) and newcomers per month."""
    p = backend.table("packages")
    models = p.filter(p.snapshot_id == lsnap.snapshot_id)
    models = models.select(pid=models.package_id, author=models.author)
    times = p.filter((p.snapshot_id == csnap.snapshot_id) & p.created_at.notnull())
    times = times.select(tid=times.package_id, created=times.created_at)
    times = times.filter(times.created.date() <= ibis.literal(lsnap.taken_at))
    lib = backend.table("package_libraries")
    lib = lib.filter((lib.snapshot_id == lsnap.snapshot_id) & ~lib.library.isin(_tag_only()))
    flags = lib.group_by(lid=lib.package_id).aggregate(has_lib=(lib.library == library).any(), n_libs=lib.count())
    base = models.join(times, models.pid == times.tid)
    base = base.left_join(flags, base.pid == flags.lid)
    base = base.select(
        pid=base.pid,
        a=ibis.coalesce(base.author, namespace_expr(base.pid), ibis.literal(NO_NAMESPACE)),
        created=base.created,
        has_lib=base.has_lib.fill_null(False),
        has_any=base.n_libs.notnull(),
    )
    month = base.created.truncate("M")
    monthly = (
        base.mutate(month=month)
        .group_by("month")
        .aggregate(n=ibis._.count(), n_lib=ibis._.has_lib.sum(), n_any=ibis._.has_any.sum())
        .order_by("month")
        .execute()
    )
    first = base.group_by(fa=base.a).aggregate(first=base.created.min())
    firsts = base.join(first, (base.a == first.fa) & (base.created == first["first"]))
    per_author = firsts.group_by("fa").aggregate(first=firsts.created.min(), lib=firsts.has_lib.any())
    newcomers = (
        per_author.mutate(month=per_author["first"].truncate("M"))
        .group_by("month")
        .aggregate(n=ibis._.count(), n_lib=ibis._.lib.sum())
        .order_by("month")
        .execute()
    )
    return monthly, newcomers


def _trend(months: list[str], k: list[int], n: list[int], min_count: int) -> dict[str, Any] | None:
    """Binomial GLM, logit(share) = a + b * years: odds ratio per year with 95% CI."""
    import statsmodels.api as sm

    use = [i for i, nn in enumerate(n) if nn >= min_count]
    if len(use) < 3:
        return None
    m0 = dt.date.fromisoformat(months[use[0]] + "-01")
    t = np.array(
        [
            (dt.date.fromisoformat(months[i] + "-01").year - m0.year) * 12
            + dt.date.fromisoformat(months[i] + "-01").month
            - m0.month
            for i in use
        ],
        dtype=float,
    )
    succ = np.array([k[i] for i in use], dtype=float)
    fail = np.array([n[i] - k[i] for i in use], dtype=float)
    if succ.sum() == 0 or fail.sum() == 0:
        return None
    res = sm.GLM(np.column_stack([succ, fail]), sm.add_constant(t / 12.0), family=sm.families.Binomial()).fit(
        scale="X2"
    )
    b = float(res.params[1])
    lo, hi = (float(v) for v in res.conf_int(0.05)[1])
    return {
        "from": months[use[0]],
        "to": months[use[-1]],
        "n_months": len(use),
        "odds_ratio_per_year": math.exp(b),
        "odds_ratio_per_year_ci": [math.exp(lo), math.exp(hi)],
        "p": float(res.pvalues[1]),
        "method": "binomial GLM, logit link, years since the first month; quasi-binomial (Pearson) scale",
    }


def creation(
    backend: Any, lsnap: SnapshotRef, csnap: SnapshotRef, usable: int, recreated: int, p: AdoptionParams
) -> dict[str, Any]:
    monthly, newcomers = _creation_rows(backend, lsnap, csnap, p.library)
    lmonth = lsnap.taken_at.isoformat()[:7]
    rows: list[dict[str, Any]] = []
    for r in monthly.itertuples(index=False):
        m = _month(r.month)
        n, k, a = int(r.n), int(r.n_lib), int(r.n_any)
        rows.append(
            {
                "month": m,
                "complete": m < lmonth,
                "models": n,
                "declaring": k,
                "share": k / n if n else None,
                "share_ci": wilson(k, n) if n else [None, None],
                "declaring_any_library": a,
                "share_of_library_models": k / a if a else None,
            }
        )
    new_by_month = {_month(r.month): (int(r.n), int(r.n_lib)) for r in newcomers.itertuples(index=False)}
    for row in rows:
        na, nl = new_by_month.get(str(row["month"]), (0, 0))
        row["new_authors"] = na
        row["new_authors_declaring"] = nl
        row["newcomer_share"] = nl / na if na else None
    complete = [r for r in rows if r["complete"]]
    recent = complete[-p.recent_months :]
    n_recent = sum(r["models"] for r in recent)
    k_recent = sum(r["declaring"] for r in recent)
    na_recent = sum(r["new_authors"] for r in recent)
    ka_recent = sum(r["new_authors_declaring"] for r in recent)
    any_recent = sum(r["declaring_any_library"] for r in recent)
    months = [r["month"] for r in complete]
    return {
        "library_snapshot": lsnap.snapshot_id,
        "created_snapshot": csnap.snapshot_id,
        "n_models": usable,
        "n_recreated_left_out": recreated,
        "months": rows,
        "recent": {
            "from": recent[0]["month"] if recent else None,
            "to": recent[-1]["month"] if recent else None,
            "models": n_recent,
            "declaring": k_recent,
            "share": k_recent / n_recent if n_recent else None,
            "share_ci": wilson(k_recent, n_recent) if n_recent else [None, None],
            "share_of_library_models": k_recent / any_recent if any_recent else None,
            "new_authors": na_recent,
            "newcomer_share": ka_recent / na_recent if na_recent else None,
            "newcomer_share_ci": wilson(ka_recent, na_recent) if na_recent else [None, None],
        },
        "trend": _trend(months, [r["declaring"] for r in complete], [r["models"] for r in complete], p.min_count),
        "trend_among_library_models": _trend(
            months, [r["declaring"] for r in complete], [r["declaring_any_library"] for r in complete], p.min_count
        ),
    }


# ---------------------------------------------------------------------------
# Downstream reuse
# ---------------------------------------------------------------------------


def _edges(backend: Any, exclude_card_text: bool) -> ibis.Table:
    ln = backend.table("lineage")
    ln = ln.filter(ln.parent_id.notnull())
    if exclude_card_text:
        ln = ln.filter(ln.origin != "card_text")
    return ln


def _ratio_ci(
    hist_a: tuple[np.ndarray, np.ndarray], hist_b: tuple[np.ndarray, np.ndarray], stat: str, n_boot: int, seed: int
) -> list[float | None]:
    """Percentile bootstrap of stat(a) / stat(b), models resampled within each group (multinomial on histograms)."""
    if n_boot == 0:
        return [None, None]
    rng = np.random.default_rng(seed)

    def draws(h: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        values, counts = h
        n = int(counts.sum())
        w = rng.multinomial(n, counts / n, size=n_boot).astype(float)
        x = values if stat == "mean" else (values > 0).astype(float)
        return (w @ x) / n

    a, b = draws(hist_a), draws(hist_b)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = a / b
    r = r[np.isfinite(r)]
    if r.size == 0:
        return [None, None]
    lo, hi = np.quantile(r, [0.025, 0.975])
    return [float(lo), float(hi)]


def reuse(backend: Any, dsnap: SnapshotRef, p: AdoptionParams) -> dict[str, Any]:
    sid = dsnap.snapshot_id
    ln = _edges(backend, p.exclude_card_text)
    e = ln.filter(ln.snapshot_id == sid).select("child", "parent_id").distinct()
    nd = e.group_by(base=e.parent_id).aggregate(d=e.count())
    pk = backend.table("packages")
    models = pk.filter(pk.snapshot_id == sid).select(pid=pk.package_id)
    models = models.left_join(nd, models.pid == nd.base)
    models = models.select(pid=models.pid, d=models.d.fill_null(0))
    lib = backend.table("package_libraries")
    lib = lib.filter((lib.snapshot_id == sid) & ~lib.library.isin(_tag_only()))
    lib = lib.select(lid=lib.package_id, library=lib.library).distinct()
    per_lib = models.join(lib, models.pid == lib.lid)
    table = (
        per_lib.group_by("library")
        .aggregate(
            models=per_lib.count(),
            reused=(per_lib.d > 0).sum(),
            descendants=per_lib.d.sum(),
        )
        .filter(ibis._.models >= p.min_models)
        .order_by([ibis.desc("models"), "library"])
        .execute()
    )
    flags = lib.group_by(fid=lib.lid).aggregate(has=(lib.library == p.library).any())
    grouped = models.left_join(flags, models.pid == flags.fid)
    group = ibis.cases(
        (grouped.has.isnull(), "no library"),
        (grouped.has, p.library),
        else_="other libraries only",
    )
    hist = grouped.mutate(g=group).group_by(["g", "d"]).aggregate(n=ibis._.count()).execute()
    hists: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for g, df in hist.groupby("g"):
        df = df.sort_values("d")
        hists[str(g)] = (df["d"].to_numpy(float), df["n"].to_numpy(float))
    groups: list[dict[str, Any]] = []
    for g in (p.library, "other libraries only", "no library"):
        if g not in hists:
            continue
        v, c = hists[g]
        n = float(c.sum())
        reused = float(c[v > 0].sum())
        groups.append(
            {
                "group": g,
                "models": int(n),
                "reused": int(reused),
                "share_reused": reused / n if n else None,
                "share_reused_ci": wilson(int(reused), int(n)) if n else [None, None],
                "n_descendants": int(v @ c),
                "descendants_per_model": float(v @ c) / n if n else None,
                "descendants_per_reused_model": float(v @ c) / reused if reused else None,
            }
        )
    comparison: dict[str, Any] = {}
    a, b = hists.get(p.library), hists.get("other libraries only")
    if a is not None and b is not None:
        ga = next(x for x in groups if x["group"] == p.library)
        gb = next(x for x in groups if x["group"] == "other libraries only")
        for stat, key in (("mean", "descendants_per_model"), ("share", "share_reused")):
            est = ga[key] / gb[key] if gb[key] else None
            comparison[f"{key}_ratio"] = est
            comparison[f"{key}_ratio_ci"] = _ratio_ci(a, b, stat, p.n_boot, p.seed) if est is not None else [None, None]
    n_edges = int(e.count().execute())
    return {
        "snapshot_id": sid,
        "taken_at": dsnap.taken_at.isoformat(),
        "n_models": int(sum(int(h[1].sum()) for h in hists.values())),
        "n_edges": n_edges,
        "origins": "all but card_text" if p.exclude_card_text else "all",
        "groups": groups,
        "comparison": comparison,
        "by_library": [
            {
                "library": str(r.library),
                "models": int(r.models),
                "reused": int(r.reused),
                "share_reused": int(r.reused) / int(r.models),
                "descendants_per_model": float(r.descendants) / int(r.models),
                "descendants_per_reused_model": float(r.descendants) / int(r.reused) if int(r.reused) else None,
            }
            for r in table.itertuples(index=False)
        ],
    }


# ---------------------------------------------------------------------------
# The metric
# ---------------------------------------------------------------------------


def adoption(backend: Any, *, selection: Any = None, params: AdoptionParams | None = None) -> AdoptionResult:
    """Both measurements (module docstring); each says which snapshot it rests on or why it is missing."""
    p = params or DEFAULTS
    sel = as_selection(selection)
    snaps = resolve(backend, "hf", sel)
    if not snaps:
        if not sel.empty:
            raise PtmscopeError(f"{NAME}: no complete hf snapshot matches {sel.describe()}")
        raise NotMeasurable(f"{NAME}: the store has no complete hf snapshot")
    sources = source_table(backend, snaps)
    lib_snaps = [s for s, row in zip(snaps, sources, strict=True) if row["with_library"] > 0]
    rests: list[dict[str, Any]] = []
    creation_block = reuse_block = None
    creation_missing = reuse_missing = None
    if not lib_snaps:
        creation_missing = "no selected Hub snapshot lists libraries per model"
    else:
        try:
            lsnap, csnap, usable, recreated = choose_creation_pair(backend, lib_snaps)
            creation_block = creation(backend, lsnap, csnap, usable, recreated, p)
            same = lsnap.snapshot_id == csnap.snapshot_id
            rests.append(
                {
                    "snapshot_id": lsnap.snapshot_id if same else f"{lsnap.snapshot_id} + {csnap.snapshot_id}",
                    "what": "models with libraries and a creation time"
                    + (
                        ""
                        if same
                        else f" (libraries from {lsnap.snapshot_id}, creation times from {csnap.snapshot_id})"
                    ),
                    "n": usable,
                }
            )
        except NotMeasurable as exc:
            creation_missing = str(exc)
    rows = _edges(backend, p.exclude_card_text)
    try:
        dsnap = pick(
            backend,
            "hf",
            sel,
            table="lineage",
            rows=rows,
            what=NAME,
            rows_meaning="resolved lineage edges"
            + (" (not from the Trainer's card sentence)" if p.exclude_card_text else ""),
        ).snapshot
        reuse_block = reuse(backend, dsnap, p)
        rests.append(
            {
                "snapshot_id": dsnap.snapshot_id,
                "what": f"models, with {reuse_block['n_edges']:,} resolved lineage edges ({reuse_block['origins']})",
                "n": reuse_block["n_models"],
            }
        )
    except NotMeasurable as exc:
        reuse_missing = str(exc)
    if creation_block is None and reuse_block is None:
        raise NotMeasurable(f"{NAME}: {_bare(creation_missing)}; {_bare(reuse_missing)}")
    return AdoptionResult(
        metric=NAME,
        library=p.library,
        synthetic=any(s.synthetic for s in snaps),
        creation=creation_block,
        creation_missing=creation_missing,
        reuse=reuse_block,
        reuse_missing=reuse_missing,
        sources=sources,
        rests_on=rests,
        notes=[
            f"{what} not measurable: {_bare(why)}"
            for what, why in (("creation", creation_missing), ("reuse", reuse_missing))
            if why
        ],
    )


def summarise(result: AdoptionResult, p: AdoptionParams) -> dict[str, Any]:
    """What the ext.transformers_adoption rule reads."""
    out: dict[str, Any] = {"library": result.library}
    c = result.creation
    if c is not None:
        rec = c["recent"]
        out.update(
            {
                "recent_from": rec["from"],
                "recent_to": rec["to"],
                "n_recent": rec["models"],
                "recent_share": rec["share"],
                "recent_share_ci_low": rec["share_ci"][0],
                "recent_share_ci_high": rec["share_ci"][1],
                "recent_newcomer_share": rec["newcomer_share"],
            }
        )
        if c["trend"]:
            out["trend_odds_ratio_per_year"] = c["trend"]["odds_ratio_per_year"]
            out["trend_ci_low"], out["trend_ci_high"] = c["trend"]["odds_ratio_per_year_ci"]
    r = result.reuse
    if r is not None:
        cmp_ = r["comparison"]
        sizes = {g["group"]: g["models"] for g in r["groups"]}
        out["n_models_library"] = sizes.get(result.library, 0)
        out["n_models_other"] = sizes.get("other libraries only", 0)
        if "descendants_per_model_ratio" in cmp_:
            out["reuse_ratio"] = cmp_["descendants_per_model_ratio"]
            out["reuse_ratio_ci_low"], out["reuse_ratio_ci_high"] = cmp_["descendants_per_model_ratio_ci"]
            out["reused_share_ratio"] = cmp_["share_reused_ratio"]
    return out


def _compute(ctx: Context, p: AdoptionParams) -> AdoptionResult:
    return adoption(ctx.backend, selection=ctx.selection, params=p)


def _figure(result: AdoptionResult, p: AdoptionParams) -> Any:
    from ..figures.transformers_adoption import adoption_figure

    return adoption_figure(result)


def _tables(data: dict[str, Any]) -> list[ReportTable]:
    lib = data.get("library", "")
    out = [
        ReportTable(
            "Data this rests on",
            ("snapshot", "what", "n"),
            [[r["snapshot_id"], r["what"], r["n"]] for r in data.get("rests_on", [])],
        ),
        ReportTable(
            "What each Hub snapshot can show",
            ("snapshot", "models", "with creation time", "with libraries", "resolved lineage edges"),
            [
                [s["snapshot_id"], s["models"], s["created"], s["with_library"], s["edges"]]
                for s in data.get("sources", [])
            ],
        ),
    ]
    c = data.get("creation")
    if c:
        out.append(
            ReportTable(
                f"New models declaring {lib}, per month (last 24 complete months)",
                (
                    "month",
                    "new models",
                    f"declaring {lib}",
                    "share",
                    "95% CI",
                    "share of library models",
                    "newcomers' share",
                ),
                [
                    [
                        r["month"],
                        r["models"],
                        r["declaring"],
                        r["share"],
                        r["share_ci"],
                        r["share_of_library_models"],
                        r["newcomer_share"],
                    ]
                    for r in [x for x in c["months"] if x["complete"]][-24:]
                ],
            )
        )
    r = data.get("reuse")
    if r:
        out.append(
            ReportTable(
                f"Downstream reuse: {lib} models vs models of other libraries only ({r['snapshot_id']})",
                ("group", "models", "reused", "share reused", "direct descendants", "per model", "per reused model"),
                [
                    [
                        g["group"],
                        g["models"],
                        g["reused"],
                        g["share_reused"],
                        g["n_descendants"],
                        g["descendants_per_model"],
                        g["descendants_per_reused_model"],
                    ]
                    for g in r["groups"]
                ],
            )
        )
        out.append(
            ReportTable(
                "Descendants per model, by Hub library",
                ("library", "models", "reused", "share reused", "descendants per model", "per reused model"),
                [
                    [
                        x["library"],
                        x["models"],
                        x["reused"],
                        x["share_reused"],
                        x["descendants_per_model"],
                        x["descendants_per_reused_model"],
                    ]
                    for x in r["by_library"][:15]
                ],
            )
        )
    return out


METRIC = register(
    Metric(
        name=NAME,
        title="Transformers adoption: share of new models declaring it, and reuse by library",
        params=AdoptionParams,
        compute=_compute,
        summarise=summarise,
        figure=_figure,
        tables=_tables,
        key_numbers=(
            ("creation.library_snapshot", "libraries from"),
            ("creation.created_snapshot", "creation times from"),
            ("creation.n_models", "models with both"),
            ("summary.recent_from", "recent window from"),
            ("summary.recent_to", "recent window to"),
            ("summary.recent_share", "share of new models declaring the library (recent window)"),
            ("creation.recent.share_ci", "95% CI"),
            ("summary.recent_newcomer_share", "share of newcomers' first models declaring it"),
            ("summary.trend_odds_ratio_per_year", "trend: odds ratio per year"),
            ("creation.trend.odds_ratio_per_year_ci", "trend 95% CI"),
            ("reuse.snapshot_id", "reuse measured on"),
            ("reuse.n_edges", "resolved lineage edges"),
            ("summary.reuse_ratio", "descendants per model: library / other libraries"),
            ("reuse.comparison.descendants_per_model_ratio_ci", "95% CI"),
            ("summary.reused_share_ratio", "share reused: library / other libraries"),
        ),
        caveats=(
            "association, not cause: what would settle the claim is the library declared at creation for every "
            "model with its creation time (a full Hub crawl with createdAt and library_name, month by month), time "
            "from a base's release to its first descendant by library, and model creation around the date the Hub "
            "integrated a library.",
            "libraries are those declared at the library snapshot's date, not at creation; a listing holds only "
            "models that still existed (survivorship).",
            "the Hub detects transformers from config files and tags the model itself, so 'declaring' includes "
            "models whose authors did nothing but upload a transformers checkpoint.",
        ),
        needs="libraries per model with creation times (the same or another Hub snapshot), and resolved lineage",
    )
)
