"""Card parsing and the rules scorer on hand-written and hostile cards."""

from __future__ import annotations

import pytest
from cards_samples import (
    CODE_ONLY_HEADINGS,
    FULL_CARD,
    HTML_CARD,
    HUB_TEMPLATE_EMPTY,
    SYNONYM_CARD,
    TRAINER_PLACEHOLDER_CARD,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ptmscope.cards import SECTIONS, CardScore
from ptmscope.cards.parse import is_placeholder, looks_binary, parse_card, split_front_matter, text_sha256
from ptmscope.cards.rules import RulesScorer

RULES = RulesScorer()


def flags(card: CardScore) -> dict[str, bool]:
    return dict(zip(SECTIONS, card.present, strict=False))


# -- parsing -------------------------------------------------------------------
def test_front_matter_is_split_off_and_not_a_section() -> None:
    fm, body = split_front_matter("---\nlicense: mit\n---\n# Title\ntext")
    assert fm == "license: mit"
    assert body.startswith("# Title")


def test_headings_inside_code_fences_are_code() -> None:
    card = parse_card(CODE_ONLY_HEADINGS)
    keys = [s.key for s in card.sections]
    assert keys == ["", "demo"]
    assert "# How to use" in card.sections[1].code


def test_setext_and_bold_headings() -> None:
    card = parse_card("Intro text\n\nUsage\n-----\nrun it\n\n**Limitations**\nnone known yet really\n")
    keys = [s.key for s in card.sections]
    assert "usage" in keys and "limitations" in keys


def test_subtree_text_includes_subsections_only() -> None:
    card = parse_card("## A\na\n### A1\nx\n## B\nb\n")
    i = [s.key for s in card.sections].index("a")
    assert card.subtree_text(i).split() == ["a", "x"]


@pytest.mark.parametrize(
    "body,expected",
    [
        ("More information needed", True),
        ("[More Information Needed]", True),
        ("  TBD.  ", True),
        ("<!-- guidance -->\n\n", True),
        ("- **Developed by:** [More Information Needed]\n- **Model type:** [More Information Needed]", True),
        ("Use the code below to get started with the model.\n\n[More Information Needed]", True),
        ("The model is good at French.", False),
        ("More information needed about X, but it works on English news text.", False),
    ],
)
def test_placeholders(body: str, expected: bool) -> None:
    assert is_placeholder(body) is expected


def test_sha256_of_text() -> None:
    # sha256("abc") from FIPS 180-2, appendix B.1
    assert text_sha256("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert text_sha256(None) is None


# -- rules scorer ----------------------------------------------------------------
def test_full_card_has_all_five() -> None:
    s = RULES.score(FULL_CARD)
    assert s.score == 5
    assert s.evidence[SECTIONS.index("limitations")] == "heading: Limitations and bias"


def test_synonym_headings() -> None:
    s = RULES.score(SYNONYM_CARD)
    assert flags(s) == dict.fromkeys(SECTIONS, True)


def test_trainer_placeholders_count_as_absent() -> None:
    s = RULES.score(TRAINER_PLACEHOLDER_CARD)
    assert s.score == 0, s.to_dict()


def test_hub_template_without_content_scores_zero() -> None:
    s = RULES.score(HUB_TEMPLATE_EMPTY)
    assert s.score == 0, s.to_dict()


def test_trainer_card_with_content_finds_training_and_evaluation() -> None:
    card = TRAINER_PLACEHOLDER_CARD + (
        "\nThis model is a fine-tuned version of bert-base on the imdb dataset.\n"
        "It achieves the following results on the evaluation set:\n- Loss: 0.2\n- Accuracy: 0.93\n\n"
        "## Training procedure\n\n### Training hyperparameters\n\n"
        "The following hyperparameters were used during training:\n- learning_rate: 2e-05\n"
    )
    f = flags(RULES.score(card))
    assert f["training"] and f["evaluation"] and f["description"]
    assert not f["limitations"] and not f["how_to_use"]


def test_intended_uses_and_limitations_needs_limitation_content() -> None:
    uses_only = "# m\n\n## Intended uses & limitations\n\nYou can use this model for sentiment analysis of tweets.\n"
    f = flags(RULES.score(uses_only))
    assert f["how_to_use"] and not f["limitations"]
    both = uses_only + "It is biased towards American English and fails on code-switched text.\n"
    assert flags(RULES.score(both))["limitations"]


def test_code_block_counts_as_how_to_use() -> None:
    card = "# m\n\nA model.\n\n```python\nmodel = AutoModel.from_pretrained('x')\n```\n"
    s = RULES.score(card)
    assert s.has("how_to_use")
    assert s.evidence[SECTIONS.index("how_to_use")].startswith("code:")


@pytest.mark.parametrize("text,note", [(None, "no card"), ("", "empty card"), ("   \n\n", "empty card")])
def test_missing_and_empty(text: str | None, note: str) -> None:
    s = RULES.score(text)
    assert s.scored and s.score == 0 and s.note == note


def test_html_and_script_are_not_sections() -> None:
    s = RULES.score(HTML_CARD)
    assert s.score == 0
    # evidence never carries markup through from a comment
    assert all(e is None for e in s.evidence)


def test_binary_looking_card() -> None:
    blob = "".join(chr(c) for c in range(0, 32)) * 200 + "\ufffd" * 500
    assert looks_binary(blob)
    s = RULES.score(blob)
    assert s.score == 0 and s.note == "binary-looking card"
    s2 = RULES.score(bytes(range(256)) * 10)  # bytes are decoded leniently, never crash
    assert s2.scored


def test_huge_card_is_bounded_and_scored() -> None:
    huge = FULL_CARD + ("lorem ipsum dolor sit amet " * 100_000)  # ~2.7 MB
    s = RULES.score(huge)
    assert s.score == 5


def test_pathological_whitespace_is_fast() -> None:
    # a regression case: indented HTML-like lines once made a regex backtrack for seconds
    card = "apa\n" + ("        <div\n\t\t\tstyle='x'>\n" * 2000)
    s = RULES.score(card)
    assert s.scored


def test_score_many_matches_score() -> None:
    texts = [FULL_CARD, None, SYNONYM_CARD, HTML_CARD]
    assert RULES.score_many(texts) == [RULES.score(t) for t in texts]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=3000))
def test_any_text_gives_a_score_between_0_and_5(text: str) -> None:
    s = RULES.score(text)
    assert s.scored
    assert 0 <= s.score <= 5
    assert all((e is None) != p for e, p in zip(s.evidence, s.present, strict=False))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "## Usage\nrun the model with pipeline('x')\n",
                "## Training\nTrained for 3 epochs on wikitext.\n",
                "## Evaluation\nAccuracy: 0.91\n",
                "## Limitations\nFails on long inputs.\n",
                "## Model description\nA small BERT for Dutch NER.\n",
                "## Notes\nMore information needed\n",
            ]
        ),
        max_size=6,
    )
)
def test_score_counts_distinct_filled_sections(parts: list[str]) -> None:
    card = "# m\n\n" + "\n".join(parts)
    expected = len({p.split("\n")[0] for p in parts if "More information" not in p})
    assert RULES.score(card).score == expected


# -- rules-v2: template-following rules ------------------------------------------------
@pytest.mark.parametrize(
    "heading,expected",
    [
        ("Limitations and bias", True),  # BERT-style cards
        ("Bias, Risks, and Limitations", True),  # Hub template
        ("Intended uses & limitations", True),  # Trainer card (with limitation content below)
        ("Caveats and Recommendations", True),
        ("Ethical considerations", True),
        ("Known issues", True),
        ("GC4LM: A Colossal (Biased) language model for German", False),  # a title, not a section
        ("CORe Model - Clinical Mortality Risk Prediction", False),
        ("Format input text with bias phrases", False),
        ("Out-of-Scope Use", False),
    ],
)
def test_limitations_headings_are_section_names_not_titles(heading: str, expected: bool) -> None:
    card = f"# m\n\n## {heading}\n\nIt fails on long inputs and is biased towards news text.\n"
    assert RULES.score(card).has("limitations") is expected


TRAINER_WITH_LOG = """# m

This model is a fine-tuned version of bert-base-cased on the conll2003 dataset.

## Training procedure

### Training hyperparameters

The following hyperparameters were used during training:
- learning_rate: 2e-05

### Training results

| Training Loss | Epoch | Step | Validation Loss |
|:-------------:|:-----:|:----:|:---------------:|
| 0.2           | 1.0   | 100  | 0.15            |
"""


def test_trainer_training_log_alone_is_not_an_evaluation_report() -> None:
    assert not RULES.score(TRAINER_WITH_LOG).has("evaluation")
    with_results = TRAINER_WITH_LOG.replace(
        "dataset.\n", "dataset.\nIt achieves the following results on the evaluation set:\n- Loss: 0.15\n"
    )
    assert RULES.score(with_results).has("evaluation")


# default texts of the 2022 model-card creator template (huggingface_hub era), not about the model
CREATOR_TEMPLATE_BIAS = """# Model Card for m

## Bias, Risks, and Limitations

Significant research has explored bias and fairness issues with language models (see, e.g., \
[Sheng et al. (2021)](https://aclanthology.org/2021.acl-long.330.pdf) and \
[Bender et al. (2021)](https://dl.acm.org/doi/pdf/10.1145/3442188.3445922)). Predictions generated by the model \
may include disturbing and harmful stereotypes across protected classes; identity characteristics; and sensitive, \
social, and occupational groups.

### Recommendations

Users (both direct and downstream) should be made aware of the risks, biases and limitations of the model. \
More information needed for further recomendations.
"""


def test_template_default_bias_text_is_not_a_limitation() -> None:
    assert not RULES.score(CREATOR_TEMPLATE_BIAS).has("limitations")
    own = CREATOR_TEMPLATE_BIAS.replace("### Recommendations", "It mislabels sarcasm.\n\n### Recommendations")
    assert RULES.score(own).has("limitations")


@pytest.mark.parametrize(
    "section",
    [
        "## Evaluation\n\nComing soon! We will update the benchmarks later.\n",
        "## Downstream Performance\n\nTODO: Add table if available\n",
        "## Training Data\n\nMore information on training data needed\n",
        "## Testing the model using `transformers`:\n\n```python\nprint(model('x'))\n```\n",
        "## Evaluation commands\n\n```sh\npython eval.py --split test\n```\n",
    ],
)
def test_later_notes_and_procedures_are_not_reports(section: str) -> None:
    s = RULES.score("# m\n\n" + section)
    assert not s.has("evaluation") and not s.has("training"), s.to_dict()


def test_descriptive_title_is_a_description_but_template_titles_are_not() -> None:
    titled = "# T5-base paraphrasing model fine-tuned on PAWS and Quora\n\nMore details in the GitHub repo.\n"
    assert RULES.score(titled).has("description")
    autotrain = (
        "# Model Trained Using AutoTrain\n\nThis model was trained using AutoTrain. For more information, please "
        "visit [AutoTrain](https://hf.co/docs/autotrain).\n"
    )
    assert not RULES.score(autotrain).has("description")


@pytest.mark.parametrize(
    "text",
    [
        "Ggml conversion of the original model by KoboldAI, for use with KoboldCPP and similar runners.",
        "A mix of WoopWoopPhoto and WoopWoopGeneral to get the best of both worlds in one checkpoint.",
        "This is an INT8  PyTorch model quantized with Intel Neural Compressor from the fp32 original.",
    ],
)
def test_descriptions_of_what_a_checkpoint_is(text: str) -> None:
    assert RULES.score(f"# m\n\n{text}\n").has("description")


# the card written by the diffusers training scripts (DreamBooth/LoRA), left as generated
DIFFUSERS_SCRIPT_CARD = """# DreamBooth - me/dogbooth

This is a dreambooth model derived from stabilityai/stable-diffusion-2-1. The weights were trained on a photo \
of sks dog using [DreamBooth](https://dreambooth.github.io/).

## Intended uses & limitations

#### How to use

```python
# TODO: add an example code snippet for running this diffusion pipeline
```

#### Limitations and bias

[TODO: provide examples of latent issues and potential remediations]

## Training details

[TODO: describe the data used to train the model]
"""


def test_diffusers_script_card_todos_are_placeholders() -> None:
    s = RULES.score(DIFFUSERS_SCRIPT_CARD)
    assert flags(s) == {
        "description": True,  # the generated first paragraph does say what the model is
        "limitations": False,
        "how_to_use": False,  # a code block holding only a TODO comment
        "training": False,
        "evaluation": False,
    }, s.to_dict()


def test_first_hub_template_guidance_is_boilerplate() -> None:
    card = (
        "# m\n\n## Intended uses & limitations\n\n#### How to use\n\n```python\n"
        "# You can include sample code which will be formatted\n```\n\n#### Limitations and bias\n\n"
        "Provide examples of latent issues and potential remediations.\n\n## Training data\n\n"
        "Describe the data you used to train the model.\n\n## Training procedure\n\n"
        "Preprocessing, hardware used, hyperparameters...\n\n## Eval results\n\nProvide some evaluation results.\n"
    )
    assert RULES.score(card).score == 0, RULES.score(card).to_dict()
    assert not RULES.score("# m\n\nIntended Use TBD\n").has("how_to_use")
