"""A crawl killed with SIGKILL at a random moment, then resumed, equals a clean crawl.

The crawler runs as a subprocess (``python -m ptmscope crawl hf ...``); the
fake Hub runs in the test process, which watches how many pages it served and
kills the crawler after a random number of them plus a random delay, so kills
land in page fetches, card downloads and commits alike.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import pytest

from ptmscope.crawl import CrawlParams, RetryPolicy, crawl_hf
from ptmscope.store import Store

from .fakehub import FakeHub, synthetic_commits, synthetic_datasets, synthetic_records
from .helpers import snapshot_rows, status_of

N_MODELS = 300
PAGE = 20  # 15 pages


def _cmd(hub: FakeHub, store) -> list[str]:
    return [
        sys.executable, "-m", "ptmscope", "crawl", "hf", "--store", str(store), "--endpoint", hub.url,
        "--page-size", str(PAGE), "--cards", "--sort", "downloads", "--quiet", "--backoff-base", "0.05",
    ]  # fmt: skip


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("HF_TOKEN", None)
    env.pop("HF_HUB_OFFLINE", None)  # another test module may have set it in this process
    env["HF_HUB_DISABLE_IMPLICIT_TOKEN"] = "1"
    return env


def _run_and_kill(
    hub: FakeHub, store, served_before_kill: int, extra: float, cmd: list[str] | None = None, log: str = "list_log"
) -> bool:
    """Start the crawler, SIGKILL it once the Hub has served that many pages in all. True if killed."""
    proc = subprocess.Popen(cmd or _cmd(hub, store), env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while proc.poll() is None and len(getattr(hub, log)) < served_before_kill and time.monotonic() < deadline:
        time.sleep(0.005)
    time.sleep(extra)
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        return True
    assert proc.returncode == 0, proc.stderr.read().decode() if proc.stderr else ""
    return False


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """The rows of an uninterrupted crawl of the same fake Hub."""
    recs, cards = synthetic_records(N_MODELS, seed=11)
    path = tmp_path_factory.mktemp("clean") / "clean.duckdb"
    with FakeHub(recs, cards) as hub, Store(path) as st:
        params = CrawlParams(endpoint=hub.url, page_size=PAGE, cards=True, sort="downloads")
        crawl_hf(st, params, policy=RetryPolicy(base_delay=0.05))
    return snapshot_rows(path)


@pytest.mark.slow
@pytest.mark.parametrize(("seed", "kills"), [(1, 1), (2, 1), (3, 2)])
def test_sigkill_at_random_pages_then_resume_equals_clean_crawl(tmp_path, clean, seed, kills):
    rng = random.Random(seed)
    recs, cards = synthetic_records(N_MODELS, seed=11)
    store = tmp_path / "killed.duckdb"
    pages = N_MODELS // PAGE
    # kill after a random number of pages served in all (a resumed run re-serves at most one page)
    thresholds = sorted(rng.sample(range(1, pages - 2), kills))
    with FakeHub(recs, cards) as hub:
        hub.page_delay = 0.02
        killed = [_run_and_kill(hub, store, t, rng.uniform(0.0, 0.08)) for t in thresholds]
        assert killed[0]  # the first run cannot have finished before its threshold
        states = status_of(store)
        assert len(states) == 1
        hub.page_delay = 0.0
        if killed[-1]:
            assert states[0][1] == "in_progress"
            # resume in-process (only the killed runs need to be separate processes)
            with Store(store) as st:
                params = CrawlParams(endpoint=hub.url, page_size=PAGE, cards=True, sort="downloads")
                res = crawl_hf(st, params, policy=RetryPolicy(base_delay=0.05))
            assert res.resumed and res.manifest["runs"] == kills + 1
    ((_, st_, n),) = status_of(store)
    assert st_ == "complete" and n == N_MODELS
    got = snapshot_rows(store)
    for table, want in clean.items():
        assert got[table] == want, table
    with Store(store, read_only=True) as s:
        page_nos = [r[0] for r in s.con.execute("SELECT page_no FROM crawl_pages ORDER BY page_no").fetchall()]
    assert page_nos == list(range(pages))


# -- commit histories and dataset listings ----------------------------------------------------------

N_DATASETS = 200
COMMIT_TOP = 25
COMMIT_PAGE = 3  # histories of up to 12 commits: up to 4 pages each


def _world():
    recs, cards = synthetic_records(N_MODELS, seed=11)
    ds, dcards = synthetic_datasets(N_DATASETS, seed=11)
    hist = synthetic_commits([r["id"] for r in recs], seed=11)
    return recs, cards, ds, dcards, hist


def _commits_cmd(hub: FakeHub, store) -> list[str]:
    return [
        sys.executable, "-m", "ptmscope", "crawl", "hf", "--store", str(store), "--endpoint", hub.url,
        "--page-size", str(COMMIT_PAGE), "--limit", "60", "--sort", "downloads", "--commits-top", str(COMMIT_TOP),
        "--quiet", "--backoff-base", "0.05",
    ]  # fmt: skip


def _datasets_cmd(hub: FakeHub, store) -> list[str]:
    return [
        sys.executable, "-m", "ptmscope", "crawl", "hf", "--repo-type", "dataset", "--store", str(store),
        "--endpoint", hub.url, "--page-size", "10", "--cards", "--quiet", "--backoff-base", "0.05",
    ]  # fmt: skip


def _params(hub: FakeHub, what: str) -> CrawlParams:
    if what == "commits":
        return CrawlParams(endpoint=hub.url, page_size=COMMIT_PAGE, limit=60, sort="downloads", commits_top=COMMIT_TOP)
    return CrawlParams(endpoint=hub.url, repo_type="dataset", page_size=10, cards=True)


@pytest.fixture(scope="module")
def clean_other(tmp_path_factory):
    """Rows of uninterrupted commit-history and dataset crawls."""
    recs, cards, ds, dcards, hist = _world()
    out = {}
    for what in ("commits", "datasets"):
        path = tmp_path_factory.mktemp("clean") / f"{what}.duckdb"
        with FakeHub(recs, cards, datasets=ds, dataset_cards=dcards, commits=hist) as hub, Store(path) as st:
            crawl_hf(st, _params(hub, what), policy=RetryPolicy(base_delay=0.05))
        out[what] = snapshot_rows(path)
    return out


@pytest.mark.slow
@pytest.mark.parametrize(("what", "seed"), [("commits", 1), ("commits", 2), ("datasets", 3)])
def test_sigkill_in_commit_histories_or_dataset_listing_then_resume_equals_clean_crawl(
    tmp_path, clean_other, what, seed
):
    rng = random.Random(seed)
    recs, cards, ds, dcards, hist = _world()
    store = tmp_path / "killed.duckdb"
    with FakeHub(recs, cards, datasets=ds, dataset_cards=dcards, commits=hist) as hub:
        hub.page_delay = 0.02
        if what == "commits":
            real = hub.commit_page

            def slow(*a):  # commit pages as slow as listing pages, so the kill can land anywhere in them
                time.sleep(0.02)
                return real(*a)

            hub.commit_page = slow  # type: ignore[method-assign]
            cmd, log, n = _commits_cmd(hub, store), "commit_log", rng.randrange(5, 40)
        else:
            cmd, log, n = _datasets_cmd(hub, store), "list_log", rng.randrange(2, N_DATASETS // 10 - 3)
        assert _run_and_kill(hub, store, n, rng.uniform(0.0, 0.05), cmd=cmd, log=log)
        ((_, st_, _),) = status_of(store)
        assert st_ == "in_progress"
        hub.page_delay = 0.0
        with Store(store) as st:
            res = crawl_hf(st, _params(hub, what), policy=RetryPolicy(base_delay=0.05))
        assert res.resumed
    got = snapshot_rows(store)
    for table, want in clean_other[what].items():
        assert got[table] == want, table
    if what == "commits":
        assert len(got["commits"]) > 100
