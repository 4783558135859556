"""Commit histories: ``--commits-top N`` / ``--commits-from FILE`` with a listing, and ``--commits`` alone."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from ptmscope.crawl import CrawlArgumentError, CrawlParams, MalformedPage, RequestFailed, crawl_hf, status
from ptmscope.crawl.http import OffsiteURL
from ptmscope.errors import InputError
from ptmscope.store import Store

from .fakehub import FakeHub, synthetic_commits, synthetic_records

TOP = 6


@pytest.fixture
def world():
    recs, cards = synthetic_records(60, seed=21)
    hist = synthetic_commits([r["id"] for r in recs], seed=21)
    return recs, cards, hist


@pytest.fixture
def chub(world):
    recs, cards, hist = world
    with FakeHub(recs, cards, commits=hist) as h:
        yield h


def _top(recs: list[dict], n: int) -> list[str]:
    """The n most downloaded ids, ties by id: computed here from the records the fake Hub serves."""
    ranked = sorted((r for r in recs if r.get("downloads") is not None), key=lambda r: (-r["downloads"], r["id"]))
    return [r["id"] for r in ranked[:n]]


def _expected(hist: dict[str, list[dict]], ids: list[str]) -> set[tuple]:
    out = set()
    for rid in ids:
        for c in hist.get(rid, []):
            msg = c["title"] + ("\n\n" + c["message"] if c["message"] else "")
            when = dt.datetime.strptime(c["date"], "%Y-%m-%dT%H:%M:%S.000Z").replace(tzinfo=dt.UTC)
            out.add((rid, c["id"], when, ", ".join(a["user"] for a in c["authors"]), msg))
    return out


def _commits(store_path, snapshot_id: str | None = None) -> set[tuple]:
    with Store(store_path, read_only=True) as st:
        sql = "SELECT package_id, commit_id, committed_at, author, message, files, formats FROM commits"
        got = st.con.execute(sql + (" WHERE snapshot_id = ?" if snapshot_id else ""),
                             [snapshot_id] if snapshot_id else []).fetchall()  # fmt: skip
    assert all(r[5] is None and r[6] is None for r in got)  # the commit list does not say which files changed
    out = {r[:5] for r in got}
    assert len(out) == len(got)
    return out


def test_listing_with_top_n_histories_in_the_same_snapshot(chub, world, crawl, store_path):
    recs, _, hist = world
    res = crawl(chub, commits_top=TOP, page_size=5)  # histories of up to 12 commits span up to 3 pages
    top = _top(recs, TOP)
    assert _commits(store_path) == _expected(hist, top)
    assert res.counters["commits"] == sum(len(hist[r]) for r in top)
    assert res.counters["commit_pages"] == sum(-(-len(hist[r]) // 5) for r in top)
    assert res.counters["commit_repos"] == TOP and res.counters["commit_repos_done"] == TOP
    with Store(store_path, read_only=True) as st:
        (snap,) = st.snapshots("hf")
        queued = st.con.execute("SELECT repo_id, origin, revision, status FROM crawl_repos ORDER BY seq").fetchall()
        kinds = dict(st.con.execute("SELECT kind, count(*) FROM crawl_pages GROUP BY kind").fetchall())
    # each history is pinned at the sha the listing saw, so the snapshot is one consistent moment
    shas = {r["id"]: r["sha"] for r in recs}
    assert queued == [(r, "top", shas[r], "done") for r in top]
    assert kinds == {"listing": 12, "commits": res.counters["commit_pages"]}
    assert "commit histories of 6 repositories (the top 6 by downloads of this snapshot)" in snap.notes
    assert snap.row_count == 60


def test_ids_from_a_file_missing_and_gated_repos_are_counted(chub, world, crawl, store_path, tmp_path):
    recs, _, hist = world
    ids = [recs[3]["id"], "nobody/missing-repo", recs[7]["id"], recs[3]["id"]]
    f = tmp_path / "repos.txt"
    f.write_text("# my list\n" + "\n".join(ids) + "\n\n", encoding="utf-8")
    chub.add_fault("forbidden", commits=recs[7]["id"], times=10)
    res = crawl(chub, commits_from=str(f))
    assert _commits(store_path) == _expected(hist, [recs[3]["id"]])
    assert res.counters["commit_repos"] == 3 and res.counters["commit_repos_unavailable"] == 2
    with Store(store_path, read_only=True) as st:
        notes = dict(st.con.execute("SELECT repo_id, note FROM crawl_repos").fetchall())
    assert notes == {
        recs[3]["id"]: None,
        "nobody/missing-repo": "HTTP 404 RepoNotFound",
        recs[7]["id"]: "HTTP 403 GatedRepo",
    }


def test_commits_only_takes_the_top_of_the_newest_snapshot(chub, world, crawl, store_path):
    recs, _, hist = world
    listing = crawl(chub, limit=30, sort="downloads")  # the newest complete hf snapshot: the top 30
    res = crawl(chub, commits_only=True, commits_top=4, page_size=1000)
    assert res.snapshot_id != listing.snapshot_id and res.models == 0
    assert _commits(store_path, res.snapshot_id) == _expected(hist, _top(recs, 4))
    with Store(store_path, read_only=True) as st:
        snap = st.snapshot(res.snapshot_id)
        revs = {r[0] for r in st.con.execute("SELECT revision FROM crawl_repos").fetchall()}
    assert snap.source_format == "hf-commits-crawl" and snap.registry == "hf" and snap.row_count == 0
    assert snap.status == "complete" and f"the top 4 by downloads of {listing.snapshot_id}" in snap.notes
    assert revs == {"main"}  # not pinned: the histories as of the crawl
    assert json.loads(snap.manifest)["params"]["commits_base"] == listing.snapshot_id


def test_commits_only_needs_repos_and_a_snapshot_to_rank(chub, crawl, store_path):
    with pytest.raises(CrawlArgumentError, match="commits_only: needs commits_top and/or commits_from"):
        CrawlParams(endpoint=chub.url, commits_only=True)
    with pytest.raises(CrawlArgumentError, match="do not apply"):
        CrawlParams(endpoint=chub.url, commits_only=True, commits_top=3, cards=True)
    with pytest.raises(CrawlArgumentError, match="no complete hf snapshot with download counts"):
        crawl(chub, commits_only=True, commits_top=3)
    assert sum(chub.requests.values()) == 0


def test_a_history_longer_than_a_page_that_grows_while_paged_keeps_each_commit_once(chub, world, crawl, store_path):
    """A commit pushed between two pages shifts the pages (``main`` is not pinned): the repeat is dropped."""
    _recs, _, hist = world
    rid = max(hist, key=lambda r: len(hist[r]))
    assert len(hist[rid]) >= 8

    real_page = chub.commit_page

    def pushing(kind, repo, rev, query):
        if repo == rid and query.get("p") == ["1"] and len(chub.commits[rid]) == len(hist[rid]):
            new = dict(chub.commits[rid][0], id="f" * 40, title="pushed meanwhile", date="2024-12-31T00:00:00.000Z")
            chub.commits[rid].insert(0, new)
        return real_page(kind, repo, rev, query)

    chub.commit_page = pushing  # type: ignore[method-assign]
    res = crawl(chub, commits_only=True, commit_ids=(rid,), page_size=4)
    assert _commits(store_path) == _expected(hist, [rid])  # the pushed commit is newer than page 1: not seen
    assert res.counters["commit_duplicates"] == 1


@pytest.mark.parametrize("kind", ["bad_json", "not_list", "wrong_type", "repeat_key"])
def test_a_malformed_commit_page_stops_naming_repo_and_page_and_nothing_of_it_is_written(
    chub, world, crawl, store_path, kind
):
    recs, _, hist = world
    top = _top(recs, TOP)
    victim = next(r for r in top if len(hist[r]) > 5)
    chub.add_fault(kind, commits=victim, page=1, times=100, field="date", value=20230101)
    with pytest.raises(MalformedPage) as ei:
        crawl(chub, commits_top=TOP, page_size=5)
    msg = str(ei.value)
    assert f"commits of {victim}, page 2 (cursor 1)" in msg
    if kind == "wrong_type":
        assert "date: expected a string, got int 20230101" in msg
    got = _commits(store_path)
    assert {c[1] for c in got if c[0] == victim} == {c["id"] for c in hist[victim][:5]}
    chub.clear_faults()
    res = crawl(chub, commits_top=TOP, page_size=5)
    assert res.resumed and _commits(store_path) == _expected(hist, top)


def test_commit_pages_are_polite_and_retried(chub, world, crawl, store_path, clock):
    recs, _, hist = world
    top = _top(recs, 3)
    chub.add_fault("429", commits=top[0], page=0, retry_after=11)
    chub.add_fault("503", commits=top[1], times=2)
    res = crawl(chub, commits_top=3, page_size=50)
    assert clock.slept[0] == 11.0 and res.counters["rate_limited"] == 1 and res.counters["retries"] == 3
    assert _commits(store_path) == _expected(hist, top)


def test_a_commit_page_linking_or_redirecting_off_the_endpoint_stops_the_crawl(chub, world, crawl, store_path, small):
    recs, _, hist = world
    top = _top(recs, TOP)
    victim = next(r for r in top if len(hist[r]) > 5)
    with FakeHub(*small) as evil:
        chub.add_fault("offsite_link", commits=victim, page=0, target=evil.url, times=100)
        with pytest.raises(OffsiteURL, match=f"commits of {victim}.*{evil.url}"):
            crawl(chub, commits_top=TOP, page_size=5)
        chub.clear_faults()
        chub.add_fault("redirect", commits=victim, target=f"{evil.url}/api/models/x/commits/main", times=100)
        with pytest.raises(OffsiteURL):
            crawl(chub, commits_top=TOP, page_size=5)
        assert sum(evil.requests.values()) == 0


def test_a_trickled_commit_page_is_cut_and_retried(chub, world, crawl, store_path):
    from ptmscope.crawl import RetryPolicy

    recs, _, hist = world
    top = _top(recs, 2)
    chub.add_fault("trickle", commits=top[0], delay=0.05, times=1)
    res = crawl(chub, commits_top=2, policy_=RetryPolicy(max_retries=2, base_delay=0.01, timeout=1.0))
    assert res.counters["retries"] == 1 and _commits(store_path) == _expected(hist, top)


def test_the_file_is_not_needed_to_resume_and_a_changed_file_is_refused(chub, world, crawl, store_path, tmp_path):
    recs, _, hist = world
    f = tmp_path / "repos.txt"
    f.write_text(f"{recs[1]['id']}\n{recs[2]['id']}\n", encoding="utf-8")
    chub.add_fault("503", commits=recs[2]["id"], times=100)
    with pytest.raises(RequestFailed, match=f"commits of {recs[2]['id']}"):
        crawl(chub, commits_only=True, commits_from=str(f))
    f.write_text(f"{recs[1]['id']}\n", encoding="utf-8")
    with pytest.raises(CrawlArgumentError, match="commits_from_sha256"):
        crawl(chub, commits_only=True, commits_from=str(f), commit_ids=(recs[1]["id"],), commits_from_sha256="0" * 64)
    f.unlink()
    chub.clear_faults()
    with Store(store_path) as st:
        (pending,) = status(st, "hf")
        assert pending["kind"] == "commits" and pending["next_repo"] == recs[2]["id"]
        res = crawl_hf(st, CrawlParams.from_identity(pending["params"]))
    assert res.resumed and _commits(store_path) == _expected(hist, [recs[1]["id"], recs[2]["id"]])


@pytest.mark.parametrize(
    ("text", "line"),
    [("org/a\nnot a repo id\n", 2), ("org/a\n../etc/passwd\n", 2), ("https://huggingface.co/org/a\n", 1)],
)
def test_a_bad_repo_list_is_one_error_naming_the_line_and_creates_no_store(cli, chub, tmp_path, text, line):
    f = tmp_path / "repos.txt"
    f.write_text(text, encoding="utf-8")
    store = tmp_path / "s.duckdb"
    code, _out, err = cli("crawl", "hf", "--commits", "--commits-from", f, "--store", store, "--endpoint", chub.url)
    assert code == 1 and f"{f}:{line}: not a Hub repository id" in err and len(err.strip().splitlines()) == 1
    assert not store.exists() and sum(chub.requests.values()) == 0


def test_read_repo_ids_edge_cases(tmp_path):
    from ptmscope.crawl.hub import read_repo_ids

    f = tmp_path / "r.txt"
    f.write_bytes(b"\xef\xbb\xbforg/a\r\n\r\nb-legacy\norg/a\n")
    ids, sha = read_repo_ids(f)
    assert ids == ("org/a", "b-legacy") and len(sha) == 64
    f.write_text("# nothing\n", encoding="utf-8")
    with pytest.raises(InputError, match="no repository ids"):
        read_repo_ids(f)
    f.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(InputError, match="not UTF-8"):
        read_repo_ids(f)
    with pytest.raises(InputError, match="no such file"):
        read_repo_ids(tmp_path / "absent.txt")


def test_cli_commits_status_and_abort(cli, chub, world, store_path, tmp_path):
    recs, _, _hist = world
    args = ("crawl", "hf", "--store", store_path, "--endpoint", chub.url, "-q")
    code, out, err = cli(*args, "--commits-top", "3", "--page-size", "20")
    assert code == 0, err
    assert "60 models, " in out and "commits of 3 repositories" in out
    chub.add_fault("503", commits=recs[0]["id"], times=1000)
    f = tmp_path / "r.txt"
    f.write_text(recs[0]["id"] + "\n", encoding="utf-8")
    code, _out, err = cli(*args, "--commits", "--commits-from", f, "--max-retries", "0")
    assert code == 75 and f"commits of {recs[0]['id']}" in err and "--abort to discard" in err
    code, out, _ = cli("crawl", "status", "--store", store_path)
    assert code == 0 and "in_progress  commits" in out and recs[0]["id"] in out
    code, out, _ = cli(*args, "--commits", "--abort")
    assert code == 0 and out.startswith("aborted hf-")
    code, out, _ = cli("crawl", "status", "--store", store_path, "--json")
    assert json.loads(out) == []


def test_dataset_histories_come_from_the_dataset_commit_list(crawl, store_path):
    from .fakehub import synthetic_datasets

    ds, dcards = synthetic_datasets(15, seed=4)
    hist = synthetic_commits([d["id"] for d in ds], seed=4)
    with FakeHub([], datasets=ds, dataset_cards=dcards, commits=hist) as hub:
        res = crawl(hub, repo_type="dataset", commits_top=3)
        paths = {repo for repo, _page, _status in hub.commit_log}
    top = _top(ds, 3)
    assert paths == set(top) and _commits(store_path) == _expected(hist, top)
    assert res.snapshot_id.startswith("hf-datasets-")
