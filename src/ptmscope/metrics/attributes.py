"""DL-specific attributes vs popularity (claim C4): a regression of log
downloads on model attributes.

Model (OLS, heteroskedasticity-robust HC3 standard errors)::

    log1p(downloads) ~ C(task) + C(library) + has_license + has_paper
                       + has_base_model + has_card + log1p(card_chars)

* ``task``: the Hub pipeline tag, the ``top_levels`` most common kept, the
  rest pooled as ``other``, missing as ``none``; reference = most common.
* ``library``: the package's library (``library_name`` origin preferred,
  else the alphabetically first), pooled the same way.
* ``has_paper``: a tag ``arxiv:...``; ``has_base_model``: a lineage row for the
  model in the snapshot or a ``base_model:...`` tag; ``has_license``: licence
  known; ``card_chars``: card length in characters (0 without a card).

Reported: every coefficient with its 95% CI and p-value, n, R² and adjusted
R², a Wald test per block (task, library, each binary attribute) with Holm
adjustment, and the *partial R²* of the DL-specific blocks (task + library):
R² of the full model minus R² of the model without them.  The paper did not
measure C4; this is ptmscope's operationalisation.  Features are built as
Ibis expressions; only the per-model design matrix is pulled (one row per
model: for multi-million-row snapshots pass ``sample`` to fit on a seeded
random subset).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import ibis
import numpy as np
from pydantic import Field

from .. import stats
from ..errors import NotMeasurable
from ..snapshots import Selection, as_selection, pick
from .registry import Context, Metric, Params, ReportTable, register

NAME = "attributes"


class AttributesParams(Params):
    top_levels: int = Field(8, ge=1, description="Most common tasks and libraries kept as levels; the rest pooled.")
    sample: int | None = Field(None, ge=30, description="Fit on a seeded random sample of this many models.")
    seed: int = Field(0, description="Seed of the sample.")


DEFAULTS = AttributesParams()

DL_BLOCKS = ("task", "library")
BINARY = ("has_license", "has_paper", "has_base_model", "has_card")


@dataclass(frozen=True)
class AttributesResult:
    metric: str
    snapshot_id: str
    taken_at: str
    synthetic: bool
    n: int
    n_dropped_null_downloads: int
    sample: int | None
    formula: str
    covariance: str
    r2: float
    r2_adj: float
    r2_without_dl: float
    dl_partial_r2: float
    coefficients: list[dict[str, Any]]  # term, estimate, ci_low, ci_high, p
    blocks: dict[str, dict[str, float]]  # block -> {df, F, p, p_holm}
    dl_min_p_holm: float
    levels: dict[str, list[str]]  # kept levels per categorical (first = reference)
    shares: dict[str, float]  # share of models with each binary attribute

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def design_table(backend: Any, sid: str) -> ibis.Table:
    """One row per model of snapshot ``sid`` with the regression's raw features."""
    p = backend.table("packages")
    p = p.filter(p.snapshot_id == sid)
    pl = backend.table("package_libraries")
    pl = pl.filter((pl.snapshot_id == sid) & pl.library.notnull())
    # prefer the library_name origin; ties broken alphabetically
    pl = pl.mutate(pref=ibis.ifelse(pl.origin == "library_name", 0, 1), lib=pl.library.lower())
    best = pl.group_by("package_id").aggregate(pref=pl.pref.min())
    lib = pl.inner_join(best, ["package_id", "pref"]).group_by("package_id").aggregate(library=ibis._.lib.min())
    lin = backend.table("lineage")
    lin = lin.filter(lin.snapshot_id == sid).group_by(pkg=lin.child).aggregate(n_parents=ibis._.count())
    c = backend.table("cards")
    c = c.filter((c.snapshot_id == sid) & (c.missing == False) & c.text.notnull())  # noqa: E712
    c = c.group_by("package_id").aggregate(card_chars=c.text.length().max())
    tags = "|" + p.tags.join("|").fill_null("")
    base = p.select(
        "package_id",
        "downloads",
        task=p.task,
        has_license=p.license.notnull() & (p.license != ""),
        has_paper=tags.contains("|arxiv:"),
        base_tag=tags.contains("|base_model:"),
    )
    j = base.left_join(lib, "package_id").select(base, lib.library)
    j = j.left_join(lin, j.package_id == lin.pkg).select(j, has_lineage=lin.n_parents.notnull())
    j = j.left_join(c, "package_id").select(j, card_chars=c.card_chars)
    return j.select(
        "package_id",
        "downloads",
        "task",
        "library",
        "has_license",
        "has_paper",
        has_base_model=j.base_tag | j.has_lineage,
        has_card=j.card_chars.notnull(),
        card_chars=j.card_chars.fill_null(0),
    )


def _richest_snapshot(backend: Any, selection: Selection) -> Any:
    """The hf snapshot with most models having both downloads and a library (the
    attributes the regression needs); falls back to most models with downloads."""
    p = backend.table("packages")
    p = p.filter(p.downloads.notnull())
    pl = backend.table("package_libraries").select("snapshot_id", "package_id").distinct()
    rich = p.semi_join(pl, ["snapshot_id", "package_id"]).select("snapshot_id")
    try:
        return pick(
            backend,
            "hf",
            selection,
            rows=rich,
            min_rows=30,
            what=NAME,
            rows_meaning="models with downloads and a library",
        )
    except NotMeasurable:
        return pick(backend, "hf", selection, columns=("downloads",), min_rows=30, what=NAME)


def _pool(values: Any, top: int) -> tuple[Any, list[str]]:
    v = values.fillna("none").astype(str)
    counts = v[v != "none"].value_counts()
    counts = counts.sort_index(kind="stable").sort_values(ascending=False, kind="stable")
    keep = list(counts.index[:top])
    pooled = v.where(v.isin(keep) | (v == "none"), "other")
    order = list(pooled.value_counts().sort_index(kind="stable").sort_values(ascending=False, kind="stable").index)
    return pooled, order


def attributes(
    backend: Any,
    *,
    snapshot_id: str | Selection | None = None,
    top_levels: int = DEFAULTS.top_levels,
    sample: int | None = DEFAULTS.sample,
    seed: int = DEFAULTS.seed,
) -> AttributesResult:
    """The regression of log downloads on model attributes (module docstring)."""
    import pandas as pd
    from statsmodels.regression.linear_model import OLS  # not statsmodels.api: it imports all of statsmodels

    chosen = _richest_snapshot(backend, as_selection(snapshot_id))
    t = design_table(backend, chosen.snapshot_id)
    n_null = int(t.filter(t.downloads.isnull()).count().execute())
    t = t.filter(t.downloads.notnull())
    df = t.order_by("package_id").execute()
    if sample is not None and len(df) > sample:
        df = df.sample(n=sample, random_state=seed).sort_values("package_id")
    df = df.reset_index(drop=True)
    if len(df) < 30:
        raise NotMeasurable(f"{NAME}: only {len(df)} models with downloads in {chosen.snapshot_id}")
    y = np.log1p(df["downloads"].astype(float).to_numpy())
    # The design matrix is built by hand (no formula strings): level names come
    # from the data and must never reach an expression evaluator.
    cols: dict[str, np.ndarray] = {"Intercept": np.ones(len(df))}
    block_cols: dict[str, list[str]] = {}
    levels: dict[str, list[str]] = {}
    for col in DL_BLOCKS:
        pooled, order = _pool(df[col], top_levels)
        levels[col] = order
        names = []
        for lev in order[1:]:  # order[0] is the reference level
            name = f"{col}[{lev}]"
            cols[name] = (pooled == lev).to_numpy(dtype=float)
            names.append(name)
        if names:
            block_cols[col] = names
    shares = {}
    for col in BINARY:
        v = df[col].fillna(False).astype(bool).to_numpy(dtype=float)
        shares[col] = float(v.mean())
        if 0 < v.sum() < len(v):
            cols[col] = v
            block_cols[col] = [col]
    lc = np.log1p(df["card_chars"].astype(float).to_numpy())
    if np.ptp(lc) > 0:
        cols["log_card_chars"] = lc
        block_cols["log_card_chars"] = ["log_card_chars"]
    if len(cols) == 1:
        raise NotMeasurable(f"{NAME}: no attribute varies across models")
    X = pd.DataFrame(cols)
    fit = OLS(y, X).fit(cov_type="HC3")
    other = [c for b, cs in block_cols.items() if b not in DL_BLOCKS for c in cs]
    has_dl = any(b in block_cols for b in DL_BLOCKS)
    r2_wo = float(OLS(y, X[["Intercept", *other]]).fit().rsquared) if has_dl else float(fit.rsquared)
    ci = fit.conf_int(0.05)
    coefs = [
        {
            "term": str(name),
            "estimate": float(fit.params[name]),
            "ci_low": float(ci.loc[name, 0]),
            "ci_high": float(ci.loc[name, 1]),
            "p": float(fit.pvalues[name]),
        }
        for name in X.columns
    ]
    names_all = list(X.columns)
    blocks: dict[str, dict[str, float]] = {}
    for key, bcols in block_cols.items():
        R = np.zeros((len(bcols), len(names_all)))
        for r, c in enumerate(bcols):
            R[r, names_all.index(c)] = 1.0
        w = fit.wald_test(R, use_f=True, scalar=True)
        blocks[key] = {"df": len(bcols), "F": float(np.squeeze(w.statistic)), "p": float(w.pvalue)}
    formula = "log1p(downloads) ~ " + " + ".join(
        [f"C({b})" for b in DL_BLOCKS if b in block_cols] + [b for b in block_cols if b not in DL_BLOCKS]
    )
    keys = sorted(blocks)
    adj = stats.holm([blocks[k]["p"] for k in keys])
    for k, a in zip(keys, adj, strict=False):
        blocks[k]["p_holm"] = float(a)
    dl_p = [blocks[k]["p_holm"] for k in DL_BLOCKS if k in blocks]
    return AttributesResult(
        metric=NAME,
        snapshot_id=chosen.snapshot_id,
        taken_at=chosen.taken_at.isoformat(),
        synthetic=chosen.synthetic,
        n=int(fit.nobs),
        n_dropped_null_downloads=n_null,
        sample=sample,
        formula=formula,
        covariance="HC3",
        r2=float(fit.rsquared),
        r2_adj=float(fit.rsquared_adj),
        r2_without_dl=r2_wo,
        dl_partial_r2=float(fit.rsquared) - r2_wo,
        coefficients=coefs,
        blocks=blocks,
        dl_min_p_holm=min(dl_p) if dl_p else float("nan"),
        levels=levels,
        shares=shares,
    )


def _compute(ctx: Context, p: AttributesParams) -> AttributesResult:
    return attributes(ctx.backend, snapshot_id=ctx.selection, top_levels=p.top_levels, sample=p.sample, seed=p.seed)


def _figure(result: AttributesResult, p: AttributesParams) -> Any:
    from ..figures.attributes import attributes_figure

    return attributes_figure(result)


def _tables(data: dict[str, Any]) -> list[ReportTable]:
    return [
        ReportTable(
            "Coefficients (OLS, HC3)",
            ("term", "estimate", "95% CI", "p"),
            [[c["term"], c["estimate"], [c["ci_low"], c["ci_high"]], c["p"]] for c in data.get("coefficients", [])],
        ),
        ReportTable(
            "Block tests (Wald F, Holm-adjusted)",
            ("block", "df", "F", "p", "p (Holm)"),
            [
                [k, v.get("df"), v.get("F"), v.get("p"), v.get("p_holm")]
                for k, v in sorted(data.get("blocks", {}).items())
            ],
        ),
    ]


METRIC = register(
    Metric(
        name=NAME,
        title="DL-specific attributes vs popularity (regression)",
        params=AttributesParams,
        compute=_compute,
        figure=_figure,
        tables=_tables,
        key_numbers=(
            ("snapshot_id", "snapshot"),
            ("n", "models"),
            ("formula", "model"),
            ("levels.task.0", "reference task (most common)"),
            ("levels.library.0", "reference library (most common)"),
            ("r2", "R²"),
            ("r2_adj", "adjusted R²"),
            ("dl_partial_r2", "partial R² of task + library"),
            ("dl_min_p_holm", "smallest Holm p of the DL blocks"),
        ),
        needs="downloads, tasks, libraries, tags, lineage and cards of one Hub snapshot",
    )
)
