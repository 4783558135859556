"""ptmscope ingest / snapshots / info through the CLI, with hand-computed numbers."""

from __future__ import annotations

import gzip
import json

import pytest


def _counts(tmp_path, name="2.20250101.0_counts.json", data=None):
    p = tmp_path / name
    p.write_text(json.dumps(data or {"a": 40, "B": 30, "c": 20, "d": 10}))
    return p


def test_ingest_snapshots_info_json(tmp_path, cli):
    store = tmp_path / "s.duckdb"
    src = _counts(tmp_path)
    code, out, err = cli("ingest", src, "--store", store, "--json")
    assert code == 0, err
    (res,) = json.loads(out)["results"]
    assert res["snapshot_id"].startswith("npm-2025-01-01-")
    assert (res["registry"], res["rows"], res["created"], res["format"]) == ("npm", 4, True, "npm-download-counts")

    code, out, _ = cli("snapshots", "--store", store, "--json")
    (snap,) = json.loads(out)["snapshots"]
    assert set(snap) == {
        "snapshot_id",
        "registry",
        "taken_at",
        "source_format",
        "source_file",
        "source_sha256",
        "row_count",
        "importer_version",
        "notes",
        "status",
        "synthetic",
    }
    assert (snap["taken_at"], snap["row_count"], snap["status"]) == ("2025-01-01", 4, "complete")

    code, out, _ = cli("info", snap["snapshot_id"][:16], "--store", store, "--json")  # unique prefix
    info = json.loads(out)
    assert info["counts"] == {
        "packages": 4,
        "package_libraries": 0,
        "lineage": 0,
        "cards": 0,
        "package_files": 0,
        "commits": 0,
        "dependents": 0,
    }
    d = info["downloads"]
    assert (d["n"], d["nulls"], d["sum"], d["mean"]) == (4, 0, 100, 25.0)
    # linear-interpolated quantiles of 10, 20, 30, 40
    assert d["quantiles"] == {"min": 10.0, "p25": 17.5, "p50": 25.0, "p75": 32.5, "p90": 37.0, "p99": 39.7, "max": 40.0}
    assert info["null_share"]["downloads"] == 0.0 and info["null_share"]["likes"] == 1.0
    assert info["null_share"]["rank"] == 0.0  # sorted by downloads: ranked


def test_ingest_is_idempotent_and_refuses_changed_file(tmp_path, cli):
    store = tmp_path / "s.duckdb"
    src = _counts(tmp_path)
    assert cli("ingest", src, "--store", store)[0] == 0
    code, out, _ = cli("ingest", src, "--store", store, "--json")
    assert code == 0 and json.loads(out)["results"][0]["created"] is False
    src.write_text(json.dumps({"a": 1}))
    code, _, err = cli("ingest", src, "--store", store)
    assert code == 1 and "--replace" in err
    code, out, _ = cli("ingest", src, "--store", store, "--replace", "--json")
    assert code == 0 and json.loads(out)["results"][0]["rows"] == 1
    code, out, _ = cli("snapshots", "--store", store, "--json")
    assert [s["row_count"] for s in json.loads(out)["snapshots"]] == [1]


def test_info_lineage_counts(tmp_path, cli):
    recs = [
        {"modelId": "base", "lastModified": "2022-01-01T00:00:00Z", "downloads": 5},
        {
            "modelId": "u/a",
            "lastModified": "2022-01-02T00:00:00Z",
            "downloads": None,
            "tags": ["base_model:finetune:base", "base_model:gone/x"],
        },
    ]
    f = tmp_path / "dump.jsonl.gz"
    f.write_bytes(gzip.compress("\n".join(json.dumps(r) for r in recs).encode()))
    store = tmp_path / "s.duckdb"
    code, out, err = cli("ingest", f, "--store", store, "--json")
    assert code == 0, err
    sid = json.loads(out)["results"][0]["snapshot_id"]
    info = json.loads(cli("info", sid, "--store", store, "--json")[1])
    assert info["lineage"] == {
        "rows": 2,
        "resolved": 1,
        "unresolved": 1,
        "by_origin": {"base_model_tag": {"rows": 2, "resolved": 1, "unresolved": 1}},
        "by_relation": {"finetune": 1, "unknown": 1},
    }
    assert info["downloads"]["nulls"] == 1
    assert info["null_share"]["downloads"] == 0.5


def test_human_output_and_errors(tmp_path, cli):
    store = tmp_path / "s.duckdb"
    code, out, err = cli("snapshots", "--store", store)
    assert code == 1 and "no store here" in err
    assert cli("ingest", _counts(tmp_path), "--store", store)[0] == 0
    code, out, _ = cli("snapshots", "--store", store)
    assert code == 0 and "npm-2025-01-01" in out
    code, out, _ = cli("info", "npm", "--store", store)
    assert code == 0 and "p50=25" in out
    code, _, err = cli("info", "nothing", "--store", store)
    assert code == 1 and "no snapshot 'nothing'" in err


@pytest.mark.parametrize("bad", ["--format=xml", "--registry=cran"])
def test_choices_come_from_the_library(tmp_path, cli, bad):
    code, _, _ = cli("ingest", _counts(tmp_path), bad, "--store", tmp_path / "s.duckdb")
    assert code == 2


def test_dump_folder_pairs_cards_and_reingest_is_a_noop(tmp_path, cli):
    d = tmp_path / "dump"
    d.mkdir()
    (d / "model_infos.jsonl").write_text(
        json.dumps({"modelId": "a/b", "sha": "x", "lastModified": "2022-02-01T00:00:00Z", "downloads": 1}) + "\n"
    )
    (d / "model_cards.jsonl").write_text(
        json.dumps({"modelId": "a/b", "readme_missing": False, "readme": "# card"}) + "\n"
    )
    store = tmp_path / "s.duckdb"
    code, out, err = cli("ingest", d, "--store", store, "--json")
    assert code == 0, err
    (res,) = json.loads(out)["results"]
    assert res["format"] == "hf-api" and res["created"] is True
    info = json.loads(cli("info", res["snapshot_id"], "--store", store, "--json")[1])
    assert info["cards"] == {"rows": 1, "with_text": 1, "missing": 0}
    # the same folder given as file + --cards is the same source: nothing new
    code, out, _ = cli(
        "ingest", d / "model_infos.jsonl", "--cards", d / "model_cards.jsonl", "--store", store, "--json"
    )
    assert code == 0 and json.loads(out)["results"][0]["created"] is False


def test_directory_of_snapshots_in_one_call(tmp_path, cli):
    d = tmp_path / "npm"
    d.mkdir()
    for day, data in (("20250101", {"a": 2, "b": 1}), ("20250201", {"a": 3})):
        (d / f"2.{day}.0_counts.json").write_text(json.dumps(data))
    store = tmp_path / "s.duckdb"
    code, out, _ = cli("ingest", d, "--store", store, "--json")
    assert code == 0
    assert [(r["taken_at"], r["rows"], r["created"]) for r in json.loads(out)["results"]] == [
        ("2025-01-01", 2, True),
        ("2025-02-01", 1, True),
    ]
    code, out, _ = cli("ingest", d, "--store", store, "--json")
    assert [r["created"] for r in json.loads(out)["results"]] == [False, False]
    snaps = json.loads(cli("snapshots", "--store", store, "--json")[1])["snapshots"]
    assert [s["row_count"] for s in snaps] == [2, 1]


def test_failure_while_writing_leaves_no_trace(tmp_path, monkeypatch):
    from ptmscope.schema import DATA_TABLES
    from ptmscope.sources import ingest, plan
    from ptmscope.store import Store

    d = tmp_path / "npm"
    d.mkdir()
    for day in ("20250101", "20250201", "20250301"):
        (d / f"2.{day}.0_counts.json").write_text(json.dumps({"a": 2, "b": 1}))
    planned = plan(d)
    store = Store(tmp_path / "s.duckdb")
    calls = {"n": 0}
    real = Store.insert_snapshot

    def flaky(self, snapshot):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk full")
        return real(self, snapshot)

    monkeypatch.setattr(Store, "insert_snapshot", flaky)
    with pytest.raises(RuntimeError):
        ingest(store, planned)
    assert store.snapshots(include_incomplete=True) == []
    for name in DATA_TABLES:
        assert store.con.execute(f"SELECT count(*) FROM {name}").fetchone()[0] == 0
    store.close()


def test_snapshots_table_is_one_line_per_snapshot(tmp_path, cli, monkeypatch):
    """Long coverage notes used to wrap every row over a dozen lines at 80 columns (on a terminal; a pipe gets all)."""
    import re

    from ptmscope.cli import _apps

    store = tmp_path / "s.duckdb"
    d = tmp_path / "dump"
    d.mkdir()
    rows = [
        json.dumps({"modelId": f"org/m{i}", "lastModified": f"2022-01-0{1 + i % 9}T00:00:00Z", "downloads": i})
        for i in range(5)
    ] + [json.dumps({"modelId": "org/nodl", "lastModified": "2022-01-01T00:00:00Z"})]
    (d / "model_infos.jsonl").write_text("\n".join(rows) + "\n")
    assert cli("ingest", d / "model_infos.jsonl", "--store", store)[0] == 0
    (notes,) = [s["notes"] for s in json.loads(cli("snapshots", "--store", store, "--json")[1])["snapshots"]]
    code, piped, err = cli("snapshots", "--store", store)
    assert code == 0 and notes in piped and "…" not in piped  # written to a pipe: in full, never cut
    for name, value in (("_force_terminal", True), ("_width", 80), ("_height", 25), ("_color_system", None)):
        monkeypatch.setattr(_apps.out, name, value)
    code, out, err = cli("snapshots", "--store", store)
    out = re.sub(r"\x1b\[[0-9;]*m", "", out)
    assert code == 0, err
    (sid,) = [s["snapshot_id"] for s in json.loads(cli("snapshots", "--store", store, "--json")[1])["snapshots"]]
    assert "registry" in out.splitlines()[1]
    hits = [ln for ln in out.splitlines() if sid in ln]
    assert len(hits) == 1 and " hf " in hits[0]
    assert len(out.splitlines()) == 5  # top rule, header, header rule, the row, bottom rule
    assert all(len(ln) <= 80 for ln in out.splitlines())


def test_a_date_from_the_user_is_recorded_in_the_notes(tmp_path, cli):
    store = tmp_path / "s.duckdb"
    listing = tmp_path / "listing.csv"
    listing.write_text("model,downloads\na/b,5\n")
    code, out, err = cli("ingest", listing, "--date", "2022-07-02", "--store", store, "--json")
    assert code == 0, err
    (res,) = json.loads(out)["results"]
    assert res["taken_at"] == "2022-07-02" and "date 2022-07-02 given with --date" in res["notes"]
    dated = tmp_path / "2.20250101.0_counts.json"
    dated.write_text(json.dumps({"a": 3}))
    (res,) = json.loads(cli("ingest", dated, "--store", store, "--json")[1])["results"]
    assert "--date" not in (res["notes"] or "")
