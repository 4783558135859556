"""Helpers shared by the metric modules: renamed Hub repos, and whether the store has a table.

Snapshot selection lives in :mod:`ptmscope.snapshots` (one way to choose).
Works on any Ibis backend that exposes the canonical ``aliases`` table.
"""

from __future__ import annotations

from typing import Any

import ibis

from ..aliases import builtin_aliases


def alias_map(backend: Any, registry: str) -> dict[str, str]:
    """alias -> canonical id: built-in Hub renames, overridden by the store's ``aliases`` table."""
    out = dict(builtin_aliases(registry))
    try:
        t = backend.table("aliases")
    except Exception:  # a backend without the table: built-ins only
        return out
    # ordered: an alias stored twice with two canonical ids resolves the same way whatever the scan order
    df = t.filter(t.registry == registry).select("alias", "canonical").order_by(["alias", "canonical"]).to_pandas()
    out.update(zip(df["alias"].astype(str), df["canonical"].astype(str), strict=False))
    # one hop only, as documented in ptmscope.aliases; drop identity rows
    return {a: c for a, c in out.items() if a != c}


def has_table(backend: Any, name: str) -> bool:
    """Whether the backend has table ``name``: list_tables() is not portable across Ibis/DuckDB versions."""
    try:
        backend.table(name)
    except Exception:
        return False
    return True


def apply_aliases(t: ibis.Table, column: str, aliases: dict[str, str]) -> ibis.Table:
    """Replace ``column`` by its canonical id where the alias table knows one."""
    if not aliases:
        return t
    m = ibis.memtable(
        {"_alias": list(aliases.keys()), "_canonical": list(aliases.values())},
        schema={"_alias": "string", "_canonical": "string"},
    )
    j = t.left_join(m, t[column] == m._alias)
    return j.mutate(**{column: j._canonical.coalesce(j[column])}).drop("_alias", "_canonical")
