"""The systematic literature review as data: search results, de-duplication, screening with
agreement, claim extraction and consolidation, and what they produce (the review flow figure,
Table 3 and the claims catalogue that ``ptmscope run``/``report`` consume).

The paper's own review ships as the worked example (:func:`example_folder`).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from .folder import Problem, Review, load_review, open_review
from .outputs import build_outputs, catalogue_toml, write_outputs
from .screening import agreement


def example_folder() -> Path:
    """The ESEM'24 paper's review folder (records not public: counts and Table 3 as printed)."""
    return Path(str(resources.files("ptmscope.review").joinpath("example")))


__all__ = [
    "Problem",
    "Review",
    "agreement",
    "build_outputs",
    "catalogue_toml",
    "example_folder",
    "load_review",
    "open_review",
    "write_outputs",
]
