"""Documentation quality (the paper's C3): documentation score and top-vs-bottom test.

Per model *m* of a snapshot (ESEM'24, Section on C3):

    card_score(m)          = number of the five items its card has (0..5), from a stored scorer run
    metadata_score(m)      = share of available metadata fields it has (:mod:`ptmscope.cards.metadata`)
    documentation_score(m) = (card_score(m) / 5 + metadata_score(m)) / 2

A model whose Hub page has no card gets card score 0 (it documents nothing).
A card the scorer could not judge (an LLM answer that failed) is left out
and counted.

C3 test, per popularity measure (downloads, likes, number of direct
descendants in the snapshot's lineage): the top-N and bottom-N models by the
measure (N default 1000, capped at half the models that have the measure and
at the number of models above the measure's lowest value, so every top model
is strictly more popular than the least popular ones; ties broken by package
id so the choice is reproducible), compared by

* one-sided Welch t-test, H1: mean(top) > mean(bottom) (the paper's test),
* one-sided Mann-Whitney U (no normality assumption; the score is discrete),
* Holm correction of each test's p-values across the measures,
* Cohen's d, Cliff's delta and a bootstrap CI of the mean difference.

Differences from the paper: the paper scored cards with ChatGPT-4; here the
card score comes from the scorer the user ran (rules by default).  The paper
used PeaTMOSS's database; here the metadata score counts the PeaTMOSS schema's
metadata fields (:mod:`ptmscope.cards.metadata`) as the snapshot's registry
metadata fills them.
Many models tie at the bottom (0 downloads, 0 likes, 0 descendants): which of
them form the bottom-N is then arbitrary (by id), and the result reports how
many models tie at the cut-off.

The table work (joins, counts, ranking) is Ibis; the statistics run on the
2N selected scores in NumPy via :mod:`ptmscope.stats`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import ibis
import numpy as np
from pydantic import Field

from .. import stats
from ..cards.metadata import NOT_IN_SNAPSHOTS, PEATMOSS_SCHEMA, metadata_scores
from ..errors import NotMeasurable, ParameterError
from ..snapshots import Selection, as_selection, resolve
from .registry import Context, Metric, Params, ReportTable, register

NAME = "docs"

PopularityMeasure = Literal["downloads", "likes", "descendants"]
MEASURES: tuple[str, ...] = get_args(PopularityMeasure)


class DocsParams(Params):
    top: int = Field(1000, ge=2, description="N models per group (capped by the data).")
    by: tuple[PopularityMeasure, ...] = Field(MEASURES, min_length=1, strict=False, description="Popularity measures.")
    scorer: str | None = Field(None, description="Scorer name or key of the stored card scores (default: rules).")
    n_boot: int = Field(2000, ge=1, description="Bootstrap resamples for the mean-difference CI.")
    seed: int = Field(0, description="Bootstrap seed.")
    with_card_only: bool = Field(False, description="Compare only models that have a card (sensitivity check).")


DEFAULTS = DocsParams()
DEFAULT_TOP = DEFAULTS.top


@dataclass(frozen=True)
class GroupComparison:
    """Top-N vs bottom-N by one popularity measure."""

    measure: str
    n: int  # models per group
    n_with_measure: int
    top_cutoff: float  # smallest measure value in the top group
    bottom_cutoff: float  # largest measure value in the bottom group
    ties_at_bottom_cutoff: int  # models (of all) whose measure equals the bottom cut-off
    top_mean: float
    bottom_mean: float
    top_median: float
    bottom_median: float
    top_card_mean: float
    bottom_card_mean: float
    top_metadata_mean: float
    bottom_metadata_mean: float
    top_no_card_share: float  # share of the group whose model has no card at all
    bottom_no_card_share: float
    welch: stats.TestResult
    mann_whitney: stats.TestResult
    p_welch_holm: float
    p_mann_whitney_holm: float
    cohens_d: float
    cliffs_delta: float
    mean_diff: stats.Interval
    top_scores: tuple[float, ...] = field(repr=False, default=())
    bottom_scores: tuple[float, ...] = field(repr=False, default=())

    def to_dict(self) -> dict[str, Any]:
        def r(x: float) -> float | None:  # 6 significant digits: p-values like 1e-154 must survive
            return None if x is None or not np.isfinite(x) else float(f"{float(x):.6g}")

        return {
            "measure": self.measure,
            "n_per_group": self.n,
            "n_with_measure": self.n_with_measure,
            "top_cutoff": self.top_cutoff,
            "bottom_cutoff": self.bottom_cutoff,
            "ties_at_bottom_cutoff": self.ties_at_bottom_cutoff,
            "documentation_score": {
                "top_mean": r(self.top_mean),
                "bottom_mean": r(self.bottom_mean),
                "top_median": r(self.top_median),
                "bottom_median": r(self.bottom_median),
            },
            "card_score_0_5": {"top_mean": r(self.top_card_mean), "bottom_mean": r(self.bottom_card_mean)},
            "metadata_score": {"top_mean": r(self.top_metadata_mean), "bottom_mean": r(self.bottom_metadata_mean)},
            "no_card_share": {"top": r(self.top_no_card_share), "bottom": r(self.bottom_no_card_share)},
            "welch_t": self.welch.to_dict(),
            "mann_whitney_u": self.mann_whitney.to_dict(),
            "p_welch_holm": r(self.p_welch_holm),
            "p_mann_whitney_holm": r(self.p_mann_whitney_holm),
            "cohens_d": r(self.cohens_d),
            "cliffs_delta": r(self.cliffs_delta),
            "mean_difference": self.mean_diff.to_dict(),
        }


@dataclass(frozen=True)
class DocsResult:
    """Documentation scores of a snapshot and the C3 top-vs-bottom tests."""

    snapshot_id: str
    scorer_key: str
    top: int
    by: tuple[str, ...]
    n_boot: int
    seed: int
    with_card_only: bool
    n_models: int
    n_missing_card: int
    n_unscored: int  # left out: the scorer could not judge the card
    n_no_card_row: int  # left out: the snapshot has no card row for the model
    n_compared: int  # models the groups are drawn from (scored; with a card only when with_card_only)
    mean_documentation_score: float
    mean_card_score: float
    mean_metadata_score: float
    metadata_fields_used: tuple[str, ...]
    metadata_fields_excluded: dict[str, str]
    comparisons: tuple[GroupComparison, ...]
    notes: tuple[str, ...] = ()

    def headline(self) -> str:
        """What was compared, in one sentence: with ``with_card_only`` the models left out are not counted in."""
        means = (
            f"mean documentation score {self.mean_documentation_score:.3f} (card {self.mean_card_score:.2f}/5, "
            f"metadata {self.mean_metadata_score:.3f})"
        )
        if self.with_card_only:
            return (
                f"{self.snapshot_id} ({self.scorer_key}): {self.n_compared} models with a card compared "
                f"(of {self.n_models} in the snapshot; {self.n_missing_card} without a card left out); {means}"
            )
        return (
            f"{self.snapshot_id} ({self.scorer_key}): {self.n_compared} models compared, "
            f"{self.n_missing_card} of them without a card (card score 0); {means}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": "documentation_c3",
            "inputs": {
                "snapshot_id": self.snapshot_id,
                "scorer_key": self.scorer_key,
                "top": self.top,
                "by": list(self.by),
                "n_boot": self.n_boot,
                "seed": self.seed,
                "with_card_only": self.with_card_only,
                "alternative": "greater (top > bottom)",
            },
            "n_models": self.n_models,
            "n_missing_card": self.n_missing_card,
            "n_unscored_excluded": self.n_unscored,
            "n_no_card_row_excluded": self.n_no_card_row,
            "n_models_compared": self.n_compared,
            "headline": self.headline(),
            "mean_documentation_score": float(f"{self.mean_documentation_score:.6g}"),
            "mean_card_score_0_5": float(f"{self.mean_card_score:.6g}"),
            "mean_metadata_score": float(f"{self.mean_metadata_score:.6g}"),
            "metadata_fields_used": list(self.metadata_fields_used),
            "metadata_schema": PEATMOSS_SCHEMA,
            "metadata_fields_excluded": dict(sorted(self.metadata_fields_excluded.items())),
            "metadata_fields_not_in_snapshots": dict(NOT_IN_SNAPSHOTS),
            "comparisons": [c.to_dict() for c in self.comparisons],
            "notes": list(self.notes),
        }


def _has_scores_table(backend: Any) -> bool:
    try:  # list_tables() is not portable across Ibis/DuckDB versions; asking for the table is
        backend.table("card_scores")
    except Exception:
        return False
    return True


def choose_snapshot_and_scorer(
    backend: Any, snapshot_id: str | Selection | None, scorer_key: str | None
) -> tuple[str, str]:
    """The snapshot (latest selected hf one with stored card scores) and scorer key to use."""
    if not _has_scores_table(backend):
        raise NotMeasurable("no card scores in the store: run `ptmscope cards score` first")
    sel = as_selection(snapshot_id)
    cs = backend.table("card_scores")
    q = cs
    if not sel.empty:
        ids = [s.snapshot_id for s in resolve(backend, "hf", sel)]
        q = q.filter(cs.snapshot_id.isin(ids))
        snapshot_id = sel.describe()
    if scorer_key:
        q = q.filter((q.scorer_key == scorer_key) | (q.scorer == scorer_key))
    snaps = backend.table("snapshots")
    pairs = (
        q.select("snapshot_id", "scorer_key")
        .distinct()
        .join(snaps.select("snapshot_id", "taken_at"), "snapshot_id")
        .order_by([ibis.desc("taken_at"), ibis.desc("snapshot_id"), "scorer_key"])
        .execute()
    )
    if pairs.empty:
        what = f"snapshot {snapshot_id!r}" if snapshot_id else "any snapshot"
        with_key = f" with scorer {scorer_key!r}" if scorer_key else ""
        raise NotMeasurable(f"no card scores for {what}{with_key}: run `ptmscope cards score` first")
    sid = str(pairs.iloc[0]["snapshot_id"])
    keys = [str(k) for k in pairs[pairs.snapshot_id == sid]["scorer_key"]]
    if len(keys) > 1:
        rules = [k for k in keys if k.startswith("rules-")]
        if not rules:
            raise NotMeasurable(f"snapshot {sid} has scores of several scorers ({', '.join(keys)}); pass --scorer")
        keys = sorted(rules)[-1:]
    return sid, keys[0]


def documentation_table(
    backend: Any, snapshot_id: str, scorer_key: str
) -> tuple[ibis.Table, tuple[str, ...], dict[str, str]]:
    """Per model: card/metadata/documentation scores and the popularity measures (Ibis)."""
    meta, used, excluded = metadata_scores(backend, snapshot_id)
    p = backend.table("packages")
    p = p.filter(p.snapshot_id == snapshot_id).select("package_id", "downloads", "likes")
    lin = backend.table("lineage")
    desc = (
        lin.filter((lin.snapshot_id == snapshot_id) & lin.parent_id.notnull())
        .select(parent=lin.parent_id, child=lin.child)
        .distinct()
        .group_by("parent")
        .aggregate(descendants=lambda t: t.count())
    )
    cs = backend.table("card_scores")
    cs = cs.filter((cs.snapshot_id == snapshot_id) & (cs.scorer_key == scorer_key)).select(
        cs_pid=cs.package_id, card_score=cs.score, scored=cs.scored, card_missing=cs.missing
    )
    m = meta.select(m_pid=meta.package_id, metadata_score=meta.metadata_score)
    t = (
        p.left_join(m, p.package_id == m.m_pid)
        .left_join(desc, p.package_id == desc.parent)
        .left_join(cs, p.package_id == cs.cs_pid)
    )
    t = t.select(
        package_id=t.package_id,
        downloads=t.downloads,
        likes=t.likes,
        descendants=t.descendants.fill_null(0),
        has_score_row=t.cs_pid.notnull(),
        scored=t.scored.fill_null(False),
        card_missing=t.card_missing.fill_null(False),
        card_score=t.card_score.cast("float64"),
        metadata_score=t.metadata_score,
    )
    t = t.mutate(documentation_score=(t.card_score / 5.0 + t.metadata_score) / 2.0)
    return t, used, excluded


def documentation_scores(backend: Any, *, snapshot_id: str | None = None, scorer_key: str | None = None) -> ibis.Table:
    """Per-model scores of a snapshot (default: the newest with card scores), one row per model, for export.

    Columns: snapshot_id, scorer_key, package_id, downloads, likes,
    descendants, has_score_row, scored, card_missing, card_score (0-5),
    metadata_score (0-1), documentation_score (0-1; null when the card could
    not be scored), ordered by package_id.
    """
    sid, key = choose_snapshot_and_scorer(backend, snapshot_id, scorer_key)
    t, _, _ = documentation_table(backend, sid, key)
    cols = list(t.columns)
    t = t.mutate(snapshot_id=ibis.literal(sid), scorer_key=ibis.literal(key))
    return t.select("snapshot_id", "scorer_key", *cols).order_by("package_id")


def _compare(
    measure: str, top: np.ndarray, bottom: np.ndarray, extra: dict[str, Any], n_boot: int, seed: int
) -> dict[str, Any]:
    return dict(
        measure=measure,
        welch=stats.welch_t(top, bottom, alternative="greater"),
        mann_whitney=stats.mann_whitney(top, bottom, alternative="greater"),
        cohens_d=stats.cohens_d(top, bottom),
        cliffs_delta=stats.cliffs_delta(top, bottom),
        mean_diff=stats.mean_diff_ci(top, bottom, n_boot=n_boot, seed=seed),
        top_mean=float(top.mean()),
        bottom_mean=float(bottom.mean()),
        top_median=float(np.median(top)),
        bottom_median=float(np.median(bottom)),
        top_scores=tuple(float(v) for v in top),
        bottom_scores=tuple(float(v) for v in bottom),
        **extra,
    )


def c3_test(
    backend: Any,
    *,
    snapshot_id: str | Selection | None = None,
    scorer_key: str | None = DEFAULTS.scorer,
    top: int = DEFAULTS.top,
    by: Sequence[str] = DEFAULTS.by,
    n_boot: int = DEFAULTS.n_boot,
    seed: int = DEFAULTS.seed,
    with_card_only: bool = DEFAULTS.with_card_only,
) -> DocsResult:
    """Documentation scores and the C3 top-N vs bottom-N tests (see module docstring).

    ``with_card_only`` restricts both groups to models that have a card (a
    sensitivity check: does popularity go with *better* cards, or only with
    having one?).
    """
    by = tuple(dict.fromkeys(by))
    bad = [m for m in by if m not in MEASURES]
    if bad or not by:
        raise NotMeasurable(
            f"unknown popularity measure {bad[0] if bad else '(none)'}; choose from {', '.join(MEASURES)}"
        )
    if top < 2:
        raise ParameterError("top", "must be at least 2 (a t-test needs two models per group)")
    sid, key = choose_snapshot_and_scorer(backend, snapshot_id, scorer_key)
    t, used, excluded = documentation_table(backend, sid, key)
    counts = (
        t.aggregate(
            n=t.count(),
            missing=t.card_missing.cast("int64").sum(),
            unscored=(t.has_score_row & ~t.scored).cast("int64").sum(),
            no_row=(~t.has_score_row).cast("int64").sum(),
        )
        .execute()
        .iloc[0]
    )
    usable = t.filter(t.scored)
    if with_card_only:
        usable = usable.filter(~usable.card_missing)
    means = (
        usable.aggregate(
            n=usable.count(),
            doc=usable.documentation_score.mean(),
            card=usable.card_score.mean(),
            meta=usable.metadata_score.mean(),
        )
        .execute()
        .iloc[0]
    )
    notes: list[str] = []
    # models left out of every group must be visible, not only a count in the JSON
    if int(counts["no_row"] or 0):
        notes.append(
            f"{int(counts['no_row'])} of {int(counts['n'])} models have no {key} score (scoring unfinished: "
            "rerun `ptmscope cards score`, or no card row): left out"
        )
    if int(counts["unscored"] or 0):
        notes.append(f"{int(counts['unscored'])} models' cards could not be scored by {key}: left out")
    raw: list[dict[str, Any]] = []
    for measure in by:
        col = usable[measure]
        have = usable.filter(col.notnull())
        n_have = int(have.count().execute())
        lowest = have.aggregate(v=col.min()).execute().iloc[0, 0]
        n_above = int(have.filter(col > lowest).count().execute()) if n_have else 0
        n = min(top, n_have // 2, n_above)
        if n < 2:
            notes.append(f"{measure}: only {n_above} of {n_have} models are above the lowest value; no test")
            continue
        if n < top:
            why = (
                f"only {n_above} models have {measure} above the lowest value ({lowest:g})"
                if n == n_above
                else f"half of the {n_have} models that have it"
            )
            notes.append(f"{measure}: N capped at {n} ({why})")
        ranked_desc = have.mutate(_r=ibis.row_number().over(order_by=[ibis.desc(have[measure]), have.package_id]))
        ranked_asc = have.mutate(_r=ibis.row_number().over(order_by=[have[measure], have.package_id]))
        cols = ["documentation_score", "card_score", "metadata_score", "card_missing", measure]
        top_df = ranked_desc.filter(ranked_desc._r < n).select(*cols).execute()
        bot_df = ranked_asc.filter(ranked_asc._r < n).select(*cols).execute()
        bottom_cut = float(bot_df[measure].max())
        ties = int(have.filter(have[measure] == bottom_cut).count().execute())
        extra = dict(
            n=n,
            n_with_measure=n_have,
            top_cutoff=float(top_df[measure].min()),
            bottom_cutoff=bottom_cut,
            ties_at_bottom_cutoff=ties,
            top_card_mean=float(top_df["card_score"].mean()),
            bottom_card_mean=float(bot_df["card_score"].mean()),
            top_metadata_mean=float(top_df["metadata_score"].mean()),
            bottom_metadata_mean=float(bot_df["metadata_score"].mean()),
            top_no_card_share=float(top_df["card_missing"].astype(float).mean()),
            bottom_no_card_share=float(bot_df["card_missing"].astype(float).mean()),
        )
        raw.append(
            _compare(
                measure,
                top_df["documentation_score"].to_numpy(float),
                bot_df["documentation_score"].to_numpy(float),
                extra,
                n_boot,
                seed,
            )
        )
        if ties > n:
            notes.append(
                f"{measure}: {ties} models tie at the bottom cut-off ({bottom_cut:g}); "
                "bottom group chosen among them by id"
            )
    p_w = stats.holm([r["welch"].p for r in raw]) if raw else []
    p_u = stats.holm([r["mann_whitney"].p for r in raw]) if raw else []
    comps = tuple(
        GroupComparison(p_welch_holm=pw, p_mann_whitney_holm=pu, **r) for r, pw, pu in zip(raw, p_w, p_u, strict=False)
    )
    return DocsResult(
        snapshot_id=sid,
        scorer_key=key,
        top=top,
        by=by,
        n_boot=n_boot,
        seed=seed,
        with_card_only=with_card_only,
        n_models=int(counts["n"]),
        n_missing_card=int(counts["missing"] or 0),
        n_unscored=int(counts["unscored"] or 0),
        n_no_card_row=int(counts["no_row"] or 0),
        n_compared=int(means["n"]),
        mean_documentation_score=float(means["doc"]),
        mean_card_score=float(means["card"]),
        mean_metadata_score=float(means["meta"]),
        metadata_fields_used=used,
        metadata_fields_excluded=excluded,
        comparisons=comps,
        notes=tuple(notes),
    )


def summarise(res: DocsResult, p: DocsParams) -> dict[str, Any]:
    """The paper's C3 test by downloads: top-N vs bottom-N documentation score."""
    d = res.to_dict()
    comp = next((c for c in d.get("comparisons", []) if c.get("measure") == "downloads"), None)
    if comp is None:
        return {
            "measure": "downloads",
            "n_per_group": 0,
            "p_holm": None,
            "mean_diff": None,
            "mean_diff_low": None,
            "mean_diff_high": None,
        }
    md = comp.get("mean_difference") or {}
    return {
        "formula": "documentation score, top-N vs bottom-N models by downloads: one-sided Welch t "
        "(Holm over the popularity measures) and a bootstrap CI of the mean difference",
        "measure": "downloads",
        "n_per_group": comp.get("n_per_group"),
        "p_holm": comp.get("p_welch_holm"),
        "mean_diff": md.get("estimate"),
        "mean_diff_low": md.get("low"),
        "mean_diff_high": md.get("high"),
        "cohens_d": comp.get("cohens_d"),
    }


def _compute(ctx: Context, p: DocsParams) -> DocsResult:
    return c3_test(
        ctx.backend,
        snapshot_id=ctx.selection,
        scorer_key=p.scorer,
        top=p.top,
        by=p.by,
        n_boot=p.n_boot,
        seed=p.seed,
        with_card_only=p.with_card_only,
    )


def _figure(result: DocsResult, p: DocsParams) -> Any:
    from ..figures.docs import docs_figure

    return docs_figure(result)


def _tables(data: dict[str, Any]) -> list[ReportTable]:
    rows = [
        [
            c["measure"],
            c["n_per_group"],
            c["documentation_score"]["top_mean"],
            c["documentation_score"]["bottom_mean"],
            c["welch_t"]["p"],
            c["p_welch_holm"],
            c["cohens_d"],
        ]
        for c in data.get("comparisons", [])
    ]
    return [
        ReportTable(
            "Top-N vs bottom-N documentation score",
            ("popularity", "N", "top mean", "bottom mean", "Welch p", "p (Holm)", "Cohen's d"),
            rows,
        )
    ]


METRIC = register(
    Metric(
        name=NAME,
        title="Documentation quality vs popularity (paper C3)",
        params=DocsParams,
        compute=_compute,
        summarise=summarise,
        figure=_figure,
        tables=_tables,
        key_numbers=(
            ("inputs.snapshot_id", "snapshot"),
            ("inputs.scorer_key", "card scorer"),
            ("n_models", "models"),
            ("mean_documentation_score", "mean documentation score"),
            ("summary.n_per_group", "N per group (top / bottom by downloads)"),
            ("summary.mean_diff", "mean difference top - bottom"),
            ("summary.mean_diff_low", "95% CI low"),
            ("summary.mean_diff_high", "95% CI high"),
            ("summary.p_holm", "Welch p (Holm)"),
            ("summary.cohens_d", "Cohen's d"),
        ),
        needs="stored card scores (`ptmscope cards score`), downloads and likes of one Hub snapshot",
    )
)
