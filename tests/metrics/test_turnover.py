"""Top-K turnover: hand-computed cases, ties, nulls, identity, coverage, properties."""

from __future__ import annotations

import contextlib
import sys
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from metric_tables import mem_backend

from ptmscope.errors import PtmscopeError
from ptmscope.metrics.turnover import turnover, turnover_sensitivity

tv = sys.modules["ptmscope.metrics.turnover"]  # the module (the package exports the function under its name)


def backend_of(registry: str, snaps: list[tuple[str, dict[str, list[Any]]]]) -> Any:
    """snaps: (date, columns) per snapshot; ids are '<registry>-<date>'."""
    meta, cols = (
        [],
        {"snapshot_id": [], "package_id": [], "raw_id": [], "downloads": [], "rank": [], "downloads_window": []},
    )
    for date, c in snaps:
        sid = f"{registry}-{date}"
        meta.append((sid, registry, date))
        n = len(c["package_id"])
        cols["snapshot_id"] += [sid] * n
        cols["package_id"] += c["package_id"]
        cols["raw_id"] += c.get("raw_id", c["package_id"])
        cols["downloads"] += c.get("downloads", [None] * n)
        cols["rank"] += c.get("rank", [None] * n)
        cols["downloads_window"] += c.get("downloads_window", [None] * n)
    return mem_backend(meta, {"packages": cols})


def test_three_snapshots_hand_computed():
    b = backend_of(
        "pypi",
        [
            ("2022-01-01", {"package_id": ["a", "b", "c", "d"], "downloads": [10, 9, 8, 7]}),
            ("2022-02-01", {"package_id": ["a", "e", "c", "f"], "downloads": [10, 9, 8, 7]}),
            ("2022-03-01", {"package_id": ["b", "e", "g", "a"], "downloads": [10, 9, 8, 7]}),
        ],
    )
    r = turnover(b, "pypi", k=3)
    # T1={a,b,c}; T2={a,e,c}: a,c remain, e new; T3={b,e,g}: e remains, b returns, g new
    got = [(s.in_top, s.remained, s.newcomers, s.returning) for s in r.steps]
    assert got == [(3, 0, 3, 0), (3, 2, 1, 0), (3, 1, 1, 1)]
    assert r.distinct_ever == 5
    assert [s.distinct_so_far for s in r.steps] == [3, 4, 5]
    assert [s.kth_downloads for s in r.steps] == [8, 8, 8]
    assert r.warnings == ()


def test_snapshot_order_is_by_date_not_argument_order():
    b = backend_of(
        "pypi",
        [
            ("2022-02-01", {"package_id": ["x", "y"], "downloads": [5, 4]}),
            ("2022-01-01", {"package_id": ["a", "b"], "downloads": [5, 4]}),
        ],
    )
    r = turnover(b, "pypi", ["pypi-2022-02-01", "pypi-2022-01-01"], k=2)
    assert [s.snapshot_id for s in r.steps] == ["pypi-2022-01-01", "pypi-2022-02-01"]
    assert (r.steps[1].remained, r.steps[1].newcomers) == (0, 2)


def test_ties_at_k_id_rule_and_all_rule():
    b = backend_of(
        "pypi",
        [
            ("2022-01-01", {"package_id": ["a", "d", "c", "b", "e"], "downloads": [10, 8, 8, 8, 5]}),
            ("2022-02-01", {"package_id": ["a", "c", "z"], "downloads": [10, 9, 1]}),
        ],
    )
    by_id = turnover(b, "pypi", k=2, tie_rule="id")
    # b, c, d tie at 8 for rank 2: id rule keeps the smallest id, b
    assert by_id.steps[0].in_top == 2
    assert (by_id.steps[1].remained, by_id.steps[1].newcomers) == (1, 1)  # a stays, c is new
    everyone = turnover(b, "pypi", k=2, tie_rule="all")
    assert everyone.steps[0].in_top == 4  # a + the three tied
    assert (everyone.steps[1].remained, everyone.steps[1].newcomers) == (2, 0)  # a and c both stayed
    assert everyone.distinct_ever == 4


def test_null_downloads_are_not_ranked():
    b = backend_of(
        "hf",
        [
            ("2022-01-01", {"package_id": ["a", "b", "c"], "downloads": [None, 3, 2]}),
            ("2022-02-01", {"package_id": ["a", "b", "c"], "downloads": [9, None, 1]}),
        ],
    )
    r = turnover(b, "hf", k=2)
    assert [s.rows for s in r.steps] == [2, 2]
    # T1={b,c}; T2={a,c}
    assert (r.steps[1].remained, r.steps[1].newcomers, r.steps[1].returning) == (1, 1, 0)


def test_rank_only_lists_use_the_source_rank():
    b = backend_of(
        "npm",
        [
            ("2022-11-03", {"package_id": ["p", "q", "r"], "rank": [1, 2, 3]}),
            ("2023-02-06", {"package_id": ["r", "q", "p"], "rank": [1, 2, 3]}),
        ],
    )
    r = turnover(b, "npm", k=2)
    assert r.steps[0].kth_downloads is None
    # T1={p,q}; T2={r,q}
    assert (r.steps[1].remained, r.steps[1].newcomers) == (1, 1)


def test_identity_normalisation_pep503_and_hub_aliases():
    b = backend_of(
        "hf",
        [
            ("2022-01-01", {"package_id": ["bert-base-uncased", "gpt2"], "downloads": [9, 8]}),
            ("2024-05-01", {"package_id": ["google-bert/bert-base-uncased", "gpt2"], "downloads": [19, 8]}),
        ],
    )
    norm = turnover(b, "hf", k=2)
    assert (norm.steps[1].remained, norm.distinct_ever) == (2, 2)
    raw = turnover(b, "hf", k=2, normalise=False)
    assert (raw.steps[1].remained, raw.steps[1].newcomers, raw.distinct_ever) == (1, 1, 3)

    p = backend_of(
        "pypi",
        [
            ("2022-01-01", {"package_id": ["zope-interface"], "raw_id": ["zope.interface"], "downloads": [5]}),
            ("2022-02-01", {"package_id": ["zope-interface"], "raw_id": ["Zope_Interface"], "downloads": [6]}),
        ],
    )
    assert turnover(p, "pypi", k=1).steps[1].remained == 1
    assert turnover(p, "pypi", k=1, normalise=False).steps[1].remained == 0


def test_renaming_merges_rows_within_a_snapshot_keeping_best_figures():
    b = backend_of(
        "hf",
        [
            (
                "2024-05-01",
                {"package_id": ["bert-base-uncased", "google-bert/bert-base-uncased", "x"], "downloads": [3, 7, 5]},
            )
        ],
    )
    r = turnover(b, "hf", k=2)
    assert r.steps[0].rows == 2
    assert r.steps[0].kth_downloads == 5  # merged bert has 7, x has 5


def test_coverage_warnings_for_a_partial_listing():
    full = [f"p{i:03d}" for i in range(100)]
    b = backend_of(
        "hf",
        [
            ("2022-01-01", {"package_id": full, "downloads": list(range(1000, 900, -1))}),
            ("2022-02-01", {"package_id": full[:30], "downloads": list(range(30, 0, -1))}),
            ("2022-03-01", {"package_id": full, "downloads": list(range(1000, 900, -1))}),
        ],
    )
    r = turnover(b, "hf", k=20)
    kinds = {(w.snapshot_id, w.kind) for w in r.warnings}
    # the K-th has 11 downloads vs 981 around it; the row count is not needed when downloads can be compared
    assert kinds == {("hf-2022-02-01", "low_kth")}
    r50 = turnover(b, "hf", k=50)
    assert ("hf-2022-02-01", "fewer_than_k") in {(w.snapshot_id, w.kind) for w in r50.warnings}
    assert r50.steps[1].in_top == 30


def test_window_change_is_flagged():
    b = backend_of(
        "hf",
        [
            ("2022-01-01", {"package_id": ["a"], "downloads": [5], "downloads_window": ["30d"]}),
            ("2022-02-01", {"package_id": ["a"], "downloads": [5], "downloads_window": ["all-time"]}),
        ],
    )
    assert {w.kind for w in turnover(b, "hf", k=1).warnings} == {"window"}


def test_unrankable_snapshot_is_left_out_with_a_warning():
    b = backend_of(
        "hf",
        [
            ("2022-01-01", {"package_id": ["a", "b"], "downloads": [2, 1]}),
            ("2022-08-15", {"package_id": ["a", "b", "c"]}),  # ids only
            ("2022-10-01", {"package_id": ["b", "c"], "downloads": [2, 1]}),
        ],
    )
    r = turnover(b, "hf", k=2)
    assert [s.snapshot_id for s in r.steps] == ["hf-2022-01-01", "hf-2022-10-01"]
    assert [w.kind for w in r.warnings] == ["unrankable"]


def test_artifact_mode_reports_k_first_newcomers_and_raw_ids():
    b = backend_of(
        "pypi",
        [
            ("2022-01-01", {"package_id": ["a"], "raw_id": ["A"], "downloads": [5]}),
            ("2022-02-01", {"package_id": ["a"], "raw_id": ["a"], "downloads": [5]}),
        ],
    )
    r = turnover(b, "pypi", k=10, mode="artifact")
    assert r.normalise is False
    assert r.steps[0].newcomers == 10  # the published code's constant
    assert (r.steps[1].remained, r.steps[1].newcomers) == (0, 1)


def test_bad_arguments_and_unknown_snapshots():
    b = backend_of("pypi", [("2022-01-01", {"package_id": ["a"], "downloads": [1]})])
    with pytest.raises(PtmscopeError, match="K must be"):
        turnover(b, "pypi", k=0)
    with pytest.raises(PtmscopeError, match="no snapshot"):
        turnover(b, "pypi", ["nope"])
    with pytest.raises(PtmscopeError, match="not 'npm'"):
        turnover(b, "npm", ["pypi-2022-01-01"])
    with pytest.raises(PtmscopeError, match="no complete snapshots"):
        turnover(b, "hf")


def test_sensitivity_table_over_k():
    b = backend_of(
        "pypi",
        [
            ("2022-01-01", {"package_id": list("abcdef"), "downloads": [6, 5, 4, 3, 2, 1]}),
            ("2022-02-01", {"package_id": list("fedcba"), "downloads": [6, 5, 4, 3, 2, 1]}),
        ],
    )
    s = turnover_sensitivity(b, "pypi", ks=(1, 3, 6))
    # K=1: {a} then {f}: 2 distinct; K=3: {a,b,c} then {f,e,d}: 6; K=6: same six
    assert [(r.k, r.distinct_ever) for r in s.rows] == [(1, 2), (3, 6), (6, 6)]
    assert [r.mean_newcomer_share for r in s.rows] == [1.0, 1.0, 0.0]


# --- properties ---------------------------------------------------------------


def drop_repeats(lists: list[Any]) -> list[Any]:
    """The documented rule, independently: a list equal to the one kept before it is left out."""
    kept: list[Any] = []
    for x in lists:
        if not kept or x != kept[-1]:
            kept.append(x)
    return kept


def oracle(tops: list[list[str]]) -> list[tuple[int, int, int]]:
    """Independent set-based reference of eqs. 2-4."""
    out, ever, prev = [], set(), set()
    for t in tops:
        cur = set(t)
        rem = len(cur & prev)
        new = len(cur - ever)
        ret = len((cur - prev) & ever)
        out.append((rem, new, ret))
        ever |= cur
        prev = cur
    return out


snapshot_lists = st.lists(
    st.lists(st.sampled_from([f"m{i}" for i in range(12)]), min_size=4, max_size=10, unique=True),
    min_size=1,
    max_size=5,
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(snapshot_lists, st.integers(min_value=1, max_value=4))
def test_property_matches_set_oracle_and_sums_to_k(lists: list[list[str]], k: int):
    snaps = []
    for i, ids in enumerate(lists):
        # strictly decreasing downloads in list order: the top K is the first K ids
        snaps.append((f"2022-{i + 1:02d}-01", {"package_id": ids, "downloads": list(range(100, 100 - len(ids), -1))}))
    r = turnover(backend_of("pypi", snaps), "pypi", k=k)
    lists = drop_repeats(lists)  # same ids in the same order with these downloads: the same list
    expected = oracle([ids[:k] for ids in lists])
    assert [(s.remained, s.newcomers, s.returning) for s in r.steps] == expected
    for s in r.steps:  # every snapshot has >= 4 >= K rows: full
        assert s.remained + s.newcomers + s.returning == k
    assert r.distinct_ever == len(set().union(*[set(ids[:k]) for ids in lists]))


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(snapshot_lists, st.integers(min_value=1, max_value=4), st.sampled_from(["id", "all"]))
def test_property_consistent_renaming_changes_nothing(lists: list[list[str]], k: int, ties: str):
    def build(rename):
        snaps = []
        for i, ids in enumerate(lists):
            dls = [100 - (j // 2) for j in range(len(ids))]  # pairs of ties
            snaps.append((f"2022-{i + 1:02d}-01", {"package_id": [rename(x) for x in ids], "downloads": dls}))
        return turnover(backend_of("pypi", snaps), "pypi", k=k, tie_rule=ties)

    a = build(lambda x: x)
    # an order-preserving renaming keeps the id tie-break identical
    b = build(lambda x: "zz-" + x)
    key = lambda r: ([(s.in_top, s.remained, s.newcomers, s.returning) for s in r.steps], r.distinct_ever)  # noqa: E731
    assert key(a) == key(b)


def test_short_top_lists_holding_the_whole_top_k_are_not_flagged():
    """A top-N list with N >= K (top-pypi, npm-high-impact) is complete for K, however short beside a full listing."""
    full = [f"p{i:03d}" for i in range(100)]
    pypi = backend_of(
        "pypi",
        [
            ("2022-01-01", {"package_id": full, "downloads": list(range(1000, 900, -1))}),
            ("2022-02-01", {"package_id": full[:30], "downloads": list(range(1000, 970, -1))}),  # a top-30 list
            ("2022-03-01", {"package_id": full, "downloads": list(range(1000, 900, -1))}),
        ],
    )
    assert turnover(pypi, "pypi", k=20).warnings == ()
    npm = backend_of(
        "npm",
        [
            ("2022-01-01", {"package_id": full, "rank": list(range(1, 101))}),
            ("2022-02-01", {"package_id": full[:30], "rank": list(range(1, 31))}),  # ranked, no counts
            ("2022-03-01", {"package_id": full, "rank": list(range(1, 101))}),
        ],
    )
    assert turnover(npm, "npm", k=20).warnings == ()


def test_row_count_is_the_fallback_when_downloads_cannot_be_compared():
    """An unranked listing between ranked lists without counts: only its row count can tell it is partial."""
    full = [f"p{i:03d}" for i in range(100)]
    b = backend_of(
        "npm",
        [
            ("2022-01-01", {"package_id": full, "rank": list(range(1, 101))}),
            ("2022-02-01", {"package_id": full[:30], "downloads": [5] * 30}),
            ("2022-03-01", {"package_id": full, "rank": list(range(1, 101))}),
        ],
    )
    kinds = {(w.snapshot_id, w.kind) for w in turnover(b, "npm", k=20).warnings}
    assert {(sid, kind) for sid, kind in kinds if kind != "measure"} == {("npm-2022-02-01", "few_rows")}


def test_mixing_ranked_lists_and_download_counts_is_flagged():
    """npm-high-impact (ranked, no counts) next to npm download-counts: two popularity measures in one series."""
    names = [f"p{i:03d}" for i in range(50)]
    b = backend_of(
        "npm",
        [
            ("2022-01-01", {"package_id": names, "rank": list(range(1, 51))}),
            ("2022-02-01", {"package_id": names[::-1], "rank": list(range(1, 51))}),
            ("2022-03-01", {"package_id": names, "downloads": list(range(500, 450, -1)), "rank": list(range(1, 51))}),
        ],
    )
    r = turnover(b, "npm", k=20)
    w = [x for x in r.warnings if x.kind == "measure"]
    # one warning for the step that changes measure, naming both of its snapshots
    assert [(x.other_snapshot_id, x.snapshot_id) for x in w] == [("npm-2022-02-01", "npm-2022-03-01")]
    assert "npm-2022-02-01 -> npm-2022-03-01" in w[0].message and "download counts" in w[0].message
    assert [s.flags for s in r.steps] == [(), (), ("measure",)]
    # the changed step is reported but not in the medians: only the first step (20 of 20 left: share 1) counts
    assert (r.rates()["n_steps"], r.rates()["median_turnover_share"]) == (1, 1.0)
    same = backend_of(
        "npm",
        [
            ("2022-01-01", {"package_id": names, "rank": list(range(1, 51))}),
            ("2022-02-01", {"package_id": names[::-1], "rank": list(range(1, 51))}),
        ],
    )
    assert turnover(same, "npm", k=20).warnings == ()


# --- the two-step top-K selection against a full sort -------------------------


def full_sort_oracle(
    rows: list[tuple[str, int | None, int | None]], k: int, ties: str
) -> tuple[set[str], int | None, int]:
    """(top set, downloads of the K-th row, rankable rows) by sorting every row on all keys, in plain Python."""
    rankable = [r for r in rows if r[1] is not None or r[2] is not None]

    def key4(r):  # downloads desc with nulls last, then rank asc with nulls last
        _pid, dl, rk = r
        return (dl is None, -(dl or 0), rk is None, rk or 0)

    ordered = sorted(rankable, key=lambda r: (*key4(r), r[0]))
    kth = ordered[k - 1][1] if len(ordered) >= k else None
    if ties == "id":
        top = {r[0] for r in ordered[:k]}
    else:  # rank = number of rows strictly ahead on the keys without the id
        top = {r[0] for r in rankable if sum(key4(o) < key4(r) for o in rankable) < k}
    return top, kth, len(rankable)


tied_snapshot = st.lists(
    st.tuples(
        st.one_of(st.none(), st.integers(min_value=0, max_value=3)),  # few values: many ties
        st.one_of(st.none(), st.integers(min_value=1, max_value=4)),
    ),
    min_size=0,
    max_size=12,
)


@contextlib.contextmanager
def fast_path(on: bool) -> Any:
    """Every snapshot through the Top-N path (on) or through the general window path (off)."""
    old = tv.FAST_MIN_ROWS
    tv.FAST_MIN_ROWS = 0 if on else 10**12
    try:
        yield
    finally:
        tv.FAST_MIN_ROWS = old


@pytest.mark.parametrize("fast", [False, True])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(tied_snapshot, min_size=1, max_size=3), st.integers(min_value=1, max_value=6), st.randoms())
def test_property_two_step_selection_equals_a_full_sort(fast: bool, snapshots, k: int, rnd):
    """Ties and nulls in downloads and ranks, snapshots shorter than K, ranked lists without counts."""
    with fast_path(fast):
        _two_step_vs_full_sort(snapshots, k, rnd)


def _two_step_vs_full_sort(snapshots: list[Any], k: int, rnd: Any) -> None:
    pool = [f"m{i:02d}" for i in range(20)]
    data = []
    for i, figures in enumerate(snapshots):
        ids = rnd.sample(pool, len(figures))
        rows = [(pid, dl, rk) for pid, (dl, rk) in zip(ids, figures, strict=False)]
        data.append((f"2022-{i + 1:02d}-01", rows))
    b = backend_of(
        "pypi",
        [
            (d, {"package_id": [r[0] for r in rows], "downloads": [r[1] for r in rows], "rank": [r[2] for r in rows]})
            for d, rows in data
        ],
    )
    for ties in ("id", "all"):
        expect = [(d, *full_sort_oracle(rows, k, ties)) for d, rows in data]
        usable = [(d, top, kth, n) for d, top, kth, n in expect if n > 0]
        # a snapshot with the same rankable rows as the one kept before it repeats it: left out
        rankable = {d: frozenset(r for r in rows if r[1] is not None or r[2] is not None) for d, rows in data}
        deduped, last = [], None
        for u in usable:
            if last is None or rankable[u[0]] != last:
                deduped.append(u)
                last = rankable[u[0]]
        usable = deduped
        if not usable:
            with pytest.raises(PtmscopeError, match="none of the"):
                turnover(b, "pypi", k=k, tie_rule=ties)
            continue
        r = turnover(b, "pypi", k=k, tie_rule=ties)
        assert [s.snapshot_id for s in r.steps] == [f"pypi-{d}" for d, *_ in usable]
        assert [(s.rows, s.kth_downloads) for s in r.steps] == [(n, kth) for _, _, kth, n in usable]
        tops = [sorted(top) for _, top, _, _ in usable]
        assert [s.in_top for s in r.steps] == [len(t) for t in tops]
        assert [(s.remained, s.newcomers, s.returning) for s in r.steps] == oracle(tops)
        assert r.distinct_ever == len(set().union(*map(set, tops)))


# a Hub id the built-in alias table renames, and its new name
OLD, NEW = "bert-base-uncased", "google-bert/bert-base-uncased"

messy_row = st.tuples(
    st.sampled_from(["a", "b", "c", "d", "e", OLD, NEW]),  # few ids: repeats within a snapshot
    st.one_of(st.none(), st.integers(min_value=0, max_value=4)),
    st.one_of(st.none(), st.integers(min_value=1, max_value=3)),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.lists(messy_row, max_size=9), min_size=1, max_size=3),
    st.integers(min_value=1, max_value=5),
    st.sampled_from(["id", "all"]),
    st.booleans(),
)
def test_property_top_n_path_equals_the_general_path(snapshots, k: int, ties: str, raw: bool):
    """Repeated ids, renamed ids, ties and nulls: the Top-N path gives the general path's result to the byte."""
    b = backend_of(
        "hf",
        [
            (
                f"2022-{i + 1:02d}-01",
                {"package_id": [r[0] for r in rows], "downloads": [r[1] for r in rows], "rank": [r[2] for r in rows]},
            )
            for i, rows in enumerate(snapshots)
        ],
    )
    got = []
    for fast in (False, True):
        with fast_path(fast):
            try:
                got.append(turnover(b, "hf", k=k, tie_rule=ties, normalise=not raw).to_dict())
            except PtmscopeError as exc:
                got.append(str(exc))
    assert got[0] == got[1]
