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
from typing import Any, ClassVar, Literal, Protocol, Self, get_args, runtime_checkable

SectionName = Literal["description", "limitations", "how_to_use", "training", "evaluation"]
SECTIONS: tuple[str, ...] = get_args(SectionName)

ScorerName = Literal["rules", "embedding", "llm"]
SCORERS: tuple[str, ...] = get_args(ScorerName)

#: What each item means (the paper's prompt wording); also the embedding scorer's prototypes.
# the names figures and reports give the sections
SECTION_LABELS: dict[str, str] = {
    "description": "Model description",
    "limitations": "Limitations",
    "how_to_use": "How to use",
    "training": "Training",
    "evaluation": "Evaluation",
}

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
    has no score rather than a score of 0.  Subclasses score other section
    lists (``sections``), e.g. the dataset-card template's.
    """

    sections: ClassVar[tuple[str, ...]] = SECTIONS

    present: tuple[bool, ...]  # in self.sections order
    evidence: tuple[str | None, ...]  # in self.sections order; None when absent
    scored: bool = True
    note: str | None = None  # why unscored, or "no card", "binary-looking"

    @property
    def score(self) -> int | None:
        return sum(self.present) if self.scored else None

    def has(self, section: str) -> bool:
        return self.present[self.sections.index(section)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "scored": self.scored,
            "score": self.score,
            "note": self.note,
            "sections": {s: bool(p) for s, p in zip(self.sections, self.present, strict=False)},
            "evidence": {s: e for s, e in zip(self.sections, self.evidence, strict=False) if e is not None},
        }

    @classmethod
    def from_flags(cls, flags: Mapping[str, bool], evidence: Mapping[str, str | None] | None = None, **kw: Any) -> Self:
        evidence = evidence or {}
        present = tuple(bool(flags.get(s, False)) for s in cls.sections)
        ev = tuple(evidence.get(s) if p else None for s, p in zip(cls.sections, present, strict=False))
        return cls(present, ev, **kw)

    @classmethod
    def empty(cls, note: str | None = None) -> Self:
        """A card with none of the items (missing or empty card)."""
        return cls((False,) * len(cls.sections), (None,) * len(cls.sections), True, note)

    @classmethod
    def unscored(cls, note: str) -> Self:
        return cls((False,) * len(cls.sections), (None,) * len(cls.sections), False, note)


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
