"""The paper's claims as data, verdict rules as data, and their evaluation."""

from __future__ import annotations

from .catalogue import BASES, Catalogue, Claim, Hypothesis, load_catalogue
from .verdicts import VERDICTS, Rule, Verdict, evaluate, load_rules

__all__ = [
    "BASES",
    "VERDICTS",
    "Catalogue",
    "Claim",
    "Hypothesis",
    "Rule",
    "Verdict",
    "evaluate",
    "load_catalogue",
    "load_rules",
]
