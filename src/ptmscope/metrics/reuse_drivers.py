"""Popularity vs maintenance vs quality as drivers of reuse (T3.6; Table 4's C2).

T3.6: "The traditional attribute of Popularity affects PTM selection and reuse
more than Maintenance and Quality."  Per model of one Hub snapshot (the
*base*):

* **reuse** (outcomes, each analysed apart): ``direct_descendants`` = distinct
  direct descendants in the base snapshot's lineage; ``github_dependents`` =
  distinct downstream GitHub repositories in the ``dependents`` table (the
  PeaTMOSS mapping; a model the mapping does not name has 0);
* **popularity**: downloads in the base snapshot;
* **maintenance**: ``commits`` = commits in the commit log up to the base
  snapshot's date (``commits_until = "all"``: the whole log), and
  ``recency`` = minus the days from the last change (``last_modified``, else
  the last commit) to the base snapshot's date;
* **quality**: the documentation score of C3 (card completeness and
  metadata, :func:`ptmscope.metrics.docs.documentation_scores`).

Base = the Hub snapshot with most models that have downloads, card scores and
commits in the commit log (ids joined through the Hub rename aliases).

Model (primary): rank regression -- every variable replaced by its ranks
(ties averaged) and standardised, OLS of the outcome's ranks on the four
predictors; the coefficients are standardised partial rank effects on one
scale.  Percentile-bootstrap CIs (models resampled, ranks recomputed in each
resample) of each coefficient and of ``popularity - |other|`` for each other
predictor.  Sensitivity: a negative-binomial (NB2) count model of the outcome
on z-scored ``log1p(downloads)``, ``log1p(commits)``, recency (``-log1p(days)``)
and quality, with Wald CIs of the coefficients and of ``popularity - other``.

An outcome is analysed when at least ``min_nonzero`` models have reuse > 0.
Popularity "affects reuse more" on an outcome when every difference's CI lies
above 0; an outcome refutes it when some difference's CI lies below 0 (that
predictor's effect exceeds popularity's).
"""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import asdict, dataclass
from typing import Any, Literal

import ibis
import numpy as np
from pydantic import Field

from ..errors import NotMeasurable
from ..snapshots import SnapshotRef, as_selection, pick, resolve
from ._commits import WEIGHT_FILE_BIAS, best_snapshot, canonical_packages, commits_of, weight_file_only
from ._common import alias_map, apply_aliases
from .registry import Context, Metric, Params, ReportTable, register

NAME = "reuse_drivers"

OUTCOMES = ("direct_descendants", "github_dependents")
PREDICTORS = ("popularity", "commits", "recency", "quality")
OTHERS = PREDICTORS[1:]
MIN_MODELS = 30


class ReuseParams(Params):
    commits_until: Literal["snapshot", "all"] = Field(
        "snapshot", description="Count commits up to the base snapshot's date, or the whole commit log."
    )
    min_nonzero: int = Field(20, ge=1, description="Models with reuse > 0 needed to analyse an outcome.")
    n_boot: int = Field(1000, ge=0, description="Bootstrap resamples (models) for the rank-regression CIs.")
    seed: int = Field(0, description="Bootstrap seed.")


DEFAULTS = ReuseParams()


@dataclass(frozen=True)
class ReuseResult:
    metric: str
    snapshot_id: str  # the base snapshot
    taken_at: str
    synthetic: bool
    commits_snapshot_id: str
    dependents_snapshot_id: str | None
    commits_until: str
    weight_file_only: bool
    n_base_candidates: int  # models of the base snapshot with downloads, card scores and commits
    n_models: int  # ... and a documentation score: the models analysed
    n_dropped_no_score: int
    predictors: dict[str, str]  # name -> definition
    descriptives: list[dict[str, Any]]  # per variable: median, mean, share > 0
    outcomes: list[dict[str, Any]]
    notes: list[str]
    n_boot: int
    rests_on: list[dict[str, Any]]  # snapshot, what, n: the data the result rests on
    caption_note: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---------------------------------------------------------------------------
# Data (Ibis; one row per model pulled)
# ---------------------------------------------------------------------------


def _model_rows(
    backend: Any,
    base: SnapshotRef,
    repos: ibis.Table,
    commits: ibis.Table,
    dep_sid: str | None,
    aliases: dict[str, str],
    commits_until: str,
) -> Any:
    from .docs import documentation_scores

    sid = base.snapshot_id
    end = dt.datetime.combine(base.taken_at, dt.time(23, 59, 59), tzinfo=dt.UTC)
    p = canonical_packages(backend, [sid], aliases).filter(ibis._.downloads.notnull())
    p = p.semi_join(repos, p.package_id == repos.package_id)
    p = p.group_by("package_id").aggregate(
        raw_id=p.raw_package_id.min(), downloads=p.downloads.max(), last_modified=p.last_modified.max()
    )
    c = commits if commits_until == "all" else commits.filter(commits.committed_at <= end)
    cc = c.group_by(c_pid=c.package_id).aggregate(n_commits=c.count(), last_commit=c.committed_at.max())
    d = documentation_scores(backend, snapshot_id=sid)
    d = d.select(d_pid=d.package_id, quality=d.documentation_score)
    lin = backend.table("lineage")
    desc = (
        lin.filter((lin.snapshot_id == sid) & lin.parent_id.notnull())
        .select(l_pid=lin.parent_id, child=lin.child)
        .distinct()
        .group_by("l_pid")
        .aggregate(direct_descendants=ibis._.count())
    )
    j = p.left_join(cc, p.package_id == cc.c_pid).drop("c_pid")
    j = j.left_join(d, j.raw_id == d.d_pid).drop("d_pid")
    j = j.left_join(desc, j.raw_id == desc.l_pid).drop("l_pid")
    if dep_sid is not None:
        dep = backend.table("dependents")
        dep = apply_aliases(dep.filter(dep.snapshot_id == dep_sid), "package_id", aliases)
        dep = dep.group_by(g_pid=dep.package_id).aggregate(github_dependents=dep.dependent.nunique())
        j = j.left_join(dep, j.package_id == dep.g_pid).drop("g_pid")
    else:
        j = j.mutate(github_dependents=ibis.null("int64"))
    return j.order_by("package_id").execute()


# ---------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------


def _ranks(a: np.ndarray) -> np.ndarray:
    from scipy.stats import rankdata

    r = rankdata(a, axis=0)
    sd = r.std(axis=0)
    return (r - r.mean(axis=0)) / np.where(sd > 0, sd, 1.0)


def _rank_coefs(y: np.ndarray, X: np.ndarray) -> np.ndarray:
    ry, rx = _ranks(y), _ranks(X)
    return np.linalg.lstsq(rx, ry, rcond=None)[0]


def _diffs(b: np.ndarray) -> np.ndarray:
    """popularity - |other| for each other predictor (coefficients in PREDICTORS order)."""
    return np.array([b[0] - abs(b[i]) for i in range(1, len(PREDICTORS))])


def _pct(v: np.ndarray) -> list[float | None]:
    v = v[np.isfinite(v)]
    if v.size < 10:
        return [None, None]
    lo, hi = np.quantile(v, [0.025, 0.975])
    return [float(lo), float(hi)]


def rank_regression(y: np.ndarray, X: np.ndarray, n_boot: int, seed: int) -> dict[str, Any]:
    """Standardised rank coefficients, popularity - |other| differences and their bootstrap CIs."""
    b = _rank_coefs(y, X)
    d = _diffs(b)
    rng = np.random.default_rng(seed)
    bb = np.empty((n_boot, len(b)))
    for i in range(n_boot):
        idx = rng.integers(0, len(y), len(y))
        with np.errstate(invalid="ignore", divide="ignore"):
            bb[i] = _rank_coefs(y[idx], X[idx])
    dd = np.array([_diffs(r) for r in bb]) if n_boot else np.empty((0, len(d)))
    return {
        "coefficients": {
            k: {"estimate": float(b[i]), "ci": _pct(bb[:, i]) if n_boot else [None, None]}
            for i, k in enumerate(PREDICTORS)
        },
        "differences": {
            k: {"estimate": float(d[i]), "ci": _pct(dd[:, i]) if n_boot else [None, None]} for i, k in enumerate(OTHERS)
        },
    }


MIN_ALPHA = 0.01  # NB2 overdispersion below this is Poisson for all purposes (and NB2's Hessian gets very slow)


def nb2(y: np.ndarray, Z: np.ndarray) -> dict[str, Any]:
    """NB2 count model on z-scored predictors: coefficients and popularity - other with Wald 95% CIs.

    Counts without overdispersion (Nelder-Mead's alpha below MIN_ALPHA) get a
    Poisson model with robust (HC0) errors instead, and say so in ``model``.
    """
    import statsmodels.api as sm

    X = sm.add_constant(Z, has_constant="add")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = sm.NegativeBinomial(y, X)
            # Newton from statsmodels' own start values diverges on heavy-tailed counts: start from Nelder-Mead
            start = model.fit(disp=0, maxiter=5000, method="nm").params
            if start[-1] < MIN_ALPHA:
                fit = sm.GLM(y, X, family=sm.families.Poisson()).fit(cov_type="HC0")
                kind, converged = "poisson", bool(getattr(fit, "converged", True))
            else:
                fit = model.fit(disp=0, maxiter=200, method="newton", start_params=start)
                kind, converged = "nb2", bool(fit.mle_retvals.get("converged", True))
        params, cov = np.asarray(fit.params), np.asarray(fit.cov_params())
    except Exception as exc:  # a count model that does not converge is reported, not raised
        return {"converged": False, "error": f"{type(exc).__name__}: {exc}"}
    k = len(PREDICTORS) + 1
    if not np.all(np.isfinite(params[:k])) or not np.all(np.isfinite(np.diag(cov)[:k])):
        return {"converged": False, "model": kind, "error": "non-finite estimates"}
    z = 1.959963984540054
    coefs = {}
    for i, name in enumerate(PREDICTORS, start=1):
        se = float(np.sqrt(cov[i, i]))
        coefs[name] = {"estimate": float(params[i]), "ci": [float(params[i] - z * se), float(params[i] + z * se)]}
    diffs = {}
    for i, name in enumerate(OTHERS, start=2):
        est = float(params[1] - params[i])
        se = float(np.sqrt(max(0.0, cov[1, 1] + cov[i, i] - 2 * cov[1, i])))
        diffs[name] = {"estimate": est, "ci": [est - z * se, est + z * se]}
    alpha = float(params[-1]) if kind == "nb2" else 0.0
    return {"converged": converged, "model": kind, "alpha": alpha, "coefficients": coefs, "differences": diffs}


def _verdict(diffs: dict[str, dict[str, Any]]) -> str:
    cis = [v["ci"] for v in diffs.values()]
    if any(c[0] is None or c[1] is None for c in cis):
        return "open"
    if all(c[0] > 0 for c in cis):
        return "popularity exceeds both"
    if any(c[1] < 0 for c in cis):
        return "another exceeds popularity"
    return "open"


def reuse(
    backend: Any,
    *,
    snapshot_id: Any = None,
    commits_until: str = DEFAULTS.commits_until,
    min_nonzero: int = DEFAULTS.min_nonzero,
    n_boot: int = DEFAULTS.n_boot,
    seed: int = DEFAULTS.seed,
) -> ReuseResult:
    """Reuse regressed on popularity, maintenance and quality (module docstring)."""
    from scipy.stats import spearmanr

    sel = as_selection(snapshot_id)
    csnap = pick(backend, "hf", sel, table="commits", columns=("committed_at",), what=NAME).snapshot
    aliases = alias_map(backend, "hf")
    commits = commits_of(backend, csnap.snapshot_id, aliases)
    repos = commits.select("package_id").distinct()
    hub = [s for s in resolve(backend, "hf", sel) if s.snapshot_id != csnap.snapshot_id]
    try:
        cs = backend.table("card_scores")
    except Exception as exc:  # no card scores: quality cannot be measured
        raise NotMeasurable(f"{NAME}: no card scores in the store (quality); run `ptmscope cards score`") from exc
    p = canonical_packages(backend, [s.snapshot_id for s in hub], aliases).filter(ibis._.downloads.notnull())
    p = p.semi_join(repos, p.package_id == repos.package_id)
    scored = cs.filter(cs.scored).select(s_sid=cs.snapshot_id, s_pid=cs.package_id).distinct()
    p = p.semi_join(scored, (p.snapshot_id == scored.s_sid) & (p.raw_package_id == scored.s_pid))
    got = best_snapshot(backend, hub, p.select("snapshot_id", "package_id"))
    if got is None or got[1] < MIN_MODELS:
        raise NotMeasurable(
            f"{NAME}: no complete hf snapshot has {MIN_MODELS} models with downloads, card scores and commits in "
            f"{csnap.snapshot_id}"
        )
    base, n_cand = got
    dep_sid: str | None = None
    if hub:
        dep = backend.table("dependents")
        dc = (
            dep.filter(dep.snapshot_id.isin([s.snapshot_id for s in hub]))
            .group_by("snapshot_id")
            .aggregate(n=ibis._.count())
        )
        dcd = dc.order_by([ibis.desc("n"), ibis.desc("snapshot_id")]).limit(1).execute()
        dep_sid = str(dcd["snapshot_id"].iloc[0]) if len(dcd) else None
    df = _model_rows(backend, base, repos, commits, dep_sid, aliases, commits_until)
    n_all = len(df)
    df = df[df["quality"].notna()].reset_index(drop=True)
    if len(df) < MIN_MODELS:
        raise NotMeasurable(f"{NAME}: only {len(df)} models of {base.snapshot_id} have all measures")
    import pandas as pd

    end = pd.Timestamp(dt.datetime.combine(base.taken_at, dt.time(23, 59, 59)), tz="UTC")
    changed = pd.to_datetime(df["last_modified"], utc=True).fillna(pd.to_datetime(df["last_commit"], utc=True))
    days = ((end - changed).dt.total_seconds() / 86400.0).clip(lower=0)
    n_commits = df["n_commits"].fillna(0).astype(float).to_numpy()
    raw = {
        "popularity": df["downloads"].astype(float).to_numpy(),
        "commits": n_commits,
        "recency": -days.fillna(days.max()).to_numpy(dtype=float),
        "quality": df["quality"].astype(float).to_numpy(),
    }
    X = np.column_stack([raw[k] for k in PREDICTORS])
    logged = np.column_stack(
        [np.log1p(raw["popularity"]), np.log1p(raw["commits"]), -np.log1p(-raw["recency"]), raw["quality"]]
    )
    sd = logged.std(axis=0)
    Z = (logged - logged.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    notes: list[str] = []
    outcomes = []
    for name in OUTCOMES:
        col = df[name]
        if name == "github_dependents" and dep_sid is None:
            outcomes.append({"outcome": name, "analysed": False, "why_not": "no dependents table in the selection"})
            continue
        y = col.fillna(0).astype(float).to_numpy()
        nz = int((y > 0).sum())
        row: dict[str, Any] = {"outcome": name, "n": len(y), "n_nonzero": nz, "sum": int(y.sum())}
        if nz < min_nonzero:
            outcomes.append(
                {**row, "analysed": False, "why_not": f"{nz} models with {name} > 0 ({min_nonzero} needed)"}
            )
            continue
        rr = rank_regression(y, X, n_boot, seed)
        row.update(
            analysed=True,
            spearman={k: float(spearmanr(X[:, i], y)[0]) for i, k in enumerate(PREDICTORS)},
            rank_regression=rr,
            nb2=nb2(y, Z),
            verdict=_verdict(rr["differences"]),
        )
        outcomes.append(row)
    if weight_file_only(csnap):
        notes.append(WEIGHT_FILE_BIAS)
    notes.append(
        f"ids joined across {base.snapshot_id} (base), {csnap.snapshot_id} (commits)"
        + (f" and {dep_sid} (dependents)" if dep_sid else "")
        + " through the Hub rename aliases"
    )
    if dep_sid:
        notes.append(
            "GitHub dependents: models the GitHub mapping does not name count as 0 (no downstream repository found), "
            "and the mapping is of another date than the base snapshot"
        )
    descr = []
    for k, v in {**raw, **{o: df[o].fillna(0).astype(float).to_numpy() for o in OUTCOMES}}.items():
        descr.append(
            {
                "variable": k,
                "median": float(np.median(v)),
                "mean": float(np.mean(v)),
                "share_positive": float((v > 0).mean()),
            }
        )
    n_links = int(df["github_dependents"].fillna(0).sum()) if dep_sid else 0
    rests = [
        {
            "snapshot_id": base.snapshot_id,
            "what": "models with downloads, documentation scores and commits",
            "n": len(df),
        },
        {
            "snapshot_id": csnap.snapshot_id,
            "what": "commits of those models" + (" up to the base date" if commits_until == "snapshot" else ""),
            "n": int(n_commits.sum()),
        },
    ]
    if dep_sid:
        rests.append({"snapshot_id": dep_sid, "what": "links from GitHub repositories to them", "n": n_links})
    return ReuseResult(
        metric=NAME,
        snapshot_id=base.snapshot_id,
        taken_at=base.taken_at.isoformat(),
        synthetic=base.synthetic,
        commits_snapshot_id=csnap.snapshot_id,
        dependents_snapshot_id=dep_sid,
        commits_until=commits_until,
        weight_file_only=weight_file_only(csnap),
        n_base_candidates=n_cand,
        n_models=len(df),
        n_dropped_no_score=n_all - len(df),
        predictors={
            "popularity": f"downloads in {base.snapshot_id}",
            "commits": "commits in the commit log"
            + (f" up to {base.taken_at.isoformat()}" if commits_until == "snapshot" else " (all)"),
            "recency": f"minus days from the last change (last_modified, else last commit) to {base.taken_at}",
            "quality": "documentation score (C3: card completeness and metadata, 0-1)",
        },
        descriptives=descr,
        outcomes=outcomes,
        notes=notes,
        n_boot=n_boot,
        rests_on=rests,
        caption_note="Maintenance from weight-file commits only" if weight_file_only(csnap) else None,
    )


def summarise(res: ReuseResult, p: ReuseParams) -> dict[str, Any]:
    """Outcomes analysed, and how many show popularity ahead of both others (or another ahead of it)."""
    analysed = [o for o in res.outcomes if o.get("analysed")]
    sup = sum(1 for o in analysed if o["verdict"] == "popularity exceeds both")
    ref = sum(1 for o in analysed if o["verdict"] == "another exceeds popularity")
    return {
        "n_models": res.n_models,
        "n_outcomes_analysed": len(analysed),
        "n_outcomes_supported": sup,
        "n_outcomes_refuted": ref,
        "n_outcomes_open": len(analysed) - sup,
    }


def _compute(ctx: Context, p: ReuseParams) -> ReuseResult:
    return reuse(
        ctx.backend,
        snapshot_id=ctx.selection,
        commits_until=p.commits_until,
        min_nonzero=p.min_nonzero,
        n_boot=p.n_boot,
        seed=p.seed,
    )


def _figure(result: ReuseResult, p: ReuseParams) -> Any:
    from ..figures.reuse_drivers import reuse_figure

    return reuse_figure(result)


def _tables(data: dict[str, Any]) -> list[ReportTable]:
    rows = []
    for o in data.get("outcomes", []):
        if not o.get("analysed"):
            rows.append([o["outcome"], None, None, None, None, None, o.get("why_not", "")])
            continue
        rr, nb = o["rank_regression"], o["nb2"]
        for k in PREDICTORS:
            c = rr["coefficients"][k]
            nbc = nb.get("coefficients", {}).get(k, {}) if nb.get("converged") else {}
            d = rr["differences"].get(k)
            rows.append(
                [
                    o["outcome"],
                    k,
                    c["estimate"],
                    c["ci"],
                    d["ci"] if d else None,
                    nbc.get("estimate"),
                    o["verdict"] if k == "popularity" else "",
                ]
            )
    return [
        ReportTable(
            "Standardised rank coefficients (95% bootstrap CI), CI of popularity - |predictor|, NB2 coefficient",
            ("outcome", "predictor", "rank coef.", "95% CI", "popularity - |this| CI", "NB2 coef.", "verdict"),
            rows,
        ),
        ReportTable(
            "Data this rests on",
            ("snapshot", "what", "n"),
            [[r["snapshot_id"], r["what"], r["n"]] for r in data.get("rests_on", [])],
        ),
        ReportTable(
            "Variables of the models analysed",
            ("variable", "median", "mean", "share > 0"),
            [[d["variable"], d["median"], d["mean"], d["share_positive"]] for d in data.get("descriptives", [])],
        ),
    ]


METRIC = register(
    Metric(
        name=NAME,
        title="Reuse vs popularity, maintenance and quality (standardised rank regression)",
        params=ReuseParams,
        compute=_compute,
        summarise=summarise,
        figure=_figure,
        tables=_tables,
        key_numbers=(
            ("snapshot_id", "base snapshot"),
            ("commits_snapshot_id", "commit snapshot"),
            ("dependents_snapshot_id", "dependents snapshot"),
            ("n_models", "models with all three measures"),
            (
                "outcomes[outcome=direct_descendants].rank_regression.coefficients.popularity.estimate",
                "direct descendants: popularity",
            ),
            (
                "outcomes[outcome=direct_descendants].rank_regression.coefficients.commits.estimate",
                "direct descendants: commits",
            ),
            (
                "outcomes[outcome=direct_descendants].rank_regression.coefficients.recency.estimate",
                "direct descendants: recency",
            ),
            (
                "outcomes[outcome=direct_descendants].rank_regression.coefficients.quality.estimate",
                "direct descendants: quality",
            ),
            (
                "outcomes[outcome=github_dependents].rank_regression.coefficients.popularity.estimate",
                "GitHub dependents: popularity",
            ),
            (
                "outcomes[outcome=github_dependents].rank_regression.coefficients.commits.estimate",
                "GitHub dependents: commits",
            ),
            (
                "outcomes[outcome=github_dependents].rank_regression.coefficients.recency.estimate",
                "GitHub dependents: recency",
            ),
            (
                "outcomes[outcome=github_dependents].rank_regression.coefficients.quality.estimate",
                "GitHub dependents: quality",
            ),
            ("summary.n_outcomes_supported", "outcomes where popularity exceeds both"),
            ("summary.n_outcomes_refuted", "outcomes where another exceeds popularity"),
        ),
        caveats=(
            "associations, not causes: reuse also makes a model popular (downloads by its descendants' users);",
            "maintenance from a commit log that may be a selection of commits (see the notes);",
            "the three measures come from different snapshots joined on ids (see the notes).",
        ),
        needs="a Hub snapshot with downloads and card scores, a commit log of its models, and lineage or dependents",
    )
)
