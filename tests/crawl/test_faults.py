"""Rate limits, server errors, timeouts, broken bodies and malformed pages."""

from __future__ import annotations

import pytest

from ptmscope.crawl import MalformedPage, RequestFailed, RetryPolicy

from .helpers import rows, status_of


def _ids(store_path) -> list[str]:
    return [r[0] for r in rows(store_path, "packages")]


def test_429_retry_after_is_honoured(hub, small, crawl, store_path, clock):
    hub.add_fault("429", page=1, retry_after=7)
    hub.add_fault("429", page=3, retry_after=2, times=2)
    res = crawl(hub)
    assert sorted(_ids(store_path)) == sorted(r["id"] for r in small[0])
    assert clock.slept == [7.0, 2.0, 2.0]  # exactly what the server asked, no backoff on top
    assert res.counters["rate_limited"] == 3 and res.counters["retries"] == 3
    assert res.counters["list_requests"] == 5 + 3


def test_ratelimit_headers_are_honoured(hub, crawl, clock):
    hub.add_fault("429", page=0, retry_after=42, ratelimit=True)
    crawl(hub)
    assert clock.slept == [42.0]


def test_retry_after_longer_than_the_cap_stops_resumably(hub, crawl, store_path, clock, policy):
    hub.add_fault("429", page=2, retry_after=7200)
    with pytest.raises(RequestFailed, match="wait 7200 s") as ei:
        crawl(hub)
    assert "page 3" in str(ei.value) and clock.slept == []
    assert status_of(store_path)[0][1:] == ("in_progress", 100)
    res = crawl(hub)
    assert res.resumed and res.models == 230


def test_503_is_retried_with_capped_exponential_backoff(hub, crawl, store_path, clock, policy):
    hub.add_fault("503", page=1, times=4)
    crawl(hub)
    assert len(_ids(store_path)) == 230
    assert len(clock.slept) == 4
    for n, s in enumerate(clock.slept):
        full = min(policy.max_delay, policy.base_delay * 2**n)
        assert full * (1 - policy.jitter) <= s <= full


def test_timeouts_and_cut_bodies_are_retried(hub, crawl, store_path, clock):
    hub.add_fault("slow", page=0, delay=1.0)
    hub.add_fault("truncated", page=2)
    res = crawl(hub, policy_=RetryPolicy(max_retries=3, base_delay=0.1, timeout=0.3))
    assert len(_ids(store_path)) == 230
    assert res.counters["retries"] == 2


def test_card_faults_are_retried_and_gated_cards_are_counted(hub, small, crawl, store_path):
    recs, cards = small
    rid_retry, rid_gated = recs[3]["id"], recs[4]["id"]
    hub.add_fault("503", card=rid_retry, times=2)
    hub.add_fault("forbidden", card=rid_gated, times=10)
    res = crawl(hub, cards=True)
    got = {r[0]: r[1] for r in rows(store_path, "cards")}
    assert got[rid_retry] == cards[rid_retry]
    assert rid_gated not in got and len(got) == 229
    assert res.counters["cards_unavailable"] == 1


@pytest.mark.parametrize("kind", ["bad_json", "wrong_type", "missing_id", "not_list"])
def test_malformed_page_is_rejected_whole_and_names_the_cursor(hub, crawl, store_path, kind):
    hub.add_fault(kind, page=2, times=100)
    with pytest.raises(MalformedPage) as ei:
        crawl(hub)
    msg = str(ei.value)
    assert "page 3 (cursor " in msg and "first page" not in msg
    # pages 1-2 committed, nothing of page 3
    assert status_of(store_path)[0][1:] == ("in_progress", 100)
    assert len(_ids(store_path)) == 100
    hub.clear_faults()
    assert crawl(hub).models == 230


def test_malformed_page_once_is_refetched(hub, crawl, store_path):
    hub.add_fault("bad_json", page=1, times=1)
    res = crawl(hub)
    assert res.models == 230 and res.counters["malformed_pages"] == 1


def test_persistent_failure_names_the_cursor_and_keeps_state(hub, crawl, store_path):
    hub.add_fault("503", page=4, times=100)
    with pytest.raises(RequestFailed) as ei:
        crawl(hub)
    assert "page 5 (cursor " in str(ei.value) and "giving up after 5 attempts" in str(ei.value)
    assert status_of(store_path)[0][1:] == ("in_progress", 200)


def test_offline_mode_stops_with_a_clear_message(hub, crawl, store_path, monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(RequestFailed, match="offline mode"):
        crawl(hub)
    assert hub.requests["list"] == 0


@pytest.mark.parametrize("kind", ["wrong_type", "missing_id"])
def test_skip_bad_records_drops_only_the_bad_model(hub, crawl, store_path, kind):
    hub.add_fault(kind, page=2, times=100)
    res = crawl(hub, skip_bad_records=True)
    assert res.models == 229 and res.counters["skipped_records"] == 1
    (why,) = res.manifest["counters"]["skipped_examples"]
    assert "page 3 (cursor " in why and ("downloads" in why if kind == "wrong_type" else "model id" in why)
    assert len(rows(store_path, "packages")) == 229
