"""Where the real data lives (../shared/data), importable from any test module.

Test modules use ``from realdata import shared_path`` (not ``from conftest``:
several conftest modules exist, and which one ``conftest`` names depends on
collection order).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("PTMSCOPE_SHARED_DATA", ROOT.parent / "shared" / "data"))


def shared_path(*parts: str) -> Path:
    """A path under ../shared/data, or skip the test with the reason."""
    p = SHARED_DATA.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"real data not available: {p} is absent (see ../shared/data/README.md)")
    return p


SHARED_PAPER = Path(os.environ.get("PTMSCOPE_SHARED_PAPER", ROOT.parent / "shared" / "paper"))
PAPER_FILE = "esem24-what-do-we-know-about-hugging-face.txt"


def paper_text() -> str:
    """The full text of the ESEM'24 paper (../shared/paper), or skip the test with the reason."""
    p = SHARED_PAPER / PAPER_FILE
    if not p.exists():
        pytest.skip(f"the paper's text is not available: {p} is absent (see ../shared/paper/README.md)")
    return p.read_text(encoding="utf-8")
