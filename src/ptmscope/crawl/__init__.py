"""Live snapshots of registries: resumable, incremental, polite crawlers.

``ptmscope.crawl.hub`` crawls the Hugging Face Hub model listing; see its
docstring for the state machine, the duplicate rule and the card policy, and
``docs/crawl.md`` for taking, resuming and scheduling snapshots.
"""

from __future__ import annotations

from .http import CrawlError, RequestFailed
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
    "RequestFailed",
    "RetryPolicy",
    "abort",
    "crawl_hf",
    "resolve_endpoint",
    "status",
]
