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


# -- the 2023-03 dataset listing and the safetensors commit history ------------------------------


def _dataset_expectations(folder, limit=None):
    """From the study's own files, read here independently of the fake Hub's loader."""
    import datetime as dt
    import gzip
    import json

    import pyarrow.parquet as pq

    info = pq.read_table(folder / "dataset_info.parquet").to_pylist()[:limit]
    with gzip.open(folder / "dataset_cards.jsonl.gz", "rt", encoding="utf-8") as f:
        texts = {c["dataset_name"]: c["card"] for c in map(json.loads, f)}
    pkgs, cards = {}, {}
    for r in info:
        when = dt.datetime.strptime(r["dataset_creation_time"], "%a %b %d %H:%M:%S %Y %z").astimezone(dt.UTC)
        pkgs[r["dataset_name"]] = (int(r["downloads"]), r["author"], when, r["task"])
        cards[r["dataset_name"]] = texts.get(r["dataset_name"], "") if r["has_card"] else None
    return pkgs, cards


def _crawl_datasets(store_path, limit, cards):
    from .fakehub import load_datasets

    folder = shared_path("hf", "2023-03_dataset-cards")
    ds, dcards = load_datasets(folder, limit=limit)
    with FakeHub([], datasets=ds, dataset_cards=dcards) as hub, Store(store_path) as st:
        res = crawl_hf(
            st, CrawlParams(endpoint=hub.url, repo_type="dataset", cards=cards), clock=Clock(sleep=lambda s: None)
        )
        requests = dict(hub.requests)
    return folder, res, requests


def _check_datasets(store_path, folder, limit, cards: bool) -> None:
    want, want_cards = _dataset_expectations(folder, limit)
    got = {r[0]: (r[3], r[6], r[7], r[9]) for r in rows(store_path, "packages")}
    assert got == want
    if cards:
        got_cards = {r[0]: (r[1], r[3]) for r in rows(store_path, "cards")}
        assert got_cards == {k: (v, v is None) for k, v in want_cards.items()}


def test_real_dataset_listing_subset_with_cards(store_path):
    folder, res, requests = _crawl_datasets(store_path, 2000, cards=True)
    assert res.models == 2000 and requests["list"] == 2
    _check_datasets(store_path, folder, 2000, cards=True)


@pytest.mark.slow
def test_full_real_dataset_listing_with_cards(store_path):
    folder, res, requests = _crawl_datasets(store_path, None, cards=True)
    assert res.models == 24_065 and requests["list"] == 25
    assert res.counters["cards_missing"] == 24_065 - 14_011  # the study: 14,011 datasets have a card
    _check_datasets(store_path, folder, None, cards=True)


def test_real_commit_histories_of_the_safetensors_study(store_path, tmp_path):
    """Every repository of the study by --commits-from: the stored commits are the CSV's distinct commits."""
    import csv
    import datetime as dt

    from .fakehub import load_commit_history

    path = shared_path("hf", "safetensors-history", "fixed3_repository_evolution_commits_0_5014.csv")
    want = {}
    with open(path, encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            when = dt.datetime.strptime(r["date"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.UTC)
            want[(r["repo_url"], r["commit_hash"])] = (when, r["author"], r["message"])
    repos = sorted({k[0] for k in want})
    # 4,735 commits in 4,737 (repo, commit) pairs: two hashes appear in two albert repos each
    assert len(repos) == 1031 and len(want) == 4735 + 2
    ids = tmp_path / "repos.txt"
    ids.write_text("\n".join(repos) + "\n", encoding="utf-8")
    with FakeHub([], commits=load_commit_history(path)) as hub, Store(store_path) as st:
        res = crawl_hf(
            st,
            CrawlParams(endpoint=hub.url, commits_only=True, commits_from=str(ids)),
            clock=Clock(sleep=lambda s: None),
        )
        got = st.con.execute("SELECT package_id, commit_id, committed_at, author, message FROM commits").fetchall()
    assert res.counters["commit_repos"] == 1031 and res.counters["commit_repos_done"] == 1031
    assert {(r[0], r[1]): (r[2], r[3], r[4]) for r in got} == want and len(got) == len(want)
