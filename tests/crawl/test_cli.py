"""``ptmscope crawl hf`` and ``ptmscope crawl status`` in-process."""

from __future__ import annotations

import json

import pytest

from .helpers import status_of


@pytest.fixture(autouse=True)
def _no_token(monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "hf_secret_do_not_print")


def test_crawl_hf_completes_and_exits_zero(cli, hub, store_path):
    code, out, err = cli("crawl", "hf", "--store", store_path, "--endpoint", hub.url, "--page-size", "100", "--json")
    assert code == 0, err
    res = json.loads(out)
    assert res["models"] == 230 and res["pages"] == 3
    assert res["manifest"]["authenticated"] is True
    assert "hf_secret" not in out + err
    with open(store_path, "rb") as f:
        assert b"hf_secret" not in f.read()


def test_hf_endpoint_environment_variable_is_used(cli, hub, store_path, monkeypatch):
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    code, out, err = cli("crawl", "hf", "--store", store_path, "--limit", "10", "--quiet")
    assert code == 0, err
    assert "10 models in 1 pages" in out


def test_stopped_crawl_exits_75_names_cursor_then_resume_and_abort(cli, hub, store_path):
    hub.add_fault("503", page=1, times=1000)
    args = ("crawl", "hf", "--store", store_path, "--endpoint", hub.url, "--page-size", "100", "--quiet")
    code, out, err = cli(*args, "--max-retries", "1", "--backoff-base", "0.01")
    assert code == 75
    assert "page 2 (cursor " in err and "1 pages (100 models)" in err and "Rerun the same command" in err
    assert "hf_secret" not in err
    code, out, err = cli("crawl", "status", "--store", store_path, "--json")
    (st,) = json.loads(out)
    assert st["pages"] == 1 and st["models"] == 100 and st["next_cursor"] not in ("none", "first page")
    # `snapshots` says there is an unfinished crawl; `--all` lists it, marked
    code, out, err = cli("snapshots", "--store", store_path)
    assert code == 0 and st["snapshot_id"] not in out and "1 unfinished (in_progress) not shown" in err
    code, out, err = cli("snapshots", "--store", store_path, "--all")
    assert code == 0 and f"{st['snapshot_id']}*" in out and "1 unfinished (status in_progress)" in err
    # other parameters are refused with exit 1; --resume takes the stored ones
    code, out, err = cli("crawl", "hf", "--store", store_path, "--endpoint", hub.url, "--page-size", "7")
    assert code == 1 and "other parameters" in err
    hub.clear_faults()
    code, out, err = cli("crawl", "hf", "--store", store_path, "--resume", "--quiet")
    assert code == 0, err
    assert "(resumed)" in out
    assert [s[1:] for s in status_of(store_path)] == [("complete", 230)]

    hub.add_fault("503", page=0, times=1000)
    code, _, _ = cli(*args, "--max-retries", "0")
    assert code == 75
    code, out, err = cli("crawl", "hf", "--store", store_path, "--abort")
    assert code == 0 and "aborted hf-" in out
    assert [s[1:] for s in status_of(store_path)] == [("complete", 230)]


def test_bad_arguments_exit_1(cli, hub, store_path):
    code, _out, err = cli("crawl", "hf", "--store", store_path, "--endpoint", hub.url, "--expand", "usedStorage")
    assert code == 1 and "usedStorage" in err
    code, _out, err = cli("crawl", "hf", "--store", store_path, "--endpoint", "ftp://x")
    assert code == 1 and "--endpoint" in err
    code, _out, err = cli("crawl", "hf", "--store", store_path, "--sort", "nonsense")
    assert code == 2


def test_status_and_abort_never_create_or_write_a_store(cli, store_path, tmp_path):
    missing = tmp_path / "none.duckdb"
    for args in (("crawl", "status"), ("crawl", "hf", "--abort")):
        code, _, err = cli(*args, "--store", missing)
        assert code == 1 and "no store here" in err and len(err.strip().splitlines()) == 1
        assert not missing.exists()
    # a store that never saw a crawl: status reads it without adding the crawl tables
    from ptmscope.store import Store

    Store(store_path).close()
    before = store_path.read_bytes()
    code, out, err = cli("crawl", "status", "--store", store_path, "--json")
    assert code == 0 and json.loads(out) == []
    assert store_path.read_bytes() == before


def test_abort_and_resume_together_are_refused(cli, hub, store_path):
    code, _, err = cli("crawl", "hf", "--store", store_path, "--abort", "--resume")
    assert code == 1 and "exclude each other" in err


@pytest.mark.parametrize(
    "bad",
    [
        ("--page-size", "5000"),
        ("--limit", "0"),
        ("--max-retries", "-1"),
        ("--timeout", "0"),
        ("--resume",),
        ("--backoff-base", "-1"),
    ],
)
def test_bad_arguments_never_create_the_store(cli, hub, tmp_path, bad):
    store = tmp_path / "new.duckdb"
    code, _out, err = cli("crawl", "hf", "--store", store, "--endpoint", hub.url, "--quiet", *bad)
    assert code == 1 and (bad[0] in err or "nothing to resume" in err)
    assert not store.exists() and hub.requests["list"] == 0
