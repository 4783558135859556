"""ptmscope export: tables, filters, read-only SQL, per-model documentation scores; writes refused."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from ptmscope.errors import PtmscopeError
from ptmscope.export import check_read_only_sql, export
from ptmscope.schema import Snapshot, SnapshotBatch, make_snapshot_id, to_table
from ptmscope.store import Store

DAYS = (dt.date(2022, 2, 15), dt.date(2022, 6, 15))
IDS = ["org/a", "org/b", "c", "x/with,comma"]
DLS = [[100, 50, None, 7], [300, 10, 5, None]]


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "s.duckdb"
    with Store(path) as st:
        for day, dls in zip(DAYS, DLS, strict=True):
            sha = hashlib.sha256(str(day).encode()).hexdigest()
            sid = make_snapshot_id("hf", day, sha)
            pk = to_table(
                "packages",
                {
                    "package_id": IDS,
                    "raw_id": IDS,
                    "downloads": dls,
                    "task": ["fill-mask", "fill-mask", None, "translation"],
                    "tags": [["pytorch", "en"], [], None, ['a"quote']],
                },
                sid,
            )
            cards = to_table(
                "cards",
                {
                    "package_id": IDS,
                    "text": ["# A\n\n## Limitations\n\nBiased.", None, "short", None],
                    "text_sha256": ["h1", None, "h2", None],
                    "missing": [False, True, False, True],
                },
                sid,
            )
            snap = Snapshot(sid, "hf", day, "hf-api", f"{day}.jsonl", sha, len(IDS), "test")
            st.add_batch(SnapshotBatch(snap, {"packages": pk, "cards": cards}))
    return path


def _sids(store: Path) -> list[str]:
    with Store(store, read_only=True) as st:
        return [s.snapshot_id for s in st.snapshots()]


def test_table_to_parquet_keeps_types(store, tmp_path):
    res = export(tmp_path / "p.parquet", store=store, table="packages")
    t = pq.read_table(tmp_path / "p.parquet")
    assert res.rows == t.num_rows == 2 * len(IDS) and res.format == "parquet"
    assert str(t.schema.field("tags").type) == "list<element: string>"
    assert sorted(x for x in t.column("downloads").to_pylist() if x is not None) == sorted(
        x for d in DLS for x in d if x is not None
    )


def test_snapshot_filter_and_parameterised_where_to_csv(store, tmp_path):
    first = _sids(store)[0]
    out = tmp_path / "f.csv"
    res = export(out, store=store, table="packages", snapshot_ids=[first], where="downloads >= ?", params=["50"])
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert res.rows == 2 and {r["package_id"] for r in rows} == {"org/a", "org/b"}  # 100 and 50 of DLS[0]
    assert json.loads(rows[0]["tags"]) in (["pytorch", "en"], [])  # lists as JSON text in CSV
    # a value is a parameter, never SQL: a hostile one matches nothing and breaks nothing
    res = export(out, store=store, table="packages", where="package_id = ?", params=["x' OR '1'='1"])
    assert res.rows == 0 and out.read_text(encoding="utf-8").startswith('"snapshot_id"')  # header kept


def test_sql_to_jsonl_and_stdout(store, tmp_path, capsys):
    out = tmp_path / "q.jsonl"
    sql = "SELECT package_id, count(*) AS n, sum(downloads) AS total FROM packages GROUP BY ALL ORDER BY package_id"
    export(out, store=store, sql=sql)
    got = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert got[0] == {"package_id": "c", "n": 2, "total": 5}
    assert got[1] == {"package_id": "org/a", "n": 2, "total": 400}
    export("-", store=store, sql="SELECT taken_at FROM snapshots ORDER BY taken_at", fmt="csv")
    assert capsys.readouterr().out.splitlines() == ['"taken_at"', "2022-02-15", "2022-06-15"]


@pytest.mark.parametrize(
    ("sql", "why"),
    [
        ("DROP TABLE packages", "not DROP"),
        ("DELETE FROM packages", "not DELETE"),
        ("COPY packages TO 'x.csv'", "not COPY"),
        ("ATTACH 'other.duckdb'", "not ATTACH"),
        ("SELECT 1; DROP TABLE packages", "one statement, got 2"),
        ("PRAGMA version", "not PRAGMA"),
        ("CREATE TABLE t AS SELECT 1", "not CREATE"),
        ("SELEC 1", "does not parse"),
    ],
)
def test_sql_that_writes_or_is_not_one_query_is_refused(store, tmp_path, sql, why):
    before = hashlib.sha256(store.read_bytes()).hexdigest()
    with pytest.raises(PtmscopeError, match=why):
        export(tmp_path / "x.csv", store=store, sql=sql)
    assert not (tmp_path / "x.csv").exists()
    assert hashlib.sha256(store.read_bytes()).hexdigest() == before


def test_where_cannot_smuggle_a_statement(store, tmp_path):
    with pytest.raises(PtmscopeError, match="SQL"):
        export(tmp_path / "x.csv", store=store, table="packages", where="1=1; DROP TABLE packages")
    assert export(tmp_path / "y.csv", store=store, table="packages").rows == 2 * len(IDS)


def test_select_like_statements_are_allowed():
    for sql in ("FROM packages", "WITH a AS (SELECT 1) SELECT * FROM a", "DESCRIBE packages", "SUMMARIZE packages"):
        check_read_only_sql(sql)


def test_bad_requests_are_one_clear_error(store, tmp_path):
    with pytest.raises(PtmscopeError, match=r"no table 'nope'.*packages"):
        export(tmp_path / "x.csv", store=store, table="nope")
    with pytest.raises(PtmscopeError, match="cannot tell the format"):
        export(tmp_path / "x.txt", store=store, table="packages")
    with pytest.raises(PtmscopeError, match="Parquet cannot be written to standard output"):
        export("-", store=store, table="packages", fmt="parquet")
    with pytest.raises(PtmscopeError, match="no snapshot_id column"):
        export(tmp_path / "x.csv", store=store, table="aliases", snapshot_ids=["x"])
    with pytest.raises(PtmscopeError, match="no store here"):
        export(tmp_path / "x.csv", store=tmp_path / "absent.duckdb", table="packages")
    with pytest.raises(PtmscopeError, match="Catalog Error"):
        export(tmp_path / "x.csv", store=store, sql="SELECT * FROM nope")


def test_a_failing_query_leaves_no_partial_file(store, tmp_path):
    out = tmp_path / "fail.csv"
    out.write_text("old\n", encoding="utf-8")
    with pytest.raises(PtmscopeError):
        export(out, store=store, sql="SELECT CASE WHEN downloads > 60 THEN error('boom') END FROM packages")
    assert out.read_text(encoding="utf-8") == "old\n"  # the previous file is untouched
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []


def test_doc_scores_export(store, tmp_path, cli):
    from ptmscope.cards import get_scorer
    from ptmscope.cards.storage import score_snapshot
    from ptmscope.metrics.docs import documentation_table

    first = _sids(store)[0]
    with Store(store) as st:
        score_snapshot(st, first, get_scorer("rules"))
    code, _out, err = cli("export", tmp_path / "d.parquet", "--doc-scores", "--store", store)
    assert code == 0, err
    assert "4 rows" in err and "written to" in err
    t = pq.read_table(tmp_path / "d.parquet").to_pylist()
    assert [r["package_id"] for r in t] == sorted(IDS)
    assert {r["snapshot_id"] for r in t} == {first} and {r["scorer_key"] for r in t} == {"rules-v1"}
    with Store(store, read_only=True) as st:
        direct, _, _ = documentation_table(st.backend, first, "rules-v1")
        want = {r["package_id"]: r["documentation_score"] for r in direct.to_pyarrow().to_pylist()}
    for r in t:  # the documented score: (card items / 5 + metadata share) / 2, for missing cards too
        assert r["documentation_score"] == pytest.approx(want[r["package_id"]])
        assert r["documentation_score"] == pytest.approx((r["card_score"] / 5 + r["metadata_score"]) / 2)
    assert next(r for r in t if r["package_id"] == "org/b")["card_missing"] is True


def test_cli_export_and_refusal(store, tmp_path, cli):
    code, out, err = cli("export", "-", "--format", "csv", "--sql", "SELECT ? AS a", "--param", "x", "--store", store)
    assert code == 0, err
    assert list(csv.reader(io.StringIO(out))) == [["a"], ["x"]]
    code, out, err = cli("export", tmp_path / "x.csv", "--sql", "DROP TABLE packages", "--store", store)
    assert code == 1 and err.startswith("error: SQL: only a read-only query") and len(err.splitlines()) == 1
    code, out, err = cli("export", tmp_path / "x.csv", "--store", store)
    assert code == 1 and "exactly one of --table, --sql or --doc-scores" in err
    code, out, err = cli("export", tmp_path / "x.csv", "--table", "snapshots", "--json", "--store", store)
    assert code == 0 and json.loads(out)["rows"] == 2
