"""The rules scorer (default): headings, their synonyms, and content checks.

For each of the five items a card has it when

1. a heading matches the item's synonyms (the Hub's model-card template,
   the ``Trainer``'s generated card, and the wording people commonly use)
   and the text under it (with its subsections) is more than a placeholder
   such as "More information needed"; or
2. a content check finds it anywhere in the prose or code: e.g. "This model
   is a fine-tuned version of ...", a ``from_pretrained`` code block, "The
   following hyperparameters were used during training", "achieves the
   following results on the evaluation set", a ``model-index`` with results
   in the front matter.

Evidence is the heading (``heading: Training procedure``) or the matched
sentence fragment (``text: ...``).  No dependencies beyond ``re``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from .base import SECTIONS, CardScore
from .parse import ParsedCard, is_placeholder, is_placeholder_code, looks_binary, parse_card, strip_boilerplate

VERSION = "2"

# Synonyms on normalised headings (lower-case words joined by single spaces).
_HEADINGS: dict[str, re.Pattern[str]] = {
    "description": re.compile(
        r"^(?:model |the model |about (?:the |this )?model )?(?:description|details|summary|overview|card)\b"
        r"|^(?:about|introduction|intro|abstract|overview|summary|background|architecture|description)\b"
        r"|^(?:model (?:architecture|structure|info|information|type|summary|overview|details|description))\b"
        r"|^(?:what is|what s)\b|^how does it work|^(?:details model architecture)"
        r"|\bmodel description\b|\bmodel details\b|^(?:model|the model)$"
    ),
    "how_to_use": re.compile(
        r"\bhow to (?:use|get started|run|load|download|inference|infer|generate|try)\b|\busage\b|^uses?\b"
        r"|\b(?:intended|direct|downstream|example|sample) uses?\b|\bgetting started\b|\bget started\b"
        r"|\bquick ?start\b|^examples?\b|\bexample usage\b|\binference\b|\binstall(?:ation)?\b|^demo\b"
        r"|\bload (?:the )?model\b|^using\b|\bprompt (?:template|format)\b|\bin transformers\b|^use\b"
        r"|\bhow to\b|\bcode example\b|\bapi\b|\bwith (?:transformers|diffusers|sentence transformers)\b"
    ),
    "training": re.compile(
        r"\btraining\b|\bfine ?tuning\b|\bfinetuning\b|\bpre ?training\b|\bpretraining\b|\bhyper ?param"
        r"|\bpre ?processing\b|^(?:the )?datasets?\b|^data\b|\bdata ?sets? used\b|\bcorpus\b|\brecipe\b"
        r"|\btrain(?:ing)? (?:data|set)\b"
    ),
    "evaluation": re.compile(
        r"\beval|\bresults?\b|\bbenchmarks?\b|\bperformance\b|\bmetrics?\b|\baccuracy\b|\bscores?\b"
        r"|\bvalidation\b|\btest (?:set|results)\b|\bleaderboard\b|\bexperiments?\b"
    ),
}

# Headings that look like a match but are not (checked before _HEADINGS).
_NOT_HEADINGS: dict[str, re.Pattern[str]] = {
    "description": re.compile(
        r"\bauthors?\b|\bcard (?:authors?|contact)\b|\bcitation|\blicen[cs]e\b|\bcontact\b|^model card for\b"
    ),
    "training": re.compile(
        r"\bframework versions?\b|\btraining results\b|\bresume the training\b|\bwatch your agent\b"
        r"|^(?:\w+ ){7,}\w+"  # long title-like headings ("LoRA text2image fine-tuning - user/model")
    ),
    "how_to_use": re.compile(r"\bout of scope\b|\bmisuse\b|^limitations? and|^limitations?$"),
    "evaluation": re.compile(
        r"\bmore information\b|\btodo\b|\btbd\b|\bcoming soon\b"
        # the Trainer's "Training results" table is the training log; its evaluation is the
        # "achieves the following results on the evaluation set" sentence (a content check)
        r"|^train(?:ing)? (?:results?|metrics|logs?)$"
        # how to run an evaluation is not a report of one
        r"|^evaluat(?:e|ing)\b|\bhow to\b|\breproduc|\breplicat"
        r"|\b(?:commands?|scripts?|code|recipe|instructions|setup)$"
    ),
}

# Limitations headings are short section names built from these words ("Limitations and bias",
# "Bias, Risks, and Limitations", "Intended uses & limitations", "Caveats and recommendations",
# "Ethical considerations"): every word of the heading must come from the two lists, and one from
# the first.  Titles that merely contain such a word ("GC4LM: a colossal, biased language model",
# "Clinical mortality risk prediction", "Gender bias in code-mixed texts") are not sections about limits.
_LIMIT_TERMS = frozenset(
    {
        "limitation",
        "limitations",
        "limitacion",
        "limitaciones",
        "limites",
        "bias",
        "biases",
        "sesgos",
        "risks",
        "caveat",
        "caveats",
        "ethics",
        "ethical",
        "misuse",
        "shortcomings",
        "weakness",
        "weaknesses",
        "fairness",
        "harms",
    }
)
_LIMIT_PHRASES = re.compile(r"\bknown (?:issues|problems|limitations)\b|\bfailure modes?\b")
_LIMIT_CONNECT = frozenset(
    {
        "and",
        "or",
        "of",
        "the",
        "a",
        "an",
        "s",
        "to",
        "for",
        "in",
        "on",
        "its",
        "this",
        "our",
        "model",
        "models",
        "known",
        "other",
        "potential",
        "possible",
        "important",
        "intended",
        "use",
        "uses",
        "usage",
        "capabilities",
        "performance",
        "data",
        "training",
        "recommendations",
        "recommendation",
        "considerations",
        "consideration",
        "statement",
        "concerns",
        "privacy",
        "out",
        "scope",
        "malicious",
        "cases",
        "analysis",
        "investigating",
        "warning",
        "robustness",
        "safety",
        "social",
        "societal",
        "impact",
        "responsible",
        "ai",
        "y",
        "e",
        "notes",
        "note",
        "disclaimer",
        "general",
        "current",
        "some",
        "issues",
        "problems",
        "modes",
        "failure",
        "risk",
    }
)
_MAX_LIMIT_HEADING_WORDS = 8

# Content checks on prose (Markdown text outside code blocks).
_CONTENT: dict[str, re.Pattern[str]] = {
    "description": re.compile(
        r"\b(?:this|the|our) (?:\w+[- ]+){0,4}?"
        r"(?:model|checkpoint|repository|repo|version|network|pipeline|agent|adapter|lora)"
        r" (?:is|was|has been|uses|performs|can|predicts|classifies|generates|detects|translates|represents"
        r"|implements)\b"
        r"|\bis an? (?:\w+[- ]+){0,4}?"
        r"(?:version|model|checkpoint|variant|adaptation|port|implementation|replica|copy)\b"
        r"|\b(?:fine[- ]?tuned|pre[- ]?trained|trained) (?:version|model|checkpoint) of\b"
        r"|\bmodel (?:for|that|which|to) \w+"
        r"|\b(?:these|this) (?:are|is) (?:the )?(?:\w+[- ]+){0,4}?(?:weights|models|checkpoints|adapters|files)\b"
        r"|\b(?:is )?an? (?:merge|mix|blend) of\b"
        r"|\b(?:weights?|checkpoints?|conversion|quanti[sz]ations?|port) (?:of|for) (?:the |a |an )?\S"
        r"|\b(?:fine[- ]?tuned|pre[- ]?trained) models? for\b"
        r"|\b(?:model|weights) (?:was |were )?(?:trained|fine[- ]?tuned|finetuned) (?:by|on|with|using|from)\b"
        r"|\bproblem type:|\b(?:fine[- ]?tuned|finetuned|pre[- ]?trained) (?:\w+ ){0,2}?on\b",
    ),
    # only used under a combined heading ("Intended uses & limitations")
    "limitations": re.compile(
        r"\blimit(?:ation|ed)s?\b|\bbias(?:es|ed)?\b|\bshould not be used\b|\bnot (?:be )?(?:intended|suitable)\b"
        r"|\bout[- ]of[- ]scope\b|\bhallucinat|\bmay (?:produce|generate|contain|output|reflect)\b"
        r"|\b(?:may|might|does|will) not (?:work|perform|generali[sz]e|be (?:accurate|reliable|suitable|appropriate))\b"
        r"|\bcaveats?\b|\bnot (?:perform|work) well\b|\bfails? (?:to|on|when)\b|\bharmful\b|\btoxic|\boffensive\b",
    ),
    "how_to_use": re.compile(
        r"\byou can use (?:this|the|it)\b|\bto use (?:this|the) model\b|\bcan be used (?:for|to|with|as)\b"
        r"|\bhow to use\b|\bintended (?:to be used|use)\b|\bused for (?:\w+ ){0,3}\w+ing\b",
    ),
    # no leading \b below: a pattern that starts with a character class lets the
    # regex engine skip ahead fast (3x faster on real cards); phrases are substrings
    "training": re.compile(
        r"training (?:data|set|procedure|details|corpus|hyperparameters)\b"
        r"|learning[_ ]rate\s*[:=|]|batch[_ ]size\s*[:=|]|num_(?:train_)?epochs\s*[:=|]",
    ),
    "evaluation": re.compile(
        r"(?:accuracy|f1|wer|cer|bleu|rouge[-\w]*|perplexity|exact match|precision|recall|map|auc)\b"
        r"\s*(?:[:=|><~]|of|score)\s*\**\s*\d"
        r"|(?:achieves|obtains|reaches|attains?|scores?) (?:\w+ ){0,4}?(?:an? )?(?:accuracy|f1|wer|bleu|score)\b"
        r"|\|\s*(?:accuracy|f1|wer|cer|bleu|rouge[-\w]*)\s*\|",
    ),
}
# Phrases found by plain substring search (lower-cased prose), before any regex.
_PHRASES: dict[str, tuple[str, ...]] = {
    "training": ("hyperparameters were used during training",),
    "evaluation": (
        "achieves the following results",
        "evaluation results",
    ),
}

# Cheap substring tests on the lower-cased prose: the regex runs only when one occurs.
_KEYWORDS: dict[str, tuple[str, ...]] = {
    "description": (
        "model",
        "checkpoint",
        "repo",
        "version",
        "network",
        "pipeline",
        "agent",
        "adapter",
        "lora",
        "weights",
        "merge",
        "mix",
        "blend",
        "conversion",
        "quanti",
        "weight",
        "represents",
        "implements",
        "trained",
        "tuned",
        "problem type",
        "files",
        "variant",
        "port",
    ),
    "how_to_use": ("use", "used"),
    "training": ("train", "learning", "batch", "epoch"),
    "evaluation": (
        "result",
        "evaluat",
        "accuracy",
        "f1",
        "wer",
        "cer",
        "bleu",
        "rouge",
        "perplexity",
        "exact match",
        "precision",
        "recall",
        "map",
        "auc",
        "score",
        "loss",
        "obtain",
        "reach",
        "achiev",
    ),
}

_CODE_USE = re.compile(
    r"\bfrom_pretrained\s*\(|\bpipeline\s*\(|\bpip install\b|\bimport (?:torch|transformers|tensorflow)\b"
    r"|\bfrom (?:transformers|diffusers|sentence_transformers|huggingface_hub|flair|speechbrain|espnet\w*|allennlp"
    r"|fairseq|simpletransformers|setfit|peft|span_marker|gliner|keras|tensorflow) import\b"
    r"|\bload_from_hub\b|\bSentenceTransformer\s*\(|\.generate\s*\(|\bmodel\s*\(|\bcurl\b|\bllama\.cpp\b|\./main\b"
    r"|\bmlagents-|\bpython -m\b",
)
_MODEL_INDEX_RESULTS = re.compile(r"^\s*-?\s*(?:value|metrics):", re.M)
_MIN_DESC_WORDS = 8
# Content checks read the first 20,000 characters of prose: the items they look for
# come early, and the cost per card stays bounded on very long cards.
_MAX_CONTENT_CHARS = 20_000


class RulesScorer:
    """Headings + synonyms + content checks; placeholders count as absent."""

    name = "rules"

    @property
    def key(self) -> str:
        return f"rules-v{VERSION}"

    def score(self, text: str | None) -> CardScore:
        if text is None:
            return CardScore.empty("no card")
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        card = parse_card(text)
        if (
            not card.front_matter
            and len(card.sections) == 1
            and not card.sections[0].body.strip()
            and not card.sections[0].code.strip()
        ):
            return CardScore.empty("empty card")
        if looks_binary(text if isinstance(text, str) else ""):
            return CardScore.empty("binary-looking card")
        return score_parsed(card)

    def score_many(self, texts: Sequence[str | None]) -> list[CardScore]:
        return [self.score(t) for t in texts]


@lru_cache(maxsize=65536)
def heading_sections(key: str) -> tuple[str, ...]:
    """The items a normalised heading names (headings repeat a lot: cached)."""
    hits = []
    for name in SECTIONS:
        if name == "limitations":
            if is_limitations_heading(key):
                hits.append(name)
            continue
        neg = _NOT_HEADINGS.get(name)
        if neg is not None and neg.search(key):
            continue
        if _HEADINGS[name].search(key):
            hits.append(name)
    return tuple(hits)


_MIN_TITLE_WORDS = 4
_TEMPLATE_TITLES = frozenset({"model trained using autotrain"})  # AutoTrain's card title names no model


def _descriptive_title(card: ParsedCard) -> str | None:
    """A top-level heading that says what the model is ("T5-base paraphrasing model fine-tuned on PAWS")."""
    for sec in card.sections:
        if sec.level in (1, 2) and len(sec.key.split()) >= _MIN_TITLE_WORDS and sec.key not in _TEMPLATE_TITLES:
            title = " ".join(sec.heading.split())
            if _CONTENT["description"].search(title.lower()):
                return title
    return None


def is_limitations_heading(key: str) -> bool:
    """A short heading made only of limitation words and connectors (see ``_LIMIT_TERMS``)."""
    words = key.split()
    if not words or len(words) > _MAX_LIMIT_HEADING_WORDS:
        return False
    named = _LIMIT_PHRASES.search(key) is not None or any(w in _LIMIT_TERMS for w in words)
    return named and all(w in _LIMIT_TERMS or w in _LIMIT_CONNECT or w.isdigit() for w in words)


def _first_sentence(match: re.Match[str] | tuple[int, int], text: str) -> str:
    m_start, m_end = match if isinstance(match, tuple) else match.span()
    start = max(0, text.rfind("\n", 0, m_start) + 1)
    end = text.find("\n", m_end)
    end = len(text) if end < 0 else end
    frag = text[start:end].strip()
    if len(frag) > 160:
        lo = max(0, m_start - start - 60)
        frag = frag[lo : lo + 160].strip()
    return frag


def score_parsed(card: ParsedCard) -> CardScore:
    found: dict[str, str] = {}
    secs = card.sections
    # 1. headings
    for i, sec in enumerate(secs):
        key = sec.key
        if not key or sec.level == 0:
            continue
        hits = [h for h in heading_sections(key) if h not in found or h == "how_to_use"]
        if not hits:
            continue
        if "description" in hits and is_placeholder(sec.body):
            hits.remove("description")  # a title over other sections is not a description
            if not hits:
                continue
        body = card.subtree_text(i)
        code = card.subtree_code(i)
        if is_placeholder(body) and is_placeholder_code(code):
            continue
        if "limitations" in hits and "how_to_use" in hits and not _CONTENT["limitations"].search(body.lower()):
            hits.remove("limitations")  # "Intended uses & limitations" that only says how to use
        for name in hits:
            found.setdefault(name, f"heading: {sec.heading.strip()[:120]}")
    if len(found) == len(SECTIONS):
        return CardScore.from_flags(dict.fromkeys(found, True), found)
    # 2. content checks over the prose, template sentences and placeholder lines removed
    prose = strip_boilerplate(card.prose[:_MAX_CONTENT_CHARS])
    low = prose.lower()
    for name in SECTIONS:
        if name in found or name == "limitations":  # limitations: headings only (see docs/cards.md)
            continue
        span = None
        for phrase in _PHRASES.get(name, ()):
            at = low.find(phrase)
            if at >= 0:
                span = (at, at + len(phrase))
                break
        if span is None and any(k in low for k in _KEYWORDS[name]):
            m = _CONTENT[name].search(low)
            span = m.span() if m else None
        if span and (name != "description" or len(low.split(None, _MIN_DESC_WORDS)) > _MIN_DESC_WORDS):
            found[name] = "text: " + _first_sentence(span, prose)
            continue
        if name == "description":
            title = _descriptive_title(card)
            if title:
                found[name] = f"heading: {title[:120]}"
        elif name == "how_to_use":
            code = card.code[:_MAX_CONTENT_CHARS]
            mc = _CODE_USE.search(code) if code else None
            if mc:
                found[name] = "code: " + _first_sentence(mc, code)
        elif (
            name == "evaluation"
            and card.front_matter
            and "model-index" in card.front_matter
            and _MODEL_INDEX_RESULTS.search(card.front_matter)
        ):
            found[name] = "front matter: model-index results"
    return CardScore.from_flags(dict.fromkeys(found, True), found)
