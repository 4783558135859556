"""Documentation quality (the paper's C3): documentation score and the top-vs-bottom test, as §5.5 specifies it.

Per model *m* of a snapshot (ESEM'24, §5.5):

    card_score(m)          = number of the five items its card has (0..5), from a stored scorer run
    metadata_score(m)      = share of available metadata fields it has (:mod:`ptmscope.cards.metadata`)
    documentation_score(m) = (card_score(m) / 5 + metadata_score(m)) / 2

A model whose Hub page has no card gets card score 0 (it documents nothing).
A card the scorer could not judge (an LLM answer that failed) is left out
and counted.

**Population** (§5.5.1): "the top 15,000 most popular models, each with over
50 monthly downloads" (PeaTMOSS's set), then "the top 1000 and bottom 1000
models" of it.  ``population = "top-downloads"`` (default) takes the top
``population_size`` (15,000) models of the snapshot by downloads.  The "over
50 downloads" condition is a separate parameter, ``min_downloads`` (51 = over
50), and is not applied by default: it describes the same set as the top
15,000 only at PeaTMOSS's date (2023); on the 2022-02 dump only 4,315 models
have more than 50 downloads and the 15,000th has 2.  The result says how many
of the population have over 50 downloads.  ``population = "snapshot"`` is
ptmscope's earlier variant: every model of the snapshot.

**Popularity** (§5.5.1, "in three ways"): downloads, likes, and downstream
dependents -- the GitHub repositories that PeaTMOSS maps to the model (table
``dependents``, from the ``gh-dependents`` import).  The mapping is matched to
the snapshot's ids after following the Hub's rename aliases on both sides
(``bert-base-uncased`` = ``google-bert/bert-base-uncased``), then ignoring
letter case (the Hub treats ``EleutherAI/gpt-j-6b`` and ``EleutherAI/gpt-j-6B``
as one repository); a model without a mapped repository has 0 dependents.  The
mapping used is the one whose snapshot date is nearest the cards' snapshot.
Where the store has no mapping, the number of direct descendants in the
snapshot's lineage stands in for it, labelled as a substitute; ``descendants``
can also be asked for by name.

**Test**, per measure: the top-N and bottom-N models of the population
(:mod:`ptmscope.metrics._groups`: N capped by the data; models tied at a
cut-off drawn at random with the seed, ``draws`` times, and the spread over
the draws reported -- or ``ties = "all"``: every tied model joins its group),
compared by

* one-sided Welch t-test, H1: mean(top) > mean(bottom) (the paper's "statistical tests"),
* one-sided Mann-Whitney U (no normality assumption; the score is discrete),
* Holm correction of each test's p-values across the measures (within each draw),
* Cohen's d, Cliff's delta and a bootstrap CI of the mean difference (resamples spread over the draws).

Differences from the paper: the paper scored cards with ChatGPT-4; here the
card score comes from the scorer the user ran (rules by default).  The paper
used PeaTMOSS's database; here the metadata score counts the PeaTMOSS schema's
metadata fields (:mod:`ptmscope.cards.metadata`) as the snapshot's registry
metadata fills them, and the population is taken from the snapshot's own
download counts.

The table work (joins, counts, the dependents matching) is Ibis; the
population's per-model scores and measures (at most the models down to the
population's cut-off) are pulled to NumPy for the seeded draws and the tests
(:mod:`ptmscope.stats`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

import ibis
import numpy as np
from pydantic import Field

from ..cards.metadata import NOT_IN_SNAPSHOTS, PEATMOSS_SCHEMA, metadata_scores
from ..errors import NotMeasurable, ParameterError
from ..snapshots import Selection, as_selection, resolve
from ..validation import validate_data
from ._common import alias_map, apply_aliases, has_table
from ._groups import GroupComparison, GroupTests, GroupTies, Measure, compare_groups, r6, ties_text
from .registry import Context, Metric, Params, ReportTable, register

NAME = "docs"

PopularityMeasure = Literal["downloads", "likes", "dependents", "descendants"]
MEASURES: tuple[str, ...] = get_args(PopularityMeasure)
#: the paper's three ways (§5.5.1)
PAPER_MEASURES: tuple[PopularityMeasure, ...] = ("downloads", "likes", "dependents")
MEASURE_LABELS = {
    "downloads": "downloads",
    "likes": "likes",
    "dependents": "downstream GitHub dependents",
    "descendants": "direct descendants",
}
Population = Literal["top-downloads", "snapshot"]
POPULATIONS: tuple[str, ...] = get_args(Population)
#: PeaTMOSS's condition: "each with over 50 monthly downloads"
PEATMOSS_OVER_DOWNLOADS = 50


class DocsParams(Params):
    population: Population = Field(
        default="top-downloads",
        description="Models compared: top-downloads = the top population_size models by downloads (the paper's "
        "PeaTMOSS set); snapshot = every model of the snapshot (ptmscope's earlier variant).",
    )
    population_size: int = Field(
        default=15000, ge=2, description="Models in the top-downloads population (the paper: 15000)."
    )
    min_downloads: int = Field(
        default=0,
        ge=0,
        description="Only models with at least this many downloads (PeaTMOSS's 'over 50 monthly downloads' is 51); "
        "0: no condition.",
    )
    top: int = Field(default=1000, ge=2, description="N models per group (capped by the data).")
    by: tuple[PopularityMeasure, ...] = Field(
        default=PAPER_MEASURES, min_length=1, strict=False, description="Popularity measures."
    )
    ties: GroupTies = Field(
        default="draw",
        description="Models tied at a cut-off: draw = chosen at random (seeded), draws times, spread reported; "
        "all = every tied model joins its group.",
    )
    draws: int = Field(default=200, ge=1, description="Random draws of the tied models (ties = draw).")
    scorer: str | None = Field(
        default=None, description="Scorer name or key of the stored card scores (default: rules)."
    )
    n_boot: int = Field(default=2000, ge=1, description="Bootstrap resamples for the mean-difference CI.")
    seed: int = Field(default=0, ge=0, description="Seed of the draws and the bootstrap.")
    with_card_only: bool = Field(default=False, description="Compare only models that have a card (sensitivity check).")


DEFAULTS = DocsParams()
DEFAULT_TOP = DEFAULTS.top


@dataclass(frozen=True)
class DependentsSource:
    """The GitHub-to-model mapping the dependents measure uses."""

    snapshot_id: str
    taken_at: dt.date
    n_links: int
    n_models: int
    n_repos: int


@dataclass(frozen=True)
class DocsResult:
    """Documentation scores of a snapshot's population and the C3 top-vs-bottom tests."""

    snapshot_id: str
    scorer_key: str
    params: DocsParams
    n_models: int  # in the snapshot
    n_missing_card: int  # in the snapshot
    n_unscored: int  # in the snapshot, left out: the scorer could not judge the card
    n_no_card_row: int  # in the snapshot, left out: no score row for the model
    population: dict[str, Any]
    n_compared: float  # models the groups are drawn from (expected over the draws)
    n_compared_missing_card: float
    mean_documentation_score: float
    mean_card_score: float
    mean_metadata_score: float
    metadata_fields_used: tuple[str, ...]
    metadata_fields_excluded: dict[str, str]
    dependents: dict[str, Any]
    tests: GroupTests
    notes: tuple[str, ...] = ()

    @property
    def comparisons(self) -> tuple[GroupComparison, ...]:
        return self.tests.comparisons

    @property
    def by(self) -> tuple[str, ...]:
        return tuple(c.measure for c in self.comparisons)

    def headline(self) -> str:
        """What was compared, in one sentence: with ``with_card_only`` the models left out are not counted in."""
        means = (
            f"mean documentation score {self.mean_documentation_score:.3f} (card {self.mean_card_score:.2f}/5, "
            f"metadata {self.mean_metadata_score:.3f})"
        )
        where = "the snapshot" if self.params.population == "snapshot" else "the population"
        pop = self.population["definition"]
        n = f"{self.n_compared:,.0f}"
        if self.params.with_card_only:
            left = self.population["n_models"] - self.n_compared
            return (
                f"{self.snapshot_id} ({self.scorer_key}), {pop}: {n} models with a card compared "
                f"(of {self.population['n_models']:,} in {where}; {left:,.0f} without a card left out); {means}"
            )
        return (
            f"{self.snapshot_id} ({self.scorer_key}), {pop}: {n} models compared, "
            f"{self.n_compared_missing_card:,.0f} of them without a card (card score 0); {means}"
        )

    def to_dict(self) -> dict[str, Any]:
        p = self.params
        return {
            "metric": "documentation_c3",
            "inputs": {
                "snapshot_id": self.snapshot_id,
                "scorer_key": self.scorer_key,
                "population": p.population,
                "population_size": p.population_size,
                "min_downloads": p.min_downloads,
                "top": p.top,
                "by": list(p.by),
                "ties": p.ties,
                "draws": p.draws,
                "n_boot": p.n_boot,
                "seed": p.seed,
                "with_card_only": p.with_card_only,
                "alternative": "greater (top > bottom)",
            },
            "population": self.population,
            "ties": {
                "rule": p.ties,
                "draws_made": self.tests.draws,
                "seed": p.seed,
                "how": ties_text(p.ties, self.tests.draws, p.seed, "model"),
            },
            "dependents": self.dependents,
            "n_models": self.n_models,
            "n_missing_card": self.n_missing_card,
            "n_unscored_excluded": self.n_unscored,
            "n_no_card_row_excluded": self.n_no_card_row,
            "n_models_compared": r6(self.n_compared),
            "headline": self.headline(),
            "mean_documentation_score": r6(self.mean_documentation_score),
            "mean_card_score_0_5": r6(self.mean_card_score),
            "mean_metadata_score": r6(self.mean_metadata_score),
            "metadata_fields_used": list(self.metadata_fields_used),
            "metadata_schema": PEATMOSS_SCHEMA,
            "metadata_fields_excluded": dict(sorted(self.metadata_fields_excluded.items())),
            "metadata_fields_not_in_snapshots": dict(NOT_IN_SNAPSHOTS),
            "comparisons": [c.to_dict("documentation_score") for c in self.comparisons],
            "notes": list(self.notes),
        }


def choose_snapshot_and_scorer(
    backend: Any, snapshot_id: str | Selection | None, scorer_key: str | None
) -> tuple[str, str]:
    """The snapshot (latest selected hf one with stored card scores) and scorer key to use."""
    if not has_table(backend, "card_scores"):
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


def dependents_source(backend: Any, snapshot_id: str) -> DependentsSource | None:
    """The complete hf snapshot with GitHub dependents whose date is nearest ``snapshot_id``'s (ties: the later)."""
    if not has_table(backend, "dependents"):
        return None
    d = backend.table("dependents")
    snaps = backend.table("snapshots")
    per = d.group_by("snapshot_id").aggregate(
        n_links=d.count(), n_models=d.package_id.nunique(), n_repos=d.dependent.nunique()
    )
    hub = snaps.filter((snaps.registry == "hf") & (snaps.status == "complete")).select("snapshot_id", "taken_at")
    rows = per.join(hub, "snapshot_id").execute()
    if rows.empty:
        return None
    target = snaps.filter(snaps.snapshot_id == snapshot_id).select("taken_at").execute().iloc[0, 0]
    target = _as_date(target)
    cands = [
        DependentsSource(str(r.snapshot_id), _as_date(r.taken_at), int(r.n_links), int(r.n_models), int(r.n_repos))
        for r in rows.itertuples(index=False)
    ]
    return min(cands, key=lambda c: (abs((c.taken_at - target).days), -c.taken_at.toordinal(), c.snapshot_id))


def _as_date(v: Any) -> dt.date:
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    return dt.date.fromisoformat(str(v)[:10])


_NEAREST: Literal["nearest"] = "nearest"


def _dependents_columns(
    backend: Any, packages: ibis.Table, source: DependentsSource | None
) -> tuple[ibis.Table, ibis.Table | None]:
    """``packages`` with ``dependents`` (distinct GitHub repositories) and ``dependents_match`` ("id", "case", null)."""
    if source is None:
        return packages.mutate(dependents=ibis.null("int64"), dependents_match=ibis.null("string")), None
    aliases = alias_map(backend, "hf")
    d = backend.table("dependents")
    d = d.filter(d.snapshot_id == source.snapshot_id).select(dep_id=d.package_id, dependent=d.dependent)
    d = apply_aliases(d, "dep_id", aliases)
    d = d.mutate(dep_key=d.dep_id.lower())
    counts = d.select("dep_key", "dependent").distinct().group_by("dep_key").aggregate(dep_n=lambda t: t.count())
    exact = d.select(exact_id=d.dep_id).distinct()
    p = apply_aliases(packages.mutate(canon_id=packages.package_id), "canon_id", aliases)
    j = p.left_join(counts, p.canon_id.lower() == counts.dep_key).left_join(exact, p.canon_id == exact.exact_id)
    j = j.mutate(
        dependents=j.dep_n.fill_null(0).cast("int64"),
        dependents_match=ibis.cases(
            (j.dep_key.isnull(), ibis.null("string")), (j.exact_id.notnull(), "id"), else_="case"
        ),
    )
    out = j.drop("dep_key", "dep_n", "exact_id", "canon_id")
    matched = p.select(key=p.canon_id.lower()).distinct()
    unmatched = counts.anti_join(matched, counts.dep_key == matched.key)
    return out, unmatched


def documentation_table(
    backend: Any,
    snapshot_id: str,
    scorer_key: str,
    *,
    dependents: DependentsSource | Literal["nearest"] | None = _NEAREST,
) -> tuple[ibis.Table, tuple[str, ...], dict[str, str]]:
    """Per model: card/metadata/documentation scores and the popularity measures (Ibis).

    ``dependents``: the GitHub mapping to count (default: the one nearest in
    date, :func:`dependents_source`); None leaves the column null.
    """
    meta, used, excluded = metadata_scores(backend, snapshot_id)
    p = backend.table("packages")
    p = p.filter(p.snapshot_id == snapshot_id).select("package_id", "downloads", "likes")
    src = dependents_source(backend, snapshot_id) if dependents == _NEAREST else dependents
    p, _ = _dependents_columns(backend, p, src if isinstance(src, DependentsSource) else None)
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
        dependents=t.dependents,
        dependents_match=t.dependents_match,
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
    descendants, dependents (GitHub repositories mapped to the model; null
    without a mapping in the store), dependents_match, has_score_row, scored,
    card_missing, card_score (0-5), metadata_score (0-1), documentation_score
    (0-1; null when the card could not be scored), ordered by package_id.
    """
    sid, key = choose_snapshot_and_scorer(backend, snapshot_id, scorer_key)
    t, _, _ = documentation_table(backend, sid, key)
    cols = list(t.columns)
    t = t.mutate(snapshot_id=ibis.literal(sid), scorer_key=ibis.literal(key))
    return t.select("snapshot_id", "scorer_key", *cols).order_by("package_id")


_PULLED = (
    "package_id",
    "downloads",
    "likes",
    "descendants",
    "dependents",
    "dependents_match",
    "scored",
    "card_missing",
    "card_score",
    "metadata_score",
    "documentation_score",
)


def _floats(col: Any) -> np.ndarray:
    return np.asarray(col.astype("float64").to_numpy(), dtype=float)


def _population(
    dl: np.ndarray, p: DocsParams, notes: list[str], n_eligible: int | None = None
) -> tuple[np.ndarray, np.ndarray | None, dict[str, Any], np.ndarray]:
    """(rows surely in the population, rows tied at its cut-off or None, description, each row's chance to be in it)."""
    n = dl.size
    known = np.isfinite(dl)
    condition = p.min_downloads > 0 or p.population == "top-downloads"
    elig = known & (dl >= p.min_downloads) if condition else np.ones(n, dtype=bool)
    e_idx = np.flatnonzero(elig)
    over = int((known & (dl > PEATMOSS_OVER_DOWNLOADS) & elig).sum())
    cond = f"at least {p.min_downloads} downloads" if p.min_downloads > 0 else ""
    n_elig = int(e_idx.size) if n_eligible is None else n_eligible  # the rows below the cut may not be here
    info: dict[str, Any] = {
        "kind": p.population,
        "n_eligible": n_elig,
        "min_downloads": p.min_downloads,
        "peatmoss_over_50_rule": (
            f"applied: only models with at least {p.min_downloads} downloads"
            if p.min_downloads > 0
            else "not applied (min_downloads = 0): the population is the top models by downloads whatever their "
            "count; the number with over 50 downloads is reported (n_over_50_downloads)"
        ),
    }
    weight = elig.astype(float)
    if p.population == "snapshot":
        info["definition"] = "every model of the snapshot" + (f" with {cond}" if cond else "")
        info.update(n_models=int(e_idx.size), n_over_50_downloads=over)
        return e_idx, None, info, weight
    size = p.population_size
    info["population_size"] = size
    if n_elig <= size:
        info["definition"] = f"top {size:,} models by downloads" + (f" with {cond}" if cond else "")
        info.update(
            n_models=int(e_idx.size),
            cutoff_downloads=float(dl[e_idx].min()) if e_idx.size else None,
            n_over_50_downloads=over,
        )
        has = cond if cond else "a download count"
        notes.append(f"population: only {n_elig:,} models have {has}, fewer than {size:,}: all of them form it")
        return e_idx, None, info, weight
    v = float(np.sort(dl[e_idx])[-size])
    above = e_idx[dl[e_idx] > v]
    tied = e_idx[dl[e_idx] == v]
    k = size - above.size
    info.update(
        definition=f"top {size:,} models by downloads" + (f" with {cond}" if cond else ""),
        cutoff_downloads=v,
        n_above_cutoff=int(above.size),
        n_tied_at_cutoff=int(tied.size),
        n_over_50_downloads=min(size, over),
    )
    weight = np.zeros(n)
    weight[above] = 1.0
    if p.ties == "all":
        info.update(n_models=int(above.size + tied.size), n_drawn_at_cutoff=0)
        weight[tied] = 1.0
        if tied.size > k:
            notes.append(
                f"population: {tied.size:,} models tie at the cut-off ({v:g} downloads); all of them join it "
                f"({above.size + tied.size:,} models instead of {size:,})"
            )
        return np.concatenate([above, tied]), None, info, weight
    info.update(n_models=size, n_drawn_at_cutoff=int(k) if tied.size > k else 0)
    if tied.size > k:
        weight[tied] = k / tied.size
        notes.append(
            f"population: {tied.size:,} models tie at the cut-off ({v:g} downloads) for {k:,} places; "
            "drawn at random in each draw"
        )
        return above, tied, info, weight
    weight[tied] = 1.0
    return np.concatenate([above, tied]), None, info, weight


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
    population: str = DEFAULTS.population,
    population_size: int = DEFAULTS.population_size,
    min_downloads: int = DEFAULTS.min_downloads,
    ties: str = DEFAULTS.ties,
    draws: int = DEFAULTS.draws,
) -> DocsResult:
    """Documentation scores and the C3 top-N vs bottom-N tests (see the module docstring).

    ``with_card_only`` restricts both groups to the population's models that
    have a card (a sensitivity check: does popularity go with *better* cards,
    or only with having one?).
    """
    by = tuple(dict.fromkeys(by))
    bad = [m for m in by if m not in MEASURES]
    if bad or not by:
        raise NotMeasurable(
            f"unknown popularity measure {bad[0] if bad else '(none)'}; choose from {', '.join(MEASURES)}"
        )
    if top < 2:
        raise ParameterError("top", "must be at least 2 (a t-test needs two models per group)")
    params = validate_data(
        DocsParams,
        dict(
            population=population,
            population_size=population_size,
            min_downloads=min_downloads,
            top=top,
            by=by,
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
    src = dependents_source(backend, sid)
    t, used, excluded = documentation_table(backend, sid, key, dependents=src)
    counts = (
        t.aggregate(
            n=t.count(),
            missing=t.card_missing.cast("int64").sum(),
            unscored=(t.has_score_row & ~t.scored).cast("int64").sum(),
            no_row=(~t.has_score_row).cast("int64").sum(),
            by_id=(t.dependents_match == "id").cast("int64").sum(),
            by_case=(t.dependents_match == "case").cast("int64").sum(),
        )
        .execute()
        .iloc[0]
    )
    notes: list[str] = []
    if int(counts["no_row"] or 0):
        notes.append(
            f"{int(counts['no_row'])} of {int(counts['n'])} models have no {key} score (scoring unfinished: "
            "rerun `ptmscope cards score`, or no card row): left out"
        )
    if int(counts["unscored"] or 0):
        notes.append(f"{int(counts['unscored'])} models' cards could not be scored by {key}: left out")

    pulled = t
    n_eligible: int | None = None
    if params.population == "top-downloads":  # only the models down to the population's cut-off leave the engine
        pk = backend.table("packages")
        elig = pk.filter(
            (pk.snapshot_id == sid) & pk.downloads.notnull() & (pk.downloads >= params.min_downloads)
        ).select("downloads")
        n_eligible = int(elig.count().execute())
        if n_eligible > params.population_size:
            top_p = elig.order_by(ibis.desc("downloads")).limit(params.population_size)
            cut = top_p.aggregate(v=top_p.downloads.min()).execute()  # (an offset is not portable to PySpark)
            pulled = t.filter(t.downloads >= int(cut.iloc[0, 0]))
    df = pulled.select(*_PULLED).order_by("package_id").execute()

    dl = _floats(df["downloads"])
    sure, tied, pop_info, weight = _population(dl, params, notes, n_eligible)
    usable = df["scored"].to_numpy(bool).copy()
    if with_card_only:
        usable &= ~df["card_missing"].to_numpy(bool)
    k_tied = 0 if tied is None else params.population_size - sure.size

    def rows(key_: np.ndarray | None) -> np.ndarray:
        idx = sure
        if tied is not None and key_ is not None:
            idx = np.concatenate([sure, tied[np.argsort(key_[tied], kind="stable")[:k_tied]]])
        return np.sort(idx[usable[idx]])

    deps = _floats(df["dependents"])
    measures_wanted = list(params.by)
    measures: list[Measure] = []
    substitute: str | None = None
    for name in measures_wanted:
        if name == "dependents" and src is None:
            if "descendants" in measures_wanted:
                notes.append("dependents: the store has no GitHub-to-model mapping; left out (descendants compared)")
                continue
            substitute = "descendants"
            measures.append(
                Measure(
                    "descendants",
                    "direct descendants (substitute: no GitHub dependents mapping in the store)",
                    _floats(df["descendants"]),
                )
            )
            notes.append(
                "dependents: the store has no GitHub-to-model mapping (import one with format gh-dependents); "
                "direct descendants in the snapshot's lineage stand in for downstream dependents"
            )
            continue
        measures.append(Measure(name, MEASURE_LABELS[name], _floats(df[name])))

    doc = _floats(df["documentation_score"])
    card = _floats(df["card_score"])
    meta = _floats(df["metadata_score"])
    missing = df["card_missing"].to_numpy(bool).astype(float)
    match = df["dependents_match"].astype(object).to_numpy()
    tests = compare_groups(
        measures,
        np.nan_to_num(doc),  # unscored rows never enter a group
        rows,
        random_rows=tied is not None,
        top=params.top,
        ties=params.ties,
        draws=params.draws,
        n_boot=params.n_boot,
        seed=params.seed,
        describe={"card_score_0_5": np.nan_to_num(card), "metadata_score": meta, "no_card_share": missing},
        count={"with_dependents": np.nan_to_num(deps) > 0, "dependents_matched_by_case": match == "case"},
    )
    notes.extend(tests.notes)
    for c in tests.comparisons:
        if c.drawn_bottom:
            notes.append(
                f"{c.measure}: {c.ties_at_bottom_cutoff:,} compared models tie at the bottom cut-off "
                f"({c.bottom_cutoff:g}); the bottom group's {c.drawn_bottom:,} of them drawn at random"
                + (f" ({c.draws} draws)" if c.draws > 1 else "")
            )
        elif params.ties == "all" and c.n_bottom > c.n:
            notes.append(
                f"{c.measure}: {c.n_bottom:,} compared models at or below the bottom cut-off ({c.bottom_cutoff:g}) "
                "form the bottom group"
            )

    w = weight * usable
    n_cmp = float(w.sum())
    mean = lambda x: float((w * np.nan_to_num(x)).sum() / n_cmp) if n_cmp else float("nan")  # noqa: E731
    pop_info["n_compared"] = r6(n_cmp)
    pop_info["n_compared_over_draws"] = tests.n_rows
    dep_info: dict[str, Any]
    if src is None:
        dep_info = {
            "source": None,
            "substitute": substitute,
            "reason": "no GitHub-to-model mapping (table dependents) in the store",
        }
    else:
        dep_info = {
            "source": src.snapshot_id,
            "taken_at": src.taken_at.isoformat(),
            "days_from_cards_snapshot": (src.taken_at - _as_date(_taken_at(backend, sid))).days,
            "n_links": src.n_links,
            "n_mapped_models": src.n_models,
            "n_repositories": src.n_repos,
            "id_matching": "the Hub's rename aliases followed on both sides, then ids equal; else equal ignoring "
            "letter case; a model without a mapped repository has 0 dependents",
            "snapshot_models_matched_by_id": int(counts["by_id"] or 0),
            "snapshot_models_matched_by_case": int(counts["by_case"] or 0),
            "mapped_ids_not_in_snapshot": _unmatched_mapping_ids(backend, sid, src),
            "population_models_with_dependents": tests.counts.get("with_dependents"),
            "population_models_matched_by_case": tests.counts.get("dependents_matched_by_case"),
        }
    return DocsResult(
        snapshot_id=sid,
        scorer_key=key,
        params=params,
        n_models=int(counts["n"]),
        n_missing_card=int(counts["missing"] or 0),
        n_unscored=int(counts["unscored"] or 0),
        n_no_card_row=int(counts["no_row"] or 0),
        population=pop_info,
        n_compared=n_cmp,
        n_compared_missing_card=float((w * missing).sum()),
        mean_documentation_score=mean(doc),
        mean_card_score=mean(card),
        mean_metadata_score=mean(meta),
        metadata_fields_used=used,
        metadata_fields_excluded=excluded,
        dependents=dep_info,
        tests=tests,
        notes=tuple(notes),
    )


def _unmatched_mapping_ids(backend: Any, snapshot_id: str, source: DependentsSource) -> int:
    """Mapped model ids (after aliases, ignoring case) that name no model of the snapshot."""
    p = backend.table("packages")
    _, unmatched = _dependents_columns(backend, p.filter(p.snapshot_id == snapshot_id).select("package_id"), source)
    return int(unmatched.count().execute()) if unmatched is not None else 0


def _taken_at(backend: Any, snapshot_id: str) -> Any:
    s = backend.table("snapshots")
    return s.filter(s.snapshot_id == snapshot_id).select("taken_at").execute().iloc[0, 0]


def summarise(res: DocsResult, p: DocsParams) -> dict[str, Any]:
    """The paper's C3 test over every popularity measure compared: the weakest result decides."""
    d = res.to_dict()
    comps = d.get("comparisons", [])
    base: dict[str, Any] = {
        "formula": "documentation score, top-N vs bottom-N models of the population by each popularity measure: "
        "one-sided Welch t (Holm over the measures; the largest p over the draws of tied models) and a "
        "bootstrap CI of the mean difference; the summary takes the weakest measure",
        "population": d["population"]["definition"],
        "n_population": d["population"]["n_models"],
        "ties": p.ties,
        "draws": d["ties"]["draws_made"],
        "measures": [c["measure"] for c in comps],
    }
    if not comps:
        return {**base, "n_per_group": 0, "p_holm": None, "mean_diff_low": None, "mean_diff_high": None}
    lows = [c["mean_difference"]["low"] for c in comps]
    highs = [c["mean_difference"]["high"] for c in comps]
    ps = [c["p_welch_holm_max"] for c in comps]
    return {
        **base,
        "n_per_group": min(min(c["n_top"], c["n_bottom"]) for c in comps),
        "p_holm": None if any(x is None for x in ps) else max(ps),
        "mean_diff_low": None if any(x is None for x in lows) else min(lows),
        "mean_diff_high": None if any(x is None for x in highs) else max(highs),
        "by_measure": {
            c["measure"]: {
                "n_per_group": c["n_per_group"],
                "p_holm_max": c["p_welch_holm_max"],
                "mean_diff": c["mean_difference"]["estimate"],
                "mean_diff_low": c["mean_difference"]["low"],
                "mean_diff_high": c["mean_difference"]["high"],
                "cohens_d": c["cohens_d"],
            }
            for c in comps
        },
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
        population=p.population,
        population_size=p.population_size,
        min_downloads=p.min_downloads,
        ties=p.ties,
        draws=p.draws,
    )


def _figure(result: DocsResult, p: DocsParams) -> Any:
    from ..figures.docs import docs_figure

    return docs_figure(result)


def _tables(data: dict[str, Any]) -> list[ReportTable]:
    rows = []
    for c in data.get("comparisons", []):
        spread = c.get("over_draws", {}).get("p_welch_holm", {})
        rows.append(
            [
                c["label"],
                c["n_top"] if c["n_top"] == c["n_bottom"] else f"{c['n_top']} / {c['n_bottom']}",
                c["documentation_score"]["top_mean"],
                c["documentation_score"]["bottom_mean"],
                c["welch_t"]["p"],
                c["p_welch_holm"],
                spread.get("max"),
                c["cohens_d"],
                c["mean_difference"]["low"],
                c["mean_difference"]["high"],
            ]
        )
    pop = data.get("population", {})
    ties = data.get("ties", {})
    return [
        ReportTable(
            f"Top-N vs bottom-N documentation score; population: {pop.get('definition', '?')} "
            f"({pop.get('n_models', 0):,} models); ties: {ties.get('how', '?')}",
            (
                "popularity",
                "N",
                "top mean",
                "bottom mean",
                "Welch p",
                "p (Holm)",
                "p (Holm), max over draws",
                "Cohen's d",
                "mean diff CI low",
                "mean diff CI high",
            ),
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
            ("population.definition", "population"),
            ("population.n_models", "models in the population"),
            ("population.n_over_50_downloads", "of them with over 50 downloads"),
            ("ties.draws_made", "draws of tied models"),
            ("mean_documentation_score", "mean documentation score (population)"),
            ("summary.measures", "popularity measures"),
            ("summary.n_per_group", "N per group (smallest over the measures)"),
            ("comparisons[measure=downloads].mean_difference.estimate", "mean difference top - bottom, downloads"),
            ("comparisons[measure=likes].mean_difference.estimate", "mean difference top - bottom, likes"),
            ("comparisons[measure=dependents].mean_difference.estimate", "mean difference top - bottom, dependents"),
            ("comparisons[measure=descendants].mean_difference.estimate", "mean difference top - bottom, descendants"),
            ("summary.mean_diff_low", "95% CI low (smallest over the measures)"),
            ("summary.p_holm", "Welch p (Holm; largest over measures and draws)"),
            ("comparisons[measure=downloads].cohens_d", "Cohen's d, downloads"),
            ("dependents.population_models_with_dependents.median", "population models with GitHub dependents"),
        ),
        caveats=(
            "The paper's population is PeaTMOSS's top 15,000 models with over 50 downloads (2023); here it is the "
            "snapshot's top models by its own download counts, and the over-50 condition is applied only when "
            "min_downloads is set.",
            "Card scores come from the scorer run on the store (rules by default), not from ChatGPT-4.",
            "The GitHub dependents mapping is PeaTMOSS's (2023); a model it does not name counts 0 dependents.",
        ),
        needs="stored card scores (`ptmscope cards score`), downloads and likes of one Hub snapshot; a GitHub "
        "dependents mapping (format gh-dependents) for the third popularity measure",
    )
)
