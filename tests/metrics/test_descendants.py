"""Descendants vs popularity: per-base counts, popularity modes, fits, pairs files."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from metric_tables import mem_backend

from ptmscope.errors import InputError, PtmscopeError
from ptmscope.metrics.descendants import analyse_pairs, descendants, descendants_from_pairs, read_pairs
from realdata import shared_path

SID = "hf-2022-02-21-test"


def backend(downloads: dict[str, int | None], edges: list[tuple[str | None, str]]) -> Any:
    pk = list(downloads)
    lin = {
        "snapshot_id": [SID] * len(edges),
        "child": [c for _, c in edges],
        "parent_ref": [p or "?" for p, _ in edges],
        "parent_id": [p for p, _ in edges],
    }
    packages = {"snapshot_id": [SID] * len(pk), "package_id": pk, "raw_id": pk, "downloads": [downloads[k] for k in pk]}
    return mem_backend([(SID, "hf", "2022-02-21")], {"packages": packages, "lineage": lin})


DL = {"A": 100, "a1": 10, "a2": None, "a3": 5, "B": None, "b1": 7, "c1": 4, "a1x": 3}
EDGES = [
    ("A", "a1"),
    ("A", "a2"),
    ("A", "a3"),
    ("A", "a1"),
    ("B", "b1"),
    ("C", "c1"),
    (None, "z"),
    ("a1", "a1x"),
    ("A", "A"),
]


def pairs(res) -> dict[str, tuple[int, int]]:
    return {b: (c, p) for b, c, p in res.top_bases}


def test_own_popularity_drops_unknown_bases():
    r = descendants(backend(DL, EDGES), n_boot=0)
    # bases: A (3 children, 100 dl), a1 (1 child, 10 dl), B (null dl), C (not listed)
    assert pairs(r) == {"A": (3, 100), "a1": (1, 10)}
    assert (r.n_bases, r.dropped_unknown_popularity) == (2, 2)


def test_descendants_sum_paper_and_artifact_counts():
    paper = descendants(backend(DL, EDGES), popularity="descendants_sum", n_boot=0)
    # A: children a1 a2 a3, known downloads 10 + 5; B: b1 7; C: c1 4; a1: a1x 3
    assert pairs(paper) == {"A": (3, 15), "B": (1, 7), "C": (1, 4), "a1": (1, 3)}
    art = descendants(backend(DL, EDGES), popularity="descendants_sum", mode="artifact", n_boot=0)
    # the published code counted only children with a download figure: a2 drops out
    assert pairs(art)["A"] == (2, 15)


def test_transitive_counts_the_whole_tree():
    r = descendants(backend(DL, EDGES), transitive=True, n_boot=0)
    assert pairs(r)["A"] == (4, 100)  # a1, a2, a3 and a1's child a1x


def test_transitive_survives_cycles():
    r = descendants(backend({"p": 5, "q": 6}, [("p", "q"), ("q", "p")]), transitive=True, n_boot=0)
    assert pairs(r) == {"p": (1, 5), "q": (1, 6)}


def test_artifact_fit_drops_duplicates_and_uses_offset():
    x = [10, 10, 100, 1000]
    y = [1, 1, 10, 100]
    fit, rho, _tau, n_fit, d0, dup = analyse_pairs(x, y, mode="artifact", n_boot=0)
    assert (n_fit, dup, d0) == (3, 1, 0)
    assert fit.offset == 1e-5
    lx = np.log10(np.array([10, 100, 1000]) + 1e-5)
    ly = np.log10(np.array([1, 10, 100]) + 1e-5)
    m, b = np.polyfit(lx, ly, 1)  # what the paper's descendents.py ran
    assert fit.slope == pytest.approx(m, rel=1e-9) and fit.intercept == pytest.approx(b, rel=1e-9)
    assert rho.n == 4 and rho.coef == pytest.approx(1.0)


def test_paper_fit_leaves_out_zero_popularity():
    fit, _, _, n_fit, d0, dup = analyse_pairs([0, 10, 100, 1000], [5, 1, 10, 100], mode="paper", n_boot=0)
    assert (n_fit, d0, dup) == (3, 1, 0)
    assert fit.slope == pytest.approx(1.0) and fit.intercept == pytest.approx(-1.0)
    assert fit.offset == 0.0


def test_bad_mode_and_popularity():
    with pytest.raises(PtmscopeError, match="unknown popularity"):
        descendants(backend(DL, EDGES), popularity="likes")  # type: ignore[arg-type]
    with pytest.raises(PtmscopeError, match="unknown mode"):
        analyse_pairs([1], [1], mode="x")  # type: ignore[arg-type]


# --- pairs files -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("", "empty file", None),
        ("downloads,n\n1,2\n", "missing column(s) count", 1),
        ("downloads,count\n", "no data rows", None),
        ("downloads,count\n5,2\n5,x\n", "not a number", 3),
        ("downloads,count\n-5,2\n", "non-negative integer", 2),
        ("downloads,count\n5.5,2\n", "non-negative integer", 2),
        ("downloads,count\n5,2,9\n", "expected 2 fields", 2),
    ],
)
def test_pairs_file_errors_name_file_and_line(tmp_path, text, message, line):
    p = tmp_path / "pairs.csv"
    p.write_text(text)
    with pytest.raises(InputError) as ei:
        read_pairs(p)
    assert message in str(ei.value)
    assert str(p) in str(ei.value)
    assert ei.value.line == line


def test_pairs_file_missing_and_directory(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_pairs(tmp_path / "absent.csv")
    with pytest.raises(InputError, match="is a directory"):
        read_pairs(tmp_path)


def test_pairs_file_with_labels(tmp_path):
    p = tmp_path / "pairs.csv"
    p.write_text("base_model,count,downloads\nm/a,3,100\nm/b,1,10\n\n")
    r = descendants_from_pairs(p, n_boot=0)
    assert r.top_bases[0] == ("m/a", 3, 100)
    assert r.n_bases == 2


@pytest.mark.realdata
def test_paper_pairs_reproduce_the_published_fit():
    csv_path = shared_path("hf", "esem24-artifact", "number_of_direct_descendant_models_per_download.csv")
    import csv

    rows = list(csv.DictReader(csv_path.open()))
    d = np.array([float(r["downloads"]) for r in rows])
    c = np.array([float(r["count"]) for r in rows])
    uniq = np.unique(np.stack([d, c], axis=1), axis=0)
    m, b = np.polyfit(np.log10(uniq[:, 0] + 1e-5), np.log10(uniq[:, 1] + 1e-5), 1)
    r = descendants_from_pairs(csv_path, mode="artifact", n_boot=0)
    assert r.n_bases == 3471
    assert r.fit.slope == pytest.approx(m, rel=1e-9) and r.fit.intercept == pytest.approx(b, rel=1e-9)
    assert r.dropped_duplicates == 3471 - len(uniq)
    corrected = descendants_from_pairs(csv_path, mode="paper", n_boot=0)
    assert corrected.dropped_zero_popularity == int((d == 0).sum())
    assert not math.isclose(corrected.fit.slope, r.fit.slope, rel_tol=1e-6)


def test_pairs_result_pins_the_file_by_sha256(tmp_path):
    import hashlib

    p = tmp_path / "pairs.csv"
    p.write_text("downloads,count\n1,2\n10,3\n100,4\n")
    d = descendants_from_pairs(p, n_boot=0).to_dict()
    assert d["inputs"]["source_sha256"] == hashlib.sha256(p.read_bytes()).hexdigest()
    assert d["inputs"]["source"] == str(p)
