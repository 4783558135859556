"""Commit-message maintenance categories: hand-written messages, the metrics, and the hand-labelled sample."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import pytest

from ptmscope.maintenance import CATEGORIES, agreement, classify, classify_many, normalise_message, shares
from realdata import shared_path

LABELS = Path(__file__).resolve().parent / "data" / "commit_message_hand_labels.csv"


@pytest.mark.parametrize(
    "message,expected",
    [
        ("Fix tokenizer config", "corrective"),
        ('Revert "Update weights"\n\nThis reverts commit 0123abcd.', "corrective"),
        ("Upload model with the correct vocabulary", "corrective"),
        ("Convert checkpoint to safetensors", "adaptive"),
        ("Adding `safetensors` variant of this model (#3)", "adaptive"),  # the Hub's conversion bot
        ("Update checkpoint for transformers>=4.31", "adaptive"),
        ("Add Flax weights", "adaptive"),
        ("Training in progress, step 1200", "perfective"),  # the transformers Trainer's push message
        ("Update pytorch_model.bin", "perfective"),  # the Hub web editor's default message
        ("Improve README wording", "perfective"),
        ("Train for two more epochs", "perfective"),
        ("initial commit", "other"),
        ("First version of the tiny model and tokenizer.", "other"),
        ("Upload pytorch_model.bin with git-lfs", "other"),  # huggingface_hub's default upload message
        ("added fine-tuned model", "other"),  # "fine-tuned" names the model, it is not a tuning change
        ("Merge branch 'main' of https://huggingface.co/x/y into main", "other"),
        ("asdf", "other"),
    ],
)
def test_rules_on_hand_written_messages(message: str, expected: str) -> None:
    assert classify(message).category == expected, classify(message)


def test_creation_is_read_in_the_subject_line_only() -> None:
    msg = "Add a function for summing gene ids (#4)\n\n- Add init for the mapping dict (0123abcd)"
    c = classify(msg)
    assert c.category == "perfective" and c.rule == "perfective"


@pytest.mark.parametrize("message", [None, "", "   \n", 42])
def test_empty_or_non_text_is_other(message) -> None:
    assert classify(message).category == "other"


def test_normalisation_masks_hashes_pull_requests_and_trailers() -> None:
    msg = "Fix weights (#12)\n\n- Fix weights (0123456789abcdef)\n\nCo-authored-by: A <a@b.c>\nSigned-off-by: B"
    assert normalise_message(msg) == "Fix weights (#n) - Fix weights (<hash>)"


def test_agreement_hand_computed() -> None:
    ref = ["perfective", "perfective", "corrective", "other", "adaptive"]
    pred = ["perfective", "other", "corrective", "other", "perfective"]
    a = agreement(ref, pred)
    # perfective: tp 1, predicted 2, true 2 -> P .5 R .5; corrective 1/1; other: tp 1, predicted 2, true 1;
    # adaptive: tp 0 of 1 -> F1 0
    per = {c.category: c for c in a.per_class}
    assert (per["perfective"].precision, per["perfective"].recall) == (0.5, 0.5)
    assert per["corrective"].f1 == 1.0
    assert (per["other"].precision, per["other"].recall) == (0.5, 1.0)
    assert per["adaptive"].f1 == 0.0
    assert a.accuracy == pytest.approx(3 / 5)
    assert a.macro_f1 == pytest.approx((0.5 + 1.0 + 2 / 3 + 0.0) / 4)
    assert a.confusion["adaptive"]["perfective"] == 1
    weighted = agreement(ref, pred, weights=[10, 1, 1, 1, 1])
    assert weighted.accuracy == pytest.approx(12 / 14)
    with pytest.raises(ValueError):
        agreement(ref, pred[:2])


def test_shares_cover_every_category() -> None:
    s = shares(classify_many(["Fix x", "Update y", "Update z", None]))
    assert s == {"perfective": 0.5, "corrective": 0.25, "adaptive": 0.0, "other": 0.25}
    assert set(s) == set(CATEGORIES)


# -- the hand-labelled sample (labels: tests/data/commit_message_hand_labels.csv) --------------
def _data() -> tuple[dict[str, str], dict[str, list[str]]]:
    path = shared_path("hf", "safetensors-history", "fixed3_repository_evolution_commits_0_5014.csv")
    by_hash: dict[str, str] = {}
    with path.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            by_hash.setdefault(row["commit_hash"], row["message"])
    groups: dict[str, list[str]] = defaultdict(list)
    for h, msg in by_hash.items():
        groups[normalise_message(msg)].append(h)
    return by_hash, groups


def _labels() -> list[dict[str, str]]:
    lines = [ln for ln in LABELS.read_text(encoding="utf-8").splitlines() if not ln.startswith("#")]
    return list(csv.DictReader(lines))


@pytest.mark.realdata
def test_agrees_with_the_hand_labelled_sample() -> None:
    by_hash, groups = _data()
    sample = [r for r in _labels() if r["set"] == "sample"]
    assert len(sample) == 150 and len({normalise_message(by_hash[r["commit_hash"]]) for r in sample}) == 150
    ref = [r["label"] for r in sample]
    pred = [classify(by_hash[r["commit_hash"]]).category for r in sample]
    a = agreement(ref, pred)
    # docs/maintenance.md: macro F1 0.965 when the rules first ran on these labels, 0.989 after three fixes;
    # 0.90 leaves room for the small corrective class (4 messages) while failing on a real regression
    assert a.macro_f1 >= 0.90, a.to_dict()
    assert a.accuracy >= 0.90
    weighted = agreement(ref, pred, [len(groups[normalise_message(by_hash[r["commit_hash"]])]) for r in sample])
    assert weighted.accuracy >= 0.95  # per commit: the frequent templated messages dominate


@pytest.mark.realdata
def test_finds_every_corrective_message_of_the_census() -> None:
    by_hash, groups = _data()
    census = {normalise_message(by_hash[r["commit_hash"]]) for r in _labels() if r["set"] == "census"}
    assert len(census) == 19 and len(groups) == 648
    predicted = {k for k, hs in groups.items() if classify(by_hash[hs[0]]).category == "corrective"}
    tp = len(predicted & census)
    assert tp / len(census) >= 0.9  # recall over all distinct messages
    assert tp / len(predicted) >= 0.9  # precision over all distinct messages
