"""Search results: BibTeX (bibtexparser 2), RIS (rispy) and CSV exports -> records; de-duplication.

Every record keeps the query it came from and its file and line, so a merge or a
bad entry can be traced.  De-duplication merges records with the same DOI, then
records whose normalised titles match (rapidfuzz ratio >= threshold) in the same
year, unless their DOIs differ (listed as possible duplicates instead).  A
reviewer's ``dedup.toml`` forces (``[[same]]``) or forbids (``[[different]]``) merges.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError

FORMATS = {".bib": "bibtex", ".bibtex": "bibtex", ".ris": "ris", ".csv": "csv"}


@dataclass(frozen=True)
class Record:
    """One search result as exported."""

    query: str
    file: str
    line: int
    key: str
    title: str
    authors: tuple[str, ...] = ()
    year: int | None = None
    venue: str | None = None
    doi: str | None = None
    url: str | None = None

    @property
    def rid(self) -> str:
        return f"{self.query}:{self.key}"


@dataclass(frozen=True)
class Merge:
    kept: str
    merged: str
    reason: str
    score: float | None = None


@dataclass
class Paper:
    """A de-duplicated paper: its records (the first gives the id and the fields)."""

    id: str
    records: list[Record] = field(default_factory=list)

    def _first(self, attr: str) -> Any:
        for r in self.records:
            v = getattr(r, attr)
            if v:
                return v
        return None

    @property
    def title(self) -> str:
        return self.records[0].title

    @property
    def authors(self) -> tuple[str, ...]:
        return self._first("authors") or ()

    @property
    def year(self) -> int | None:
        return self._first("year")

    @property
    def venue(self) -> str | None:
        return self._first("venue")

    @property
    def doi(self) -> str | None:
        return self._first("doi")

    @property
    def url(self) -> str | None:
        return self._first("url")

    def reference(self) -> dict[str, Any]:
        d: dict[str, Any] = {"id": self.id, "authors": list(self.authors), "year": self.year, "title": self.title}
        for k in ("venue", "doi", "url"):
            if getattr(self, k):
                d[k] = getattr(self, k)
        return {k: v for k, v in d.items() if v is not None}


def normalise_doi(doi: str | None) -> str | None:
    if not doi:
        return None
    d = doi.strip().lower()
    d = re.sub(r"^(https?://(dx\.)?doi\.org/|doi:\s*)", "", d)
    return d or None


def normalise_title(title: str) -> str:
    """Lower case, accents and LaTeX braces dropped, punctuation to spaces."""
    t = unicodedata.normalize("NFKD", title)
    t = "".join(ch for ch in t if not unicodedata.combining(ch))
    t = re.sub(r"\\[a-zA-Z]+\s*", " ", t).replace("{", "").replace("}", "")
    t = re.sub(r"[^0-9a-z]+", " ", t.lower())
    return " ".join(t.split())


def _year(v: Any) -> int | None:
    m = re.search(r"\b(1[89]\d\d|2\d\d\d)\b", str(v or ""))
    return int(m.group(1)) if m else None


def _key(v: str) -> str:
    k = re.sub(r"[^A-Za-z0-9_.\-]+", "-", v.strip()).strip("-")
    return k


def _clean(v: Any) -> str:
    s = " ".join(str(v or "").split())
    return s.replace("{", "").replace("}", "") if s.count("{") == s.count("}") else s


# ---------------------------------------------------------------------------
# Parsers
# ---------------------------------------------------------------------------


def read_text(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(path, "no such file") from None
    except IsADirectoryError:
        raise InputError(path, f"is a folder, not a {what}") from None
    except UnicodeDecodeError:
        raise InputError(path, f"not UTF-8 text: not a {what}") from None
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc.strerror or exc}") from None


def parse_bibtex(text: str, path: Path, query: str) -> list[Record]:
    import bibtexparser

    lib = bibtexparser.parse_string(text)
    if lib.failed_blocks:
        b = lib.failed_blocks[0]
        err = getattr(b, "error", None)
        msg = " ".join(str(err).split()) if err else type(b).__name__
        if type(b).__name__ == "DuplicateBlockKeyBlock":
            msg = f"duplicate entry key {getattr(b, 'key', '?')!r}"
        raise InputError(path, f"malformed BibTeX: {msg}", line=(b.start_line or 0) + 1)
    if not lib.entries and text.strip():
        raise InputError(path, "malformed BibTeX: no @entry found", line=1)
    out = []
    for e in lib.entries:
        f = {k.lower(): v.value for k, v in e.fields_dict.items()}
        line = (e.start_line or 0) + 1
        title = _clean(f.get("title"))
        if not title:
            raise InputError(path, f"BibTeX entry {e.key!r} has no title", line=line)
        authors = tuple(_clean(a) for a in re.split(r"\s+and\s+", str(f.get("author", ""))) if a.strip())
        out.append(
            Record(
                query=query,
                file=path.name,
                line=line,
                key=_key(e.key) or f"entry{line}",
                title=title,
                authors=authors,
                year=_year(f.get("year") or f.get("date")),
                venue=_clean(f.get("journal") or f.get("booktitle") or f.get("publisher")) or None,
                doi=normalise_doi(f.get("doi")),
                url=_clean(f.get("url")) or None,
            )
        )
    return out


_RIS_LINE = re.compile(r"^[A-Z][A-Z0-9]  -( |$)")


def parse_ris(text: str, path: Path, query: str) -> list[Record]:
    import rispy

    starts: list[int] = []
    in_record = False
    last = 0
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip()
        if not line.strip():
            continue
        if not _RIS_LINE.match(line):
            raise InputError(path, f"malformed RIS: expected 'XX  - value', got {line[:40]!r}", line=n)
        tag = line[:2]
        if tag == "TY":
            if in_record:
                raise InputError(path, "malformed RIS: TY before the previous record's ER", line=n)
            in_record = True
            starts.append(n)
        elif not in_record:
            raise InputError(path, f"malformed RIS: {tag} outside a record (records start with TY)", line=n)
        elif tag == "ER":
            in_record = False
        last = n
    if in_record:
        raise InputError(path, "malformed RIS: the last record has no ER line", line=last)
    if not starts and text.strip():
        raise InputError(path, "malformed RIS: no record (TY  - ...)", line=1)
    try:
        entries = rispy.loads(text)
    except Exception as exc:  # rispy raises plain IOError/ValueError subclasses
        raise InputError(path, f"malformed RIS: {exc}") from None
    out = []
    for i, (e, start) in enumerate(zip(entries, starts, strict=False)):
        title = _clean(e.get("title") or e.get("primary_title") or e.get("translated_title"))
        if not title:
            raise InputError(path, "RIS record has no title (TI or T1)", line=start)
        authors = tuple(_clean(a) for a in (e.get("authors") or e.get("first_authors") or []))
        key = _key(str(e.get("id") or "")) or f"ris{i + 1}"
        out.append(
            Record(
                query=query,
                file=path.name,
                line=start,
                key=key,
                title=title,
                authors=authors,
                year=_year(e.get("year") or e.get("publication_year") or e.get("date")),
                venue=_clean(e.get("secondary_title") or e.get("journal_name") or e.get("alternate_title3")) or None,
                doi=normalise_doi(e.get("doi")),
                url=_clean(e.get("url") if isinstance(e.get("url"), str) else (e.get("urls") or [None])[0]) or None,
            )
        )
    return out


_CSV_COLUMNS = {
    "id": ("id", "key", "eid"),
    "title": ("title", "document title", "article title"),
    "authors": ("authors", "author", "author full names"),
    "year": ("year", "publication year", "py"),
    "venue": ("venue", "source title", "source", "journal", "publication title"),
    "doi": ("doi",),
    "url": ("url", "link"),
}


def parse_csv(text: str, path: Path, query: str) -> list[Record]:
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise InputError(path, "empty CSV: needs a header row with a title column", line=1) from None
    except csv.Error as exc:
        raise InputError(path, f"malformed CSV: {exc}", line=1) from None
    cols = [h.strip().lower() for h in header]
    idx: dict[str, int] = {}
    for name, aliases in _CSV_COLUMNS.items():
        for a in aliases:
            if a in cols:
                idx[name] = cols.index(a)
                break
    if "title" not in idx:
        raise InputError(path, f"CSV header has no title column (got: {', '.join(header)})", line=1)
    out = []
    try:
        for row in reader:
            n = reader.line_num
            if not any(c.strip() for c in row):
                continue
            if len(row) != len(header):
                raise InputError(path, f"row has {len(row)} fields, the header {len(header)}", line=n)

            def get(k: str, row: list[str] = row) -> str:
                return row[idx[k]].strip() if k in idx else ""

            title = _clean(get("title"))
            if not title:
                raise InputError(path, "row has no title", line=n)
            authors = tuple(a.strip() for a in re.split(r";|\s+and\s+", get("authors")) if a.strip())
            out.append(
                Record(
                    query=query,
                    file=path.name,
                    line=n,
                    key=_key(get("id")) or f"row{n}",
                    title=title,
                    authors=authors,
                    year=_year(get("year")),
                    venue=get("venue") or None,
                    doi=normalise_doi(get("doi")),
                    url=get("url") or None,
                )
            )
    except csv.Error as exc:
        raise InputError(path, f"malformed CSV: {exc}", line=reader.line_num) from None
    return out


def detect_format(path: Path, declared: str | None = None) -> str:
    if declared:
        return declared
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(path, f"unknown export format {path.suffix or '(none)'}; use .bib, .ris or .csv")
    return fmt


def read_records(path: Path, query: str, fmt: str | None = None) -> list[Record]:
    """The records of one export file; a malformed file is one InputError with its line."""
    f = detect_format(path, fmt)
    text = read_text(path, f"{f} export")
    parser = {"bibtex": parse_bibtex, "ris": parse_ris, "csv": parse_csv}[f]
    recs = parser(text, path, query)
    seen: dict[str, int] = {}
    for r in recs:
        if r.key in seen:
            raise InputError(path, f"duplicate record id {r.key!r} (first on line {seen[r.key]})", line=r.line)
        seen[r.key] = r.line
    return recs


# ---------------------------------------------------------------------------
# De-duplication
# ---------------------------------------------------------------------------


@dataclass
class DedupResult:
    papers: list[Paper]
    merges: list[Merge]
    possible: list[Merge]  # title matches with different DOIs, not merged

    def paper_of(self) -> dict[str, str]:
        return {r.rid: p.id for p in self.papers for r in p.records}


def deduplicate(
    records: Sequence[Record],
    *,
    title_threshold: float = 95.0,
    same_year: bool = True,
    same: Sequence[Sequence[str]] = (),
    different: Sequence[Sequence[str]] = (),
) -> DedupResult:
    """Group records into papers; every merge is listed with its reason."""
    from rapidfuzz import fuzz, process

    n = len(records)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    apart: set[frozenset[int]] = set()
    by_rid = {r.rid: i for i, r in enumerate(records)}
    for group in different:
        ids = [by_rid[x] for x in group]
        for a in ids:
            for b in ids:
                if a != b:
                    apart.add(frozenset((a, b)))

    members: dict[int, list[int]] = {i: [i] for i in range(n)}

    def blocked(a: int, b: int) -> bool:
        return any(frozenset((x, y)) in apart for x in members[find(a)] for y in members[find(b)])

    merges: list[Merge] = []
    possible: list[Merge] = []

    def union(a: int, b: int, reason: str, score: float | None = None) -> None:
        ra, rb = find(a), find(b)
        if ra == rb or blocked(a, b):
            return
        keep, drop = (ra, rb) if ra < rb else (rb, ra)
        parent[drop] = keep
        members[keep].extend(members.pop(drop))
        merges.append(Merge(records[min(a, b)].rid, records[max(a, b)].rid, reason, score))

    for group in same:
        ids = [by_rid[x] for x in group]
        for b in ids[1:]:
            union(ids[0], b, "dedup.toml [[same]]")
    first_doi: dict[str, int] = {}
    for i, r in enumerate(records):
        if r.doi:
            if r.doi in first_doi:
                union(first_doi[r.doi], i, "same DOI")
            else:
                first_doi[r.doi] = i
    titles = [normalise_title(r.title) for r in records]
    if n > 1:
        scores = process.cdist(titles, titles, scorer=fuzz.ratio, score_cutoff=title_threshold, workers=1)
        for i in range(n):
            for j in range(i + 1, n):
                s = float(scores[i][j])
                if s < title_threshold or not titles[i]:
                    continue
                ri, rj = records[i], records[j]
                if same_year and ri.year and rj.year and ri.year != rj.year:
                    continue
                if ri.doi and rj.doi and ri.doi != rj.doi:
                    if find(i) == find(j):
                        continue  # already one paper (a reviewer's [[same]])
                    possible.append(Merge(ri.rid, rj.rid, "title matches, DOIs differ: not merged", round(s, 1)))
                    continue
                union(i, j, "same title and year" if s == 100 else "similar title, same year", round(s, 1))
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(find(i), []).append(i)
    papers: list[Paper] = []
    used: set[str] = set()
    for root in sorted(groups):
        recs = [records[i] for i in sorted(groups[root])]
        pid = recs[0].key
        k = 2
        while pid in used:
            pid = f"{recs[0].key}-{k}"
            k += 1
        used.add(pid)
        papers.append(Paper(pid, recs))
    return DedupResult(papers, merges, possible)
