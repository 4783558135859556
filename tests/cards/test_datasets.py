"""The dataset-card rules scorer: template cards written by hand, storage, and hand-labelled real cards."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import json
from pathlib import Path

import pytest

from ptmscope.cards.datasets import DATASET_SECTIONS, DatasetCardScore, DatasetRulesScorer, is_considerations_heading
from ptmscope.cards.rules import RulesScorer
from ptmscope.cards.storage import score_snapshot
from ptmscope.errors import StoreError
from ptmscope.schema import Snapshot, SnapshotBatch, to_table
from ptmscope.store import Store
from realdata import shared_path

SCORER = DatasetRulesScorer()
DATA = Path(__file__).resolve().parents[1] / "data"

# The datasets library's card template (templates/README_guide.md headings), filled in by hand.
FILLED = """---
license: mit
---

# Dataset Card for tiny-tweets

## Dataset Description

- **Homepage:** https://example.org/tiny-tweets
- **Repository:**

### Dataset Summary

Tiny-tweets is a corpus of 1,000 English tweets labelled for sentiment.

## Dataset Structure

### Data Fields

- `text`: the tweet.
- `label`: 0 negative, 1 positive.

## Dataset Creation

### Source Data

Tweets were sampled from the public stream in May 2021 and labelled by two students.

## Considerations for Using the Data

### Discussion of Biases

Tweets from a single month over-represent the news of that month.

## Additional Information

### Licensing Information

MIT.
"""

# The same template left as generated: every section a placeholder.
EMPTY_TEMPLATE = """# Dataset Card for [Dataset Name]

## Table of Contents
- [Dataset Description](#dataset-description)
  - [Dataset Summary](#dataset-summary)

## Dataset Description

- **Homepage:**
- **Repository:**
- **Paper:** [More Information Needed](https://github.com/huggingface/datasets/blob/master/CONTRIBUTING.md)
- **Point of Contact:**

### Dataset Summary

[More Information Needed]

### Supported Tasks and Leaderboards

[Needs More Information]

## Dataset Structure

### Data Instances

List and describe the fields present in the dataset. Mention their data type.

### Data Splits

[More Information Needed]

## Dataset Creation

### Curation Rationale

[More Information Needed]

## Considerations for Using the Data

### Social Impact of Dataset

[More Information Needed]

## Additional Information

### Citation Information

[More Information Needed]

### Contributions

Thanks to [@github-username](https://github.com/<github-username>) for adding this dataset.
"""

# AutoTrain's generated dataset card: the description sentence names nothing about the data.
AUTOTRAIN = """# AutoTrain Dataset for project: demo

## Dataset Description

This dataset has been automatically processed by AutoTrain for project demo.

### Languages

The BCP-47 code for the dataset's language is unk.

## Dataset Structure

### Data Instances

A sample from this dataset looks as follows:

```json
[{"text": "good", "target": 1}]
```
"""

PLAIN = """This dataset contains 10,000 product reviews in German with star ratings.

Each example has a review text and a rating from 1 to 5.
The reviews were scraped from a public shop website in 2020.

Authors: A. Person and B. Person
"""


def flags(s: DatasetCardScore) -> dict[str, bool]:
    return dict(zip(DATASET_SECTIONS, s.present, strict=True))


def test_filled_template_has_all_five_sections() -> None:
    s = SCORER.score(FILLED)
    assert flags(s) == dict.fromkeys(DATASET_SECTIONS, True), s.to_dict()
    assert s.evidence[DATASET_SECTIONS.index("considerations")] == "heading: Considerations for Using the Data"


def test_generated_template_scores_zero() -> None:
    s = SCORER.score(EMPTY_TEMPLATE)
    assert s.score == 0, s.to_dict()


def test_autotrain_card_documents_only_its_structure() -> None:
    assert flags(SCORER.score(AUTOTRAIN)) == {
        "description": False,
        "structure": True,
        "creation": False,
        "considerations": False,
        "additional_information": False,
    }


def test_cards_without_template_headings() -> None:
    assert flags(SCORER.score(PLAIN)) == {
        "description": True,
        "structure": True,
        "creation": True,
        "considerations": False,  # from headings only
        "additional_information": True,
    }


def test_an_empty_template_slot_is_not_filled_by_a_clause_elsewhere() -> None:
    card = (
        "## Dataset Description\n\n### Dataset Summary\n\nThe data was collected from Reddit by the authors.\n\n"
        "## Dataset Creation\n\n### Source Data\n\n[More Information Needed]\n"
    )
    s = SCORER.score(card)
    assert s.has("description") and not s.has("creation"), s.to_dict()


@pytest.mark.parametrize(
    "heading,expected",
    [
        ("considerations for using the data", True),
        ("social impact of dataset", True),
        ("discussion of biases", True),
        ("other known limitations", True),
        ("bias risks and limitations", True),
        ("out of scope use", True),
        ("gender bias in news headlines dataset", False),  # a title, not a section name
        ("personal and sensitive information", False),  # Dataset Creation in the template
    ],
)
def test_considerations_headings(heading: str, expected: bool) -> None:
    assert is_considerations_heading(heading) is expected


@pytest.mark.parametrize("text,note", [(None, "no card"), ("", "empty card"), ("\n\n", "empty card")])
def test_missing_and_empty(text: str | None, note: str) -> None:
    s = SCORER.score(text)
    assert s.scored and s.score == 0 and s.note == note


def test_hostile_card_is_bounded() -> None:
    s = SCORER.score("<script>alert(1)</script>\n" + "## Dataset Summary\n\nA corpus. " * 200_000)
    assert s.scored and 0 <= s.score <= 5


# -- storage --------------------------------------------------------------------------------
SID_D = "hf-datasets-2023-03-16-bbbbbbbb"
SID_M = "hf-2023-03-16-cccccccc"


def _store(path: Path) -> Store:
    st = Store(path)
    for sid, registry, cards in (
        (SID_D, "hf-datasets", {"u/filled": FILLED, "u/empty": EMPTY_TEMPLATE, "u/none": None}),
        (SID_M, "hf", {"u/model": "# m\n\n## Limitations\n\nIt fails on long inputs.\n"}),
    ):
        ids = list(cards)
        tables = {
            "packages": to_table(
                "packages",
                {"package_id": ids, "raw_id": ids, "downloads": [1] * len(ids), "likes": [0] * len(ids)},
                sid,
            ),
            "cards": to_table(
                "cards",
                {
                    "package_id": ids,
                    "text": [cards[i] for i in ids],
                    "text_sha256": [None if cards[i] is None else f"sha-{i}" for i in ids],
                    "missing": [cards[i] is None for i in ids],
                },
                sid,
            ),
        }
        snap = Snapshot(sid, registry, dt.date(2023, 3, 16), "test", "cards.jsonl", "b" * 64, len(ids), "test")
        st.add_batch(SnapshotBatch(snap, tables))
    return st


def test_dataset_scores_are_stored_in_their_own_table(store_path: Path) -> None:
    st = _store(store_path)
    run = score_snapshot(st, SID_D, SCORER)
    assert (run.n_cards, run.n_scored, run.n_missing) == (3, 3, 1)
    rows = st.con.execute(
        "SELECT package_id, score, description, considerations, scorer_key FROM dataset_card_scores "
        "WHERE snapshot_id = ? ORDER BY package_id",
        [SID_D],
    ).fetchall()
    assert rows == [
        ("u/empty", 0, False, False, "dataset-rules-v1"),
        ("u/filled", 5, True, True, "dataset-rules-v1"),
        ("u/none", 0, False, False, "dataset-rules-v1"),
    ]
    assert score_snapshot(st, SID_D, SCORER).n_skipped == 3  # resumable like model-card scores
    st.delete_snapshot(SID_D)
    assert st.con.execute("SELECT count(*) FROM dataset_card_scores").fetchall()[0][0] == 0


def test_scorer_and_registry_must_match(store_path: Path) -> None:
    st = _store(store_path)
    with pytest.raises(StoreError, match="scores dataset cards"):
        score_snapshot(st, SID_M, SCORER)
    with pytest.raises(StoreError, match="scores model cards"):
        score_snapshot(st, SID_D, RulesScorer())
    tables = {r[0] for r in st.con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert "dataset_card_scores" not in tables and "card_scores" not in tables  # refused before any write


# -- hand-labelled real cards -------------------------------------------------------------------
def _labels(name: str) -> dict[str, dict[str, str]]:
    lines = [ln for ln in (DATA / name).read_text(encoding="utf-8").splitlines() if not ln.startswith("#")]
    return {r["dataset"]: r for r in csv.DictReader(lines)}


def _agreement(name: str) -> tuple[int, int, dict[str, int]]:
    labels = _labels(name)
    cards = {}
    with gzip.open(shared_path("hf", "2023-03_dataset-cards", "dataset_cards.jsonl.gz"), "rt") as f:
        for line in f:
            rec = json.loads(line)
            if rec["dataset_name"] in labels:
                cards[rec["dataset_name"]] = rec["card"]
    assert set(cards) == set(labels)
    agree, wrong = 0, dict.fromkeys(DATASET_SECTIONS, 0)
    for ds, row in labels.items():
        s = SCORER.score(cards[ds])
        for sec in DATASET_SECTIONS:
            if s.has(sec) == (row[sec] == "1"):
                agree += 1
            else:
                wrong[sec] += 1
    return agree, len(labels) * len(DATASET_SECTIONS), wrong


@pytest.mark.realdata
def test_agrees_with_hand_labels_on_the_sample_the_rules_were_adjusted_on() -> None:
    agree, total, wrong = _agreement("dataset_card_sections_hand_labels.csv")
    assert total == 80
    assert agree / total >= 0.95, wrong  # docs/cards.md: 77 of 80 (after adjusting on this sample)


@pytest.mark.realdata
def test_agrees_with_hand_labels_on_a_held_out_sample() -> None:
    agree, total, wrong = _agreement("dataset_card_sections_hand_labels_heldout.csv")
    assert total == 80
    # docs/cards.md: 70 of 80 on cards the rules never saw; structure is the weak section
    assert agree / total >= 0.85, wrong
    assert wrong["considerations"] == 0
