"""Library preservation rate: hand-computed eq. 1, the artifact variant, properties."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from metric_tables import mem_backend

from ptmscope.errors import PtmscopeError
from ptmscope.metrics.preservation import preservation

SID = "hf-2022-02-21-test"


def backend(
    libs: dict[str, list[str]], edges: list[tuple[str | None, str]], missing: frozenset[str] = frozenset()
) -> Any:
    """A one-snapshot backend; every model is in packages except those in ``missing`` (edge-only children)."""
    pl = {"snapshot_id": [], "package_id": [], "library": [], "origin": []}
    for pkg, ls in libs.items():
        for lib in ls:
            pl["snapshot_id"].append(SID)
            pl["package_id"].append(pkg)
            pl["library"].append(lib)
            pl["origin"].append("tag")
    lin = {
        "snapshot_id": [SID] * len(edges),
        "child": [c for _, c in edges],
        "parent_ref": [p or "unresolvable ref" for p, _ in edges],
        "parent_id": [p for p, _ in edges],
        "relation": ["finetune"] * len(edges),
        "origin": ["card_text"] * len(edges),
    }
    pk = sorted((set(libs) | {c for _, c in edges} | {p for p, _ in edges if p}) - missing)
    packages = {"snapshot_id": [SID] * len(pk), "package_id": pk, "raw_id": pk}
    return mem_backend([(SID, "hf", "2022-02-21")], {"packages": packages, "package_libraries": pl, "lineage": lin})


LIBS = {
    "A": ["transformers", "pytorch"],
    "B": ["transformers", "tf"],
    "C": ["transformers"],  # one library: never a base in B_L
    "D": ["pytorch", "jax"],  # no descendants
    "a1": ["transformers", "pytorch"],
    "a2": ["pytorch"],
    # a3 has no library at all
    "b1": ["transformers"],
    "b2": ["tf", "transformers"],
    "c1": ["transformers"],
    "x": ["transformers", "onnx"],  # a descendant whose parent reference did not resolve
}
EDGES = [("A", "a1"), ("A", "a2"), ("A", "a3"), ("A", "a1"), ("B", "b1"), ("B", "b2"), ("C", "c1"), (None, "x")]


def by_lib(res):
    return {r.library: r for r in res.libraries}


def test_paper_formula_hand_computed():
    r = by_lib(preservation(backend(LIBS, EDGES), n_boot=200))
    t = r["transformers"]
    # B = {A, B, a1, b2, x} (every multi-library model); only A and B have descendants:
    # a1 a2 a3 | b1 b2; kept transformers: a1, b1, b2
    assert (t.numerator, t.denominator, t.n_bases, t.n_bases_with_descendants) == (3, 5, 5, 2)
    assert t.rate == pytest.approx(3 / 5)
    p = r["pytorch"]  # B = {A, D, a1}; D and a1 have no descendants; a1, a2 kept pytorch
    assert (p.numerator, p.denominator, p.n_bases, p.n_bases_with_descendants) == (2, 3, 3, 1)
    assert p.rate == pytest.approx(2 / 3)
    assert (r["tf"].numerator, r["tf"].denominator) == (1, 2)
    assert r["jax"].rate is None and r["jax"].denominator == 0  # empty descendant set
    assert r["onnx"].rate is None and r["onnx"].n_bases == 1  # only x supports onnx; x has no descendants


def test_paper_interval_brackets_estimate_and_sorting():
    res = preservation(backend(LIBS, EDGES), n_boot=300, seed=1)
    for lib in res.libraries:
        if lib.rate is not None and lib.n_bases_with_descendants >= 2:
            assert 0 <= lib.ci_low <= lib.rate <= lib.ci_high <= 1
        else:  # one contributing base (pytorch: only A) cannot give a cluster-bootstrap interval
            assert lib.ci_low is None and lib.ci_high is None
    assert by_lib(res)["transformers"].ci_low is not None  # A and B contribute
    rated = [x.rate for x in res.libraries if x.rate is not None]
    assert rated == sorted(rated, reverse=True)
    assert {x.library for x in res.libraries[-2:]} == {"jax", "onnx"}  # undefined rates sort last
    assert [x.library for x in res.top(2)] == ["pytorch", "transformers"]


def test_artifact_variant_ignores_parents():
    r = by_lib(preservation(backend(LIBS, EDGES), mode="artifact", n_boot=100))
    # descendants with >= 2 libraries: a1, b2, x (x counts although its parent is unresolved)
    assert (r["transformers"].numerator, r["transformers"].denominator) == (3, 3)
    assert r["transformers"].rate == 1.0
    assert (r["pytorch"].numerator, r["onnx"].numerator, r["tf"].numerator) == (1, 1, 1)
    assert r["pytorch"].rate == pytest.approx(1 / 3)
    assert "jax" not in r


def test_no_multi_library_bases_gives_a_note():
    res = preservation(backend({"A": ["transformers"], "a": ["transformers"]}, [("A", "a")]), n_boot=0)
    assert res.libraries == ()
    assert res.notes


def test_unknown_mode_and_missing_lineage():
    with pytest.raises(PtmscopeError, match="unknown mode"):
        preservation(backend(LIBS, EDGES), mode="nope")  # type: ignore[arg-type]
    empty = mem_backend([(SID, "hf", "2022-02-21")], {})
    with pytest.raises(PtmscopeError, match="no complete hf snapshot has rows in table 'lineage'"):
        preservation(empty)


def test_to_dict_carries_inputs():
    d = preservation(backend(LIBS, EDGES), n_boot=50, seed=3).to_dict()
    assert d["inputs"]["snapshot_id"] == SID
    assert d["inputs"]["mode"] == "paper" and d["inputs"]["n_boot"] == 50 and d["inputs"]["seed"] == 3


# --- properties ---------------------------------------------------------------

LIBNAMES = ["transformers", "pytorch", "tf", "jax"]
graphs = st.tuples(
    st.dictionaries(
        st.sampled_from([f"m{i}" for i in range(10)]), st.sets(st.sampled_from(LIBNAMES), max_size=3), max_size=10
    ),
    st.lists(
        st.tuples(st.sampled_from([f"m{i}" for i in range(10)]), st.sampled_from([f"m{i}" for i in range(10)])),
        max_size=15,
    ),
)


def oracle(libs: dict[str, set[str]], edges: list[tuple[str, str]]) -> dict[str, tuple[int, int]]:
    children: dict[str, set[str]] = {}
    for p, c in edges:
        if p != c:
            children.setdefault(p, set()).add(c)
    out: dict[str, tuple[int, int]] = {}
    for b, ls in libs.items():
        if len(ls) < 2:
            continue
        for lib in ls:
            num, den = out.get(lib, (0, 0))
            kids = children.get(b, set())
            out[lib] = (num + sum(1 for d in kids if lib in libs.get(d, set())), den + len(kids))
    return out


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs)
def test_property_bounds_and_oracle(g):
    libs, edges = g
    if not edges:  # a named snapshot without lineage is refused, not answered with an empty table
        with pytest.raises(PtmscopeError, match="no rows in table 'lineage'"):
            preservation(backend({k: sorted(v) for k, v in libs.items()}, edges), SID, n_boot=0)
        return
    res = preservation(backend({k: sorted(v) for k, v in libs.items()}, edges), SID, n_boot=0)
    got = {r.library: (r.numerator, r.denominator) for r in res.libraries}
    assert got == oracle(libs, edges)
    for r in res.libraries:
        assert 0 <= r.numerator <= r.denominator
        if r.rate is not None:
            assert 0.0 <= r.rate <= 1.0


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs)
def test_property_renaming_models_changes_nothing(g):
    libs, edges = g
    if not edges:
        return  # refused (see above), nothing to compare
    a = preservation(backend({k: sorted(v) for k, v in libs.items()}, edges), SID, n_boot=0)
    ren = lambda m: "org/" + m[::-1]  # noqa: E731
    b = preservation(
        backend({ren(k): sorted(v) for k, v in libs.items()}, [(ren(p), ren(c)) for p, c in edges]), SID, n_boot=0
    )
    key = lambda r: [(x.library, x.numerator, x.denominator, x.n_bases) for x in r.libraries]  # noqa: E731
    assert key(a) == key(b)


def test_descendants_without_metadata_are_unknown_not_losses():
    """A lineage child missing from packages has unknown libraries: it must not count as S(d, L) = 0."""
    libs = {"A": ["transformers", "pytorch"], "a1": ["transformers"], "a2": []}
    edges = [("A", "a1"), ("A", "a2"), ("A", "ghost1"), ("A", "ghost2"), ("C", "ghost3")]
    # the ghosts are not in packages (edge-only children of an edge list); a2 is (known, no library)
    b = backend(libs, edges, missing=frozenset({"ghost1", "ghost2", "ghost3"}))
    res = preservation(b, SID, n_boot=0)
    r = by_lib(res)
    # D_A = {a1, a2}: a1 kept transformers, a2 (no library) kept neither
    assert (r["transformers"].numerator, r["transformers"].denominator) == (1, 2)
    assert (r["pytorch"].numerator, r["pytorch"].denominator) == (0, 2)
    assert res.unknown_descendants == 2  # ghost1, ghost2 (C is not a multi-library base)
    assert res.to_dict()["unknown_descendants"] == 2
    assert any("2 descendants of multi-library bases have no metadata" in n for n in res.notes)
