"""The dataset-card rules scorer: the five sections of the Hub's dataset-card template.

The ``datasets`` library's card template (``templates/README_guide.md``, the
"Dataset Card Creation Guide" that most Hub dataset cards follow) has five
top-level sections, and ``huggingface_hub``'s newer ``datasetcard_template.md``
keeps them under slightly different headings:

=========================  ==========================================================
section                    template subsections (and synonyms the scorer accepts)
=========================  ==========================================================
Dataset Description        Dataset Summary, Supported Tasks and Leaderboards, Languages;
                           Dataset Details (newer template); Description, Overview, About
Dataset Structure          Data Instances, Data Fields, Data Splits; Format, Schema,
                           Features, Columns, Example(s), Statistics
Dataset Creation           Curation Rationale, Source Data (Initial Data Collection and
                           Normalization, Who are the source language producers?),
                           Annotations, Personal and Sensitive Information; Collection,
                           Methodology, Preprocessing, Construction
Considerations for Using   Social Impact of Dataset, Discussion of Biases, Other Known
the Data                   Limitations; Bias, Risks, and Limitations, Out-of-Scope Use
                           (newer template); Ethical considerations, Disclaimer
Additional Information     Dataset Curators, Licensing Information, Citation Information,
                           Contributions; Dataset Card Authors/Contact (newer template);
                           License, Citation, Authors, Acknowledgements, Contact
=========================  ==========================================================

A card has a section when a heading names it (or one of its subsections) and
the text under it, subsections included, is more than a placeholder: "[More
Information Needed]", "[Needs More Information]", the template's guidance
sentences ("List and describe the fields present in the dataset."), the
generated "Thanks to [@github-username](...) for adding this dataset." and
"**Homepage:**"-style fields left empty all count as absent, and so do the
link fields of "Dataset Description" (Homepage, Repository, Paper ...) without
a summary.  Considerations headings are short section names, as for model-card
limitations (a title such as "Gender Bias Dataset" is not one).

Content checks find the sections in cards without the template's headings:
"This dataset contains ...", "The dataset has the following fields", "Each
example contains ...", "The data was collected from ...", a BibTeX entry or an
"Authors:"/"License:" line.  Considerations come from headings only, and a
section whose template heading is there but empty stays absent (the author left
that slot blank; a passing clause elsewhere does not fill it).

Scores are stored like model-card scores (:mod:`ptmscope.cards.storage`), in
the table ``dataset_card_scores``, for snapshots of the ``hf-datasets`` registry.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import ClassVar, Literal, get_args

from .base import CardScore
from .parse import ParsedCard, is_placeholder, is_placeholder_code, looks_binary, parse_card, strip_boilerplate
from .rules import _LIMIT_CONNECT, _LIMIT_TERMS, _first_sentence

VERSION = "1"

DatasetSectionName = Literal["description", "structure", "creation", "considerations", "additional_information"]
DATASET_SECTIONS: tuple[str, ...] = get_args(DatasetSectionName)

#: The template's section titles.
DATASET_SECTION_TITLES: dict[str, str] = {
    "description": "Dataset Description",
    "structure": "Dataset Structure",
    "creation": "Dataset Creation",
    "considerations": "Considerations for Using the Data",
    "additional_information": "Additional Information",
}


class DatasetCardScore(CardScore):
    """The five dataset-card sections of one card, with evidence."""

    sections: ClassVar[tuple[str, ...]] = DATASET_SECTIONS


_HEADINGS: dict[str, re.Pattern[str]] = {
    "description": re.compile(
        r"\bdescri(?:p|pt)tions?\b|\bsummary\b|\boverview\b|^about\b|^introduction\b|^intro\b"
        r"|\bsupported tasks?\b|^languages?\b|^(?:dataset |data )?details$|^what is\b|^general information$"
    ),
    "structure": re.compile(
        r"\bstructure\b|\bdata (?:instances?|fields?|splits?|format|points?|schema|statistics)\b"
        r"|\bdataset (?:instances?|fields|splits|format|schema|columns|statistics|size)\b"
        r"|^(?:fields|features|columns|schema|format|splits?|statistics|stats)\b|\bexamples?\b|\binstances?\b"
        r"|\bfile (?:structure|format)s?\b|\bdata files\b"
    ),
    "creation": re.compile(
        r"\bcreation\b|\bcuration\b|\brationale\b|\bsource data\b|\bdata sources?\b|^sources?\b|\bcollection\b"
        r"|\bannotations?\b|\bannotators?\b|\blanguage producers\b|\bpersonal and sensitive\b"
        r"|\bgeneration (?:procedure|process|method)\b|\bpre ?processing\b|\bprocessing\b|\bmethodology\b"
        r"|\bconstruction\b|\bhow (?:was|were|is|are) (?:the |this )?(?:data|dataset|corpus)\b|\bprovenance\b"
        r"|\bgathering\b|\bscraping\b|\bcrawl"
    ),
    "additional_information": re.compile(
        r"\badditional information\b|\bcurators?\b|\blicen[cs](?:e|es|ing)\b|\bcitations?\b|^cite\b|\bciting\b"
        r"|\bbibtex\b|\breferences?\b|\bcontributions?\b|\bcontributors?\b|\bauthors?\b|\backnowledge?ments?\b"
        r"|\bcontact\b|\bmaintainers?\b|\bmaintenance\b|\bfunding\b|\bterms of use\b|\bcredits?\b"
    ),
}
# Headings that look like a match but are not (checked first).
_NOT_HEADINGS: dict[str, re.Pattern[str]] = {
    "description": re.compile(r"^dataset card for\b|\btable of contents\b|\bfield descriptions?\b"),
    "structure": re.compile(r"\busage\b|\bhow to\b|\bcode\b|\bload(?:ing)?\b|\buse\b|\bquick ?start\b"),
}
# Considerations headings: short names from limitation words ("Discussion of Biases", "Social Impact of Dataset").
_CONSIDER_TERMS = _LIMIT_TERMS | {"considerations", "consideration", "impact", "disclaimer"}
_CONSIDER_CONNECT = _LIMIT_CONNECT | {"dataset", "datasets", "corpus", "using", "discussion", "technical"}
_CONSIDER_PHRASES = re.compile(r"\bout of scope\b|\bknown (?:issues|problems)\b")
_MAX_CONSIDER_WORDS = 8

_CONTENT: dict[str, re.Pattern[str]] = {
    "description": re.compile(
        r"\b(?:this|the|our) (?:[\w-]+ +){0,3}?(?:dataset|corpus|collection|repository|repo|benchmark|data set)"
        r" (?:contains|consists|is|includes|comprises|provides|covers|features|presents|offers|was|holds)\b"
        r"|\bis an? (?:[\w-]+ +){0,4}?(?:dataset|corpus|collection|benchmark|data set)\b"
        r"|\b(?:this|the) (?:repository|repo) (?:contains|holds|provides|hosts)\b"
    ),
    "structure": re.compile(
        r"\b(?:data|dataset) fields are\b|\bhas the following (?:fields|features|columns|structure|format)\b"
        r"|\bdata format is\b|\bformat of the (?:data|dataset|files?)\b|\b(?:the )?columns? (?:are|is)\b"
        r"|\beach (?:example|instance|sample|record|row|entry|item|line|file|data point) (?:has|contains|consists"
        r"|includes|is made)\b|\b(?:train|training|validation|valid|dev|test) (?:split|set)s? (?:has|have|contains?"
        r"|of|with) [\d,.]+\s*(?:k\b|m\b)?\s*(?:examples|samples|instances|rows|records|sentences|images|pairs)"
    ),
    "creation": re.compile(
        r"\b(?:was|were|is|are|has been|have been) (?:manually |automatically |originally )?"
        r"(?:collected|scraped|crawled|gathered|annotated|labell?ed|created|compiled|extracted|generated|translated"
        r"|recorded|sourced|curated|constructed|built|obtained|downloaded|derived|sampled|selected|taken|transcribed)"
        r" (?:from|by|using|with|via|through|in|on|at)\b"
    ),
    "additional_information": re.compile(
        r"^[ \t]*(?:[-*+][ \t]+)?(?:\*\*|__)?(?:authors?|curators?|curated by|maintainers?|maintained by|contact"
        r"|licen[cs]e|licensing|citation|cite as|created by|built by)(?:\*\*|__)?[ \t]*:",
        re.M,
    ),
}
_BIBTEX = re.compile(
    r"@(?:article|inproceedings|misc|book|incollection|techreport|phdthesis|online|dataset)\s*\{", re.I
)

# The dataset templates' guidance and generated sentences: they say nothing about the data.
_GUIDANCE = (
    "briefly summarize the dataset",
    "for each of the tasks tagged for this dataset",
    "provide a brief overview of the languages",
    "provide an json-formatted example",
    "provide a json-formatted example",
    "list and describe the fields present",
    "describe and name the splits",
    "what need motivated the creation",
    "describe the data collection process",
    "state whether the data was produced by humans",
    "if the dataset contains annotations which are not part",
    "if applicable, describe the annotation process",
    "state whether the dataset uses identity categories",
    "please discuss some of the ways you believe",
    "provide descriptions of specific biases",
    "if studies of the datasets have outlined",
    "list the people involved in collecting",
    "provide the license and link",
    "provide the [bibtex]",
    "this dataset card aims to be a base template",
)
_GENERATED = re.compile(
    r"thanks to \[@github-username\]\(https://github\.com/<github-username>\) for adding this dataset\.?"
    r"|this dataset has been automatically processed by autotrain for project [\w.-]+\.?"
    r"|the bcp-47 code for the dataset's language is unk\.?",
    re.I,
)
_FIELD_LINE = re.compile(r"^[ \t]*(?:[-*+][ \t]+)?(?:\*\*|__)[^*_\n]{1,60}?(?:\*\*|__)[^\n]*$", re.M)
_MIN_DESC_WORDS = 6
_MAX_CONTENT_CHARS = 20_000


def strip_dataset_boilerplate(text: str) -> str:
    """Model-card boilerplate plus the dataset templates' guidance lines and generated sentences."""
    text = strip_boilerplate(text)
    low = text.lower()
    if any(g in low for g in _GUIDANCE):
        text = "\n".join(line for line in text.split("\n") if not line.strip().lower().startswith(_GUIDANCE))
        low = text.lower()
    if "github-username" in low or "autotrain" in low or "bcp-47" in low:
        text = _GENERATED.sub(" ", text)
    return text


def _empty(text: str) -> bool:
    return is_placeholder(strip_dataset_boilerplate(text))


def is_considerations_heading(key: str) -> bool:
    """A short heading made only of limitation/consideration words and connectors."""
    words = key.split()
    if not words or len(words) > _MAX_CONSIDER_WORDS:
        return False
    named = _CONSIDER_PHRASES.search(key) is not None or any(w in _CONSIDER_TERMS for w in words)
    return named and all(w in _CONSIDER_TERMS or w in _CONSIDER_CONNECT or w.isdigit() for w in words)


@lru_cache(maxsize=16384)
def dataset_heading_sections(key: str) -> tuple[str, ...]:
    """The dataset-card sections a normalised heading names."""
    hits = []
    for name in DATASET_SECTIONS:
        if name == "considerations":
            if is_considerations_heading(key):
                hits.append(name)
            continue
        neg = _NOT_HEADINGS.get(name)
        if neg is not None and neg.search(key):
            continue
        if _HEADINGS[name].search(key):
            hits.append(name)
    return tuple(hits)


class DatasetRulesScorer:
    """Headings of the dataset-card template + synonyms + content checks; placeholders count as absent."""

    name = "dataset-rules"
    sections: ClassVar[tuple[str, ...]] = DATASET_SECTIONS

    @property
    def key(self) -> str:
        return f"dataset-rules-v{VERSION}"

    def score(self, text: str | None) -> DatasetCardScore:
        if text is None:
            return DatasetCardScore.empty("no card")
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        card = parse_card(text)
        only = card.sections[0]
        if not card.front_matter and len(card.sections) == 1 and not only.body.strip() and not only.code.strip():
            return DatasetCardScore.empty("empty card")
        if looks_binary(text if isinstance(text, str) else ""):
            return DatasetCardScore.empty("binary-looking card")
        return score_dataset_card(card)

    def score_many(self, texts: Sequence[str | None]) -> list[DatasetCardScore]:
        return [self.score(t) for t in texts]


def score_dataset_card(card: ParsedCard) -> DatasetCardScore:
    found: dict[str, str] = {}
    left_empty: set[str] = set()  # the template's slot is there and empty: no content check fills it
    for i, sec in enumerate(card.sections):
        if not sec.key or sec.level == 0:
            continue
        hits = [h for h in dataset_heading_sections(sec.key) if h not in found]
        if not hits:
            continue
        body = card.subtree_text(i)
        code = card.subtree_code(i)
        if _empty(body) and is_placeholder_code(code):
            left_empty.update(hits)
            continue
        if "description" in hits and _empty(_FIELD_LINE.sub(" ", body)):
            hits.remove("description")  # only Homepage/Repository/Paper links: no description
            left_empty.add("description")
        for name in hits:
            found[name] = f"heading: {sec.heading.strip()[:120]}"
    if len(found) == len(DATASET_SECTIONS):
        return DatasetCardScore.from_flags(dict.fromkeys(found, True), found)
    prose = strip_dataset_boilerplate(card.prose[:_MAX_CONTENT_CHARS])
    low = prose.lower()
    for name in ("description", "structure", "creation", "additional_information"):
        if name in found or name in left_empty:
            continue
        m = _CONTENT[name].search(low)
        if m and (name != "description" or len(low.split(None, _MIN_DESC_WORDS)) > _MIN_DESC_WORDS):
            found[name] = "text: " + _first_sentence(m, prose)
            continue
        if name == "additional_information":
            code = card.code[:_MAX_CONTENT_CHARS]
            mb = _BIBTEX.search(code) or _BIBTEX.search(prose)
            if mb:
                found[name] = "citation: BibTeX entry"
    return DatasetCardScore.from_flags(dict.fromkeys(found, True), found)
