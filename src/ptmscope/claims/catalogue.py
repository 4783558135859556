"""The claims catalogue: a review's consolidated claims (the paper's Table 3), the
claims it chose to quantify (Table 4) and what ptmscope measures for them.

A catalogue is made of TOML files of three kinds (``kind = ...``):

* ``review`` — the output of a systematic review (the shipped ``claims.toml`` is
  the ESEM'24 paper's, built by ``ptmscope review build`` from the worked example):
  source, review flow counts, Table 1/2/3/4 as data, references, inconsistencies;
* ``extension`` — ptmscope's own claims and tests beyond the paper
  (``extensions.toml``), kept apart and never numbered like the paper's;
* ``user`` — a researcher's own claims, each with its metrics and verdict rules,
  merged with the review without touching its counts.

Files are parsed into pydantic models (:mod:`ptmscope.validation`): a defect is
one line naming the file, the line and the key.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from ..errors import InputError
from ..validation import StrictModel, read_toml, read_toml_text, validate_data
from .rules_model import RuleModel

__all__ = [
    "BASIS_KINDS",
    "Catalogue",
    "CatalogueClaim",
    "CatalogueHypothesis",
    "basis_kinds",
    "default_catalogue_path",
    "default_extensions_path",
    "load_catalogue",
    "printed_basis",
    "read_toml",
]

#: The review's five kinds of claim basis (§4.2), in the order Table 3 prints them.
BASIS_KINDS: tuple[str, ...] = (
    "small-scale measurement",
    "large-scale measurement",
    "survey",
    "interviews",
    "case study",
)
_BASIS_LABEL = {
    "small-scale measurement": "Small-Scale Measurement",
    "large-scale measurement": "Large-Scale Measurement",
    "survey": "Survey",
    "interviews": "Interviews",
    "case study": "Case Study",
}
SCHEMA_VERSION = 2
_ID = r"^[A-Za-z][A-Za-z0-9_.\-]*$"
# ids the paper's tables use; an extension or a user may not take them
_PAPER_LIKE = re.compile(r"^(T\d+\.\d+|C\d+|H\d+)$")


def basis_kinds(printed: Iterable[str]) -> tuple[str, ...]:
    """Printed basis items -> basis kinds ("Small-Scale and Large-Scale Measurement" names two)."""
    out: list[str] = []
    for item in printed:
        s = " ".join(item.lower().split())
        m = re.fullmatch(r"(small|large)-scale and (small|large)-scale measurements?", s)
        if m:
            kinds = [f"{m.group(1)}-scale measurement", f"{m.group(2)}-scale measurement"]
        else:
            s = re.sub(r"measurements$", "measurement", s)
            s = {"interview": "interviews", "surveys": "survey", "case studies": "case study"}.get(s, s)
            if s not in BASIS_KINDS:
                allowed = ", ".join(_BASIS_LABEL.values())
                raise ValueError(f"unknown basis {item!r}; allowed: {allowed} (or 'Small-Scale and Large-Scale ...')")
            kinds = [s]
        out.extend(k for k in kinds if k not in out)
    return tuple(k for k in BASIS_KINDS if k in out)


def printed_basis(kinds: Iterable[str]) -> tuple[str, ...]:
    """Basis kinds -> the items Table 3 prints (small and large scale together as one item)."""
    ks = [k for k in BASIS_KINDS if k in set(kinds)]
    if "small-scale measurement" in ks and "large-scale measurement" in ks:
        rest = [_BASIS_LABEL[k] for k in ks if not k.endswith("measurement")]
        return ("Small-Scale and Large-Scale Measurement", *rest)
    return tuple(_BASIS_LABEL[k] for k in ks)


# ---------------------------------------------------------------------------
# File models
# ---------------------------------------------------------------------------


class Reference(StrictModel):
    """One bibliographic entry (for the paper: its reference list entry, by number)."""

    id: str = Field(min_length=1)
    authors: list[str] = Field(default_factory=list)
    year: int | None = None
    title: str = Field(min_length=1)
    venue: str | None = None
    doi: str | None = None
    arxiv: str | None = None
    url: str | None = None


class Source(StrictModel):
    """Who made the claims: the reviewed publication, ptmscope, or a user."""

    id: str = Field(pattern=_ID)
    label: str = Field(min_length=1)
    title: str | None = None
    authors: list[str] = Field(default_factory=list)
    venue: str | None = None
    year: int | None = None
    doi: str | None = None
    arxiv: str | None = None
    artifact: str | None = None
    note: str | None = None


class ReviewFlow(StrictModel):
    """The review's counts (Figure 4)."""

    papers_found: int = Field(ge=0)
    papers_after_dedup: int = Field(ge=0)
    papers_included: int = Field(ge=0)
    claims_discussed: int = Field(ge=0)
    claims_kept: int = Field(ge=0)
    claims_motivation: int = Field(ge=0)
    claims_work: int = Field(ge=0)
    claims_consolidated: int = Field(ge=0)
    claims_marked: int = Field(ge=0, description="consolidated claims marked † (no large-scale quantification)")
    records: Literal["public", "not public"] = "public"
    note: str | None = None

    @model_validator(mode="after")
    def _shrinks(self) -> ReviewFlow:
        if not self.papers_found >= self.papers_after_dedup >= self.papers_included:
            raise ValueError("papers must shrink: found >= after_dedup >= included")
        if not self.claims_discussed >= self.claims_kept:
            raise ValueError("claims must shrink: discussed >= kept")
        if self.claims_motivation + self.claims_work != self.claims_kept:
            raise ValueError("claims_motivation + claims_work must equal claims_kept")
        if self.claims_marked > self.claims_consolidated:
            raise ValueError("claims_marked cannot exceed claims_consolidated")
        return self


class Claim(StrictModel):
    """One claim as a catalogue file holds it."""

    id: str = Field(pattern=_ID)
    theme: str = Field(min_length=1)
    text: str = Field(min_length=1)
    basis: list[str] = Field(default_factory=list)
    works: list[str] = Field(default_factory=list)
    dagger: int | None = Field(default=None, ge=1)
    metrics: list[str] = Field(default_factory=list)
    not_measurable: str | None = None
    note: str | None = None

    @field_validator("basis")
    @classmethod
    def _basis(cls, v: list[str]) -> list[str]:
        basis_kinds(v)
        return v

    @model_validator(mode="after")
    def _measured_or_why(self) -> Claim:
        if not self.metrics and not (self.not_measurable and self.not_measurable.strip()):
            raise ValueError("a claim no metric tests must say why in not_measurable")
        if self.dagger is not None and "large-scale measurement" in basis_kinds(self.basis):
            raise ValueError("† marks a claim without large-scale quantification, but its basis has one")
        return self


class Table4Claim(StrictModel):
    """A claim the review chose to quantify (Table 4's C1..C4), linked to its Table 3 row."""

    id: str = Field(pattern=_ID)
    claim: str
    text: str = Field(min_length=1)


class Hypothesis(StrictModel):
    """One Table 4 metric row: metric (with its reference) and hypothesised result."""

    id: str = Field(pattern=_ID)
    table4: str
    metric_text: str = Field(min_length=1)
    hypothesis: str = Field(min_length=1)
    references: list[str] = Field(default_factory=list)
    paper_measured: bool
    metrics: list[str] = Field(default_factory=list)


class TraditionalMetric(StrictModel):
    """A Table 1 row: a metric of traditional registries."""

    metric: str
    description: str
    registries: list[str]
    works: list[str]


class CategoryExample(StrictModel):
    quote: str
    work: str


class ClaimCategory(StrictModel):
    """A Table 2 row: claim category, definition and example quotes."""

    key: str = Field(pattern=_ID)
    name: str
    definition: str
    examples: list[CategoryExample] = Field(default_factory=list)


class Statement(StrictModel):
    where: str
    quote: str


class Inconsistency(StrictModel):
    """Where the source contradicts itself; recorded, not resolved."""

    id: str = Field(pattern=_ID)
    topic: str
    statements: list[Statement] = Field(min_length=2)
    catalogue: str
    claims: list[str] = Field(default_factory=list)


class ReviewCatalogueFile(StrictModel):
    """A ``kind = "review"`` catalogue file."""

    schema_version: Literal[2]
    kind: Literal["review"]
    source: Source
    themes: list[str] = Field(min_length=1)
    review_flow: ReviewFlow
    claims: list[Claim]
    table4: list[Table4Claim] = Field(default_factory=list)
    hypotheses: list[Hypothesis] = Field(default_factory=list)
    table1: list[TraditionalMetric] = Field(default_factory=list)
    categories: list[ClaimCategory] = Field(default_factory=list)
    inconsistencies: list[Inconsistency] = Field(default_factory=list)
    references: list[Reference] = Field(default_factory=list)
    generated_by: str | None = None


class Test(StrictModel):
    """An extension's or a user's own hypothesis about a claim (any catalogue's)."""

    id: str = Field(pattern=_ID)
    claim: str
    hypothesis: str = Field(min_length=1)
    metrics: list[str] = Field(min_length=1)


class AddendumFile(StrictModel):
    """A ``kind = "extension"`` or ``kind = "user"`` catalogue file."""

    schema_version: Literal[2]
    kind: Literal["extension", "user"]
    source: Source
    extends: str | None = None
    claims: list[Claim] = Field(default_factory=list)
    tests: list[Test] = Field(default_factory=list)
    references: list[Reference] = Field(default_factory=list)
    metrics: dict[str, str] = Field(default_factory=dict)
    rules: list[RuleModel] = Field(default_factory=list)


# ---------------------------------------------------------------------------
# The merged catalogue
# ---------------------------------------------------------------------------

Origin = Literal["paper", "extension", "user"]


@dataclass(frozen=True)
class CatalogueClaim:
    id: str
    origin: str
    source: str
    theme: str
    text: str
    basis: tuple[str, ...]
    works: tuple[str, ...]
    dagger: int | None
    metrics: tuple[str, ...]
    not_measurable: str | None
    note: str | None = None
    table4: str | None = None

    @property
    def basis_kinds(self) -> tuple[str, ...]:
        return basis_kinds(self.basis)

    @property
    def large_scale(self) -> bool:
        return "large-scale measurement" in self.basis_kinds

    @property
    def extra(self) -> bool:
        return self.origin != "paper"

    def to_dict(self, references: dict[str, Reference] | None = None) -> dict[str, Any]:
        refs = references or {}
        return {
            "id": self.id,
            "origin": self.origin,
            "source": self.source,
            "theme": self.theme,
            "text": self.text,
            "basis": list(self.basis),
            "basis_kinds": list(self.basis_kinds),
            "large_scale": self.large_scale,
            "works": [_work_dict(w, refs) for w in self.works],
            "dagger": self.dagger,
            "table4": self.table4,
            "metrics": list(self.metrics),
            "not_measurable": self.not_measurable,
            "note": self.note,
        }


def _work_dict(wid: str, refs: dict[str, Reference]) -> dict[str, Any]:
    r = refs.get(wid)
    return {"id": wid} if r is None else r.model_dump(exclude_none=True)


@dataclass(frozen=True)
class CatalogueHypothesis:
    id: str
    origin: str
    claim: str
    hypothesis: str
    metrics: tuple[str, ...]
    table4: str | None = None
    metric_text: str | None = None
    references: tuple[str, ...] = ()
    paper_measured: bool | None = None

    @property
    def metric(self) -> str | None:
        return self.metrics[0] if self.metrics else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "origin": self.origin,
            "claim": self.claim,
            "table4": self.table4,
            "metric_text": self.metric_text,
            "references": list(self.references),
            "hypothesis": self.hypothesis,
            "paper_measured": self.paper_measured,
            "metrics": list(self.metrics),
        }


@dataclass(frozen=True)
class CatalogueFile:
    name: str
    kind: str
    source: str
    sha256: str


@dataclass(frozen=True)
class Catalogue:
    review: ReviewCatalogueFile
    claims: tuple[CatalogueClaim, ...]
    hypotheses: tuple[CatalogueHypothesis, ...]
    references: dict[str, Reference]
    files: tuple[CatalogueFile, ...]
    sources: dict[str, Source] = field(default_factory=dict)
    metrics: dict[str, dict[str, str]] = field(default_factory=dict)
    user_rules: tuple[tuple[str, RuleModel], ...] = ()  # (file, rule)

    @property
    def path(self) -> str:
        return self.files[0].name

    @property
    def paper(self) -> dict[str, Any]:
        return self.review.source.model_dump(exclude_none=True)

    @property
    def review_flow(self) -> dict[str, Any]:
        return self.review.review_flow.model_dump(exclude_none=True)

    @property
    def paper_claims(self) -> tuple[CatalogueClaim, ...]:
        return tuple(c for c in self.claims if c.origin == "paper")

    def claim(self, claim_id: str) -> CatalogueClaim:
        for c in self.claims:
            if c.id == claim_id:
                return c
        raise KeyError(claim_id)

    def claims_for_metric(self, metric: str) -> list[CatalogueClaim]:
        return [c for c in self.claims if metric in c.metrics]

    def metric_names(self) -> set[str]:
        """Every metric name the catalogue refers to."""
        return {m for c in self.claims for m in c.metrics} | {m for h in self.hypotheses for m in h.metrics}

    def digest(self) -> dict[str, Any]:
        """What the report records about its catalogue files."""
        h = hashlib.sha256("".join(f.sha256 for f in self.files).encode()).hexdigest()
        return {
            "file": " + ".join(f.name for f in self.files),
            "sha256": self.files[0].sha256 if len(self.files) == 1 else h,
            "files": [{"file": f.name, "kind": f.kind, "source": f.source, "sha256": f.sha256} for f in self.files],
        }

    def to_dict(self) -> dict[str, Any]:
        r = self.review
        return {
            "paper": self.paper,
            "sources": {k: v.model_dump(exclude_none=True) for k, v in sorted(self.sources.items())},
            "themes": list(r.themes),
            "review_flow": self.review_flow,
            "claims": [c.to_dict(self.references) for c in self.claims],
            "table4": [t.model_dump() for t in r.table4],
            "hypotheses": [h.to_dict() for h in self.hypotheses],
            "table1": [t.model_dump() for t in r.table1],
            "categories": [c.model_dump() for c in r.categories],
            "inconsistencies": [i.model_dump() for i in r.inconsistencies],
            "references": [x.model_dump(exclude_none=True) for x in self.references.values()],
            "metrics": {k: dict(v) for k, v in sorted(self.metrics.items())},
            "files": self.digest()["files"],
        }


def default_catalogue_path() -> Path:
    return Path(str(resources.files("ptmscope.claims").joinpath("claims.toml")))


def default_extensions_path() -> Path:
    return Path(str(resources.files("ptmscope.claims").joinpath("extensions.toml")))


def _check_metrics(names: Iterable[str], known: set[str] | None, path: Path, what: str, line: int | None) -> None:
    if known is None:
        return
    bad = sorted(set(names) - known)
    if bad:
        from ..validation import did_you_mean

        raise InputError(path, f"{what}: unknown metric {bad[0]!r}{did_you_mean(bad[0], sorted(known))}", line=line)


def _line(text: str, *loc: str | int) -> int | None:
    from ..validation import line_of

    return line_of(text, loc)


def check_review(
    review: ReviewCatalogueFile, path: Path, text: str = "", known_metrics: set[str] | None = None
) -> None:
    """Cross-reference checks of a review catalogue (ids, links, counts)."""
    refs = {r.id for r in review.references}
    if len(refs) != len(review.references):
        dup = _first_dup(r.id for r in review.references)
        raise InputError(path, f"[[references]]: duplicate id {dup!r}")
    ids = [c.id for c in review.claims]
    if len(set(ids)) != len(ids):
        dup = _first_dup(ids)
        raise InputError(path, f"[[claims]]: duplicate claim id {dup!r}", line=_line(text, "claims", ids.index(dup)))
    flow = review.review_flow
    if len(ids) != flow.claims_consolidated:
        raise InputError(path, f"[[claims]]: {len(ids)} claims but review_flow says {flow.claims_consolidated}")
    marked = [c.dagger for c in review.claims if c.dagger is not None]
    if len(marked) != flow.claims_marked:
        raise InputError(path, f"[[claims]]: {len(marked)} claims marked † but review_flow says {flow.claims_marked}")
    if len(set(marked)) != len(marked):
        raise InputError(path, f"[[claims]]: † number {_first_dup(marked)} used twice")
    for i, c in enumerate(review.claims):
        if c.theme not in review.themes:
            raise InputError(
                path,
                f"[[claims]] #{i + 1} ({c.id}): theme {c.theme!r} is not one of the review's themes",
                line=_line(text, "claims", i, "theme"),
            )
        missing = [w for w in c.works if w not in refs]
        if missing:
            raise InputError(
                path,
                f"[[claims]] #{i + 1} ({c.id}): work {missing[0]!r} is not in [[references]]",
                line=_line(text, "claims", i, "works"),
            )
        _check_metrics(c.metrics, known_metrics, path, f"[[claims]] #{i + 1} ({c.id})", _line(text, "claims", i))
    t4 = {}
    for i, t in enumerate(review.table4):
        if t.claim not in ids:
            raise InputError(
                path, f"[[table4]] #{i + 1} ({t.id}): unknown claim {t.claim!r}", line=_line(text, "table4", i)
            )
        if t.id in t4:
            raise InputError(path, f"[[table4]] #{i + 1}: duplicate id {t.id!r}", line=_line(text, "table4", i))
        t4[t.id] = t
    hids: set[str] = set()
    for i, h in enumerate(review.hypotheses):
        where = f"[[hypotheses]] #{i + 1} ({h.id})"
        if h.id in hids:
            raise InputError(path, f"{where}: duplicate id", line=_line(text, "hypotheses", i))
        hids.add(h.id)
        if h.table4 not in t4:
            raise InputError(path, f"{where}: unknown table4 claim {h.table4!r}", line=_line(text, "hypotheses", i))
        _refs_known(h.references, refs, path, where)
        _check_metrics(h.metrics, known_metrics, path, where, _line(text, "hypotheses", i))
    for i, row in enumerate(review.table1):
        _refs_known(row.works, refs, path, f"[[table1]] #{i + 1}")
    for i, cat in enumerate(review.categories):
        _refs_known([e.work for e in cat.examples], refs, path, f"[[categories]] #{i + 1}")
    for i, inc in enumerate(review.inconsistencies):
        bad = [c for c in inc.claims if c not in ids]
        if bad:
            raise InputError(path, f"[[inconsistencies]] #{i + 1} ({inc.id}): unknown claim {bad[0]!r}")


def _refs_known(works: Iterable[str], refs: set[str], path: Path, where: str) -> None:
    missing = [w for w in works if w not in refs]
    if missing:
        raise InputError(path, f"{where}: work {missing[0]!r} is not in [[references]]")


def _first_dup(xs: Iterable[Any]) -> Any:
    seen: set[Any] = set()
    for x in xs:
        if x in seen:
            return x
        seen.add(x)
    return None


def _read(path: Path) -> tuple[dict[str, Any], str, str]:
    data, text = read_toml_text(path, "claims catalogue (TOML file)")
    return data, text, hashlib.sha256(text.encode("utf-8")).hexdigest()


def _kind(data: dict[str, Any], path: Path, text: str) -> str:
    kind = data.get("kind")
    if data.get("schema_version") == 1 and kind is None:
        raise InputError(path, "schema_version 1 catalogues are no longer read; see docs/claims.md for version 2")
    if kind not in ("review", "extension", "user"):
        raise InputError(path, f"kind: expected one of review, extension, user, got {kind!r}", line=_line(text, "kind"))
    return str(kind)


def parse_review(
    data: dict[str, Any], path: Path, text: str = "", known_metrics: set[str] | None = None
) -> ReviewCatalogueFile:
    review = validate_data(ReviewCatalogueFile, data, path, text)
    check_review(review, path, text, known_metrics)
    return review


def load_catalogue(
    extra_paths: str | Path | Sequence[str | Path] | None = (),
    *,
    known_metrics: set[str] | None = None,
    extensions: bool = True,
) -> Catalogue:
    """The shipped review catalogue and ptmscope's extensions, merged with ``extra_paths``.

    A file of kind ``review`` replaces the shipped review (at most one); files of
    kind ``user`` add their claims, tests and rules.  ptmscope's extensions are
    added when they extend the review in use (their ``extends`` names its source).
    ``known_metrics``, when given, is the set of metric names a claim, test or rule may use.
    """
    if extra_paths is None:
        paths: list[Path] = []
    elif isinstance(extra_paths, (str, Path)):
        paths = [Path(extra_paths)]
    else:
        paths = [Path(p) for p in extra_paths]
    review_path = default_catalogue_path()
    review_data = None
    addenda: list[tuple[Path, dict[str, Any], str, str]] = []
    for p in paths:
        data, text, sha = _read(p)
        kind = _kind(data, p, text)
        if kind == "review":
            if review_data is not None:
                raise InputError(p, f"a second review catalogue (the first is {review_path}); give at most one")
            review_path, review_data = p, (data, text, sha)
        else:
            addenda.append((p, data, text, sha))
    if review_data is None:
        data, text, sha = _read(review_path)
        if _kind(data, review_path, text) != "review":
            raise InputError(review_path, 'the base catalogue must have kind = "review"')
        review_data = (data, text, sha)
    data, text, sha = review_data
    review = parse_review(data, review_path, text, known_metrics)
    if extensions:
        ep = default_extensions_path()
        ed, et, es = _read(ep)
        if ed.get("extends") == review.source.id:
            addenda.insert(0, (ep, ed, et, es))
    return _merge(review, review_path, sha, addenda, known_metrics)


def _merge(
    review: ReviewCatalogueFile,
    review_path: Path,
    review_sha: str,
    addenda: list[tuple[Path, dict[str, Any], str, str]],
    known_metrics: set[str] | None,
) -> Catalogue:
    t4_by_claim = {t.claim: t.id for t in review.table4}
    src = review.source
    claims = [
        CatalogueClaim(
            id=c.id,
            origin="paper",
            source=src.id,
            theme=c.theme,
            text=c.text,
            basis=tuple(c.basis),
            works=tuple(c.works),
            dagger=c.dagger,
            metrics=tuple(c.metrics),
            not_measurable=c.not_measurable,
            note=c.note,
            table4=t4_by_claim.get(c.id),
        )
        for c in review.claims
    ]
    t4 = {t.id: t for t in review.table4}
    hyps = [
        CatalogueHypothesis(
            id=h.id,
            origin="paper",
            claim=t4[h.table4].claim,
            hypothesis=h.hypothesis,
            metrics=tuple(h.metrics),
            table4=h.table4,
            metric_text=h.metric_text,
            references=tuple(h.references),
            paper_measured=h.paper_measured,
        )
        for h in review.hypotheses
    ]
    refs = {r.id: r for r in review.references}
    files = [CatalogueFile(review_path.name, "review", src.id, review_sha)]
    sources = {src.id: src}
    metrics: dict[str, dict[str, str]] = {}
    rules: list[tuple[str, RuleModel]] = []
    for p, data, text, sha in addenda:
        add = validate_data(AddendumFile, data, p, text)
        origin = add.kind
        if add.source.id in sources:
            raise InputError(
                p,
                f"source id {add.source.id!r} is already used by another catalogue file",
                line=_line(text, "source", "id"),
            )
        if add.extends is not None and add.extends != src.id:
            raise InputError(
                p, f"extends {add.extends!r}, but the review in use is {src.id!r}", line=_line(text, "extends")
            )
        sources[add.source.id] = add.source
        files.append(CatalogueFile(p.name, origin, add.source.id, sha))
        local_refs = {r.id: r for r in add.references}
        known_ids = {c.id for c in claims}
        for i, c in enumerate(add.claims):
            where = f"[[claims]] #{i + 1} ({c.id})"
            if _PAPER_LIKE.match(c.id):
                raise InputError(
                    p,
                    f"{where}: ids like T3.1, C1, H1 are the paper's; choose another id",
                    line=_line(text, "claims", i, "id"),
                )
            if c.id in known_ids:
                raise InputError(p, f"{where}: claim id already used", line=_line(text, "claims", i, "id"))
            if c.dagger is not None:
                raise InputError(
                    p,
                    f"{where}: only the review's own claims carry a † number",
                    line=_line(text, "claims", i, "dagger"),
                )
            missing = [w for w in c.works if w not in local_refs]
            if missing:
                raise InputError(
                    p,
                    f"{where}: work {missing[0]!r} is not in this file's [[references]]",
                    line=_line(text, "claims", i, "works"),
                )
            _check_metrics(c.metrics, known_metrics, p, where, _line(text, "claims", i))
            known_ids.add(c.id)
            claims.append(
                CatalogueClaim(
                    id=c.id,
                    origin=origin,
                    source=add.source.id,
                    theme=c.theme,
                    text=c.text,
                    basis=tuple(c.basis),
                    works=tuple(f"{add.source.id}:{w}" for w in c.works),
                    dagger=None,
                    metrics=tuple(c.metrics),
                    not_measurable=c.not_measurable,
                    note=c.note,
                )
            )
        for w, r in local_refs.items():
            refs[f"{add.source.id}:{w}"] = r.model_copy(update={"id": f"{add.source.id}:{w}"})
        hids = {h.id for h in hyps}
        for i, t in enumerate(add.tests):
            where = f"[[tests]] #{i + 1} ({t.id})"
            if _PAPER_LIKE.match(t.id) or t.id in hids:
                raise InputError(
                    p, f"{where}: id already used or reserved for the paper", line=_line(text, "tests", i, "id")
                )
            if t.claim not in known_ids:
                raise InputError(p, f"{where}: unknown claim {t.claim!r}", line=_line(text, "tests", i, "claim"))
            _check_metrics(t.metrics, known_metrics, p, where, _line(text, "tests", i))
            hids.add(t.id)
            hyps.append(
                CatalogueHypothesis(
                    id=t.id, origin=origin, claim=t.claim, hypothesis=t.hypothesis, metrics=tuple(t.metrics)
                )
            )
        for name, desc in add.metrics.items():
            metrics[name] = {"name": desc, "source": add.source.id}
        for i, rule in enumerate(add.rules):
            where = f"[[rules]] #{i + 1} ({rule.id})"
            if rule.claim not in known_ids:
                raise InputError(p, f"{where}: unknown claim {rule.claim!r}", line=_line(text, "rules", i, "claim"))
            _check_metrics([rule.metric], known_metrics, p, where, _line(text, "rules", i))
            rules.append((str(p), rule))
    return Catalogue(
        review=review,
        claims=tuple(claims),
        hypotheses=tuple(hyps),
        references=refs,
        files=tuple(files),
        sources=sources,
        metrics=metrics,
        user_rules=tuple(rules),
    )
