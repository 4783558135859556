"""The embedding scorer (extra [embed]); skipped cleanly when the extra is not installed."""

from __future__ import annotations

import pytest
from cards_samples import FULL_CARD, HTML_CARD, HUB_TEMPLATE_EMPTY, SYNONYM_CARD

from ptmscope.cards import get_scorer
from ptmscope.cards.embedding import EmbeddingScorer, available

pytestmark = pytest.mark.skipif(not available(), reason="embedding extra not installed (pip install 'ptmscope[embed]')")


@pytest.fixture(scope="module")
def scorer() -> EmbeddingScorer:
    return get_scorer("embedding")  # type: ignore[return-value]


@pytest.mark.slow
def test_scores_hand_written_cards(scorer: EmbeddingScorer) -> None:
    full, syn, template, html, none, empty = scorer.score_many(
        [FULL_CARD, SYNONYM_CARD, HUB_TEMPLATE_EMPTY, HTML_CARD, None, ""]
    )
    assert full.score == 5, full.to_dict()
    assert syn.score >= 4, syn.to_dict()
    assert template.score == 0, template.to_dict()
    assert html.score == 0
    assert none.note == "no card" and none.score == 0
    assert empty.score == 0
    assert all("cos" in e for e in full.evidence)


@pytest.mark.slow
def test_key_names_model_and_thresholds(scorer: EmbeddingScorer) -> None:
    other = EmbeddingScorer(heading_threshold=0.5, model=scorer.model)
    assert scorer.key != other.key and "all-MiniLM-L6-v2" in scorer.key
    # one card scored alone equals the same card scored in a batch
    assert other.score(FULL_CARD) == other.score_many([HTML_CARD, FULL_CARD])[1]


@pytest.mark.slow
def test_hostile_and_placeholder_cards(scorer: EmbeddingScorer) -> None:
    from cards_samples import TRAINER_PLACEHOLDER_CARD

    blob = "".join(chr(c) for c in range(0, 32)) * 200 + "\ufffd" * 500
    huge = FULL_CARD + ("lorem ipsum dolor sit amet " * 100_000)  # ~2.7 MB
    binary, big, placeholder = scorer.score_many([blob, huge, TRAINER_PLACEHOLDER_CARD])
    assert binary.score == 0 and binary.note == "binary-looking card"
    assert big.score == 5, big.to_dict()
    assert placeholder.score == 0, placeholder.to_dict()
