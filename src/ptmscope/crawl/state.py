"""Crawl state kept in the store, next to the rows it describes.

Three tables, each with a ``snapshot_id`` column so ``Store.delete_snapshot``
(and ``ptmscope crawl hf --abort``) removes them with the snapshot:

``crawl_state``  one row per crawl: endpoint, parameters (JSON), the URL of
                 the next page to fetch (the Hub's ``Link: rel="next"``
                 cursor; null once the listing is exhausted), pages and
                 models committed, counters (JSON).
``crawl_pages``  one row per committed page: page number, the URL fetched,
                 the next URL, rows kept (models, datasets or commits),
                 duplicates dropped, sha256 of the response body, time, kind
                 (``listing`` or ``commits``) and, for commit pages, the repo.
                 Provenance for every row of the snapshot.
``crawl_repos``  the repositories whose commit histories the crawl fetches,
                 in order: where they came from (``top`` N by downloads or
                 the ``file``), the revision, the URL of their next commit
                 page, status (``todo``, ``done``, ``unavailable``), pages
                 and commits committed.

Each page is written in ONE transaction together with its rows and the new
``next_url``, so after a crash the state always names the first page that
is not in the store.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from ..store import Store

CRAWL_STATE_DDL = """
CREATE TABLE IF NOT EXISTS crawl_state (
    snapshot_id VARCHAR NOT NULL,
    registry VARCHAR NOT NULL,
    endpoint VARCHAR NOT NULL,
    params VARCHAR NOT NULL,
    next_url VARCHAR,
    listing_done BOOLEAN NOT NULL,
    pages BIGINT NOT NULL,
    models BIGINT NOT NULL,
    counters VARCHAR NOT NULL,
    started_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
)
"""

CRAWL_PAGES_DDL = """
CREATE TABLE IF NOT EXISTS crawl_pages (
    snapshot_id VARCHAR NOT NULL,
    page_no BIGINT NOT NULL,
    url VARCHAR NOT NULL,
    next_url VARCHAR,
    models BIGINT NOT NULL,
    duplicates BIGINT NOT NULL,
    body_sha256 VARCHAR NOT NULL,
    fetched_at TIMESTAMP NOT NULL,
    kind VARCHAR,
    repo_id VARCHAR
)
"""

CRAWL_REPOS_DDL = """
CREATE TABLE IF NOT EXISTS crawl_repos (
    snapshot_id VARCHAR NOT NULL,
    seq BIGINT NOT NULL,
    repo_id VARCHAR NOT NULL,
    origin VARCHAR NOT NULL,
    revision VARCHAR NOT NULL,
    next_url VARCHAR,
    status VARCHAR NOT NULL,
    pages BIGINT NOT NULL,
    commits BIGINT NOT NULL,
    note VARCHAR
)
"""


def ensure_tables(store: Store) -> None:
    store.con.execute(CRAWL_STATE_DDL)
    store.con.execute(CRAWL_PAGES_DDL)
    store.con.execute(CRAWL_REPOS_DDL)
    for col in ("kind", "repo_id"):  # stores crawled by ptmscope before commit histories existed
        store.con.execute(f"ALTER TABLE crawl_pages ADD COLUMN IF NOT EXISTS {col} VARCHAR")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


@dataclass
class CrawlState:
    snapshot_id: str
    registry: str
    endpoint: str
    params: dict[str, Any]
    next_url: str | None
    listing_done: bool
    pages: int
    models: int
    counters: dict[str, Any] = field(default_factory=dict)
    started_at: dt.datetime = field(default_factory=utcnow)

    def insert(self, con: Any) -> None:
        now = utcnow()
        con.execute(
            "INSERT INTO crawl_state VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                self.snapshot_id,
                self.registry,
                self.endpoint,
                json.dumps(self.params, sort_keys=True),
                self.next_url,
                self.listing_done,
                self.pages,
                self.models,
                json.dumps(self.counters, sort_keys=True),
                self.started_at,
                now,
            ],
        )

    def save(self, con: Any) -> None:
        con.execute(
            "UPDATE crawl_state SET next_url = ?, listing_done = ?, pages = ?, models = ?, counters = ?, "
            "updated_at = ? WHERE snapshot_id = ?",
            [
                self.next_url,
                self.listing_done,
                self.pages,
                self.models,
                json.dumps(self.counters, sort_keys=True),
                utcnow(),
                self.snapshot_id,
            ],
        )


def load_state(store: Store, snapshot_id: str) -> CrawlState | None:
    cur = store.con.execute(
        "SELECT snapshot_id, registry, endpoint, params, next_url, listing_done, pages, models, counters, started_at "
        "FROM crawl_state WHERE snapshot_id = ?",
        [snapshot_id],
    )
    found = cur.fetchall()  # fetch to the end: duckdb refuses other work while a result is open
    if not found:
        return None
    row = found[0]
    return CrawlState(
        snapshot_id=row[0],
        registry=row[1],
        endpoint=row[2],
        params=json.loads(row[3]),
        next_url=row[4],
        listing_done=bool(row[5]),
        pages=int(row[6]),
        models=int(row[7]),
        counters=json.loads(row[8]),
        started_at=row[9],
    )


def in_progress_crawls(store: Store, registry: str | None = "hf", source_format: str | None = None) -> list[CrawlState]:
    """Crawls whose snapshot is still ``in_progress`` (of one registry and kind, or all), oldest first."""
    sql = "SELECT c.snapshot_id FROM crawl_state c JOIN snapshots s USING (snapshot_id) WHERE s.status = 'in_progress'"
    args: list[str] = []
    if registry is not None:
        sql += " AND c.registry = ?"
        args.append(registry)
    if source_format is not None:
        sql += " AND s.source_format = ?"
        args.append(source_format)
    rows = store.con.execute(sql + " ORDER BY c.started_at", args).fetchall()
    out = []
    for (sid,) in rows:
        st = load_state(store, sid)
        if st is not None:
            out.append(st)
    return out


def record_page(
    con: Any,
    snapshot_id: str,
    page_no: int,
    url: str,
    next_url: str | None,
    models: int,
    duplicates: int,
    body_sha256: str,
    *,
    kind: str = "listing",
    repo_id: str | None = None,
) -> None:
    con.execute(
        "INSERT INTO crawl_pages (snapshot_id, page_no, url, next_url, models, duplicates, body_sha256, "
        "fetched_at, kind, repo_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [snapshot_id, page_no, url, next_url, models, duplicates, body_sha256, utcnow(), kind, repo_id],
    )


@dataclass
class RepoTodo:
    """One repository of the commit-history phase (a row of ``crawl_repos``)."""

    seq: int
    repo_id: str
    origin: str
    revision: str
    next_url: str | None
    status: str
    pages: int
    commits: int


def add_repos(con: Any, snapshot_id: str, repos: list[tuple[str, str, str, str]], start: int = 0) -> None:
    """Queue ``(repo_id, origin, revision, first_url)`` for the commit phase, numbered from ``start``."""
    if not repos:
        return
    con.executemany(
        "INSERT INTO crawl_repos VALUES (?, ?, ?, ?, ?, ?, 'todo', 0, 0, NULL)",
        [(snapshot_id, start + i, rid, origin, rev, url) for i, (rid, origin, rev, url) in enumerate(repos)],
    )


def repos_todo(store: Store, snapshot_id: str) -> list[RepoTodo]:
    rows = store.con.execute(
        "SELECT seq, repo_id, origin, revision, next_url, status, pages, commits FROM crawl_repos "
        "WHERE snapshot_id = ? AND status = 'todo' ORDER BY seq",
        [snapshot_id],
    ).fetchall()
    return [RepoTodo(*r) for r in rows]


def repo_counts(store: Store, snapshot_id: str) -> dict[str, int]:
    rows = store.con.execute(
        "SELECT status, count(*) FROM crawl_repos WHERE snapshot_id = ? GROUP BY status", [snapshot_id]
    ).fetchall()
    return {str(k): int(v) for k, v in rows}


def save_repo(con: Any, snapshot_id: str, todo: RepoTodo, note: str | None = None) -> None:
    con.execute(
        "UPDATE crawl_repos SET next_url = ?, status = ?, pages = ?, commits = ?, note = ? "
        "WHERE snapshot_id = ? AND seq = ?",
        [todo.next_url, todo.status, todo.pages, todo.commits, note, snapshot_id, todo.seq],
    )
