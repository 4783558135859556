"""Model-card documentation scoring (the paper's C3): scorers, validation, storage."""

from __future__ import annotations

from .base import SCORERS, SECTION_DESCRIPTIONS, SECTIONS, CardScore, Scorer, ScorerName, SectionName


def get_scorer(name: str, **options: object) -> Scorer:
    """A scorer by name: ``rules`` (default), ``embedding`` (extra [embed]) or ``llm``."""
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
    raise PtmscopeError(f"unknown scorer {name!r}; choose one of {', '.join(SCORERS)}")


__all__ = [
    "SCORERS",
    "SECTIONS",
    "SECTION_DESCRIPTIONS",
    "CardScore",
    "Scorer",
    "ScorerName",
    "SectionName",
    "get_scorer",
]
