"""Agreement between screening reviewers: Cohen's kappa with its CI (statsmodels) and the conflicts."""

from __future__ import annotations

import math
from itertools import combinations
from pathlib import Path
from typing import Any

from ..errors import InputError
from .folder import Review


def reviewers(rv: Review) -> list[str]:
    return sorted({d.reviewer for d in rv.decisions})


def kappa(rv: Review, a: str, b: str) -> dict[str, Any]:
    """Cohen's kappa of reviewers ``a`` and ``b`` on the papers both screened, with a 95% CI."""
    import numpy as np
    from statsmodels.stats.inter_rater import cohens_kappa

    da = {d.paper: d.decision for d in rv.decisions if d.reviewer == a}
    db = {d.paper: d.decision for d in rv.decisions if d.reviewer == b}
    both = sorted(set(da) & set(db))
    where = Path(rv.folder) / "screening.csv"
    if not both:
        raise InputError(where, f"reviewers {a} and {b} screened no paper in common: no agreement to compute")
    cats = ["include", "exclude"]
    table = np.zeros((2, 2))
    for p in both:
        table[cats.index(da[p]), cats.index(db[p])] += 1
    agree = int(table[0, 0] + table[1, 1])
    out: dict[str, Any] = {
        "reviewers": [a, b],
        "n": len(both),
        "agreements": agree,
        "observed_agreement": agree / len(both),
        "table": {
            "include/include": int(table[0, 0]),
            "include/exclude": int(table[0, 1]),
            "exclude/include": int(table[1, 0]),
            "exclude/exclude": int(table[1, 1]),
        },
        "conflicts": [p for p in both if da[p] != db[p]],
    }
    res = cohens_kappa(table, return_results=True)
    k = float(res.kappa)
    if not math.isfinite(k):
        out.update(
            kappa=None, ci=None, se=None, note="kappa is undefined: every decision of both reviewers is in one category"
        )
        return out
    lo, hi = float(res.kappa_low), float(res.kappa_upp)
    out.update(
        kappa=k,
        ci=[max(lo, -1.0), min(hi, 1.0)],
        se=float(res.std_kappa),
        method="Cohen's kappa; 95% CI from the asymptotic standard error of Fleiss, Cohen and Everitt "
        "(statsmodels cohens_kappa), clipped to [-1, 1]",
    )
    return out


def agreement(rv: Review, pair: tuple[str, str] | None = None) -> dict[str, Any]:
    """Kappa for a pair of reviewers (or every pair), and the papers still in conflict."""
    who = reviewers(rv)
    where = Path(rv.folder) / "screening.csv"
    if not rv.has_records:
        raise InputError(Path(rv.folder) / "review.toml", 'records = "not public": no screening decisions to compare')
    if len(who) < 2:
        have = f"one ({who[0]})" if who else "none"
        raise InputError(where, f"Cohen's kappa needs two reviewers; the screening decisions have {have}")
    if pair is not None:
        missing = [x for x in pair if x not in who]
        if missing:
            raise InputError(where, f"no decisions of reviewer {missing[0]!r}; reviewers: {', '.join(who)}")
        pairs = [pair]
    else:
        pairs = list(combinations(who, 2))
    return {
        "reviewers": who,
        "pairs": [kappa(rv, a, b) for a, b in pairs],
        "unresolved_conflicts": list(rv.conflicts),
        "resolved": sorted(rv.resolutions),
    }
