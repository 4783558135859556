"""Card documentation scoring: model cards (the paper's C3) and dataset cards; scorers, validation, storage."""

from __future__ import annotations

from typing import Literal, get_args

from .base import SCORERS, SECTION_DESCRIPTIONS, SECTIONS, CardScore, Scorer, ScorerName, SectionName

#: the dataset-card scorer (:mod:`ptmscope.cards.datasets`): scores snapshots of the hf-datasets registry
DatasetScorerName = Literal["dataset-rules"]
DATASET_SCORERS: tuple[str, ...] = get_args(DatasetScorerName)
#: every scorer ``get_scorer`` knows: the model-card scorers, then the dataset-card one
ALL_SCORERS: tuple[str, ...] = (*SCORERS, *DATASET_SCORERS)


def get_scorer(name: str, **options: object) -> Scorer:
    """A scorer by name: ``rules`` (default), ``embedding`` (extra [embed]), ``llm``, or ``dataset-rules``."""
    from ..errors import PtmscopeError

    if name == "rules":
        from .rules import RulesScorer

        return RulesScorer()
    if name == "embedding":
        from .embedding import EmbeddingScorer

        return EmbeddingScorer(**options)  # type: ignore[arg-type]
    if name == "llm":
        from .llm import LLMScorer

        return LLMScorer(**options)  # type: ignore[arg-type]
    if name in DATASET_SCORERS:
        from .datasets import DatasetRulesScorer

        return DatasetRulesScorer()  # type: ignore[return-value]
    raise PtmscopeError(f"unknown scorer {name!r}; choose one of {', '.join(ALL_SCORERS)}")


__all__ = [
    "ALL_SCORERS",
    "DATASET_SCORERS",
    "SCORERS",
    "SECTIONS",
    "SECTION_DESCRIPTIONS",
    "CardScore",
    "DatasetScorerName",
    "Scorer",
    "ScorerName",
    "SectionName",
    "get_scorer",
]
