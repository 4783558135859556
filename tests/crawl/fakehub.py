"""A local fake of the Hugging Face Hub listings and commit lists, for crawler tests and benchmarks.

It serves ``GET /api/models`` and ``GET /api/datasets`` the way the Hub does
(``limit`` page size capped at 1,000, ``sort``, ``filter``, ``author``,
``expand=...`` returning only ``_id``, ``id`` and the expanded fields, an
opaque key-based ``cursor`` in a ``Link: <...>; rel="next"`` header),
``GET /{repo}/resolve/{rev}/README.md`` and ``GET /datasets/{repo}/resolve/{rev}/README.md``,
and ``GET /api/{models|datasets}/{repo}/commits/{rev}`` (newest first,
``limit`` per page, ``p`` page number in the next link; ``rev`` is ``main``,
the listed sha or a commit of the history, which then lists that commit and
its ancestors).

Records come from the real 2022-02 dump (:func:`load_dump`), the real
2023-03 dataset listing (:func:`load_datasets`), the real safetensors
commit history (:func:`load_commit_history`) or the synthetic generators.
Faults are injected with :meth:`FakeHub.add_fault`: 429 (Retry-After or
RateLimit headers), 503, slow responses, a body trickled one byte at a time,
a body cut short (transport error), bad JSON, wrong types (any field, any
value), a missing id, a key repeated in one object, a page whose content
changes between requests (``shift``), forbidden cards, a next link or a
redirect to another host, a redirect on the same host.

Runs on 127.0.0.1 in a daemon thread (``with FakeHub(records, cards) as hub:``);
``python -m tests.crawl.fakehub`` is not needed: benchmarks import it.
"""

from __future__ import annotations

import base64
import bisect
import gzip
import hashlib
import json
import random
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

import yaml

DATASET_FIELDS = ("likes", "downloads", "tags", "private", "createdAt", "lastModified")

MAX_LIMIT = 1000
DEFAULT_LIMIT = 1000
# expand values the real listing refuses (only /api/models/{id} accepts them)
LIST_REFUSED_EXPAND = {"baseModels", "childrenModelCount", "usedStorage"}
KNOWN_EXPAND = {
    "author", "cardData", "config", "createdAt", "disabled", "downloads", "downloadsAllTime", "evalResults",
    "gated", "gguf", "inference", "inferenceProviderMapping", "lastModified", "library_name", "likes",
    "mask_token", "model-index", "pipeline_tag", "private", "resourceGroup", "safetensors", "sha", "siblings",
    "spaces", "tags", "transformersInfo", "trendingScore", "widgetData",
}  # fmt: skip
# fields the listing returns when no expand is given
DEFAULT_FIELDS = ("likes", "downloads", "tags", "pipeline_tag", "library_name", "private", "createdAt")
SORT_KEYS = {"downloads", "likes", "createdAt", "lastModified", "trendingScore"}


# -- data ------------------------------------------------------------------------


def load_dump(folder: Path, limit: int | None = None) -> tuple[list[dict], dict[str, str | None]]:
    """Records (with ``id``) and README texts (None = no README) of the 2022-02 dump."""
    records: list[dict] = []
    with gzip.open(folder / "model_infos.jsonl.gz", "rt", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            r.pop("_path", None)
            r["id"] = r["modelId"]
            records.append(r)
            if limit is not None and len(records) >= limit:
                break
    wanted = {r["id"] for r in records}
    cards: dict[str, str | None] = {}
    with gzip.open(folder / "model_cards.jsonl.gz", "rt", encoding="utf-8") as f:
        for line in f:
            c = json.loads(line)
            if c["modelId"] in wanted:
                cards[c["modelId"]] = None if c.get("readme_missing") else c.get("readme")
    return records, cards


def load_datasets(folder: Path, limit: int | None = None) -> tuple[list[dict], dict[str, str | None]]:
    """Dataset records and README texts of the 2023-03 dataset-card study, shaped as the Hub lists them.

    ``id`` = ``dataset_name``; ``author``; ``createdAt`` (ISO-8601 from the
    study's git-style date); ``downloads``; ``tags`` = one
    ``task_categories:`` tag per task of the study's comma-separated
    ``task``; a made-up ``sha``.  README: the study's card when it has a
    non-empty one, an empty README when it has only an empty one, none
    (404) when it has no card.
    """
    import datetime as dt

    import pyarrow.parquet as pq

    t = pq.read_table(folder / "dataset_info.parquet").to_pylist()
    if limit is not None:
        t = t[:limit]
    records, cards = [], {}
    for r in t:
        created = dt.datetime.strptime(r["dataset_creation_time"], "%a %b %d %H:%M:%S %Y %z")
        tasks = [x for x in (r["task"] or "").split(",") if x]
        rec = {
            "id": r["dataset_name"],
            "author": r["author"],
            "sha": hashlib.sha1(r["dataset_name"].encode()).hexdigest(),
            "createdAt": created.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "downloads": None if r["downloads"] is None else int(r["downloads"]),
            "tags": [f"task_categories:{x}" for x in tasks],
            "private": False,
        }
        records.append(rec)
        cards[rec["id"]] = "" if r["has_card"] else None
    wanted = set(cards)
    with gzip.open(folder / "dataset_cards.jsonl.gz", "rt", encoding="utf-8") as f:
        for line in f:
            c = json.loads(line)
            if c["dataset_name"] in wanted:
                cards[c["dataset_name"]] = c["card"]
    return records, cards


def load_commit_history(csv_path: Path) -> dict[str, list[dict]]:
    """Commit lists (newest first, as the Hub's commit API items) of the safetensors-history CSV.

    One item per distinct (repo, commit): ``id`` the hash, ``title`` the
    message up to its first blank line, ``message`` the rest, ``authors`` the
    one author, ``date`` the CSV's UTC date in ISO-8601.
    """
    import csv

    by_repo: dict[str, dict[str, dict]] = {}
    with open(csv_path, encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            msg = r["message"]
            title, body = msg.split("\n\n", 1) if "\n\n" in msg else (msg, "")
            by_repo.setdefault(r["repo_url"], {}).setdefault(
                r["commit_hash"],
                {
                    "id": r["commit_hash"],
                    "title": title,
                    "message": body,
                    "authors": [{"user": r["author"]}],
                    "date": r["date"].replace(" ", "T") + ".000Z",
                },
            )
    return {repo: sorted(cs.values(), key=lambda c: (c["date"], c["id"]), reverse=True) for repo, cs in by_repo.items()}


def synthetic_commits(repo_ids: list[str], seed: int = 0, most: int = 12) -> dict[str, list[dict]]:
    """Small deterministic histories (newest first), some long enough to span pages."""
    rng = random.Random(seed)
    out: dict[str, list[dict]] = {}
    for n, rid in enumerate(repo_ids):
        k = 1 + (n * 7 + rng.randrange(most)) % most
        commits = []
        for j in range(k):
            title = ["initial commit", "Upload model", "Update README.md", "Training in progress, step 500",
                     "Adding `safetensors` variant of this model"][j % 5] if j else "initial commit"  # fmt: skip
            commits.append(
                {
                    "id": hashlib.sha1(f"{rid}-{j}-{seed}".encode()).hexdigest(),
                    "title": title,
                    "message": "" if j % 3 else f"details of change {j}\n\nCo-authored-by: bot <bot@x>",
                    "authors": [{"user": ["system", "alice", "bob"][j % 3] if j else "system"}]
                    + ([{"user": "carol"}] if j % 4 == 3 else []),
                    "date": f"2023-{1 + j % 12:02d}-{1 + n % 28:02d}T{j % 24:02d}:00:00.000Z",
                }
            )
        out[rid] = sorted(commits, key=lambda c: (c["date"], c["id"]), reverse=True)
    return out


def synthetic_datasets(n: int, seed: int = 0) -> tuple[list[dict], dict[str, str | None]]:
    """A small deterministic dataset listing with dataset cards (some missing, some licences only in tags)."""
    rng = random.Random(seed)
    tasks = ["text-classification", "translation", "question-answering", None]
    records, cards = [], {}
    for i in range(n):
        rid = f"team{i % 5}/data-{i:04d}" if i % 4 else f"data-{i:04d}"
        t = tasks[i % len(tasks)]
        tags = [f"task_categories:{t}"] if t else []
        if i % 6 == 1:
            tags.append("task_categories:summarization")
        tags += [f"license:{'cc-by-4.0' if i % 2 else 'mit'}", f"size_categories:{'1K<n<10K' if i % 3 else 'n<1K'}"]
        rec = {
            "id": rid,
            "author": rid.split("/")[0] if "/" in rid else "huggingface",
            "sha": hashlib.sha1(f"ds-{rid}-{seed}".encode()).hexdigest(),
            "createdAt": f"2022-{1 + i % 12:02d}-{1 + i % 28:02d}T12:00:00.000Z",
            "lastModified": f"2023-{1 + i % 12:02d}-{1 + i % 28:02d}T12:00:00.000Z",
            "downloads": rng.randrange(0, 50_000) if i % 11 else None,
            "likes": rng.randrange(0, 100),
            "tags": tags,
            "private": False,
            "siblings": [{"rfilename": "README.md"}, {"rfilename": f"data/train-{i}.parquet"}],
        }
        records.append(rec)
        if i % 5 == 4:
            cards[rid] = None
        else:
            front = f"---\nlicense: {'cc-by-4.0' if i % 2 else 'mit'}\n---\n" if i % 3 else ""
            cards[rid] = front + f"# Dataset Card for {rid}\n\n## Dataset Description\n\nNumber {i}.\n"
    return records, cards


def synthetic_records(n: int, seed: int = 0) -> tuple[list[dict], dict[str, str | None]]:
    """A small deterministic Hub: current field names, cards with YAML front matter, some missing."""
    rng = random.Random(seed)
    libs = ["transformers", "diffusers", "timm", None, "sentence-transformers"]
    tasks = ["text-classification", "text-generation", None, "fill-mask"]
    records, cards = [], {}
    for i in range(n):
        rid = f"org{i % 7}/model-{i:05d}" if i % 5 else f"model-{i:05d}"
        lib = libs[i % len(libs)]
        tags = [
            t for t in (lib, "pytorch" if i % 2 else "safetensors", f"license:{'mit' if i % 3 else 'apache-2.0'}") if t
        ]
        j = (i // 10) * 10 + 1  # an earlier namespaced model is the parent of the next nine
        base = f"org{j % 7}/model-{j:05d}" if i % 10 > 1 else None
        if base and base != rid:
            tags.append(f"base_model:finetune:{base}")
        rec = {
            "id": rid,
            "modelId": rid,
            "sha": hashlib.sha1(f"{rid}-{seed}".encode()).hexdigest(),
            "lastModified": f"2024-0{1 + i % 9}-1{i % 10}T10:00:00.000Z",
            "createdAt": f"2023-0{1 + i % 9}-0{1 + i % 9}T08:00:00.000Z",
            "tags": tags,
            "pipeline_tag": tasks[i % len(tasks)],
            "private": False,
            "downloads": rng.randrange(0, 100_000) if i % 13 else None,
            "downloadsAllTime": rng.randrange(100_000, 1_000_000),
            "likes": rng.randrange(0, 500),
            "config": {"model_type": ["bert", "gpt2", "t5"][i % 3]},
        }
        if lib:
            rec["library_name"] = lib
        if i % 4 == 0:
            rec["safetensors"] = {"parameters": {"F32": 1000 + i}, "total": 1000 + i}
        rec["siblings"] = [{"rfilename": ".gitattributes"}, {"rfilename": "config.json"}] + (
            [{"rfilename": "model.safetensors"}] if i % 4 == 0 else [{"rfilename": "pytorch_model.bin"}]
        )
        records.append(rec)
        if i % 6 == 5:
            cards[rid] = None
        else:
            front = f"---\nlicense: {'mit' if i % 3 else 'apache-2.0'}\n"
            if base and base != rid:
                front += f"base_model: {base}\n"
            cards[rid] = front + f"---\n\n# {rid}\n\nA model card for number {i}.\n"
    return records, cards


# -- faults ------------------------------------------------------------------------


@dataclass
class Fault:
    """One injected fault.

    ``page`` (0-based page index in the listing), ``card`` (repo id) or
    ``commits`` (repo id, with ``page`` its page of the history) says where;
    it fires on the first ``times`` matching requests.  Kinds: ``429``
    (``retry_after`` seconds; ``ratelimit=True`` sends ``RateLimit`` headers
    instead), ``503``, ``slow`` (sleep ``delay`` s, then answer normally),
    ``trickle`` (headers at once, then the body one byte every ``delay`` s),
    ``truncated`` (Content-Length promises more than is sent), ``bad_json``,
    ``wrong_type`` (``field`` of one item set to ``value``), ``repeat_key``
    (one item repeats a key), ``missing_id``, ``not_list``, ``shift`` (a model
    already served moves further down the order, so it is served again),
    ``forbidden`` (403 gated), ``gone`` (404 RepositoryNotFound),
    ``offsite_link`` (the next link points to ``target``), ``redirect`` (302
    to ``target``; a path alone stays on this host).
    """

    kind: str
    page: int | None = None
    card: str | None = None
    commits: str | None = None
    times: int = 1
    retry_after: int = 1
    ratelimit: bool = False
    delay: float = 0.0
    field: str = "downloads"
    value: Any = "lots"
    target: str = ""
    stall_after: int | None = None  # trickle: after this many bytes, go silent (30 s)
    fired: int = 0


# -- server ------------------------------------------------------------------------


def _encode_cursor(obj: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode_cursor(tok: str) -> Any:
    pad = "=" * (-len(tok) % 4)
    return json.loads(base64.urlsafe_b64decode(tok + pad))


def _front_matter(text: str | None) -> dict | None:
    if not text or not text.startswith("---"):
        return None
    end = text.find("\n---", 3)
    if end < 0:
        return None
    try:
        data = yaml.load(text[3:end], Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        return None
    return data if isinstance(data, dict) else None


class FakeHub:
    def __init__(
        self,
        records: list[dict],
        cards: dict[str, str | None] | None = None,
        *,
        total_header: bool = True,
        datasets: list[dict] | None = None,
        dataset_cards: dict[str, str | None] | None = None,
        commits: dict[str, list[dict]] | None = None,
    ) -> None:
        self._lock = threading.RLock()
        self.records: dict[str, dict] = {}
        for i, r in enumerate(records):
            r = dict(r)
            r.setdefault("_id", f"{i:024x}")
            self.records[r["id"]] = r
        self.cards = dict(cards or {})
        self.datasets: dict[str, dict] = {}
        for i, r in enumerate(datasets or []):
            r = dict(r)
            r.setdefault("_id", f"d{i:023x}")
            self.datasets[r["id"]] = r
        self.dataset_cards = dict(dataset_cards or {})
        self.commits: dict[str, list[dict]] = {k: list(v) for k, v in (commits or {}).items()}
        self.commit_log: list[tuple[str, int, int]] = []  # (repo id, page, status)
        self.total_header = total_header
        self.page_delay = 0.0  # seconds every listing answer waits (to make crawls slow enough to kill)
        self.faults: list[Fault] = []
        self.requests: Counter[str] = Counter()  # "list", "card", "commits", "other"
        self.list_log: list[tuple[int, int]] = []  # (page index, status)
        self.card_log: list[str] = []  # repo ids whose README was requested
        self.headers_seen: list[dict[str, str]] = []  # request headers, in order
        self._order_cache: dict[str, tuple[list[tuple], list[str]]] = {}
        self._card_data_cache: dict[str, dict | None] = {}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------
    def start(self) -> FakeHub:
        hub = self

        class Handler(_Handler):
            fake = hub

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fakehub", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the hub first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # -- test controls ----------------------------------------------------------
    def add_fault(self, kind: str, **kw: Any) -> Fault:
        f = Fault(kind, **kw)
        with self._lock:
            self.faults.append(f)
        return f

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()

    def update(self, repo_id: str, **changes: Any) -> None:
        with self._lock:
            self.records[repo_id].update(changes)
            self._order_cache.clear()

    def set_card(self, repo_id: str, text: str | None) -> None:
        with self._lock:
            self.cards[repo_id] = text
            self._card_data_cache.pop(repo_id, None)

    def _take_fault(
        self, *, page: int | None = None, card: str | None = None, commits: str | None = None
    ) -> Fault | None:
        with self._lock:
            for f in self.faults:
                if f.fired >= f.times:
                    continue
                if commits is not None:
                    if f.commits == commits and f.page in (None, page):
                        f.fired += 1
                        return f
                    continue
                if f.commits is not None:
                    continue
                if page is not None and f.page == page:
                    f.fired += 1
                    return f
                if card is not None and f.card == card:
                    f.fired += 1
                    return f
        return None

    # -- listing ------------------------------------------------------------------
    def _sort_key(self, r: dict, sort: str | None) -> tuple:
        if sort is None:
            return (r["_id"],)
        v = r.get(sort)
        if sort in ("createdAt", "lastModified"):
            # descending ISO strings: invert by sorting on negated ordinals of characters
            return (0 if v is not None else 1, tuple(-ord(c) for c in (v or "")), r["id"])
        return (0 if v is not None else 1, -(v or 0), r["id"])

    def _order(
        self, sort: str | None, filters: tuple[str, ...], author: str | None, search: str | None, kind: str = "model"
    ):
        key = json.dumps([sort, filters, author, search, kind])
        repos = self.records if kind == "model" else self.datasets
        with self._lock:
            cached = self._order_cache.get(key)
            if cached is not None:
                return cached
            rows = []
            for r in repos.values():
                if author and not r["id"].startswith(author + "/"):
                    continue
                if search and search.lower() not in r["id"].lower():
                    continue
                if filters and not all(
                    f in (r.get("tags") or []) or f in (r.get("library_name"), r.get("pipeline_tag")) for f in filters
                ):
                    continue
                rows.append((self._sort_key(r, sort), r["id"]))
            rows.sort()
            out = ([k for k, _ in rows], [i for _, i in rows])
            self._order_cache[key] = out
            return out

    def _card_data(self, repo_id: str) -> dict | None:
        if repo_id not in self._card_data_cache:
            self._card_data_cache[repo_id] = _front_matter(self.cards.get(repo_id))
        return self._card_data_cache[repo_id]

    def item(self, r: dict, expand: list[str] | None, kind: str = "model") -> dict:
        out: dict[str, Any] = {"_id": r["_id"], "id": r["id"]}
        fields = expand if expand else (DEFAULT_FIELDS if kind == "model" else DATASET_FIELDS)
        for f in fields:
            if f == "author" and kind == "model":
                if "/" in r["id"]:
                    out["author"] = r["id"].split("/", 1)[0]
            elif f == "cardData":
                text = (self.cards if kind == "model" else self.dataset_cards).get(r["id"])
                cd = self._card_data(r["id"]) if kind == "model" else _front_matter(text)
                if cd is not None:
                    out["cardData"] = cd
            elif f in r:
                out[f] = r[f]
        if not expand and kind == "model":
            out["modelId"] = r["id"]
        return out

    def list_page(self, query: dict[str, list[str]], kind: str = "model") -> tuple[int, dict[str, str], bytes, int]:
        """(status, headers, body, page index) of one listing request."""

        def one(name: str) -> str | None:
            v = query.get(name)
            return v[-1] if v else None

        expand = query.get("expand") or query.get("expand[]")
        if expand:
            bad = [e for e in expand if e not in KNOWN_EXPAND or e in LIST_REFUSED_EXPAND]
            if bad:
                return 400, {}, json.dumps({"error": f'"expand" contains invalid values: {bad}'}).encode(), -1
            if one("full") or one("config") or one("cardData"):
                return (
                    400,
                    {},
                    json.dumps({"error": "expand cannot be combined with full/config/cardData"}).encode(),
                    -1,
                )
        sort = one("sort")
        if sort is not None and sort not in SORT_KEYS:
            return 400, {}, json.dumps({"error": f"invalid sort {sort!r}"}).encode(), -1
        try:
            limit = min(MAX_LIMIT, int(one("limit") or DEFAULT_LIMIT))
        except ValueError:
            return 400, {}, b'{"error": "limit must be an integer"}', -1
        filters = tuple(query.get("filter", []))
        cursor = one("cursor")
        page_no, after = 0, None
        if cursor:
            try:
                c = _decode_cursor(cursor)
                page_no, after = int(c["p"]), c["k"]
            except Exception:
                return 400, {}, b'{"error": "invalid cursor"}', -1
        if self.page_delay:
            time.sleep(self.page_delay)
        fault = self._take_fault(page=page_no)
        if fault is not None and fault.kind == "shift":
            self._shift(sort, filters, one("author"), one("search"), after, limit)
        repos = self.records if kind == "model" else self.datasets
        with self._lock:
            keys, ids = self._order(sort, filters, one("author"), one("search"), kind)
            start = 0 if after is None else bisect.bisect_right(keys, _tuplify(after))
            chunk_ids = ids[start : start + limit]
            chunk_keys = keys[start : start + limit]
            items = [self.item(repos[i], expand, kind) for i in chunk_ids]
            total = len(ids)
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if self.total_header:
            headers["X-Total-Count"] = str(total)
        if start + limit < total and chunk_ids:
            params = [(k, v) for k, vs in query.items() if k != "cursor" for v in vs]
            params.append(("cursor", _encode_cursor({"p": page_no + 1, "k": chunk_keys[-1]})))
            headers["Link"] = f'<{self.url}/api/{kind}s?{urlencode(params)}>; rel="next"'
        if fault is not None:
            return self._faulty(fault, headers, items, page_no)
        return 200, headers, json.dumps(items).encode(), page_no

    def _shift(self, sort, filters, author, search, after, limit) -> None:
        """Move the last model already served to the middle of the page about to be served."""
        with self._lock:
            keys, ids = self._order(sort, filters, author, search)
            start = 0 if after is None else bisect.bisect_right(keys, _tuplify(after))
            if start == 0 or start + 1 >= len(ids) or sort not in ("downloads", "likes"):
                raise AssertionError("shift fault needs sort=downloads|likes and a page after the first")
            victim = ids[start - 1]
            target = self.records[ids[min(len(ids) - 1, start + limit // 2)]]
            self.records[victim][sort] = target.get(sort) or 0
            self._order_cache.clear()

    def _faulty(self, fault: Fault, headers: dict, items: list, page_no: int):
        body = json.dumps(items).encode()
        if fault.kind == "trickle":
            return 200, dict(headers, **{"X-Fake-Trickle": f"{fault.delay},{fault.stall_after or ''}"}), body, page_no
        if fault.kind == "offsite_link":
            link = headers.get("Link", f'<{self.url}/api/models?cursor=x>; rel="next"')
            parts = urlsplit(link[1 : link.index(">")])
            moved = fault.target.rstrip("/") + parts.path + ("?" + parts.query if parts.query else "")
            return 200, dict(headers, Link=f'<{moved}>; rel="next"'), body, page_no
        if fault.kind == "redirect":
            return 302, {"Location": fault.target, "Content-Type": "text/plain"}, b"moved", page_no
        if fault.kind == "repeat_key":
            text = json.dumps(items)
            return 200, headers, text.replace('"id": ', '"likes": 1, "likes": 2, "id": ', 1).encode(), page_no
        if fault.kind == "429":
            h = {"Content-Type": "application/json"}
            if fault.ratelimit:
                h["RateLimit"] = f'"api";r=0;t={fault.retry_after}'
                h["RateLimit-Policy"] = '"fixed window";"api";q=500;w=300'
            else:
                h["Retry-After"] = str(fault.retry_after)
            return 429, h, b'{"error": "rate limited"}', page_no
        if fault.kind == "503":
            return 503, {"Content-Type": "application/json"}, b'{"error": "service unavailable"}', page_no
        if fault.kind == "slow":
            time.sleep(fault.delay)
            return 200, headers, body, page_no
        if fault.kind == "truncated":
            headers = dict(headers, **{"X-Fake-Truncate": str(len(body))})
            return 200, headers, body[: len(body) // 2], page_no
        if fault.kind == "bad_json":
            return 200, headers, body[: max(1, len(body) // 2)], page_no
        if fault.kind == "not_list":
            return 200, headers, b'{"models": []}', page_no
        if fault.kind in ("wrong_type", "missing_id"):
            items = [dict(x) for x in items]
            victim = items[len(items) // 2]
            if fault.kind == "wrong_type":
                victim[fault.field] = fault.value
            else:
                victim.pop("id")
            return 200, headers, json.dumps(items).encode(), page_no
        return 200, headers, body, page_no  # "shift" already applied

    # -- README ------------------------------------------------------------------
    def readme(self, repo_id: str, rev: str, kind: str = "model") -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            self.card_log.append(repo_id)
            rec = (self.records if kind == "model" else self.datasets).get(repo_id)
        fault = self._take_fault(card=repo_id)
        if fault is not None:
            if fault.kind == "429":
                return 429, {"Retry-After": str(fault.retry_after)}, b"rate limited"
            if fault.kind == "503":
                return 503, {}, b"unavailable"
            if fault.kind == "forbidden":
                return 403, {"X-Error-Code": "GatedRepo"}, b'{"error": "gated"}'
            if fault.kind == "redirect":
                return 302, {"Location": fault.target}, b"moved"
            if fault.kind == "slow":
                time.sleep(fault.delay)
            if fault.kind == "trickle" and rec is not None:
                text = (self.cards if kind == "model" else self.dataset_cards).get(repo_id) or ""
                return 200, {"X-Fake-Trickle": f"{fault.delay},{fault.stall_after or ''}"}, text.encode("utf-8")
        if rec is None:
            return 404, {"X-Error-Code": "RepoNotFound"}, b'{"error": "Repository not found"}'
        if rev not in (rec.get("sha"), "main"):
            return 404, {"X-Error-Code": "RevisionNotFound"}, b'{"error": "Revision not found"}'
        text = (self.cards if kind == "model" else self.dataset_cards).get(repo_id)
        if text is None:
            return 404, {"X-Error-Code": "EntryNotFound"}, b'{"error": "Entry not found"}'
        return 200, {"Content-Type": "text/plain; charset=utf-8"}, text.encode("utf-8")

    # -- commit lists ----------------------------------------------------------------
    def commit_page(
        self, kind: str, repo_id: str, rev: str, query: dict[str, list[str]]
    ) -> tuple[int, dict[str, str], bytes, int]:
        """(status, headers, body, page index) of one page of a repository's commit list."""
        try:
            limit = min(MAX_LIMIT, int((query.get("limit") or ["50"])[-1]))
            page = int((query.get("p") or ["0"])[-1])
        except ValueError:
            return 400, {}, b'{"error": "bad limit or page"}', -1
        fault = self._take_fault(commits=repo_id, page=page)
        if fault is not None:
            if fault.kind == "429":
                return 429, {"Retry-After": str(fault.retry_after)}, b'{"error": "rate limited"}', page
            if fault.kind == "503":
                return 503, {}, b'{"error": "unavailable"}', page
            if fault.kind == "forbidden":
                return 403, {"X-Error-Code": "GatedRepo"}, b'{"error": "gated"}', page
            if fault.kind == "gone":
                return 404, {"X-Error-Code": "RepoNotFound"}, b'{"error": "Repository not found"}', page
            if fault.kind == "redirect":
                return 302, {"Location": fault.target}, b"moved", page
            if fault.kind == "slow":
                time.sleep(fault.delay)
        with self._lock:
            repos = self.records if kind == "model" else self.datasets
            other = self.datasets if kind == "model" else self.records
            history = self.commits.get(repo_id)
            if (history is None and repo_id not in repos) or (repo_id in other and repo_id not in repos):
                return 404, {"X-Error-Code": "RepoNotFound"}, b'{"error": "Repository not found"}', page
            history = list(history or [])
            sha = (repos.get(repo_id) or {}).get("sha")
        if rev not in ("main", sha):
            at = next((i for i, c in enumerate(history) if c["id"] == rev), None)
            if at is None:
                return 404, {"X-Error-Code": "RevisionNotFound"}, b'{"error": "Revision not found"}', page
            history = history[at:]
        chunk = history[page * limit : (page + 1) * limit]
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if (page + 1) * limit < len(history):
            params = [(k, v) for k, vs in query.items() if k != "p" for v in vs] + [("p", str(page + 1))]
            path = f"/api/{kind}s/{quote(repo_id, safe='/')}/commits/{quote(rev, safe='')}"
            headers["Link"] = f'<{self.url}{path}?{urlencode(params)}>; rel="next"'
        if fault is not None and fault.kind in ("bad_json", "not_list", "wrong_type", "trickle", "truncated",
                                                "offsite_link", "repeat_key"):  # fmt: skip
            items = [dict(c) for c in chunk]
            if fault.kind == "wrong_type" and items:
                items[len(items) // 2][fault.field] = fault.value
                return 200, headers, json.dumps(items).encode(), page
            if fault.kind == "repeat_key":
                return (
                    200,
                    headers,
                    json.dumps(items).replace('"id": ', '"title": "x", "title": "y", "id": ', 1).encode(),
                    page,
                )
            return self._faulty(fault, headers, items, page)
        return 200, headers, json.dumps(chunk).encode(), page

    # -- expectations for tests -------------------------------------------------
    def served_ids(
        self, sort: str | None = None, filters: tuple[str, ...] = (), author: str | None = None, kind: str = "model"
    ) -> list[str]:
        return list(self._order(sort, filters, author, None, kind)[1])


def _tuplify(v: Any) -> Any:
    if isinstance(v, list):
        return tuple(_tuplify(x) for x in v)
    return v


_README = re.compile(r"^/(?P<ds>datasets/)?(?P<repo>.+?)/resolve/(?P<rev>[^/]+)/README\.md$")
_COMMITS = re.compile(r"^/api/(?P<kind>model|dataset)s/(?P<repo>.+?)/commits/(?P<rev>[^/]+)$")


class _Handler(BaseHTTPRequestHandler):
    fake: FakeHub
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: avoid the 40 ms delayed-ACK stall

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        self.fake.headers_seen.append(dict(self.headers.items()))
        if parts.path in ("/api/models", "/api/datasets"):
            kind = parts.path[len("/api/") : -1]
            self.fake.requests["list"] += 1
            status, headers, body, page_no = self.fake.list_page(parse_qs(parts.query, keep_blank_values=True), kind)
            self.fake.list_log.append((page_no, status))
        elif m := _COMMITS.match(parts.path):
            self.fake.requests["commits"] += 1
            repo = unquote(m["repo"])
            status, headers, body, page_no = self.fake.commit_page(
                m["kind"], repo, unquote(m["rev"]), parse_qs(parts.query, keep_blank_values=True)
            )
            self.fake.commit_log.append((repo, page_no, status))
        elif (m := _README.match(parts.path)) and not parts.path.startswith("/api/"):
            self.fake.requests["card"] += 1
            kind = "dataset" if m["ds"] else "model"
            status, headers, body = self.fake.readme(unquote(m["repo"]), unquote(m["rev"]), kind)
        else:
            self.fake.requests["other"] += 1
            status, headers, body = 404, {}, b'{"error": "not found"}'
        promised = headers.pop("X-Fake-Truncate", None)
        trickle = headers.pop("X-Fake-Trickle", None)
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", promised or str(len(body)))
        if promised or trickle:
            self.send_header("Connection", "close")
        self.end_headers()
        try:
            if trickle:
                delay, _, stall = trickle.partition(",")
                self.wfile.flush()
                for i in range(len(body)):
                    if stall and i == int(stall):
                        time.sleep(30)
                    self.wfile.write(body[i : i + 1])
                    self.wfile.flush()
                    time.sleep(float(delay))
                self.close_connection = True
                return
            self.wfile.write(body)
            if promised:
                self.wfile.flush()
                self.close_connection = True
        except (BrokenPipeError, ConnectionResetError):
            pass


def readme_url(endpoint: str, repo_id: str, rev: str) -> str:
    return f"{endpoint}/{quote(repo_id, safe='/')}/resolve/{quote(rev, safe='')}/README.md"
