"""Under-documentation: the share of model cards missing each section.

Formula: score every card of the chosen snapshot with a card scorer
(default the rules scorer of :mod:`ptmscope.cards`, the five items of the
paper's C3 score: description, limitations, how to use, training,
evaluation).  For each section s:

* ``missing_share_cards[s]``  = cards without s / scored cards;
* ``missing_share_models[s]`` = (models without a card + cards without s) /
  all models of the snapshot (a missing card documents nothing).

``sections_missing_in_half`` counts the sections missing from at least half
of the scored cards.  Each share has a Wilson 95% interval.  The scores are
read from the store's ``card_scores`` table (``ptmscope cards score``; the
pipeline runs the rules scorer first) and aggregated there; without stored
scores the cards are scored on the fly (identical texts once, by sha256).

Tests Table 3 claim T3.8 (extension test ext.underdoc); the paper scored cards only to correlate
their score with popularity (C3).  Card texts are treated as hostile input:
they are only ever passed to the scorer, never rendered.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from typing import Any

import ibis
from pydantic import Field

from ..errors import NotMeasurable
from ..snapshots import Selection, as_selection, pick
from .naming import wilson
from .registry import Context, Metric, Params, ReportTable, register

NAME = "underdoc"


class UnderdocParams(Params):
    scorer: str = Field("rules", description="Card scorer whose stored scores to use (scored on the fly if none).")


DEFAULTS = UnderdocParams()


@dataclass(frozen=True)
class UnderdocResult:
    metric: str
    snapshot_id: str
    taken_at: str
    synthetic: bool
    scorer: str
    scores_from: str  # "stored card_scores" or "scored on the fly"
    n_models: int
    n_cards: int  # models with a card text
    n_scored: int
    n_missing_card: int
    missing_card_share: float
    sections: list[str]
    missing_share_cards: dict[str, float]
    missing_share_cards_ci: dict[str, list[float]]
    missing_share_models: dict[str, float]
    score_distribution: dict[str, int]  # score 0..5 -> number of cards
    sections_missing_in_half: int
    max_section_missing_share: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _card_snapshot(backend: Any, selection: Selection) -> Any:
    return pick(backend, "hf", selection, table="cards", columns=("text",), what=NAME, rows_meaning="model-card texts")


def _stored_scores(backend: Any, sid: str, key: str) -> tuple[int, dict[str, int], list[tuple[int, int]]] | None:
    from ..cards import SECTIONS

    try:
        cs = backend.table("card_scores")
    except Exception:  # no scores table in this store
        return None
    cs = cs.filter((cs.snapshot_id == sid) & (cs.scorer_key == key) & (cs.missing == False) & cs.scored)  # noqa: E712
    aggs = {f"miss_{s}": (~cs[s].fill_null(False)).cast("int64").sum() for s in SECTIONS}
    row = cs.aggregate(n=cs.count(), **aggs).execute().iloc[0]
    n = int(row["n"])
    if n == 0:
        return None
    dist = cs.group_by("score").aggregate(k=ibis._.count()).order_by("score").execute()
    return (
        n,
        {s: int(row[f"miss_{s}"] or 0) for s in SECTIONS},
        [(int(a), int(b)) for a, b in zip(dist["score"], dist["k"], strict=False)],
    )


def _score_here(c: Any, sc: Any, sections: tuple[str, ...]) -> tuple[int, dict[str, int], list[tuple[int, int]]]:
    """No stored scores: score the texts now (identical texts once)."""
    df = c.select("package_id", "text", "text_sha256").order_by("package_id").execute()
    keys = [str(h) if h is not None else _sha(t) for t, h in zip(df["text"], df["text_sha256"], strict=False)]
    texts: dict[str, str] = {}
    for k, t in zip(keys, df["text"], strict=False):
        texts.setdefault(k, t)
    order = sorted(texts)
    scored = dict(zip(order, sc.score_many([texts[k] for k in order]), strict=False))
    ok = [scored[k] for k in keys if scored[k].scored]
    missing = {s: sum(1 for x in ok if not x.has(s)) for s in sections}
    dist: dict[int, int] = {}
    for x in ok:
        dist[int(x.score)] = dist.get(int(x.score), 0) + 1
    return len(ok), missing, sorted(dist.items())


def underdoc(
    backend: Any, *, snapshot_id: str | Selection | None = None, scorer: str = DEFAULTS.scorer
) -> UnderdocResult:
    """Share of cards missing each of the five sections (module docstring)."""
    from ..cards import SECTIONS, get_scorer

    chosen = _card_snapshot(backend, as_selection(snapshot_id))
    sid = chosen.snapshot_id
    p = backend.table("packages")
    n_models = int(p.filter(p.snapshot_id == sid).count().execute())
    sc = get_scorer(scorer)
    c = backend.table("cards")
    c = c.filter((c.snapshot_id == sid) & (c.missing == False) & c.text.notnull())  # noqa: E712
    n_cards = int(c.count().execute())
    if n_cards == 0:
        raise NotMeasurable(f"{NAME}: snapshot {sid} has no model-card texts")
    stored = _stored_scores(backend, sid, sc.key)
    if stored is not None:
        # the card scores of `ptmscope cards score`, aggregated in the backend
        n_scored, missing_counts, dist_rows = stored
        source = "stored card_scores"
    else:
        n_scored, missing_counts, dist_rows = _score_here(c, sc, SECTIONS)
        source = "scored on the fly"
    if n_scored == 0:
        raise NotMeasurable(f"{NAME}: none of the {n_cards} cards of {sid} could be scored")
    n_missing_card = max(0, n_models - n_cards)
    miss_cards, miss_ci, miss_models = {}, {}, {}
    for s in SECTIONS:
        k = missing_counts[s]
        miss_cards[s] = k / n_scored
        miss_ci[s] = wilson(k, n_scored)
        miss_models[s] = (k + n_missing_card) / max(1, n_scored + n_missing_card)
    dist: dict[str, int] = {str(i): 0 for i in range(len(SECTIONS) + 1)}
    for score, count in dist_rows:
        dist[str(int(score))] += int(count)
    return UnderdocResult(
        metric=NAME,
        snapshot_id=sid,
        taken_at=chosen.taken_at.isoformat(),
        synthetic=chosen.synthetic,
        scorer=sc.key,
        scores_from=source,
        n_models=n_models,
        n_cards=n_cards,
        n_scored=n_scored,
        n_missing_card=n_missing_card,
        missing_card_share=n_missing_card / n_models if n_models else 0.0,
        sections=list(SECTIONS),
        missing_share_cards=miss_cards,
        missing_share_cards_ci=miss_ci,
        missing_share_models=miss_models,
        score_distribution=dist,
        sections_missing_in_half=sum(1 for v in miss_cards.values() if v >= 0.5),
        max_section_missing_share=max(miss_cards.values()),
    )


def _compute(ctx: Context, p: UnderdocParams) -> UnderdocResult:
    return underdoc(ctx.backend, snapshot_id=ctx.selection, scorer=p.scorer)


def _figure(result: UnderdocResult, p: UnderdocParams) -> Any:
    from ..figures.underdoc import underdoc_figure

    return underdoc_figure(result)


def _tables(data: dict[str, Any]) -> list[ReportTable]:
    from ..cards.base import SECTION_LABELS

    secs = data.get("sections", [])
    return [
        ReportTable(
            "Share of cards missing each section",
            ("section", "share of cards", "95% CI", "share of all models"),
            [
                [
                    SECTION_LABELS.get(s, s),
                    data["missing_share_cards"][s],
                    data["missing_share_cards_ci"][s],
                    data["missing_share_models"][s],
                ]
                for s in secs
            ],
        )
    ]


METRIC = register(
    Metric(
        name=NAME,
        title="Under-documentation: share of model cards missing each section",
        params=UnderdocParams,
        compute=_compute,
        figure=_figure,
        tables=_tables,
        key_numbers=(
            ("snapshot_id", "snapshot"),
            ("scorer", "scorer"),
            ("n_models", "models"),
            ("n_scored", "scored cards"),
            ("missing_card_share", "share of models without a card"),
            ("sections_missing_in_half", "sections missing from half the cards or more"),
        ),
        needs="model-card texts (cards.text) of one Hub snapshot",
    )
)
