"""The paper's metrics C1 and C2, as Ibis expressions over the canonical tables.

* :func:`preservation` — library preservation rate P_L (C1, eq. 1);
* :func:`turnover` / :func:`turnover_sensitivity` — top-K turnover (C2, eqs. 2-4);
* :func:`descendants` / :func:`descendants_from_pairs` — descendant count vs
  popularity (C2, Figure 7).

Each takes an Ibis backend (``ptmscope.engine.connect(...)``) and returns a
frozen result with ``to_dict()`` carrying its inputs with the numbers.
"""

from .descendants import POPULARITIES, DescendantsResult, Popularity, descendants, descendants_from_pairs, read_pairs
from .preservation import LibraryRate, PreservationResult, preservation
from .turnover import (
    MODES,
    SENSITIVITY_KS,
    TIE_RULES,
    Mode,
    TieRule,
    TurnoverResult,
    TurnoverSensitivity,
    turnover,
    turnover_sensitivity,
)

__all__ = [
    "MODES",
    "POPULARITIES",
    "SENSITIVITY_KS",
    "TIE_RULES",
    "DescendantsResult",
    "LibraryRate",
    "Mode",
    "Popularity",
    "PreservationResult",
    "TieRule",
    "TurnoverResult",
    "TurnoverSensitivity",
    "descendants",
    "descendants_from_pairs",
    "preservation",
    "read_pairs",
    "turnover",
    "turnover_sensitivity",
]
