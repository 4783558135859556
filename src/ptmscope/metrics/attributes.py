"""DL-specific attributes vs popularity (T3.5; Table 4's C4, hypothesis H5).

Table 4: "Popular architectures, high performance, description of where the
PTM came from, ease of use, and size all impact model popularity."  One OLS
regression of ``log1p(downloads)`` (HC3 standard errors) on the five
attributes Table 4 names, each a *block* of terms, next to generic controls:

==============  =============================================================
block           terms (one row per model of the snapshot)
==============  =============================================================
controls        ``C(task)``, ``C(library)`` (the ``top_levels`` most common
                kept, the rest pooled as ``other``, missing as ``none``),
                ``has_license``, ``has_card`` and, when size is measured,
                ``size_unknown`` (no parameter count / weight bytes)
architecture    ``C(model_type)`` (``config.model_type``), pooled the same way
performance     ``reports_results``: the card's YAML front matter has a
                ``model-index`` with at least one metric ``value``
provenance      ``declares_base_model`` (a lineage row, a ``base_model:`` tag
                or a ``base_model`` YAML key), ``declares_datasets`` (a
                ``dataset:`` tag or a ``datasets`` YAML key), ``links_paper``
                (an ``arxiv:`` tag)
ease_of_use     ``how_to_use``: the card has a how-to-use section (the rules
                scorer's item; stored ``card_scores``, else scored here)
size            ``log10_size``: log10 of the parameter count
                (``packages.parameters``), else of the summed weight-file bytes
                (``package_files.size_bytes``), centred, 0 where unknown
==============  =============================================================

Categorical levels are contrasts against the most common named level.  Per
Table 4 block: a Wald test (HC3) with Holm adjustment over the measured
blocks, the *unique incremental R²* (R² of the full model minus R² without
the block) with a percentile-bootstrap CI (models resampled), Cohen's
``f² = ΔR² / (1 - R²)`` with its CI, and the sequential ΔR² when the blocks
enter in Table 4's order after the controls.  A block *impacts* popularity
when its Holm p < 0.05 and f² >= ``small_f2`` (Cohen's "small", 0.02); it is
*negligible* when the upper end of f²'s CI is below ``small_f2``.  A block
whose data the snapshot lacks (no ``model_type``, no cards, no sizes) is not
measured and says why.

Snapshot: among the selected Hub snapshots with at least 30 download counts,
the one where most of the five blocks can be measured, then the one with
most download counts.  Features are Ibis expressions; only the per-model
design rows are pulled (``sample`` fits a seeded random subset).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import ibis
import numpy as np
from pydantic import Field

from .. import stats
from ..errors import NotMeasurable
from ..snapshots import Chosen, Selection, as_selection, pick, resolve, usable_counts
from .registry import Context, Metric, Params, ReportTable, register

NAME = "attributes"

BLOCKS = ("architecture", "performance", "provenance", "ease_of_use", "size")  # Table 4's order
BLOCK_LABELS = {
    "architecture": "architecture (model_type)",
    "performance": "performance (model-index results)",
    "provenance": "provenance (base model, datasets, paper)",
    "ease_of_use": "ease of use (how-to-use section)",
    "size": "size",
}
BINARY_BLOCKS = {
    "performance": ("reports_results",),
    "provenance": ("declares_base_model", "declares_datasets", "links_paper"),
    "ease_of_use": ("how_to_use",),
}
CONTROL_BINARY = ("has_license", "has_card")
MIN_MODELS = 30
WEIGHT_SUFFIXES = (".bin", ".safetensors", ".pt", ".pth", ".ckpt", ".h5", ".msgpack", ".gguf", ".onnx", ".pb")

# YAML front matter of a card and the keys read from it (RE2 syntax: DuckDB and Spark)
_FRONT_MATTER = r"(?s)^\s*---[ \t]*\r?\n(.*?)\r?\n---"
_NONEMPTY = r"[ \t]*(?:[^\s\[#]|\[[ \t]*[^\s\]]|\r?\n[ \t]*-[ \t]*\S)"
RESULTS_RE = r"(?ms)^model-index:.*\bvalue:[ \t]*\S"
DATASETS_RE = r"(?m)^datasets:" + _NONEMPTY
BASE_MODEL_RE = r"(?m)^base_model:" + _NONEMPTY


class AttributesParams(Params):
    top_levels: int = Field(8, ge=1, description="Most common tasks, libraries and model types kept as levels.")
    min_group: int = Field(
        30,
        ge=2,
        description="Models needed on each side of a yes/no attribute, with a known size, or with a model type.",
    )
    small_f2: float = Field(
        0.02, gt=0, description="Cohen's f² of a block counted as an impact (0.02 = Cohen's 'small')."
    )
    n_boot: int = Field(200, ge=0, description="Bootstrap resamples (models) for the incremental-R² CIs; 0 = none.")
    sample: int | None = Field(None, ge=30, description="Fit on a seeded random sample of this many models.")
    seed: int = Field(0, description="Seed of the sample and the bootstrap.")


DEFAULTS = AttributesParams()


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
    r2_controls: float
    dl_partial_r2: float  # R² added by the measured Table 4 blocks together
    dl_partial_r2_ci: list[float | None]
    dl_min_p_holm: float | None
    blocks_measured: int
    blocks_impact: int
    blocks_negligible: int
    small_f2: float
    table4_blocks: list[dict[str, Any]]  # one per Table 4 block, measured or not
    coefficients: list[dict[str, Any]]  # term, block, estimate, ci_low, ci_high, p, ratio, ratio_ci
    blocks: dict[str, dict[str, float]]  # every block incl. controls -> {df, F, p[, p_holm]}
    levels: dict[str, list[str]]  # kept levels per categorical (first = reference)
    shares: dict[str, float]  # share of models with each binary attribute
    size_measure: str | None  # "parameters", "weight_bytes" or None
    size_known: int
    size_by_snapshot: list[dict[str, Any]]  # per hf snapshot: models with parameters / weight bytes
    how_to_use_from: str  # "stored card_scores (KEY)" or "rules scorer, scored here"
    n_boot: int
    choice: list[dict[str, Any]]  # the candidate snapshots and how many blocks each could measure
    notes: list[str]
    rests_on: list[dict[str, Any]]  # snapshot, what, n: the data the result rests on
    caption_note: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---------------------------------------------------------------------------
# Features (Ibis)
# ---------------------------------------------------------------------------


def _library(backend: Any, sid: str) -> ibis.Table:
    pl = backend.table("package_libraries")
    pl = pl.filter((pl.snapshot_id == sid) & pl.library.notnull())
    pl = pl.mutate(pref=ibis.ifelse(pl.origin == "library_name", 0, 1), lib=pl.library.lower())
    best = pl.group_by("package_id").aggregate(pref=pl.pref.min())
    return pl.inner_join(best, ["package_id", "pref"]).group_by("package_id").aggregate(library=ibis._.lib.min())


def _card_features(backend: Any, sid: str) -> ibis.Table:
    c = backend.table("cards")
    c = c.filter((c.snapshot_id == sid) & (c.missing == False) & c.text.notnull())  # noqa: E712
    fm = c.text.re_extract(_FRONT_MATTER, 1)
    c = c.select(
        "package_id",
        results=fm.re_search(RESULTS_RE),
        datasets=fm.re_search(DATASETS_RE),
        base=fm.re_search(BASE_MODEL_RE),
    )
    return c.group_by("package_id").aggregate(
        card_results=c.results.any(), card_datasets=c.datasets.any(), card_base=c.base.any()
    )


def _weight_bytes(backend: Any, sids: list[str]) -> ibis.Table:
    f = backend.table("package_files")
    path = f.path.lower()
    is_weight = ibis.or_(*[path.endswith(s) for s in WEIGHT_SUFFIXES])
    f = f.filter(f.snapshot_id.isin(sids) & f.size_bytes.notnull() & is_weight)
    return f.group_by(["snapshot_id", "package_id"]).aggregate(weight_bytes=f.size_bytes.sum())


def design_table(backend: Any, sid: str) -> ibis.Table:
    """One row per model of snapshot ``sid`` with the regression's raw features (not ``how_to_use``)."""
    p = backend.table("packages")
    p = p.filter(p.snapshot_id == sid)
    lin = backend.table("lineage")
    lin = lin.filter(lin.snapshot_id == sid).group_by(pkg=lin.child).aggregate(n_parents=ibis._.count())
    cards = backend.table("cards")
    has_card = (
        cards.filter((cards.snapshot_id == sid) & (cards.missing == False) & cards.text.notnull())  # noqa: E712
        .select(card_pid="package_id")
        .distinct()
    )
    cf = _card_features(backend, sid)
    wb = _weight_bytes(backend, [sid]).drop("snapshot_id")
    lib = _library(backend, sid)
    tags = "|" + p.tags.join("|").fill_null("")
    base = p.select(
        "package_id",
        "downloads",
        "task",
        "model_type",
        "parameters",
        has_license=p.license.notnull() & (p.license != ""),
        tag_paper=tags.contains("|arxiv:"),
        tag_base=tags.contains("|base_model:"),
        tag_dataset=tags.contains("|dataset:"),
    )
    j = base.left_join(lib, "package_id").select(base, lib.library)
    j = j.left_join(lin, j.package_id == lin.pkg).select(j, has_lineage=lin.n_parents.notnull())
    j = j.left_join(has_card, j.package_id == has_card.card_pid).select(j, has_card=has_card.card_pid.notnull())
    j = j.left_join(cf, "package_id").select(j, cf.card_results, cf.card_datasets, cf.card_base)
    j = j.left_join(wb, "package_id").select(j, wb.weight_bytes)
    return j.select(
        "package_id",
        "downloads",
        "task",
        "library",
        "model_type",
        "has_license",
        "has_card",
        "parameters",
        "weight_bytes",
        reports_results=j.card_results.fill_null(False),
        declares_base_model=j.has_lineage | j.tag_base | j.card_base.fill_null(False),
        declares_datasets=j.tag_dataset | j.card_datasets.fill_null(False),
        links_paper=j.tag_paper,
    )


def how_to_use_table(backend: Any, sid: str) -> tuple[Any, str]:
    """(package_id, how_to_use) of the snapshot's cards: stored rules-scorer scores, else scored now."""
    import pandas as pd

    keys: list[str] = []
    try:
        cs = backend.table("card_scores")
    except Exception:  # no card_scores table in this store
        cs = None
    if cs is not None:
        got = cs.filter((cs.snapshot_id == sid) & cs.scorer_key.startswith("rules-")).select("scorer_key").distinct()
        keys = sorted(str(k) for k in got.execute()["scorer_key"])
    if cs is not None and keys:
        key = keys[-1]
        t = cs.filter((cs.snapshot_id == sid) & (cs.scorer_key == key))
        t = t.group_by("package_id").aggregate(how_to_use=(t.scored & t.how_to_use.fill_null(False)).any())
        return t, f"stored card_scores ({key})"
    from ..cards import get_scorer

    sc = get_scorer("rules")
    c = backend.table("cards")
    c = c.filter((c.snapshot_id == sid) & (c.missing == False) & c.text.notnull())  # noqa: E712
    df = c.select("package_id", "text").distinct().order_by("package_id").execute()
    scores = sc.score_many(list(df["text"]))
    has = [bool(s.scored and s.has("how_to_use")) for s in scores]
    frame = pd.DataFrame({"package_id": df["package_id"].astype(str), "how_to_use": has})
    frame = frame.groupby("package_id", as_index=False)["how_to_use"].any()
    return ibis.memtable(frame, schema={"package_id": "string", "how_to_use": "boolean"}), (
        f"{sc.key} scorer, scored here (no stored card scores for this snapshot)"
    )


# ---------------------------------------------------------------------------
# Choosing the snapshot
# ---------------------------------------------------------------------------


def _measurable(counts: dict[str, int], min_group: int) -> dict[str, bool]:
    """Which Table 4 blocks a snapshot's data can measure (ease of use: enough cards to score)."""
    n = counts["n"]

    def both_sides(k: int) -> bool:
        return min(k, n - k) >= min_group

    return {
        "architecture": counts["with_model_type"] >= min_group and counts["model_types"] >= 2,
        "performance": both_sides(counts["reports_results"]),
        "provenance": any(both_sides(counts[c]) for c in BINARY_BLOCKS["provenance"]),
        "ease_of_use": counts["with_card"] >= min_group,
        "size": max(counts["with_parameters"], counts["with_weight_bytes"]) >= min_group,
    }


def _candidates(backend: Any, selection: Selection, min_group: int) -> list[dict[str, Any]]:
    """Per selected hf snapshot with download counts: what its data has and which Table 4 blocks it can measure."""
    snaps = resolve(backend, "hf", selection)
    dl = usable_counts(backend, snaps, "packages", ("downloads",))
    out = []
    for s in snaps:
        row: dict[str, Any] = {"snapshot": s, "snapshot_id": s.snapshot_id, "taken_at": s.taken_at.isoformat()}
        counts = {"n": dl.get(s.snapshot_id, 0)}
        if counts["n"] >= MIN_MODELS:
            t = design_table(backend, s.snapshot_id)
            t = t.filter(t.downloads.notnull())
            agg = t.aggregate(
                with_model_type=t.model_type.count(),
                model_types=t.model_type.nunique(),
                with_card=t.has_card.cast("int64").sum(),
                with_parameters=(t.parameters > 0).cast("int64").sum(),
                with_weight_bytes=(t.weight_bytes > 0).cast("int64").sum(),
                **{c: t[c].cast("int64").sum() for cs in BINARY_BLOCKS.values() for c in cs if c != "how_to_use"},
            ).execute()
            counts.update({k: int(v or 0) for k, v in agg.iloc[0].items()})
            ok = _measurable(counts, min_group)
        else:
            ok = dict.fromkeys(BLOCKS, False)
        row.update(
            models_with_downloads=counts["n"],
            with_model_type=counts.get("with_model_type", 0),
            with_card=counts.get("with_card", 0),
            with_parameters=counts.get("with_parameters", 0),
            with_weight_bytes=counts.get("with_weight_bytes", 0),
            blocks_possible=sum(ok.values()),
            measurable=[b for b in BLOCKS if ok[b]],
        )
        out.append(row)
    return out


def _choose(backend: Any, selection: Selection, min_group: int) -> tuple[Chosen, list[dict[str, Any]]]:
    cands = _candidates(backend, selection, min_group)
    # no candidate, or a named snapshot without downloads: pick raises its usual error
    if (not selection.empty and len(cands) == 1) or not any(c["models_with_downloads"] >= MIN_MODELS for c in cands):
        pick(backend, "hf", selection, columns=("downloads",), min_rows=MIN_MODELS, what=NAME)
    usable = [c for c in cands if c["models_with_downloads"] >= MIN_MODELS]
    if not usable:
        raise NotMeasurable(f"{NAME}: no hf snapshot has {MIN_MODELS} models with downloads")
    best = max(
        usable, key=lambda c: (c["blocks_possible"], c["models_with_downloads"], c["taken_at"], c["snapshot_id"])
    )
    table = [{**{k: v for k, v in c.items() if k != "snapshot"}, "chosen": c is best} for c in cands]
    return Chosen(best["snapshot"], best["models_with_downloads"]), table


# ---------------------------------------------------------------------------
# The regression
# ---------------------------------------------------------------------------


def _pool(values: Any, top: int) -> tuple[Any, list[str]]:
    """Levels kept (most common first, ``other`` pooling the rest, ``none`` = missing); reference first.

    The reference is the most common named level (not ``none``/``other``) when there is one.
    """
    v = values.fillna("none").astype(str)
    counts = v[v != "none"].value_counts()
    counts = counts.sort_index(kind="stable").sort_values(ascending=False, kind="stable")
    keep = list(counts.index[:top])
    pooled = v.where(v.isin(keep) | (v == "none"), "other")
    order = list(pooled.value_counts().sort_index(kind="stable").sort_values(ascending=False, kind="stable").index)
    named = [x for x in order if x not in ("none", "other")]
    if named and order[0] != named[0]:
        order.remove(named[0])
        order.insert(0, named[0])
    return pooled, order


def _r2_subsets(X: np.ndarray, y: np.ndarray, subsets: list[list[int]], w: np.ndarray | None = None) -> list[float]:
    """R² of weighted least squares of y on each column subset of X (normal equations; weights = resample counts)."""
    if w is None:
        w = np.ones(len(y))
    else:  # models not drawn add nothing: leave them out of the products
        keep = w > 0
        X, y, w = X[keep], y[keep], w[keep]
    Xw = X * w[:, None]
    G = X.T @ Xw
    g = Xw.T @ y
    yy = float((w * y * y).sum())
    sw, sy = float(w.sum()), float((w * y).sum())
    sst = yy - sy * sy / sw
    out = []
    for s in subsets:
        b = np.linalg.lstsq(G[np.ix_(s, s)], g[s], rcond=None)[0]
        ssr = yy - float(b @ g[s])
        out.append(1.0 - ssr / sst if sst > 0 else float("nan"))
    return out


class _GroupedGram:
    """Weighted normal equations from the design's distinct rows, for bootstrap replicates.

    A replicate's X'WX and X'Wy depend on the weights only through their sums
    over models with the same row of X (and, for y, through sum w*y and
    sum w*y^2), so each replicate is three weighted counts over the models and
    products of the m distinct rows: O(n + m * p^2) instead of O(n * p^2).
    Dummy-coded designs have few distinct rows (3,848 of 1M in a synthetic world).
    """

    def __init__(self, X: np.ndarray, y: np.ndarray) -> None:
        import pandas as pd

        # group equal rows by hashing column by column (np.unique(axis=0) sorts 1M x 30 floats: ~10 s)
        key = np.zeros(len(X), dtype=np.int64)
        for j in range(X.shape[1]):
            codes, uniques = pd.factorize(X[:, j])
            key, _ = pd.factorize(key * len(uniques) + codes)
        m = int(key.max()) + 1 if len(key) else 0
        first = np.empty(m, dtype=np.int64)
        first[key[::-1]] = np.arange(len(key) - 1, -1, -1)  # the first model with each row
        self.rows = X[first]
        self.inverse = key
        self.y = y

    def r2(self, subsets: list[list[int]], w: np.ndarray) -> list[float]:
        m = len(self.rows)
        wsum = np.bincount(self.inverse, weights=w, minlength=m)
        wy = w * self.y
        wysum = np.bincount(self.inverse, weights=wy, minlength=m)
        G = self.rows.T @ (self.rows * wsum[:, None])
        g = self.rows.T @ wysum
        yy = float((wy * self.y).sum())
        sw, sy = float(wsum.sum()), float(wysum.sum())
        sst = yy - sy * sy / sw
        out = []
        for s in subsets:
            b = np.linalg.lstsq(G[np.ix_(s, s)], g[s], rcond=None)[0]
            ssr = yy - float(b @ g[s])
            out.append(1.0 - ssr / sst if sst > 0 else float("nan"))
        return out


def _ci(values: np.ndarray) -> list[float | None]:
    v = values[np.isfinite(values)]
    if v.size < 10:
        return [None, None]
    lo, hi = np.quantile(v, [0.025, 0.975])
    return [float(lo), float(hi)]


def _size_column(df: Any, min_group: int) -> tuple[np.ndarray | None, np.ndarray | None, str | None, int]:
    """(centred log10 size with 0 where unknown, unknown indicator, measure, models with a size)."""
    for col, measure in (("parameters", "parameters"), ("weight_bytes", "weight_bytes")):
        v = df[col].astype(float).to_numpy()
        known = np.isfinite(v) & (v > 0)
        if known.sum() >= min_group:
            lv = np.zeros(len(v))
            lv[known] = np.log10(v[known])
            if np.ptp(lv[known]) == 0:
                continue
            lv[known] -= lv[known].mean()
            return lv, (~known).astype(float), measure, int(known.sum())
    return None, None, None, 0


def attributes(
    backend: Any,
    *,
    snapshot_id: str | Selection | None = None,
    top_levels: int = DEFAULTS.top_levels,
    min_group: int = DEFAULTS.min_group,
    small_f2: float = DEFAULTS.small_f2,
    n_boot: int = DEFAULTS.n_boot,
    sample: int | None = DEFAULTS.sample,
    seed: int = DEFAULTS.seed,
) -> AttributesResult:
    """The regression of log downloads on Table 4's attributes (module docstring)."""
    import pandas as pd
    from statsmodels.regression.linear_model import OLS  # not statsmodels.api: it imports all of statsmodels

    chosen, choice = _choose(backend, as_selection(snapshot_id), min_group)
    sid = chosen.snapshot_id
    t = design_table(backend, sid)
    hu, hu_from = how_to_use_table(backend, sid)
    hu = hu.select(hu_pid=hu.package_id, how_to_use=hu.how_to_use)
    t = t.left_join(hu, t.package_id == hu.hu_pid).drop("hu_pid")
    t = t.mutate(how_to_use=t.how_to_use.fill_null(False))
    n_null = int(t.filter(t.downloads.isnull()).count().execute())
    t = t.filter(t.downloads.notnull())
    df = t.order_by("package_id").execute()
    if sample is not None and len(df) > sample:
        df = df.sample(n=sample, random_state=seed).sort_values("package_id")
    df = df.reset_index(drop=True)
    if len(df) < MIN_MODELS:
        raise NotMeasurable(f"{NAME}: only {len(df)} models with downloads in {sid}")
    y = np.log1p(df["downloads"].astype(float).to_numpy())
    notes: list[str] = []

    # The design matrix is built by hand (no formula strings): level names come
    # from the data and must never reach an expression evaluator.
    cols: dict[str, np.ndarray] = {"Intercept": np.ones(len(df))}
    term_block: dict[str, str] = {"Intercept": "intercept"}
    block_cols: dict[str, list[str]] = {}
    levels: dict[str, list[str]] = {}
    unmeasured: dict[str, str] = {}

    def add(block: str, name: str, values: np.ndarray) -> None:
        cols[name] = values
        term_block[name] = block
        block_cols.setdefault(block, []).append(name)

    def categorical(block: str, col: str) -> None:
        if df[col].notna().sum() == 0:
            return
        pooled, order = _pool(df[col], top_levels)
        levels[col] = order
        for lev in order[1:]:  # order[0] is the reference level
            add(block, f"{col}[{lev}]", (pooled == lev).to_numpy(dtype=float))

    shares: dict[str, float] = {}
    too_rare: dict[str, list[str]] = {}

    def binary(block: str, col: str, least: int = 1) -> None:
        v = df[col].fillna(False).astype(bool).to_numpy(dtype=float)
        shares[col] = float(v.mean())
        k = int(v.sum())
        if min(k, len(v) - k) >= least:
            add(block, col, v)
        elif block in BLOCKS:
            too_rare.setdefault(block, []).append(f"{col}: {k} yes, {len(v) - k} no")

    categorical("task", "task")
    categorical("library", "library")
    for col in CONTROL_BINARY:
        binary(col, col)
    size, size_unknown, size_measure, size_known = _size_column(df, min_group)
    if size_unknown is not None and 0 < size_unknown.sum() < len(df):
        add("size_unknown", "size_unknown", size_unknown)
    controls = [b for b in block_cols]
    # Table 4's blocks
    n_mt = int(df["model_type"].notna().sum())
    if n_mt >= min_group:
        categorical("architecture", "model_type")
    if "architecture" not in block_cols:
        unmeasured["architecture"] = f"{n_mt} models of {sid} have config.model_type (at least {min_group} needed)"
    n_card = int(df["has_card"].sum())
    for block, names in BINARY_BLOCKS.items():
        for col in names:
            binary(block, col, least=min_group)
        if too_rare.get(block):
            why = "; ".join(too_rare[block])
            if block in block_cols:
                notes.append(f"{block}: left out for too few models on one side ({why}; {min_group} needed)")
            else:
                unmeasured[block] = f"too few models on one side in {sid} ({why}; {min_group} needed; {n_card} cards)"
    if size is not None:
        add("size", "log10_size", size)
    else:
        n_par = int((df["parameters"].astype(float) > 0).sum())
        n_wb = int((df["weight_bytes"].astype(float) > 0).sum())
        unmeasured["size"] = (
            f"{n_par} models of {sid} have a parameter count and {n_wb} weight-file sizes "
            f"(at least {min_group} needed; see size_by_snapshot)"
        )

    X_df = pd.DataFrame(cols)
    names_all = list(X_df.columns)
    X = X_df.to_numpy(dtype=float)
    fit = OLS(y, X_df).fit(cov_type="HC3")
    ci = fit.conf_int(0.05)
    coefs = []
    for name in names_all:
        est, lo, hi = float(fit.params[name]), float(ci.loc[name, 0]), float(ci.loc[name, 1])
        coefs.append(
            {
                "term": str(name),
                "block": term_block[name],
                "estimate": est,
                "ci_low": lo,
                "ci_high": hi,
                "p": float(fit.pvalues[name]),
                "ratio": float(np.exp(est)),
                "ratio_ci": [float(np.exp(lo)), float(np.exp(hi))],
            }
        )
    blocks: dict[str, dict[str, float]] = {}
    for key, bcols in block_cols.items():
        R = np.zeros((len(bcols), len(names_all)))
        for r, c in enumerate(bcols):
            R[r, names_all.index(c)] = 1.0
        w = fit.wald_test(R, use_f=True, scalar=True)
        blocks[key] = {"df": len(bcols), "F": float(np.squeeze(w.statistic)), "p": float(w.pvalue)}
    measured = [b for b in BLOCKS if b in block_cols]
    for k, a in zip(measured, stats.holm([blocks[b]["p"] for b in measured]), strict=True):
        blocks[k]["p_holm"] = float(a)

    # incremental R²: unique (drop one block) and sequential (Table 4's order after the controls)
    idx = {n: i for i, n in enumerate(names_all)}
    full = list(range(len(names_all)))
    ctrl_idx = [0] + [idx[c] for b in controls for c in block_cols[b]]
    subsets = [full, ctrl_idx] + [[i for i in full if names_all[i] not in block_cols[b]] for b in measured]
    seq: list[int] = list(ctrl_idx)
    for b in measured:
        seq = seq + [idx[c] for c in block_cols[b]]
        subsets.append(list(seq))

    def deltas(r2s: list[float]) -> np.ndarray:
        r2f, r2c = r2s[0], r2s[1]
        uniq = [r2f - r for r in r2s[2 : 2 + len(measured)]]
        f2 = [u / (1.0 - r2f) if r2f < 1 else float("nan") for u in uniq]
        return np.array([r2f - r2c, *uniq, *f2])

    r2_all = _r2_subsets(X, y, subsets)
    point = deltas(r2_all)
    r2_controls, seq_r2 = r2_all[1], r2_all[2 + len(measured) :]
    n_boot_used = n_boot if measured else 0
    boots = np.empty((n_boot_used, len(point)))
    if n_boot_used:
        rng = np.random.default_rng(seed)
        n = len(y)
        gram = _GroupedGram(X, y)
        for i in range(n_boot_used):
            counts = np.bincount(rng.integers(0, n, n), minlength=n).astype(float)
            boots[i] = deltas(gram.r2(subsets[: 2 + len(measured)], counts))
    m = len(measured)
    table4: list[dict[str, Any]] = []
    prev = r2_controls
    for b in BLOCKS:
        if b not in block_cols:
            table4.append({"block": b, "label": BLOCK_LABELS[b], "measured": False, "why_not": unmeasured.get(b, "")})
            continue
        j = measured.index(b)
        uniq, f2 = float(point[1 + j]), float(point[1 + m + j])
        f2_ci = _ci(boots[:, 1 + m + j]) if n_boot_used else [None, None]
        p_holm = blocks[b]["p_holm"]
        row: dict[str, Any] = {
            "block": b,
            "label": BLOCK_LABELS[b],
            "measured": True,
            "terms": list(block_cols[b]),
            "df": int(blocks[b]["df"]),
            "F": blocks[b]["F"],
            "p": blocks[b]["p"],
            "p_holm": blocks[b]["p_holm"],
            "delta_r2": uniq,
            "delta_r2_ci": _ci(boots[:, 1 + j]) if n_boot_used else [None, None],
            "f2": f2,
            "f2_ci": f2_ci,
            "sequential_delta_r2": float(seq_r2[j] - prev),
        }
        prev = seq_r2[j]
        row["impact"] = bool(p_holm < 0.05 and f2 >= small_f2)
        row["negligible"] = bool(f2_ci[1] is not None and f2_ci[1] < small_f2)
        table4.append(row)
    if size_measure is not None:
        what = "parameter count" if size_measure == "parameters" else "summed weight-file bytes"
        notes.append(
            f"size = log10 {what}, known for {size_known} of {len(df)} models; the others have log10_size = 0 "
            "and size_unknown = 1 (a control), so the size slope is estimated from models with a known size only"
        )
    if hu_from.startswith("rules"):
        notes.append(f"how-to-use sections: {hu_from}")
    formula = "log1p(downloads) ~ " + " + ".join(
        [f"C({b})" if b in ("task", "library") else b for b in controls]
        + [
            ("C(model_type)" if b == "architecture" else " + ".join(block_cols[b]) if b != "size" else "log10_size")
            for b in measured
        ]
    )
    dl_p = [blocks[b]["p_holm"] for b in measured]
    return AttributesResult(
        metric=NAME,
        snapshot_id=sid,
        taken_at=chosen.taken_at.isoformat(),
        synthetic=chosen.synthetic,
        n=int(fit.nobs),
        n_dropped_null_downloads=n_null,
        sample=sample,
        formula=formula,
        covariance="HC3",
        r2=float(fit.rsquared),
        r2_adj=float(fit.rsquared_adj),
        r2_controls=float(r2_controls),
        dl_partial_r2=float(point[0]),
        dl_partial_r2_ci=_ci(boots[:, 0]) if n_boot_used else [None, None],
        dl_min_p_holm=min(dl_p) if dl_p else None,
        blocks_measured=m,
        blocks_impact=sum(1 for r in table4 if r.get("impact")),
        blocks_negligible=sum(1 for r in table4 if r.get("negligible")),
        small_f2=small_f2,
        table4_blocks=table4,
        coefficients=coefs,
        blocks=blocks,
        levels=levels,
        shares=shares,
        size_measure=size_measure,
        size_known=size_known,
        size_by_snapshot=[
            {
                "snapshot_id": c["snapshot_id"],
                "with_parameters": c["with_parameters"],
                "with_weight_bytes": c["with_weight_bytes"],
            }
            for c in choice
        ],
        how_to_use_from=hu_from,
        n_boot=n_boot_used,
        choice=choice,
        notes=notes,
        rests_on=[
            {
                "snapshot_id": sid,
                "what": f"models with downloads; Table 4 attributes measured: {m} of 5",
                "n": int(fit.nobs),
            }
        ],
        caption_note=(
            "Not measured in this snapshot: " + ", ".join(r["label"] for r in table4 if not r["measured"])
            if m < len(BLOCKS)
            else None
        ),
    )


def _compute(ctx: Context, p: AttributesParams) -> AttributesResult:
    return attributes(
        ctx.backend,
        snapshot_id=ctx.selection,
        top_levels=p.top_levels,
        min_group=p.min_group,
        small_f2=p.small_f2,
        n_boot=p.n_boot,
        sample=p.sample,
        seed=p.seed,
    )


def _figure(result: AttributesResult, p: AttributesParams) -> Any:
    from ..figures.attributes import attributes_figure

    return attributes_figure(result)


def _tables(data: dict[str, Any]) -> list[ReportTable]:
    return [
        ReportTable(
            "Table 4 attributes: incremental R² per block (unique, with 95% bootstrap CI) and Cohen's f²",
            ("block", "measured", "df", "p (Holm)", "ΔR²", "95% CI", "f²", "f² 95% CI", "sequential ΔR²", "why not"),
            [
                [
                    r["label"],
                    r["measured"],
                    r.get("df"),
                    r.get("p_holm"),
                    r.get("delta_r2"),
                    r.get("delta_r2_ci"),
                    r.get("f2"),
                    r.get("f2_ci"),
                    r.get("sequential_delta_r2"),
                    r.get("why_not", ""),
                ]
                for r in data.get("table4_blocks", [])
            ],
        ),
        ReportTable(
            "Coefficients (OLS of ln(1 + downloads), HC3); ratio = exp(estimate), the factor on 1 + downloads",
            ("term", "block", "estimate", "95% CI", "ratio", "p"),
            [
                [c["term"], c.get("block"), c["estimate"], [c["ci_low"], c["ci_high"]], c.get("ratio"), c["p"]]
                for c in data.get("coefficients", [])
            ],
        ),
        ReportTable(
            "Data this rests on",
            ("snapshot", "what", "n"),
            [[r["snapshot_id"], r["what"], r["n"]] for r in data.get("rests_on", [])],
        ),
        ReportTable(
            "Snapshots considered (the one measuring most blocks is used) and their size data",
            (
                "snapshot",
                "models with downloads",
                "model_type",
                "cards",
                "parameters",
                "weight bytes",
                "blocks",
                "used",
            ),
            [
                [
                    c["snapshot_id"],
                    c["models_with_downloads"],
                    c["with_model_type"],
                    c["with_card"],
                    c["with_parameters"],
                    c["with_weight_bytes"],
                    c["blocks_possible"],
                    c.get("chosen", False),
                ]
                for c in data.get("choice", [])
            ],
        ),
    ]


METRIC = register(
    Metric(
        name=NAME,
        title="Table 4's DL-specific attributes vs popularity (regression, incremental R²)",
        params=AttributesParams,
        compute=_compute,
        figure=_figure,
        tables=_tables,
        key_numbers=(
            ("snapshot_id", "snapshot"),
            ("n", "models"),
            ("formula", "model"),
            ("blocks_measured", "Table 4 attributes measured (of 5)"),
            ("blocks_impact", "attributes with an impact (Holm p < 0.05, f² ≥ small)"),
            ("blocks_negligible", "attributes ruled negligible (f² CI below small)"),
            ("size_measure", "size measured as"),
            ("r2", "R²"),
            ("r2_controls", "R² of the controls alone"),
            ("dl_partial_r2", "R² added by the Table 4 attributes"),
            ("dl_partial_r2_ci", "its 95% CI"),
            ("how_to_use_from", "how-to-use sections from"),
        ),
        caveats=(
            "associations in one snapshot, not causes: popular models may gain cards, results and base-model "
            "declarations because they are popular;",
            "performance is whether the card reports evaluation results (model-index values), not how good they are: "
            "scores of different tasks and metrics are not comparable;",
            "the snapshot measuring most Table 4 attributes may be a partial listing (the 2025-04 model trees are 25 "
            "model families); name another with --snapshots.",
        ),
        needs="downloads and, for Table 4's blocks, config.model_type, model cards, tags/lineage and parameter "
        "counts or weight-file sizes of one Hub snapshot",
    )
)
