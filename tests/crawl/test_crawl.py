"""The crawler against the fake Hub: complete, few requests, incremental cards, limits, abort, resume."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ptmscope.crawl import Clock, CrawlArgumentError, CrawlParams, RequestFailed, abort, crawl_hf, status
from ptmscope.crawl.hub import DEFAULT_EXPAND, HubCrawler
from ptmscope.store import Store

from .fakehub import FakeHub, synthetic_records
from .helpers import rows, status_of


def _served(records: list[dict]) -> dict[str, tuple]:
    return {r["id"]: (r.get("downloads"), r.get("likes"), r.get("sha")) for r in records}


def test_full_crawl_equals_the_records_served(hub, small, crawl, store_path):
    recs, cards = small
    res = crawl(hub, cards=True)
    got = {r[0]: (r[3], r[5], r[11]) for r in rows(store_path, "packages")}
    assert got == _served(recs)
    assert res.models == len(recs) == 230
    # 230 models in pages of 50: five listing requests, no more
    assert hub.requests["list"] == 5 and res.pages == 5
    card_rows = {r[0]: (r[1], r[3]) for r in rows(store_path, "cards")}
    assert card_rows == {k: (v, v is None) for k, v in cards.items()}
    assert status_of(store_path)[0][1:] == ("complete", 230)


def test_listing_asks_for_the_expand_fields_in_one_request(hub, crawl, store_path):
    crawl(hub, page_size=1000)
    assert hub.requests["list"] == 1
    with Store(store_path, read_only=True) as st:
        man = json.loads(st.snapshots("hf")[0].manifest)
        (url,) = [r[0] for r in st.con.execute("SELECT url FROM crawl_pages").fetchall()]
    for e in DEFAULT_EXPAND:
        assert f"expand={e}" in url
    assert man["params"]["expand"] == list(DEFAULT_EXPAND)
    assert man["list_requests_per_1000_models"] == pytest.approx(1000 / 230, rel=1e-3)
    assert man["library_versions"]["huggingface_hub"]
    assert man["complete"] is True and man["started_at"] and man["finished_at"]


def test_fake_hub_speaks_the_real_client_protocol(hub, small):
    """huggingface_hub's own list_models paginates through the fake Hub (Link header, cursor, expand)."""
    from huggingface_hub import HfApi

    api = HfApi(endpoint=hub.url, token=False)
    ids = [m.id for m in api.list_models(expand=["downloads", "sha"], limit=None)]
    assert sorted(ids) == sorted(r["id"] for r in small[0])


def test_sorted_crawl_keeps_the_hub_order_and_limit_stops_early(hub, small, crawl, store_path):
    _recs, _ = small
    res = crawl(hub, sort="downloads", limit=120)
    assert res.models == 120
    assert hub.requests["list"] == 3  # 50 + 50 + 20 of the third page
    expected = [r for r in hub.served_ids("downloads")][:120]
    with Store(store_path, read_only=True) as st:
        got = {r[0] for r in st.con.execute("SELECT raw_id FROM packages").fetchall()}
        notes = st.snapshots("hf")[0].notes
    assert got == set(expected)
    assert "partial listing" in notes


def test_filter_and_author_are_passed_to_the_hub(hub, small, crawl, store_path):
    recs, _ = small
    crawl(hub, filters=("diffusers",), author="org3")
    want = {r["id"] for r in recs if r["id"].startswith("org3/") and r.get("library_name") == "diffusers"}
    assert want and {r[0] for r in rows(store_path, "packages")} == want


def test_incremental_crawl_refetches_only_changed_cards(hub, small, crawl, store_path):
    recs, cards = small
    first = crawl(hub, cards=True)
    assert hub.requests["card"] == 230
    changed = [recs[7]["id"], recs[40]["id"], recs[199]["id"]]
    for rid in changed:
        hub.update(rid, sha="f" * 40)
        hub.set_card(rid, f"# {rid}\n\nrewritten\n")
    hub.card_log.clear()
    second = crawl(hub, cards=True)
    assert sorted(hub.card_log) == sorted(changed)
    assert second.counters["cards_fetched"] == 3 and second.counters["cards_copied"] == 227
    assert second.manifest["params"]["since_snapshot"] == first.snapshot_id
    new = {r[0]: r[1] for r in rows(store_path, "cards", second.snapshot_id)}
    old = {r[0]: r[1] for r in rows(store_path, "cards", first.snapshot_id)}
    for rid in changed:
        assert new[rid] == f"# {rid}\n\nrewritten\n" and old[rid] == cards[rid]
    assert {k: v for k, v in new.items() if k not in changed} == {k: v for k, v in old.items() if k not in changed}
    # lineage from copied cards is the same as from fetched ones
    assert len(rows(store_path, "lineage", second.snapshot_id)) > 0

    hub.card_log.clear()
    crawl(hub, cards=True, full=True)
    assert len(hub.card_log) == 230


def test_since_snapshot_names_the_base_and_new_models_are_fetched(small, crawl, store_path):
    recs, cards = small
    with FakeHub(recs[:100], cards) as h1:
        first = crawl(h1, cards=True)
    extra = synthetic_records(230, seed=3)[0][100:103]
    with FakeHub(recs[:100] + extra, cards) as h2:
        crawl(h2, cards=True, since_snapshot=first.snapshot_id)
        assert sorted(h2.card_log) == sorted(r["id"] for r in extra)
    with Store(store_path) as st, pytest.raises(Exception, match="no snapshot"):
        HubCrawler(st, CrawlParams(endpoint="http://127.0.0.1:9", cards=True, since_snapshot="hf-nope")).run()


def test_repeated_listing_is_dropped_first_occurrence_wins(hub, small, crawl, store_path):
    """A model whose downloads change mid-crawl is listed twice by a key-cursor Hub: kept once."""
    recs, _ = small
    hub.add_fault("shift", page=2)
    res = crawl(hub, sort="downloads")
    ids = [r[0] for r in rows(store_path, "packages")]
    assert len(ids) == len(set(ids)) == len(recs)
    assert res.counters["duplicates"] == 1
    assert "repeated listings dropped" in status_of_notes(store_path)


def status_of_notes(store_path) -> str:
    with Store(store_path, read_only=True) as st:
        return st.snapshots("hf")[0].notes


def test_interrupted_crawl_shows_in_progress_resumes_and_abort_discards(hub, small, crawl, store_path, clock, policy):
    recs, _ = small
    hub.add_fault("503", page=3, times=100)
    with pytest.raises(Exception, match="page 4") as ei:
        crawl(hub)
    assert "giving up" in str(ei.value)
    (sid, st_, n) = status_of(store_path)[0]
    assert st_ == "in_progress" and n == 150
    with Store(store_path) as st:
        (s,) = status(st)
        assert s["pages"] == 3 and s["next_cursor"] not in ("none", "first page")
        # other parameters: refused, nothing changes
        with pytest.raises(CrawlArgumentError, match="other parameters"):
            HubCrawler(st, CrawlParams(endpoint=hub.url, page_size=10)).run()
    hub.clear_faults()
    res = crawl(hub)
    assert res.resumed and res.snapshot_id == sid and res.manifest["runs"] == 2
    assert {r[0] for r in rows(store_path, "packages")} == {r["id"] for r in recs}
    with Store(store_path) as st:
        pages = [r[0] for r in st.con.execute("SELECT page_no FROM crawl_pages ORDER BY page_no").fetchall()]
    assert pages == [0, 1, 2, 3, 4]

    hub.add_fault("503", page=1, times=100)
    with pytest.raises(RequestFailed):
        crawl(hub)
    with Store(store_path) as st:
        assert [a for a in abort(st)]
        left = st.con.execute(
            "SELECT (SELECT count(*) FROM packages), (SELECT count(*) FROM crawl_state), "
            "(SELECT count(*) FROM crawl_pages), (SELECT count(*) FROM snapshots)"
        ).fetchall()[0]
    assert left == (230, 1, 5, 1)  # only the complete snapshot is left


def test_page_that_changes_between_a_failed_request_and_its_retry(hub, small, crawl, store_path):
    """The first answer for page 3 is a 503; by the retry a served model has moved into page 3."""
    recs, _ = small
    hub.add_fault("503", page=2)
    hub.add_fault("shift", page=2)
    res = crawl(hub, sort="likes")
    ids = [r[0] for r in rows(store_path, "packages")]
    assert sorted(ids) == sorted(r["id"] for r in recs)
    assert res.counters["duplicates"] == 1 and res.counters["retries"] == 1


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    page_size=st.integers(3, 50),
    limit=st.none() | st.integers(1, 60),
    sort=st.sampled_from([None, "downloads", "likes", "created_at", "last_modified"]),
)
def test_any_page_size_and_limit_gives_the_served_prefix(tmp_path_factory, page_size, limit, sort):
    recs, cards = synthetic_records(40, seed=5)
    store = tmp_path_factory.mktemp("prop") / "s.duckdb"
    api_sort = {"created_at": "createdAt", "last_modified": "lastModified"}.get(sort, sort)
    with FakeHub(recs, cards) as h, Store(store) as s:
        res = crawl_hf(s, CrawlParams(endpoint=h.url, page_size=page_size, limit=limit, sort=sort),
                       clock=Clock(sleep=lambda x: None))  # fmt: skip
        want = h.served_ids(api_sort)[: limit or None]
        got = [r[0] for r in s.con.execute("SELECT raw_id FROM packages").fetchall()]
        n_req = h.requests["list"]
    assert sorted(got) == sorted(want) and res.models == len(want)
    # one request per page, and none after the limit is reached
    assert n_req == -(-len(want) // min(page_size, limit or page_size))


def test_snapshots_all_lists_the_unfinished_crawl(cli, hub, crawl, store_path):
    hub.add_fault("503", page=1, times=100)
    with pytest.raises(RequestFailed):
        crawl(hub)
    code, out, err = cli("snapshots", "--all", "--json", "--store", store_path)
    assert code == 0, err
    (snap,) = json.loads(out)["snapshots"]
    assert snap["status"] == "in_progress" and snap["source_format"] == "hf-crawl" and snap["row_count"] == 50


def test_cards_are_reused_from_an_imported_dump(small, crawl, store_path, tmp_path, cli):
    """--since-snapshot may name an `hf-api` import: same sha -> its card is copied, not downloaded."""
    import gzip

    recs, cards = small
    recs = recs[:60]
    dump, card_file = tmp_path / "infos.jsonl.gz", tmp_path / "cards.jsonl"
    with gzip.open(dump, "wt") as f:
        for r in recs:
            f.write(json.dumps({k: v for k, v in r.items() if k != "id"}) + "\n")
    with open(card_file, "w") as f:
        for r in recs:
            c = cards[r["id"]]
            f.write(json.dumps({"modelId": r["id"], "readme": c, "readme_missing": c is None}) + "\n")
    code, _out, err = cli("ingest", dump, "--cards", card_file, "--date", "2024-01-01", "--store", store_path)
    assert code == 0, err
    with Store(store_path, read_only=True) as s:
        (base,) = [x.snapshot_id for x in s.snapshots("hf")]
    served = [dict(r) for r in recs]
    served[5]["sha"] = "e" * 40
    with FakeHub(served, cards) as h:
        res = crawl(h, cards=True, since_snapshot=base)
        assert h.card_log == [served[5]["id"]]
    assert res.counters["cards_copied"] == 59
    got = {r[0]: r[1] for r in rows(store_path, "cards", res.snapshot_id)}
    assert got == {r["id"]: cards[r["id"]] for r in recs}
