"""Lineage: who was derived from whom, extracted from metadata and resolved to ids.

Extraction (pure functions on one model's metadata, no store access):

* :func:`refs_from_card_data` -- the card's YAML ``base_model`` (a string or a
  list), relation from ``base_model_relation`` when the card says it;
  origin ``card_yaml``.
* :func:`refs_from_tags` -- Hub tags ``base_model:<relation>:<id>`` and
  ``base_model:<id>`` (the latter only when no relation tag names the same id);
  origin ``base_model_tag``.
* :func:`refs_from_card_text` -- the sentence the ``transformers`` Trainer
  writes into generated cards, "This model is a fine-tuned version of
  [X](https://huggingface.co/X)"; relation ``finetune``, origin ``card_text``.
* :func:`front_matter` -- the YAML front matter of a card, parsed with
  ``yaml.safe_load`` only (card text is hostile input); a key repeated in one
  mapping keeps its first value, as in every importer.

Resolution (:class:`Resolver`) maps a reference as written to a package id of
the *same snapshot*: it strips ``https://huggingface.co/``, ``hf.co/`` and
``/tree/...``-style suffixes, follows the alias table (renamed repos, in both
directions) and matches case-insensitively.  A reference that names no package
of the snapshot stays in the table with ``parent_id`` null, so unresolved
references are counted rather than lost.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import yaml

from .schema import RELATIONS

# Hub relation words as they appear in ``base_model:<relation>:<id>`` tags and
# in the card field ``base_model_relation``; mapped onto our Relation literal.
_RELATION_WORDS = {
    "finetune": "finetune",
    "fine-tune": "finetune",
    "finetuned": "finetune",
    "adapter": "adapter",
    "lora": "adapter",
    "quantized": "quantized",
    "quantization": "quantized",
    "merge": "merge",
    "merged": "merge",
}

_BaseSafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _SafeLoader(_BaseSafeLoader):  # type: ignore[misc,valid-type]
    """``yaml.safe_load`` where a key repeated in one mapping keeps its FIRST value (the rule of every importer).

    PyYAML keeps the last silently.  Merge keys (``<<``) keep YAML's meaning:
    the mapping's own keys override merged ones.
    """

    def construct_mapping(self, node: yaml.Node, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, yaml.MappingNode):
            seen: set[tuple[str, str]] = set()
            own = []
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
                    if (key.tag, key.value) in seen:
                        continue
                    seen.add((key.tag, key.value))
                own.append((key, value))
            node.value = own
        return super().construct_mapping(node, deep=deep)


_MAX_FRONT_MATTER = 256 * 1024  # bigger front matter is not a model card header
_FRONT = re.compile(r"\A\ufeff?---[ \t]*\r?\n(.*?)(?:\r?\n)(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S)
_FRONT_EMPTY = re.compile(r"\A\ufeff?---[ \t]*\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)")
_TRAINER = re.compile(r"fine-tuned version of \[([^\]\n]{1,300})\]\(([^)\s]{0,500})\)", re.I)
_HUB_URL = re.compile(r"^(?:https?://)?(?:www\.)?(?:huggingface\.co|hf\.co)/", re.I)
_URL_SUFFIX = re.compile(r"/(?:tree|blob|resolve|raw|commit|discussions)(?:/.*)?$")


def relation_of(word: str | None) -> str:
    """Map a relation word of the Hub onto :data:`ptmscope.schema.Relation`."""
    if not word:
        return "unknown"
    return _RELATION_WORDS.get(str(word).strip().lower(), "unknown")


@dataclass(frozen=True)
class LineageRef:
    """One parent reference of one child, before resolution."""

    parent_ref: str
    relation: str  # Relation
    origin: str  # LineageOrigin


def front_matter_text(text: str | None) -> str | None:
    """The raw YAML between the leading ``---`` lines of a card, or None."""
    if not text or not text.lstrip("\ufeff").startswith("---"):
        return None
    if _FRONT_EMPTY.match(text):
        return None
    m = _FRONT.match(text[: _MAX_FRONT_MATTER + 16])
    return m.group(1) if m else None


def front_matter(text: str | None) -> dict[str, Any] | None:
    """The YAML front matter of a card as a dict, or None when absent or invalid."""
    return parse_yaml_mapping(front_matter_text(text))


def lineage_front_matter(text: str | None) -> dict[str, Any] | None:
    """Like :func:`front_matter`, but skips the YAML parse when no ``base_model`` key can be in it."""
    fm = front_matter_text(text)
    if fm is None or "base_model" not in fm:
        return None
    return parse_yaml_mapping(fm)


def parse_yaml_mapping(text: str | None) -> dict[str, Any] | None:
    """``yaml.safe_load`` of a mapping (a repeated key keeps its first value); None when not a YAML mapping."""
    if not text:
        return None
    try:
        data = yaml.load(text, Loader=_SafeLoader)
    except (yaml.YAMLError, RecursionError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _as_ref_list(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return []
    out = []
    for v in value:
        if isinstance(v, str) and v.strip():
            out.append(v.strip())
    return out


def refs_from_card_data(card_data: Mapping[str, Any] | None, tags: Iterable[str] = ()) -> list[LineageRef]:
    """``base_model`` of the card metadata.

    The relation comes from ``base_model_relation`` when present, else from a
    ``base_model:<relation>:<same id>`` tag, else ``unknown``.
    """
    if not card_data:
        return []
    refs = _as_ref_list(card_data.get("base_model"))
    if not refs:
        return []
    declared = card_data.get("base_model_relation")
    tag_rel = {r.parent_ref.lower(): r.relation for r in refs_from_tags(tags) if r.relation != "unknown"}
    out = []
    for ref in refs:
        rel = relation_of(declared) if isinstance(declared, str) else tag_rel.get(ref.lower(), "unknown")
        out.append(LineageRef(ref, rel, "card_yaml"))
    return out


def refs_from_tags(tags: Iterable[str] | None) -> list[LineageRef]:
    """``base_model:<relation>:<id>`` and bare ``base_model:<id>`` tags."""
    with_rel: list[LineageRef] = []
    bare: list[str] = []
    for tag in tags or ():
        if not isinstance(tag, str) or not tag.startswith("base_model:"):
            continue
        rest = tag[len("base_model:") :]
        head, sep, tail = rest.partition(":")
        if sep and head.lower() in _RELATION_WORDS and tail.strip():
            with_rel.append(LineageRef(tail.strip(), relation_of(head), "base_model_tag"))
        elif rest.strip():
            bare.append(rest.strip())
    named = {r.parent_ref.lower() for r in with_rel}
    out = list(with_rel)
    for ref in bare:
        if ref.lower() not in named:
            named.add(ref.lower())
            out.append(LineageRef(ref, "unknown", "base_model_tag"))
    return out


def refs_from_card_text(text: str | None) -> list[LineageRef]:
    """The Trainer's "fine-tuned version of [X](url)" sentence (first one only).

    The reference is the link target when it points at the Hub, else the link
    text (the Trainer writes a local path there when it had no Hub id).
    """
    if not text or "fine-tuned version of" not in text.lower():
        return []
    m = _TRAINER.search(text)
    if not m:
        return []
    label, url = m.group(1).strip(), m.group(2).strip()
    ref = url if url and _HUB_URL.match(url) else label
    if not ref:
        return []
    return [LineageRef(ref, "finetune", "card_text")]


def dedupe(refs: Iterable[LineageRef]) -> list[LineageRef]:
    """Drop repeats of the same (origin, reference) -- case-insensitively."""
    seen: set[tuple[str, str]] = set()
    out = []
    for r in refs:
        key = (r.origin, r.parent_ref.lower())
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out


def clean_ref(ref: str) -> str:
    """A reference reduced to the shape of a Hub id (``owner/name`` or ``name``).

    Strips Hub URLs (``https://huggingface.co/``, ``hf.co/``), ``models/``,
    ``/tree/main``-style suffixes, trailing slashes and ``.git``; a doubled slash
    after the Hub prefix in front of an ``owner/name`` id.
    """
    s = ref.strip().strip("<>\"'` ")
    stripped = _HUB_URL.sub("", s)
    if stripped != s and stripped.startswith("/") and stripped.strip("/").count("/") == 1:
        # "https://huggingface.co//org/model" (a doubled slash in cards): an owner/name id;
        # a local path behind the prefix ("//home/user/run") has more parts and stays as it is
        stripped = stripped.lstrip("/")
    s = stripped
    if s.startswith("models/"):
        s = s[len("models/") :]
    s = s.split("?", 1)[0].split("#", 1)[0]
    s = _URL_SUFFIX.sub("", s)
    s = s.rstrip("/")
    if s.endswith(".git"):
        s = s[:-4]
    return s


class Resolver:
    """Resolve parent references against the package ids of one snapshot.

    ``aliases`` maps old ids to new ones (``bert-base-uncased`` ->
    ``google-bert/bert-base-uncased``); it is used in both directions, so a
    2022 snapshot (old names) resolves a reference to the new name and vice
    versa.  Matching is case-insensitive; when two ids of the snapshot differ
    only by case, the exact spelling wins and otherwise the reference stays
    unresolved.
    """

    def __init__(self, package_ids: Iterable[str], aliases: Mapping[str, str] | None = None) -> None:
        self.ids = set(package_ids)
        self.aliases = {k.lower(): v for k, v in (aliases or {}).items()}
        reverse: dict[str, list[str]] = {}
        for old, new in (aliases or {}).items():
            reverse.setdefault(new.lower(), []).append(old)
        self._lower: dict[str, str | None] = {}
        for pid in self.ids:
            keys = {pid.lower()}
            canon = self.aliases.get(pid.lower())
            if canon:
                keys.add(canon.lower())
            for k in keys:
                prev = self._lower.get(k, "")
                if prev == "":
                    self._lower[k] = pid
                elif prev != pid:
                    self._lower[k] = None  # ambiguous by case
        self._reverse = reverse

    def resolve(self, ref: str | None) -> str | None:
        if not ref:
            return None
        if ref in self.ids:
            return ref
        s = clean_ref(ref)
        if not s:
            return None
        if s in self.ids:
            return s
        candidates = [s]
        canon = self.aliases.get(s.lower())
        if canon:
            candidates.append(canon)
        candidates.extend(self._reverse.get(s.lower(), ()))
        for c in candidates:
            if c in self.ids:
                return c
        for c in candidates:
            hit = self._lower.get(c.lower())
            if hit:
                return hit
        return None


def lineage_table(
    children: list[str],
    refs: list[LineageRef],
    snapshot_id: str,
    resolver: Resolver,
) -> pa.Table:
    """Arrow table of canonical ``lineage`` rows for parallel lists of child ids and refs."""
    from .schema import to_table

    for r in refs:
        if r.relation not in RELATIONS:  # programming error, never data
            raise ValueError(f"unknown relation {r.relation!r}")
    return to_table(
        "lineage",
        {
            "child": children,
            "parent_ref": [r.parent_ref for r in refs],
            "parent_id": [resolver.resolve(r.parent_ref) for r in refs],
            "relation": [r.relation for r in refs],
            "origin": [r.origin for r in refs],
        },
        snapshot_id,
    )


def resolve_lineage(table: pa.Table, package_ids: Iterable[str], aliases: Mapping[str, str] | None = None) -> pa.Table:
    """Re-resolve ``parent_ref`` of a lineage table against ``package_ids``.

    For callers that collect lineage page by page (the crawler) and resolve
    once the snapshot's ids are all known.
    """
    resolver = Resolver(package_ids, aliases)
    refs = table.column("parent_ref").to_pylist()
    resolved = pa.array([resolver.resolve(r) for r in refs], pa.string())
    idx = table.schema.get_field_index("parent_id")
    return table.set_column(idx, "parent_id", resolved)
