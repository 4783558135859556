"""Statistics of one snapshot (``ptmscope info``): row counts, download quantiles, nulls, lineage.

Computed with Ibis expressions on the canonical tables, so it runs on any
backend :func:`ptmscope.engine.connect` returns.  Quantiles are exact
(``downloads`` nulls excluded), the share of nulls is per column of
``packages``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from .schema import DATA_TABLES, PACKAGES, Snapshot

QUANTILES = (0.0, 0.25, 0.5, 0.75, 0.9, 0.99, 1.0)


@dataclass(frozen=True)
class SnapshotInfo:
    """Everything ``ptmscope info SNAPSHOT --json`` prints (see docs/data-model.md)."""

    snapshot: dict[str, Any]
    counts: dict[str, int]  # rows per canonical table
    downloads: dict[str, Any]  # n, nulls, sum, mean, quantiles {"p50": ...}
    null_share: dict[str, float | None]  # packages column -> share of nulls (None: no packages)
    lineage: dict[str, Any]  # total, resolved, unresolved, by_origin, by_relation
    libraries: list[dict[str, Any]] = field(default_factory=list)  # top 10 libraries by packages
    cards: dict[str, int] = field(default_factory=dict)  # rows, with_text, missing
    files: dict[str, int] = field(default_factory=dict)  # rows, packages, with_size
    commits: dict[str, Any] = field(default_factory=dict)  # rows, packages, with_files, first, last
    dependents: dict[str, Any] = field(default_factory=dict)  # rows, packages, dependents, by_kind

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _snapshot_dict(s: Snapshot) -> dict[str, Any]:
    d = asdict(s)
    d["taken_at"] = s.taken_at.isoformat()
    return d


def _qname(q: float) -> str:
    return {0.0: "min", 1.0: "max"}.get(q, f"p{round(q * 100):02d}")


def snapshot_info(backend: Any, snapshot: Snapshot) -> SnapshotInfo:
    """Statistics of ``snapshot`` from an Ibis backend holding the canonical tables."""
    sid = snapshot.snapshot_id
    tables = {name: backend.table(name) for name in DATA_TABLES}
    counts = {}
    for name, t in tables.items():
        counts[name] = int(t.filter(t.snapshot_id == sid).count().execute())

    p = tables["packages"].filter(tables["packages"].snapshot_id == sid)
    n = counts["packages"]
    aggs = {"n_down": p.downloads.count(), "sum_down": p.downloads.sum(), "mean_down": p.downloads.mean()}
    for q in QUANTILES:
        aggs[_qname(q)] = (
            p.downloads.quantile(q) if 0.0 < q < 1.0 else (p.downloads.min() if q == 0.0 else p.downloads.max())
        )
    for f in PACKAGES:
        if f.name != "snapshot_id":
            aggs[f"null_{f.name}"] = p[f.name].isnull().sum()
    row = p.aggregate(**aggs).execute().iloc[0].to_dict() if n else {}

    def num(v: Any) -> Any:
        if v is None:
            return None
        try:
            import math

            if isinstance(v, float) and math.isnan(v):
                return None
        except TypeError:
            pass
        return v.item() if hasattr(v, "item") else v

    n_down = int(num(row.get("n_down")) or 0)
    downloads = {
        "n": n_down,
        "nulls": n - n_down,
        "sum": int(num(row["sum_down"])) if n_down else None,
        "mean": round(float(num(row["mean_down"])), 6) if n_down else None,
        "quantiles": {_qname(q): (round(float(num(row[_qname(q)])), 6) if n_down else None) for q in QUANTILES},
    }
    null_share = {
        f.name: (round(float(num(row[f"null_{f.name}"])) / n, 6) if n else None)
        for f in PACKAGES
        if f.name != "snapshot_id"
    }

    lt = tables["lineage"].filter(tables["lineage"].snapshot_id == sid)
    total = counts["lineage"]
    resolved = int(lt.parent_id.notnull().sum().execute() or 0) if total else 0
    by_origin = {}
    by_relation = {}
    if total:
        g = lt.group_by("origin").aggregate(rows=lt.count(), resolved=lt.parent_id.notnull().sum()).execute()
        for r in g.itertuples():
            by_origin[r.origin] = {
                "rows": int(r.rows),
                "resolved": int(r.resolved),
                "unresolved": int(r.rows - r.resolved),
            }
        g = lt.group_by("relation").aggregate(rows=lt.count()).execute()
        by_relation = {r.relation: int(r.rows) for r in g.itertuples()}
    lineage = {
        "rows": total,
        "resolved": resolved,
        "unresolved": total - resolved,
        "by_origin": dict(sorted(by_origin.items())),
        "by_relation": dict(sorted(by_relation.items())),
    }

    libs: list[dict[str, Any]] = []
    if counts["package_libraries"]:
        lb = tables["package_libraries"].filter(tables["package_libraries"].snapshot_id == sid)
        g = lb.group_by("library").aggregate(packages=lb.package_id.nunique()).execute()
        rows = sorted(((int(r.packages), r.library) for r in g.itertuples()), key=lambda x: (-x[0], x[1]))
        libs = [{"library": name, "packages": k} for k, name in rows[:10]]

    cards: dict[str, int] = {}
    if counts["cards"]:
        c = tables["cards"].filter(tables["cards"].snapshot_id == sid)
        r = c.aggregate(rows=c.count(), with_text=c.text.notnull().sum(), missing=c.missing.sum()).execute().iloc[0]
        cards = {
            "rows": int(r["rows"]),
            "with_text": int(num(r["with_text"]) or 0),
            "missing": int(num(r["missing"]) or 0),
        }

    return SnapshotInfo(
        snapshot=_snapshot_dict(snapshot),
        counts=counts,
        downloads=downloads,
        null_share=null_share,
        lineage=lineage,
        libraries=libs,
        cards=cards,
        **_history_and_reuse(tables, sid, counts),
    )


def _history_and_reuse(tables: dict[str, Any], sid: str, counts: dict[str, int]) -> dict[str, dict[str, Any]]:
    """Summaries of package_files, commits and dependents (empty dicts when the snapshot has none)."""
    out: dict[str, dict[str, Any]] = {"files": {}, "commits": {}, "dependents": {}}
    if counts["package_files"]:
        f = tables["package_files"].filter(tables["package_files"].snapshot_id == sid)
        r = f.aggregate(packages=f.package_id.nunique(), with_size=f.size_bytes.notnull().sum()).execute().iloc[0]
        out["files"] = {
            "rows": counts["package_files"],
            "packages": int(r["packages"]),
            "with_size": int(r["with_size"] or 0),
        }
    if counts["commits"]:
        c = tables["commits"].filter(tables["commits"].snapshot_id == sid)
        r = (
            c.aggregate(
                packages=c.package_id.nunique(),
                with_files=c.files.notnull().sum(),
                first=c.committed_at.min(),
                last=c.committed_at.max(),
            )
            .execute()
            .iloc[0]
        )
        out["commits"] = {
            "rows": counts["commits"],
            "packages": int(r["packages"]),
            "with_files": int(r["with_files"] or 0),
            "first": None if r["first"] is None else r["first"].isoformat(),
            "last": None if r["last"] is None else r["last"].isoformat(),
        }
    if counts["dependents"]:
        d = tables["dependents"].filter(tables["dependents"].snapshot_id == sid)
        r = d.aggregate(packages=d.package_id.nunique(), dependents=d.dependent.nunique()).execute().iloc[0]
        g = d.group_by("kind").aggregate(rows=d.count()).execute()
        out["dependents"] = {
            "rows": counts["dependents"],
            "packages": int(r["packages"]),
            "dependents": int(r["dependents"]),
            "by_kind": {str(k.kind): int(k.rows) for k in g.itertuples()},
        }
    return out
