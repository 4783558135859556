"""Live snapshots of registries: resumable, incremental, polite crawlers.

``ptmscope.crawl.hub`` crawls the Hugging Face Hub model or dataset listing
and commit histories; see its docstring for the state machine, the
duplicate rule and the card policy, ``ptmscope.crawl.records`` for the types
every answer is checked against, ``ptmscope.crawl.http`` for the
whole-request deadline and the one-origin rule, and ``docs/crawl.md`` for
taking, resuming and scheduling snapshots.
"""

from __future__ import annotations

from .http import CrawlError, OffsiteURL, RequestFailed
from .hub import (
    DEFAULT_EXPAND,
    EXPANDS,
    SORTS,
    CrawlArgumentError,
    CrawlParams,
    CrawlProgress,
    CrawlResult,
    HubCrawler,
    MalformedPage,
    abort,
    crawl_hf,
    read_repo_ids,
    resolve_endpoint,
    status,
)
from .retry import Clock, RetryPolicy

__all__ = [
    "DEFAULT_EXPAND",
    "EXPANDS",
    "SORTS",
    "Clock",
    "CrawlArgumentError",
    "CrawlError",
    "CrawlParams",
    "CrawlProgress",
    "CrawlResult",
    "HubCrawler",
    "MalformedPage",
    "OffsiteURL",
    "RequestFailed",
    "RetryPolicy",
    "abort",
    "crawl_hf",
    "read_repo_ids",
    "resolve_endpoint",
    "status",
]
