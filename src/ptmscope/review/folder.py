"""A review folder: read every file, check it, and compute what the paper reports by hand.

Files (all plain text, diff-friendly):

* ``review.toml`` — protocol: source, themes, criteria, claim categories, queries, 10% rule;
* the search exports each ``[[queries]]`` names (BibTeX, RIS or CSV);
* ``dedup.toml`` (optional) — a reviewer's corrections of the de-duplication;
* ``screening.csv`` — ``paper,reviewer,decision,criteria,note``;
* ``resolutions.csv`` (optional) — ``paper,decision,criteria,note``: final decisions of conflicts;
* ``extraction.csv`` — ``id,paper,quote,location,category,status,reason,consolidated``;
* ``consolidated.toml`` — the consolidated claims (theme, text, evidence or basis, works, †);
* ``validation.toml`` (optional) — Table 4/Table 1 analogues and the metric of each claim;
* ``references.toml`` (optional) — bibliographic entries cited by id.

:func:`open_review` never raises on a defect of the folder: it collects every
problem (file, line, message) so ``ptmscope review check`` can list them all.
"""

from __future__ import annotations

import contextlib
import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from ..claims.catalogue import basis_kinds, printed_basis
from ..errors import InputError
from ..validation import line_of, load_toml_model
from .models import (
    ConsolidatedClaim,
    ConsolidatedFile,
    DedupFile,
    ReferencesFile,
    ReviewFile,
    ValidationFile,
)
from .search import DedupResult, Paper, Record, deduplicate, read_records

M = TypeVar("M", bound=BaseModel)

SCREENING_COLUMNS = ("paper", "reviewer", "decision", "criteria", "note")
RESOLUTION_COLUMNS = ("paper", "decision", "criteria", "note")
EXTRACTION_COLUMNS = ("id", "paper", "quote", "location", "category", "status", "reason", "consolidated")


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        return f"{self.file}{f':{self.line}' if self.line else ''}: {self.message}"


@dataclass(frozen=True)
class Decision:
    paper: str
    reviewer: str
    decision: str
    criteria: tuple[str, ...]
    note: str
    line: int


@dataclass(frozen=True)
class Extracted:
    id: str
    paper: str
    quote: str
    location: str
    category: str
    status: str
    reason: str
    consolidated: str
    line: int


@dataclass
class ConsolidatedView:
    """A consolidated claim with what the review computes for it."""

    claim: ConsolidatedClaim
    kinds: tuple[str, ...]
    basis: tuple[str, ...]
    works: tuple[str, ...]
    dagger: int | None
    lacks_large_scale: bool


@dataclass
class Review:
    folder: Path
    problems: list[Problem] = field(default_factory=list)
    review: ReviewFile | None = None
    records: list[Record] = field(default_factory=list)
    dedup: DedupResult | None = None
    decisions: list[Decision] = field(default_factory=list)
    resolutions: dict[str, Decision] = field(default_factory=dict)
    extraction: list[Extracted] = field(default_factory=list)
    consolidated: ConsolidatedFile | None = None
    validation: ValidationFile | None = None
    references: ReferencesFile | None = None
    views: list[ConsolidatedView] = field(default_factory=list)
    final: dict[str, str] = field(default_factory=dict)  # paper -> include/exclude
    conflicts: list[str] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)

    @property
    def synthetic(self) -> bool:
        return bool(self.review and self.review.synthetic)

    @property
    def has_records(self) -> bool:
        return bool(self.review and self.review.records == "folder")

    def problem(self, file: str, message: str, line: int | None = None) -> None:
        self.problems.append(Problem(file, line, message))

    @property
    def papers(self) -> dict[str, Paper]:
        return {p.id: p for p in (self.dedup.papers if self.dedup else [])}

    def raise_if_problems(self) -> None:
        if self.problems:
            more = len(self.problems) - 1
            first = self.problems[0]
            suffix = f" (and {more} more problem{'s' if more > 1 else ''}; run the review check)" if more else ""
            raise InputError(Path(self.folder) / first.file, first.message + suffix, line=first.line)

    def flow(self) -> dict[str, int]:
        """Figure 4's counts, computed from the records (or reported, when the records are not public)."""
        assert self.review is not None and self.consolidated is not None
        marked = sum(1 for v in self.views if v.dagger is not None)
        if not self.has_records:
            rf = self.review.reported_flow
            assert rf is not None
            base = rf.model_dump()
        else:
            kept = [e for e in self.extraction if e.status == "kept"]
            base = {
                "papers_found": len(self.records),
                "papers_after_dedup": len(self.dedup.papers) if self.dedup else 0,
                "papers_included": sum(1 for d in self.final.values() if d == "include"),
                "claims_discussed": len(self.extraction),
                "claims_kept": len(kept),
                "claims_motivation": sum(1 for e in kept if e.category == "motivation"),
                "claims_work": sum(1 for e in kept if e.category == "work"),
            }
        return {**base, "claims_consolidated": len(self.consolidated.claims), "claims_marked": marked}


def _toml(rv: Review, name: str, model: type[M], required: bool) -> M | None:
    p = rv.folder / name
    if not p.exists():
        if required:
            rv.problem(name, "missing (required)")
        return None
    with contextlib.suppress(OSError, UnicodeDecodeError):
        rv.texts[name] = p.read_text(encoding="utf-8")
    try:
        return load_toml_model(p, model, name)
    except InputError as exc:
        rv.problem(name, exc.message, exc.line)
        return None


def _csv(rv: Review, name: str, columns: tuple[str, ...], required: bool) -> list[tuple[int, dict[str, str]]] | None:
    p = rv.folder / name
    if not p.exists():
        if required:
            rv.problem(name, 'missing (required when records = "folder")')
        return None
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        rv.problem(name, "not UTF-8 text: not a CSV file")
        return None
    except OSError as exc:
        rv.problem(name, f"cannot read: {exc.strerror or exc}")
        return None
    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        rv.problem(name, f"empty: needs the header {','.join(columns)}", 1)
        return None
    except csv.Error as exc:
        rv.problem(name, f"malformed CSV: {exc}", 1)
        return None
    missing = [c for c in columns if c not in header and c not in ("note", "reason", "location")]
    unknown = [h for h in header if h not in columns]
    if missing or unknown:
        what = f"missing column {missing[0]!r}" if missing else f"unknown column {unknown[0]!r}"
        rv.problem(name, f"{what}; the header is {','.join(columns)}", 1)
        return None
    rows = []
    try:
        for row in reader:
            if not any(c.strip() for c in row):
                continue
            if len(row) != len(header):
                rv.problem(name, f"row has {len(row)} fields, the header {len(header)}", reader.line_num)
                continue
            rows.append((reader.line_num, {h: v.strip() for h, v in zip(header, row, strict=True)}))
    except csv.Error as exc:
        rv.problem(name, f"malformed CSV: {exc}", reader.line_num)
    return rows


def open_review(folder: str | Path) -> Review:
    """Read and check a review folder; problems are collected, not raised."""
    rv = Review(Path(folder))
    if not rv.folder.is_dir():
        raise InputError(rv.folder, "no such review folder" if not rv.folder.exists() else "not a folder")
    rv.review = _toml(rv, "review.toml", ReviewFile, True)
    rv.consolidated = _toml(rv, "consolidated.toml", ConsolidatedFile, True)
    rv.validation = _toml(rv, "validation.toml", ValidationFile, False)
    rv.references = _toml(rv, "references.toml", ReferencesFile, False)
    if rv.review is None:
        return rv
    r = rv.review
    _check_unique(rv, "review.toml", [c.id for c in r.criteria], "criteria", "criterion id")
    _check_unique(rv, "review.toml", [q.id for q in r.queries], "queries", "query id")
    if rv.has_records:
        _load_search(rv)
        _load_screening(rv)
        _load_extraction(rv)
    else:
        for name in ("screening.csv", "resolutions.csv", "extraction.csv", "dedup.toml"):
            if (rv.folder / name).exists():
                rv.problem(name, 'present, but review.toml says records = "not public"')
        if r.queries:
            rv.problem(
                "review.toml", 'queries are listed, but records = "not public"', _line(rv, "review.toml", "queries")
            )
    _consolidate(rv)
    _check_validation(rv)
    return rv


def _line(rv: Review, name: str, *loc: str | int) -> int | None:
    return line_of(rv.texts.get(name), loc)


def _check_unique(rv: Review, name: str, ids: list[str], table: str, what: str) -> None:
    seen: set[str] = set()
    for i, x in enumerate(ids):
        if x in seen:
            rv.problem(name, f"[[{table}]] #{i + 1}: duplicate {what} {x!r}", _line(rv, name, table, i))
        seen.add(x)


def _load_search(rv: Review) -> None:
    assert rv.review is not None
    if not rv.review.queries:
        rv.problem("review.toml", "no [[queries]]: a review with records needs its searches and their export files")
    for i, q in enumerate(rv.review.queries):
        p = rv.folder / q.file
        if not p.resolve().is_relative_to(rv.folder.resolve()):
            rv.problem(
                "review.toml",
                f"[[queries]] #{i + 1} ({q.id}): file must be inside the review folder",
                _line(rv, "review.toml", "queries", i, "file"),
            )
            continue
        try:
            rv.records.extend(read_records(p, q.id, q.format))
        except InputError as exc:
            rv.problem(q.file, exc.message, exc.line)
    overrides = _toml(rv, "dedup.toml", DedupFile, False)
    rids = {r.rid for r in rv.records}
    same: list[tuple[str, ...]] = []
    different: list[tuple[str, ...]] = []
    if overrides is not None:
        for table, groups, out in (("same", overrides.same, same), ("different", overrides.different, different)):
            for i, g in enumerate(groups):
                bad = [x for x in g.ids if x not in rids]
                if bad:
                    rv.problem(
                        "dedup.toml",
                        f"[[{table}]] #{i + 1}: no record {bad[0]!r} (ids are QUERY:KEY)",
                        _line(rv, "dedup.toml", table, i),
                    )
                else:
                    out.append(tuple(g.ids))
    d = rv.review.dedup
    rv.dedup = deduplicate(
        rv.records, title_threshold=d.title_threshold, same_year=d.same_year, same=same, different=different
    )


def _criteria(rv: Review, name: str, line: int, decision: str, raw: str) -> tuple[str, ...]:
    assert rv.review is not None
    kinds = {c.id: c.kind for c in rv.review.criteria}
    ids = tuple(x.strip() for x in raw.split(";") if x.strip())
    for x in ids:
        if x not in kinds:
            rv.problem(name, f"unknown criterion {x!r}; review.toml defines {', '.join(kinds)}", line)
    if decision == "exclude" and not any(kinds.get(x) == "exclusion" for x in ids):
        rv.problem(name, "an exclusion must name the exclusion criteria it applies (e.g. E1)", line)
    if decision == "include" and any(kinds.get(x) == "exclusion" for x in ids):
        rv.problem(name, "an inclusion names an exclusion criterion", line)
    return ids


def _load_screening(rv: Review) -> None:
    papers = rv.papers
    seen: dict[tuple[str, str], int] = {}
    for line, row in _csv(rv, "screening.csv", SCREENING_COLUMNS, True) or []:
        pid, who, dec = row["paper"], row["reviewer"], row["decision"].lower()
        if pid not in papers:
            rv.problem("screening.csv", f"no paper {pid!r} in the de-duplicated search results", line)
            continue
        if not who:
            rv.problem("screening.csv", "reviewer is empty", line)
            continue
        if dec not in ("include", "exclude"):
            rv.problem("screening.csv", f"decision must be include or exclude, got {row['decision']!r}", line)
            continue
        if (pid, who) in seen:
            rv.problem(
                "screening.csv", f"duplicate decision of {who} on {pid} (first on line {seen[(pid, who)]})", line
            )
            continue
        seen[(pid, who)] = line
        crit = _criteria(rv, "screening.csv", line, dec, row.get("criteria", ""))
        rv.decisions.append(Decision(pid, who, dec, crit, row.get("note", ""), line))
    for line, row in _csv(rv, "resolutions.csv", RESOLUTION_COLUMNS, False) or []:
        pid, dec = row["paper"], row["decision"].lower()
        if pid not in papers:
            rv.problem("resolutions.csv", f"no paper {pid!r} in the de-duplicated search results", line)
            continue
        if dec not in ("include", "exclude"):
            rv.problem("resolutions.csv", f"decision must be include or exclude, got {row['decision']!r}", line)
            continue
        if pid in rv.resolutions:
            rv.problem("resolutions.csv", f"duplicate resolution of {pid}", line)
            continue
        crit = _criteria(rv, "resolutions.csv", line, dec, row.get("criteria", ""))
        rv.resolutions[pid] = Decision(pid, "resolution", dec, crit, row.get("note", ""), line)
    by_paper: dict[str, set[str]] = {}
    for d in rv.decisions:
        by_paper.setdefault(d.paper, set()).add(d.decision)
    for pid in papers:
        if pid in rv.resolutions:
            rv.final[pid] = rv.resolutions[pid].decision
        elif pid in by_paper and len(by_paper[pid]) == 1:
            rv.final[pid] = next(iter(by_paper[pid]))
        elif pid in by_paper:
            rv.conflicts.append(pid)
    for pid in rv.conflicts:
        rv.problem("resolutions.csv", f"paper {pid}: reviewers disagree and no resolution is recorded")
    unscreened = [p for p in papers if p not in by_paper and p not in rv.resolutions]
    if unscreened:
        rv.problem(
            "screening.csv",
            f"{len(unscreened)} paper(s) have no decision: {', '.join(unscreened[:5])}"
            + (" ..." if len(unscreened) > 5 else ""),
        )


def _load_extraction(rv: Review) -> None:
    assert rv.review is not None
    papers = rv.papers
    categories = {c.key for c in rv.review.categories} or {"motivation", "work"}
    consolidated = {c.id for c in rv.consolidated.claims} if rv.consolidated else None
    seen: dict[str, int] = {}
    for line, row in _csv(rv, "extraction.csv", EXTRACTION_COLUMNS, True) or []:
        cid, pid = row["id"], row["paper"]
        if not cid:
            rv.problem("extraction.csv", "id is empty", line)
            continue
        if cid in seen:
            rv.problem("extraction.csv", f"duplicate claim id {cid!r} (first on line {seen[cid]})", line)
            continue
        seen[cid] = line
        if pid not in papers:
            rv.problem("extraction.csv", f"claim {cid}: no paper {pid!r} in the search results", line)
            continue
        if rv.final.get(pid) == "exclude":
            rv.problem("extraction.csv", f"claim {cid}: paper {pid} was excluded at screening", line)
        if not row["quote"]:
            rv.problem("extraction.csv", f"claim {cid}: quote is empty (extract the exact words)", line)
        if row["category"] not in categories:
            rv.problem(
                "extraction.csv",
                f"claim {cid}: category {row['category']!r} is not one of {', '.join(sorted(categories))}",
                line,
            )
        status = row["status"].lower()
        if status not in ("kept", "discarded"):
            rv.problem("extraction.csv", f"claim {cid}: status must be kept or discarded", line)
        if status == "discarded" and not row.get("reason"):
            rv.problem("extraction.csv", f"claim {cid}: a discarded claim needs a reason", line)
        cons = row["consolidated"]
        if cons and status != "kept":
            rv.problem("extraction.csv", f"claim {cid}: a discarded claim cannot belong to a consolidated claim", line)
        if cons and consolidated is not None and cons not in consolidated:
            rv.problem("extraction.csv", f"claim {cid}: no consolidated claim {cons!r} in consolidated.toml", line)
        rv.extraction.append(
            Extracted(
                cid,
                pid,
                row["quote"],
                row.get("location", ""),
                row["category"],
                status,
                row.get("reason", ""),
                cons,
                line,
            )
        )


def _consolidate(rv: Review) -> None:
    if rv.review is None or rv.consolidated is None:
        return
    r = rv.review
    share = r.population_rule.large_scale_share
    refs = {x.id for x in rv.references.references} if rv.references else set()
    included = {p for p, d in rv.final.items() if d == "include"}
    known_works = refs | included
    name = "consolidated.toml"
    _check_unique(rv, name, [c.id for c in rv.consolidated.claims], "claims", "claim id")
    explicit = [c.dagger for c in rv.consolidated.claims if c.dagger is not None]
    _check_unique(rv, name, [str(x) for x in explicit], "claims", "† number")
    next_dagger = max(explicit, default=0) + 1
    for i, c in enumerate(rv.consolidated.claims):
        where = f"[[claims]] #{i + 1} ({c.id})"
        line = _line(rv, name, "claims", i)
        if c.theme not in r.themes:
            rv.problem(name, f"{where}: theme {c.theme!r} is not one of review.toml's themes", line)
        kinds: list[str] = []
        for e in c.evidence:
            if e.method == "measurement":
                assert e.sample is not None and e.population is not None
                kinds.append(
                    "large-scale measurement" if e.sample / e.population >= share else "small-scale measurement"
                )
            else:
                kinds.append(e.method)
            if e.work is not None and e.work not in known_works:
                rv.problem(name, f"{where}: evidence work {e.work!r} is not an included paper or a reference", line)
        computed = basis_kinds(printed_basis(kinds)) if kinds else ()
        if c.basis and computed and basis_kinds(c.basis) != computed:
            rv.problem(
                name,
                f"{where}: basis {list(c.basis)} differs from the one its evidence gives "
                f"{list(printed_basis(computed))}",
                line,
            )
        all_kinds = computed or basis_kinds(c.basis)
        extracted = [e.paper for e in rv.extraction if e.consolidated == c.id and e.status == "kept"]
        from_extraction = tuple(dict.fromkeys(extracted))
        works: tuple[str, ...]
        if c.works is not None:
            works = tuple(c.works)
            missing = [w for w in works if w not in known_works]
            if missing:
                rv.problem(
                    name,
                    f"{where}: work {missing[0]!r} is not an included paper or a reference",
                    _line(rv, name, "claims", i, "works"),
                )
            if rv.has_records and from_extraction and set(works) != set(from_extraction):
                rv.problem(
                    name,
                    f"{where}: works {list(works)} differ from the papers of its extracted claims "
                    f"{list(from_extraction)}",
                    line,
                )
        else:
            works = from_extraction
            if not works:
                rv.problem(name, f"{where}: no works (list them, or link extracted claims to it)", line)
        lacks = "large-scale measurement" not in all_kinds
        dagger: int | None = None
        if c.dagger is not None and not lacks:
            rv.problem(name, f"{where}: † {c.dagger} on a claim with a large-scale measurement", line)
        if c.no_dagger_reason and not lacks:
            rv.problem(name, f"{where}: no_dagger_reason on a claim with a large-scale measurement", line)
        if c.no_dagger_reason and c.dagger is not None:
            rv.problem(name, f"{where}: both dagger and no_dagger_reason", line)
        if lacks and not c.no_dagger_reason:
            if c.dagger is not None:
                dagger = c.dagger
            else:
                dagger = next_dagger
                next_dagger += 1
        rv.views.append(ConsolidatedView(c, tuple(all_kinds), printed_basis(all_kinds), tuple(works), dagger, lacks))
    if rv.has_records and rv.review.reported_flow is not None and not rv.problems:
        got = rv.flow()
        for k, v in rv.review.reported_flow.model_dump().items():
            if got[k] != v:
                rv.problem(
                    "review.toml",
                    f"[reported_flow] {k} = {v} but the records give {got[k]}",
                    _line(rv, "review.toml", "reported_flow", k),
                )


def _check_validation(rv: Review) -> None:
    v = rv.validation
    if v is None or rv.consolidated is None:
        return
    name = "validation.toml"
    ids = {c.id for c in rv.consolidated.claims}
    for i, t in enumerate(v.table4):
        if t.claim not in ids:
            rv.problem(
                name,
                f"[[table4]] #{i + 1} ({t.id}): no consolidated claim {t.claim!r}",
                _line(rv, name, "table4", i, "claim"),
            )
    t4 = {t.id for t in v.table4}
    for i, h in enumerate(v.hypotheses):
        if h.table4 not in t4:
            rv.problem(
                name,
                f"[[hypotheses]] #{i + 1} ({h.id}): no [[table4]] {h.table4!r}",
                _line(rv, name, "hypotheses", i, "table4"),
            )
    seen: set[str] = set()
    for i, m in enumerate(v.measures):
        if m.claim not in ids:
            rv.problem(
                name,
                f"[[measures]] #{i + 1}: no consolidated claim {m.claim!r}",
                _line(rv, name, "measures", i, "claim"),
            )
        if m.claim in seen:
            rv.problem(
                name,
                f"[[measures]] #{i + 1}: claim {m.claim!r} measured twice",
                _line(rv, name, "measures", i, "claim"),
            )
        seen.add(m.claim)


def load_review(folder: str | Path) -> Review:
    """Open a review folder and raise the first problem (library use)."""
    rv = open_review(folder)
    rv.raise_if_problems()
    return rv


def references_of(rv: Review) -> list[dict[str, Any]]:
    """Bibliographic entries: references.toml, then included papers the claims cite."""
    out: dict[str, dict[str, Any]] = {}
    if rv.references:
        for r in rv.references.references:
            out[r.id] = r.model_dump(exclude_none=True)
    papers = rv.papers
    for v in rv.views:
        for w in v.works:
            if w not in out and w in papers:
                out[w] = papers[w].reference()
    return list(out.values())
