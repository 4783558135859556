"""The C1 summary the verdict reads: which libraries count as rivals of Transformers."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from ptmscope.metrics.preservation import METRIC, LibraryRate, summarise


@dataclass
class _FakeResult:
    libraries: tuple[LibraryRate, ...]

    def to_dict(self) -> dict:
        return {"libraries": [lib.library for lib in self.libraries]}


def _lib(name: str, rate: float, den: int, bases: int) -> LibraryRate:
    return LibraryRate(name, rate, round(rate * den), den, bases, bases, None, None)


@pytest.fixture
def fake_preservation():
    """The summary (what the C1 rule reads) of a preservation result holding these libraries."""

    def summary(*libs: LibraryRate, **params: int) -> dict:
        return {"summary": summarise(_FakeResult(tuple(libs)), METRIC.parse_params(params))}

    return summary


def test_one_large_family_is_not_a_rival(fake_preservation):
    # diffusers: 204 descendants but from only 4 base models -> ignored; safetensors is the rival
    data = fake_preservation(
        _lib("diffusers", 0.88, 204, 4), _lib("safetensors", 0.67, 1863, 51), _lib("transformers", 0.48, 1687, 48)
    )
    s = data["summary"]
    assert s["best_other_library"] == "safetensors"
    assert s["transformers_minus_best_other"] == pytest.approx(0.48 - 0.67)


def test_rival_with_enough_bases_counts(fake_preservation):
    libs = (_lib("diffusers", 0.88, 204, 12), _lib("transformers", 0.9, 1687, 48))
    data = fake_preservation(*libs, min_bases_other=10)
    assert data["summary"]["best_other_library"] == "diffusers"
    assert data["summary"]["transformers_minus_best_other"] == pytest.approx(0.02)
    data = fake_preservation(*libs, min_bases_other=13)
    assert data["summary"]["best_other_library"] is None


def test_summary_compares_transformers_ci_with_the_rival(fake_preservation):
    t = LibraryRate("transformers", 0.48, 807, 1687, 48, 48, 0.27, 0.75)
    data = fake_preservation(_lib("safetensors", 0.67, 1863, 51), t)
    s = data["summary"]
    assert s["transformers_ci_low_minus_best_other"] == pytest.approx(0.27 - 0.67)
    assert s["transformers_ci_high_minus_best_other"] == pytest.approx(0.75 - 0.67)
    from ptmscope.claims import evaluate, load_rules

    rule = next(r for r in load_rules() if r.id == "H1-preservation")
    assert evaluate(rule, data).verdict == "inconclusive"  # the rival's rate is inside transformers' CI
