"""Crawl the fake Hub serving the real 2022-02 dump (skipped when ../shared/data is absent)."""

from __future__ import annotations

import pytest

from ptmscope.crawl import Clock, CrawlParams, RetryPolicy, crawl_hf
from ptmscope.store import Store
from realdata import shared_path

from .fakehub import FakeHub, load_dump
from .helpers import rows

pytestmark = pytest.mark.realdata


@pytest.mark.slow
def test_full_dump_crawl_equals_the_records_served(store_path):
    recs, cards = load_dump(shared_path("hf", "2022-02_hub-dump"))
    assert len(recs) == 29_432
    with FakeHub(recs, cards) as hub, Store(store_path) as st:
        res = crawl_hf(st, CrawlParams(endpoint=hub.url), policy=RetryPolicy(), clock=Clock(sleep=lambda s: None))
        assert hub.requests["list"] == 30  # ceil(29,432 / 1,000): one request per page
    assert res.models == 29_432
    assert res.manifest["list_requests_per_1000_models"] <= 1.1
    got = {r[0]: (r[3], r[5], r[11], r[13]) for r in rows(store_path, "packages")}
    want = {r["modelId"]: (r.get("downloads"), r["likes"], r["sha"], r["tags"] or []) for r in recs}
    assert got == want


def test_real_cards_subset_equal_the_dump(store_path):
    recs, cards = load_dump(shared_path("hf", "2022-02_hub-dump"), limit=600)
    with FakeHub(recs, cards) as hub, Store(store_path) as st:
        crawl_hf(st, CrawlParams(endpoint=hub.url, cards=True, page_size=200), clock=Clock(sleep=lambda s: None))
    got = {r[0]: (r[1], r[3]) for r in rows(store_path, "cards")}
    assert got == {k: (v, v is None) for k, v in cards.items()}
    assert sum(v is None for v in cards.values()) > 0  # the dump has models without a README
