"""Concentration of downloads over authors (publishers).

Formula: author downloads ``D_a = sum of downloads of the author's packages``
(author = the ``author`` column, else the Hub namespace of the id; legacy
un-namespaced ids form one group ``(no namespace)``).  With authors sorted by
``D_a`` descending and ``k_q = ceil(q * n_authors)``:
``top_share(q) = sum of the k_q largest D_a / sum of all D_a`` for q = 1% and
10%, and the Gini coefficient of ``D_a`` (``ptmscope.stats.gini``) with a
percentile-bootstrap CI over authors.  Packages with null downloads are left
out (counted in ``n_null_downloads``).

The downloads-over-authors summary.  Claim T3.1 is tested by
:mod:`~ptmscope.metrics.authorship`, which measures it as stated (ownership
of the top-K models, by downloads and likes, with this metric's Gini and
Lorenz curve); this one has no verdict rule.  Download counts are a window
(usually 30 days) at the snapshot date, not lifetime use.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import ibis
import numpy as np
from pydantic import Field

from ..errors import NotMeasurable
from ..snapshots import Selection, as_selection, namespace_expr, pick
from ..stats import bootstrap_ci, gini
from .registry import Context, Metric, Params, ReportTable, register

NAME = "concentration"


class ConcentrationParams(Params):
    n_boot: int = Field(500, ge=0, description="Bootstrap resamples (over authors) for the Gini CI.")
    seed: int = Field(0, description="Bootstrap seed.")
    top_n: int = Field(10, ge=1, description="Authors and packages listed.")


DEFAULTS = ConcentrationParams()

NO_NAMESPACE = "(no namespace)"


@dataclass(frozen=True)
class ConcentrationResult:
    metric: str
    snapshot_id: str
    taken_at: str
    synthetic: bool
    n_packages: int
    n_null_downloads: int
    n_authors: int
    total_downloads: int
    top1_share: float
    top10_share: float
    top1_k: int
    top10_k: int
    gini: float
    gini_ci: list[float]
    n_boot: int
    no_namespace_share: float  # share of downloads on legacy un-namespaced ids (whatever their author)
    top_authors: list[dict[str, Any]]
    top_packages: list[dict[str, Any]]
    lorenz: list[list[float]]  # [share of authors (smallest first), share of downloads], 101 points
    top_curve: list[list[float]]  # [share of authors (largest first, log-spaced), their share of downloads]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def top_share(sorted_desc: np.ndarray, q: float) -> tuple[float, int]:
    n = len(sorted_desc)
    total = float(sorted_desc.sum())
    k = max(1, math.ceil(q * n))
    return (float(sorted_desc[:k].sum()) / total if total > 0 else float("nan")), k


def lorenz_points(values: np.ndarray, n_points: int = 101) -> list[list[float]]:
    v = np.sort(values.astype(float))
    cum = np.concatenate([[0.0], np.cumsum(v)])
    total = cum[-1] if cum[-1] > 0 else 1.0
    xs = np.linspace(0, 1, n_points)
    idx = np.round(xs * len(v)).astype(int)
    return [[round(float(x), 6), round(float(cum[i] / total), 6)] for x, i in zip(xs, idx, strict=False)]


def top_curve(sorted_desc: np.ndarray, n_points: int = 60) -> list[list[float]]:
    n = len(sorted_desc)
    cum = np.cumsum(sorted_desc.astype(float))
    total = cum[-1] if n and cum[-1] > 0 else 1.0
    ks = np.unique(np.round(np.logspace(0, np.log10(max(n, 1)), n_points)).astype(int))
    return [[round(float(k / n), 8), round(float(cum[k - 1] / total), 8)] for k in ks]


def concentration(
    backend: Any,
    *,
    snapshot_id: str | Selection | None = None,
    n_boot: int = DEFAULTS.n_boot,
    seed: int = DEFAULTS.seed,
    top_n: int = DEFAULTS.top_n,
) -> ConcentrationResult:
    """Downloads over authors of the chosen Hub snapshot (module docstring)."""
    chosen = pick(backend, "hf", as_selection(snapshot_id), columns=("downloads",), min_rows=1, what=NAME)
    p = backend.table("packages")
    p = p.filter(p.snapshot_id == chosen.snapshot_id)
    counts = p.aggregate(
        n=p.count(),
        n_null=p.downloads.isnull().sum(),
        # legacy ids (no '/'), whoever the author column names (the Hub API says "huggingface" for them)
        d_nons=p.downloads.sum(where=~p.package_id.contains("/")),
    )
    p = p.filter(p.downloads.notnull())
    author = ibis.coalesce(p.author, namespace_expr(p.package_id), ibis.literal(NO_NAMESPACE))
    by_author = p.mutate(a=author).group_by("a").aggregate(d=ibis._.downloads.sum())
    # the snapshot's counts ride along as scalars: one query
    by_author = by_author.mutate(
        n=counts.n.as_scalar(), n_null=counts.n_null.as_scalar(), d_nons=counts.d_nons.as_scalar()
    )
    # Arrow, not pandas: only the top authors' names are needed as Python strings
    tab = by_author.order_by([ibis.desc("d"), "a"]).to_pyarrow()
    if tab.num_rows == 0:
        raise NotMeasurable(f"{NAME}: snapshot {chosen.snapshot_id} has no download counts")
    counts = {c: tab.column(c)[0].as_py() for c in ("n", "n_null", "d_nons")}
    d = tab.column("d").to_numpy().astype(float)
    top_a = tab.column("a").slice(0, top_n).to_pylist()
    top_d = tab.column("d").slice(0, top_n).to_pylist()
    total = float(d.sum())
    s1, k1 = top_share(d, 0.01)
    s10, k10 = top_share(d, 0.10)
    g = gini(d)
    # the bootstrap draws an n_boot x n index matrix: cap it near 20M cells for huge author counts
    n_boot = min(n_boot, max(100, 20_000_000 // len(d)))
    ci = bootstrap_ci(d, gini, n_boot=n_boot, seed=seed)
    d_nons = counts["d_nons"]
    nons = float(d_nons) / total if total > 0 and d_nons is not None and d_nons == d_nons else 0.0
    top_pk = p.select("package_id", "downloads").order_by([ibis.desc("downloads"), "package_id"]).limit(top_n)
    tp = top_pk.execute()
    return ConcentrationResult(
        metric=NAME,
        snapshot_id=chosen.snapshot_id,
        taken_at=chosen.taken_at.isoformat(),
        synthetic=chosen.synthetic,
        n_packages=int(counts["n"]),
        n_null_downloads=int(counts["n_null"] or 0),
        n_authors=len(d),
        total_downloads=int(total),
        top1_share=s1,
        top10_share=s10,
        top1_k=k1,
        top10_k=k10,
        gini=float(g),
        gini_ci=[float(ci.low), float(ci.high)],
        n_boot=n_boot,
        no_namespace_share=nons,
        top_authors=[
            {"author": str(a), "downloads": int(v), "share": (float(v) / total if total else 0.0)}
            for a, v in zip(top_a, top_d, strict=False)
        ],
        top_packages=[
            {"package_id": str(a), "downloads": int(v)} for a, v in zip(tp["package_id"], tp["downloads"], strict=False)
        ],
        lorenz=lorenz_points(d),
        top_curve=top_curve(d),
    )


def _compute(ctx: Context, p: ConcentrationParams) -> ConcentrationResult:
    return concentration(ctx.backend, snapshot_id=ctx.selection, n_boot=p.n_boot, seed=p.seed, top_n=p.top_n)


def _figure(result: ConcentrationResult, p: ConcentrationParams) -> Any:
    from ..figures.concentration import concentration_figure

    return concentration_figure(result)


def _tables(data: dict[str, Any]) -> list[ReportTable]:
    return [
        ReportTable(
            "Most-downloaded packages",
            ("package", "downloads"),
            [[r["package_id"], r["downloads"]] for r in data.get("top_packages", [])],
        ),
        ReportTable(
            "Authors with most downloads",
            ("author", "downloads", "share"),
            [[r["author"], r["downloads"], r["share"]] for r in data.get("top_authors", [])],
        ),
    ]


METRIC = register(
    Metric(
        name=NAME,
        title="Concentration of downloads over authors",
        params=ConcentrationParams,
        compute=_compute,
        figure=_figure,
        tables=_tables,
        key_numbers=(
            ("snapshot_id", "snapshot"),
            ("n_authors", "authors"),
            ("total_downloads", "downloads (window)"),
            ("top1_share", "top 1% authors' share"),
            ("top10_share", "top 10% authors' share"),
            ("gini", "Gini"),
            ("gini_ci", "Gini 95% CI"),
            ("no_namespace_share", "share on un-namespaced (legacy) ids"),
        ),
        caveats=("download counts are a window (usually 30 days) at the snapshot date, not lifetime use.",),
        needs="download counts and authors (or namespaced ids) of one Hub snapshot",
        no_rule="T3.1 is judged by authorship, which measures the claim as stated (ownership of the top-K models); "
        "this is the downloads-over-authors summary it extends",
    )
)
