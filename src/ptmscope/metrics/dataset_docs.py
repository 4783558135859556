"""Dataset documentation vs dataset popularity (Table 3: "Dataset documentation is correlated with dataset popularity").

The claim's source (the paper's reference [58]) studied Hub dataset cards.
Per dataset *d* of an ``hf-datasets`` snapshot:

    card_score(d) = number of the five sections of the Hub's dataset-card template its card has (0..5):
                    Dataset Description, Dataset Structure, Dataset Creation,
                    Considerations for Using the Data, Additional Information
                    (:mod:`ptmscope.cards.datasets`, stored in ``dataset_card_scores``)

A dataset without a card, or whose card the source records as empty, scores 0
(it documents nothing); both are counted apart.  Tests:

* Spearman's rho between card score and downloads, with a percentile
  bootstrap CI (over every dataset with a download count, and again over the
  datasets with a non-empty card: does popularity go with *better* cards, or
  only with having one?);
* top-N vs bottom-N datasets by downloads, as in C3 (:mod:`ptmscope.metrics._groups`):
  one-sided Welch t and Mann-Whitney U, Cohen's d, Cliff's delta, a bootstrap
  CI of the mean difference.  Most datasets have 0 downloads (16,011 of 24,065
  in the 2023-03 listing), so the bottom group is drawn at random among them,
  ``draws`` times with the seed, and the spread over the draws is reported (or
  ``ties = "all"``: all of them form the bottom group).

The joins are Ibis; the per-dataset scores are pulled to NumPy for the tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ibis
import numpy as np
from pydantic import Field

from .. import stats
from ..cards.datasets import DATASET_SECTION_TITLES, DATASET_SECTIONS
from ..errors import NotMeasurable
from ..snapshots import Selection, as_selection, resolve
from ._common import has_table
from ._groups import GroupTests, GroupTies, Measure, compare_groups, r6, ties_text
from .registry import Context, Metric, Params, ReportTable, register

NAME = "dataset_docs"
REGISTRY = "hf-datasets"
SCORES_TABLE = "dataset_card_scores"
#: downloads bands of the figure and the table: [low, high)
BANDS: tuple[tuple[str, float, float], ...] = (
    ("0", 0, 1),
    ("1-9", 1, 10),
    ("10-99", 10, 100),
    ("100-999", 100, 1000),
    ("1k-9.9k", 1000, 10_000),
    (">= 10k", 10_000, float("inf")),
)


class DatasetDocsParams(Params):
    top: int = Field(default=1000, ge=2, description="N datasets per group (capped by the data).")
    ties: GroupTies = Field(
        default="draw",
        description="Datasets tied at a cut-off: draw = chosen at random (seeded), draws times, spread reported; "
        "all = every tied dataset joins its group.",
    )
    draws: int = Field(default=200, ge=1, description="Random draws of the tied datasets (ties = draw).")
    scorer: str | None = Field(
        default=None, description="Scorer key of the stored dataset-card scores (default: the newest dataset-rules)."
    )
    n_boot: int = Field(default=1000, ge=1, description="Bootstrap resamples for the CIs.")
    seed: int = Field(default=0, ge=0, description="Seed of the draws and the bootstraps.")
    with_card_only: bool = Field(
        default=False, description="Compare only datasets with a non-empty card (sensitivity check)."
    )


DEFAULTS = DatasetDocsParams()


@dataclass(frozen=True)
class DatasetDocsResult:
    """Dataset-card scores of a snapshot, their correlation with downloads and the top-vs-bottom test."""

    snapshot_id: str
    scorer_key: str
    params: DatasetDocsParams
    n_datasets: int
    n_with_card: int  # a card with text
    n_empty_card: int  # a card the source records as empty
    n_no_card: int
    n_unscored: int  # left out: the scorer could not judge the card
    n_no_score_row: int  # left out: not scored yet
    n_without_downloads: int  # left out: the listing has no count
    n_zero_downloads: int  # of the compared
    n_compared: int
    mean_score: float
    mean_score_with_card: float
    section_shares: dict[str, float]  # share of the non-empty cards with each section
    spearman: stats.Correlation
    spearman_with_card: stats.Correlation
    bands: tuple[dict[str, Any], ...]
    tests: GroupTests
    notes: tuple[str, ...] = ()

    @property
    def comparisons(self) -> tuple[Any, ...]:
        return self.tests.comparisons

    def headline(self) -> str:
        who = "datasets with a non-empty card" if self.params.with_card_only else "datasets"
        return (
            f"{self.snapshot_id} ({self.scorer_key}): {self.n_compared:,} {who} compared "
            f"({self.n_with_card:,} with a card, {self.n_empty_card:,} with an empty card, {self.n_no_card:,} "
            f"without one, of {self.n_datasets:,}); mean card score {self.mean_score:.2f}/5; Spearman rho with "
            f"downloads {self.spearman.coef:.3f}"
        )

    def to_dict(self) -> dict[str, Any]:
        p = self.params
        return {
            "metric": "dataset_documentation",
            "inputs": {
                "snapshot_id": self.snapshot_id,
                "scorer_key": self.scorer_key,
                "top": p.top,
                "ties": p.ties,
                "draws": p.draws,
                "n_boot": p.n_boot,
                "seed": p.seed,
                "with_card_only": p.with_card_only,
                "alternative": "greater (top > bottom)",
            },
            "sections": {s: DATASET_SECTION_TITLES[s] for s in DATASET_SECTIONS},
            "n_datasets": self.n_datasets,
            "n_with_card": self.n_with_card,
            "n_empty_card": self.n_empty_card,
            "n_no_card": self.n_no_card,
            "n_unscored_excluded": self.n_unscored,
            "n_no_score_row_excluded": self.n_no_score_row,
            "n_without_downloads_excluded": self.n_without_downloads,
            "n_zero_downloads": self.n_zero_downloads,
            "n_compared": self.n_compared,
            "headline": self.headline(),
            "mean_card_score_0_5": r6(self.mean_score),
            "mean_card_score_with_card": r6(self.mean_score_with_card),
            "section_shares_with_card": {k: r6(v) for k, v in self.section_shares.items()},
            "spearman": self.spearman.to_dict(),
            "spearman_with_card": self.spearman_with_card.to_dict(),
            "bands": list(self.bands),
            "ties": {
                "rule": p.ties,
                "draws_made": self.tests.draws,
                "seed": p.seed,
                "how": ties_text(p.ties, self.tests.draws, p.seed, "dataset"),
            },
            "comparisons": [c.to_dict("card_score_0_5") for c in self.comparisons],
            "notes": list(self.notes),
        }


def choose_snapshot_and_scorer(
    backend: Any, selection: str | Selection | None, scorer_key: str | None
) -> tuple[str, str]:
    """The newest selected hf-datasets snapshot with stored dataset-card scores, and the scorer key."""
    how = "score its dataset cards first (`ptmscope cards score --scorer dataset-rules`)"
    sel = as_selection(selection)
    snaps = resolve(backend, REGISTRY, sel)
    if not snaps:
        if not sel.empty:
            raise NotMeasurable(f"{NAME}: no complete {REGISTRY} snapshot matches {sel.describe()}")
        raise NotMeasurable(
            f"{NAME}: the store has no complete {REGISTRY} snapshot (import a Hub dataset listing with its cards, "
            "format hf-datasets)"
        )
    if not has_table(backend, SCORES_TABLE):
        raise NotMeasurable(f"{NAME}: no dataset-card scores in the store: {how}")
    cs = backend.table(SCORES_TABLE)
    q = cs.filter(cs.snapshot_id.isin([s.snapshot_id for s in snaps]))
    if scorer_key:
        q = q.filter((q.scorer_key == scorer_key) | (q.scorer == scorer_key))
    pairs = q.select("snapshot_id", "scorer_key").distinct().execute()
    if pairs.empty:
        with_key = f" with scorer {scorer_key!r}" if scorer_key else ""
        raise NotMeasurable(f"{NAME}: no dataset-card scores{with_key} for a {REGISTRY} snapshot: {how}")
    order = {s.snapshot_id: (s.taken_at, s.snapshot_id) for s in snaps}
    sid = max({str(x) for x in pairs["snapshot_id"]}, key=lambda x: order[x])
    keys = sorted(str(k) for k in pairs[pairs.snapshot_id == sid]["scorer_key"])
    if len(keys) > 1:
        rules = [k for k in keys if k.startswith("dataset-rules-")]
        if not rules:
            raise NotMeasurable(
                f"{NAME}: snapshot {sid} has scores of several scorers ({', '.join(keys)}); pass --scorer"
            )
        keys = rules[-1:]
    return sid, keys[0]


def dataset_documentation_table(backend: Any, snapshot_id: str, scorer_key: str) -> ibis.Table:
    """Per dataset: downloads, card state ("card", "empty", "none", null) and its stored section scores (Ibis)."""
    p = backend.table("packages")
    p = p.filter(p.snapshot_id == snapshot_id).select("package_id", "downloads")
    c = backend.table("cards")
    c = c.filter(c.snapshot_id == snapshot_id).select(
        c_pid=c.package_id,
        card_state=ibis.cases((c.missing, "none"), (c.text.isnull(), "empty"), else_="card"),
    )
    s = backend.table(SCORES_TABLE)
    s = s.filter((s.snapshot_id == snapshot_id) & (s.scorer_key == scorer_key)).select(
        *DATASET_SECTIONS, s_pid=s.package_id, score=s.score, scored=s.scored
    )
    t = p.left_join(c, p.package_id == c.c_pid).left_join(s, p.package_id == s.s_pid)
    return t.select(
        "package_id",
        "downloads",
        "card_state",
        has_score_row=t.s_pid.notnull(),
        scored=t.scored.fill_null(False),
        score=t.score.cast("float64"),
        **{k: t[k] for k in DATASET_SECTIONS},
    )


def _bands(downloads: np.ndarray, score: np.ndarray, with_card: np.ndarray) -> tuple[dict[str, Any], ...]:
    out = []
    for name, lo, hi in BANDS:
        m = (downloads >= lo) & (downloads < hi)
        n = int(m.sum())
        out.append(
            {
                "band": name,
                "n": n,
                "mean_card_score": r6(float(score[m].mean())) if n else None,
                "share_with_card": r6(float(with_card[m].mean())) if n else None,
            }
        )
    return tuple(out)


def dataset_docs(
    backend: Any,
    *,
    snapshot_id: str | Selection | None = None,
    scorer_key: str | None = DEFAULTS.scorer,
    top: int = DEFAULTS.top,
    ties: str = DEFAULTS.ties,
    draws: int = DEFAULTS.draws,
    n_boot: int = DEFAULTS.n_boot,
    seed: int = DEFAULTS.seed,
    with_card_only: bool = DEFAULTS.with_card_only,
) -> DatasetDocsResult:
    """Dataset-card scores vs downloads (see the module docstring)."""
    from ..validation import validate_data

    params = validate_data(
        DatasetDocsParams,
        dict(
            top=top,
            ties=ties,
            draws=draws,
            scorer=scorer_key,
            n_boot=n_boot,
            seed=seed,
            with_card_only=with_card_only,
        ),
        f"metric {NAME}",
    )
    sid, key = choose_snapshot_and_scorer(backend, snapshot_id, scorer_key)
    df = dataset_documentation_table(backend, sid, key).order_by("package_id").execute()
    state = df["card_state"].astype(object).to_numpy()
    has_row = df["has_score_row"].to_numpy(bool)
    scored = df["scored"].to_numpy(bool)
    dl = np.asarray(df["downloads"].astype("float64").to_numpy(), dtype=float)
    known = np.isfinite(dl)
    usable = scored & known
    if with_card_only:
        usable &= state == "card"
    notes: list[str] = []
    n_no_row = int((~has_row).sum())
    n_unscored = int((has_row & ~scored).sum())
    if n_no_row:
        notes.append(f"{n_no_row} of {len(df)} datasets have no {key} score (scoring unfinished): left out")
    if n_unscored:
        notes.append(f"{n_unscored} dataset cards could not be scored by {key}: left out")
    if int((~known).sum()):
        notes.append(f"{int((~known).sum())} datasets have no download count: left out")
    idx = np.flatnonzero(usable)
    if idx.size < 3:
        raise NotMeasurable(f"{NAME}: only {idx.size} datasets of {sid} have a download count and a card score")
    score = np.nan_to_num(np.asarray(df["score"].astype("float64").to_numpy(), dtype=float))
    with_card = state == "card"
    cards_idx = idx[with_card[idx]]
    rho = stats.spearman(score[idx], dl[idx], n_boot=n_boot, seed=seed)
    rho_card = stats.spearman(score[cards_idx], dl[cards_idx], n_boot=n_boot, seed=seed)
    flags = {s: df[s].astype("float64").fillna(0.0).to_numpy(dtype=float) for s in DATASET_SECTIONS}
    tests = compare_groups(
        [Measure("downloads", "downloads", dl)],
        score,
        lambda key_: idx,
        random_rows=False,
        top=params.top,
        ties=params.ties,
        draws=params.draws,
        n_boot=params.n_boot,
        seed=params.seed,
        describe={
            **{f"share_{s}": flags[s] for s in DATASET_SECTIONS},
            "no_card_share": (~with_card).astype(float),
        },
    )
    notes.extend(tests.notes)
    for c in tests.comparisons:
        if c.drawn_bottom:
            notes.append(
                f"downloads: {c.ties_at_bottom_cutoff:,} compared datasets tie at the bottom cut-off "
                f"({c.bottom_cutoff:g}); the bottom group's {c.drawn_bottom:,} drawn at random"
                + (f" ({c.draws} draws)" if c.draws > 1 else "")
            )
        elif params.ties == "all" and c.n_bottom > c.n:
            notes.append(
                f"downloads: all {c.n_bottom:,} compared datasets at or below the bottom cut-off "
                f"({c.bottom_cutoff:g}) form the bottom group"
            )
    return DatasetDocsResult(
        snapshot_id=sid,
        scorer_key=key,
        params=params,
        n_datasets=len(df),
        n_with_card=int((state == "card").sum()),
        n_empty_card=int((state == "empty").sum()),
        n_no_card=int((state == "none").sum()),
        n_unscored=n_unscored,
        n_no_score_row=n_no_row,
        n_without_downloads=int((~known).sum()),
        n_zero_downloads=int((dl[idx] == 0).sum()),
        n_compared=int(idx.size),
        mean_score=float(score[idx].mean()),
        mean_score_with_card=float(score[cards_idx].mean()) if cards_idx.size else float("nan"),
        section_shares={s: float(flags[s][cards_idx].mean()) if cards_idx.size else float("nan") for s in flags},
        spearman=rho,
        spearman_with_card=rho_card,
        bands=_bands(dl[idx], score[idx], with_card[idx].astype(float)),
        tests=tests,
        notes=tuple(notes),
    )


def summarise(res: DatasetDocsResult, p: DatasetDocsParams) -> dict[str, Any]:
    """Spearman's rho of card score and downloads, and the top-vs-bottom test by downloads."""
    d = res.to_dict()
    sp = d["spearman"]
    comp = d["comparisons"][0] if d["comparisons"] else None
    out: dict[str, Any] = {
        "formula": "Spearman's rho of the dataset-card score (template sections, 0-5) and downloads with a "
        "bootstrap CI; top-N vs bottom-N datasets by downloads: one-sided Welch t (the largest p over the draws "
        "of tied datasets) and a bootstrap CI of the mean difference",
        "n": d["n_compared"],
        "rho": sp["coef"],
        "rho_ci_low": sp["ci"][0],
        "rho_ci_high": sp["ci"][1],
        "rho_with_card": d["spearman_with_card"]["coef"],
        "n_per_group": 0,
        "p_holm": None,
        "mean_diff": None,
        "mean_diff_low": None,
        "mean_diff_high": None,
    }
    if comp is not None:
        md = comp["mean_difference"]
        out.update(
            n_per_group=min(comp["n_top"], comp["n_bottom"]),
            p_holm=comp["p_welch_holm_max"],
            mean_diff=md["estimate"],
            mean_diff_low=md["low"],
            mean_diff_high=md["high"],
            cohens_d=comp["cohens_d"],
        )
    return out


def _compute(ctx: Context, p: DatasetDocsParams) -> DatasetDocsResult:
    return dataset_docs(
        ctx.backend,
        snapshot_id=ctx.selection,
        scorer_key=p.scorer,
        top=p.top,
        ties=p.ties,
        draws=p.draws,
        n_boot=p.n_boot,
        seed=p.seed,
        with_card_only=p.with_card_only,
    )


def _figure(result: DatasetDocsResult, p: DatasetDocsParams) -> Any:
    from ..figures.dataset_docs import dataset_docs_figure

    return dataset_docs_figure(result)


def _tables(data: dict[str, Any]) -> list[ReportTable]:
    sp, spc = data.get("spearman", {}), data.get("spearman_with_card", {})
    corr = [
        [
            "all compared datasets",
            sp.get("n"),
            sp.get("coef"),
            (sp.get("ci") or [None, None])[0],
            (sp.get("ci") or [None, None])[1],
            sp.get("p"),
        ],
        [
            "datasets with a non-empty card",
            spc.get("n"),
            spc.get("coef"),
            (spc.get("ci") or [None, None])[0],
            (spc.get("ci") or [None, None])[1],
            spc.get("p"),
        ],
    ]
    bands = [[b["band"], b["n"], b["mean_card_score"], b["share_with_card"]] for b in data.get("bands", [])]
    groups = []
    for c in data.get("comparisons", []):
        spread = c.get("over_draws", {}).get("p_welch_holm", {})
        groups.append(
            [
                c["label"],
                c["n_top"] if c["n_top"] == c["n_bottom"] else f"{c['n_top']} / {c['n_bottom']}",
                c["card_score_0_5"]["top_mean"],
                c["card_score_0_5"]["bottom_mean"],
                c["welch_t"]["p"],
                spread.get("max"),
                c["cohens_d"],
                c["mean_difference"]["low"],
                c["mean_difference"]["high"],
            ]
        )
    shares = [[DATASET_SECTION_TITLES.get(k, k), v] for k, v in data.get("section_shares_with_card", {}).items()]
    ties = data.get("ties", {})
    return [
        ReportTable(
            "Spearman's rho, dataset-card score (0-5) vs downloads",
            ("datasets", "n", "rho", "95% CI low", "95% CI high", "p"),
            corr,
        ),
        ReportTable(
            f"Top-N vs bottom-N datasets by downloads, card score (0-5); ties: {ties.get('how', '?')}",
            (
                "popularity",
                "N",
                "top mean",
                "bottom mean",
                "Welch p",
                "Welch p, max over draws",
                "Cohen's d",
                "mean diff CI low",
                "mean diff CI high",
            ),
            groups,
        ),
        ReportTable(
            "Card score by downloads band", ("downloads", "datasets", "mean card score", "share with a card"), bands
        ),
        ReportTable("Share of non-empty dataset cards with each section", ("section", "share"), shares),
    ]


METRIC = register(
    Metric(
        name=NAME,
        title="Dataset documentation vs dataset popularity (Table 3)",
        params=DatasetDocsParams,
        compute=_compute,
        summarise=summarise,
        figure=_figure,
        tables=_tables,
        key_numbers=(
            ("inputs.snapshot_id", "snapshot"),
            ("inputs.scorer_key", "dataset-card scorer"),
            ("n_datasets", "datasets"),
            ("n_with_card", "with a non-empty card"),
            ("n_zero_downloads", "compared datasets with 0 downloads"),
            ("mean_card_score_0_5", "mean card score (0-5)"),
            ("summary.rho", "Spearman rho, card score vs downloads"),
            ("summary.rho_ci_low", "95% CI low"),
            ("summary.rho_ci_high", "95% CI high"),
            ("summary.rho_with_card", "Spearman rho, datasets with a card only"),
            ("summary.n_per_group", "N per group (top / bottom by downloads)"),
            ("summary.mean_diff", "mean difference top - bottom"),
            ("summary.p_holm", "Welch p (largest over the draws)"),
            ("ties.draws_made", "draws of tied datasets"),
        ),
        caveats=(
            "Card sections come from ptmscope's dataset-card rules scorer (checked on two hand-labelled samples of "
            "16 cards, docs/cards.md), not from the study the claim cites.",
            "Download counts are the Hub's last-30-days counts at collection; most datasets have none.",
        ),
        needs="an hf-datasets snapshot (dataset listing with downloads and its dataset cards) with stored "
        "dataset-card scores (`ptmscope cards score --scorer dataset-rules`)",
    )
)
