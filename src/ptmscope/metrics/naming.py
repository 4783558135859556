"""Naming: the share of model names that name their architecture.

Formula: for packages of the chosen snapshot with a known architecture
family ``config.model_type`` (column ``model_type``), normalise both the
name (the id after the namespace) and the family by lower-casing and
dropping everything but ``[a-z0-9]`` (so ``xlm-roberta`` matches
``XLM_RoBERTa``); a name *names its architecture* when the normalised family
is a substring of the normalised name.  Share = matches / packages with a
family, with a Wilson 95% interval.  Also per family (the most common ones).

Tests T3.10 (extension test ext.naming).  Approximation: substring matching
counts ``distilbert-x`` as naming ``bert`` and misses names that use a
product name (``llama`` for family ``mistral`` fine-tunes are correctly
"not naming"); it is a lower-effort proxy for the DARA-style checks of the
naming literature.  It is strict: family aliases count as *not* naming the
architecture (``opus-mt`` for ``marian``, ``MiniLM`` for ``bert``,
``DialoGPT`` for ``gpt2``), which on the 2022-02 Hub dump is most of the
gpt2 and marian families; read the share as an upper bound of names that
do not convey the architecture.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import ibis
import numpy as np
from pydantic import Field

from ..errors import NotMeasurable
from ..snapshots import Selection, as_selection, pick
from .registry import Context, Metric, Params, ReportTable, register

NAME = "naming"


class NamingParams(Params):
    top_types: int = Field(15, ge=1, description="Architecture families listed one by one (most common first).")
    n_examples: int = Field(5, ge=0, description="Most-downloaded models not naming their architecture to list.")


DEFAULTS = NamingParams()


@dataclass(frozen=True)
class NamingResult:
    metric: str
    snapshot_id: str
    taken_at: str
    synthetic: bool
    n_packages: int
    n_with_model_type: int
    n_naming_architecture: int
    share_naming: float
    share_naming_ci: list[float]
    share_not_naming: float
    share_not_naming_ci: list[float]
    by_model_type: list[dict[str, Any]]  # {model_type, n, naming, share}
    examples_not_naming: list[dict[str, str]]
    method: str = "normalised model_type substring of normalised name; Wilson 95% CI"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _norm(s: Any) -> Any:
    return s.lower().re_replace(r"[^a-z0-9]", "")


# the normal quantile of a 95% two-sided interval, scipy.stats.norm.isf(0.025) to the bit (a test checks)
Z_975 = 1.9599639845400545


def wilson(k: int, n: int) -> list[float]:
    """Wilson 95% interval of k / n: statsmodels' ``proportion_confint(method="wilson")``, the same float operations.

    Written out because importing statsmodels (and SciPy under it) took seconds of every call.
    """
    q = np.float64(k) / np.float64(n)
    nobs = np.float64(n)
    crit = np.float64(Z_975)
    crit2 = crit**2
    denom = 1 + crit2 / nobs
    center = (q + crit2 / (2 * nobs)) / denom
    dist = crit * np.sqrt(q * (1.0 - q) / nobs + crit2 / (4.0 * nobs**2))
    dist /= denom
    lo, hi = np.clip(center - dist, 0, 1), np.clip(center + dist, 0, 1)
    # the Wilson bound is exactly 0 at k = 0 and 1 at k = n; floating point leaves 1e-16 residues
    return [0.0 if k == 0 else float(lo), 1.0 if k == n else float(hi)]


def _with_names(p: Any) -> Any:
    """Rows with a model_type, its lower-case family ``mt`` and ``names`` (1 if the name contains it)."""
    # the name after the namespace; a regex rather than split()[-1], which Ibis compiles
    # to an invalid index 0 on PySpark
    name = p.package_id.re_replace(r"^.*/", "")
    return p.filter(p.model_type.notnull() & (_norm(p.model_type) != "")).mutate(
        mt=p.model_type.lower(), names=_norm(name).contains(_norm(p.model_type)).cast("int64")
    )


def _examples(p: Any, q: Any, n_examples: int, n_not: int) -> Any:
    """The most-downloaded models whose name does not contain their family.

    The name test is a regular expression per row; the examples are looked
    for among the 1,000 most-downloaded models with a model_type first, and in
    the whole snapshot only if fewer than ``n_examples`` of those qualify.
    The order (downloads descending, then id) is the same in both, so any
    qualifying row outside the first 1,000 comes after every row inside
    them: the rows are the same either way.
    """
    order = [ibis.desc("downloads"), "package_id"]
    cols = ("package_id", "mt", "downloads")
    want = min(n_examples, n_not)
    if want > 0:
        top = p.filter(p.model_type.notnull()).select(*("package_id", "model_type", "downloads"))
        head = _with_names(top.order_by(order).limit(max(1000, 20 * n_examples)))
        df = head.filter(head.names == 0).select(*cols).order_by(order).limit(n_examples).execute()
        if len(df) >= want:
            return df
    return q.filter(q.names == 0).select(*cols).order_by(order).limit(n_examples).execute()


def naming(
    backend: Any,
    *,
    snapshot_id: str | Selection | None = None,
    top_types: int = DEFAULTS.top_types,
    n_examples: int = DEFAULTS.n_examples,
) -> NamingResult:
    """Share of model names that contain their architecture family (module docstring)."""
    chosen = pick(backend, "hf", as_selection(snapshot_id), columns=("model_type",), min_rows=1, what=NAME)
    p = backend.table("packages")
    p = p.filter(p.snapshot_id == chosen.snapshot_id)
    q = _with_names(p)
    # every family with its counts (a few hundred rows), the snapshot's size alongside: one query
    every = (
        q.group_by("mt")
        .aggregate(n=ibis._.count(), naming=ibis._.names.sum())
        .mutate(n_all=p.count().as_scalar())
        .order_by([ibis.desc("n"), "mt"])
        .execute()
    )
    n_all = int(every["n_all"].iloc[0]) if len(every) else int(p.count().execute())
    n, k = int(every["n"].sum()), int(every["naming"].fillna(0).sum())
    if n == 0:
        raise NotMeasurable(f"{NAME}: snapshot {chosen.snapshot_id} has no model_type values")
    per = every.head(top_types)
    ex = _examples(p, q, n_examples, n - k)
    share = k / n
    ci = wilson(k, n)
    return NamingResult(
        metric=NAME,
        snapshot_id=chosen.snapshot_id,
        taken_at=chosen.taken_at.isoformat(),
        synthetic=chosen.synthetic,
        n_packages=n_all,
        n_with_model_type=n,
        n_naming_architecture=k,
        share_naming=share,
        share_naming_ci=ci,
        share_not_naming=1 - share,
        share_not_naming_ci=wilson(n - k, n),
        by_model_type=[
            {"model_type": str(r.mt), "n": int(r.n), "naming": int(r.naming), "share": int(r.naming) / int(r.n)}
            for r in per.itertuples()
        ],
        examples_not_naming=[{"package_id": str(r.package_id), "model_type": str(r.mt)} for r in ex.itertuples()],
    )


def _compute(ctx: Context, p: NamingParams) -> NamingResult:
    return naming(ctx.backend, snapshot_id=ctx.selection, top_types=p.top_types, n_examples=p.n_examples)


def _figure(result: NamingResult, p: NamingParams) -> Any:
    from ..figures.naming import naming_figure

    return naming_figure(result)


def _tables(data: dict[str, Any]) -> list[ReportTable]:
    return [
        ReportTable(
            "Most-downloaded models whose name does not contain their architecture",
            ("model", "model_type"),
            [[r["package_id"], r["model_type"]] for r in data.get("examples_not_naming", [])],
        ),
        ReportTable(
            "By architecture family",
            ("model_type", "models", "naming it", "share"),
            [[r["model_type"], r["n"], r["naming"], r["share"]] for r in data.get("by_model_type", [])],
        ),
    ]


METRIC = register(
    Metric(
        name=NAME,
        title="Naming: share of model names that name their architecture",
        params=NamingParams,
        compute=_compute,
        figure=_figure,
        tables=_tables,
        key_numbers=(
            ("snapshot_id", "snapshot"),
            ("n_with_model_type", "models with config.model_type"),
            ("share_naming", "share naming their architecture"),
            ("share_not_naming_ci", "share not naming it, 95% CI"),
        ),
        caveats=(
            "the check is a substring match of config.model_type in the name, so family aliases (opus-mt for "
            "marian, MiniLM for bert, DialoGPT for gpt2) count as not naming the architecture: the share not "
            "naming it is an upper bound.",
        ),
        needs="architecture families (packages.model_type, from config.json) of one Hub snapshot",
    )
)
