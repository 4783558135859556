"""The yardstick: the ESEM'24 paper's published algorithms, re-implemented in pandas.

Kept in ``benchmarks/`` only; ptmscope never imports it.  Written from a
reading of the paper's code (PurdueDualityLab/ptm-quantify-esem-2024 @ f5ea2ca),
not copied; the *algorithms* are kept as published, including their cost:

* descendants (``number_DirectDescendantsToDownloads.py`` + ``descendents.py``):
  ``groupby(base_model_name)``, then for every group an inner ``merge`` with the
  whole model table to fetch the descendants' downloads; count = rows after the
  merge, downloads = their sum; then drop duplicate (downloads, count) pairs and
  ``np.polyfit`` on log10(x + 1e-5).  One merge against all N models per base
  model makes this O(bases x N).
* preservation (``proportion_DirectDescendantsToLibrary.py``): keep library
  rows of models that appear as descendants, keep models with at least two
  libraries (``duplicated(keep=False)``), then loop over ``groupby(library)``
  counting unique models per library / all models.  This is ptmscope's
  ``mode="artifact"``.  :func:`preservation_eq1` is the paper's equation 1 in
  the same style (per-library loop, a merge per library), to time ptmscope's
  ``mode="paper"`` against.
* turnover (``turnover.ipynb``): per snapshot ``ORDER BY downloads DESC LIMIT
  K`` over non-null downloads (here ``sort_values(...).head(K)``), then Python
  set operations: remained = last & current, returning = (current - last) &
  ever, newcomers = the rest.

Inputs are pandas frames loaded from a ptmscope store by :func:`load`; the
timing of the algorithms excludes loading (which favours the baseline).

``budget_s``: the group loops stop when they exceed the time budget and the
full time is extrapolated linearly from the groups done (each group's merge
costs about the same, since it is dominated by the full model table);
results then carry ``extrapolated=True`` and no values.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd


@dataclass
class BaselineRun:
    name: str
    seconds: float  # measured, or extrapolated when extrapolated=True
    extrapolated: bool = False
    groups_done: int = 0
    groups_total: int = 0
    result: Any = None
    notes: list[str] = field(default_factory=list)


def load(con: Any, snapshot_ids: list[str], registry: str = "hf") -> dict[str, pd.DataFrame]:
    """The frames the paper's scripts read, from a store's DuckDB connection."""
    ids = list(snapshot_ids)
    ph = ", ".join("?" for _ in ids)
    models = con.execute(
        f"SELECT snapshot_id, package_id AS model_id, downloads FROM packages WHERE snapshot_id IN ({ph})", ids
    ).df()
    m2lib = con.execute(
        f"SELECT snapshot_id, package_id AS model_id, library FROM package_libraries WHERE snapshot_id IN ({ph})",
        ids,
    ).df()
    m2base = con.execute(
        f"SELECT snapshot_id, child AS model_id, parent_id AS base_model_name FROM lineage WHERE snapshot_id IN ({ph})",
        ids,
    ).df()
    return {"models": models, "model_to_library": m2lib, "model_to_base_model": m2base}


# -- descendants ---------------------------------------------------------------


def descendants(models: pd.DataFrame, m2base: pd.DataFrame, budget_s: float = float("inf")) -> BaselineRun:
    t0 = time.perf_counter()
    models = models[["model_id", "downloads"]].dropna(how="any", ignore_index=True)
    data: dict[str, list] = {"base_model": [], "count": [], "downloads": []}
    dfgb = m2base.groupby(by="base_model_name")
    total = dfgb.ngroups
    for done, (bm, df) in enumerate(dfgb, start=1):
        df = df.merge(right=models, on="model_id")
        data["base_model"].append(bm)
        data["count"].append(df.shape[0])
        data["downloads"].append(int(df["downloads"].sum()))
        if time.perf_counter() - t0 > budget_s and done < total:
            el = time.perf_counter() - t0
            return BaselineRun(
                "descendants",
                el / done * total,
                True,
                done,
                total,
                notes=[f"stopped after {done:,} of {total:,} base models ({el:.0f} s)"],
            )
    metric = pd.DataFrame(data=data).sort_values(by="count", ascending=False, ignore_index=True)
    df = metric[["downloads", "count"]].drop_duplicates(subset=["downloads", "count"])
    eps = 1e-5
    slope, intercept = (
        np.polyfit(np.log10(df["downloads"] + eps), np.log10(df["count"] + eps), 1)
        if len(df) >= 2
        else (float("nan"), float("nan"))
    )
    el = time.perf_counter() - t0
    return BaselineRun(
        "descendants",
        el,
        False,
        total,
        total,
        result={"pairs": metric, "slope": float(slope), "intercept": float(intercept)},
    )


# -- preservation --------------------------------------------------------------


def preservation_artifact(m2lib: pd.DataFrame, m2base: pd.DataFrame, budget_s: float = float("inf")) -> BaselineRun:
    t0 = time.perf_counter()
    mlm = m2lib[["model_id", "library"]].rename(columns={"model_id": "model"}).copy()
    mlm["model_id"] = mlm["model"]
    mlm = mlm.sort_values(by="model_id")
    base_ids = m2base["model_id"].to_list()  # the descendants (models that have a base model)
    mlm = mlm[mlm["model_id"].isin(values=base_ids)]
    mlm = mlm[mlm["model_id"].duplicated(keep=False)]  # models with at least two libraries
    data: dict[str, list] = {"library": [], "count": [], "prop": []}
    model_count = len(mlm["model"].unique())
    for lib, df in mlm.groupby(by="library"):
        data["library"].append(lib)
        data["count"].append(len(df["model"].unique()))
        data["prop"].append(len(df["model"].unique()) / model_count)
    out = pd.DataFrame(data=data).sort_values(by="prop", ascending=False, ignore_index=True)
    return BaselineRun("preservation_artifact", time.perf_counter() - t0, False, len(out), len(out), result=out)


def preservation_eq1(m2lib: pd.DataFrame, m2base: pd.DataFrame, budget_s: float = float("inf")) -> BaselineRun:
    """Equation 1 in the published code's style: one loop over libraries, merges per library."""
    t0 = time.perf_counter()
    libs = m2lib[["model_id", "library"]].drop_duplicates()
    edges = m2base.dropna(subset=["base_model_name"])[["base_model_name", "model_id"]].drop_duplicates()
    edges = edges[edges["base_model_name"] != edges["model_id"]]
    multi = libs[libs["model_id"].duplicated(keep=False)]  # bases supporting >= 2 libraries
    data: dict[str, list] = {"library": [], "numerator": [], "denominator": [], "rate": []}
    groups = multi.groupby(by="library")
    total = groups.ngroups
    for done, (lib, bl) in enumerate(groups, start=1):
        d = bl.rename(columns={"model_id": "base_model_name"}).merge(edges, on="base_model_name")
        den = len(d)
        child_has = libs[libs["library"] == lib]
        num = len(d.merge(child_has, on="model_id"))
        data["library"].append(lib)
        data["numerator"].append(num)
        data["denominator"].append(den)
        data["rate"].append(num / den if den else None)
        if time.perf_counter() - t0 > budget_s and done < total:
            el = time.perf_counter() - t0
            return BaselineRun("preservation_eq1", el / done * total, True, done, total)
    out = pd.DataFrame(data=data)
    return BaselineRun("preservation_eq1", time.perf_counter() - t0, False, total, total, result=out)


# -- turnover ------------------------------------------------------------------


def turnover(history: list[pd.DataFrame], limit: int = 1000) -> BaselineRun:
    """``history``: one frame (model_id, downloads) per snapshot, in date order."""
    t0 = time.perf_counter()
    tops = []
    for df in history:
        top = df[df["downloads"].notna()].sort_values(by="downloads", ascending=False).head(limit)
        tops.append(top["model_id"])
    turnover = [{"Newcomers": limit, "Returning": 0, "Remained": 0}]
    have_ever_been_in_top = set(tops[0])
    last_top = have_ever_been_in_top
    for i in range(1, len(tops)):
        current_top = set(tops[i])
        new_packages = current_top - last_top
        returnees = new_packages.intersection(have_ever_been_in_top)
        new_packages -= returnees
        remained = last_top.intersection(current_top)
        turnover.append({"Newcomers": len(new_packages), "Returning": len(returnees), "Remained": len(remained)})
        last_top = current_top
        have_ever_been_in_top.update(new_packages)
    el = time.perf_counter() - t0
    return BaselineRun(
        "turnover",
        el,
        False,
        len(tops),
        len(tops),
        result={"steps": turnover, "distinct_ever": len(have_ever_been_in_top)},
    )
