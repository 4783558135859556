"""The manifest of a crawl snapshot (JSON text in ``snapshots.manifest``).

It records where the data came from and how it was fetched, so a reader can
judge and repeat the crawl: endpoint, parameters, start/finish time, number of
runs (1 + resumptions), pages, models, requests (listing, cards and commit
histories separately), retries, rate-limit hits, duplicates dropped, card counts, the
retry policy, whether a token was used (never the token), and the versions of
the libraries involved.  Request counts cover committed work: requests made
for a page that was never committed (the process was killed) are not counted.
"""

from __future__ import annotations

import platform
from functools import cache
from importlib import metadata
from typing import Any

from .. import __version__

LIBRARIES = ("huggingface_hub", "httpx2", "duckdb", "pyarrow", "ibis-framework", "rich", "typer")


@cache
def _versions() -> tuple[tuple[str, str], ...]:
    return tuple(_library_versions().items())


def library_versions() -> dict[str, str]:
    return dict(_versions())


def _library_versions() -> dict[str, str]:
    out = {"python": platform.python_version(), "ptmscope": __version__}
    for name in LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "absent"
    return out


def build_manifest(
    *,
    endpoint: str,
    params: dict[str, Any],
    counters: dict[str, Any],
    pages: int,
    models: int,
    finished: bool,
    policy: dict[str, Any],
    authenticated: bool,
    crawler_version: str,
) -> dict[str, Any]:
    c = dict(counters)
    list_requests = int(c.get("list_requests", 0))
    return {
        "kind": "hf-crawl",
        "crawler_version": crawler_version,
        "endpoint": endpoint,
        "params": params,
        "started_at": c.pop("started_at", None),
        "finished_at": c.pop("finished_at", None) if finished else None,
        "complete": finished,
        "runs": int(c.pop("runs", 1)),
        "pages": pages,
        "models": models,
        "counters": c,
        "requests": list_requests + int(c.get("card_requests", 0)) + int(c.get("commit_requests", 0)),
        "retries": int(c.get("retries", 0)),
        "list_requests_per_1000_models": round(1000 * list_requests / models, 3) if models else None,
        "retry_policy": policy,
        "authenticated": authenticated,
        "library_versions": library_versions(),
    }
