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

#: Cards longer than this are cut (the largest real 2022 card is ~400 kB;
#: nothing past the first megabyte changes which sections a card has).
MAX_CARD_CHARS = 1_000_000

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_FRONT_MATTER = re.compile(r"\A\ufeff?\s*---[ \t]*\r?\n(.*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S)
_HTML_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.S)
_SCRIPT_STYLE = re.compile(r"<(script|style)\b.*?(?:</\1\s*>|\Z)", re.S | re.I)
_TAG = re.compile(r"</?[A-Za-z][^<>]{0,500}>")
_FENCE = re.compile(r"^[ \t]{0,3}(```+|~~~+)")
_ATX = re.compile(r"^[ \t]{0,3}(#{1,6})(?:[ \t]+|$)(.*?)[ \t#]*$")
_SETEXT = re.compile(r"^[ \t]{0,3}(=+|-+)[ \t]*$")
# A line that is only bold text is used as a heading in many cards ("**Usage**").
_BOLD_HEADING = re.compile(r"^[ \t]{0,3}(?:\*\*|__)([^*_\n]{2,80}?)(?:\*\*|__)[ \t]*:?[ \t]*$")
_WORDS = re.compile(r"[a-z0-9]+")

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


def looks_binary(text: str) -> bool:
    """True when a large share of the text is replacement or non-printing characters."""
    if not text:
        return False
    sample = text[:4096]
    bad = sample.count("\ufffd") + sum(1 for ch in sample if ord(ch) < 32 and ch not in "\n\r\t")
    return bad > 0.1 * len(sample)


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


def normalise_heading(heading: str) -> str:
    """Lower-case words only: '## 🚀 How to use:' -> 'how to use'."""
    return " ".join(_WORDS.findall(heading.lower()))


# Sentences of the Hub's model-card template (huggingface_hub ``modelcard_template.md``)
# and the Trainer's card that carry no information about the model.
_BOILERPLATE = re.compile(
    r"use the code below to get started with the model\.?"
    r"|users \(both direct and downstream\) should be made aware of the risks, biases and limitations of the model\."
    r"(?: more information needed for further recommendations\.)?"
    r"|this is the model card of a .{0,40}model that has been pushed on the hub\. this model card has been automatically generated\.?"
    r"|carbon emissions can be estimated using the \[machine learning impact calculator\]\([^)]*\) presented in \[lacoste et al\. \(2019\)\]\([^)]*\)\.?"
    r"|^\s*[-*]?\s*(?:\*\*|__)?[^\n:*]{1,60}(?:\*\*|__)?\s*:?\s*(?:\*\*|__)?:?\s*\[?more information needed\]?\.?\s*$"
    r"|^\s*(?:\*\*|__)(?:bibtex|apa)(?:\*\*|__)?:?(?:\*\*|__)?\s*$",
    re.I | re.M,
)


def strip_boilerplate(body: str) -> str:
    """Remove template sentences and "**Field:** [More Information Needed]" lines."""
    low = body.lower()
    if "more information needed" not in low and "use the code below" not in low and "users (both" not in low \
            and "pushed on the hub" not in low and "carbon emissions" not in low and "bibtex" not in low and "apa" not in low:
        return body
    return _BOILERPLATE.sub(" ", body)


def is_placeholder(body: str) -> bool:
    """True when ``body`` has no content beyond a placeholder.

    Empty text, "More information needed", "[More Information Needed]", "TBD",
    "Coming soon" ... and the Hub template's bracketed guidance such as
    "[optional]" all count as placeholders.
    """
    words = " ".join(_WORDS.findall(strip_boilerplate(strip_markup(body)).lower()))
    if not words:
        return True
    if words in _PLACEHOLDER_SET:
        return True
    # several placeholder lines ("More information needed" under each sub-item)
    if len(words) < 200:
        rest = words
        for phrase in ("more information needed", "more info needed", "needs more information"):
            rest = rest.replace(phrase, " ")
        if not rest.strip():
            return True
    return False


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


def parse_card(text: object) -> ParsedCard:
    """Split a card into front matter and sections (code fences respected)."""
    raw = clean_text(text)
    front, body = split_front_matter(raw)
    if "<" in body:
        body = _HTML_COMMENT.sub("\n", body)
        body = _SCRIPT_STYLE.sub("\n", body)
    lines = body.splitlines()
    sections: list[Section] = []
    heading, level, start = "", 0, 1
    prose: list[str] = []
    code: list[str] = []
    fence: str | None = None
    prev_line = ""

    def close() -> None:
        h = _TAG.sub(" ", heading).strip() if "<" in heading else heading.strip()
        sections.append(Section(h, level, normalise_heading(h), "\n".join(prose), "\n".join(code), start))

    for i, line in enumerate(lines, 1):
        if fence is not None:
            if line.lstrip().startswith(fence):
                fence = None
            else:
                code.append(line)
            continue
        fm = _FENCE.match(line)
        if fm:
            fence = fm.group(1)[:3]
            continue
        if line[:1] == "#" or line[:4].lstrip()[:1] == "#":
            m = _ATX.match(line)
            if m:
                close()
                heading, level, start = m.group(2), len(m.group(1)), i
                prose, code = [], []
                prev_line = ""
                continue
        elif prev_line.strip() and line[:1] in "=-" and _SETEXT.match(line) and not prev_line.lstrip().startswith(("-", "*", "|")):
            # setext heading: the previous prose line becomes the heading
            if prose:
                prose.pop()
            close()
            heading, level, start = prev_line, 1 if line.strip()[0] == "=" else 2, i - 1
            prose, code = [], []
            prev_line = ""
            continue
        elif line[:2] in ("**", "__") or line[:5].lstrip()[:2] in ("**", "__"):
            m = _BOLD_HEADING.match(line)
            if m:
                close()
                heading, level, start = m.group(1), 7, i
                prose, code = [], []
                prev_line = ""
                continue
        prose.append(line)
        prev_line = line
    close()
    # bold pseudo headings nest under the closest real heading
    return ParsedCard(front, tuple(sections))
