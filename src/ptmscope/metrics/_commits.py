"""Commit histories joined to the snapshots that describe the same models (maintenance and reuse metrics).

Ids across snapshots are made comparable with the Hub rename aliases
(:func:`ptmscope.metrics._common.alias_map`): every table's ``package_id`` is
replaced by its canonical id before a join.  Everything here is Ibis; only
the distinct commit messages are pulled (to classify them in Python) and
sent back as a small in-memory table.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import ibis

from ..maintenance import CATEGORIES, classify
from ..snapshots import SnapshotRef, usable_counts
from ._common import apply_aliases

# the commit-log importer's note on a selection of weight-file commits (safetensors-history)
WEIGHT_FILE_ONLY_MARK = "only commits that touched a model weight file"
WEIGHT_FILE_BIAS = (
    "the commit log holds only commits that touched a weight file (safetensors-history): card, config and code "
    "commits are missing, so commit counts and recency under-count maintenance (most of all documentation work, "
    "perfective, and small fixes, corrective), while weight uploads (other), training checkpoints (perfective) "
    "and format conversions such as the safetensors bot (adaptive) are over-represented"
)


def weight_file_only(snapshot: SnapshotRef) -> bool:
    """Whether the commit snapshot is a selection of weight-file commits (its import notes say so)."""
    return WEIGHT_FILE_ONLY_MARK in (snapshot.notes or "")


def commits_of(backend: Any, snapshot_id: str, aliases: dict[str, str]) -> ibis.Table:
    """One row per (canonical repo, commit): ``package_id, commit_id, committed_at, message``."""
    c = backend.table("commits")
    c = c.filter((c.snapshot_id == snapshot_id) & c.committed_at.notnull())
    c = apply_aliases(c.select("package_id", "commit_id", "committed_at", "message"), "package_id", aliases)
    return c.group_by(["package_id", "commit_id"]).aggregate(
        committed_at=c.committed_at.min(), message=c.message.fill_null("").min()
    )


def classified(commits: ibis.Table) -> tuple[ibis.Table, dict[str, int]]:
    """``commits`` with ``category`` and ``rule`` (ptmscope.maintenance); distinct messages decided per rule."""
    msgs = commits.select("message").distinct().execute()["message"]
    texts = sorted(str(m) for m in msgs)  # the per-rule counts are reported in this order
    cls = [classify(m) for m in texts]
    rules: dict[str, int] = {}
    for c in cls:
        rules[c.rule] = rules.get(c.rule, 0) + 1
    table = ibis.memtable(
        {"_msg": texts, "category": [c.category for c in cls], "rule": [c.rule for c in cls]},
        schema={"_msg": "string", "category": "string", "rule": "string"},
    )
    j = commits.left_join(table, commits.message == table._msg)
    return j.select(commits, category=j.category.fill_null("other"), rule=j.rule.fill_null("default")), rules


def category_counts(t: ibis.Table) -> dict[str, Any]:
    """Aggregations counting each maintenance category (for ``group_by(...).aggregate``)."""
    return {c: (t.category == c).cast("int64").sum() for c in CATEGORIES}


def canonical_packages(backend: Any, snapshot_ids: Sequence[str], aliases: dict[str, str]) -> ibis.Table:
    """``packages`` of the given snapshots with ``package_id`` canonical and the original id in ``raw_package_id``."""
    p = backend.table("packages")
    p = p.filter(p.snapshot_id.isin(list(snapshot_ids))).mutate(raw_package_id=ibis._.package_id)
    return apply_aliases(p, "package_id", aliases)


def best_snapshot(backend: Any, snaps: Sequence[SnapshotRef], rows: ibis.Table) -> tuple[SnapshotRef, int] | None:
    """The snapshot with most usable ``rows`` (ties: the newer), or None when none has any."""
    counts = usable_counts(backend, snaps, "packages", rows=rows)
    best = max(snaps, key=lambda s: (counts.get(s.snapshot_id, 0), s.taken_at, s.snapshot_id), default=None)
    if best is None or counts.get(best.snapshot_id, 0) == 0:
        return None
    return best, counts[best.snapshot_id]


# ---------------------------------------------------------------------------
# Size from a model's name: a labelled proxy where no snapshot has sizes
# ---------------------------------------------------------------------------

SIZE_CLASSES = ("small", "base", "large", "xl")  # ordinal 1..4
_SIZE_WORDS = {
    "tiny": 1,
    "mini": 1,
    "small": 1,
    "base": 2,
    "medium": 2,
    "large": 3,
    "xl": 4,
    "xxl": 4,
    "xlarge": 4,
    "xxlarge": 4,
    "huge": 4,
    "giant": 4,
}
_COUNT = re.compile(r"(?<![a-z0-9.])(\d+(?:\.\d+)?)([mb])(?![a-z])")
_SPLIT = re.compile(r"[-_.]+")


def name_size_class(package_id: str) -> int | None:
    """Ordinal size class (1 small .. 4 xl) a model's name states, None when it states none.

    A parameter count in the name ("gpt-neo-1.3B", "pythia-160m") decides first:
    < 60M small, < 200M base, < 1B large, else xl; otherwise the first size word
    (tiny/mini/small = small, base/medium = base, large, xl/xxl/xlarge/huge/giant = xl).
    """
    name = package_id.rsplit("/", 1)[-1].lower()
    m = _COUNT.search(name)
    if m:
        n = float(m.group(1)) * (1e6 if m.group(2) == "m" else 1e9)
        return 1 if n < 60e6 else 2 if n < 200e6 else 3 if n < 1e9 else 4
    for tok in _SPLIT.split(name):
        if tok in _SIZE_WORDS:
            return _SIZE_WORDS[tok]
    return None
