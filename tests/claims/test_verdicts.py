"""Verdict rules: every shipped rule checked on hand-built results, both ways."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ptmscope.claims import VERDICTS, evaluate, load_rules
from ptmscope.claims.verdicts import parse_rules
from ptmscope.errors import InputError

RULES = {r.id: r for r in load_rules()}


# (rule id, metric result as to_dict() would give it, expected verdict) -- values hand-picked
# on both sides of the thresholds written in rules.toml.
def _growth(months: int, margin_min: float, margin_max: float, rate_low: float) -> dict:
    return {
        "n_months_fit": months,
        "exp_aic_margin_min": margin_min,
        "exp_aic_margin_max": margin_max,
        "monthly_growth_ci_low": rate_low,
    }


def _auth(measures: int, group: int, low: float, high: float, excess_low: float) -> dict:
    return {
        "n_measures": measures,
        "min_group_authors": group,
        "min_share_top_ci_low": low,
        "max_share_top_ci_high": high,
        "min_excess_ci_low": excess_low,
    }


def _adopt(n_recent: int, share_low: float, share_high: float, ratio_low: float, ratio_high: float) -> dict:
    return {
        "n_recent": n_recent,
        "n_models_library": 841,
        "n_models_other": 367,
        "recent_share_ci_low": share_low,
        "recent_share_ci_high": share_high,
        "reuse_ratio_ci_low": ratio_low,
        "reuse_ratio_ci_high": ratio_high,
    }


CASES = [
    (
        "H1-preservation",
        {
            "summary": {
                "transformers_denominator": 500,
                "transformers_rate": 0.97,
                "transformers_ci_low_minus_best_other": 0.01,
                "transformers_ci_high_minus_best_other": 0.05,
            }
        },
        "supported",
    ),
    # below 0.5 it is not "kept most often" in any useful sense, whatever the rival does
    (
        "H1-preservation",
        {
            "summary": {
                "transformers_denominator": 500,
                "transformers_rate": 0.45,
                "transformers_ci_low_minus_best_other": 0.01,
                "transformers_ci_high_minus_best_other": 0.05,
            }
        },
        "inconclusive",
    ),
    (
        "H1-preservation",
        {
            "summary": {
                "transformers_denominator": 500,
                "transformers_rate": 0.6,
                "transformers_ci_low_minus_best_other": -0.3,
                "transformers_ci_high_minus_best_other": -0.01,
            }
        },
        "not supported",
    ),
    # the real 2025-04 trees: P_transformers 0.478 [0.270, 0.752] vs safetensors 0.672 -> CI straddles it
    (
        "H1-preservation",
        {
            "summary": {
                "transformers_denominator": 1687,
                "transformers_rate": 0.478,
                "transformers_ci_low_minus_best_other": 0.270 - 0.672,
                "transformers_ci_high_minus_best_other": 0.752 - 0.672,
            }
        },
        "inconclusive",
    ),
    (
        "H1-preservation",
        {
            "summary": {
                "transformers_denominator": 5,
                "transformers_rate": 0.99,
                "transformers_ci_low_minus_best_other": 0.2,
                "transformers_ci_high_minus_best_other": 0.3,
            }
        },
        "inconclusive",
    ),
    ("H2-turnover", {"summary": {"n_steps": 3, "median_turnover_share": 0.10}}, "supported"),
    ("H2-turnover", {"summary": {"n_steps": 3, "median_turnover_share": 0.55}}, "not supported"),
    ("H2-turnover", {"summary": {"n_steps": 3, "median_turnover_share": 0.25}}, "inconclusive"),
    ("H2-turnover", {"summary": {"n_steps": 0, "median_turnover_share": 0.10}}, "inconclusive"),
    # one step between complete listings is one observation, not a median: too little data
    ("H2-turnover", {"summary": {"n_steps": 1, "median_turnover_share": 0.55}}, "inconclusive"),
    ("H2-turnover", {"summary": {"n_steps": 2, "median_turnover_share": 0.55}}, "not supported"),
    ("H3-descendants", {"n_bases": 400, "spearman": {"coef": 0.3, "ci": [0.2, 0.4]}}, "supported"),
    ("H3-descendants", {"n_bases": 400, "spearman": {"coef": 0.0, "ci": [-0.05, 0.05]}}, "not supported"),
    ("H3-descendants", {"n_bases": 400, "spearman": {"coef": 0.15, "ci": [-0.01, 0.3]}}, "inconclusive"),
    ("H3-descendants", {"n_bases": 10, "spearman": {"coef": 0.9, "ci": [0.8, 0.95]}}, "inconclusive"),
    (
        "H4-docs",
        {"summary": {"n_per_group": 1000, "p_holm": 1e-6, "mean_diff_low": 0.05, "mean_diff_high": 0.1}},
        "supported",
    ),
    (
        "H4-docs",
        {"summary": {"n_per_group": 1000, "p_holm": 0.9, "mean_diff_low": -0.1, "mean_diff_high": -0.02}},
        "not supported",
    ),
    (
        "H4-docs",
        {"summary": {"n_per_group": 1000, "p_holm": 0.2, "mean_diff_low": -0.01, "mean_diff_high": 0.04}},
        "inconclusive",
    ),
    # no effect, measured precisely (the synthetic demo world): CI [-0.016, 0.007] -> not supported
    (
        "H4-docs",
        {"summary": {"n_per_group": 1000, "p_holm": 1.0, "mean_diff_low": -0.016, "mean_diff_high": 0.007}},
        "not supported",
    ),
    (
        "H4-docs",
        {"summary": {"n_per_group": 10, "p_holm": 1e-6, "mean_diff_low": 0.05, "mean_diff_high": 0.1}},
        "inconclusive",
    ),
    ("H5-attributes", {"n": 5000, "dl_min_p_holm": 1e-9, "dl_partial_r2": 0.08}, "supported"),
    ("H5-attributes", {"n": 5000, "dl_min_p_holm": 0.5, "dl_partial_r2": 0.001}, "not supported"),
    ("H5-attributes", {"n": 5000, "dl_min_p_holm": 0.001, "dl_partial_r2": 0.01}, "inconclusive"),
    ("ext.underdoc", {"n_scored": 900, "sections_missing_in_half": 3, "max_section_missing_share": 0.8}, "supported"),
    (
        "ext.underdoc",
        {"n_scored": 900, "sections_missing_in_half": 0, "max_section_missing_share": 0.1},
        "not supported",
    ),
    (
        "ext.underdoc",
        {"n_scored": 900, "sections_missing_in_half": 1, "max_section_missing_share": 0.6},
        "inconclusive",
    ),
    ("ext.naming", {"n_with_model_type": 1000, "share_not_naming_ci": [0.30, 0.36]}, "supported"),
    ("ext.naming", {"n_with_model_type": 1000, "share_not_naming_ci": [0.02, 0.05]}, "not supported"),
    ("ext.naming", {"n_with_model_type": 1000, "share_not_naming_ci": [0.12, 0.18]}, "inconclusive"),
    # growth: exponential must beat linear and quadratic by 2 AIC on every window, with a rate above 0
    ("ext.growth", {"summary": _growth(30, 9.3, 2.8, 0.05)}, "supported"),
    ("ext.growth", {"summary": _growth(30, -34.6, -2.0, 0.12)}, "not supported"),
    # the real 2022-10 listing: quadratic from 2019-11, exponential from 2020-01 -> depends on the window
    ("ext.growth", {"summary": _growth(35, -6.7, 9.3, 0.11)}, "inconclusive"),
    ("ext.growth", {"summary": _growth(30, 3.0, 5.0, -0.01)}, "inconclusive"),
    ("ext.growth", {"summary": _growth(8, 9.0, 9.0, 0.05)}, "inconclusive"),
    # authorship: the weakest measure decides
    ("ext.authorship", {"summary": _auth(2, 81, 0.51, 0.75, 0.31)}, "supported"),
    ("ext.authorship", {"summary": _auth(2, 81, 0.05, 0.2, 0.01)}, "not supported"),
    ("ext.authorship", {"summary": _auth(2, 81, 0.45, 0.7, 0.3)}, "inconclusive"),
    # most of the top models, but no more than their share of all models: not specific to popular models
    ("ext.authorship", {"summary": _auth(1, 81, 0.6, 0.7, -0.05)}, "inconclusive"),
    # 300 authors: the "top 1%" is 3 authors, one publisher's share decides it -> too little data
    ("ext.authorship", {"summary": _auth(1, 3, 0.9, 0.99, 0.5)}, "inconclusive"),
    ("ext.authorship", {"summary": _auth(1, 5, 0.9, 0.99, 0.5)}, "supported"),
    # transformers adoption: majority of new models AND more reuse per model
    ("ext.transformers_adoption", {"summary": _adopt(4000, 0.66, 0.67, 1.4, 9.0)}, "supported"),
    ("ext.transformers_adoption", {"summary": _adopt(4000, 0.30, 0.35, 0.5, 0.9)}, "not supported"),
    # the real data: 66% of new models, reuse ratio 5.8 but CI [0.78, 129]
    ("ext.transformers_adoption", {"summary": _adopt(4000, 0.66, 0.67, 0.78, 129.0)}, "inconclusive"),
    ("ext.transformers_adoption", {"summary": _adopt(4000, 0.30, 0.35, 1.5, 3.0)}, "inconclusive"),
    ("ext.transformers_adoption", {"summary": _adopt(50, 0.9, 0.95, 2.0, 3.0)}, "inconclusive"),
    # pickle-only proxy
    ("ext.pickle_only", {"summary": {"n_edges": 1543, "diff_ci_low": 0.02, "diff_ci_high": 0.23}}, "supported"),
    ("ext.pickle_only", {"summary": {"n_edges": 1543, "diff_ci_low": -0.03, "diff_ci_high": 0.005}}, "not supported"),
    ("ext.pickle_only", {"summary": {"n_edges": 1543, "diff_ci_low": -0.01, "diff_ci_high": 0.05}}, "inconclusive"),
    ("ext.pickle_only", {"summary": {"n_edges": 12, "diff_ci_low": 0.2, "diff_ci_high": 0.5}}, "inconclusive"),
]


@pytest.mark.parametrize("rule_id, result, expected", CASES)
def test_rule_on_constructed_case(rule_id, result, expected):
    v = evaluate(RULES[rule_id], result)
    assert v.verdict == expected, v.reason
    # the numbers used are reported
    assert v.numbers and all(k.split(".")[0] in result or k.split(".")[0] == "summary" for k in v.numbers)


def test_every_rule_is_tested_both_ways():
    by_rule: dict[str, set[str]] = {}
    for rid, _, exp in CASES:
        by_rule.setdefault(rid, set()).add(exp)
    assert set(by_rule) == set(RULES), "add CASES for new rules"
    for rid, seen in by_rule.items():
        assert {"supported", "not supported"} <= seen, rid


def test_missing_number_is_inconclusive_with_reason():
    v = evaluate(RULES["H2-turnover"], {"summary": {"n_steps": 2}})
    assert v.verdict == "inconclusive"
    assert "summary.median_turnover_share" in v.reason


def test_unmet_requirement_explains_a_missing_statistic_in_words():
    """No Hub steps: no median either; the reason says what the claim needs, not only which number is missing."""
    v = evaluate(RULES["H2-turnover"], {"summary": {"n_steps": 0, "median_turnover_share": None}})
    assert v.verdict == "inconclusive"
    assert v.reason.startswith("too little data: the Hub claim needs at least two comparable steps")
    assert v.reason.endswith("(requirement not met: summary.n_steps >= 2)")
    assert RULES["H2-turnover"].to_dict()["require_note"] in v.reason


def test_require_note_must_be_text():
    rule = {
        "id": "x",
        "claim": "C1",
        "metric": "m",
        "description": "d",
        "require_note": 3,
        "supported": [{"path": "a", "op": "<", "value": 1}],
        "not_supported": [{"path": "a", "op": ">", "value": 1}],
    }
    with pytest.raises(InputError, match=r"require_note: expected a string, got 3"):
        parse_rules({"schema_version": 2, "rules": [rule]}, Path("r.toml"), claim_ids={"C1"})
    rule["require_note"] = ""
    with pytest.raises(InputError, match=r"require_note: String should have at least 1 character"):
        parse_rules({"schema_version": 2, "rules": [rule]}, Path("r.toml"), claim_ids={"C1"})


def test_nan_and_none_are_not_numbers():
    for bad in (None, float("nan"), "0.1", True):
        v = evaluate(RULES["H2-turnover"], {"summary": {"n_steps": 2, "median_turnover_share": bad}})
        # "0.1" as a string is accepted as a number only if it parses; it does, so check explicitly
        if bad == "0.1":
            assert v.verdict == "supported"
        else:
            assert v.verdict == "inconclusive"


def test_no_result_is_inconclusive():
    assert evaluate(RULES["ext.growth"], None).verdict == "inconclusive"


@given(st.floats(allow_nan=True, allow_infinity=True), st.integers(-5, 10))
def test_turnover_rule_total_and_consistent(share, steps):
    v = evaluate(RULES["H2-turnover"], {"summary": {"n_steps": steps, "median_turnover_share": share}})
    assert v.verdict in VERDICTS
    if v.verdict == "supported":
        assert steps >= 2 and share <= 0.2
    if v.verdict == "not supported":
        assert steps >= 2 and share > 0.3
    if steps >= 2 and math.isfinite(share) and (share <= 0.2 or share > 0.3):
        assert v.verdict != "inconclusive"


@given(
    st.dictionaries(
        st.text(max_size=5),
        st.recursive(
            st.none() | st.floats() | st.text(max_size=3),
            lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=3), c, max_size=3),
            max_leaves=8,
        ),
        max_size=4,
    )
)
def test_evaluate_never_raises_on_junk(junk):
    for r in RULES.values():
        assert evaluate(r, junk).verdict in VERDICTS


@pytest.mark.parametrize(
    "rule, message",
    [
        (
            {
                "id": "x",
                "claim": "C1",
                "metric": "m",
                "description": "d",
                "supported": [{"path": "a", "op": "~", "value": 1}],
                "not_supported": [{"path": "a", "op": "<", "value": 1}],
            },
            "is not one of",
        ),
        (
            {
                "id": "x",
                "claim": "C1",
                "metric": "m",
                "description": "d",
                "supported": [{"path": "a", "op": "<", "value": "1"}],
                "not_supported": [{"path": "a", "op": "<", "value": 1}],
            },
            "expected a number",
        ),
        (
            {
                "id": "x",
                "claim": "C1",
                "metric": "m",
                "description": "d",
                "supported": [{"path": "a", "op": "<", "value": 1}],
            },
            "not_supported: missing",
        ),
        (
            {
                "id": "x",
                "claim": "C99",
                "metric": "m",
                "description": "d",
                "supported": [{"path": "a", "op": "<", "value": 1}],
                "not_supported": [{"path": "a", "op": "<", "value": 1}],
            },
            "unknown claim",
        ),
    ],
)
def test_malformed_rules_refused(rule, message):
    with pytest.raises(InputError, match=message) as exc:
        parse_rules({"schema_version": 2, "rules": [rule]}, Path("r.toml"), claim_ids={"C1"})
    assert "r.toml" in str(exc.value)


def test_contradictory_rule_is_inconclusive():
    (r,) = parse_rules(
        {
            "schema_version": 2,
            "rules": [
                {
                    "id": "x",
                    "claim": "C1",
                    "metric": "m",
                    "description": "d",
                    "supported": [{"path": "a", "op": ">", "value": 0}],
                    "not_supported": [{"path": "a", "op": ">", "value": 1}],
                }
            ],
        },
        Path("r.toml"),
    )
    assert evaluate(r, {"a": 5}).verdict == "inconclusive"
    assert evaluate(r, {"a": 0.5}).verdict == "supported"


def test_counts_stay_integers_in_the_numbers_used():
    v = evaluate(RULES["H2-turnover"], {"summary": {"n_steps": 3, "median_turnover_share": 0.5}})
    assert v.numbers["summary.n_steps"] == 3 and isinstance(v.numbers["summary.n_steps"], int)
    assert isinstance(v.numbers["summary.median_turnover_share"], float)


def test_malformed_rule_names_file_and_line(tmp_path):
    p = tmp_path / "r.toml"
    p.write_text(
        'schema_version = 2\n[[rules]]\nid = "x"\nclaim = "T3.1"\nmetric = "m"\ndescription = "d"\n'
        'suported = [{ path = "a", op = "<", value = 1 }]\n',
        encoding="utf-8",
    )
    with pytest.raises(InputError, match=r"r.toml:7: \[\[rules\]\] #1 suported: unknown key; did you mean supported\?"):
        load_rules(p)


RESULT = {
    "coefficients": [
        {"term": "intercept", "estimate": 1.0, "ci_low": 0.5},
        {"term": "has_license", "estimate": 0.3, "ci_low": 0.12},
        {"term": "dup", "ci_low": 1.0},
        {"term": "dup", "ci_low": 2.0},
    ],
    "ci": [0.2, 0.4],
    "by_k": {"100": {"share": 0.7}},
}


@pytest.mark.parametrize(
    "path, expected",
    [
        ("coefficients[term=has_license].ci_low", 0.12),
        ("coefficients[term = intercept].estimate", 1.0),
        ("coefficients[1].estimate", 0.3),
        ("coefficients.1.estimate", 0.3),
        ("ci.0", 0.2),
        ("ci[1]", 0.4),
        ("by_k.100.share", 0.7),
    ],
)
def test_paths_select_by_key_index_and_dots(path, expected):
    from ptmscope.claims.verdicts import lookup

    assert lookup(RESULT, path) == expected


@pytest.mark.parametrize(
    "path, why",
    [
        ("coefficients[term=has_licence].ci_low", "no entry with term=has_licence in coefficients"),
        ("coefficients[term=dup].ci_low", "2 entries with term=dup in coefficients"),
        ("ci[term=x]", "no entry with term=x in ci"),
        ("by_k[term=x]", "by_k is not a list"),
        ("coefficients[9].ci_low", "no entry 9 in coefficients"),
        ("nope.x", "no key 'nope'"),
    ],
)
def test_a_selector_that_finds_nothing_is_inconclusive_with_the_reason(path, why):
    (r,) = parse_rules(
        {
            "schema_version": 2,
            "rules": [
                {
                    "id": "x",
                    "claim": "T3.1",
                    "metric": "m",
                    "description": "d",
                    "supported": [{"path": path, "op": ">", "value": 0}],
                    "not_supported": [{"path": path, "op": "<", "value": 0}],
                }
            ],
        },
        Path("r.toml"),
    )
    v = evaluate(r, RESULT)
    assert v.verdict == "inconclusive" and why in v.reason, v.reason


@pytest.mark.parametrize("path", ["a..b", "a[", "a[term=]", "", " a", "a[]"])
def test_malformed_paths_are_refused_at_load(path):
    rule = {
        "id": "x",
        "claim": "T3.1",
        "metric": "m",
        "description": "d",
        "supported": [{"path": path, "op": ">", "value": 0}],
        "not_supported": [{"path": "a", "op": "<", "value": 0}],
    }
    with pytest.raises(InputError, match="path"):
        parse_rules({"schema_version": 2, "rules": [rule]}, Path("r.toml"))


def test_rules_check_metrics_and_hypotheses_against_the_catalogue():
    from ptmscope.claims import load_catalogue

    cat = load_catalogue()
    rules = load_rules(catalogue=cat, known_metrics=cat.metric_names())
    hyps = {h.id: h for h in cat.hypotheses}
    for r in rules:
        assert r.hypothesis in hyps and hyps[r.hypothesis].claim == r.claim
        assert r.metric in hyps[r.hypothesis].metrics
    with pytest.raises(InputError, match="unknown metric 'preservation'"):
        load_rules(catalogue=cat, known_metrics={"turnover"})
