"""Authorship of popular models: does a small group of contributors own them?

Tests Table 3 claim T3.1 ("A small group of contributors owns popular
models", ptmscope test ext.authorship) as stated: for each popularity
measure M the snapshot has (downloads; likes where present):

* the *top-K models* are the K models with the largest M;
* authors (the ``author`` column, else the Hub namespace of the id; legacy
  un-namespaced ids form one owner ``(no namespace)``, as in
  :mod:`~ptmscope.metrics.concentration`) are ranked by their summed M;
  the *top 1%* is the ``ceil(0.01 * n_authors)`` highest, the *top 10* the
  10 highest;
* ``share_top`` = share of the top-K models that the group owns,
  ``share_all`` = share of *all* models the group owns (the comparison),
  ``excess`` = ``share_top - share_all``, and ``share_popularity`` = the
  group's share of all M;
* the Gini coefficient and the Lorenz curve of M over authors.

Ties at a cutoff (the K-th model, the k-th author) are shared: each tied
item counts with weight ``free slots / tied items``, the expectation of
breaking the tie at random, so no alphabetical accident decides a share.
95% intervals are percentile bootstraps over authors: each resampled author
brings its summed M, its number of models and its number of top-K models
(the top-K set is held fixed), so a replicate costs O(authors) on the
aggregated rows.  Authors with identical (M sum, models, top-K models) are
pulled from the engine as one row with a count.

Snapshot: among the selected Hub snapshots, the one with the most models
that have downloads *and* likes (both measures on one population); if none
has likes, the one with the most models with downloads, measured by
downloads only.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

import ibis
import numpy as np
from pydantic import Field

from ..errors import NotMeasurable, PtmscopeError
from ..snapshots import Chosen, Selection, as_selection, namespace_expr, pick
from .concentration import NO_NAMESPACE
from .registry import Context, Metric, Params, ReportTable, register

NAME = "authorship"
MEASURES = ("downloads", "likes")
SENSITIVITY_KS = (100, 1000, 10000)
_CELLS = 4_000_000  # bootstrap batch size bound (replicates x author profiles)


class AuthorshipParams(Params):
    top: int = Field(1000, ge=1, description="K: the popular models are the top K by each popularity measure.")
    top_share: float = Field(
        0.01, gt=0, lt=1, description="The small group: this share of authors (ceil), by summed popularity."
    )
    top_authors: int = Field(10, ge=1, description="The second small group: this many authors, by summed popularity.")
    n_boot: int = Field(1000, ge=0, description="Bootstrap resamples over authors for the 95% intervals (0: none).")
    seed: int = Field(0, description="Bootstrap seed.")
    top_n: int = Field(10, ge=1, description="Authors listed per measure.")


DEFAULTS = AuthorshipParams()


@dataclass(frozen=True)
class AuthorshipResult:
    metric: str
    snapshot_id: str
    taken_at: str
    synthetic: bool
    n_packages: int
    top: int
    top_share: float
    top_authors: int
    n_boot: int
    seed: int
    measures: list[dict[str, Any]]  # one block per popularity measure measured (see measure())
    not_measured: dict[str, str]  # measure -> why it is absent
    rests_on: list[dict[str, Any]]
    method: str = (
        "authors ranked by summed popularity; group shares of the top-K models vs of all models; ties at cutoffs "
        "shared; percentile bootstrap over authors (top-K set fixed)"
    )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---------------------------------------------------------------------------
# Profiles: authors with identical (sum, models, top-K counts), counted
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Profiles:
    """Authors as distinct profiles with multiplicities, sorted by summed popularity (descending)."""

    total: np.ndarray  # summed popularity of one author of the profile
    models: np.ndarray  # models of one author
    top: dict[int, np.ndarray]  # K -> top-K models of one author (fractional where the K-th value is tied)
    count: np.ndarray  # authors with this profile

    @property
    def n_authors(self) -> int:
        return int(self.count.sum())

    def blocks(self) -> tuple[np.ndarray, np.ndarray]:
        """(start index of each tie block of ``total``, block index of each profile)."""
        starts = np.flatnonzero(np.r_[True, self.total[1:] != self.total[:-1]]) if self.total.size else np.array([0])
        index = np.cumsum(np.r_[True, self.total[1:] != self.total[:-1]]) - 1 if self.total.size else np.array([])
        return starts, index.astype(int)


def included(weights: np.ndarray, starts: np.ndarray, index: np.ndarray, k: float) -> np.ndarray:
    """How many authors of each profile fall in the top ``k`` (rows: replicates); ties at the cutoff shared."""
    w = np.atleast_2d(weights)
    wb = np.add.reduceat(w, starts, axis=1)
    before = np.cumsum(wb, axis=1) - wb
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(wb > 0, np.clip((k - before) / np.where(wb > 0, wb, 1.0), 0.0, 1.0), 0.0)
    return w * frac[:, index]


def weighted_gini(weights: np.ndarray, values_desc: np.ndarray) -> np.ndarray:
    """Gini of each replicate (rows of ``weights``: multiplicities of values sorted descending)."""
    w = np.atleast_2d(weights)[:, ::-1]
    x = values_desc[::-1]
    wx = w * x
    s = np.cumsum(wx, axis=1)
    n, t = w.sum(axis=1), s[:, -1]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(t > 0, 1.0 - (w * (2 * s - wx)).sum(axis=1) / (n * np.where(t > 0, t, 1.0)), np.nan)


def lorenz(prof: Profiles, n_points: int = 101) -> list[list[float]]:
    """Lorenz curve of summed popularity over authors (smallest first), at ``n_points`` author shares."""
    x, c = prof.total[::-1], prof.count[::-1].astype(float)
    ca = np.r_[0.0, np.cumsum(c)] / c.sum()
    cm = np.r_[0.0, np.cumsum(c * x)]
    cm = cm / cm[-1] if cm[-1] > 0 else ca
    xs = np.linspace(0, 1, n_points)
    return [[round(float(a), 6), round(float(b), 6)] for a, b in zip(xs, np.interp(xs, ca, cm), strict=True)]


def top_curve(prof: Profiles, n_points: int = 60) -> list[list[float]]:
    """[share of authors, most popular first (log-spaced), their share]: the Lorenz curve read from the top."""
    n = prof.n_authors
    starts, index = prof.blocks()
    xs = np.unique(np.r_[np.logspace(0, np.log10(max(n, 1)), n_points), float(n)])
    total = float(prof.total @ prof.count)
    out = []
    for k in xs:
        held = float((included(prof.count, starts, index, float(k))[0] @ prof.total) / total) if total > 0 else 0.0
        out.append([round(float(k / n), 8), round(held, 8)])
    return out


def authors_for_half(prof: Profiles, k: int) -> int:
    """Fewest authors that together own at least half of the top-``k`` models."""
    t = prof.top[k]
    order = np.argsort(-t, kind="stable")
    need, n = k / 2.0, 0
    for i in order:
        if need <= 1e-9 or t[i] <= 0:
            break
        take = min(int(prof.count[i]), math.ceil((need - 1e-9) / t[i]))
        n += take
        need -= take * t[i]
    return n


def _replicates(prof: Profiles, n_boot: int, seed: int) -> Iterator[np.ndarray]:
    """Batches of multinomial author counts per profile (one row = one bootstrap replicate)."""
    n = prof.n_authors
    p = prof.count / n
    rng = np.random.default_rng(seed)
    step = max(1, min(n_boot, _CELLS // max(prof.count.size, 1)))
    done = 0
    while done < n_boot:
        b = min(step, n_boot - done)
        yield rng.multinomial(n, p, size=b).astype(float)
        done += b


def group_statistics(prof: Profiles, w: np.ndarray, k: float, ks: list[int]) -> dict[str, np.ndarray]:
    """The group's shares for each replicate row of ``w`` (the observed data: ``w = prof.count``)."""
    starts, index = prof.blocks()
    w = np.atleast_2d(w)
    inc = included(w, starts, index, k)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = {
            "share_all": (inc @ prof.models) / (w @ prof.models),
            "share_popularity": (inc @ prof.total) / (w @ prof.total),
        }
        for kk in ks:
            out[f"share_top_{kk}"] = (inc @ prof.top[kk]) / (w @ prof.top[kk])
    return out


def _ci(boots: np.ndarray) -> list[float | None]:
    b = boots[np.isfinite(boots)]
    if b.size == 0:
        return [None, None]
    lo, hi = np.quantile(b, [0.025, 0.975])
    return [float(lo), float(hi)]


# ---------------------------------------------------------------------------
# Engine side
# ---------------------------------------------------------------------------


def _author(t: ibis.Table) -> Any:
    return ibis.coalesce(t.author, namespace_expr(t.package_id), ibis.literal(NO_NAMESPACE))


def _cutoffs(p: ibis.Table, ks: list[int]) -> dict[int, float]:
    """K -> the K-th largest value (one query over the top max(K) rows)."""
    top = p.order_by([ibis.desc("m")]).limit(max(ks))
    top = top.mutate(rn=ibis.row_number().over(order_by=[ibis.desc(top.m)]))
    row = top.aggregate(**{f"v{k}": top.m.min(where=top.rn < k) for k in ks}).execute().iloc[0]
    return {k: float(row[f"v{k}"]) for k in ks}


def profiles(backend: Any, snapshot_id: str, measure: str, ks: list[int]) -> tuple[Profiles, dict[str, Any]]:
    """Author profiles of one popularity measure, and the cutoffs of the top-K sets."""
    t = backend.table("packages")
    p = t.filter((t.snapshot_id == snapshot_id) & t[measure].notnull())
    p = p.select(a=_author(p), m=p[measure].cast("float64"))
    n_models = int(p.count().execute())
    ks = sorted({min(k, n_models) for k in ks})
    cuts = _cutoffs(p, ks)
    per_author = p.group_by("a").aggregate(
        total=p.m.sum(),
        models=p.count(),
        **{f"above_{k}": (p.m > cuts[k]).sum() for k in ks},
        **{f"tied_{k}": (p.m == cuts[k]).sum() for k in ks},
    )
    keys = ["total", "models", *(f"above_{k}" for k in ks), *(f"tied_{k}" for k in ks)]
    df = per_author.group_by(keys).aggregate(count=per_author.count()).execute()
    df = df.sort_values(keys, ascending=False, kind="stable").reset_index(drop=True)
    top, cutoffs = {}, {}
    for k in ks:
        above = int((df[f"above_{k}"] * df["count"]).sum())
        tied = int((df[f"tied_{k}"] * df["count"]).sum())
        cutoffs[k] = {"value": cuts[k], "above": above, "tied": tied}
        frac = (k - above) / tied if tied else 0.0
        top[k] = df[f"above_{k}"].to_numpy(float) + frac * df[f"tied_{k}"].to_numpy(float)
    prof = Profiles(
        total=df["total"].to_numpy(float),
        models=df["models"].to_numpy(float),
        top=top,
        count=df["count"].to_numpy(float),
    )
    info = {
        "n_models": n_models,
        "ks": ks,
        "cutoffs": cutoffs,
    }
    return prof, info


def _top_authors(backend: Any, snapshot_id: str, measure: str, k: int, cutoff: float, n: int) -> list[dict[str, Any]]:
    t = backend.table("packages")
    p = t.filter((t.snapshot_id == snapshot_id) & t[measure].notnull())
    p = p.select(a=_author(p), m=p[measure].cast("float64"))
    g = p.group_by("a").aggregate(total=p.m.sum(), models=p.count(), top_models=(p.m >= cutoff).sum())
    df = g.order_by([ibis.desc("total"), "a"]).limit(n).execute()
    return [
        {"author": str(a), measure: int(v), "models": int(m), f"models_in_top_{k}_or_tied": int(tm)}
        for a, v, m, tm in zip(df["a"], df["total"], df["models"], df["top_models"], strict=True)
    ]


# ---------------------------------------------------------------------------
# The metric
# ---------------------------------------------------------------------------


def measure(backend: Any, chosen: Chosen, name: str, p: AuthorshipParams) -> dict[str, Any]:
    """One popularity measure's block of the result (module docstring)."""
    ks_wanted = sorted({p.top, *SENSITIVITY_KS})
    prof, info = profiles(backend, chosen.snapshot_id, name, ks_wanted)
    if prof.count.size == 0 or prof.total.sum() <= 0:
        raise NotMeasurable(f"{NAME}: snapshot {chosen.snapshot_id} has no positive {name}")
    ks = info["ks"]
    k_main = min(p.top, info["n_models"])
    n_authors = prof.n_authors
    groups = {
        f"top {p.top_share * 100:g}% of authors": math.ceil(p.top_share * n_authors),
        f"top {p.top_authors} authors": min(p.top_authors, n_authors),
    }
    kinds = dict(zip(groups, ("share", "count"), strict=True))
    obs = {g: group_statistics(prof, prof.count, k, ks) for g, k in groups.items()}
    boots: dict[str, dict[str, list[np.ndarray]]] = {g: {} for g in groups}
    gini_boots: list[np.ndarray] = []
    for w in _replicates(prof, p.n_boot, p.seed):
        gini_boots.append(weighted_gini(w, prof.total))
        for g, k in groups.items():
            for key, v in group_statistics(prof, w, k, ks).items():
                boots[g].setdefault(key, []).append(v)
            boots[g].setdefault("excess", []).append(boots[g][f"share_top_{k_main}"][-1] - boots[g]["share_all"][-1])

    def ci(g: str, key: str) -> list[float | None]:
        return _ci(np.concatenate(boots[g][key])) if p.n_boot and boots[g].get(key) else [None, None]

    rows = []
    for g, k in groups.items():
        o = {key: float(v[0]) for key, v in obs[g].items()}
        for kk in ks:
            share_top = o[f"share_top_{kk}"]
            row = {
                "group": g,
                "kind": kinds[g],
                "group_authors": k,
                "k": kk,
                "share_top": share_top,
                "share_top_ci": ci(g, f"share_top_{kk}"),
                "share_all": o["share_all"],
                "share_all_ci": ci(g, "share_all"),
                "excess": share_top - o["share_all"],
                "lift": share_top / o["share_all"] if o["share_all"] > 0 else None,
                "share_popularity": o["share_popularity"],
                "share_popularity_ci": ci(g, "share_popularity"),
            }
            if kk == k_main:
                row["excess_ci"] = ci(g, "excess")
            rows.append(row)
    gini = float(weighted_gini(prof.count, prof.total)[0])
    gini_ci = _ci(np.concatenate(gini_boots)) if gini_boots else [None, None]
    owners = {kk: float(((prof.top[kk] > 0) * prof.count).sum()) for kk in ks}
    cut = info["cutoffs"][k_main]
    return {
        "measure": name,
        "n_models": info["n_models"],
        "n_authors": n_authors,
        "total": float(prof.total @ prof.count),
        "k": k_main,
        "cutoff": cut,
        "groups": rows,
        "gini": gini,
        "gini_ci": gini_ci,
        "authors_owning_top": int(owners[k_main]),
        "authors_for_half_of_top": authors_for_half(prof, k_main),
        "lorenz": lorenz(prof),
        "top_curve": top_curve(prof),
        "top_authors": _top_authors(backend, chosen.snapshot_id, name, k_main, cut["value"], p.top_n),
    }


def choose_snapshot(backend: Any, selection: Selection) -> Chosen:
    """Most models with downloads and likes; else most with downloads (module docstring)."""
    try:
        return pick(backend, "hf", selection, columns=("downloads", "likes"), what=NAME)
    except PtmscopeError:  # no snapshot (or not the named one) has likes: downloads only
        return pick(backend, "hf", selection, columns=("downloads",), what=NAME)


def authorship(
    backend: Any, *, snapshot_id: str | Selection | None = None, params: AuthorshipParams | None = None
) -> AuthorshipResult:
    """Ownership of the top-K models by the top authors (module docstring)."""
    p = params or DEFAULTS
    chosen = choose_snapshot(backend, as_selection(snapshot_id))
    t = backend.table("packages")
    t = t.filter(t.snapshot_id == chosen.snapshot_id)
    counts = t.aggregate(n=t.count(), **{f"n_{m}": t[m].notnull().sum() for m in MEASURES}).execute().iloc[0]
    blocks, missing = [], {}
    for m in MEASURES:
        if int(counts[f"n_{m}"] or 0) == 0:
            missing[m] = f"snapshot {chosen.snapshot_id} has no {m}"
            continue
        try:
            blocks.append(measure(backend, chosen, m, p))
        except NotMeasurable as exc:
            missing[m] = str(exc)
    if not blocks:
        raise NotMeasurable(f"{NAME}: " + "; ".join(missing.values()))
    return AuthorshipResult(
        metric=NAME,
        snapshot_id=chosen.snapshot_id,
        taken_at=chosen.taken_at.isoformat(),
        synthetic=chosen.synthetic,
        n_packages=int(counts["n"]),
        top=p.top,
        top_share=p.top_share,
        top_authors=p.top_authors,
        n_boot=p.n_boot,
        seed=p.seed,
        measures=blocks,
        not_measured=missing,
        rests_on=[
            {
                "snapshot_id": chosen.snapshot_id,
                "what": "models ("
                + ", ".join(f"{b['measure']} for {b['n_models']:,}" for b in blocks)
                + f"; {max(b['n_authors'] for b in blocks):,} authors)",
                "n": int(counts["n"]),
            }
        ],
    )


def _main_row(block: dict[str, Any]) -> dict[str, Any]:
    return next(r for r in block["groups"] if r["k"] == block["k"] and r["kind"] == "share")


def summarise(result: AuthorshipResult, p: AuthorshipParams) -> dict[str, Any]:
    """Per measure the top-1% group's numbers at K, and the weakest over the measures (what the rule reads)."""
    out: dict[str, Any] = {
        "k": p.top,
        "measures": [b["measure"] for b in result.measures],
        "n_measures": len(result.measures),
    }
    lows, highs, excess_lows, group_sizes = [], [], [], []
    for b in result.measures:
        r = _main_row(b)
        m = b["measure"]
        out[f"{m}_group_authors"] = r["group_authors"]
        out[f"{m}_share_top"] = r["share_top"]
        out[f"{m}_share_top_ci_low"], out[f"{m}_share_top_ci_high"] = r["share_top_ci"]
        out[f"{m}_share_all"] = r["share_all"]
        out[f"{m}_excess"] = r["excess"]
        out[f"{m}_excess_ci_low"], out[f"{m}_excess_ci_high"] = r.get("excess_ci", [None, None])
        lows.append(r["share_top_ci"][0])
        highs.append(r["share_top_ci"][1])
        excess_lows.append(r.get("excess_ci", [None])[0])
        group_sizes.append(r["group_authors"])

    def worst(xs: list[Any], fn: Any) -> Any:
        return fn(xs) if xs and all(x is not None for x in xs) else None

    out["min_group_authors"] = worst(group_sizes, min)
    out["min_share_top_ci_low"] = worst(lows, min)
    out["max_share_top_ci_high"] = worst(highs, max)
    out["min_excess_ci_low"] = worst(excess_lows, min)
    return out


def _compute(ctx: Context, p: AuthorshipParams) -> AuthorshipResult:
    return authorship(ctx.backend, snapshot_id=ctx.selection, params=p)


def _figure(result: AuthorshipResult, p: AuthorshipParams) -> Any:
    from ..figures.authorship import authorship_figure

    return authorship_figure(result)


def _tables(data: dict[str, Any]) -> list[ReportTable]:
    rows = [
        [
            b["measure"],
            r["group"],
            r["group_authors"],
            r["k"],
            r["share_top"],
            r["share_top_ci"],
            r["share_all"],
            r["excess"],
            r["share_popularity"],
        ]
        for b in data.get("measures", [])
        for r in b["groups"]
    ]
    out = [
        ReportTable(
            "Who owns the top-K models: the group's share of them vs of all models",
            (
                "measure",
                "group",
                "authors in group",
                "K",
                "share of top-K models",
                "95% CI",
                "share of all models",
                "excess",
                "share of the measure",
            ),
            rows,
        ),
        ReportTable(
            "Data this rests on",
            ("snapshot", "what", "n"),
            [[r["snapshot_id"], r["what"], r["n"]] for r in data.get("rests_on", [])],
        ),
    ]
    for b in data.get("measures", []):
        keys = [k for k in (b["top_authors"][0] if b["top_authors"] else {}) if k != "author"]
        out.append(
            ReportTable(
                f"Authors with the most {b['measure']}",
                ("author", *keys),
                [[a["author"], *(a[k] for k in keys)] for a in b["top_authors"]],
            )
        )
    return out


METRIC = register(
    Metric(
        name=NAME,
        title="Authorship: share of the top-K models owned by the top authors",
        params=AuthorshipParams,
        compute=_compute,
        summarise=summarise,
        figure=_figure,
        tables=_tables,
        key_numbers=(
            ("snapshot_id", "snapshot"),
            ("summary.measures", "popularity measures"),
            ("summary.k", "K (top models)"),
            ("summary.downloads_group_authors", "top 1% of authors (by downloads)"),
            ("summary.downloads_share_top", "their share of the top-K models by downloads"),
            ("summary.downloads_share_all", "their share of all models"),
            ("summary.likes_share_top", "top 1% by likes: share of the top-K models by likes"),
            ("summary.likes_share_all", "top 1% by likes: share of all models"),
            ("measures[measure=downloads].gini", "Gini of downloads over authors"),
            ("measures[measure=downloads].gini_ci", "Gini 95% CI"),
            ("measures[measure=downloads].authors_for_half_of_top", "fewest authors owning half the top-K"),
        ),
        caveats=(
            "download counts are a window (usually 30 days) at the snapshot date and likes accumulate over a "
            "model's life; neither is lifetime use.",
            "legacy un-namespaced ids (bert-base-uncased, gpt2, ...) count as one owner, '(no namespace)' (the "
            "2022-10 listing names their author 'huggingface'): they are among the most downloaded models.",
            "the bootstrap resamples authors with the top-K set held fixed; it does not carry the uncertainty of "
            "which models are in the top K.",
        ),
        needs="download counts (and likes) with authors or namespaced ids of one Hub snapshot",
    )
)
