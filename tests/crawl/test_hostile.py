"""A hostile or broken Hub (issue 11, items 10-12): slow bodies, wrong types, other hosts.

* 10: ``--timeout`` bounds a whole request, body included: a server that
  trickles one byte every 50 ms cannot keep a crawl alive;
* 11: every field of every item is type-checked before anything of its page
  is written (``"downloads": "12"`` stops the crawl, naming page and model);
* 12: next links and redirects are followed only on the endpoint's scheme,
  host and port; anything else stops the crawl (exit 75) naming the URL, and
  no request -- token or not -- reaches the other host.
"""

from __future__ import annotations

import json
import time

import pytest

from ptmscope.crawl import CrawlParams, MalformedPage, RequestFailed, RetryPolicy
from ptmscope.crawl.http import OffsiteURL

from .fakehub import FakeHub, synthetic_records
from .helpers import rows, status_of

TOKEN = "hf_hostile_test_token_never_elsewhere"


def _ids(store_path) -> list[str]:
    return [r[0] for r in rows(store_path, "packages")]


# -- 10: a whole-request deadline -------------------------------------------------------------


@pytest.mark.timeout(60)
def test_a_trickling_server_cannot_outlast_the_timeout(cli, store_path):
    """One byte every 50 ms, --timeout 2 --max-retries 1: two cut attempts, then exit 75 (not minutes, not 0)."""
    recs, cards = synthetic_records(30, seed=1)
    with FakeHub(recs, cards) as hub:
        hub.add_fault("trickle", page=1, delay=0.05, times=100)  # one model is ~400 bytes: ~20 s per attempt
        t0 = time.monotonic()
        code, _out, err = cli(
            "crawl", "hf", "--store", store_path, "--endpoint", hub.url, "--page-size", "1", "--quiet",
            "--timeout", "2", "--max-retries", "1", "--backoff-base", "0.1",
        )  # fmt: skip
        took = time.monotonic() - t0
    assert code == 75, err
    assert took < 8, f"the crawl took {took:.1f} s"
    assert "page 2 (cursor " in err and "giving up after 2 attempts" in err and "within 2 s" in err
    assert status_of(store_path)[0][1:] == ("in_progress", 1)


@pytest.mark.timeout(60)
def test_a_trickling_card_is_retried_then_the_crawl_stops(crawl, store_path):
    recs, cards = synthetic_records(12, seed=2)
    rid = recs[3]["id"]
    with FakeHub(recs, cards) as hub:
        hub.add_fault("trickle", card=rid, delay=0.05, times=100)
        t0 = time.monotonic()
        with pytest.raises(RequestFailed, match=f"card of {rid}.*within 1 s"):
            crawl(hub, cards=True, policy_=RetryPolicy(max_retries=1, base_delay=0.01, timeout=1.0))
        assert time.monotonic() - t0 < 6


@pytest.mark.timeout(60)
def test_a_server_that_goes_silent_mid_body_is_cut_at_the_deadline_not_a_read_timeout_later(crawl, store_path):
    """40 bytes over 0.8 s, then silence: the attempt ends 1 s after it began, not 1 s after the last byte."""
    recs, cards = synthetic_records(6, seed=4)
    with FakeHub(recs, cards) as hub:
        hub.add_fault("trickle", page=0, delay=0.02, stall_after=40, times=100)
        t0 = time.monotonic()
        with pytest.raises(RequestFailed, match="within 1 s"):
            crawl(hub, page_size=10, policy_=RetryPolicy(max_retries=2, base_delay=0.01, timeout=1.0))
        took = time.monotonic() - t0
    assert 2.9 < took < 4.2, f"3 attempts of 1 s took {took:.2f} s"


def test_a_slow_but_steady_body_within_the_timeout_is_read(crawl, store_path):
    recs, cards = synthetic_records(6, seed=4)
    with FakeHub(recs, cards) as hub:
        hub.add_fault("trickle", page=0, delay=0.0005)  # ~3 kB at 0.5 ms a byte: ~1.5 s, under the 5 s timeout
        res = crawl(hub, page_size=10, policy_=RetryPolicy(max_retries=0, timeout=5.0))
    assert res.models == 6 and res.counters["retries"] == 0


# -- 11: strict types --------------------------------------------------------------------------


WRONG = [
    ("downloads", "12"),
    ("downloads", 12.0),
    ("downloads", True),
    ("downloads", -1),
    ("downloads", 10**30),
    ("downloads", 1e300),
    ("likes", "3"),
    ("downloadsAllTime", [1]),
    ("createdAt", "yesterday"),
    ("lastModified", 20240101),
    ("tags", ["ok", 3]),
    ("tags", "transformers"),
    ("sha", 123),
    ("private", "false"),
    ("pipeline_tag", ["text-generation"]),
    ("config", {"model_type": 5}),
    ("safetensors", {"total": "7"}),
    ("siblings", [{"rfilename": 5}]),
    ("siblings", [{"rfilename": "model.bin", "size": "12"}]),
]


@pytest.mark.parametrize(("field", "value"), WRONG, ids=[f"{f}={v!r}"[:30] for f, v in WRONG])
def test_a_wrongly_typed_field_stops_the_crawl_naming_page_model_and_field(hub, crawl, store_path, field, value):
    hub.add_fault("wrong_type", page=2, times=100, field=field, value=value)
    victim = hub.served_ids()[2 * 50 + 25]  # the fault changes the middle item of the page
    with pytest.raises(MalformedPage) as ei:
        crawl(hub)
    msg = str(ei.value)
    assert "page 3 (cursor " in msg and f"({victim})" in msg and field in msg, msg
    assert status_of(store_path)[0][1:] == ("in_progress", 100) and len(_ids(store_path)) == 100
    with pytest.raises(MalformedPage):  # stays stopped: the page is refetched, never half-written
        crawl(hub)
    assert len(_ids(store_path)) == 100


def test_cli_names_the_string_count_and_exits_75(cli, hub, store_path):
    hub.add_fault("wrong_type", page=1, times=100, field="downloads", value="12")
    code, _out, err = cli("crawl", "hf", "--store", store_path, "--endpoint", hub.url, "--page-size", "50", "-q")
    assert code == 75
    assert "page 2 (cursor " in err and "downloads: expected a whole number, got str '12'" in err


def test_a_repeated_key_is_a_malformed_page(hub, crawl, store_path):
    hub.add_fault("repeat_key", page=1, times=100)
    with pytest.raises(MalformedPage, match=r"page 2 \(cursor .*'likes' appears twice"):
        crawl(hub)
    assert len(_ids(store_path)) == 50


def test_a_count_that_fits_the_store_exactly_is_kept(crawl, store_path):
    recs, cards = synthetic_records(5, seed=9)
    recs[2]["downloads"] = 2**63 - 1
    with FakeHub(recs, cards) as hub:
        crawl(hub)
    got = {r[0]: r[3] for r in rows(store_path, "packages")}
    assert got[recs[2]["id"]] == 2**63 - 1


# -- 12: one origin ----------------------------------------------------------------------------


@pytest.fixture
def evil(small):
    recs, cards = small
    with FakeHub(recs, cards) as h:
        yield h


def test_a_next_link_to_another_host_stops_the_crawl_and_is_never_requested(cli, hub, evil, store_path, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    hub.add_fault("offsite_link", page=1, target=evil.url, times=100)
    code, _out, err = cli("crawl", "hf", "--store", store_path, "--endpoint", hub.url, "--page-size", "50", "-q")
    assert code == 75
    assert evil.url in err and "off the endpoint" in err and "page 2 (cursor " in err
    assert sum(evil.requests.values()) == 0
    # the page that carried the foreign link is not committed either: a resume asks the endpoint again
    assert status_of(store_path)[0][1:] == ("in_progress", 50)
    hub.clear_faults()
    code, _out, err = cli("crawl", "hf", "--store", store_path, "--endpoint", hub.url, "--page-size", "50", "-q")
    assert code == 0, err and sum(evil.requests.values()) == 0
    assert status_of(store_path)[0][1:] == ("complete", 230)
    assert all(h.get("authorization") == f"Bearer {TOKEN}" for h in hub.headers_seen)


def test_a_redirect_to_another_host_stops_the_crawl(hub, evil, crawl, store_path):
    hub.add_fault("redirect", page=2, target=f"{evil.url}/api/models?limit=50", times=100)
    with pytest.raises(OffsiteURL) as ei:
        crawl(hub)
    assert ei.value.url.startswith(evil.url) and "page 3 (cursor " in str(ei.value)
    assert sum(evil.requests.values()) == 0 and len(_ids(store_path)) == 100


def test_a_redirect_on_the_same_host_is_followed_with_the_token(hub, small, crawl, store_path, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    first = CrawlParams(endpoint=hub.url, page_size=50).first_url()
    assert first is not None
    hub.add_fault("redirect", page=0, target=first[len(hub.url) :])  # a path: same scheme, host and port
    res = crawl(hub)
    assert res.models == 230 and hub.list_log[:2] == [(0, 302), (0, 200)]
    assert [h.get("authorization") for h in hub.headers_seen[:2]] == [f"Bearer {TOKEN}"] * 2


def test_a_card_redirected_to_another_host_is_not_fetched_and_counted(hub, small, evil, crawl, store_path):
    recs, _cards = small
    rid = recs[5]["id"]
    hub.add_fault("redirect", card=rid, target=f"{evil.url}/{rid}/resolve/main/README.md", times=10)
    res = crawl(hub, cards=True)
    assert res.models == 230 and sum(evil.requests.values()) == 0
    got = {r[0] for r in rows(store_path, "cards")}
    assert rid not in got and len(got) == 229
    assert res.counters["cards_offsite"] == 1 and res.counters["cards_unavailable"] == 1
    with_notes = json.loads(json.dumps(res.manifest))
    assert with_notes["counters"]["cards_offsite"] == 1


def test_a_stored_cursor_on_another_host_is_refused_before_any_request(hub, evil, crawl, store_path):
    """A store whose saved next URL points elsewhere (an older ptmscope, a hand edit) cannot make us go there."""
    from ptmscope.store import Store

    hub.add_fault("503", page=1, times=100)
    with pytest.raises(RequestFailed):
        crawl(hub)
    with Store(store_path) as st:
        st.con.execute("UPDATE crawl_state SET next_url = ?", [f"{evil.url}/api/models?limit=50"])
    hub.clear_faults()
    with pytest.raises(OffsiteURL, match="not on the endpoint"):
        crawl(hub)
    assert sum(evil.requests.values()) == 0
