"""Descendants vs popularity (claim C2, paper Figure 7).

Per base model b (every resolved parent in the snapshot's lineage):

* count_b = |D_b|, the number of distinct direct descendants (or, with
  ``transitive=True``, of all models below b in the lineage tree);
* popularity_b, selectable:
  - ``own``: b's own downloads (what the paper's text describes);
  - ``descendants_sum``: the summed downloads of b's descendants (what the
    paper's code, ``number_DirectDescendantsToDownloads.py``, computed).

Statistics on the (popularity, count) pairs: OLS of log10(count) on
log10(popularity) with 95% CIs for slope and intercept, Spearman's rho and
Kendall's tau with p-values and bootstrap CIs, and n.  In ``paper`` mode the
fit uses every pair with popularity > 0 (log 0 is undefined; those pairs are
counted and reported, never silently lost); correlations use every pair.

``mode="artifact"`` reproduces the published fit exactly (``descendents.py``):
drop duplicate (downloads, count) pairs, then fit log10(count + 1e-5) on
log10(downloads + 1e-5).  Dropping duplicates down-weights the many bases
with one descendant and few downloads; the offset keeps zero-download bases
in the fit at log10(1e-5) = -5, where they pull the line.  In artifact mode
with ``descendants_sum`` the count is also the code's: only descendants that
have a download figure are counted (its per-group inner merge dropped the
rest).

Bases whose popularity is unknown (not in the snapshot's package list, or
null downloads) are dropped and counted in ``dropped_unknown_popularity``.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

import ibis
import numpy as np
from numpy.typing import ArrayLike
from pydantic import Field

from .. import stats
from ..errors import InputError, PtmscopeError
from ..schema import Registry
from ..snapshots import Selection, SnapshotRef, as_selection, pick
from .registry import Context, Metric, Params, ReportTable, register

NAME = "descendants"

Popularity = Literal["own", "descendants_sum"]
POPULARITIES: tuple[str, ...] = get_args(Popularity)
Mode = Literal["paper", "artifact"]
MODES: tuple[str, ...] = get_args(Mode)


class DescendantsParams(Params):
    registry: Registry = Field("hf", description="Registry (the Hub has lineage).")
    mode: Mode = Field(
        "paper", description="paper: the formula as the paper states it; artifact: what its published code computed."
    )
    popularity: Popularity = Field(
        "own",
        description="own: the base model's downloads (paper text); descendants_sum: its descendants' summed "
        "downloads (paper code).",
    )
    transitive: bool = Field(
        False, description="Count the whole lineage tree below each base, not only direct descendants."
    )
    pairs: Path | None = Field(
        None, strict=False, description="Analyse a precomputed CSV with columns downloads,count instead of the store."
    )
    n_boot: int = Field(1000, ge=0, description="Bootstrap resamples for the correlation intervals; 0 = none.")
    seed: int = Field(0, description="Bootstrap seed.")


DEFAULTS = DescendantsParams()
ARTIFACT_OFFSET = 1e-5
MAX_DEPTH = 64  # transitive closure stops here (lineage chains are far shorter)


@dataclass(frozen=True)
class DescendantsResult:
    source: str  # snapshot id or the pairs file
    snapshot: SnapshotRef | None
    mode: str
    popularity: str
    transitive: bool
    n_bases: int  # bases with a known popularity (pairs)
    dropped_unknown_popularity: int
    n_fit: int
    dropped_zero_popularity: int  # paper mode: pairs with popularity 0 left out of the fit
    dropped_duplicates: int  # artifact mode: duplicate pairs left out of the fit
    fit: stats.OLSFit | None
    spearman: stats.Correlation | None
    kendall: stats.Correlation | None
    n_boot: int
    seed: int
    top_bases: tuple[tuple[str, int, int], ...] = ()  # (base, count, popularity), largest counts
    base_ids: tuple[str, ...] = field(default=(), repr=False, compare=False)  # aligned with the value arrays
    popularity_values: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False, compare=False)
    count_values: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False, compare=False)
    source_sha256: str | None = None  # of the pairs file (a path alone does not pin the data)

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": NAME,
            "inputs": {
                "source": self.source,
                "source_sha256": self.source_sha256,
                "snapshot_id": self.snapshot.snapshot_id if self.snapshot else None,
                "snapshot": self.snapshot.to_dict() if self.snapshot else None,
                "mode": self.mode,
                "popularity": self.popularity,
                "transitive": self.transitive,
                "n_boot": self.n_boot,
                "seed": self.seed,
            },
            "n_bases": self.n_bases,
            "dropped_unknown_popularity": self.dropped_unknown_popularity,
            "n_fit": self.n_fit,
            "dropped_zero_popularity": self.dropped_zero_popularity,
            "dropped_duplicates": self.dropped_duplicates,
            "fit": self.fit.to_dict() if self.fit else None,
            "spearman": self.spearman.to_dict() if self.spearman else None,
            "kendall": self.kendall.to_dict() if self.kendall else None,
            "top_bases": [{"base": b, "count": c, "popularity": p} for b, c, p in self.top_bases],
        }


def analyse_pairs(
    popularity: ArrayLike,
    count: ArrayLike,
    *,
    mode: Mode = "paper",
    n_boot: int = 1000,
    seed: int = 0,
) -> tuple[stats.OLSFit | None, stats.Correlation | None, stats.Correlation | None, int, int, int]:
    """Fit and correlations on (popularity, count) pairs.

    Returns (fit, spearman, kendall, n_fit, dropped_zero, dropped_duplicates).
    """
    if mode not in MODES:
        raise PtmscopeError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
    x = np.asarray(popularity, dtype=float)
    y = np.asarray(count, dtype=float)
    dropped_zero = dropped_dup = 0
    if mode == "artifact":
        pairs = np.unique(np.stack([x, y], axis=1), axis=0) if x.size else np.zeros((0, 2))
        dropped_dup = int(x.size - pairs.shape[0])
        fx, fy, offset = pairs[:, 0], pairs[:, 1], ARTIFACT_OFFSET
    else:
        keep = (x > 0) & (y > 0)
        dropped_zero = int((~keep).sum())
        fx, fy, offset = x[keep], y[keep], 0.0
    fit = stats.loglog_ols(fx, fy, offset=offset) if fx.size else None
    rho = stats.spearman(x, y, n_boot=n_boot, seed=seed) if x.size else None
    tau = stats.kendall(x, y, n_boot=n_boot, seed=seed) if x.size else None
    return fit, rho, tau, int(fx.size), dropped_zero, dropped_dup


def _edges(backend: Any, sid: str) -> ibis.Table:
    lin = backend.table("lineage")
    lin = lin.filter((lin.snapshot_id == sid) & lin.parent_id.notnull() & lin.child.notnull())
    lin = lin.filter(lin.parent_id != lin.child)
    return lin.select(base=lin.parent_id, child=lin.child).distinct()


def _closure(edges: ibis.Table) -> ibis.Table:
    """All (ancestor, descendant) pairs, by repeated joins until nothing new appears."""
    reach = edges
    n_prev = int(reach.count().to_pandas())
    for _ in range(MAX_DEPTH):
        nxt = edges.select(mid=edges.base, far=edges.child)
        step = reach.join(nxt, reach.child == nxt.mid)
        step = step.select(base=step.base, child=step.far)
        step = step.filter(step.base != step.child)  # cycles in hand-written cards
        reach = reach.union(step, distinct=True)
        n = int(reach.count().to_pandas())
        if n == n_prev:
            return reach
        n_prev = n
        # materialise so the expression does not grow with depth
        reach = ibis.memtable(reach.to_pyarrow())
    return reach


def descendants(
    backend: Any,
    snapshot_id: str | Selection | None = None,
    *,
    registry: str = DEFAULTS.registry,
    popularity: Popularity = DEFAULTS.popularity,
    mode: Mode = DEFAULTS.mode,
    transitive: bool = DEFAULTS.transitive,
    n_boot: int = DEFAULTS.n_boot,
    seed: int = DEFAULTS.seed,
) -> DescendantsResult:
    """Descendant count vs popularity per base model of one snapshot."""
    if popularity not in POPULARITIES:
        raise PtmscopeError(f"unknown popularity {popularity!r}; choose one of {', '.join(POPULARITIES)}")
    if mode not in MODES:
        raise PtmscopeError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
    snap = pick(backend, registry, as_selection(snapshot_id), table="lineage", what=NAME).snapshot
    sid = snap.snapshot_id
    edges = _edges(backend, sid)
    if transitive:
        edges = _closure(edges)
    p = backend.table("packages")
    p = p.filter(p.snapshot_id == sid).select(pkg=p.package_id, dl=p.downloads)
    n_all = edges.select("base").distinct().count()
    if popularity == "own":
        # (base, child) rows are distinct: rows per base = distinct descendants
        per = edges.group_by("base").aggregate(count=edges.count())
        # the downloads of the bases only (a package listed twice keeps its best figure)
        p = p.semi_join(per, p.pkg == per.base)
        p = p.group_by("pkg").aggregate(dl=p.dl.max())
        j = per.join(p, per.base == p.pkg)
        j = j.filter(j.dl.notnull()).select(base=j.base, count=j["count"], pop=j.dl)
    else:
        p = p.semi_join(edges, p.pkg == edges.child)
        p = p.group_by("pkg").aggregate(dl=p.dl.max())
        # one package row per child after the group-by: rows per base = distinct descendants
        ej = edges.left_join(p, edges.child == p.pkg)
        if mode == "artifact":
            ej = ej.filter(ej.dl.notnull())
            j = ej.group_by("base").aggregate(count=ej.count(), pop=ej.dl.sum())
        else:
            j = ej.group_by("base").aggregate(count=ej.count(), pop=ej.dl.sum(), known=ej.dl.count())
            j = j.filter(j.known > 0).select("base", "count", "pop")
    j = j.mutate(n_all=n_all.as_scalar())
    df = j.order_by([ibis.desc("count"), "base"]).to_pandas()
    n_total = int(df["n_all"].iloc[0]) if len(df) else int(n_all.to_pandas())
    x = df["pop"].to_numpy(dtype=float)
    y = df["count"].to_numpy(dtype=float)
    fit, rho, tau, n_fit, d0, ddup = analyse_pairs(x, y, mode=mode, n_boot=n_boot, seed=seed)
    top = tuple((str(r.base), int(r.count), int(r.pop)) for r in df.head(10).itertuples(index=False))
    return DescendantsResult(
        source=sid,
        snapshot=snap,
        mode=mode,
        popularity=popularity,
        transitive=transitive,
        n_bases=len(df),
        dropped_unknown_popularity=n_total - len(df),
        n_fit=n_fit,
        dropped_zero_popularity=d0,
        dropped_duplicates=ddup,
        fit=fit,
        spearman=rho,
        kendall=tau,
        n_boot=n_boot,
        seed=seed,
        top_bases=top,
        popularity_values=x,
        count_values=y,
        base_ids=tuple(str(b) for b in df["base"]),
    )


PAIRS_COLUMNS = ("downloads", "count")


def read_pairs(path: str | Path) -> tuple[np.ndarray, np.ndarray, list[str] | None]:
    """Read a (downloads, count) CSV such as the paper's
    ``number_of_direct_descendant_models_per_download.csv``.

    Required columns ``downloads`` and ``count`` (others, e.g. ``base_model``,
    are kept as labels when present); values must be non-negative integers.
    """
    x, y, labels, _ = _read_pairs(path)
    return x, y, labels


def _read_pairs(path: str | Path) -> tuple[np.ndarray, np.ndarray, list[str] | None, str]:
    """:func:`read_pairs` plus the sha256 of exactly the bytes parsed (one read)."""
    import hashlib

    from ..sources._common import check_header

    path = Path(path)
    if not path.exists():
        raise InputError(path, "no such file")
    if path.is_dir():
        raise InputError(path, "is a directory, expected a CSV file")
    try:
        data = path.read_bytes()
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(path, f"not UTF-8 text ({exc.reason})") from exc
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc.strerror}") from exc
    rows = csv.reader(text.splitlines())
    header = next(rows, None)
    if not header:
        raise InputError(path, "empty file; expected a header with columns downloads,count")
    header = [h.strip() for h in header]
    check_header(path, header)
    missing = [c for c in PAIRS_COLUMNS if c not in header]
    if missing:
        raise InputError(path, f"missing column(s) {', '.join(missing)}; found {', '.join(header) or '(none)'}", line=1)
    ix = {c: header.index(c) for c in PAIRS_COLUMNS}
    label_ix = header.index("base_model") if "base_model" in header else None
    xs: list[int] = []
    ys: list[int] = []
    labels: list[str] = []
    lineno = 1
    while True:
        lineno += 1
        try:
            row = next(rows)
        except StopIteration:
            break
        except csv.Error as exc:
            raise InputError(path, f"malformed CSV: {exc}", line=lineno) from None
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(header):
            raise InputError(path, f"expected {len(header)} fields, found {len(row)}", line=lineno)
        for col, dest in (("downloads", xs), ("count", ys)):
            raw = row[ix[col]].strip()
            try:
                v = float(raw)
            except ValueError:
                raise InputError(path, f"not a number: {raw!r}", line=lineno, column=col) from None
            if math.isnan(v) or math.isinf(v) or v < 0 or v != int(v):
                raise InputError(path, f"expected a non-negative integer, found {raw!r}", line=lineno, column=col)
            dest.append(int(v))
        if label_ix is not None:
            labels.append(row[label_ix])
    if not xs:
        raise InputError(path, "no data rows after the header")
    sha = hashlib.sha256(data).hexdigest()
    return np.asarray(xs, dtype=float), np.asarray(ys, dtype=float), (labels if label_ix is not None else None), sha


def descendants_from_pairs(
    path: str | Path, *, mode: Mode = DEFAULTS.mode, n_boot: int = DEFAULTS.n_boot, seed: int = DEFAULTS.seed
) -> DescendantsResult:
    """The descendants statistics on a precomputed (downloads, count) table."""
    x, y, labels, sha = _read_pairs(path)  # sha256 of the bytes parsed, not of a second read
    fit, rho, tau, n_fit, d0, ddup = analyse_pairs(x, y, mode=mode, n_boot=n_boot, seed=seed)
    order = np.lexsort((np.arange(y.size), -y))[:10]
    names = labels if labels is not None else [f"row {i + 2}" for i in range(y.size)]
    top = tuple((names[i], int(y[i]), int(x[i])) for i in order)
    return DescendantsResult(
        source=str(path),
        snapshot=None,
        mode=mode,
        popularity="from_file",
        transitive=False,
        n_bases=int(x.size),
        dropped_unknown_popularity=0,
        n_fit=n_fit,
        dropped_zero_popularity=d0,
        dropped_duplicates=ddup,
        fit=fit,
        spearman=rho,
        kendall=tau,
        n_boot=n_boot,
        seed=seed,
        top_bases=top,
        popularity_values=x,
        count_values=y,
        source_sha256=sha,
        base_ids=tuple(names),
    )


def _compute(ctx: Context, p: DescendantsParams) -> DescendantsResult:
    if p.pairs is not None:
        if not ctx.selection.empty or p.transitive:
            raise PtmscopeError("pairs analyses the file alone; a snapshot selection and transitive apply to the store")
        return descendants_from_pairs(p.pairs, mode=p.mode, n_boot=p.n_boot, seed=p.seed)
    return descendants(
        ctx.backend,
        ctx.selection,
        registry=p.registry,
        popularity=p.popularity,
        mode=p.mode,
        transitive=p.transitive,
        n_boot=p.n_boot,
        seed=p.seed,
    )


def _figure(result: DescendantsResult, p: DescendantsParams) -> Any:
    from ..figures.descendants import descendants_figure

    return descendants_figure(result)


def _tables(data: dict[str, Any]) -> list[ReportTable]:
    rows = [[r["base"], r["count"], r["popularity"]] for r in data.get("top_bases", [])[:10]]
    return [
        ReportTable(
            "Base models with most direct descendants", ("base model", "direct descendants", "popularity"), rows
        )
    ]


def _frames(res: DescendantsResult, data: dict[str, Any]) -> dict[str, Any]:
    import pandas as pd

    from .registry import default_frames

    out = default_frames(data)
    n = len(res.count_values)
    ids = list(res.base_ids) if len(res.base_ids) == n else [None] * n
    out["pairs"] = pd.DataFrame(
        {"base": ids, "n_descendants": res.count_values.astype("int64"), "popularity": res.popularity_values}
    )
    return out


METRIC = register(
    Metric(
        name=NAME,
        title="Descendants vs popularity (paper Figure 7)",
        params=DescendantsParams,
        compute=_compute,
        figure=_figure,
        tables=_tables,
        frames=_frames,
        key_numbers=(
            ("inputs.snapshot_id", "snapshot"),
            ("inputs.popularity", "popularity"),
            ("n_bases", "base models"),
            ("spearman.coef", "Spearman rho"),
            ("spearman.ci", "95% CI"),
            ("spearman.p", "p"),
            ("fit.slope", "log-log slope"),
            ("fit.slope_ci", "slope 95% CI"),
        ),
        needs="lineage (base-model edges) and downloads of one snapshot, or a (downloads, count) CSV",
    )
)
