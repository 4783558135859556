"""Fixtures of the crawler tests: a fake Hub on 127.0.0.1, a fast retry policy, a fake clock."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ptmscope.crawl import Clock, CrawlParams, RetryPolicy, crawl_hf
from ptmscope.store import Store

from .fakehub import FakeHub, synthetic_records


@pytest.fixture
def clock() -> Clock:
    """A clock whose sleeps return at once and are recorded in ``clock.slept``."""
    return Clock(sleep=lambda s: None)


@pytest.fixture
def policy() -> RetryPolicy:
    return RetryPolicy(max_retries=4, base_delay=0.5, max_delay=4.0, timeout=5.0)


@pytest.fixture
def small() -> tuple[list[dict], dict[str, str | None]]:
    return synthetic_records(230, seed=3)


@pytest.fixture
def hub(small) -> Iterator[FakeHub]:
    recs, cards = small
    with FakeHub(recs, cards) as h:
        yield h


@pytest.fixture
def crawl(store_path, clock, policy):
    """``crawl(hub, **params)`` -> CrawlResult, on ``store_path`` with the fake clock."""

    def run(hub: FakeHub, *, store=None, policy_=None, **kw):
        kw.setdefault("page_size", 50)
        params = CrawlParams(endpoint=hub.url, **kw)
        with Store(store or store_path) as st:
            return crawl_hf(st, params, policy=policy_ or policy, clock=clock, seed=0)

    return run
