"""Validation of a scorer against human labels (the model-card-quality dev set).

Inputs: a labels CSV (``modelId`` + binary columns) and a cards JSON-lines
file (``modelId`` + ``modelcard_text``/``readme``/``text``, optional
``tags``), gzip or not; optionally the heading annotations CSV.

Reports per section precision, recall, F1 against the matching label
column, and the ROC AUC of (a) the card score (0..5) and (b) the
documentation score (mean of card score / 5 and the tag-derived metadata
score) for the overall human label ``quality_high``.

Label reliability (see ``../shared/data/README.md``): in the source,
``has_uses`` equals ``has_training`` on every row, so ``has_uses`` is not a
usable reference for "how to use".  When the heading annotations are given,
"how to use" is also checked against a reference derived from them: the
card has a heading the annotators put in the *how* category.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError, PtmscopeError
from ..sources._common import KeyRepeats, checked_int, csv_records, iter_json_lines, read_bytes, read_text
from .base import SECTIONS, CardScore, Scorer
from .metadata import TAG_FIELDS

#: section -> (label column, reliable?, note)
LABEL_COLUMNS: dict[str, tuple[str, bool, str]] = {
    "description": ("has_description", True, ""),
    "limitations": ("has_limitations_and_bias", True, ""),
    "how_to_use": ("has_uses", False, "has_uses equals has_training on every row of the source (labelling defect)"),
    "training": (
        "has_training",
        True,
        "may carry the has_uses/has_training mix-up of the source; tracks training headings",
    ),
    "evaluation": ("has_evaluation", True, ""),
}
HOW_FROM_HEADINGS = "how_from_headings"
QUALITY_COLUMN = "quality_high"


@dataclass(frozen=True)
class DevSet:
    ids: tuple[str, ...]
    texts: tuple[str | None, ...]
    tags: tuple[tuple[str, ...], ...]
    labels: dict[str, np.ndarray]  # column -> 0/1 array aligned with ids
    labels_path: str
    cards_path: str
    annotations_path: str | None = None


@dataclass(frozen=True)
class SectionMetrics:
    section: str
    reference: str
    reliable: bool
    precision: float
    recall: float
    f1: float
    support: int  # positives in the reference
    predicted: int
    n: int
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "section": self.section,
            "reference": self.reference,
            "reliable": self.reliable,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "support": self.support,
            "predicted": self.predicted,
            "n": self.n,
            "note": self.note,
        }


@dataclass(frozen=True)
class ValidationResult:
    scorer: str
    scorer_key: str
    n_cards: int
    n_scored: int
    sections: tuple[SectionMetrics, ...]
    auc_card_score: float
    auc_documentation_score: float
    cards_per_second: float
    labels_path: str
    cards_path: str
    annotations_path: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        reliable = [s.f1 for s in self.sections if s.reliable]
        return {
            "inputs": {
                "scorer": self.scorer,
                "scorer_key": self.scorer_key,
                "labels": self.labels_path,
                "cards": self.cards_path,
                "annotations": self.annotations_path,
                "quality_label": QUALITY_COLUMN,
            },
            "n_cards": self.n_cards,
            "n_scored": self.n_scored,
            "sections": [s.to_dict() for s in self.sections],
            "mean_f1_reliable": round(float(np.mean(reliable)), 4) if reliable else None,
            "auc_card_score": round(self.auc_card_score, 4),
            "auc_documentation_score": round(self.auc_documentation_score, 4),
            "cards_per_second": round(self.cards_per_second, 1) if np.isfinite(self.cards_per_second) else None,
            **self.extra,
        }


def _csv(path: Path, required: Sequence[str], what: str) -> list[tuple[int, dict[str, str]]]:
    """``(line, row)`` of a CSV file (gzip or not): every row with the header's fields, no column named twice."""
    if not path.is_file():
        raise InputError(path, "no such file")
    header, rows = csv_records(path, read_text(path))
    missing = [c for c in required if c not in header]
    if missing:
        cols = " and ".join(required) + (" columns" if len(required) > 1 else " column")
        raise InputError(path, f"{what} CSV needs {cols}", line=1, column=missing[0])
    return rows


def _read_labels(path: Path) -> dict[str, dict[str, int]]:
    """modelId -> {label column: 0/1}; a model labelled twice keeps its first row, and must not disagree."""
    out: dict[str, dict[str, int]] = {}
    first_line: dict[str, int] = {}
    for lineno, row in _csv(path, ("modelId",), "labels"):
        mid = row["modelId"].strip()
        if not mid:
            raise InputError(path, "empty modelId", line=lineno, column="modelId")
        vals: dict[str, int] = {}
        for col in [c for c, _, _ in LABEL_COLUMNS.values()] + [QUALITY_COLUMN]:
            v = checked_int(row.get(col), path=path, line=lineno, field_name=col, low=0, high=1)
            if v is not None:
                vals[col] = v
        if mid in out:
            if out[mid] != vals:
                raise InputError(
                    path,
                    f"modelId {mid!r} is labelled twice with different labels (lines {first_line[mid]} and {lineno})",
                    line=lineno,
                    column="modelId",
                )
            continue
        out[mid] = vals
        first_line[mid] = lineno
    return out


def _read_cards(path: Path) -> dict[str, tuple[str | None, tuple[str, ...]]]:
    """modelId -> (card text, tags); a repeated modelId, or a key repeated in a record, keeps its first value."""
    if not path.is_file():
        raise InputError(path, "no such file")
    out: dict[str, tuple[str | None, tuple[str, ...]]] = {}
    for lineno, rec in iter_json_lines(path, read_bytes(path), repeats=KeyRepeats()):
        if not isinstance(rec, dict):
            raise InputError(path, "each line must be a JSON object", line=lineno)
        mid = rec.get("modelId") or rec.get("id")
        if not isinstance(mid, str) or not mid:
            raise InputError(path, "record has no modelId", line=lineno, column="modelId")
        key = next((k for k in ("modelcard_text", "readme", "text", "card") if k in rec), "modelcard_text")
        text = rec.get(key)
        if text is not None and not isinstance(text, str):
            raise InputError(path, f"card text must be a string, got {type(text).__name__}", line=lineno, column=key)
        tags = rec.get("tags") or []
        tags = tuple(t for t in tags if isinstance(t, str)) if isinstance(tags, list) else ()
        out.setdefault(mid, (text, tags))
    return out


def _read_how_headings(path: Path) -> set[str]:
    rows = _csv(path, ("modelId", "category"), "annotations")
    return {r["modelId"] for _, r in rows if "how" in r["category"].lower().split(",")}


def load_dev_set(labels: str | Path, cards: str | Path, annotations: str | Path | None = None) -> DevSet:
    """Labels and cards joined on ``modelId`` (labels without a card are an error)."""
    labels_p, cards_p = Path(labels), Path(cards)
    lab = _read_labels(labels_p)
    crd = _read_cards(cards_p)
    missing = [m for m in lab if m not in crd]
    if missing:
        raise InputError(cards_p, f"{len(missing)} labelled models have no card here (first: {missing[0]})")
    ids = tuple(sorted(lab))
    cols: dict[str, np.ndarray] = {}
    for col in {c for c, _, _ in LABEL_COLUMNS.values()} | {QUALITY_COLUMN}:
        if all(col in lab[m] for m in ids):
            cols[col] = np.array([lab[m][col] for m in ids], dtype=int)
    if annotations is not None:
        how = _read_how_headings(Path(annotations))
        cols[HOW_FROM_HEADINGS] = np.array([m in how for m in ids], dtype=int)
    return DevSet(
        ids=ids,
        texts=tuple(crd[m][0] for m in ids),
        tags=tuple(crd[m][1] for m in ids),
        labels=cols,
        labels_path=str(labels_p),
        cards_path=str(cards_p),
        annotations_path=None if annotations is None else str(annotations),
    )


def roc_auc(scores: Sequence[float] | np.ndarray, labels: Sequence[int] | np.ndarray) -> float:
    """ROC AUC by the rank-sum (Mann-Whitney) formula; ties count one half."""
    from scipy.stats import rankdata

    s = np.asarray(scores, dtype=float)
    y = np.asarray(labels, dtype=int)
    pos, neg = int((y == 1).sum()), int((y == 0).sum())
    if pos == 0 or neg == 0:
        return float("nan")
    ranks = rankdata(s)
    return float((ranks[y == 1].sum() - pos * (pos + 1) / 2) / (pos * neg))


def prf(pred: np.ndarray, ref: np.ndarray) -> tuple[float, float, float]:
    tp = int((pred & ref).sum())
    fp = int((pred & ~ref).sum())
    fn = int((~pred & ref).sum())
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def tag_metadata_score(tags: Sequence[str]) -> float:
    """Metadata score from tags alone (the dev set has no other metadata)."""
    from .metadata import flags_from_tags

    flags = flags_from_tags(tags)
    return sum(flags[f] for f in TAG_FIELDS) / len(TAG_FIELDS)


def _section_metrics(
    dev: DevSet, scores: Sequence[CardScore], rows: np.ndarray | None = None
) -> tuple[tuple[SectionMetrics, ...], np.ndarray]:
    """Per-section metrics over ``rows`` (all cards when None); also the mask of scored cards used."""
    ok = np.array([s.scored for s in scores], dtype=bool)
    if rows is not None:
        keep = np.zeros(len(scores), dtype=bool)
        keep[rows] = True
        ok &= keep
    pred = {sec: np.array([s.has(sec) for s in scores], dtype=bool) for sec in SECTIONS}
    metrics: list[SectionMetrics] = []
    for sec in SECTIONS:
        col, reliable, note = LABEL_COLUMNS[sec]
        refs = [(col, reliable, note)]
        if sec == "how_to_use" and HOW_FROM_HEADINGS in dev.labels:
            refs.append(
                (HOW_FROM_HEADINGS, True, "card has a heading annotated 'how' (derived from the heading annotations)")
            )
        for ref_col, rel, nt in refs:
            if ref_col not in dev.labels:
                continue
            ref = dev.labels[ref_col].astype(bool)[ok]
            pr = pred[sec][ok]
            p, r, f = prf(pr, ref)
            metrics.append(SectionMetrics(sec, ref_col, rel, p, r, f, int(ref.sum()), int(pr.sum()), int(ok.sum()), nt))
    return tuple(metrics), ok


def validate(
    scorer: Scorer, dev: DevSet, scores: list[CardScore] | None = None, seconds: float | None = None
) -> ValidationResult:
    """Score the dev set with ``scorer`` (unless ``scores`` are given, with the ``seconds`` they took) and compare."""
    t0 = time.perf_counter()
    if scores is None:
        scores = scorer.score_many(list(dev.texts))
        seconds = time.perf_counter() - t0
    speed = len(dev.ids) / max(seconds, 1e-9) if seconds is not None else float("nan")
    metrics, ok = _section_metrics(dev, scores)
    auc_card = auc_doc = float("nan")
    if QUALITY_COLUMN in dev.labels:
        y = dev.labels[QUALITY_COLUMN][ok]
        card = np.array([s.score for s in scores if s.scored], dtype=float)
        meta = np.array([tag_metadata_score(t) for t, k in zip(dev.tags, ok, strict=False) if k], dtype=float)
        auc_card = roc_auc(card, y)
        auc_doc = roc_auc((card / 5 + meta) / 2, y)
    return ValidationResult(
        scorer=scorer.name,
        scorer_key=scorer.key,
        n_cards=len(dev.ids),
        n_scored=int(ok.sum()),
        sections=metrics,
        auc_card_score=auc_card,
        auc_documentation_score=auc_doc,
        cards_per_second=speed,
        labels_path=dev.labels_path,
        cards_path=dev.cards_path,
        annotations_path=dev.annotations_path,
        extra={"metadata_fields_from_tags": list(TAG_FIELDS)},
    )


# -- k-fold cross-validation ---------------------------------------------------------
DEFAULT_FOLDS = 5
DEFAULT_FOLD_SEED = 0


def fold_indices(n: int, k: int, seed: int = DEFAULT_FOLD_SEED) -> list[np.ndarray]:
    """``k`` disjoint folds of ``range(n)``: a seeded permutation cut into near-equal parts (sizes differ by <= 1)."""
    if k < 2 or k > n:
        raise PtmscopeError(f"cross-validation needs 2 <= folds <= {n} (the number of cards), got {k}")
    perm = np.random.default_rng(seed).permutation(n)
    return [np.sort(part) for part in np.array_split(perm, k)]


@dataclass(frozen=True)
class FoldResult:
    fold: int  # 1-based
    ids: tuple[str, ...]
    sections: tuple[SectionMetrics, ...]

    @property
    def mean_f1_reliable(self) -> float:
        return float(np.mean([s.f1 for s in self.sections if s.reliable]))


@dataclass(frozen=True)
class CrossValidation:
    """Per-fold and mean per-section precision/recall/F1 of one scorer on the dev set.

    The scorer is not refitted per fold (the rules are fixed): the folds show how
    much the metrics move between random fifths of the data, i.e. how far a
    held-out sample of that size can land from the development figure.
    """

    scorer_key: str
    k: int
    seed: int
    folds: tuple[FoldResult, ...]
    pooled: tuple[SectionMetrics, ...]

    def summary(self) -> list[dict[str, Any]]:
        """Per (section, reference): mean and SD over the folds of P, R and F1."""
        out = []
        for i, s in enumerate(self.pooled):
            per = [f.sections[i] for f in self.folds]
            row: dict[str, Any] = {"section": s.section, "reference": s.reference, "reliable": s.reliable}
            for m in ("precision", "recall", "f1"):
                vals = np.array([getattr(p, m) for p in per])
                row[f"{m}_mean"] = round(float(vals.mean()), 4)
                row[f"{m}_sd"] = round(float(vals.std(ddof=1)), 4)
            row["f1_min"] = round(float(min(p.f1 for p in per)), 4)
            row["f1_max"] = round(float(max(p.f1 for p in per)), 4)
            out.append(row)
        return out

    def to_dict(self) -> dict[str, Any]:
        means = [f.mean_f1_reliable for f in self.folds]
        return {
            "scorer_key": self.scorer_key,
            "folds": self.k,
            "seed": self.seed,
            "fold_assignment": "numpy default_rng(seed).permutation(n_cards) cut into k near-equal parts",
            "per_fold": [
                {
                    "fold": f.fold,
                    "n_cards": len(f.ids),
                    "mean_f1_reliable": round(f.mean_f1_reliable, 4),
                    "sections": [s.to_dict() for s in f.sections],
                }
                for f in self.folds
            ],
            "mean_over_folds": self.summary(),
            "mean_f1_reliable": {
                "mean": round(float(np.mean(means)), 4),
                "sd": round(float(np.std(means, ddof=1)), 4),
                "min": round(float(min(means)), 4),
                "max": round(float(max(means)), 4),
            },
        }


def cross_validate(
    scorer: Scorer,
    dev: DevSet,
    k: int = DEFAULT_FOLDS,
    seed: int = DEFAULT_FOLD_SEED,
    scores: list[CardScore] | None = None,
) -> CrossValidation:
    """Per-fold metrics of ``scorer`` over ``k`` seeded random folds of the dev set."""
    parts = fold_indices(len(dev.ids), k, seed)
    if scores is None:
        scores = scorer.score_many(list(dev.texts))
    folds = tuple(
        FoldResult(i + 1, tuple(dev.ids[j] for j in rows), _section_metrics(dev, scores, rows)[0])
        for i, rows in enumerate(parts)
    )
    return CrossValidation(scorer.key, k, seed, folds, _section_metrics(dev, scores)[0])
