"""Maintenance of models over time (T3.7): "Models receive perfective maintenance over time, with
high-maintenance models tending to be more popular, larger, and better documented."

1. **Kinds of maintenance.**  Every commit of the ``commits`` table is
   classified from its message by :mod:`ptmscope.maintenance` (perfective,
   corrective, adaptive, other; rules and their validation in
   docs/maintenance.md).  Reported: the share of each per calendar year and
   overall, and the *perfective share of maintenance* = perfective /
   (perfective + corrective + adaptive) with a cluster-bootstrap CI that
   resamples repositories.
2. **High vs low maintenance.**  A repository's maintenance rate is its
   commits per month of life, life = from its first commit to the commit
   snapshot's date (at least one month).  *High-maintenance* = rate above the
   median of the repositories; the rest (median included) are low.  Both
   groups are compared on

   * popularity: downloads, from the Hub snapshot with download counts for
     most of the repositories;
   * size: parameter count (``packages.parameters``), else summed weight-file
     bytes, from the snapshot that has them for most repositories; where
     neither reaches ``min_group`` repositories per group, a labelled proxy:
     the size class the model's name states (small/base/large/xl or a
     parameter count such as "1.3B"; repositories whose name states none are
     left out);
   * documentation: the documentation score of C3 (card completeness and
     metadata, ``ptmscope.metrics.docs.documentation_scores``) from the
     snapshot with card scores for most repositories;

   each with a one-sided Mann-Whitney U test (high > low, Holm over the
   measures), Cliff's delta (high vs low) with a percentile-bootstrap CI
   (groups resampled apart) and the groups' medians.

Ids are joined across snapshots through the Hub rename aliases.  The claim
holds in ``summary`` when perfective is the majority of maintenance (CI above
0.5) and all three comparisons show high-maintenance models ahead (Holm p <
0.05, delta's CI above 0); a part is refuted when perfective's CI lies below
0.5 or a delta's CI lies below 0.147 (Romano et al.'s "negligible").
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

import ibis
import numpy as np
from pydantic import Field

from .. import stats
from ..errors import NotMeasurable
from ..maintenance import CATEGORIES
from ..snapshots import SnapshotRef, as_selection, pick, resolve
from ._commits import (
    SIZE_CLASSES,
    WEIGHT_FILE_BIAS,
    best_snapshot,
    canonical_packages,
    category_counts,
    classified,
    commits_of,
    name_size_class,
    weight_file_only,
)
from ._common import alias_map, apply_aliases
from .registry import Context, Metric, Params, ReportTable, register

NAME = "maintenance"

MEASURES = ("downloads", "size", "documentation")
NEGLIGIBLE_DELTA = 0.147  # |Cliff's delta| below this is negligible (Romano et al., 2006)
MIN_COMMITS = 30
DAYS_PER_MONTH = 30.4375


class MaintenanceParams(Params):
    min_group: int = Field(10, ge=2, description="Repositories needed in each group to compare a measure.")
    n_boot: int = Field(1000, ge=0, description="Bootstrap resamples for the CIs; 0 = none.")
    seed: int = Field(0, description="Bootstrap seed.")


DEFAULTS = MaintenanceParams()


@dataclass(frozen=True)
class MaintenanceResult:
    metric: str
    snapshot_id: str  # the commit snapshot
    taken_at: str
    synthetic: bool
    weight_file_only: bool
    n_repos: int
    n_commits: int
    first_commit: str | None
    last_commit: str | None
    counts: dict[str, int]  # category -> commits
    shares: dict[str, float]  # category -> share of commits
    n_maintenance_commits: int  # perfective + corrective + adaptive
    perfective_share_of_maintenance: float | None
    perfective_share_ci: list[float | None]
    repos_with_later_perfective: int  # repositories with a perfective commit after their first commit
    repos_with_two_commits: int
    rules: dict[str, int]  # rule -> distinct messages it decided
    years: list[dict[str, Any]]
    split: dict[str, Any]  # how high/low maintenance is defined, the median, group sizes
    comparisons: list[dict[str, Any]]
    notes: list[str]
    n_boot: int
    rests_on: list[dict[str, Any]]  # snapshot, what, n: the data each part rests on
    caption_note: str | None
    negligible_delta: float = NEGLIGIBLE_DELTA

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _delta_ci(a: np.ndarray, b: np.ndarray, n_boot: int, seed: int) -> list[float | None]:
    if n_boot == 0 or not a.size or not b.size:
        return [None, None]
    rng = np.random.default_rng(seed)
    boots = np.array(
        [
            stats.cliffs_delta(a[rng.integers(0, a.size, a.size)], b[rng.integers(0, b.size, b.size)])
            for _ in range(n_boot)
        ]
    )
    lo, hi = np.quantile(boots, [0.025, 0.975])
    return [float(lo), float(hi)]


def _repo_values(backend: Any, snaps: list[SnapshotRef], repos: ibis.Table, value: Any, aliases: dict[str, str]):
    """(snapshot, n, DataFrame package_id/value) of the snapshot giving ``value`` for most repositories."""
    ids = [s.snapshot_id for s in snaps]
    p = canonical_packages(backend, ids, aliases)
    p = p.mutate(value=value(p)).filter(ibis._.value.notnull())
    p = p.semi_join(repos, p.package_id == repos.package_id)
    got = best_snapshot(backend, snaps, p)
    if got is None:
        return None
    snap, n = got
    df = (
        p.filter(p.snapshot_id == snap.snapshot_id)
        .group_by("package_id")
        .aggregate(value=ibis._.value.max())
        .order_by("package_id")
        .execute()
    )
    return snap, n, df


def _weight_bytes_values(backend: Any, snaps: list[SnapshotRef], repos: ibis.Table, aliases: dict[str, str]):
    from .attributes import WEIGHT_SUFFIXES

    f = backend.table("package_files")
    f = f.filter(f.snapshot_id.isin([s.snapshot_id for s in snaps]) & f.size_bytes.notnull())
    f = f.filter(ibis.or_(*[f.path.lower().endswith(s) for s in WEIGHT_SUFFIXES]))
    f = apply_aliases(f, "package_id", aliases)
    f = f.group_by(["snapshot_id", "package_id"]).aggregate(value=f.size_bytes.sum())
    f = f.semi_join(repos, f.package_id == repos.package_id)
    got = best_snapshot(backend, snaps, f)
    if got is None:
        return None
    snap, n = got
    df = f.filter(f.snapshot_id == snap.snapshot_id).select("package_id", "value").order_by("package_id").execute()
    return snap, n, df


def _documentation_values(backend: Any, snaps: list[SnapshotRef], repos: ibis.Table, aliases: dict[str, str]):
    from .docs import documentation_scores

    try:
        cs = backend.table("card_scores")
    except Exception:  # no card scores in this store
        return None
    ids = [s.snapshot_id for s in snaps]
    rows = apply_aliases(cs.filter(cs.snapshot_id.isin(ids) & cs.scored), "package_id", aliases)
    rows = rows.semi_join(repos, rows.package_id == repos.package_id).select("snapshot_id", "package_id").distinct()
    got = best_snapshot(backend, snaps, rows)
    if got is None:
        return None
    snap, _ = got
    d = documentation_scores(backend, snapshot_id=snap.snapshot_id)
    d = apply_aliases(d.filter(d.documentation_score.notnull()), "package_id", aliases)
    d = d.semi_join(repos, d.package_id == repos.package_id)
    df = d.group_by("package_id").aggregate(value=d.documentation_score.max()).order_by("package_id").execute()
    return snap, len(df), df


def _compare(
    measure: str,
    definition: str,
    source: SnapshotRef | None,
    values: Any,
    high: set[str],
    min_group: int,
    n_boot: int,
    seed: int,
) -> dict[str, Any]:
    row: dict[str, Any] = {"measure": measure, "definition": definition}
    row["snapshot_id"] = source.snapshot_id if source is not None else None
    if values is None or len(values) == 0:
        return {**row, "measured": False, "why_not": "no snapshot has it for the commit repositories"}
    is_high = values["package_id"].astype(str).isin(high).to_numpy()
    v = values["value"].astype(float).to_numpy()
    a, b = v[is_high], v[~is_high]
    row.update(n_high=int(a.size), n_low=int(b.size))
    if a.size < min_group or b.size < min_group:
        return {**row, "measured": False, "why_not": f"{a.size} high / {b.size} low (at least {min_group} each)"}
    mw = stats.mann_whitney(a, b, alternative="greater")
    delta = stats.cliffs_delta(a, b)
    return {
        **row,
        "measured": True,
        "median_high": float(np.median(a)),
        "median_low": float(np.median(b)),
        "mean_high": float(a.mean()),
        "mean_low": float(b.mean()),
        "U": mw.statistic,
        "p": mw.p,
        "cliffs_delta": delta,
        "delta_ci": _delta_ci(a, b, n_boot, seed),
    }


def maintenance(
    backend: Any,
    *,
    snapshot_id: Any = None,
    min_group: int = DEFAULTS.min_group,
    n_boot: int = DEFAULTS.n_boot,
    seed: int = DEFAULTS.seed,
) -> MaintenanceResult:
    """Kinds of maintenance over time and high- vs low-maintenance models (module docstring)."""
    import pandas as pd

    sel = as_selection(snapshot_id)
    chosen = pick(backend, "hf", sel, table="commits", columns=("committed_at",), what=NAME)
    csnap = chosen.snapshot
    aliases = alias_map(backend, "hf")
    c, rules = classified(commits_of(backend, csnap.snapshot_id, aliases))
    total = c.aggregate(n=c.count(), first=c.committed_at.min(), last=c.committed_at.max(), **category_counts(c))
    tot = total.execute().iloc[0]
    n_commits = int(tot["n"])
    by_year = (
        c.group_by(year=c.committed_at.year())
        .aggregate(commits=c.count(), **category_counts(c))
        .order_by("year")
        .execute()
    )
    first = c.group_by("package_id").aggregate(first=c.committed_at.min())
    later = c.join(first, "package_id")
    later = later.filter((later.category == "perfective") & (later.committed_at > later.first))
    later_repos = int(later.select("package_id").distinct().count().execute())
    repos = (
        c.group_by("package_id")
        .aggregate(n=c.count(), first=c.committed_at.min(), **category_counts(c))
        .order_by("package_id")
        .execute()
    )
    if repos.empty:
        raise NotMeasurable(f"{NAME}: no dated commits in {csnap.snapshot_id}")

    counts = {k: int(tot[k]) for k in CATEGORIES}
    maint = counts["perfective"] + counts["corrective"] + counts["adaptive"]
    perf_den = (repos["perfective"] + repos["corrective"] + repos["adaptive"]).to_numpy(dtype=float)
    perf_ci: list[float | None] = [None, None]
    if maint:
        perf_share: float | None = counts["perfective"] / maint
        if n_boot:
            num = repos["perfective"].to_numpy(dtype=float)
            ci = stats.bootstrap_ratio_ci(num, perf_den, n_boot=n_boot, seed=seed)
            perf_ci = [ci.low, ci.high]
    else:
        perf_share, perf_ci = None, [None, None]
    years = []
    for r in by_year.itertuples(index=False):
        m = int(r.perfective) + int(r.corrective) + int(r.adaptive)
        row: dict[str, Any] = {"year": int(r.year), "commits": int(r.commits)}
        row.update({k: int(getattr(r, k)) for k in CATEGORIES})
        row.update({f"{k}_share": int(getattr(r, k)) / int(r.commits) for k in CATEGORIES})
        row["perfective_share_of_maintenance"] = int(r.perfective) / m if m else None
        years.append(row)

    # high vs low maintenance: commits per month of life, split at the median
    end = pd.Timestamp(dt.datetime.combine(csnap.taken_at, dt.time(23, 59, 59)), tz="UTC")
    life_days = (end - pd.to_datetime(repos["first"], utc=True)).dt.total_seconds() / 86400.0
    months = np.maximum(1.0, life_days.to_numpy(dtype=float) / DAYS_PER_MONTH)
    rate = repos["n"].to_numpy(dtype=float) / months
    median = float(np.median(rate))
    high_mask = rate > median
    high = set(repos["package_id"].astype(str)[high_mask])
    split = {
        "definition": "commits per month of life (first commit to the commit snapshot's date, at least 1 month); "
        "high = above the median, low = the rest",
        "median_rate": median,
        "n_high": int(high_mask.sum()),
        "n_low": int((~high_mask).sum()),
        "median_commits_high": float(np.median(repos["n"][high_mask])) if high_mask.any() else None,
        "median_commits_low": float(np.median(repos["n"][~high_mask])) if (~high_mask).any() else None,
    }

    repo_ids = ibis.memtable({"package_id": repos["package_id"].astype(str).tolist()}, schema={"package_id": "string"})
    hub = [s for s in resolve(backend, "hf", sel) if s.snapshot_id != csnap.snapshot_id]
    notes: list[str] = []
    comps: list[dict[str, Any]] = []
    got = _repo_values(backend, hub, repo_ids, lambda p: p.downloads, aliases)
    comps.append(
        _compare(
            "downloads",
            "downloads in the snapshot's window",
            got[0] if got else None,
            got[2] if got else None,
            high,
            min_group,
            n_boot,
            seed,
        )
    )
    size_row = None
    for definition, fetch in (
        ("parameter count", lambda: _repo_values(backend, hub, repo_ids, lambda p: p.parameters, aliases)),
        ("summed weight-file bytes", lambda: _weight_bytes_values(backend, hub, repo_ids, aliases)),
    ):
        got = fetch()
        size_row = _compare(
            "size", definition, got[0] if got else None, got[2] if got else None, high, min_group, n_boot, seed
        )
        if size_row["measured"]:
            break
        notes.append(f"size as {definition}: not measurable ({size_row.get('why_not')})")
    assert size_row is not None
    if not size_row["measured"]:
        names = pd.DataFrame({"package_id": repos["package_id"].astype(str)})
        names["value"] = [name_size_class(x) for x in names["package_id"]]
        names = names[names["value"].notna()]
        size_row = _compare(
            "size",
            "PROXY: size class stated in the model's name (1 small .. 4 xl: " + ", ".join(SIZE_CLASSES) + ")",
            None,
            names,
            high,
            min_group,
            n_boot,
            seed,
        )
        size_row["proxy"] = True
        notes.append(
            f"size is a proxy: the size class the model's name states ({len(names)} of {len(repos)} names state one)"
        )
    comps.append(size_row)
    doc_definition = "documentation score (C3: card completeness and metadata, 0-1)"
    try:
        got = _documentation_values(backend, hub, repo_ids, aliases)
    except NotMeasurable as exc:  # e.g. a snapshot whose source has none of the metadata fields
        comps.append({"measure": "documentation", "definition": doc_definition, "measured": False, "why_not": str(exc)})
    else:
        comps.append(
            _compare(
                "documentation",
                doc_definition,
                got[0] if got else None,
                got[2] if got else None,
                high,
                min_group,
                n_boot,
                seed,
            )
        )
    measured = [r for r in comps if r["measured"]]
    for r, adj in zip(measured, stats.holm([r["p"] for r in measured]), strict=True):
        r["p_holm"] = adj
    if weight_file_only(csnap):
        notes.append(WEIGHT_FILE_BIAS)
    notes.append(
        "downloads, sizes and documentation come from other snapshots than the commits (see each comparison's "
        "snapshot_id), joined on ids through the Hub rename aliases"
    )
    rests = [
        {
            "snapshot_id": csnap.snapshot_id,
            "what": f"repositories in the commit log ({n_commits:,} commits)",
            "n": len(repos),
        }
    ]
    for r in comps:
        if r.get("measured") and r.get("snapshot_id"):
            rests.append(
                {
                    "snapshot_id": r["snapshot_id"],
                    "what": f"of them with {r['definition']}",
                    "n": int(r["n_high"] + r["n_low"]),
                }
            )
    caption = [
        s
        for s, on in (
            ("weight-file commits only", weight_file_only(csnap)),
            ("size from model names, a proxy", bool(size_row.get("proxy"))),
        )
        if on
    ]
    return MaintenanceResult(
        metric=NAME,
        snapshot_id=csnap.snapshot_id,
        taken_at=csnap.taken_at.isoformat(),
        synthetic=csnap.synthetic,
        weight_file_only=weight_file_only(csnap),
        n_repos=len(repos),
        n_commits=n_commits,
        first_commit=pd.Timestamp(tot["first"]).isoformat() if n_commits else None,
        last_commit=pd.Timestamp(tot["last"]).isoformat() if n_commits else None,
        counts=counts,
        shares={k: counts[k] / n_commits if n_commits else 0.0 for k in CATEGORIES},
        n_maintenance_commits=maint,
        perfective_share_of_maintenance=perf_share,
        perfective_share_ci=perf_ci,
        repos_with_later_perfective=later_repos,
        repos_with_two_commits=int((repos["n"] >= 2).sum()),
        rules=dict(sorted(rules.items())),
        years=years,
        split=split,
        comparisons=comps,
        notes=notes,
        n_boot=n_boot,
        rests_on=rests,
        caption_note="; ".join(caption).capitalize() if caption else None,
    )


def summarise(res: MaintenanceResult, p: MaintenanceParams) -> dict[str, Any]:
    """The four parts of the claim, each supported, refuted or open (thresholds in the module docstring)."""
    lo, hi = res.perfective_share_ci
    parts: dict[str, str] = {}
    if res.n_maintenance_commits >= MIN_COMMITS and lo is not None and hi is not None:
        parts["perfective"] = "supported" if lo > 0.5 else "refuted" if hi < 0.5 else "open"
    else:
        parts["perfective"] = "not measured"
    for r in res.comparisons:
        if not r["measured"]:
            parts[r["measure"]] = "not measured"
            continue
        dlo, dhi = r["delta_ci"]
        if dlo is None or dhi is None:
            parts[r["measure"]] = "open"
        elif r["p_holm"] < 0.05 and dlo > 0:
            parts[r["measure"]] = "supported"
        elif dhi < NEGLIGIBLE_DELTA:
            parts[r["measure"]] = "refuted"
        else:
            parts[r["measure"]] = "open"
    size = next(r for r in res.comparisons if r["measure"] == "size")
    return {
        "n_repos": res.n_repos,
        "n_maintenance_commits": res.n_maintenance_commits,
        "perfective_share_of_maintenance": res.perfective_share_of_maintenance,
        "parts": parts,
        "n_parts": len(parts),
        "n_parts_measured": sum(1 for v in parts.values() if v != "not measured"),
        "n_parts_supported": sum(1 for v in parts.values() if v == "supported"),
        "n_parts_refuted": sum(1 for v in parts.values() if v == "refuted"),
        "size_is_proxy": bool(size.get("proxy", False)),
    }


def _compute(ctx: Context, p: MaintenanceParams) -> MaintenanceResult:
    return maintenance(ctx.backend, snapshot_id=ctx.selection, min_group=p.min_group, n_boot=p.n_boot, seed=p.seed)


def _figure(result: MaintenanceResult, p: MaintenanceParams) -> Any:
    from ..figures.maintenance import maintenance_figure

    return maintenance_figure(result)


def _tables(data: dict[str, Any]) -> list[ReportTable]:
    return [
        ReportTable(
            "Commits per year by kind of maintenance (shares of the year's commits)",
            ("year", "commits", *CATEGORIES, "perfective share of maintenance"),
            [
                [
                    str(r["year"]),  # a label, not a count to print with a thousands separator
                    r["commits"],
                    *[r[f"{k}_share"] for k in CATEGORIES],
                    r["perfective_share_of_maintenance"],
                ]
                for r in data.get("years", [])
            ],
        ),
        ReportTable(
            "High- vs low-maintenance models (one-sided Mann-Whitney, Holm; Cliff's delta high vs low)",
            (
                "measure",
                "definition",
                "snapshot",
                "n high",
                "n low",
                "median high",
                "median low",
                "p (Holm)",
                "Cliff's delta",
                "95% CI",
                "why not",
            ),
            [
                [
                    r["measure"],
                    r["definition"],
                    r.get("snapshot_id"),
                    r.get("n_high"),
                    r.get("n_low"),
                    r.get("median_high"),
                    r.get("median_low"),
                    r.get("p_holm"),
                    r.get("cliffs_delta"),
                    r.get("delta_ci"),
                    r.get("why_not", ""),
                ]
                for r in data.get("comparisons", [])
            ],
        ),
        ReportTable(
            "Data this rests on",
            ("snapshot", "what", "n"),
            [[r["snapshot_id"], r["what"], r["n"]] for r in data.get("rests_on", [])],
        ),
        ReportTable(
            "The claim's parts",
            ("part", "verdict"),
            [[k, v] for k, v in data.get("summary", {}).get("parts", {}).items()],
        ),
    ]


METRIC = register(
    Metric(
        name=NAME,
        title="Kinds of maintenance over time; high- vs low-maintenance models",
        params=MaintenanceParams,
        compute=_compute,
        summarise=summarise,
        figure=_figure,
        tables=_tables,
        key_numbers=(
            ("snapshot_id", "commit snapshot"),
            ("n_repos", "repositories"),
            ("n_commits", "commits"),
            ("weight_file_only", "weight-file commits only"),
            ("shares.perfective", "perfective share of commits"),
            ("perfective_share_of_maintenance", "perfective share of maintenance (excl. other)"),
            ("perfective_share_ci", "its 95% CI (repositories resampled)"),
            ("split.median_rate", "median commits per month of life"),
            ("comparisons[measure=downloads].cliffs_delta", "downloads: Cliff's delta high vs low"),
            ("comparisons[measure=size].cliffs_delta", "size: Cliff's delta high vs low"),
            ("comparisons[measure=documentation].cliffs_delta", "documentation: Cliff's delta high vs low"),
            ("summary.n_parts_supported", "parts supported (of 4)"),
            ("summary.n_parts_refuted", "parts refuted"),
            ("summary.size_is_proxy", "size from names (proxy)"),
        ),
        caveats=(
            "a commit's kind is read from its message only (rules validated on hand labels, docs/maintenance.md);",
            "a selection of commits (e.g. weight-file commits only) biases the kinds and the rates: see the notes;",
            "popularity, size and documentation come from other snapshots, usually of another date, than the commits.",
        ),
        needs="a commit log (table commits) and Hub snapshots with downloads, sizes and card scores of its repos",
    )
)
