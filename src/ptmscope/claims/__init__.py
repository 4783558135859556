"""The claims catalogue (a review's claims as data), verdict rules as data, and their evaluation."""

from __future__ import annotations

from .catalogue import (
    BASIS_KINDS,
    Catalogue,
    CatalogueClaim,
    CatalogueHypothesis,
    load_catalogue,
)
from .verdicts import VERDICTS, Rule, Verdict, evaluate, load_rules

__all__ = [
    "BASIS_KINDS",
    "VERDICTS",
    "Catalogue",
    "CatalogueClaim",
    "CatalogueHypothesis",
    "Rule",
    "Verdict",
    "evaluate",
    "load_catalogue",
    "load_rules",
]
