"""authorship (T3.1): shares of the top-K models owned by the top authors, on a store built by hand;
expected numbers by brute force (every tie order enumerated) and numpy."""

from __future__ import annotations

import itertools
import json
from fractions import Fraction

import numpy as np
import pytest
from hand_store import build
from hypothesis import given, settings
from hypothesis import strategies as st

from ptmscope.engine import connect
from ptmscope.metrics.authorship import (
    AuthorshipParams,
    Profiles,
    authorship,
    included,
    summarise,
    weighted_gini,
)

SMALL = [f"s{i:02d}/m" for i in range(18)]
IDS = ["big/a", "big/b", "mid/a", "mid/b", "gpt2", *SMALL]
DOWNLOADS = [1000, 500, 400, 5, 300, *range(10, 28)]
LIKES = [10, 9, 9, 0, 9, *(i % 3 for i in range(18))]


def owner(pid: str) -> str:
    return pid.split("/")[0] if "/" in pid else "(no namespace)"


def expected_in_top(items: list[tuple[str, float]], k: int) -> dict[str, Fraction]:
    """Expected count per key among the k largest values when ties are broken uniformly at random (brute force)."""
    values = sorted({v for _, v in items}, reverse=True)
    out: dict[str, Fraction] = {}
    left = k
    for v in values:
        tied = [key for key, x in items if x == v]
        if left >= len(tied):
            for key in tied:
                out[key] = out.get(key, Fraction(0)) + 1
            left -= len(tied)
            continue
        # every choice of the free slots among the tied items is equally likely
        picks = list(itertools.combinations(range(len(tied)), left))
        for chosen in picks:
            for i in chosen:
                out[tied[i]] = out.get(tied[i], Fraction(0)) + Fraction(1, len(picks))
        break
    return out


def expected_shares(values: list[int], k_models: int, k_authors: int) -> tuple[float, float, float]:
    """(share of the top-k models, share of all models, share of the measure) of the top k_authors, by brute force."""
    sums: dict[str, int] = {}
    n_models: dict[str, int] = {}
    for pid, v in zip(IDS, values, strict=True):
        sums[owner(pid)] = sums.get(owner(pid), 0) + v
        n_models[owner(pid)] = n_models.get(owner(pid), 0) + 1
    # models carry their owner; several models of one owner are distinct items
    in_top = expected_in_top(
        [(f"{owner(p)}|{i}", v) for i, (p, v) in enumerate(zip(IDS, values, strict=True))], k_models
    )
    top_per_author: dict[str, Fraction] = {}
    for key, x in in_top.items():
        a = key.split("|")[0]
        top_per_author[a] = top_per_author.get(a, Fraction(0)) + x
    p_in_group = expected_in_top(list(sums.items()), k_authors)
    share_top = sum(p * top_per_author.get(a, 0) for a, p in p_in_group.items()) / k_models
    share_all = sum(p * n_models[a] for a, p in p_in_group.items()) / len(IDS)
    share_pop = sum(p * sums[a] for a, p in p_in_group.items()) / sum(values)
    return float(share_top), float(share_all), float(share_pop)


def make_store(path):
    """The hand-built store of this module's tests (also used by the Spark parity test)."""
    build(
        path,
        [
            ("hf", "2022-02-15", {"packages": {"package_id": IDS, "downloads": DOWNLOADS, "likes": LIKES}}),
            # more models with downloads but no likes: not chosen while a snapshot has both
            ("hf", "2022-10-01", {"packages": {"package_id": [f"z{i}/m" for i in range(40)], "downloads": [1] * 40}}),
        ],
    )
    return path


@pytest.fixture
def store(tmp_path):
    return make_store(tmp_path / "a.duckdb")


def _row(res, measure: str, kind: str, k: int) -> dict:
    block = next(b for b in res.measures if b["measure"] == measure)
    return next(r for r in block["groups"] if r["kind"] == kind and r["k"] == k)


@pytest.mark.parametrize("measure, values", [("downloads", DOWNLOADS), ("likes", LIKES)])
@pytest.mark.parametrize("k_authors", [1, 2, 3])
def test_group_shares_equal_brute_force(store, measure, values, k_authors):
    res = authorship(connect(store), params=AuthorshipParams(top=3, top_authors=k_authors, n_boot=0))
    assert res.snapshot_id.startswith("hf-2022-02-15")
    assert {b["measure"] for b in res.measures} == {"downloads", "likes"}
    # 21 authors (the legacy id "gpt2" is one owner): the top 1% is ceil(0.21) = 1 author
    one = _row(res, measure, "share", 3)
    assert one["group_authors"] == 1
    want = expected_shares(values, 3, 1)
    assert (one["share_top"], one["share_all"], one["share_popularity"]) == pytest.approx(want)
    assert one["excess"] == pytest.approx(want[0] - want[1])
    r = _row(res, measure, "count", 3)
    assert r["group_authors"] == k_authors
    want = expected_shares(values, 3, k_authors)
    assert (r["share_top"], r["share_all"], r["share_popularity"]) == pytest.approx(want)


def test_hand_numbers_and_ties(store):
    res = authorship(connect(store), params=AuthorshipParams(top=3, top_authors=2, n_boot=0))
    d = _row(res, "downloads", "share", 3)
    # top 3 by downloads: big/a, big/b, mid/a -> 'big' owns 2 of 3, and 2 of the 23 models
    assert d["share_top"] == pytest.approx(2 / 3) and d["share_all"] == pytest.approx(2 / 23)
    likes = next(b for b in res.measures if b["measure"] == "likes")
    # the 3rd-largest like count (9) is shared by 3 models for 2 free slots
    assert likes["cutoff"] == {"value": 9.0, "above": 1, "tied": 3}
    two = _row(res, "likes", "count", 3)
    # big (19 likes) + one of mid/(no namespace) (9 each): 1 + 2/3 + (2/3 + 2/3) / 2 of the top 3
    assert two["share_top"] == pytest.approx((1 + 2 / 3 + 2 / 3) / 3)
    assert two["share_all"] == pytest.approx((2 + (2 + 1) / 2) / 23)
    # Gini of the author download sums, mean-absolute-difference formula
    sums = np.array([1500, 405, 300, *range(10, 28)], dtype=float)
    g = np.abs(sums[:, None] - sums[None, :]).sum() / (2 * len(sums) ** 2 * sums.mean())
    dl = next(b for b in res.measures if b["measure"] == "downloads")
    assert dl["gini"] == pytest.approx(g)
    assert dl["n_authors"] == 21 and dl["n_models"] == 23
    assert dl["authors_owning_top"] == 2 and dl["authors_for_half_of_top"] == 1
    assert dl["top_authors"][0]["author"] == "big" and dl["top_authors"][0]["downloads"] == 1500
    assert dl["lorenz"][0] == [0.0, 0.0] and dl["lorenz"][-1] == [1.0, 1.0]


def test_summary_reads_the_weakest_measure(store):
    p = AuthorshipParams(top=3, n_boot=200)
    res = authorship(connect(store), params=p)
    s = summarise(res, p)
    assert s["n_measures"] == 2 and s["min_group_authors"] == 1
    assert s["min_share_top_ci_low"] == min(s["downloads_share_top_ci_low"], s["likes_share_top_ci_low"])
    assert s["max_share_top_ci_high"] == max(s["downloads_share_top_ci_high"], s["likes_share_top_ci_high"])
    for m in ("downloads", "likes"):
        assert s[f"{m}_share_top_ci_low"] <= s[f"{m}_share_top"] + 1e-12
        assert 0 <= s[f"{m}_share_top_ci_low"] <= s[f"{m}_share_top_ci_high"] <= 1


def test_without_likes_measures_downloads_only(tmp_path):
    path = tmp_path / "d.duckdb"
    build(path, [("hf", "2022-10-01", {"packages": {"package_id": IDS, "downloads": DOWNLOADS}})])
    res = authorship(connect(path), params=AuthorshipParams(top=3, n_boot=0))
    assert [b["measure"] for b in res.measures] == ["downloads"]
    assert "likes" in res.not_measured


def test_cli_json_and_plot(cli, store, tmp_path):
    code, out, err = cli(
        "metric", "authorship", "--top", "3", "--n-boot", "50", "--json", "--plot", tmp_path / "a.svg", "--store", store
    )
    assert code == 0, err
    d = json.loads(out)
    assert d["summary"]["downloads_share_top"] == pytest.approx(2 / 3)
    assert d["rests_on"] == [
        {"snapshot_id": d["snapshot_id"], "what": "models (downloads for 23, likes for 23; 21 authors)", "n": 23}
    ]
    assert (tmp_path / "a.svg").read_text().lstrip().startswith("<?xml")


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.integers(0, 6), min_size=1, max_size=6),
    st.lists(st.integers(0, 2), min_size=6, max_size=6),
    st.integers(1, 20),
)
def test_weighted_helpers_equal_the_expanded_sample(values, weights, k):
    """A bootstrap replicate (profile multiplicities) gives what the expanded sample of authors gives."""
    v = np.array(sorted(values, reverse=True), dtype=float)
    w = np.array(weights[: len(v)], dtype=float)
    if w.sum() == 0:
        w[0] = 1
    prof = Profiles(total=v, models=np.ones_like(v), top={}, count=w)
    expanded = np.repeat(v, w.astype(int))
    if expanded.sum() > 0:
        s = np.sort(expanded)
        n = len(s)
        want = (n + 1 - 2 * (np.cumsum(s).sum() / s.sum())) / n
        assert weighted_gini(w, v)[0] == pytest.approx(want)
    starts, index = prof.blocks()
    inc = included(w, starts, index, float(k))[0]
    # the k largest of the expanded sample, ties shared: brute force over every tie order
    exp = expected_in_top([(f"{i}|{j}", x) for i, x in enumerate(v) for j in range(int(w[i]))], min(k, len(expanded)))
    per_profile = [float(sum(p for key, p in exp.items() if key.split("|")[0] == str(i))) for i in range(len(v))]
    assert inc == pytest.approx(per_profile)
