"""Resumable, incremental crawl of the Hugging Face Hub model listing into a snapshot.

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
``finish``  once the Hub sends no ``rel="next"`` link (or ``limit`` is
            reached): resolve lineage across all pages, mark the snapshot
            ``complete`` and write its manifest, in one transaction.

A second ``crawl`` on a store with an ``in_progress`` hf crawl resumes it (its
parameters must match); ``abort`` deletes it.

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
from typing import Any, Literal, get_args
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import pyarrow as pa
from huggingface_hub import constants as hf_constants
from huggingface_hub.hf_api import ExpandModelProperty_T, ModelSort_T

from .. import lineage as lin
from ..errors import InputError, PtmscopeError
from ..schema import DATA_TABLES, Snapshot, make_snapshot_id
from ..sources import hf_api
from ..store import Store
from . import manifest as mf
from .http import CrawlError, HubHTTP, RequestFailed
from .retry import Clock, RetryPolicy
from .state import CrawlState, ensure_tables, in_progress_crawls, record_page

CRAWLER_VERSION = "1"
SOURCE_FORMAT = "hf-crawl"
REGISTRY = "hf"
MAX_PAGE_SIZE = 1000  # the Hub caps ``limit`` per page at 1,000

ModelSort = ModelSort_T
SORTS: tuple[str, ...] = get_args(ModelSort_T)
# huggingface_hub's own mapping of sort names to the API's field names (see HfApi.list_models)
_SORT_API = {"last_modified": "lastModified", "created_at": "createdAt", "trending_score": "trendingScore"}

# The listing endpoint refuses these (they exist only on /api/models/{id}).
LIST_REFUSED_EXPAND = frozenset({"baseModels", "childrenModelCount", "usedStorage"})
EXPANDS: tuple[str, ...] = tuple(e for e in get_args(ExpandModelProperty_T) if e not in LIST_REFUSED_EXPAND)
# What the metrics need, in one request per page.  ``config`` gives model_type;
# ``cardData`` gives licence and base_model lineage; ``safetensors`` the format.
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
    "tags",
)

Phase = Literal["started", "resumed", "page", "finished"]


class CrawlArgumentError(PtmscopeError):
    """Bad or conflicting crawl parameters (nothing was fetched or written)."""


class MalformedPage(CrawlError):
    """A page that cannot be parsed or validated; nothing of it is written."""


@dataclass(frozen=True)
class CrawlParams:
    """What to crawl.  Everything but ``card_workers`` identifies the crawl (checked on resume)."""

    endpoint: str
    sort: str | None = None
    filters: tuple[str, ...] = ()
    author: str | None = None
    search: str | None = None
    limit: int | None = None
    page_size: int = MAX_PAGE_SIZE
    expand: tuple[str, ...] = DEFAULT_EXPAND
    cards: bool = False
    full: bool = False
    since_snapshot: str | None = None
    skip_bad_records: bool = False
    card_workers: int = 8

    def __post_init__(self) -> None:
        if self.sort is not None and self.sort not in SORTS:
            raise CrawlArgumentError(f"--sort must be one of {', '.join(SORTS)}, not {self.sort!r}")
        bad = [e for e in self.expand if e not in EXPANDS]
        if bad:
            raise CrawlArgumentError(
                f"--expand: {', '.join(bad)} not accepted by the model listing (accepted: {', '.join(EXPANDS)})"
            )
        if not self.expand:
            raise CrawlArgumentError("--expand must name at least one field")
        if not 1 <= self.page_size <= MAX_PAGE_SIZE:
            raise CrawlArgumentError(f"--page-size must be between 1 and {MAX_PAGE_SIZE}, not {self.page_size}")
        if self.limit is not None and self.limit < 1:
            raise CrawlArgumentError(f"--limit must be positive, not {self.limit}")
        if self.card_workers < 1:
            raise CrawlArgumentError("--card-workers must be at least 1")
        if self.cards and "sha" not in self.expand:
            raise CrawlArgumentError("--cards needs `sha` in --expand (cards are fetched at the listed revision)")
        if self.full and self.since_snapshot:
            raise CrawlArgumentError("--full and --since-snapshot exclude each other")

    @classmethod
    def from_identity(cls, ident: Mapping[str, Any], *, card_workers: int = 8) -> CrawlParams:
        """The parameters of a stored crawl (``crawl_state.params``), to resume it as it was started."""
        d = dict(ident)
        d["filters"] = tuple(d.get("filters") or ())
        d["expand"] = tuple(d.get("expand") or ())
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in d.items() if k in known}, card_workers=card_workers)

    def identity(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("card_workers")
        d["filters"] = list(self.filters)
        d["expand"] = list(self.expand)
        return d

    def first_url(self) -> str:
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
        return f"{self.endpoint}/api/models?{urlencode(q)}"


def resolve_endpoint(endpoint: str | None) -> str:
    """``--endpoint`` wins, then ``$HF_ENDPOINT``, then huggingface_hub's default."""
    ep = endpoint or os.environ.get("HF_ENDPOINT") or hf_constants.ENDPOINT
    ep = ep.strip().rstrip("/")
    if not re.match(r"^https?://[^/\s]+", ep):
        raise CrawlArgumentError(f"--endpoint must be an http(s) URL, not {ep!r}")
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
    cur = q.get("cursor")
    if not cur:
        return "first page"
    c = cur[-1]
    return c if len(c) <= 60 else c[:57] + "..."


_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "sha": (str,),
    "library_name": (str,),
    "pipeline_tag": (str,),
    "cardData": (dict,),
    "config": (dict,),
    "safetensors": (dict,),
    "private": (bool,),
    "author": (str,),
    "lastModified": (str,),
    "createdAt": (str,),
}


def check_item(item: Any, where: str, i: int) -> str:
    """The model id of one listing item; :class:`MalformedPage` when its shape or types are wrong."""
    if not isinstance(item, dict):
        raise MalformedPage(f"{where}: item {i}: expected an object, got {type(item).__name__}")
    rid = item.get("id", item.get("modelId"))
    if not isinstance(rid, str) or not rid.strip():
        raise MalformedPage(f"{where}: item {i}: missing or empty model id (field `id`)")
    for name, types in _FIELD_TYPES.items():
        v = item.get(name)
        if v is not None and not isinstance(v, types):
            raise MalformedPage(
                f"{where}: item {i} ({rid}): field `{name}` should be {types[0].__name__}, got {type(v).__name__}"
            )
    return rid


def parse_page(
    body: bytes, url: str, page_no: int, *, skip_bad_records: bool = False
) -> tuple[list[dict[str, Any]], list[str]]:
    """Parse and validate one listing page: (good items, messages about skipped items).

    Raises :class:`MalformedPage` naming the cursor when the body is not a
    JSON array, or when an item is malformed and ``skip_bad_records`` is off.
    With it on, items that fail these checks or the converter's own are
    dropped and described in the returned messages.
    """
    where = f"page {page_no + 1} (cursor {cursor_of(url)})"
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MalformedPage(f"{where}: invalid JSON ({exc}); {len(body)} bytes received") from None
    if not isinstance(data, list):
        raise MalformedPage(f"{where}: expected a JSON array of models, got {type(data).__name__}")
    good: list[dict[str, Any]] = []
    bad: list[str] = []
    for i, item in enumerate(data):
        try:
            check_item(item, where, i)
            if skip_bad_records:
                hf_api.model_row(item, source=where, line=i)
        except (MalformedPage, InputError) as exc:
            if not skip_bad_records:
                raise MalformedPage(str(exc)) from None
            bad.append(str(exc))
            continue
        good.append(item)
    return good, bad


def _item_id(item: Mapping[str, Any]) -> str:
    return str(item.get("id", item.get("modelId"))).strip()


class HubCrawler:
    """Crawl one snapshot of the Hub listing into a store.  See the module docstring."""

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
        ensure_tables(store)

    # -- public ---------------------------------------------------------------
    def run(self) -> CrawlResult:
        state, resumed = self._start_or_resume()
        base = self._counters_base(state)
        self._emit("resumed" if resumed else "started", state)
        with ThreadPoolExecutor(max_workers=self.params.card_workers, thread_name_prefix="ptmscope-card") as pool:
            while not state.listing_done:
                self._one_page(state, base, pool)
        return self._finish(state, base, resumed)

    # -- start / resume ---------------------------------------------------------
    def _start_or_resume(self) -> tuple[CrawlState, bool]:
        pending = in_progress_crawls(self.store, REGISTRY)
        ident = self.params.identity()
        if pending:
            st = pending[-1]
            wanted = dict(ident)
            if self.params.since_snapshot is None:  # resolved when the crawl started
                wanted["since_snapshot"] = st.params.get("since_snapshot")
            if st.params != wanted:
                diff = sorted(k for k in set(st.params) | set(wanted) if st.params.get(k) != wanted.get(k))
                raise CrawlArgumentError(
                    f"the store holds an unfinished crawl {st.snapshot_id} with other parameters "
                    f"({', '.join(f'{k}={st.params.get(k)!r} (now {wanted.get(k)!r})' for k in diff)}); "
                    "rerun with the same parameters or --resume to continue it, or --abort to discard it"
                )
            st.counters["runs"] = int(st.counters.get("runs", 1)) + 1
            return st, True
        since = self._base_snapshot()
        ident["since_snapshot"] = since
        started = dt.datetime.now(dt.UTC)
        taken = self.today or started.date()
        digest = hashlib.sha256(
            json.dumps({"params": ident, "started_at": started.isoformat()}, sort_keys=True).encode()
        ).hexdigest()
        sid = make_snapshot_id(REGISTRY, taken, digest)
        counters = {"runs": 1, "started_at": started.isoformat(timespec="seconds")}
        st = CrawlState(sid, REGISTRY, self.params.endpoint, ident, self.params.first_url(), False, 0, 0, counters)
        snap = Snapshot(
            snapshot_id=sid,
            registry=REGISTRY,
            taken_at=taken,
            source_format=SOURCE_FORMAT,
            source_file=f"{self.params.endpoint}/api/models",
            source_sha256=digest,
            row_count=0,
            importer_version=CRAWLER_VERSION,
            notes="crawl in progress (resume: rerun `ptmscope crawl hf`; discard: --abort)",
            status="in_progress",
            manifest=json.dumps(self._manifest(st, finished=False), sort_keys=True),
        )
        with self.store.transaction() as con:
            self.store.insert_snapshot(snap)
            st.insert(con)
        return st, False

    def _base_snapshot(self) -> str | None:
        p = self.params
        if not p.cards or p.full:
            return None
        if p.since_snapshot:
            snap = self.store.snapshot(p.since_snapshot)  # raises when absent
            if snap.registry != REGISTRY or snap.status != "complete":
                raise CrawlArgumentError(f"--since-snapshot {p.since_snapshot}: not a complete hf snapshot")
            return snap.snapshot_id
        row = self.store.con.execute(
            "SELECT s.snapshot_id FROM snapshots s WHERE s.registry = ? AND s.source_format = ? "
            "AND s.status = 'complete' AND EXISTS (SELECT 1 FROM cards c WHERE c.snapshot_id = s.snapshot_id) "
            "ORDER BY s.taken_at DESC, s.ingested_at DESC LIMIT 1",
            [REGISTRY, SOURCE_FORMAT],
        ).fetchall()
        return row[0][0] if row else None

    def _counters_base(self, st: CrawlState) -> dict[str, int]:
        keys = (
            "list_requests", "card_requests", "retries", "rate_limited", "duplicates",
            "cards_fetched", "cards_copied", "cards_missing", "cards_unavailable", "malformed_pages",
            "skipped_records",
        )  # fmt: skip
        return {k: int(st.counters.get(k, 0)) for k in keys}

    # -- one page ----------------------------------------------------------------
    def _fetch_page(self, url: str, page_no: int) -> _Page:
        what = f"page {page_no + 1} (cursor {cursor_of(url)})"
        for attempt in range(self.policy.malformed_retries + 1):
            r = self.http.get(url, kind="list", what=what)
            body = r.content
            try:
                items, skipped = parse_page(body, url, page_no, skip_bad_records=self.params.skip_bad_records)
            except MalformedPage:
                self._malformed += 1
                if attempt == self.policy.malformed_retries:
                    raise
                self.http.stats.add(retries=1)
                self.clock.wait(self.http._backoff(attempt))
                continue
            nxt = r.links.get("next", {}).get("url")
            if nxt:
                nxt = urljoin(url, nxt)
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
            tables = hf_api.records_to_tables(keep, st.snapshot_id, source=where, cards=cards)
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
        for k, v in extra.items():
            self._run_extra[k] = self._run_extra.get(k, 0) + v
        self._models_this_run += len(keep)
        self._emit("page", st)

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
        c["retries"] += s.retries
        c["rate_limited"] += s.rate_limited
        c["malformed_pages"] += self._malformed
        for src in (self._run_extra, extra or {}):
            for k, v in src.items():
                c[k] = c.get(k, 0) + v
        return c

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
        missing = unavailable = 0
        for (rid, _), (status, text) in zip(todo, results, strict=False):
            if status == "ok":
                cards[rid] = text
            elif status == "missing":
                cards[rid] = None
                missing += 1
            else:
                unavailable += 1
        return cards, {
            "cards_fetched": len(todo) - unavailable,
            "cards_copied": copied,
            "cards_missing": missing,
            "cards_unavailable": unavailable,
        }

    def _fetch_card(self, repo_id: str, revision: str) -> tuple[str, str | None]:
        url = self.http.readme_url(repo_id, revision)
        r = self.http.get(url, kind="card", what=f"card of {repo_id}", ok_status=(401, 403, 404, 410))
        if r.status_code == 404 and r.headers.get("x-error-code", "EntryNotFound") == "EntryNotFound":
            return "missing", None
        if r.status_code >= 300:
            return "unavailable", None
        return "ok", r.content.decode("utf-8", errors="replace")

    # -- finish ------------------------------------------------------------------------
    def _finish(self, st: CrawlState, base: dict[str, int], resumed: bool) -> CrawlResult:
        st.counters.update(self._totals(base))
        st.counters["finished_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
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
        parts = [f"live crawl of {st.endpoint}"]
        if p.get("sort"):
            parts.append(f"sorted by {p['sort']}")
        if p.get("filters"):
            parts.append("filter " + ",".join(p["filters"]))
        if p.get("author"):
            parts.append(f"author {p['author']}")
        if p.get("limit"):
            parts.append(f"partial listing: first {p['limit']} models")
        c = st.counters
        if c.get("skipped_records"):
            parts.append(f"{c['skipped_records']} malformed records skipped (--skip-bad-records; see manifest)")
        if c.get("duplicates"):
            parts.append(f"{c['duplicates']} repeated listings dropped (first occurrence kept)")
        if p.get("cards"):
            parts.append(
                f"cards: {c.get('cards_fetched', 0)} requested ({c.get('cards_missing', 0)} of them without a "
                f"README, {c.get('cards_unavailable', 0)} gated, private or gone), "
                + (
                    f"{c.get('cards_copied', 0)} copied from {p['since_snapshot']}"
                    if p.get("since_snapshot")
                    else "none copied (no base snapshot)"
                )
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
        self.progress(
            CrawlProgress(
                phase=phase,
                snapshot_id=st.snapshot_id,
                pages=st.pages,
                models=st.models,
                total=self._total,
                requests=s.list_requests + s.card_requests,
                retries=s.retries,
                cards_fetched=int(st.counters.get("cards_fetched", 0)),
                elapsed_s=time.monotonic() - self._t0,
                models_this_run=self._models_this_run,
            )
        )


# -- module-level API --------------------------------------------------------------------


def crawl_hf(store: Store, params: CrawlParams, **kw: Any) -> CrawlResult:
    """Take (or resume) a snapshot of the Hub listing.  Raises :class:`CrawlError` on a stop."""
    return HubCrawler(store, params, **kw).run()


def abort(store: Store, registry: str = REGISTRY) -> list[str]:
    """Delete every in-progress crawl snapshot of ``registry`` (rows, state, page log). Returns their ids."""
    ensure_tables(store)
    ids = [s.snapshot_id for s in in_progress_crawls(store, registry)]
    for sid in ids:
        store.delete_snapshot(sid)
    return ids


def status(store: Store, registry: str = REGISTRY) -> list[dict[str, Any]]:
    """Unfinished crawls: snapshot id, pages and models committed, the cursor to resume from.

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
    out = []
    for st in in_progress_crawls(store, registry):
        out.append(
            {
                "snapshot_id": st.snapshot_id,
                "endpoint": st.endpoint,
                "pages": st.pages,
                "models": st.models,
                "next_cursor": cursor_of(st.next_url),
                "next_url": st.next_url,
                "params": st.params,
                "runs": int(st.counters.get("runs", 1)),
            }
        )
    return out


__all__ = [
    "CRAWLER_VERSION",
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
    "resolve_endpoint",
    "status",
]
