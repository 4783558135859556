"""Validation helpers against human labels: hand-computed cases and the real dev set."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest
from cards_samples import FULL_CARD, TRAINER_PLACEHOLDER_CARD

from ptmscope.cards.rules import RulesScorer
from ptmscope.cards.validate import cross_validate, fold_indices, load_dev_set, prf, roc_auc, validate
from ptmscope.errors import InputError, PtmscopeError
from realdata import shared_path


def test_roc_auc_hand_computed() -> None:
    # the textbook example: 3 of the 4 positive/negative pairs are ordered correctly
    assert roc_auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) == pytest.approx(0.75)
    # ties count one half
    assert roc_auc([1, 1], [0, 1]) == pytest.approx(0.5)
    assert np.isnan(roc_auc([1, 2], [1, 1]))


def test_prf_hand_computed() -> None:
    pred = np.array([1, 1, 0, 0, 1], bool)
    ref = np.array([1, 0, 1, 0, 1], bool)
    p, r, f = prf(pred, ref)  # tp=2 fp=1 fn=1
    assert (p, r) == pytest.approx((2 / 3, 2 / 3))
    assert f == pytest.approx(2 / 3)


def _write_dev(tmp_path: Path, label_rows: list[str]) -> tuple[Path, Path]:
    labels = tmp_path / "labels.csv"
    labels.write_text(
        "modelId,has_description,has_uses,has_limitations_and_bias,has_training,has_evaluation,quality_high\n"
        + "\n".join(label_rows)
        + "\n"
    )
    cards = tmp_path / "cards.jsonl.gz"
    with gzip.open(cards, "wt") as f:
        f.write(
            json.dumps({"modelId": "a/full", "tags": ["license:mit", "dataset:x"], "modelcard_text": FULL_CARD}) + "\n"
        )
        f.write(json.dumps({"modelId": "b/empty", "tags": [], "modelcard_text": TRAINER_PLACEHOLDER_CARD}) + "\n")
    return labels, cards


def test_validate_on_two_cards(tmp_path: Path) -> None:
    labels, cards = _write_dev(tmp_path, ["a/full,1,1,1,1,1,1", "b/empty,0,0,0,0,0,0"])
    dev = load_dev_set(labels, cards)
    r = validate(RulesScorer(), dev)
    d = r.to_dict()
    assert d["n_cards"] == 2
    assert all(s["f1"] == 1.0 for s in d["sections"])
    assert d["auc_card_score"] == 1.0 and d["auc_documentation_score"] == 1.0
    assert d["inputs"]["labels"] == str(labels)


def test_bad_label_names_file_line_and_column(tmp_path: Path) -> None:
    labels, cards = _write_dev(tmp_path, ["a/full,1,1,1,1,1,1", "b/empty,0,0,maybe,0,0,0"])
    with pytest.raises(InputError, match=r"labels\.csv:3 \(column has_limitations_and_bias\)"):
        load_dev_set(labels, cards)


def test_labelled_model_without_card(tmp_path: Path) -> None:
    labels, cards = _write_dev(tmp_path, ["a/full,1,1,1,1,1,1", "c/none,0,0,0,0,0,0"])
    with pytest.raises(InputError, match="no card"):
        load_dev_set(labels, cards)


def test_cards_file_not_json(tmp_path: Path) -> None:
    labels, _ = _write_dev(tmp_path, ["a/full,1,1,1,1,1,1"])
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"modelId": "a/full", "modelcard_text": "x"}\n{oops\n')
    with pytest.raises(InputError, match=r"bad\.jsonl:2"):
        load_dev_set(labels, bad)


def test_cli_validate_json(cli, tmp_path: Path) -> None:
    labels, cards = _write_dev(tmp_path, ["a/full,1,1,1,1,1,1", "b/empty,0,0,0,0,0,0"])
    code, out, err = cli("cards", "validate", "--labels", labels, "--cards", cards, "--scorer", "rules", "--json")
    assert code == 0, err
    res = json.loads(out)["results"]
    assert [r["inputs"]["scorer"] for r in res] == ["rules"]
    code, out, err = cli("cards", "validate", "--labels", tmp_path / "nope.csv", "--cards", cards)
    assert code == 1 and "nope.csv" in err


def test_fold_indices_partition_the_cards() -> None:
    parts = fold_indices(23, 5, seed=7)
    flat = np.concatenate(parts)
    assert sorted(flat.tolist()) == list(range(23))  # every card in exactly one fold
    assert sorted(len(p) for p in parts) == [4, 4, 5, 5, 5]  # 23 = 5+5+5+4+4
    assert all(np.array_equal(a, b) for a, b in zip(parts, fold_indices(23, 5, seed=7), strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(parts, fold_indices(23, 5, seed=8), strict=True))
    with pytest.raises(PtmscopeError, match="folds"):
        fold_indices(3, 4)
    with pytest.raises(PtmscopeError, match="folds"):
        fold_indices(10, 1)


def test_cross_validation_per_fold_matches_hand_counts(tmp_path: Path) -> None:
    # 4 cards, 2 folds; the labels say evaluation is present on a/full and c/full only,
    # and the scorer finds it on the two FULL_CARD copies: per fold P = R = F1 = 1
    labels, cards = _write_dev(tmp_path, ["a/full,1,1,1,1,1,1", "b/empty,0,0,0,0,0,0"])
    with gzip.open(cards, "at") as f:
        f.write(json.dumps({"modelId": "c/full", "modelcard_text": FULL_CARD}) + "\n")
        f.write(json.dumps({"modelId": "d/empty", "modelcard_text": TRAINER_PLACEHOLDER_CARD}) + "\n")
    with labels.open("a") as f:
        f.write("c/full,1,1,1,1,0,1\nd/empty,0,0,0,0,1,0\n")  # c has no evaluation label; d has one
    dev = load_dev_set(labels, cards)
    cv = cross_validate(RulesScorer(), dev, k=2, seed=0)
    d = cv.to_dict()
    assert [f["n_cards"] for f in d["per_fold"]] == [2, 2]
    assert sorted(i for f in cv.folds for i in f.ids) == ["a/full", "b/empty", "c/full", "d/empty"]
    for fold in cv.folds:
        ev = next(s for s in fold.sections if s.section == "evaluation")
        # by hand: the scorer predicts evaluation exactly for the */full cards
        pred = {i for i in fold.ids if i.endswith("/full")}
        true = {i for i in fold.ids if i in ("a/full", "d/empty")}
        tp = len(pred & true)
        assert ev.predicted == len(pred) and ev.support == len(true)
        assert ev.precision == pytest.approx(tp / len(pred) if pred else 0.0)
        assert ev.recall == pytest.approx(tp / len(true) if true else 0.0)
    pooled = {s.section: s for s in cv.pooled}
    assert pooled["evaluation"].precision == pytest.approx(0.5) and pooled["evaluation"].recall == pytest.approx(0.5)
    row = next(r for r in d["mean_over_folds"] if r["section"] == "evaluation")
    assert row["f1_mean"] == pytest.approx(np.mean([f.sections[-1].f1 for f in cv.folds]), abs=1e-4)


def test_cli_validate_folds_json(cli, tmp_path: Path) -> None:
    labels, cards = _write_dev(tmp_path, ["a/full,1,1,1,1,1,1", "b/empty,0,0,0,0,0,0"])
    code, out, err = cli(
        "cards", "validate", "--labels", labels, "--cards", cards, "--scorer", "rules", "--folds", "2", "--json"
    )
    assert code == 0, err
    cv = json.loads(out)["cross_validation"][0]
    assert cv["folds"] == 2 and cv["seed"] == 0 and len(cv["per_fold"]) == 2
    code, out, err = cli("cards", "validate", "--labels", labels, "--cards", cards, "--scorer", "rules", "--folds", "3")
    assert code == 1 and "folds" in err


@pytest.mark.realdata
def test_rules_on_the_human_labelled_dev_set() -> None:
    base = shared_path("hf", "model-card-quality")
    dev = load_dev_set(base / "labels_dev.csv", base / "cards_dev.jsonl.gz", base / "section_annotations_dev.csv")
    r = validate(RulesScorer(), dev)
    f1 = {(s.section, s.reference): s.f1 for s in r.sections}
    # floors a little under what docs/cards.md reports, so a regression fails here
    assert f1[("description", "has_description")] >= 0.92
    assert f1[("limitations", "has_limitations_and_bias")] >= 0.90
    assert f1[("how_to_use", "how_from_headings")] >= 0.88
    assert f1[("training", "has_training")] >= 0.85
    assert f1[("evaluation", "has_evaluation")] >= 0.82
    assert r.auc_card_score >= 0.70
    assert not [s for s in r.sections if s.reference == "has_uses" and s.reliable]


@pytest.mark.realdata
def test_rules_cross_validated_on_the_dev_set() -> None:
    base = shared_path("hf", "model-card-quality")
    dev = load_dev_set(base / "labels_dev.csv", base / "cards_dev.jsonl.gz", base / "section_annotations_dev.csv")
    cv = cross_validate(RulesScorer(), dev, k=5, seed=0).to_dict()
    assert sum(f["n_cards"] for f in cv["per_fold"]) == 378
    # docs/cards.md: mean 0.899, worst fold 0.868 (rules-v2)
    assert cv["mean_f1_reliable"]["mean"] >= 0.89
    assert cv["mean_f1_reliable"]["min"] >= 0.85


# -- bad input: one line naming file, line and column; first wins where a repeat is harmless ----------------


def test_labels_row_with_a_missing_field_names_its_line(tmp_path: Path) -> None:
    labels, cards = _write_dev(tmp_path, ["a/full,1,1,1,1,1,1", "b/empty,0,0,0,0,0"])
    with pytest.raises(InputError) as ei:
        load_dev_set(labels, cards)
    assert str(ei.value) == f"{labels}:3: row has 6 fields, the header has 7 (malformed CSV)"


def test_labels_column_named_twice_is_refused(tmp_path: Path) -> None:
    labels, cards = _write_dev(tmp_path, ["a/full,1,1,1,1,1,1"])
    labels.write_text("modelId,quality_high,quality_high\na/full,1,0\n")
    with pytest.raises(InputError, match=r"labels\.csv:1: column 'quality_high' appears twice in the header"):
        load_dev_set(labels, cards)


def test_label_out_of_range_is_one_line(tmp_path: Path) -> None:
    labels, cards = _write_dev(tmp_path, ["a/full,1,1,1,1,1,1", "b/empty,0,0,0,2,0,0"])
    with pytest.raises(InputError) as ei:
        load_dev_set(labels, cards)
    assert str(ei.value) == f"{labels}:3 (column has_training): has_training 2 out of range (0 … 1)"


def test_repeated_label_rows_first_wins_unless_they_disagree(tmp_path: Path) -> None:
    labels, cards = _write_dev(tmp_path, ["a/full,1,1,1,1,1,1", "b/empty,0,0,0,0,0,0", "a/full,1,1,1,1,1,1"])
    dev = load_dev_set(labels, cards)
    assert dev.ids == ("a/full", "b/empty")
    assert dev.labels["quality_high"].tolist() == [1, 0]
    labels, cards = _write_dev(tmp_path, ["a/full,1,1,1,1,1,1", "b/empty,0,0,0,0,0,0", "a/full,1,1,1,1,1,0"])
    with pytest.raises(InputError) as ei:
        load_dev_set(labels, cards)
    msg = str(ei.value)
    assert msg.startswith(f"{labels}:4 (column modelId): modelId 'a/full' is labelled twice with different labels")
    assert "(lines 2 and 4)" in msg


def test_repeated_cards_and_keys_keep_the_first(tmp_path: Path) -> None:
    labels, _ = _write_dev(tmp_path, ["a/full,1,1,1,1,1,1", "b/empty,0,0,0,0,0,0"])
    cards = tmp_path / "cards.jsonl"
    cards.write_text(
        json.dumps({"modelId": "a/full", "modelcard_text": FULL_CARD})
        + "\n"
        + '{"modelId": "b/empty", "modelcard_text": "first", "modelcard_text": "second"}\n'
        + json.dumps({"modelId": "a/full", "modelcard_text": "a later copy"})
        + "\n"
    )
    dev = load_dev_set(labels, cards)
    assert dict(zip(dev.ids, dev.texts, strict=True)) == {"a/full": FULL_CARD, "b/empty": "first"}


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ('{"modelId": "a/full", "modelcard_text": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested too deeply"),
        ('{"modelId": "a/full", "modelcard_text": "x\\ud800"}', "lone surrogate"),
        ('{"modelId": "a/full", "modelcard_text": 5}', "card text must be a string, got int"),
        ("[1, 2]", "each line must be a JSON object"),
    ],
)
def test_hostile_cards_lines_are_one_line_errors(tmp_path: Path, line: str, needle: str) -> None:
    labels, _ = _write_dev(tmp_path, ["a/full,1,1,1,1,1,1"])
    cards = tmp_path / "cards.jsonl"
    cards.write_text(json.dumps({"modelId": "b/empty", "modelcard_text": "ok"}) + "\n" + line + "\n")
    with pytest.raises(InputError) as ei:
        load_dev_set(labels, cards)
    msg = str(ei.value)
    assert msg.startswith(f"{cards}:2") and needle in msg and "\n" not in msg, msg


def test_annotations_row_with_a_missing_field_names_its_line(tmp_path: Path) -> None:
    labels, cards = _write_dev(tmp_path, ["a/full,1,1,1,1,1,1"])
    ann = tmp_path / "ann.csv"
    ann.write_text("modelId,category,heading\na/full,how,Usage\na/full,what\n")
    with pytest.raises(InputError) as ei:
        load_dev_set(labels, cards, ann)
    assert str(ei.value) == f"{ann}:3: row has 2 fields, the header has 3 (malformed CSV)"
    ann.write_text("modelId,heading\na/full,Usage\n")
    with pytest.raises(InputError, match=r"ann\.csv:1 \(column category\): annotations CSV needs modelId and category"):
        load_dev_set(labels, cards, ann)


def test_cli_bad_labels_is_one_line(cli, tmp_path: Path) -> None:
    labels, cards = _write_dev(tmp_path, ["a/full,1,1,1,1,1,1", "b/empty,0,0"])
    code, out, err = cli("cards", "validate", "--labels", labels, "--cards", cards, "--scorer", "rules")
    assert out == ""
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 1 and len(lines) == 1, err
    assert lines[0] == f"error: {labels}:3: row has 3 fields, the header has 7 (malformed CSV)"
