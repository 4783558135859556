"""``crawl hf --repo-type dataset``: the Hub's dataset listing and dataset cards as ``hf-datasets`` snapshots."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from ptmscope.crawl import CrawlArgumentError, CrawlParams, MalformedPage, RequestFailed, abort, crawl_hf, status
from ptmscope.store import Store

from .fakehub import FakeHub, synthetic_datasets, synthetic_records
from .helpers import rows

N = 37


@pytest.fixture
def dsets():
    return synthetic_datasets(N, seed=5)


@pytest.fixture
def dhub(dsets, small):
    recs, cards = small
    ds, dcards = dsets
    with FakeHub(recs, cards, datasets=ds, dataset_cards=dcards) as h:
        yield h


def _snap(store_path, registry: str):
    with Store(store_path, read_only=True) as st:
        return st.snapshots(registry, include_incomplete=True)


def _ts(s: str) -> dt.datetime:
    return dt.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.000Z").replace(tzinfo=dt.UTC)


def test_dataset_listing_and_cards_equal_what_the_hub_serves(dhub, dsets, crawl, store_path):
    ds, dcards = dsets
    res = crawl(dhub, repo_type="dataset", cards=True, page_size=10)
    assert res.models == N and dhub.requests["list"] == 4 and dhub.requests["card"] == N
    (snap,) = _snap(store_path, "hf-datasets")
    assert snap.status == "complete" and snap.row_count == N and snap.source_format == "hf-crawl"
    assert _snap(store_path, "hf") == []
    got = {r[0]: r for r in rows(store_path, "packages", snap.snapshot_id)}
    assert set(got) == {d["id"] for d in ds}
    for d in ds:
        r = got[d["id"]]
        # columns: package_id raw_id rank downloads window likes author created_at last_modified task license sha ...
        assert r[3] == d["downloads"] and r[5] == d["likes"] and r[6] == d["author"] and r[11] == d["sha"]
        assert r[4] == ("30d" if d["downloads"] is not None else None)
        assert r[7] == _ts(d["createdAt"]) and r[8] == _ts(d["lastModified"])
        assert r[13] == d["tags"]
        # the task categories the dataset declares, in order; the licence its card (or a tag) states
        assert r[9] == (",".join(t.split(":", 1)[1] for t in d["tags"] if t.startswith("task_categories:")) or None)
        assert r[10] == next(t[8:] for t in d["tags"] if t.startswith("license:"))
    cards = {r[0]: (r[1], r[3]) for r in rows(store_path, "cards", snap.snapshot_id)}
    assert cards == {k: (v, v is None) for k, v in dcards.items()}
    url = json.loads(snap.manifest)["params"]
    assert url["repo_type"] == "dataset" and "siblings" not in url["expand"]


def test_dataset_files_when_siblings_are_asked_for(dhub, dsets, crawl, store_path):
    ds, _ = dsets
    expand = ("author", "downloads", "sha", "siblings", "tags")
    crawl(dhub, repo_type="dataset", expand=expand)
    with Store(store_path, read_only=True) as st:
        got = sorted(st.con.execute("SELECT package_id, path, size_bytes FROM package_files").fetchall())
    assert got == sorted((d["id"], s["rfilename"], None) for d in ds for s in d["siblings"])


def test_model_and_dataset_crawls_are_resumed_and_aborted_apart(dhub, small, crawl, store_path):
    dhub.add_fault("503", page=1, times=100)
    with pytest.raises(RequestFailed):
        crawl(dhub, repo_type="dataset", page_size=10)
    with pytest.raises(RequestFailed):
        crawl(dhub, page_size=50)
    with Store(store_path) as st:
        pending = {(s["registry"], s["kind"]): s for s in status(st)}
        assert set(pending) == {("hf", "listing"), ("hf-datasets", "listing")}
        assert pending[("hf-datasets", "listing")]["models"] == 10 and pending[("hf", "listing")]["models"] == 50
        # a dataset crawl with other parameters is refused; the model crawl's parameters do not matter to it
        with pytest.raises(CrawlArgumentError, match="other parameters"):
            crawl_hf(st, CrawlParams(endpoint=dhub.url, repo_type="dataset", page_size=7))
    dhub.clear_faults()
    res = crawl(dhub, repo_type="dataset", page_size=10)
    assert res.resumed and res.models == N
    with Store(store_path) as st:
        assert abort(st, "hf-datasets") == []  # finished: nothing to abort
        (model_sid,) = abort(st, "hf")
        assert model_sid.startswith("hf-2") and status(st) == []
        assert [s.registry for s in st.snapshots()] == ["hf-datasets"]


def test_dataset_cards_are_reused_when_the_sha_did_not_change(dhub, dsets, crawl, store_path):
    ds, _ = dsets
    first = crawl(dhub, repo_type="dataset", cards=True)
    changed = ds[4]["id"]
    dhub.datasets[changed]["sha"] = "c" * 40
    dhub.dataset_cards[changed] = "# rewritten\n"
    dhub.card_log.clear()
    second = crawl(dhub, repo_type="dataset", cards=True)
    assert dhub.card_log == [changed]
    assert second.counters["cards_copied"] == N - 1 and second.manifest["params"]["since_snapshot"] == first.snapshot_id
    assert {r[0]: r[1] for r in rows(store_path, "cards", second.snapshot_id)}[changed] == "# rewritten\n"


@pytest.mark.parametrize(
    ("field", "value"),
    [("downloads", "12"), ("likes", 1.5), ("tags", [None]), ("createdAt", "12/03/2022"), ("gated", "maybe")],
)
def test_a_malformed_dataset_page_stops_naming_page_dataset_and_field(dhub, crawl, store_path, field, value):
    dhub.add_fault("wrong_type", page=1, times=100, field=field, value=value)
    victim = dhub.served_ids(kind="dataset")[10 + 5]
    with pytest.raises(MalformedPage) as ei:
        crawl(dhub, repo_type="dataset", page_size=10)
    assert "page 2 (cursor " in str(ei.value) and f"({victim})" in str(ei.value) and field in str(ei.value)
    (snap,) = _snap(store_path, "hf-datasets")
    assert snap.status == "in_progress" and snap.row_count == 10


def test_dataset_listing_rate_limits_and_server_errors_are_retried(dhub, crawl, clock, store_path):
    dhub.add_fault("429", page=0, retry_after=9)
    dhub.add_fault("503", page=2, times=2)
    res = crawl(dhub, repo_type="dataset", page_size=10)
    assert res.models == N and clock.slept[0] == 9.0 and res.counters["retries"] == 3


def test_dataset_only_expand_fields_are_checked(dhub):
    with pytest.raises(CrawlArgumentError, match="config not accepted by the dataset listing"):
        CrawlParams(endpoint=dhub.url, repo_type="dataset", expand=("config",))
    with pytest.raises(CrawlArgumentError, match="repo_type: must be one of"):
        CrawlParams(endpoint=dhub.url, repo_type="space")


def test_cli_dataset_crawl(cli, dhub, store_path):
    code, out, err = cli(
        "crawl", "hf", "--repo-type", "dataset", "--cards", "--store", store_path, "--endpoint", dhub.url, "-q"
    )
    assert code == 0, err
    assert f"{N} datasets in 1 pages" in out
    code, out, _ = cli("snapshots", "--store", store_path, "--json")
    (snap,) = json.loads(out)["snapshots"]
    assert snap["registry"] == "hf-datasets" and snap["row_count"] == N


def test_model_listing_stores_files_and_parameter_counts(crawl, store_path):
    recs, cards = synthetic_records(25, seed=8)
    with FakeHub(recs, cards) as hub:
        crawl(hub)
    with Store(store_path, read_only=True) as st:
        files = sorted(st.con.execute("SELECT package_id, path, size_bytes FROM package_files").fetchall())
        params = dict(st.con.execute("SELECT package_id, parameters FROM packages").fetchall())
    assert files == sorted((r["id"], s["rfilename"], None) for r in recs for s in r["siblings"])
    assert params == {r["id"]: (r.get("safetensors") or {}).get("total") for r in recs}
    assert sum(v is not None for v in params.values()) == 7  # every fourth model has safetensors


def test_sibling_sizes_are_kept_when_the_hub_gives_them(crawl, store_path):
    recs, cards = synthetic_records(3, seed=8)
    recs[1]["siblings"] = [{"rfilename": "model.safetensors", "size": 1234}, {"rfilename": "README.md"}]
    with FakeHub(recs, cards) as hub:
        crawl(hub)
    with Store(store_path, read_only=True) as st:
        got = st.con.execute(
            "SELECT path, size_bytes FROM package_files WHERE package_id = ? ORDER BY path", [recs[1]["id"]]
        ).fetchall()
    assert got == [("README.md", None), ("model.safetensors", 1234)]
