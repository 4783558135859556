"""The scorer interface shared by the rules, embedding and LLM scorers.

A scorer looks at one model card and says, for each of the paper's five
items (model description, limitations, how to use, training, evaluation),
whether the card has it, with evidence (the heading or sentence that
decided).  The card score is the number of items present (0..5), as in the
ESEM'24 paper's C3 measurement.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, get_args, runtime_checkable

SectionName = Literal["description", "limitations", "how_to_use", "training", "evaluation"]
SECTIONS: tuple[str, ...] = get_args(SectionName)

ScorerName = Literal["rules", "embedding", "llm"]
SCORERS: tuple[str, ...] = get_args(ScorerName)

#: What each item means (the paper's prompt wording); also the embedding scorer's prototypes.
SECTION_DESCRIPTIONS: dict[str, str] = {
    "description": "Model description: A description of the model itself",
    "limitations": "Limitations: Any limitations of the model",
    "how_to_use": "How to use: Instructions on how to use the model downstream",
    "training": "Training: Details of the training process or data",
    "evaluation": "Evaluation: Reports on the model's performance evaluation",
}


@dataclass(frozen=True)
class CardScore:
    """The five booleans of one card, with evidence.

    ``scored`` is False when the scorer could not judge the card (an LLM
    answer that was not JSON, an endpoint that kept failing); such a card
    has no score rather than a score of 0.
    """

    present: tuple[bool, ...]  # in SECTIONS order
    evidence: tuple[str | None, ...]  # in SECTIONS order; None when absent
    scored: bool = True
    note: str | None = None  # why unscored, or "no card", "binary-looking"

    @property
    def score(self) -> int | None:
        return sum(self.present) if self.scored else None

    def has(self, section: str) -> bool:
        return self.present[SECTIONS.index(section)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "scored": self.scored,
            "score": self.score,
            "note": self.note,
            "sections": {s: bool(p) for s, p in zip(SECTIONS, self.present, strict=False)},
            "evidence": {s: e for s, e in zip(SECTIONS, self.evidence, strict=False) if e is not None},
        }

    @classmethod
    def from_flags(
        cls, flags: Mapping[str, bool], evidence: Mapping[str, str | None] | None = None, **kw: Any
    ) -> CardScore:
        evidence = evidence or {}
        present = tuple(bool(flags.get(s, False)) for s in SECTIONS)
        ev = tuple(evidence.get(s) if p else None for s, p in zip(SECTIONS, present, strict=False))
        return cls(present, ev, **kw)

    @classmethod
    def empty(cls, note: str | None = None) -> CardScore:
        """A card with none of the five items (missing or empty card)."""
        return cls((False,) * len(SECTIONS), (None,) * len(SECTIONS), True, note)

    @classmethod
    def unscored(cls, note: str) -> CardScore:
        return cls((False,) * len(SECTIONS), (None,) * len(SECTIONS), False, note)


@runtime_checkable
class Scorer(Protocol):
    """Anything that scores cards.  ``key`` identifies the scorer *and* its
    configuration (version, model) so stored scores are reused only when the
    same scorer would give the same answer."""

    name: str

    @property
    def key(self) -> str: ...

    def score(self, text: str | None) -> CardScore: ...

    def score_many(self, texts: Sequence[str | None]) -> list[CardScore]: ...
