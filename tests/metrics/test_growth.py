"""growth (T3.12): new authors per month and the exponential / linear / quadratic comparison.
Expected values: statsmodels' own negative-binomial fit, series generated from a known curve,
and counts made by hand."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hand_store import build, utc

from ptmscope.engine import connect
from ptmscope.metrics.growth import GrowthParams, compare_curves, fit_curve, growth, nb2_loglik, summarise


def test_nb2_exponential_fit_equals_statsmodels():
    import statsmodels.api as sm

    rng = np.random.default_rng(1)
    t = np.arange(30, dtype=float)
    mu = np.exp(2.0 + 0.12 * t)
    y = rng.negative_binomial(1 / 0.3, 1 / (1 + 0.3 * mu))
    ref = sm.NegativeBinomial(y, sm.add_constant(t)).fit(disp=0)
    got = fit_curve("exponential", y)
    assert got["llf"] == pytest.approx(ref.llf, abs=1e-5)
    assert got["params"] == pytest.approx(list(ref.params[:2]), rel=1e-4)
    assert got["alpha"] == pytest.approx(ref.params[2], rel=1e-3)
    assert got["aic"] == pytest.approx(ref.aic, abs=1e-4)


def test_nb2_loglik_equals_scipy():
    from scipy.stats import nbinom

    y = np.array([0, 3, 10, 250])
    mu = np.array([1.5, 2.0, 12.0, 180.0])
    a = 0.4
    want = nbinom.logpmf(y, 1 / a, 1 / (1 + a * mu)).sum()
    assert nb2_loglik(y.astype(float), mu, a) == pytest.approx(want)


@pytest.mark.parametrize(
    "truth, series",
    [
        ("exponential", [round(20 * 1.15**t) for t in range(36)]),
        ("linear", [100 + 40 * t for t in range(36)]),
        ("quadratic", [30 + 2 * t * t for t in range(36)]),
    ],
)
def test_the_generating_curve_wins(truth, series):
    rng = np.random.default_rng(7)
    y = [max(0, int(v + rng.normal(0, 0.03 * v))) for v in series]
    fits, best, margin = compare_curves(y)
    assert best == truth
    assert {f["curve"]: f["k"] for f in fits} == {"exponential": 3, "linear": 3, "quadratic": 4}
    assert min(f["delta_aic"] for f in fits) == 0
    assert (margin > 0) == (truth == "exponential")


def _created(per_month: dict[tuple[int, int], int], authors: dict[tuple[int, int], int]) -> dict:
    """Packages with creation dates: per month that many models, spread over that many new authors."""
    ids, created, author = [], [], []
    seen = 0
    for (y, m), n in sorted(per_month.items()):
        new = authors.get((y, m), 0)
        names = [f"u{seen + i}" for i in range(new)] or [f"u{max(seen - 1, 0)}"]
        seen += new
        for i in range(n):
            ids.append(f"{names[i % len(names)]}/m{len(ids)}")
            created.append(utc(y, m, 5))
            author.append(None)
    return {"package_id": ids, "created_at": created, "author": author}


def test_new_authors_per_month_are_first_models(tmp_path):
    # months: 2021-01 12 models by 3 new authors, 2021-02 15 models by 2 new authors (+ old ones), ...
    per_month = {(2021, m): 10 + 2 * m for m in range(1, 8)}
    authors = {(2021, 1): 3, (2021, 2): 2, (2021, 3): 0, (2021, 4): 4, (2021, 5): 1, (2021, 6): 5, (2021, 7): 2}
    path = tmp_path / "g.duckdb"
    build(path, [("hf", "2021-08-10", {"packages": _created(per_month, authors)})])
    r = growth(connect(path), min_count=1)
    assert r.months == [f"2021-{m:02d}" for m in range(1, 9)] or r.months == [f"2021-{m:02d}" for m in range(1, 8)]
    assert r.counts[:7] == [10 + 2 * m for m in range(1, 8)]
    assert r.author_counts[:7] == [3, 2, 0, 4, 1, 5, 2]
    assert r.n_authors == 17
    # March has no new author: with min_count 1 the authors' fit starts in April
    assert r.authors["fit_first_month"] == "2021-04"
    assert r.rests_on == [
        {"snapshot_id": r.snapshot_id, "what": "models with a creation date (17 authors)", "n": sum(r.counts)}
    ]


def test_comparison_and_summary_on_a_store(tmp_path):
    # exponential growth over 30 months, exactly 15% a month from 20
    per_month = {(2020 + (m - 1) // 12, (m - 1) % 12 + 1): round(20 * 1.15 ** (m - 1)) for m in range(1, 31)}
    authors = {k: max(1, v // 10) for k, v in per_month.items()}
    path = tmp_path / "e.duckdb"
    build(path, [("hf", "2022-07-15", {"packages": _created(per_month, authors)})])
    p = GrowthParams(min_count=10)
    r = growth(connect(path), min_count=p.min_count)
    assert r.best_curve["models"] == "exponential"
    assert r.monthly_growth == pytest.approx(0.15, abs=0.01)
    # counts are rounded, so the fit is close to, not exactly, 15%
    assert r.doubling_months == pytest.approx(math.log(2) / math.log(1.15), rel=0.01)
    assert r.doubling_months_ci[0] <= r.doubling_months <= r.doubling_months_ci[1]
    # later windows start each January with at least 12 months left: 2021-01 (18 months), 2022-01 is too short
    assert [w["from"] for w in r.window_sensitivity] == ["2021-01"]
    s = summarise(r, p)
    margins = [r.exp_aic_margin["models"], r.window_sensitivity[0]["exp_aic_margin"]]
    assert s["exp_aic_margin_min"] == min(margins) and s["exp_aic_margin_max"] == max(margins)
    assert s["n_months_fit"] == r.n_months_fit == 30


def test_datasets_registry_and_cli(cli, tmp_path):
    per_month = {(2022, m): 5 * m for m in range(1, 10)}
    path = tmp_path / "d.duckdb"
    build(path, [("hf-datasets", "2022-10-01", {"packages": _created(per_month, {k: 1 for k in per_month})})])
    code, out, err = cli(
        "metric",
        "growth",
        "--registry",
        "hf-datasets",
        "--min-count",
        "5",
        "--json",
        "--plot",
        tmp_path / "g.png",
        "--store",
        path,
    )
    assert code == 0, err
    d = json.loads(out)
    assert d["registry"] == "hf-datasets" and d["counts"] == [5 * m for m in range(1, 10)]
    assert d["summary"]["series"] == "datasets"
    assert (tmp_path / "g.png").read_bytes()[:4] == b"\x89PNG"
    code, _out, err = cli("metric", "growth", "--store", path)
    assert code != 0 or "not measurable" in err.lower()
