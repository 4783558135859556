"""C4 / H5: the regression on Table 4's attributes, on hand-built stores with known answers."""

from __future__ import annotations

import numpy as np
import pytest
from store_tables import add_tables

from ptmscope.claims import evaluate, load_rules
from ptmscope.engine import connect
from ptmscope.store import Store

N = 400


def _card(results: bool, how: bool, datasets: bool, base: bool = False) -> str:
    fm = ["---", "license: mit"]
    if datasets:
        fm += ["datasets:", "- glue"]
    if base:
        fm += ["base_model: org/base"]
    fm += ["model-index:", "- name: m", "  results:"]
    if results:
        fm += [
            "  - task:",
            "      type: text-classification",
            "    metrics:",
            "    - type: accuracy",
            "      value: 0.91",
        ]
    else:
        fm[-1] += " []"
    fm += ["---", "", "# Model", "", "This model classifies short English sentences into topics for news articles.", ""]
    if how:
        fm += ["## How to use", "", "```python", "from transformers import pipeline", "pipeline('text-classification')"]
        fm += ["```", ""]
    return "\n".join(fm)


def _world(n: int = N, *, with_size: bool = True, seed: int = 1):
    """Models whose ln(downloads) is a known linear function of the Table 4 attributes."""
    rng = np.random.default_rng(seed)
    i = np.arange(n)
    t5 = i % 2 == 0  # exactly half: the reference level is decided by the alphabet
    results, paper, how, datasets, base, lic = rng.random((6, n)) < [[0.4], [0.3], [0.5], [0.4], [0.3], [0.2]]
    logp = 7 + 2 * rng.random(n)
    y = (
        5
        + 1.0 * t5
        + 0.5 * results
        + 0.8 * paper
        + 0.6 * how
        + 0.3 * datasets
        - 0.5 * base
        + 0.2 * lic
        + (0.7 * (logp - logp.mean()) if with_size else 0)
        + rng.normal(0, 0.3, n)
    )
    downloads = np.round(np.exp(y)).astype(int)
    ids = [f"o{k % 7}/m{k}" for k in range(n)]
    packages = {
        "package_id": ids,
        "downloads": downloads.tolist(),
        "model_type": ["t5" if x else "bert" for x in t5],
        "license": ["mit" if x else None for x in lic],
        "tags": [
            (["arxiv:1234.5678"] if p else []) + (["base_model:org/base"] if b else [])
            for p, b in zip(paper, base, strict=True)
        ],
        "parameters": [round(10**v) for v in logp] if with_size else [None] * n,
    }
    cards = {"package_id": ids, "text": [_card(r, h, d) for r, h, d in zip(results, how, datasets, strict=True)]}
    design = {
        "t5": t5,
        "has_license": lic,
        "reports_results": results,
        "declares_base_model": base,
        "declares_datasets": datasets,
        "links_paper": paper,
        "how_to_use": how,
    }
    if with_size:
        design["log10_size"] = np.log10(np.array(packages["parameters"], dtype=float))
    return packages, cards, design, np.log1p(downloads.astype(float))


def _r2(y: np.ndarray, cols: list[np.ndarray]) -> float:
    X = np.column_stack([np.ones(len(y)), *[np.asarray(c, dtype=float) for c in cols]])
    resid = y - X @ np.linalg.lstsq(X, y, rcond=None)[0]
    return 1 - resid @ resid / ((y - y.mean()) @ (y - y.mean()))


@pytest.fixture
def world(store_path):
    packages, cards, design, y = _world()
    with Store(store_path) as s:
        add_tables(s, "2025-04-01", {"packages": packages, "cards": cards})
    return connect(store_path), design, y


def test_effects_and_incremental_r2_match_an_independent_fit(world):
    from ptmscope.metrics.attributes import attributes

    b, design, y = world
    r = attributes(b, n_boot=50)
    assert r.n == N and r.blocks_measured == 5 and r.size_measure == "parameters" and r.size_known == N
    coef = {c["term"]: c for c in r.coefficients}
    truth = {
        "model_type[t5]": 1.0,
        "reports_results": 0.5,
        "links_paper": 0.8,
        "how_to_use": 0.6,
        "declares_datasets": 0.3,
        "declares_base_model": -0.5,
        "log10_size": 0.7,
    }
    for term, value in truth.items():  # within about 4 standard errors (the CI's half-width is about 2)
        c = coef[term]
        assert abs(c["estimate"] - value) < c["ci_high"] - c["ci_low"], (term, c)
        assert c["ci_high"] - c["ci_low"] < 0.5  # and the data pin it down
    assert r.levels["model_type"][0] == "bert"  # tie 200/200: the alphabetically first is the reference
    # unique incremental R² of each block = R²(all) - R²(all but the block), fitted here with numpy
    blocks = {
        "architecture": ["t5"],
        "performance": ["reports_results"],
        "provenance": ["declares_base_model", "declares_datasets", "links_paper"],
        "ease_of_use": ["how_to_use"],
        "size": ["log10_size"],
    }
    full = _r2(y, [design[k] for k in design])
    assert r.r2 == pytest.approx(full, abs=1e-9)
    rows = {row["block"]: row for row in r.table4_blocks}
    for block, names in blocks.items():
        without = _r2(y, [design[k] for k in design if k not in names])
        assert rows[block]["delta_r2"] == pytest.approx(full - without, abs=1e-9), block
        assert rows[block]["f2"] == pytest.approx((full - without) / (1 - full), abs=1e-9)
        lo, hi = rows[block]["delta_r2_ci"]
        assert lo <= rows[block]["delta_r2"] <= hi
    # the controls alone: the licence only (one task, one library, every model has a card)
    assert r.r2_controls == pytest.approx(_r2(y, [design["has_license"]]), abs=1e-9)
    assert r.dl_partial_r2 == pytest.approx(full - r.r2_controls, abs=1e-9)
    # the effects are large next to the noise: every block impacts popularity, H5 is supported
    assert r.blocks_impact == 5 and r.blocks_negligible == 0
    rule = next(x for x in load_rules() if x.id == "H5-attributes")
    assert evaluate(rule, r.to_dict()).verdict == "supported"
    assert r.how_to_use_from.startswith("rules-") and "scored here" in r.how_to_use_from


def test_a_block_without_data_is_not_measured_and_says_why(store_path):
    from ptmscope.metrics.attributes import attributes

    packages, cards, _, _ = _world(with_size=False)
    with Store(store_path) as s:
        add_tables(s, "2022-02-15", {"packages": packages, "cards": cards})
    r = attributes(connect(store_path), n_boot=0)
    size = next(x for x in r.table4_blocks if x["block"] == "size")
    assert size["measured"] is False and "0 models" in size["why_not"] and "parameter count" in size["why_not"]
    assert r.blocks_measured == 4 and r.size_measure is None
    rule = next(x for x in load_rules() if x.id == "H5-attributes")
    assert evaluate(rule, r.to_dict()).verdict != "supported"  # all five cannot be shown with four


def test_rare_attributes_are_left_out_with_the_counts(store_path):
    from ptmscope.metrics.attributes import attributes

    packages, cards, _, _ = _world()
    # only 5 cards report results: fewer than min_group on one side
    cards["text"] = [_card(k < 5, k % 4 < 2, k % 3 == 0) for k in range(N)]
    with Store(store_path) as s:
        add_tables(s, "2022-02-15", {"packages": packages, "cards": cards})
    r = attributes(connect(store_path), n_boot=0, min_group=30)
    perf = next(x for x in r.table4_blocks if x["block"] == "performance")
    assert perf["measured"] is False and "reports_results: 5 yes, 395 no" in perf["why_not"]
    assert r.shares["reports_results"] == pytest.approx(5 / N)


def test_the_snapshot_measuring_most_blocks_is_chosen(store_path):
    from ptmscope.metrics.attributes import attributes

    big, big_cards, _, _ = _world(600, with_size=False, seed=2)
    small, small_cards, _, _ = _world(200, seed=3)
    with Store(store_path) as s:
        big_sid = add_tables(s, "2022-02-15", {"packages": big, "cards": big_cards}, name="big")
        small_sid = add_tables(s, "2025-04-01", {"packages": small, "cards": small_cards}, name="small")
    b = connect(store_path)
    r = attributes(b, n_boot=0)
    assert r.snapshot_id == small_sid and r.n == 200  # five blocks beat four, whatever the size
    chosen = {c["snapshot_id"]: (c["blocks_possible"], c["chosen"]) for c in r.choice}
    assert chosen == {big_sid: (4, False), small_sid: (5, True)}
    r = attributes(b, snapshot_id="2022-02-15", n_boot=0)
    assert r.snapshot_id == big_sid and r.n == 600


@pytest.mark.parametrize(
    ("text", "results", "datasets", "base"),
    [
        (_card(True, False, False), True, False, False),
        (_card(False, False, True), False, True, False),  # "results: []" reports nothing
        (_card(False, False, False, base=True), False, False, True),
        ("---\nlicense: mit\ndatasets: []\n---\n# M\n\nmodel-index:\n  value: 3\n", False, False, False),  # body text
        ("no front matter\nmodel-index:\n- results:\n  - value: 1\n", False, False, False),
        ("---\ndatasets: [squad]\nbase_model:\n  - org/b\n---\n", False, True, True),
    ],
)
def test_card_front_matter_keys(store_path, text, results, datasets, base):
    from ptmscope.metrics.attributes import design_table

    with Store(store_path) as s:
        sid = add_tables(
            s, "2022-02-15", {"packages": {"package_id": ["a/b"]}, "cards": {"package_id": ["a/b"], "text": [text]}}
        )
    row = design_table(connect(store_path), sid).execute().iloc[0]
    assert (bool(row["reports_results"]), bool(row["declares_datasets"]), bool(row["declares_base_model"])) == (
        results,
        datasets,
        base,
    )


def test_level_names_are_never_evaluated(store_path):
    from ptmscope.metrics.attributes import attributes

    n = 60
    hostile = "x') + __import__('os').system('echo pwned') + ('"
    with Store(store_path) as s:
        add_tables(
            s,
            "2022-02-15",
            {
                "packages": {
                    "package_id": [f"o/m{i}" for i in range(n)],
                    "downloads": list(range(n)),
                    "model_type": [hostile if i % 2 else "t" for i in range(n)],
                }
            },
        )
    r = attributes(connect(store_path), n_boot=0)
    assert any(hostile in c["term"] for c in r.coefficients)


def test_figure_names_the_blocks_and_reference_levels(world):
    from ptmscope.figures.attributes import attributes_figure
    from ptmscope.metrics.attributes import attributes

    r = attributes(world[0], n_boot=20)
    fig = attributes_figure(r)
    ax_b, ax_c = fig.axes[:2]
    assert next(t.get_text() for t in ax_b.get_yticklabels()).startswith("architecture")
    assert "model_type = bert" in ax_c.get_xlabel()
    assert "Table 4 attributes measured: 5 of 5" in ax_b.get_title()


def test_bootstrap_replicates_from_distinct_rows_equal_the_full_weighted_fit():
    # a dummy-coded design with a few size values: many models share a row of X
    from ptmscope.metrics.attributes import _GroupedGram

    rng = np.random.default_rng(5)
    n = 5000
    X = np.column_stack(
        [
            np.ones(n),
            rng.integers(0, 2, n),
            rng.integers(0, 2, n),
            rng.choice([-1.5, 0.0, 0.7, 2.0], n),
        ]
    ).astype(float)
    y = X @ np.array([1.0, 0.5, -0.3, 0.8]) + rng.normal(size=n)
    w = np.bincount(rng.integers(0, n, n), minlength=n).astype(float)
    subsets = [[0, 1, 2, 3], [0, 3], [0, 1, 2]]
    gram = _GroupedGram(X, y)
    assert len(gram.rows) == 16  # 2 x 2 x 4 distinct rows
    # the same replicate by weighted least squares on all 5000 rows, written out directly
    for s, got in zip(subsets, gram.r2(subsets, w), strict=True):
        sw = np.sqrt(w)
        beta = np.linalg.lstsq(X[:, s] * sw[:, None], y * sw, rcond=None)[0]
        resid = y - X[:, s] @ beta
        ybar = (w * y).sum() / w.sum()
        want = 1 - (w * resid**2).sum() / (w * (y - ybar) ** 2).sum()
        assert got == pytest.approx(want, rel=1e-9)
