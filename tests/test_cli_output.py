"""Listing output: never cut when written to a pipe or file, --format table|csv|tsv|json, words kept whole."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from pathlib import Path

import pytest

from ptmscope.schema import Snapshot, SnapshotBatch, make_snapshot_id, to_table
from ptmscope.store import Store

LONG_NOTE = "partial listing: " + " ".join(f"word{i}" for i in range(60)) + " END-OF-NOTE"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture
def listing_store(tmp_path: Path) -> Path:
    path = tmp_path / "s.duckdb"
    with Store(path) as st:
        for reg, day, n in (("pypi", dt.date(2019, 1, 4), 3), ("npm", dt.date(2023, 2, 6), 2)):
            sid = make_snapshot_id(reg, day, f"{reg}{day}".ljust(64, "0"))
            ids = [f"{reg}-package-with-a-rather-long-name-{i}" for i in range(n)]
            pk = to_table("packages", {"package_id": ids, "raw_id": ids, "downloads": [30, 20, 10][:n]}, sid)
            snap = Snapshot(
                sid, reg, day, "test", f"/data/{reg}/{day}_a-source-file-with-a-long-name.json.gz",
                f"{reg}{day}".ljust(64, "0"), n, "test", notes=LONG_NOTE,
            )  # fmt: skip
            st.add_batch(SnapshotBatch(snap, {"packages": pk}))
    return path


def test_piped_table_is_never_cut(cli, listing_store, monkeypatch):
    monkeypatch.setenv("COLUMNS", "40")  # a narrow terminal elsewhere must not narrow a pipe
    code, out, err = cli("snapshots", "--store", listing_store)
    assert code == 0, err
    assert "…" not in out and "END-OF-NOTE" in out
    assert "pypi-2019-01-04-" in out and "2019-01-04_a-source-file-with-a-long-name.json.gz" in out
    body = [ln for ln in out.splitlines() if "pypi-2019" in ln]
    assert len(body) == 1  # one line per snapshot, not wrapped


def test_formats_agree_with_json(cli, listing_store):
    _, js, _ = cli("snapshots", "--store", listing_store, "--json")
    expected = json.loads(js)["snapshots"]
    _, fj, _ = cli("snapshots", "--store", listing_store, "--format", "json")
    assert json.loads(fj)["snapshots"] == expected
    for fmt, delim in (("csv", ","), ("tsv", "\t")):
        code, text, err = cli("snapshots", "--store", listing_store, "--format", fmt)
        assert code == 0, err
        rows = list(csv.DictReader(io.StringIO(text), delimiter=delim))
        assert [r["snapshot_id"] for r in rows] == [s["snapshot_id"] for s in expected]
        assert {r["registry"]: int(r["row_count"]) for r in rows} == {"pypi": 3, "npm": 2}
        assert {r["notes"] for r in rows} == {LONG_NOTE}
        assert {r["synthetic"] for r in rows} == {"false"}


def test_info_long_form(cli, listing_store):
    code, text, err = cli("info", "pypi-2019", "--store", listing_store, "--format", "csv")
    assert code == 0, err
    rows = {(r["section"], r["name"]): r["value"] for r in csv.DictReader(io.StringIO(text))}
    assert rows[("counts", "packages")] == "3" and rows[("downloads", "sum")] == "60"
    assert rows[("snapshot", "notes")] == LONG_NOTE


def test_claims_at_80_columns_keep_words_whole(cli, monkeypatch):
    from ptmscope.claims import load_catalogue
    from ptmscope.cli import _apps

    monkeypatch.setattr(_apps.out, "_force_terminal", True)
    monkeypatch.setattr(_apps.out, "_width", 80)
    monkeypatch.setattr(_apps.out, "_height", 50)
    code, text, err = cli("claims")
    assert code == 0, err
    text = ANSI.sub("", text)
    assert max(len(ln) for ln in text.splitlines()) <= 80
    tokens = set(re.findall(r"\S+", text))
    for c in load_catalogue().claims:
        for word in c.text.split():
            assert word in tokens, (c.id, word)  # a word broken over two lines would be missing


def test_claims_csv(cli):
    from ptmscope.claims import load_catalogue

    code, text, err = cli("claims", "--format", "csv")
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(text)))
    cat = load_catalogue()
    dagger = {c.id: f"† ({c.dagger}) " if c.dagger is not None else "" for c in cat.claims}
    assert [(r["id"], r["claim"]) for r in rows] == [(c.id, dagger[c.id] + c.text) for c in cat.claims]
    assert {r["origin"] for r in rows} >= {"paper", "extension"}


def test_warnings_on_stderr_are_not_wrapped_in_a_pipe(cli, listing_store):
    code, _out, err = cli("metric", "turnover", "--registry", "pypi", "--top", "5", "--store", listing_store)
    assert code == 0, err
    (line,) = [ln for ln in err.splitlines() if "fewer than K=5" in ln]
    assert line.startswith("warning: pypi-2019-01-04-") and line.endswith("its top set is incomplete")
