"""Card parsing helpers: front matter, code fences, headings, placeholders.

A model card is Markdown with optional YAML front matter.  We never render
it and never evaluate it: this module only splits text.  Everything here is
plain string work with precompiled regexes, so the rules scorer stays fast
(thousands of cards per second on one core).

Hostile input is expected: ``None``, empty strings, binary-looking bytes,
HTML/script, megabyte-sized cards.  :func:`clean_text` bounds the size
(``MAX_CARD_CHARS``) and drops NUL/control characters before anything else
looks at the text.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache

#: Cards longer than this are cut (the largest real 2022 card is ~400 kB;
#: nothing past the first megabyte changes which sections a card has).
MAX_CARD_CHARS = 1_000_000

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_FRONT_MATTER = re.compile(r"\A\ufeff?\s*---[ \t]*\r?\n(.*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S)
_HTML_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.S)
_SCRIPT_STYLE = re.compile(r"<(script|style)\b.*?(?:</\1\s*>|\Z)", re.S | re.I)
_TAG = re.compile(r"</?[A-Za-z][^<>]{0,500}>")
_WORDS = re.compile(r"[a-z0-9]+")
_LINK_TARGET = re.compile(r"\]\([^)\s]*\)")

_PLACEHOLDER_PHRASES = (
    "more information needed",
    "more info needed",
    "needs more information",
    "more information to come",
    "information needed",
    "to be added",
    "to be updated",
    "to be completed",
    "will be added",
    "will be updated",
    "coming soon",
    "tbd",
    "tba",
    "todo",
    "wip",
    "work in progress",
    "n a",
    "na",
    "none",
    "optional",
    "more information",
    "add more information",
    "provide more information",
    "under construction",
    "placeholder",
)
_PLACEHOLDER_SET = frozenset(_PLACEHOLDER_PHRASES)
# "More information needed", "More information on training data needed", "needs more information"
_MORE_INFO = re.compile(
    r"\b(?:more (?:information|info|details?) (?:on |about |is |are )?(?:[a-z]+ ){0,4}?needed"
    r"|needs more information)\b"
)
# "Content will come later" markers; on normalised words (lower case, punctuation dropped)
_LATER = re.compile(
    r"\b(?:coming soon|todo|tbd|tba|wip|work in progress|under construction"
    r"|to be (?:added|updated|completed|announced|released|done)"
    r"|will (?:be )?(?:add|update|release|upload|publish|complete)\w*(?: (?:it|them|this|the \w+))? (?:soon|later))\b"
)


def text_sha256(text: str | None) -> str | None:
    """sha256 of the UTF-8 text (the key scores are stored and cached under)."""
    if text is None:
        return None
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def clean_text(text: object) -> str:
    """A bounded, printable version of ``text`` ('' for None/non-text)."""
    if text is None:
        return ""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    if not isinstance(text, str):
        return ""
    if len(text) > MAX_CARD_CHARS:
        text = text[:MAX_CARD_CHARS]
    if _CONTROL.search(text):
        text = _CONTROL.sub(" ", text)
    return text


_NON_TEXT = re.compile(r"[\ufffd\x00-\x08\x0e-\x1f]")


def looks_binary(text: str) -> bool:
    """True when over 10% of the first 4 kB are replacement or control characters."""
    if not text:
        return False
    sample = text[:4096]
    return len(_NON_TEXT.findall(sample)) > 0.1 * len(sample)


def split_front_matter(text: str) -> tuple[str, str]:
    """(YAML front matter text, Markdown body). Front matter is never parsed here."""
    m = _FRONT_MATTER.match(text)
    if not m:
        return "", text
    return m.group(1), text[m.end() :]


def strip_markup(text: str) -> str:
    """Remove HTML comments, script/style blocks and tags (text of tags stays)."""
    if "<" not in text:
        return text
    text = _HTML_COMMENT.sub(" ", text)
    text = _SCRIPT_STYLE.sub(" ", text)
    return _TAG.sub(" ", text)


@lru_cache(maxsize=65536)
def normalise_heading(heading: str) -> str:
    """Lower-case words only: '## 🚀 How to use:' -> 'how to use'."""
    return " ".join(_WORDS.findall(heading.lower()))


# Sentences that model-card templates put in when the author wrote nothing, so they say nothing
# about the model: the Hub's template (huggingface_hub ``modelcard_template.md``), the 2022 model-card
# creator template it grew from (its default "Bias, Risks, and Limitations" and "Out-of-Scope Use"
# texts and the content warning), the first Hugging Face model-card template (2020: "Provide examples
# of latent issues and potential remediations."), the Trainer's card, the diffusers training scripts'
# card, AutoTrain's card and the "pushed on the Hub" stub.
_BOILERPLATE = re.compile(
    r"use the code below to get started with the model\.?"
    r"|provide examples of latent issues and potential remediations\.?"
    r"|describe the data you used to train the model\.?"
    r"|if you initialized it with pre-trained weights, add a link to the pre-trained model card or repository with"
    r" description of the pre-training data\.?"
    r"|preprocessing, hardware used, hyperparameters\.*"
    r"|provide some evaluation results\.?"
    r"|you can embed local or remote images using `!\[\]\(\.\.\.\)`"
    r"|the model description provides basic details about the model\. this includes the architecture, version, if it"
    r" was introduced in a paper, if an original implementation is available, the author, and general information"
    r" about the model\. any copyright should be attributed here\. general information about training procedures,"
    r" parameters, and important disclaimers can also be mentioned in this section\.?"
    r"|users (?:\(both direct and downstream\) )?should be made aware of the risks, biases and limitations of the"
    r" (?:model|dataset)\.(?: more information needed for further recomm?endations\.)?"
    r"|this is the model card of a [^\n]{0,40}model that has been pushed on the hub\. "
    r"this model card has been automatically generated\.?"
    r"|carbon emissions can be estimated using the \[machine learning impact calculator\]\([^)\n]*\) presented in"
    r" \[lacoste et al\. \(2019\)\]\([^)\n]*\)\.?"
    r"|significant research has explored bias and fairness issues with language models"
    r" \(see,? e\.g\.,? [^\n]{0,300}?bender et al[^\n]{0,120}?\)\)\.?"
    r"|predictions generated by the model may include disturbing and harmful stereotypes across protected classes;"
    r" identity characteristics; and sensitive, social, and occupational groups\.?"
    r"|[*_]{0,2}content warning:?[*_]{0,2} readers should be aware [^\n]{0,120}?content that is disturbing,"
    r" offensive, and can propagate historical and current stereotypes\.?[*_]{0,2}"
    r"|the model should not be used to intentionally create hostile or alienating environments for people\.?"
    r"|weights for this model are available in \w+ format\."
    r"(?:\s*\[download\]\([^)\n]*\) them in the files & versions tab\.)?"
    r"|this model was trained using autotrain\.(?: for more information, please visit \[autotrain\]\([^)\n]*\)\.?)?",
    re.I,
)
_FIELD_LABEL = re.compile(r"^[ \t]*(?:[-*+][ \t]+)?(?:\*\*|__)?(?:bibtex|apa)(?:\*\*|__)?:?(?:\*\*|__)?:?[ \t]*$", re.I)


def _is_empty_field(line: str) -> bool:
    """'- **Model type:** [More Information Needed]' or a bare '[More Information Needed]'."""
    idx = line.find("more information needed")
    prefix, suffix = line[:idx], line[idx + len("more information needed") :]
    if suffix.strip(" \t[]().*_:-") not in ("", "for further recommendations"):
        return False
    words = prefix.strip(" \t[]*_-+")
    return not words or (words.rstrip(" *_").endswith(":") and len(words.split()) <= 8)


def _has_boilerplate_hint(low: str) -> bool:
    # plain substring tests: far faster than one regex alternation over the whole text
    return (
        "use the code below" in low
        or "should be made aware" in low
        or "pushed on the hub" in low
        or "carbon emissions" in low
        or "latent issues" in low
        or "describe the data you used" in low
        or "initialized it with pre-trained" in low
        or "hardware used" in low
        or "provide some evaluation" in low
        or "embed local or remote" in low
        or "provides basic details" in low
        or "significant research" in low
        or "predictions generated" in low
        or "content warning" in low
        or "hostile or alienating" in low
        or "using autotrain" in low
        or "weights for this model" in low
    )


def strip_boilerplate(body: str) -> str:
    """Remove template sentences, "**Field:** [More Information Needed]" lines and BibTeX/APA labels."""
    low = body.lower()
    later = "tbd" in low or "todo" in low or "tba" in low or "soon" in low or "later" in low
    if "more information" in low or "bibtex" in low or "apa" in low or later:
        kept = []
        for line in body.split("\n"):
            ll = line.lower()
            if (
                later
                and len(ll) < 100
                and ("tbd" in ll or "todo" in ll or "tba" in ll or "soon" in ll or "later" in ll)
                and _LATER.search(" ".join(_WORDS.findall(ll)))
            ):
                continue  # "Intended Use TBD", "Results: coming soon"
            if "more information" in ll:
                if "more information needed" in ll and _is_empty_field(ll):
                    continue  # a template field left empty
                if not _MORE_INFO.sub(" ", " ".join(_WORDS.findall(ll))).strip():
                    continue  # "More information on training data needed"
            if ("bibtex" in ll or "apa" in ll) and _FIELD_LABEL.match(line):
                continue
            kept.append(line)
        body = "\n".join(kept)
        low = body.lower()
    if _has_boilerplate_hint(low):
        body = _BOILERPLATE.sub(" ", body)
    return body


def is_placeholder(body: str) -> bool:
    """True when ``body`` has no content beyond a placeholder.

    Empty text, "More information needed", "[More Information Needed]", "TBD",
    "Coming soon" ... and the Hub template's bracketed guidance such as
    "[optional]" all count as placeholders.
    """
    text = strip_boilerplate(strip_markup(body))
    if "](" in text:  # "[More Information Needed](https://...contributing...)": the link text counts, not its target
        text = _LINK_TARGET.sub("]", text)
    # the longest placeholder phrase has a few dozen letters: look at the start only
    words = " ".join(_WORDS.findall(text[:400].lower() if len(text) > 400 else text.lower()))
    if len(words) > 200:
        return False
    if not words:
        return True
    if words in _PLACEHOLDER_SET:
        return True
    # a short note that the content will come later ("Coming soon! We will update the benchmarks", "TODO: add table")
    if len(words) < 120 and _LATER.search(words):
        return True
    # several placeholder lines ("More information needed" under each sub-item)
    return len(words) < 200 and not _MORE_INFO.sub(" ", words).strip()


_CODE_COMMENT = re.compile(r"^\s*(?:#|//|--|;|%|<!--)")


def is_placeholder_code(code: str) -> bool:
    """True when code blocks hold nothing but comments ("# TODO: add an example code snippet ...")."""
    return all(not line.strip() or _CODE_COMMENT.match(line) for line in code.split("\n"))


@dataclass(frozen=True)
class Section:
    """A heading and its text up to the next heading of any level."""

    heading: str  # as written (markup removed); '' for text before the first heading
    level: int  # 1..6; 0 for the preamble; 7 for bold-line pseudo headings
    key: str  # normalise_heading(heading)
    body: str  # prose of this section only, code blocks removed
    code: str  # code blocks of this section
    line: int  # 1-based line of the heading in the Markdown body


@dataclass(frozen=True)
class ParsedCard:
    front_matter: str
    sections: tuple[Section, ...]

    def subtree_text(self, index: int) -> str:
        """Prose of section ``index`` and of its subsections (deeper levels)."""
        sec = self.sections[index]
        parts = [sec.body]
        for nxt in self.sections[index + 1 :]:
            if 0 < nxt.level <= sec.level:
                break
            parts.append(nxt.body)
        return "\n".join(parts)

    def subtree_code(self, index: int) -> str:
        sec = self.sections[index]
        parts = [sec.code]
        for nxt in self.sections[index + 1 :]:
            if 0 < nxt.level <= sec.level:
                break
            parts.append(nxt.code)
        return "\n".join(parts)

    @property
    def prose(self) -> str:
        return "\n".join(s.body for s in self.sections)

    @property
    def code(self) -> str:
        return "\n".join(s.code for s in self.sections)


# One pass over the text finds every line that can matter: fences, ATX
# headings, setext underlines and bold-only lines.  Everything else is prose.
# The leading literal newline lets the regex engine jump from line to line
# (the text is scanned with "\n" prepended), several times faster than ^ with re.M.
_STRUCTURE = re.compile(
    r"\n[ \t]{0,3}(?:"
    r"(?P<fence>```+|~~~+)[^\n]*"
    r"|(?P<atx>#{1,6})(?:[ \t]+(?P<atxt>[^\n]*?))?[ \t#]*"
    r"|(?P<setext>=+|-+)[ \t]*"
    r"|(?:\*\*|__)(?P<bold>[^*_\n]{2,80}?)(?:\*\*|__)[ \t]*:?[ \t]*"
    r")$",
    re.M,
)


def parse_card(text: object) -> ParsedCard:
    """Split a card into front matter and sections (code fences respected)."""
    raw = clean_text(text)
    front, body = split_front_matter(raw)
    if "<" in body:
        body = _HTML_COMMENT.sub("\n", body)
        body = _SCRIPT_STYLE.sub("\n", body)
    body = "\n" + body
    sections: list[Section] = []
    heading, level, start_pos = "", 0, 0
    prose: list[str] = []
    code: list[str] = []
    pos = 0  # start of the text not yet assigned
    fence: str | None = None
    fence_start = 0

    counted = [0, 0]  # (position, line number there): lines are counted incrementally (leading "\n" is line 0)

    def close(end: int) -> None:
        h = _TAG.sub(" ", heading).strip() if "<" in heading else heading.strip()
        counted[1] += body.count("\n", counted[0], start_pos)
        counted[0] = start_pos
        sections.append(Section(h, level, normalise_heading(h), "".join(prose), "".join(code), max(1, counted[1])))

    for m in _STRUCTURE.finditer(body):
        f = m.group("fence")
        if fence is not None:
            if f is not None and f[0] == fence[0] and len(f) >= len(fence) and m.group(0).strip() == f:
                code.append(body[fence_start : m.start()])
                pos = m.end()
                fence = None
            continue
        if f is not None:
            prose.append(body[pos : m.start()])
            fence, fence_start = f, m.end()
            continue
        if m.group("atx") is not None:
            prose.append(body[pos : m.start()])
            close(m.start())
            heading, level, start_pos = m.group("atxt") or "", len(m.group("atx")), m.start() + 1
            prose, code, pos = [], [], m.end()
            continue
        if m.group("setext") is not None:
            # the previous line, if it is plain prose, is the heading
            line_start = body.rfind("\n", 0, m.start()) + 1
            prev = body[line_start : m.start()]
            if line_start < pos or not prev.strip() or prev.lstrip()[:1] in ("-", "*", "|", ">", "+"):
                continue
            if m.group("setext")[0] == "-" and len(m.group("setext")) < 2:
                continue
            prose.append(body[pos:line_start])
            close(line_start)
            heading, level, start_pos = prev, 1 if m.group("setext")[0] == "=" else 2, line_start
            prose, code, pos = [], [], m.end()
            continue
        if m.group("bold") is not None:
            prose.append(body[pos : m.start()])
            close(m.start())
            heading, level, start_pos = m.group("bold"), 7, m.start() + 1
            prose, code, pos = [], [], m.end()
            continue
    if fence is not None:  # unclosed fence: the rest is code
        code.append(body[fence_start:])
    else:
        prose.append(body[pos:])
    close(len(body))
    return ParsedCard(front, tuple(sections))
