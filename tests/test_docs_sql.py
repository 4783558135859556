"""docs/sql.md: every ```sql block runs against a store built from ../shared/data, and the results of
several are checked against numbers computed here from the raw files (never from ptmscope)."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import json
import re
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from realdata import ROOT, shared_path

pytestmark = pytest.mark.realdata

DOC = ROOT / "docs" / "sql.md"
PYPI_DAYS = ("2019-01-04", "2020-01-03", "2021-01-01", "2022-01-01", "2023-01-01")


def sql_blocks() -> dict[str, str]:
    """name -> SQL for every ```sql block (its first line: ``-- name: NAME`` or ``-- fresh session``)."""
    out: dict[str, str] = {}
    for i, block in enumerate(re.findall(r"```sql\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)):
        m = re.match(r"-- (?:name: )?([\w ]+)\n", block)
        assert m, f"sql block {i + 1} in docs/sql.md lacks its '-- name: ...' first line"
        assert m[1] not in out, f"two sql blocks named {m[1]!r}"
        out[m[1]] = block
    return out


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    from ptmscope.cards import get_scorer
    from ptmscope.cards.storage import score_snapshot
    from ptmscope.sources import ingest, plan
    from ptmscope.store import Store

    hub = shared_path("hf", "2022-02_hub-dump")
    path = tmp_path_factory.mktemp("sqldoc") / "ptmscope.duckdb"
    with Store(path) as st:
        (dump,) = ingest(st, plan(hub / "model_infos.jsonl.gz", cards_path=hub / "model_cards.jsonl.gz"))
        ingest(
            st,
            plan(shared_path("hf", "2022-06_hf-model-metadata", "PeaTMOSS_ANCIENT.db"), taken_at=dt.date(2022, 6, 15)),
        )
        ingest(st, plan(shared_path("npm", "npm-high-impact")))
        pypi = shared_path("pypi", "top-pypi-packages")
        for day in PYPI_DAYS:
            ingest(st, plan(pypi / f"{day}_top-pypi-packages-30-days.json.gz"))
        score_snapshot(st, dump.snapshot_id, get_scorer("rules"))
    return path


@pytest.fixture(scope="module")
def results(store, tmp_path_factory) -> dict[str, list[tuple]]:
    """Every block's rows, run the way the page says: read-only on the store, or in a fresh session."""
    import os

    import duckdb

    work = tmp_path_factory.mktemp("sqlrun")
    (work / "ptmscope.duckdb").symlink_to(store)
    old = Path.cwd()
    os.chdir(work)  # the blocks name 'ptmscope.duckdb' and write their files here
    try:
        con = duckdb.connect("ptmscope.duckdb", read_only=True)
        out: dict[str, list[tuple]] = {}
        for name, sql in sql_blocks().items():
            if name == "fresh session":
                fresh = duckdb.connect()
                for statement in duckdb.extract_statements(sql):
                    rows = fresh.execute(statement).fetchall()
                fresh.close()
            else:
                rel = con.sql(sql)
                rows = rel.fetchall() if rel is not None else []
            out[name] = rows
        con.close()
        out["_dir"] = [(str(work),)]
        return out
    finally:
        os.chdir(old)


def test_every_block_runs_and_returns_rows(results):
    names = set(sql_blocks())
    assert {"top_k", "turnover_by_hand", "download_quantiles", "descendant_libraries", "cards_per_snapshot"} <= names
    assert {"across_snapshots", "gone_and_new", "storage_version", "fresh session"} <= names
    for name in names:
        assert results[name], f"{name}: no rows"
    assert "_dir" not in names


def _hub_downloads() -> dict[str, int | None]:
    with gzip.open(shared_path("hf", "2022-02_hub-dump", "model_infos.jsonl.gz"), "rt", encoding="utf-8") as fh:
        return {(r := json.loads(line))["modelId"]: r.get("downloads") for line in fh}


def test_snapshot_counts_and_one_per_year(results):
    with open(shared_path("npm", "npm-high-impact", "snapshots.csv"), newline="") as fh:
        npm_days = [dt.date.fromisoformat(r["data_date"]) for r in csv.DictReader(fh)]
    got = {r[0]: r[1] for r in results["snapshots_per_registry"]}
    assert got == {"hf": 2, "npm": len(npm_days), "pypi": len(PYPI_DAYS)}
    per_year = {(r[0], r[1]): r[3] for r in results["one_per_year"]}
    for year in {d.year for d in npm_days}:
        nearest = min((d for d in npm_days if d.year == year), key=lambda d: abs((d - dt.date(year, 1, 1)).days))
        assert per_year[("npm", year)] == nearest


def test_top_k_matches_the_raw_lists(results):
    top = {}
    for sid, pid, _dl, _rank, pos in results["top_k"]:
        top.setdefault(sid, []).append((pos, pid))
    text = gzip.decompress(shared_path("npm", "npm-high-impact", "1.0.0_top-download.js.gz").read_bytes()).decode()
    first10 = [s.lower() for s in re.findall(r"'([^']*)'", text)[:10]]
    (npm_sid,) = [s for s in top if s.startswith("npm-2022-11-03-")]
    assert [p for _, p in sorted(top[npm_sid])] == first10
    dls = _hub_downloads()
    hub10 = sorted((m for m, d in dls.items() if d is not None), key=lambda m: (-dls[m], m))[:10]
    (hub_sid,) = [s for s in top if s.startswith("hf-2022-02-15-")]
    assert [p for _, p in sorted(top[hub_sid])] == hub10


def _pypi_top(day: str, k: int) -> set[str]:
    path = shared_path("pypi", "top-pypi-packages", f"{day}_top-pypi-packages-30-days.json.gz")
    rows = json.loads(gzip.decompress(path.read_bytes()))["rows"]
    named = [(re.sub(r"[-_.]+", "-", r["project"]).lower(), r["download_count"]) for r in rows]
    return {n for n, _ in sorted(named, key=lambda x: (-x[1], x[0]))[:k]}


def test_turnover_by_hand_matches_sets_from_the_raw_files(results):
    rows = {(r[0], r[1]): r for r in results["turnover_by_hand"]}
    a, b = _pypi_top(PYPI_DAYS[0], 100), _pypi_top(PYPI_DAYS[1], 100)
    _reg, _seq, _sid, _day, in_top, remained, newcomers, returning = rows[("pypi", 2)]
    assert (in_top, remained, newcomers, returning) == (100, len(a & b), len(b - a), 0)
    c = _pypi_top(PYPI_DAYS[2], 100)
    assert rows[("pypi", 3)][5:] == (len(c & b), len(c - a - b), len((c - b) & a))


def test_download_quantiles_match_numpy(results):
    dls = [d for d in _hub_downloads().values() if d is not None]
    (row,) = [r for r in results["download_quantiles"] if r[0].startswith("hf-2022-02-15-")]
    assert row[1] == len(dls) and row[3] == pytest.approx(float(np.median(dls)))
    assert row[4][0] == pytest.approx(float(np.quantile(dls, 0.9))) and row[5] == max(dls)


def test_cards_and_joins_across_snapshots(results):
    cards = shared_path("hf", "2022-02_hub-dump", "model_cards.jsonl.gz")
    with gzip.open(cards, "rt", encoding="utf-8") as fh:
        flags = [json.loads(line)["readme_missing"] for line in fh]
    (row,) = results["cards_per_snapshot"]
    assert (row[1], row[2]) == (len(flags), flags.count(False))  # 29,432 models, 16,590 cards (data README)
    with sqlite3.connect(shared_path("hf", "2022-06_hf-model-metadata", "PeaTMOSS_ANCIENT.db")) as db:
        june = {r[0] for r in db.execute("SELECT modelId FROM PeaTMOSS_ANCIENT")}
    feb = set(_hub_downloads())
    ((in_first, in_second, in_both, gone, new),) = results["gone_and_new"]
    assert (in_first, in_second, in_both, gone, new) == (
        len(feb),
        len(june),
        len(feb & june),
        len(feb - june),
        len(june - feb),
    )


def test_export_blocks_wrote_their_files(results):
    import pyarrow.parquet as pq

    work = Path(results["_dir"][0][0])
    n_snapshots = 2 + 14 + len(PYPI_DAYS)
    assert results["copy_to_parquet"] == [(n_snapshots,)]  # COPY reports the rows it wrote
    assert pq.read_metadata(work / "snapshots.parquet").num_rows == n_snapshots
    ((storage,),) = results["fresh session"]
    assert storage == "v1.0.0+" and (work / "ptmscope-v1.duckdb").is_file()
    ((_db, version),) = results["storage_version"]
    assert version.startswith("v") and version.endswith("+")
