"""The limit to beat: one hand-written DuckDB query (or a few) per metric, computing ptmscope's point estimates.

Kept in ``benchmarks/``; ptmscope never imports it.  Each ``ref_*`` function
takes a DuckDB connection to a store and returns the numbers the library's
metric reports, computed the shortest way DuckDB allows on a store whose ids
are unique per snapshot and need no alias resolution (true of the synthetic
worlds; :func:`check` verifies that the library gives the same numbers, so a
store where those shortcuts would change a number is caught, not timed):

* turnover: per registry and snapshot one ``ORDER BY downloads DESC NULLS LAST,
  rank NULLS LAST, package_id LIMIT K`` (DuckDB's Top-N operator) and one
  grouped count of the rankable rows, then the set arithmetic of eqs. 2-4 in
  Python on the K ids per snapshot; ``turnover_checked`` adds the one check
  that SQL needs to be right on any store (no id repeats within a snapshot:
  a distinct count per snapshot), which ptmscope makes too;
* preservation, ``paper`` (eq. 1): one join/group-by giving per library the
  numerator, denominator, |B_L| and the bases with descendants, plus the count
  of descendants without metadata; ``artifact``: one group-by;
* descendants: one group-by giving the (count, popularity) pair per base, then
  the same log-log fit and rank correlations on the fetched pairs (SciPy, as
  ptmscope; no SQL engine ranks faster than that on 10^5 pairs);
* growth: one ``date_trunc('month')`` group-by, then the same quasi-Poisson fit;
* concentration: one group-by over authors, then top shares and the Gini
  coefficient on the sorted author sums;
* naming: one aggregate and one group-by.

Run ``python benchmarks/reference_sql.py STORE`` to time each reference and
check it against the library (``benchmarks/run.py`` times them side by side).
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

K = 1000
NO_NAMESPACE = "(no namespace)"


def _snapshots(con: Any, registry: str) -> list[tuple[str, Any]]:
    return con.execute(
        "SELECT snapshot_id, taken_at FROM snapshots WHERE registry = ? AND status = 'complete' "
        "ORDER BY taken_at, snapshot_id",
        [registry],
    ).fetchall()


def _best_snapshot(con: Any, registry: str, where: str, table: str = "packages") -> str:
    """The complete snapshot with most rows satisfying ``where`` (ties: newest), as ptmscope's ``pick``."""
    row = con.execute(
        f"SELECT t.snapshot_id FROM {table} t JOIN snapshots s USING (snapshot_id) "
        f"WHERE s.registry = ? AND s.status = 'complete' AND {where} "
        "GROUP BY t.snapshot_id, s.taken_at ORDER BY count(*) DESC, s.taken_at DESC, t.snapshot_id DESC LIMIT 1",
        [registry],
    ).fetchone()
    return str(row[0])


# -- turnover ------------------------------------------------------------------


def ref_turnover(con: Any, registry: str = "hf", k: int = K) -> dict[str, Any]:
    snaps = [s for s, _ in _snapshots(con, registry)]
    ph = ", ".join("?" for _ in snaps)
    rows = dict(
        con.execute(
            f"SELECT snapshot_id, count(*) FROM packages WHERE snapshot_id IN ({ph}) "
            "AND (downloads IS NOT NULL OR rank IS NOT NULL) GROUP BY snapshot_id",
            snaps,
        ).fetchall()
    )
    one = (
        "(SELECT ? AS sid, package_id, downloads FROM packages WHERE snapshot_id = ? "
        "AND (downloads IS NOT NULL OR rank IS NOT NULL) "
        f"ORDER BY downloads DESC NULLS LAST, rank NULLS LAST, package_id LIMIT {int(k)})"
    )
    top = con.execute(" UNION ALL ".join([one] * len(snaps)), [x for s in snaps for x in (s, s)]).fetchall()
    sets: dict[str, list[tuple[str, Any]]] = {s: [] for s in snaps}
    for sid, pid, dl in top:
        sets[sid].append((pid, dl))
    steps = []
    ever: set[str] = set()
    prev: set[str] = set()
    for s in snaps:
        ids = {p for p, _ in sets[s]}
        remained = len(ids & prev)
        new = len(ids - ever)
        kth = sets[s][k - 1][1] if len(sets[s]) >= k else None
        steps.append(
            {
                "snapshot_id": s,
                "in_top": len(ids),
                "remained": remained,
                "newcomers": new,
                "returning": len(ids) - remained - new,
                "distinct_so_far": len(ever | ids),
                "rows": rows.get(s, 0),
                "kth_downloads": None if kth is None else int(kth),
            }
        )
        ever |= ids
        prev = ids
    return {"steps": steps, "distinct_ever": len(ever)}


def ref_turnover_checked(con: Any, registry: str = "hf", k: int = K) -> dict[str, Any]:
    """:func:`ref_turnover` plus the check it relies on: one distinct count of the ids per snapshot.

    ptmscope's turnover merges repeated ids within a snapshot (and renamed
    Hub ids); SQL that skips the merge is right only where no id repeats, so
    an author who cannot assume that pays this count too.
    """
    out = ref_turnover(con, registry, k)
    one = (
        "(SELECT count(DISTINCT package_id) = count(*) FROM packages WHERE snapshot_id = ? "
        "AND (downloads IS NOT NULL OR rank IS NOT NULL))"
    )
    snaps = [s for s, _ in _snapshots(con, registry)]
    unique = all(r[0] for r in con.execute(" UNION ALL ".join([one] * len(snaps)), snaps).fetchall())
    if not unique:
        raise RuntimeError("repeated ids: the reference does not merge them")
    return out


def lib_turnover(backend: Any, registry: str = "hf", k: int = K) -> dict[str, Any]:
    from ptmscope.metrics.turnover import turnover

    r = turnover(backend, registry, k=k)
    keys = ("snapshot_id", "in_top", "remained", "newcomers", "returning", "distinct_so_far", "rows", "kth_downloads")
    return {"steps": [{x: getattr(s, x) for x in keys} for s in r.steps], "distinct_ever": r.distinct_ever}


# -- preservation --------------------------------------------------------------

_PRES_PAPER = """
WITH libs AS (
    SELECT DISTINCT package_id AS pkg, lower(library) AS library FROM package_libraries
    WHERE snapshot_id = $sid AND library IS NOT NULL AND package_id IS NOT NULL),
multi AS (SELECT pkg AS base FROM libs GROUP BY pkg HAVING count(*) >= 2),
edges AS (
    SELECT DISTINCT parent_id AS parent, child FROM lineage
    WHERE snapshot_id = $sid AND parent_id IS NOT NULL AND parent_id <> child),
known AS (SELECT DISTINCT package_id AS pkg FROM packages WHERE snapshot_id = $sid AND package_id IS NOT NULL),
kedges AS (SELECT parent, child FROM edges SEMI JOIN known ON edges.child = known.pkg),
per_base AS (
    SELECT b.library, b.pkg AS base, count(e.child) AS den, count(c.pkg) AS num
    FROM libs b SEMI JOIN multi ON b.pkg = multi.base
    LEFT JOIN kedges e ON e.parent = b.pkg
    LEFT JOIN libs c ON c.pkg = e.child AND c.library = b.library
    GROUP BY b.library, b.pkg)
SELECT library, sum(num)::BIGINT, sum(den)::BIGINT, count(*), count(*) FILTER (WHERE den > 0),
       (SELECT count(*) FROM edges SEMI JOIN multi ON edges.parent = multi.base
        ANTI JOIN known ON edges.child = known.pkg)
FROM per_base GROUP BY library ORDER BY library
"""

_PRES_ARTIFACT = """
WITH dl AS (
    SELECT DISTINCT l.package_id AS pkg, lower(l.library) AS library FROM package_libraries l
    WHERE l.snapshot_id = $sid AND l.library IS NOT NULL AND l.package_id IS NOT NULL
      AND l.package_id IN (SELECT child FROM lineage WHERE snapshot_id = $sid AND child IS NOT NULL)),
multi AS (SELECT pkg FROM dl GROUP BY pkg HAVING count(*) >= 2),
m AS (SELECT library, pkg FROM dl SEMI JOIN multi USING (pkg))
SELECT library, count(*), (SELECT count(*) FROM multi) FROM m GROUP BY library ORDER BY library
"""


def _lineage_snapshot(con: Any) -> str:
    return _best_snapshot(con, "hf", "TRUE", table="lineage")


def ref_preservation(con: Any, mode: str = "paper") -> dict[str, Any]:
    sid = _lineage_snapshot(con)
    out: dict[str, Any] = {"snapshot_id": sid, "libraries": {}}
    if mode == "paper":
        rows = con.execute(_PRES_PAPER, {"sid": sid}).fetchall()
        out["unknown_descendants"] = int(rows[0][5]) if rows else 0
        for lib, num, den, nb, nbd, _ in rows:
            out["libraries"][lib] = (num / den if den else None, int(num), int(den), int(nb), int(nbd))
    else:
        for lib, cnt, total in con.execute(_PRES_ARTIFACT, {"sid": sid}).fetchall():
            out["libraries"][lib] = (cnt / total if total else None, int(cnt), int(total), int(total), int(total))
        out["unknown_descendants"] = 0
    return out


def lib_preservation(backend: Any, mode: str = "paper") -> dict[str, Any]:
    from ptmscope.metrics.preservation import preservation

    r = preservation(backend, mode=mode, n_boot=0)  # type: ignore[arg-type]
    return {
        "snapshot_id": r.snapshot.snapshot_id,
        "libraries": {
            x.library: (x.rate, x.numerator, x.denominator, x.n_bases, x.n_bases_with_descendants) for x in r.libraries
        },
        "unknown_descendants": r.unknown_descendants,
    }


# -- descendants ---------------------------------------------------------------

_DESC_OWN = """
WITH e AS (
    SELECT DISTINCT parent_id AS base, child FROM lineage
    WHERE snapshot_id = $sid AND parent_id IS NOT NULL AND child IS NOT NULL AND parent_id <> child),
p AS (SELECT package_id AS pkg, max(downloads) AS dl FROM packages WHERE snapshot_id = $sid GROUP BY package_id)
SELECT e.base, count(*) AS n, any_value(p.dl) AS pop, (SELECT count(DISTINCT base) FROM e)
FROM e JOIN p ON e.base = p.pkg WHERE p.dl IS NOT NULL
GROUP BY e.base ORDER BY n DESC, e.base
"""

_DESC_SUM_ARTIFACT = """
WITH e AS (
    SELECT DISTINCT parent_id AS base, child FROM lineage
    WHERE snapshot_id = $sid AND parent_id IS NOT NULL AND child IS NOT NULL AND parent_id <> child),
p AS (SELECT package_id AS pkg, max(downloads) AS dl FROM packages WHERE snapshot_id = $sid GROUP BY package_id)
SELECT e.base, count(DISTINCT e.child) AS n, sum(p.dl) AS pop, (SELECT count(DISTINCT base) FROM e)
FROM e JOIN p ON e.child = p.pkg WHERE p.dl IS NOT NULL
GROUP BY e.base ORDER BY n DESC, e.base
"""


def _fit_and_corr(x: np.ndarray, y: np.ndarray, artifact: bool) -> dict[str, Any]:
    from scipy import stats as sps

    if artifact:
        pairs = np.unique(np.stack([x, y], axis=1), axis=0)
        fx, fy, off = pairs[:, 0], pairs[:, 1], 1e-5
    else:
        keep = (x > 0) & (y > 0)
        fx, fy, off = x[keep], y[keep], 0.0
    fit = sps.linregress(np.log10(fx + off), np.log10(fy + off))
    return {
        "slope": float(fit.slope),
        "intercept": float(fit.intercept),
        "n_fit": int(fx.size),
        "spearman": float(sps.spearmanr(x, y).statistic),
        "kendall": float(sps.kendalltau(x, y).statistic),
    }


def ref_descendants(con: Any, popularity: str = "own") -> dict[str, Any]:
    sid = _lineage_snapshot(con)
    q = _DESC_OWN if popularity == "own" else _DESC_SUM_ARTIFACT
    rows = con.execute(q, {"sid": sid}).fetchnumpy()
    x = rows["pop"].astype(float)
    y = rows["n"].astype(float)
    n_all = int(rows[list(rows)[3]][0]) if len(x) else 0
    return {
        "snapshot_id": sid,
        "n_bases": int(x.size),
        "dropped_unknown_popularity": n_all - int(x.size),
        "top": [(str(b), int(c), int(p)) for b, c, p in zip(rows["base"][:10], y[:10], x[:10], strict=False)],
        **_fit_and_corr(x, y, popularity != "own"),
    }


def lib_descendants(backend: Any, popularity: str = "own") -> dict[str, Any]:
    from ptmscope.metrics.descendants import descendants

    mode = "paper" if popularity == "own" else "artifact"
    r = descendants(backend, popularity=popularity, mode=mode, n_boot=0)  # type: ignore[arg-type]
    assert r.snapshot is not None and r.fit is not None and r.spearman and r.kendall
    return {
        "snapshot_id": r.snapshot.snapshot_id,
        "n_bases": r.n_bases,
        "dropped_unknown_popularity": r.dropped_unknown_popularity,
        "top": [tuple(t) for t in r.top_bases],
        "slope": r.fit.slope,
        "intercept": r.fit.intercept,
        "n_fit": r.n_fit,
        "spearman": r.spearman.coef,
        "kendall": r.kendall.coef,
    }


# -- growth, concentration, naming ------------------------------------------------


def ref_growth(con: Any) -> dict[str, Any]:
    from ptmscope.metrics.growth import fit_exponential

    sid = _best_snapshot(con, "hf", "t.created_at IS NOT NULL")
    taken = con.execute("SELECT taken_at FROM snapshots WHERE snapshot_id = ?", [sid]).fetchone()[0]
    rows = con.execute(
        "SELECT date_trunc('month', created_at AT TIME ZONE 'UTC') AS m, count(*) FROM packages "
        "WHERE snapshot_id = ? AND created_at IS NOT NULL GROUP BY m ORDER BY m",
        [sid],
    ).fetchall()
    counts = {m.date() if hasattr(m, "date") else m: int(n) for m, n in rows}
    snap_month = taken.replace(day=1) if hasattr(taken, "replace") else taken
    snap_month = snap_month.date() if hasattr(snap_month, "date") else snap_month
    months, vals = [], []
    m = min(counts)
    while m <= min(max(counts), snap_month):
        months.append(m)
        vals.append(counts.get(m, 0))
        m = m.replace(year=m.year + (m.month == 12), month=m.month % 12 + 1)
    window = [i for i, mm in enumerate(months) if mm < snap_month]
    start = next((i for i in window if vals[i] >= 10), None)
    fit = fit_exponential([vals[i] for i in window if i >= start]) if start is not None else {}
    return {"snapshot_id": sid, "counts": vals, "slope": fit.get("slope")}


def ref_growth_counts(con: Any) -> dict[str, Any]:
    """Models created per calendar month (UTC) of the growth snapshot, as ``{"YYYY-MM": n}``."""
    sid = _best_snapshot(con, "hf", "t.created_at IS NOT NULL")
    rows = con.execute(
        "SELECT strftime(date_trunc('month', created_at AT TIME ZONE 'UTC'), '%Y-%m'), count(*) FROM packages "
        "WHERE snapshot_id = ? AND created_at IS NOT NULL GROUP BY 1",
        [sid],
    ).fetchall()
    return {"snapshot_id": sid, "counts": {m: int(n) for m, n in rows}}


def lib_growth(backend: Any) -> dict[str, Any]:
    from ptmscope.metrics.growth import growth

    r = growth(backend)
    return {"snapshot_id": r.snapshot_id, "counts": r.counts, "slope": r.slope}


def ref_concentration(con: Any) -> dict[str, Any]:
    sid = _best_snapshot(con, "hf", "t.downloads IS NOT NULL")
    d = (
        con.execute(
            "SELECT sum(downloads) AS d FROM packages WHERE snapshot_id = ? AND downloads IS NOT NULL "
            f"GROUP BY coalesce(author, CASE WHEN contains(package_id, '/') THEN split_part(package_id, '/', 1) END, "
            f"'{NO_NAMESPACE}') ORDER BY d DESC",
            [sid],
        )
        .fetchnumpy()["d"]
        .astype(float)
    )
    total = float(d.sum())
    k1, k10 = max(1, math.ceil(0.01 * d.size)), max(1, math.ceil(0.10 * d.size))
    a = np.sort(d)
    cum = np.cumsum(a)
    gini = float((a.size + 1 - 2 * (cum.sum() / cum[-1])) / a.size)
    return {
        "snapshot_id": sid,
        "n_authors": int(d.size),
        "total_downloads": int(total),
        "top1_share": float(d[:k1].sum()) / total,
        "top10_share": float(d[:k10].sum()) / total,
        "gini": gini,
    }


def lib_concentration(backend: Any) -> dict[str, Any]:
    from ptmscope.metrics.concentration import concentration

    r = concentration(backend, n_boot=0)
    keys = ("snapshot_id", "n_authors", "total_downloads", "top1_share", "top10_share", "gini")
    return {x: getattr(r, x) for x in keys}


_NAMING = """
WITH q AS (
    SELECT lower(model_type) AS mt,
           contains(regexp_replace(lower(regexp_replace(package_id, '^.*/', '')), '[^a-z0-9]', '', 'g'),
                    regexp_replace(lower(model_type), '[^a-z0-9]', '', 'g'))::BIGINT AS names
    FROM packages WHERE snapshot_id = $sid AND model_type IS NOT NULL
      AND regexp_replace(lower(model_type), '[^a-z0-9]', '', 'g') <> '')
SELECT mt, count(*) AS n, sum(names) AS k FROM q GROUP BY mt ORDER BY n DESC, mt
"""


def ref_naming(con: Any) -> dict[str, Any]:
    sid = _best_snapshot(con, "hf", "t.model_type IS NOT NULL")
    rows = con.execute(_NAMING, {"sid": sid}).fetchall()
    n = sum(r[1] for r in rows)
    k = sum(int(r[2]) for r in rows)
    return {
        "snapshot_id": sid,
        "n_with_model_type": n,
        "n_naming_architecture": k,
        "by_model_type": [(str(mt), int(c), int(kk)) for mt, c, kk in rows[:15]],
    }


def lib_naming(backend: Any) -> dict[str, Any]:
    from ptmscope.metrics.naming import naming

    r = naming(backend)
    return {
        "snapshot_id": r.snapshot_id,
        "n_with_model_type": r.n_with_model_type,
        "n_naming_architecture": r.n_naming_architecture,
        "by_model_type": [(x["model_type"], x["n"], x["naming"]) for x in r.by_model_type],
    }


# -- registry of references ------------------------------------------------------

Pair = tuple[Callable[[Any], dict[str, Any]], Callable[[Any], dict[str, Any]]]

REFERENCES: dict[str, Pair] = {
    "turnover": (lambda c: ref_turnover(c, "hf"), lambda b: lib_turnover(b, "hf")),
    "turnover_checked": (lambda c: ref_turnover_checked(c, "hf"), lambda b: lib_turnover(b, "hf")),
    "preservation": (lambda c: ref_preservation(c, "paper"), lambda b: lib_preservation(b, "paper")),
    "preservation_artifact": (lambda c: ref_preservation(c, "artifact"), lambda b: lib_preservation(b, "artifact")),
    "descendants": (lambda c: ref_descendants(c, "own"), lambda b: lib_descendants(b, "own")),
    "descendants_sum": (
        lambda c: ref_descendants(c, "descendants_sum"),
        lambda b: lib_descendants(b, "descendants_sum"),
    ),
    "growth": (ref_growth, lib_growth),
    "concentration": (ref_concentration, lib_concentration),
    "naming": (ref_naming, lib_naming),
}


def same(a: Any, b: Any, rel: float = 1e-9) -> bool:
    """Equal, floats to a relative ``rel`` (SQL and NumPy sum in different orders)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k], rel) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y, rel) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is b
        return math.isclose(float(a), float(b), rel_tol=rel, abs_tol=1e-12)
    return bool(a == b)


def connect_duckdb(store: str) -> Any:
    """A plain DuckDB connection with the library's memory limit and spill folder (the same conditions)."""
    import duckdb

    from ptmscope.store import EngineSettings

    con = duckdb.connect(store, read_only=True)
    con.execute("SET enable_progress_bar = false")
    EngineSettings.resolve(Path(store)).apply(con)
    con.execute("SET preserve_insertion_order = false")  # nothing here depends on it; joins spill more freely
    return con


def check(store: str, names: list[str] | None = None) -> dict[str, bool]:
    """Does each reference give the library's numbers on this store?"""
    from ptmscope.engine import connect

    con = connect_duckdb(store)
    be = connect(store)
    out = {}
    for name in names or list(REFERENCES):
        ref, lib = REFERENCES[name]
        out[name] = same(ref(con), lib(be))
    return out


def timed(fn: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    """Best of ``repeat`` wall-clock times (the first run warms the caches)."""
    best, res = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        res = fn()
        best = min(best, time.perf_counter() - t0)
    return best, res


def main() -> None:
    store = sys.argv[1]
    names = sys.argv[2].split(",") if len(sys.argv) > 2 else list(REFERENCES)
    from ptmscope.engine import connect

    con = connect_duckdb(store)
    be = connect(store)
    for name in names:
        ref, lib = REFERENCES[name]
        tr, a = timed(lambda ref=ref: ref(con))
        tl, b = timed(lambda lib=lib: lib(be))
        print(f"{name:24s} reference {tr:8.3f} s  library {tl:8.3f} s  ratio {tl / tr:6.1f}  same: {same(a, b)}")
        if not same(a, b):
            print("   reference:", str(a)[:400])
            print("   library:  ", str(b)[:400])


if __name__ == "__main__":
    main()
