"""Resumable, incremental crawl of the Hugging Face Hub model or dataset listing (and commit histories).

The state machine
-----------------
``start``   a new snapshot row (status ``in_progress``, format ``hf-crawl``)
            and a ``crawl_state`` row holding the URL of the first page,
            written in one transaction.
``page``    GET the URL in ``crawl_state.next_url`` (retries: see
            :mod:`ptmscope.crawl.retry`), parse and validate the whole page,
            drop models already in the snapshot, fetch the cards that changed,
            convert with :func:`ptmscope.sources.hf_api.records_to_tables`,
            then write rows + page log + new ``next_url`` + counters in ONE
            transaction.  A crash before COMMIT leaves the previous state;
            after COMMIT the page is never fetched again.
``commits`` (only with ``commits_top`` / ``commit_ids``) once the listing is
            done: the repositories are chosen (the top N of the snapshot by
            downloads, then the listed ids) and queued in ``crawl_repos`` in
            one transaction; then each repository's commit history is paged
            like the listing, one transaction per page (rows + the
            repository's next URL + page log + counters).
``finish``  once the Hub sends no ``rel="next"`` link (or ``limit`` is
            reached) and every queued history is done: resolve lineage
            across all pages, mark the snapshot ``complete`` and write its
            manifest, in one transaction.

With ``commits_only`` there is no listing: the snapshot (format
``hf-commits-crawl``) holds commit histories only, of repositories chosen
from the newest complete snapshot of the registry and/or listed ids.

A second ``crawl`` on a store with an ``in_progress`` crawl of the same kind
(registry and format) resumes it (its parameters must match); ``abort``
deletes it.  A model listing, a dataset listing and a commits-only crawl
can each be unfinished at the same time.

Every item is validated against :mod:`ptmscope.crawl.records` (strict
pydantic models) before anything of its page is written, and a next-page
link or redirect off the endpoint's scheme, host and port stops the crawl
(:class:`~ptmscope.crawl.http.OffsiteURL`).

Duplicates
----------
The Hub paginates with an opaque key-based cursor.  When a model's sort key
changes during a crawl (downloads grow while we page), the model can be
listed twice.  Rule: **the first committed occurrence of a model id in a
snapshot wins**; later ones are dropped and counted (``duplicates`` in the
manifest and ``crawl_pages``).  A model that moves from the not-yet-listed
part to the already-listed part is not listed again by the Hub; no client can
see it.  Sort by an immutable key (``created_at``) or by none for the most
complete snapshot of a moving registry.

Cards
-----
With ``cards=True`` every model gets a ``cards`` row.  The README is fetched
(``GET {endpoint}/{id}/resolve/{sha}/README.md``, bounded concurrency) only
when the model is new or its ``sha`` differs from the base snapshot
(``since_snapshot``, default: the latest complete hf crawl with cards);
otherwise the base snapshot's card text is copied.  ``full=True`` refetches
every card.  404 ``EntryNotFound`` means the model has no card (``missing``);
a gated/forbidden/vanished repo gets no card row and is counted as
``cards_unavailable``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal, get_args
from urllib.parse import parse_qs, quote, urlencode, urljoin, urlsplit

import pyarrow as pa
from huggingface_hub import constants as hf_constants
from huggingface_hub.hf_api import ExpandDatasetProperty_T, ExpandModelProperty_T, ModelSort_T

from .. import lineage as lin
from ..errors import InputError, ParameterError
from ..schema import DATA_TABLES, Snapshot, make_snapshot_id
from ..sources import hf_api
from ..store import Store
from . import convert
from . import manifest as mf
from .http import CrawlError, HubHTTP, OffsiteURL, RequestFailed, same_origin
from .records import CommitItem, DatasetItem, ModelItem, ValidationError, describe
from .retry import Clock, RetryPolicy
from .state import (
    CrawlState,
    RepoTodo,
    add_repos,
    ensure_tables,
    in_progress_crawls,
    record_page,
    repo_counts,
    repos_todo,
    save_repo,
)

CRAWLER_VERSION = "2"  # 2: strict item validation, siblings/parameters, datasets, commit histories
SOURCE_FORMAT = "hf-crawl"
COMMITS_FORMAT = "hf-commits-crawl"
REGISTRY = "hf"
REPO_TYPES: dict[str, str] = {"model": "hf", "dataset": "hf-datasets"}  # repo type -> registry
MAX_PAGE_SIZE = 1000  # the Hub caps ``limit`` per page at 1,000

ModelSort = ModelSort_T
SORTS: tuple[str, ...] = get_args(ModelSort_T)
# huggingface_hub's own mapping of sort names to the API's field names (see HfApi.list_models)
_SORT_API = {"last_modified": "lastModified", "created_at": "createdAt", "trending_score": "trendingScore"}

# The listing endpoint refuses these (they exist only on /api/models/{id}).
LIST_REFUSED_EXPAND = frozenset({"baseModels", "childrenModelCount", "usedStorage"})
EXPANDS: tuple[str, ...] = tuple(e for e in get_args(ExpandModelProperty_T) if e not in LIST_REFUSED_EXPAND)
DATASET_EXPANDS: tuple[str, ...] = tuple(e for e in get_args(ExpandDatasetProperty_T) if e not in LIST_REFUSED_EXPAND)
# What the metrics need, in one request per page.  ``config`` gives model_type;
# ``cardData`` gives licence and base_model lineage; ``safetensors`` the format
# and the parameter count; ``siblings`` the file list.
DEFAULT_EXPAND: tuple[str, ...] = (
    "author",
    "cardData",
    "config",
    "createdAt",
    "downloads",
    "downloadsAllTime",
    "gated",
    "lastModified",
    "library_name",
    "likes",
    "pipeline_tag",
    "private",
    "safetensors",
    "sha",
    "siblings",
    "tags",
)
# Datasets: no siblings by default (a dataset repo can hold hundreds of thousands of shards).
DEFAULT_DATASET_EXPAND: tuple[str, ...] = (
    "author",
    "cardData",
    "createdAt",
    "downloads",
    "downloadsAllTime",
    "gated",
    "lastModified",
    "likes",
    "private",
    "sha",
    "tags",
)
_REPO_ID = re.compile(r"^(?!.*\.\.)[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)?$")

Phase = Literal["started", "resumed", "page", "commits", "finished"]


class CrawlArgumentError(ParameterError):
    """Bad or conflicting crawl parameters (nothing was fetched or written)."""


class MalformedPage(CrawlError):
    """A page that cannot be parsed or validated; nothing of it is written."""


@dataclass(frozen=True)
class CrawlParams:
    """What to crawl.  Everything but ``card_workers`` and ``commit_ids`` identifies the crawl (checked on resume).

    ``commit_ids`` are the repository ids read from ``commits_from`` (whose
    sha256 is ``commits_from_sha256``): they are queued when the crawl starts,
    so a resumed crawl does not need the file again.
    """

    endpoint: str
    sort: str | None = None
    filters: tuple[str, ...] = ()
    author: str | None = None
    search: str | None = None
    limit: int | None = None
    page_size: int = MAX_PAGE_SIZE
    expand: tuple[str, ...] = ()
    cards: bool = False
    full: bool = False
    since_snapshot: str | None = None
    skip_bad_records: bool = False
    card_workers: int = 8
    repo_type: str = "model"
    commits_top: int | None = None
    commits_from: str | None = None
    commits_from_sha256: str | None = None
    commits_only: bool = False
    commit_ids: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.repo_type not in REPO_TYPES:
            raise CrawlArgumentError("repo_type", f"must be one of {', '.join(REPO_TYPES)}, not {self.repo_type!r}")
        if not self.expand:
            object.__setattr__(self, "expand", DEFAULT_EXPAND if self.repo_type == "model" else DEFAULT_DATASET_EXPAND)
        if self.sort is not None and self.sort not in SORTS:
            raise CrawlArgumentError("sort", f"must be one of {', '.join(SORTS)}, not {self.sort!r}")
        accepted = EXPANDS if self.repo_type == "model" else DATASET_EXPANDS
        bad = [e for e in self.expand if e not in accepted]
        if bad:
            raise CrawlArgumentError(
                "expand",
                f"{', '.join(bad)} not accepted by the {self.repo_type} listing (accepted: {', '.join(accepted)})",
            )
        if not 1 <= self.page_size <= MAX_PAGE_SIZE:
            raise CrawlArgumentError("page_size", f"must be between 1 and {MAX_PAGE_SIZE}, not {self.page_size}")
        if self.limit is not None and self.limit < 1:
            raise CrawlArgumentError("limit", f"must be positive, not {self.limit}")
        if self.card_workers < 1:
            raise CrawlArgumentError("card_workers", "must be at least 1")
        if self.cards and "sha" not in self.expand:
            raise CrawlArgumentError(
                "cards", "needs 'sha' among the expanded fields (cards are fetched at the listed revision)"
            )
        if self.full and self.since_snapshot:
            raise CrawlArgumentError("full", "excludes since_snapshot")
        if self.commits_top is not None and self.commits_top < 1:
            raise CrawlArgumentError("commits_top", f"must be positive, not {self.commits_top}")
        if self.commits_only:
            if self.commits_top is None and not self.commits_from and not self.commit_ids:
                raise CrawlArgumentError("commits_only", "needs commits_top and/or commits_from (which repositories)")
            listing = [
                name for name, v in (
                    ("cards", self.cards), ("full", self.full), ("since_snapshot", self.since_snapshot),
                    ("limit", self.limit), ("sort", self.sort), ("filters", self.filters),
                    ("author", self.author), ("search", self.search), ("skip_bad_records", self.skip_bad_records),
                ) if v
            ]  # fmt: skip
            if listing:
                raise CrawlArgumentError(
                    "commits_only", f"fetches commit histories only (no listing): {', '.join(listing)} do not apply"
                )
        bad_ids = [i for i in self.commit_ids if not _REPO_ID.match(i)]
        if bad_ids:
            raise CrawlArgumentError("commit_ids", f"not a Hub repository id: {bad_ids[0]!r}")

    @property
    def registry(self) -> str:
        return REPO_TYPES[self.repo_type]

    @property
    def source_format(self) -> str:
        return COMMITS_FORMAT if self.commits_only else SOURCE_FORMAT

    @property
    def wants_commits(self) -> bool:
        return self.commits_top is not None or bool(self.commits_from) or bool(self.commit_ids)

    @classmethod
    def from_identity(cls, ident: Mapping[str, Any], *, card_workers: int = 8) -> CrawlParams:
        """The parameters of a stored crawl (``crawl_state.params``), to resume it as it was started."""
        d = dict(ident)
        d["filters"] = tuple(d.get("filters") or ())
        d["expand"] = tuple(d.get("expand") or ())
        known = {f for f in cls.__dataclass_fields__} - {"card_workers", "commit_ids"}
        return cls(**{k: v for k, v in d.items() if k in known}, card_workers=card_workers)

    def identity(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("card_workers")
        d.pop("commit_ids")
        d["filters"] = list(self.filters)
        d["expand"] = list(self.expand)
        return d

    def first_url(self) -> str | None:
        if self.commits_only:
            return None
        q: list[tuple[str, str]] = []
        for f in self.filters:
            q.append(("filter", f))
        if self.author:
            q.append(("author", self.author))
        if self.search:
            q.append(("search", self.search))
        if self.sort:
            q.append(("sort", _SORT_API.get(self.sort, self.sort)))
        size = self.page_size if self.limit is None else min(self.page_size, self.limit)
        q.append(("limit", str(size)))
        for e in self.expand:
            q.append(("expand", e))
        return f"{self.endpoint}/api/{self.repo_type}s?{urlencode(q)}"

    def commits_url(self, repo_id: str, revision: str) -> str:
        return (
            f"{self.endpoint}/api/{self.repo_type}s/{quote(repo_id, safe='/')}/commits/{quote(revision, safe='')}"
            f"?{urlencode([('limit', str(self.page_size))])}"
        )


def read_repo_ids(path: str | Path) -> tuple[tuple[str, ...], str]:
    """Repository ids of a ``--commits-from`` file (one a line; blank lines and ``#`` comments skipped) and its sha256.

    Raises :class:`~ptmscope.errors.InputError` naming the line of anything
    that is not a Hub repository id (``owner/name`` or a bare legacy name).
    """
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise InputError(p, "no such file") from None
    except IsADirectoryError:
        raise InputError(p, "is a folder, not a list of repository ids") from None
    except OSError as exc:
        raise InputError(p, f"cannot read: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(p, "not UTF-8 text: not a list of repository ids") from None
    ids: list[str] = []
    seen: set[str] = set()
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if not _REPO_ID.match(line) or len(line) > 200:
            raise InputError(p, f"not a Hub repository id: {line[:60]!r} (expected owner/name)", line=n)
        if line not in seen:
            seen.add(line)
            ids.append(line)
    if not ids:
        raise InputError(p, "no repository ids in the file")
    return tuple(ids), hashlib.sha256(data).hexdigest()


def resolve_endpoint(endpoint: str | None) -> str:
    """``--endpoint`` wins, then ``$HF_ENDPOINT``, then huggingface_hub's default."""
    ep = endpoint or os.environ.get("HF_ENDPOINT") or hf_constants.ENDPOINT
    ep = ep.strip().rstrip("/")
    if not re.match(r"^https?://[^/\s]+", ep):
        raise CrawlArgumentError("endpoint", f"must be an http(s) URL, not {ep!r}")
    return ep


@dataclass
class CrawlProgress:
    """What a progress display needs after each event."""

    phase: Phase
    snapshot_id: str
    pages: int
    models: int
    total: int | None
    requests: int
    retries: int
    cards_fetched: int
    elapsed_s: float
    models_this_run: int
    unit: str = "models"
    commits: int = 0
    repos_done: int = 0
    repos_total: int = 0


@dataclass(frozen=True)
class CrawlResult:
    snapshot_id: str
    resumed: bool
    pages: int
    models: int
    counters: dict[str, Any]
    manifest: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Page:
    url: str
    next_url: str | None
    items: list[dict[str, Any]]
    body_sha256: str
    total: int | None
    skipped: list[str]


def cursor_of(url: str | None) -> str:
    """A short name of a page for messages: its cursor, or "first page"."""
    if not url:
        return "none"
    q = parse_qs(urlsplit(url).query)
    cur = q.get("cursor") or q.get("p")
    if not cur:
        return "first page"
    c = cur[-1]
    return c if len(c) <= 60 else c[:57] + "..."


class _RepeatedKey(ValueError):
    pass


def _no_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    d = dict(pairs)
    if len(d) != len(pairs):
        seen: set[str] = set()
        key = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        raise _RepeatedKey(f"key {key!r} appears twice in one object")
    return d


def load_json_page(body: bytes, where: str) -> Any:
    """A page's JSON; :class:`MalformedPage` for invalid JSON and for an object that repeats a key."""
    try:
        return json.loads(body, object_pairs_hook=_no_repeats)
    except _RepeatedKey as exc:
        raise MalformedPage(f"{where}: {exc}; which value is meant cannot be known") from None
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise MalformedPage(f"{where}: invalid JSON ({exc}); {len(body)} bytes received") from None


_ITEM_MODELS: dict[str, type[ModelItem] | type[DatasetItem]] = {"model": ModelItem, "dataset": DatasetItem}


def check_item(item: Any, where: str, i: int, kind: str = "model") -> str:
    """The repository id of one listing item; :class:`MalformedPage` naming the field when any field is wrong."""
    if not isinstance(item, dict):
        raise MalformedPage(f"{where}: item {i}: expected an object, got {type(item).__name__}")
    try:
        rec = _ITEM_MODELS[kind].model_validate(item)
    except ValidationError as exc:
        rid = item.get("id", item.get("modelId"))
        named = f" ({rid})" if isinstance(rid, str) and rid.strip() else ""
        raise MalformedPage(f"{where}: item {i}{named}: {describe(exc)}") from None
    rid = rec.repo_id
    if rid is None:
        raise MalformedPage(f"{where}: item {i}: missing or empty {kind} id (field `id`)")
    return rid


def parse_page(
    body: bytes, url: str, page_no: int, *, skip_bad_records: bool = False, kind: str = "model"
) -> tuple[list[dict[str, Any]], list[str]]:
    """Parse and validate one listing page: (good items, messages about skipped items).

    Raises :class:`MalformedPage` naming the cursor when the body is not a
    JSON array, or when an item is malformed and ``skip_bad_records`` is off.
    With it on, items that fail these checks or the converter's own are
    dropped and described in the returned messages.
    """
    where = f"page {page_no + 1} (cursor {cursor_of(url)})"
    data = load_json_page(body, where)
    if not isinstance(data, list):
        raise MalformedPage(f"{where}: expected a JSON array of {kind}s, got {type(data).__name__}")
    good: list[dict[str, Any]] = []
    bad: list[str] = []
    for i, item in enumerate(data):
        try:
            check_item(item, where, i, kind)
            if skip_bad_records and kind == "model":
                hf_api.model_row(item, source=where, line=i)
        except (MalformedPage, InputError) as exc:
            if not skip_bad_records:
                raise MalformedPage(str(exc)) from None
            bad.append(str(exc))
            continue
        good.append(item)
    return good, bad


def parse_commit_page(body: bytes, where: str) -> list[dict[str, Any]]:
    """Parse and validate one page of a commit history; :class:`MalformedPage` naming the commit and field."""
    data = load_json_page(body, where)
    if not isinstance(data, list):
        raise MalformedPage(f"{where}: expected a JSON array of commits, got {type(data).__name__}")
    for i, item in enumerate(data):
        if not isinstance(item, dict):
            raise MalformedPage(f"{where}: commit {i}: expected an object, got {type(item).__name__}")
        try:
            CommitItem.model_validate(item)
        except ValidationError as exc:
            cid = item.get("id")
            named = f" ({cid[:12]})" if isinstance(cid, str) and cid else ""
            raise MalformedPage(f"{where}: commit {i}{named}: {describe(exc)}") from None
    return data


_item_id = convert.item_id


class HubCrawler:
    """Crawl one snapshot of the Hub listing (and commit histories) into a store.  See the module docstring."""

    def __init__(
        self,
        store: Store,
        params: CrawlParams,
        *,
        policy: RetryPolicy | None = None,
        clock: Clock | None = None,
        seed: int | None = None,
        progress: Callable[[CrawlProgress], None] | None = None,
        today: dt.date | None = None,
    ) -> None:
        self.store = store
        self.params = params
        self.policy = policy or RetryPolicy()
        self.clock = clock or Clock()
        self.http = HubHTTP(params.endpoint, policy=self.policy, clock=self.clock, seed=seed)
        self.progress = progress
        self.today = today
        self._t0 = time.monotonic()
        self._models_this_run = 0
        self._total: int | None = params.limit
        self._run_extra: dict[str, int] = {}
        self._malformed = 0
        self._seen_ids: set[str] | None = None
        self._repos: dict[str, int] = {}
        ensure_tables(store)

    @property
    def registry(self) -> str:
        return self.params.registry

    @property
    def unit(self) -> str:
        return f"{self.params.repo_type}s"

    # -- public ---------------------------------------------------------------
    def run(self) -> CrawlResult:
        state, resumed = self._start_or_resume()
        base = self._counters_base(state)
        self._emit("resumed" if resumed else "started", state)
        with ThreadPoolExecutor(max_workers=self.params.card_workers, thread_name_prefix="ptmscope-card") as pool:
            while not state.listing_done:
                self._one_page(state, base, pool)
        if st_wants_commits(state):
            if not state.counters.get("commits_chosen"):
                self._choose_repos(state, base)
            for todo in repos_todo(self.store, state.snapshot_id):
                self._one_repo(state, base, todo)
        return self._finish(state, base, resumed)

    # -- start / resume ---------------------------------------------------------
    def _start_or_resume(self) -> tuple[CrawlState, bool]:
        p = self.params
        pending = in_progress_crawls(self.store, self.registry, p.source_format)
        ident = p.identity()
        if pending:
            st = pending[-1]
            # crawler 1 stored no repo type or commit options: their defaults are what it did
            stored = {**CrawlParams(endpoint=st.endpoint).identity(), "repo_type": p.repo_type, **st.params}
            wanted = dict(ident)
            for resolved in ("since_snapshot", "commits_base"):  # chosen when the crawl started
                stored.setdefault(resolved, None)
                if wanted.get(resolved) is None:
                    wanted[resolved] = stored[resolved]
            if stored != wanted:
                diff = sorted(k for k in set(stored) | set(wanted) if stored.get(k) != wanted.get(k))
                raise CrawlArgumentError(
                    diff[0],
                    f"the store holds an unfinished crawl {st.snapshot_id} with other parameters "
                    f"({', '.join(f'{k}={stored.get(k)!r} (now {wanted.get(k)!r})' for k in diff)}); "
                    "rerun with the same parameters or resume it to continue, or abort it to discard it",
                )
            st.counters["runs"] = int(st.counters.get("runs", 1)) + 1
            return st, True
        since = self._base_snapshot()
        ident["since_snapshot"] = since
        commits_base = self._commits_base() if p.commits_only and p.commits_top else None
        ident["commits_base"] = commits_base
        started = dt.datetime.now(dt.UTC)
        taken = self.today or started.date()
        digest = hashlib.sha256(
            json.dumps({"params": ident, "started_at": started.isoformat()}, sort_keys=True).encode()
        ).hexdigest()
        sid = make_snapshot_id(self.registry, taken, digest)
        counters: dict[str, Any] = {"runs": 1, "started_at": started.isoformat(timespec="seconds")}
        first = p.first_url()
        st = CrawlState(sid, self.registry, p.endpoint, ident, first, first is None, 0, 0, counters)
        if p.commits_only:
            source_file = f"{p.endpoint}/api/{p.repo_type}s/{{id}}/commits"
            notes = "commit-history crawl in progress (resume: rerun `ptmscope crawl hf --commits`; discard: --abort)"
        else:
            source_file = f"{p.endpoint}/api/{p.repo_type}s"
            notes = "crawl in progress (resume: rerun `ptmscope crawl hf`; discard: --abort)"
        snap = Snapshot(
            snapshot_id=sid,
            registry=self.registry,
            taken_at=taken,
            source_format=p.source_format,
            source_file=source_file,
            source_sha256=digest,
            row_count=0,
            importer_version=CRAWLER_VERSION,
            notes=notes,
            status="in_progress",
            manifest=json.dumps(self._manifest(st, finished=False), sort_keys=True),
        )
        ids = p.commit_ids or (read_repo_ids(p.commits_from)[0] if p.commits_from else ())
        with self.store.transaction() as con:
            self.store.insert_snapshot(snap)
            # the listed ids are queued now, so a resumed crawl never needs the file again
            add_repos(con, sid, [(r, "file", "main", p.commits_url(r, "main")) for r in ids])
            if p.commits_only:
                st.counters["commits_chosen"] = False
            st.insert(con)
        return st, False

    def _base_snapshot(self) -> str | None:
        p = self.params
        if not p.cards or p.full:
            return None
        if p.since_snapshot:
            snap = self.store.snapshot(p.since_snapshot)  # raises when absent
            if snap.registry != self.registry or snap.status != "complete":
                raise CrawlArgumentError(
                    "since_snapshot", f"{p.since_snapshot} is not a complete {self.registry} snapshot"
                )
            return snap.snapshot_id
        row = self.store.con.execute(
            "SELECT s.snapshot_id FROM snapshots s WHERE s.registry = ? AND s.source_format = ? "
            "AND s.status = 'complete' AND EXISTS (SELECT 1 FROM cards c WHERE c.snapshot_id = s.snapshot_id) "
            "ORDER BY s.taken_at DESC, s.ingested_at DESC LIMIT 1",
            [self.registry, SOURCE_FORMAT],
        ).fetchall()
        return row[0][0] if row else None

    def _commits_base(self) -> str:
        """The newest complete snapshot of the registry with download counts: where the top N come from."""
        row = self.store.con.execute(
            "SELECT s.snapshot_id FROM snapshots s WHERE s.registry = ? AND s.status = 'complete' "
            "AND EXISTS (SELECT 1 FROM packages p WHERE p.snapshot_id = s.snapshot_id AND p.downloads IS NOT NULL) "
            "ORDER BY s.taken_at DESC, s.ingested_at DESC, s.snapshot_id DESC LIMIT 1",
            [self.registry],
        ).fetchall()
        if not row:
            raise CrawlArgumentError(
                "commits_top",
                f"no complete {self.registry} snapshot with download counts in the store to take the top "
                "repositories from (crawl or ingest a listing first, or name the repositories in commits_from)",
            )
        return str(row[0][0])

    def _counters_base(self, st: CrawlState) -> dict[str, int]:
        keys = (
            "list_requests", "card_requests", "commit_requests", "retries", "rate_limited", "duplicates",
            "cards_fetched", "cards_copied", "cards_missing", "cards_unavailable", "cards_offsite",
            "malformed_pages", "skipped_records", "commit_pages", "commits", "commit_duplicates",
        )  # fmt: skip
        return {k: int(st.counters.get(k, 0)) for k in keys}

    # -- one page ----------------------------------------------------------------
    def _next_link(self, r: Any, url: str, what: str) -> str | None:
        """The page after this one: the ``Link: rel="next"`` URL, refused when it leaves the endpoint."""
        nxt = r.links.get("next", {}).get("url")
        if not nxt:
            return None
        nxt = urljoin(url, nxt)
        if not same_origin(nxt, self.params.endpoint):
            raise OffsiteURL(
                nxt,
                f"{what}: the next-page link points to {nxt}, off the endpoint {self.params.endpoint}; "
                "not followed (only the endpoint's own scheme, host and port are)",
            )
        return nxt

    def _fetch_page(self, url: str, page_no: int) -> _Page:
        what = f"page {page_no + 1} (cursor {cursor_of(url)})"
        for attempt in range(self.policy.malformed_retries + 1):
            r = self.http.get(url, kind="list", what=what)
            body = r.content
            try:
                items, skipped = parse_page(
                    body, url, page_no, skip_bad_records=self.params.skip_bad_records, kind=self.params.repo_type
                )
            except MalformedPage:
                self._malformed += 1
                if attempt == self.policy.malformed_retries:
                    raise
                self.http.stats.add(retries=1)
                self.clock.wait(self.http._backoff(attempt))
                continue
            nxt = self._next_link(r, url, what)
            total = None
            tc = r.headers.get("x-total-count")
            if tc and tc.isdigit():
                total = int(tc)
            return _Page(url, nxt, items, hashlib.sha256(body).hexdigest(), total, skipped)
        raise AssertionError("unreachable")

    def _one_page(self, st: CrawlState, base: dict[str, int], pool: ThreadPoolExecutor) -> None:
        p = self.params
        assert st.next_url is not None
        page = self._fetch_page(st.next_url, st.pages)
        if page.total is not None:
            self._total = page.total if p.limit is None else min(p.limit, page.total)
        seen = self._seen(st)
        keep: list[dict[str, Any]] = []
        keep_ids: set[str] = set()
        dups = 0
        for item in page.items:
            rid = _item_id(item)
            if rid in seen or rid in keep_ids:
                dups += 1
                continue
            keep_ids.add(rid)
            keep.append(item)
        if p.limit is not None:
            keep = keep[: max(0, p.limit - st.models)]
        cards, extra = self._cards_for(keep, st, pool) if p.cards else (None, {})
        extra = dict(extra, duplicates=dups, skipped_records=len(page.skipped))
        where = f"page {st.pages + 1} (cursor {cursor_of(page.url)})"
        try:
            if p.repo_type == "model":
                tables = convert.model_tables(keep, st.snapshot_id, source=where, cards=cards)
            else:
                tables = convert.dataset_tables(keep, st.snapshot_id, cards=cards)
        except InputError as exc:
            self._malformed += 1
            raise MalformedPage(f"{exc}; nothing of this page was written") from None
        next_url = page.next_url
        if next_url == page.url:
            raise MalformedPage(f"{where}: the Hub's next link points to the same page")
        new_models = st.models + len(keep)
        done = next_url is None or (p.limit is not None and new_models >= p.limit)
        counters = dict(st.counters)
        counters.update(self._totals(base, extra))
        if page.skipped:  # keep the first few reasons for the manifest
            examples = list(counters.get("skipped_examples", []))
            counters["skipped_examples"] = (examples + page.skipped)[:20]
        nxt = CrawlState(
            st.snapshot_id, st.registry, st.endpoint, st.params, None if done else next_url, done,
            st.pages + 1, new_models, counters, st.started_at,
        )  # fmt: skip
        with self.store.transaction() as con:
            for name in DATA_TABLES:
                t = tables.get(name)
                if t is not None and t.num_rows:
                    self.store.append_rows(name, t, st.snapshot_id)
            record_page(con, st.snapshot_id, st.pages, page.url, next_url, len(keep), dups, page.body_sha256)
            nxt.save(con)
            con.execute(
                "UPDATE snapshots SET row_count = ?, manifest = ? WHERE snapshot_id = ?",
                [new_models, json.dumps(self._manifest(nxt, finished=False), sort_keys=True), st.snapshot_id],
            )
        # committed: only now does the in-memory state move on
        st.next_url, st.listing_done, st.pages, st.models, st.counters = (
            nxt.next_url, done, nxt.pages, new_models, counters,
        )  # fmt: skip
        seen.update(keep_ids)
        self._add_run(extra)
        self._models_this_run += len(keep)
        self._emit("page", st)

    def _add_run(self, extra: Mapping[str, int]) -> None:
        for k, v in extra.items():
            self._run_extra[k] = self._run_extra.get(k, 0) + v

    def _seen(self, st: CrawlState) -> set[str]:
        if self._seen_ids is None:
            rows = self.store.con.execute(
                "SELECT raw_id FROM packages WHERE snapshot_id = ?", [st.snapshot_id]
            ).fetchall()
            self._seen_ids = {r[0] for r in rows}
        return self._seen_ids

    def _totals(self, base: dict[str, int], extra: Mapping[str, int] | None = None) -> dict[str, int]:
        """Counters of the committed work: saved ones + this run's requests + this run's page tallies."""
        s = self.http.stats
        c = dict(base)
        c["list_requests"] += s.list_requests
        c["card_requests"] += s.card_requests
        c["commit_requests"] += s.commit_requests
        c["retries"] += s.retries
        c["rate_limited"] += s.rate_limited
        c["malformed_pages"] += self._malformed
        for src in (self._run_extra, extra or {}):
            for k, v in src.items():
                c[k] = c.get(k, 0) + v
        return c

    # -- commit histories ------------------------------------------------------------
    def _choose_repos(self, st: CrawlState, base: dict[str, int]) -> None:
        """Queue the top N repositories by downloads (after the listed ids), in one transaction."""
        p = self.params
        n = p.commits_top
        queued = {r[0] for r in self.store.con.execute(
            "SELECT repo_id FROM crawl_repos WHERE snapshot_id = ?", [st.snapshot_id]).fetchall()}  # fmt: skip
        start = int(self.store.con.execute(
            "SELECT count(*) FROM crawl_repos WHERE snapshot_id = ?", [st.snapshot_id]).fetchall()[0][0])  # fmt: skip
        top: list[tuple[str, str, str, str]] = []
        if n:
            source = st.params.get("commits_base") or st.snapshot_id
            rows = self.store.con.execute(
                "SELECT package_id, sha FROM packages WHERE snapshot_id = ? AND downloads IS NOT NULL "
                "ORDER BY downloads DESC, package_id LIMIT ?",
                [source, n],
            ).fetchall()
            for pid, sha in rows:
                if pid in queued:
                    continue
                # a listing crawl pins each history at the sha it listed; a commits-only crawl takes it as of now
                rev = sha if (sha and not p.commits_only) else "main"
                top.append((pid, "top", rev, p.commits_url(pid, rev)))
        if not p.commits_only:  # listed ids that this snapshot lists too: pin them at its sha as well
            shas = dict(self.store.con.execute(
                "SELECT package_id, sha FROM packages WHERE snapshot_id = ? AND sha IS NOT NULL", [st.snapshot_id]
            ).fetchall())  # fmt: skip
            pinned = [(r, shas[r]) for r in queued if r in shas]
        else:
            pinned = []
        counters = dict(st.counters)
        counters.update(self._totals(base))
        counters["commits_chosen"] = True
        counters["commit_repos"] = len(queued) + len(top)
        with self.store.transaction() as con:
            for rid, sha in pinned:
                con.execute(
                    "UPDATE crawl_repos SET revision = ?, next_url = ? WHERE snapshot_id = ? AND repo_id = ? "
                    "AND pages = 0",
                    [sha, p.commits_url(rid, sha), st.snapshot_id, rid],
                )
            add_repos(con, st.snapshot_id, top, start)
            st.counters = counters
            st.save(con)
        self._emit("commits", st)

    def _one_repo(self, st: CrawlState, base: dict[str, int], todo: RepoTodo) -> None:
        seen = {r[0] for r in self.store.con.execute(
            "SELECT commit_id FROM commits WHERE snapshot_id = ? AND package_id = ?",
            [st.snapshot_id, todo.repo_id]).fetchall()}  # fmt: skip
        while todo.status == "todo":
            self._one_commit_page(st, base, todo, seen)

    def _one_commit_page(self, st: CrawlState, base: dict[str, int], todo: RepoTodo, seen: set[str]) -> None:
        url = todo.next_url
        assert url is not None
        what = f"commits of {todo.repo_id}, page {todo.pages + 1} (cursor {cursor_of(url)})"
        note = None
        items: list[dict[str, Any]] = []
        body_sha = ""
        next_url: str | None = None
        for attempt in range(self.policy.malformed_retries + 1):
            r = self.http.get(url, kind="commit", what=what, ok_status=(401, 403, 404, 410))
            body_sha = hashlib.sha256(r.content).hexdigest()
            if r.status_code >= 300:  # gated, private, gone or renamed away: no history to take
                note = f"HTTP {r.status_code} {r.headers.get('x-error-code', '')}".strip()
                break
            try:
                items = parse_commit_page(r.content, what)
            except MalformedPage:
                self._malformed += 1
                if attempt == self.policy.malformed_retries:
                    raise
                self.http.stats.add(retries=1)
                self.clock.wait(self.http._backoff(attempt))
                continue
            next_url = self._next_link(r, url, what)
            if next_url == url:
                raise MalformedPage(f"{what}: the next link points to the same page")
            break
        keep: list[dict[str, Any]] = []
        for c in items:
            if c["id"] in seen:
                continue
            seen.add(c["id"])
            keep.append(c)
        dups = len(items) - len(keep)
        table = convert.commits_table(todo.repo_id, keep, st.snapshot_id)
        new = RepoTodo(
            todo.seq, todo.repo_id, todo.origin, todo.revision, next_url,
            "unavailable" if note else ("todo" if next_url else "done"),
            todo.pages + 1, todo.commits + len(keep),
        )  # fmt: skip
        extra = {"commit_pages": 1, "commits": len(keep), "commit_duplicates": dups}
        counters = dict(st.counters)
        counters.update(self._totals(base, extra))
        with self.store.transaction() as con:
            if table.num_rows:
                self.store.append_rows("commits", table, st.snapshot_id)
            save_repo(con, st.snapshot_id, new, note)
            record_page(
                con, st.snapshot_id, st.pages, url, next_url, len(keep), dups, body_sha, kind="commits",
                repo_id=todo.repo_id,
            )  # fmt: skip
            st_next = CrawlState(
                st.snapshot_id, st.registry, st.endpoint, st.params, st.next_url, st.listing_done,
                st.pages + 1, st.models, counters, st.started_at,
            )  # fmt: skip
            st_next.save(con)
            con.execute(
                "UPDATE snapshots SET manifest = ? WHERE snapshot_id = ?",
                [json.dumps(self._manifest(st_next, finished=False), sort_keys=True), st.snapshot_id],
            )
        st.pages, st.counters = st_next.pages, counters
        todo.next_url, todo.status, todo.pages, todo.commits = new.next_url, new.status, new.pages, new.commits
        self._add_run(extra)
        self._emit("commits", st)

    # -- cards ---------------------------------------------------------------------
    def _previous_cards(self, ids: list[str], since: str) -> dict[str, tuple[str | None, str | None]]:
        """raw id -> (sha, card text) in the base snapshot, for models that have a card row there."""
        if not ids:
            return {}
        view = "_ptmscope_crawl_ids"
        self.store.con.register(view, pa.table({"raw_id": pa.array(ids, pa.string())}))
        try:
            rows = self.store.con.execute(
                f"SELECT p.raw_id, p.sha, c.text FROM packages p JOIN cards c "
                f"ON c.snapshot_id = p.snapshot_id AND c.package_id = p.package_id "
                f"WHERE p.snapshot_id = ? AND p.raw_id IN (SELECT raw_id FROM {view})",
                [since],
            ).fetchall()
        finally:
            self.store.con.unregister(view)
        return {r[0]: (r[1], r[2]) for r in rows}

    def _cards_for(
        self, items: list[dict[str, Any]], st: CrawlState, pool: ThreadPoolExecutor
    ) -> tuple[dict[str, str | None], dict[str, int]]:
        since = st.params.get("since_snapshot")
        ids = [_item_id(x) for x in items]
        prev = self._previous_cards(ids, since) if since else {}
        cards: dict[str, str | None] = {}
        todo: list[tuple[str, str]] = []
        copied = 0
        for item, rid in zip(items, ids, strict=False):
            sha = item.get("sha")
            old = prev.get(rid)
            if old is not None and sha and old[0] == sha:
                cards[rid] = old[1]
                copied += 1
            else:
                todo.append((rid, sha or "main"))
        results = list(pool.map(lambda a: self._fetch_card(*a), todo))
        missing = unavailable = offsite = 0
        for (rid, _), (status, text) in zip(todo, results, strict=False):
            if status == "ok":
                cards[rid] = text
            elif status == "missing":
                cards[rid] = None
                missing += 1
            else:
                unavailable += 1
                offsite += status == "offsite"
        return cards, {
            "cards_fetched": len(todo) - unavailable,
            "cards_copied": copied,
            "cards_missing": missing,
            "cards_unavailable": unavailable,
            "cards_offsite": offsite,
        }

    def _fetch_card(self, repo_id: str, revision: str) -> tuple[str, str | None]:
        url = self.http.readme_url(repo_id, revision, self.params.repo_type)
        try:
            r = self.http.get(url, kind="card", what=f"card of {repo_id}", ok_status=(401, 403, 404, 410))
        except OffsiteURL:
            # a README kept in LFS/Xet is served from another host: not fetched (the token and the
            # request stay on the endpoint), the card is counted as unavailable, the crawl goes on
            return "offsite", None
        if r.status_code == 404 and r.headers.get("x-error-code", "EntryNotFound") == "EntryNotFound":
            return "missing", None
        if r.status_code >= 300:
            return "unavailable", None
        return "ok", r.content.decode("utf-8", errors="replace")

    # -- finish ------------------------------------------------------------------------
    def _finish(self, st: CrawlState, base: dict[str, int], resumed: bool) -> CrawlResult:
        st.counters.update(self._totals(base))
        st.counters["finished_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        if st_wants_commits(st):
            rc = repo_counts(self.store, st.snapshot_id)
            st.counters["commit_repos_done"] = rc.get("done", 0)
            st.counters["commit_repos_unavailable"] = rc.get("unavailable", 0)
        sid = st.snapshot_id
        con = self.store.con
        lineage = con.sql("SELECT * FROM lineage WHERE snapshot_id = ?", params=[sid]).to_arrow_table()
        ids = [r[0] for r in con.execute("SELECT package_id FROM packages WHERE snapshot_id = ?", [sid]).fetchall()]
        resolved = None
        if lineage.num_rows:
            resolved = lin.resolve_lineage(lineage.cast(DATA_TABLES["lineage"]), ids, self.store.aliases(REGISTRY))
        manifest = self._manifest(st, finished=True)
        notes = self._notes(st, lineage_rows=lineage.num_rows, unresolved=(
            resolved.column("parent_id").null_count if resolved is not None else 0))  # fmt: skip
        with self.store.transaction() as tx:
            if resolved is not None:
                tx.execute("DELETE FROM lineage WHERE snapshot_id = ?", [sid])
                self.store.append_rows("lineage", resolved, sid)
            st.save(tx)
            tx.execute(
                "UPDATE snapshots SET status = 'complete', row_count = ?, manifest = ?, notes = ? "
                "WHERE snapshot_id = ?",
                [st.models, json.dumps(manifest, sort_keys=True), notes, sid],
            )
        self._emit("finished", st)
        return CrawlResult(sid, resumed, st.pages, st.models, dict(st.counters), manifest)

    def _notes(self, st: CrawlState, *, lineage_rows: int, unresolved: int) -> str:
        p = st.params
        unit = f"{p.get('repo_type', 'model')}s"
        if p.get("commits_only"):
            parts = [f"commit histories only (no listing) from {st.endpoint}"]
        else:
            parts = [f"live crawl of {st.endpoint}" + ("" if unit == "models" else f" ({unit})")]
        if p.get("sort"):
            parts.append(f"sorted by {p['sort']}")
        if p.get("filters"):
            parts.append("filter " + ",".join(p["filters"]))
        if p.get("author"):
            parts.append(f"author {p['author']}")
        if p.get("limit"):
            parts.append(f"partial listing: first {p['limit']} {unit}")
        c = st.counters
        if c.get("skipped_records"):
            parts.append(f"{c['skipped_records']} malformed records skipped (--skip-bad-records; see manifest)")
        if c.get("duplicates"):
            parts.append(f"{c['duplicates']} repeated listings dropped (first occurrence kept)")
        if p.get("cards"):
            parts.append(
                f"cards: {c.get('cards_fetched', 0)} requested ({c.get('cards_missing', 0)} of them without a "
                f"README, {c.get('cards_unavailable', 0)} gated, private or gone"
                + (f", {c['cards_offsite']} served from another host and not fetched" if c.get("cards_offsite") else "")
                + "), "
                + (
                    f"{c.get('cards_copied', 0)} copied from {p['since_snapshot']}"
                    if p.get("since_snapshot")
                    else "none copied (no base snapshot)"
                )
            )
        if st_wants_commits(st):
            chosen = []
            if p.get("commits_top"):
                chosen.append(f"the top {p['commits_top']} by downloads of {p.get('commits_base') or 'this snapshot'}")
            if p.get("commits_from"):
                chosen.append(f"the ids in {Path(p['commits_from']).name}")
            parts.append(
                f"commit histories of {c.get('commit_repos', 0)} repositories ({' and '.join(chosen)}): "
                f"{c.get('commits', 0)} commits; {c.get('commit_repos_unavailable', 0)} repositories gated, private "
                "or gone; files and formats per commit unknown (the Hub's commit list does not say)"
            )
        if lineage_rows:
            parts.append(f"lineage: {lineage_rows} references, {lineage_rows - unresolved} resolved")
        if int(c.get("runs", 1)) > 1:
            parts.append(f"resumed {int(c['runs']) - 1} time(s)")
        return "; ".join(parts)

    def _manifest(self, st: CrawlState, *, finished: bool) -> dict[str, Any]:
        return mf.build_manifest(
            endpoint=st.endpoint,
            params=st.params,
            counters=st.counters,
            pages=st.pages,
            models=st.models,
            finished=finished,
            policy=self.policy.to_dict(),
            authenticated=self.http.authenticated,
            crawler_version=CRAWLER_VERSION,
        )

    def _emit(self, phase: Phase, st: CrawlState) -> None:
        if self.progress is None:
            return
        s = self.http.stats
        c = st.counters
        self.progress(
            CrawlProgress(
                phase=phase,
                snapshot_id=st.snapshot_id,
                pages=st.pages,
                models=st.models,
                total=self._total,
                requests=s.list_requests + s.card_requests + s.commit_requests,
                retries=s.retries,
                cards_fetched=int(c.get("cards_fetched", 0)),
                elapsed_s=time.monotonic() - self._t0,
                models_this_run=self._models_this_run,
                unit=self.unit,
                commits=int(c.get("commits", 0)),
                repos_total=int(c.get("commit_repos", 0)),
            )
        )


def st_wants_commits(st: CrawlState) -> bool:
    """Whether the stored crawl fetches commit histories."""
    p = st.params
    return bool(p.get("commits_top") or p.get("commits_from") or p.get("commits_only"))


# -- module-level API --------------------------------------------------------------------


def crawl_hf(store: Store, params: CrawlParams, **kw: Any) -> CrawlResult:
    """Take (or resume) a snapshot of the Hub listing.  Raises :class:`CrawlError` on a stop."""
    return HubCrawler(store, params, **kw).run()


def _kind(source_format: str) -> str:
    return "commits" if source_format == COMMITS_FORMAT else "listing"


def abort(store: Store, registry: str = REGISTRY, source_format: str = SOURCE_FORMAT) -> list[str]:
    """Delete every in-progress crawl of one kind (rows, state, page log, queued repositories). Returns their ids."""
    ensure_tables(store)
    ids = [s.snapshot_id for s in in_progress_crawls(store, registry, source_format)]
    for sid in ids:
        store.delete_snapshot(sid)
    return ids


def status(store: Store, registry: str | None = None, source_format: str | None = None) -> list[dict[str, Any]]:
    """Unfinished crawls (of one kind, or all): snapshot id, pages and rows committed, the cursor to resume from.

    Works on a read-only store (a store that never saw a crawl has none).
    """
    if store.read_only:
        # information_schema, not Store.has_table: ibis' list_tables fails on a read-only DuckDB connection here
        if not store.con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'crawl_state'"
        ).fetchall()[0][0]:
            return []
    else:
        ensure_tables(store)
    has_repos = bool(
        store.con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'crawl_repos'").fetchall()[
            0
        ][0]
    )
    out = []
    for st in in_progress_crawls(store, registry, source_format):
        fmt = store.snapshot(st.snapshot_id).source_format
        row: dict[str, Any] = {
            "snapshot_id": st.snapshot_id,
            "registry": st.registry,
            "kind": _kind(fmt),
            "endpoint": st.endpoint,
            "pages": st.pages,
            "models": st.models,
            "next_cursor": cursor_of(st.next_url),
            "next_url": st.next_url,
            "params": st.params,
            "runs": int(st.counters.get("runs", 1)),
            "commits": int(st.counters.get("commits", 0)),
        }
        if has_repos:
            todo = store.con.execute(
                "SELECT repo_id, next_url FROM crawl_repos WHERE snapshot_id = ? AND status = 'todo' "
                "ORDER BY seq LIMIT 1",
                [st.snapshot_id],
            ).fetchall()
            row["repos_left"] = int(store.con.execute(
                "SELECT count(*) FROM crawl_repos WHERE snapshot_id = ? AND status = 'todo'", [st.snapshot_id]
            ).fetchall()[0][0])  # fmt: skip
            if st.listing_done and todo:
                row["next_repo"] = todo[0][0]
                row["next_cursor"] = f"{todo[0][0]} {cursor_of(todo[0][1])}"
        out.append(row)
    return out


__all__ = [
    "COMMITS_FORMAT",
    "CRAWLER_VERSION",
    "DATASET_EXPANDS",
    "DEFAULT_DATASET_EXPAND",
    "DEFAULT_EXPAND",
    "EXPANDS",
    "SORTS",
    "CrawlArgumentError",
    "CrawlError",
    "CrawlParams",
    "CrawlProgress",
    "CrawlResult",
    "HubCrawler",
    "MalformedPage",
    "RequestFailed",
    "abort",
    "crawl_hf",
    "read_repo_ids",
    "resolve_endpoint",
    "status",
]
