"""Card scores in the store: ``card_scores`` (model cards) and ``dataset_card_scores`` (dataset cards).

One row per (snapshot, package, scorer key).  ``scorer_key`` names the scorer
and its configuration (``rules-v2``, ``embedding-all-MiniLM-L6-v2-v1``,
``llm-<model>-v2``, ``dataset-rules-v1``), so scores of different scorers live
side by side.  The table follows the scorer's sections: the paper's five
model-card items go to ``card_scores``, the dataset-card template's five
sections (:mod:`ptmscope.cards.datasets`) to ``dataset_card_scores``, which
have the same columns except the section ones.  Model-card scorers score
snapshots of model registries, the dataset-card scorer those of ``hf-datasets``.

Scoring is resumable: a card already scored under the same scorer key and
the same ``text_sha256`` is skipped.  ``snapshot_id`` makes
``Store.delete_snapshot`` remove the scores with their snapshot.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from ..errors import StoreError
from .base import SECTIONS, CardScore, Scorer

DATASET_REGISTRY = "hf-datasets"


@dataclass(frozen=True)
class ScoreTable:
    """Where the scores of one kind of card go."""

    name: str
    sections: tuple[str, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        return (
            "snapshot_id",
            "package_id",
            "scorer",
            "scorer_key",
            "text_sha256",
            "missing",
            "scored",
            *self.sections,
            "score",
            "evidence",
            "note",
            "scored_at",
        )

    @property
    def ddl(self) -> str:
        flags = "".join(f"    {s} BOOLEAN,\n" for s in self.sections)
        return (
            f"CREATE TABLE IF NOT EXISTS {self.name} (\n"
            "    snapshot_id VARCHAR NOT NULL,\n    package_id VARCHAR NOT NULL,\n    scorer VARCHAR NOT NULL,\n"
            "    scorer_key VARCHAR NOT NULL,\n    text_sha256 VARCHAR,\n    missing BOOLEAN NOT NULL,\n"
            f"    scored BOOLEAN NOT NULL,\n{flags}    score BIGINT,\n    evidence VARCHAR,\n    note VARCHAR,\n"
            "    scored_at TIMESTAMP NOT NULL\n)"
        )


MODEL_CARD_TABLE = ScoreTable("card_scores", SECTIONS)


def _dataset_table() -> ScoreTable:
    from .datasets import DATASET_SECTIONS

    return ScoreTable("dataset_card_scores", DATASET_SECTIONS)


def score_table(scorer: Scorer) -> ScoreTable:
    """The table a scorer's scores go to, from the sections it scores."""
    sections = tuple(getattr(scorer, "sections", SECTIONS))
    if sections == SECTIONS:
        return MODEL_CARD_TABLE
    table = _dataset_table()
    if sections != table.sections:
        raise StoreError(f"scorer {scorer.key!r} scores unknown sections {sections}: no table stores them")
    return table


CARD_SCORES_DDL = MODEL_CARD_TABLE.ddl
_COLUMNS = MODEL_CARD_TABLE.columns


def ensure_table(con: Any, table: ScoreTable = MODEL_CARD_TABLE) -> None:
    con.execute(table.ddl)


@dataclass(frozen=True)
class ScoreRun:
    """What one ``cards score`` run did."""

    snapshot_id: str
    scorer: str
    scorer_key: str
    n_cards: int  # card rows of the snapshot
    n_skipped: int  # already scored with this scorer key and text
    n_scored: int  # newly scored and stored
    n_unscored: int  # scorer could not judge (LLM garbage/failure)
    n_missing: int  # models without a card (stored as score 0)
    seconds: float
    mean_score: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "inputs": {"snapshot_id": self.snapshot_id, "scorer": self.scorer, "scorer_key": self.scorer_key},
            "n_cards": self.n_cards,
            "n_skipped": self.n_skipped,
            "n_scored": self.n_scored,
            "n_unscored": self.n_unscored,
            "n_missing": self.n_missing,
            "seconds": round(self.seconds, 3),
            "mean_score": None if self.mean_score is None else round(self.mean_score, 6),
        }


def _rows(
    snapshot_id: str,
    scorer: Scorer,
    ids: list[str],
    shas: list[str | None],
    missing: list[bool],
    scores: list[CardScore],
    table: ScoreTable = MODEL_CARD_TABLE,
) -> pa.Table:
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    cols: dict[str, list[Any]] = {c: [] for c in table.columns}
    for pid, sha, miss, sc in zip(ids, shas, missing, scores, strict=False):
        cols["snapshot_id"].append(snapshot_id)
        cols["package_id"].append(pid)
        cols["scorer"].append(scorer.name)
        cols["scorer_key"].append(scorer.key)
        cols["text_sha256"].append(sha)
        cols["missing"].append(bool(miss))
        cols["scored"].append(sc.scored)
        for s, p in zip(table.sections, sc.present, strict=True):
            cols[s].append(bool(p) if sc.scored else None)
        cols["score"].append(sc.score)
        cols["evidence"].append(json.dumps(sc.to_dict()["evidence"], sort_keys=True, ensure_ascii=False))
        cols["note"].append(sc.note)
        cols["scored_at"].append(now)
    return pa.table(cols)


def score_snapshot(
    store: Any,
    snapshot_id: str,
    scorer: Scorer,
    *,
    batch_size: int = 2000,
    rescore_unscored: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> ScoreRun:
    """Score every card of ``snapshot_id`` not yet scored by ``scorer`` and store the scores.

    Each batch is written in its own transaction, so an interrupted run keeps
    what it finished and the next run resumes.  Unscored rows (an LLM that
    failed) are retried on the next run unless ``rescore_unscored`` is False.
    """
    snap = store.snapshot(snapshot_id)  # raises StoreError when absent
    table = score_table(scorer)
    name = table.name
    is_dataset_scorer = table is not MODEL_CARD_TABLE
    if is_dataset_scorer != (snap.registry == DATASET_REGISTRY):
        kind = "dataset cards" if is_dataset_scorer else "model cards"
        raise StoreError(
            f"{store.path}: snapshot {snapshot_id} is of registry {snap.registry!r}; scorer {scorer.key!r} "
            f"scores {kind}" + (f" (snapshots of {DATASET_REGISTRY!r})" if is_dataset_scorer else "")
        )
    con = store.con
    total = con.execute("SELECT count(*) FROM cards WHERE snapshot_id = ?", [snapshot_id]).fetchall()[0][0]
    if total == 0:  # checked before any table is created: the store stays as it was
        raise StoreError(
            f"{store.path}: snapshot {snapshot_id} has no cards (import it with its cards file, e.g. "
            "`ptmscope ingest model_infos.jsonl.gz --cards model_cards.jsonl.gz`)"
        )
    ensure_table(con, table)
    keep = "AND s.scored" if rescore_unscored else ""
    todo_sql = f"""
        SELECT c.package_id, c.text, c.text_sha256, c.missing FROM cards c
        WHERE c.snapshot_id = ? AND NOT EXISTS (
            SELECT 1 FROM {name} s
            WHERE s.snapshot_id = c.snapshot_id AND s.package_id = c.package_id AND s.scorer_key = ?
              AND s.text_sha256 IS NOT DISTINCT FROM c.text_sha256 {keep})
        ORDER BY c.package_id
    """
    rows = con.execute(todo_sql, [snapshot_id, scorer.key]).fetchall()
    skipped = total - len(rows)
    # rows to replace exist only when this key scored the snapshot before (changed text, unscored)
    had_rows = (
        con.execute(
            f"SELECT count(*) FROM {name} WHERE snapshot_id = ? AND scorer_key = ?", [snapshot_id, scorer.key]
        ).fetchall()[0][0]
        > 0
    )
    t0 = time.perf_counter()
    n_scored = n_unscored = n_missing = 0
    for start in range(0, len(rows), batch_size):
        chunk = rows[start : start + batch_size]
        ids = [r[0] for r in chunk]
        texts = [None if r[3] else r[1] for r in chunk]
        shas = [r[2] for r in chunk]
        missing = [bool(r[3]) or r[1] is None for r in chunk]
        scores = scorer.score_many(texts)
        n_scored += sum(1 for s in scores if s.scored)
        n_unscored += sum(1 for s in scores if not s.scored)
        n_missing += sum(missing)
        rows_table = _rows(snapshot_id, scorer, ids, shas, missing, scores, table)
        with store.transaction() as tx:
            if had_rows:
                tx.execute(
                    f"DELETE FROM {name} WHERE snapshot_id = ? AND scorer_key = ? AND package_id IN "
                    "(SELECT unnest(?::VARCHAR[]))",
                    [snapshot_id, scorer.key, ids],
                )
            tx.register("_ptmscope_card_scores", rows_table)
            try:
                tx.execute(f"INSERT INTO {name} ({', '.join(table.columns)}) SELECT * FROM _ptmscope_card_scores")
            finally:
                tx.unregister("_ptmscope_card_scores")
        if progress:
            progress(min(start + batch_size, len(rows)), len(rows))
    seconds = time.perf_counter() - t0
    mean = con.execute(
        f"SELECT avg(score) FROM {name} WHERE snapshot_id = ? AND scorer_key = ? AND scored",
        [snapshot_id, scorer.key],
    ).fetchall()[0][0]
    return ScoreRun(
        snapshot_id,
        scorer.name,
        scorer.key,
        int(total),
        int(skipped),
        n_scored,
        n_unscored,
        n_missing,
        seconds,
        None if mean is None else float(mean),
    )


def scorer_keys(con: Any, snapshot_id: str, table: str = MODEL_CARD_TABLE.name) -> list[str]:
    """Scorer keys with stored scores for ``snapshot_id`` in ``table`` (sorted by name)."""
    if table not in (MODEL_CARD_TABLE.name, _dataset_table().name):
        raise StoreError(f"no card-score table {table!r}")
    try:
        rows = con.execute(
            f"SELECT DISTINCT scorer_key FROM {table} WHERE snapshot_id = ? ORDER BY scorer_key", [snapshot_id]
        ).fetchall()
    except Exception:  # table absent: nothing scored yet
        return []
    return [r[0] for r in rows]
