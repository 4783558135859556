"""A new, empty review folder with the paper's protocol as the default."""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import InputError, PtmscopeError
from .folder import EXTRACTION_COLUMNS, RESOLUTION_COLUMNS, SCREENING_COLUMNS


def init_review(dest: str | Path, *, label: str, source_id: str) -> list[Path]:
    """Write review.toml (criteria of §4.1.3, categories of Table 2) and empty CSVs into a new folder."""
    import tomllib

    import tomli_w

    from . import example_folder

    d = Path(dest)
    if d.exists():
        raise PtmscopeError(f"{d}: already exists; give a new folder")
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_.\-]*", source_id):
        raise InputError(d, f"review id {source_id!r}: use letters, digits, '.', '_' or '-', starting with a letter")
    ex = tomllib.loads((example_folder() / "review.toml").read_text(encoding="utf-8"))
    data = {
        "schema_version": 1,
        "synthetic": False,
        "records": "folder",
        "themes": ["Theme 1"],
        "source": {"id": source_id, "label": label},
        "criteria": ex["criteria"],
        "categories": ex["categories"],
    }
    head = (
        "# A systematic review kept by `ptmscope review` (see docs/review.md).\n"
        "# Criteria and claim categories start as the ESEM'24 paper's (§4.1.3, Table 2); edit them.\n"
        "# Add searches with `ptmscope review import`; list your themes; write consolidated.toml.\n\n"
    )
    d.mkdir(parents=True)
    (d / "search").mkdir()
    written = [d / "review.toml"]
    (d / "review.toml").write_text(head + tomli_w.dumps(data), encoding="utf-8")
    for name, cols in (
        ("screening.csv", SCREENING_COLUMNS),
        ("resolutions.csv", RESOLUTION_COLUMNS),
        ("extraction.csv", EXTRACTION_COLUMNS),
    ):
        (d / name).write_text(",".join(cols) + "\n", encoding="utf-8")
        written.append(d / name)
    return written
