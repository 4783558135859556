"""Recompute the synthetic generator's fitted parameters from the real data.

    .venv/bin/python benchmarks/fit_synth_params.py [../shared/data]

Prints the numbers that ``ptmscope.synth.FIT`` records (and the comparison
fits on the other 2022 listings).  The download marginal: share of zeros,
then on the nonzero counts a discrete power-law tail by the
Clauset-Shalizi-Newman method (MLE alpha = 1 + n / sum(ln(x / (x_min - 1/2)))
for each candidate x_min, x_min chosen by the smallest Kolmogorov-Smirnov
distance) and a log-normal body below x_min.
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

import numpy as np


def read_downloads(path: Path) -> np.ndarray:
    """Non-null ``downloads`` of a Hub API JSON-lines dump."""
    out = []
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            d = json.loads(line).get("downloads")
            if d is not None:
                out.append(d)
    return np.asarray(out, dtype=float)


def fit_tail(x: np.ndarray, n_candidates: int = 80, min_tail: int = 100) -> tuple[float, float, float, int]:
    """(ks, x_min, alpha, n_tail) of the best power-law tail of positive values ``x``."""
    x = np.sort(x[x > 0])
    best = None
    for xmin in np.unique(np.quantile(x, np.linspace(0.5, 0.995, n_candidates))):
        t = x[x >= xmin]
        if len(t) < min_tail:
            continue
        a = 1 + len(t) / np.sum(np.log(t / (xmin - 0.5)))
        emp = np.arange(1, len(t) + 1) / len(t)
        ks = float(np.max(np.abs(emp - (1 - (t / xmin) ** (1 - a)))))
        if best is None or ks < best[0]:
            best = (ks, float(xmin), float(a), len(t))
    assert best is not None
    return best


def fit_downloads(d: np.ndarray) -> dict[str, float]:
    nz = d[d > 0]
    ks, xmin, alpha, n_tail = fit_tail(nz)
    body = np.log(nz[nz < xmin])
    return {
        "p_zero": round(float((d == 0).mean()), 3),
        "x_min": xmin,
        "p_tail": round(n_tail / len(nz), 3),
        "alpha": round(alpha, 3),
        "ks": round(ks, 3),
        "body_mu": round(float(body.mean()), 3),
        "body_sigma": round(float(body.std()), 3),
        "n": len(d),
    }


def main(data: Path) -> None:
    hf = data / "hf"
    print("2022-02 dump:", fit_downloads(read_downloads(hf / "2022-02_hub-dump" / "model_infos.jsonl.gz")))
    try:
        import duckdb

        con = duckdb.connect()
        d = (
            con.execute(
                "SELECT downloads FROM read_csv_auto("
                f"'{hf / '2022-07_huggingfaceR' / 'models_with_downloads.csv.gz'}') "
                "WHERE downloads IS NOT NULL"
            )
            .fetchnumpy()["downloads"]
            .astype(float)
        )
        print("2022-07 listing:", fit_downloads(d))
        d = (
            con.execute(
                f"SELECT downloads FROM '{hf / '2022-10_model-card-study' / 'model_info.parquet'}' "
                "WHERE downloads IS NOT NULL"
            )
            .fetchnumpy()["downloads"]
            .astype(float)
        )
        print("2022-10 listing:", fit_downloads(d))
        c = (
            con.execute(
                "SELECT count FROM read_csv_auto("
                f"'{data / 'hf' / 'esem24-artifact' / 'direct_descendants_by_base_model.csv'}')"
            )
            .fetchnumpy()["count"]
            .astype(float)
        )
        ks, xmin, a, n = fit_tail(c)
        print(
            f"descendant counts (esem24 artifact): alpha={a:.3f} above {xmin:g} (KS {ks:.3f}, {n} bases); "
            f"share with 1: {(c == 1).mean():.3f}"
        )
    except Exception as exc:  # the comparison fits are informative only
        print("comparison fits skipped:", exc)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "shared" / "data")
