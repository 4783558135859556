"""Bad input: one-line error naming the file (and line/column), exit 1, store byte-for-byte unchanged."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from pathlib import Path

import pytest


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


@pytest.fixture
def seeded(tmp_path, cli):
    """A store holding one good snapshot; returns its path."""
    good = tmp_path / "good" / "2.20250101.0_counts.json"
    good.parent.mkdir()
    good.write_text(json.dumps({"a": 3, "b": 1}))
    store = tmp_path / "s.duckdb"
    code, _, err = cli("ingest", good, "--store", store)
    assert code == 0, err
    return store


def _jsonl_gz(path: Path, lines: list[str]) -> Path:
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    return path


def _cases(tmp: Path) -> dict[str, tuple[list[str], str]]:
    """name -> (ingest args, text the error must contain)."""
    good = [
        json.dumps({"modelId": f"m/{i}", "lastModified": "2022-01-01T00:00:00Z", "downloads": i}) for i in range(400)
    ]
    full = gzip.compress(("\n".join(good) + "\n").encode())
    trunc = tmp / "model_infos.jsonl.gz"
    trunc.write_bytes(full[: len(full) // 2])
    badline = _jsonl_gz(tmp / "bad_line.jsonl.gz", [*good[:3], '{"modelId": "x", "downloads": 1', *good[3:5]])
    pypi = tmp / "2020-01-01_top-pypi-packages.json"
    pypi.write_text(json.dumps({"last_update": "2020-01-01 00:00:00", "rows": [{"download_count": 1, "project": "a"}]}))
    nocol = tmp / "listing.csv"
    nocol.write_text("downloads,task\n5,fill-mask\n")
    nonnum = tmp / "nonnum.csv"
    nonnum.write_text("model,downloads\na/b,5\nc/d,lots\n")
    neg = tmp / "neg.csv"
    neg.write_text("model,downloads\na/b,5\nc/d,7\ne/f,-3\n")
    negjson = _jsonl_gz(
        tmp / "neg.jsonl.gz",
        [*good[:2], json.dumps({"modelId": "z", "downloads": -1, "lastModified": "2022-01-01T00:00:00Z"})],
    )
    empty = tmp / "empty.jsonl"
    empty.write_bytes(b"")
    emptygz = tmp / "empty.jsonl.gz"
    emptygz.write_bytes(gzip.compress(b""))
    edges = tmp / "edges" / "edges.csv"
    edges.parent.mkdir()
    edges.write_text("parent,child\na,b\n")
    nodata = tmp / "nodata"
    nodata.mkdir()
    (nodata / "README.md").write_text("nothing here\n")
    nested = tmp / "nested"
    (nested / "pypi").mkdir(parents=True)
    (nested / "pypi" / "2020-01-01_top-pypi-packages.json").write_text(pypi.read_text())
    cards = tmp / "model_cards.jsonl"
    cards.write_text(json.dumps({"modelId": "a/b", "readme": "# hi", "readme_missing": False}) + "\n")
    return {
        "truncated gzip": ([str(trunc)], "truncated gzip"),
        "invalid JSON line": ([str(badline)], f"{badline}:4 (column 32): invalid JSON"),
        "wrong --format": ([str(pypi), "--format", "npm-high-impact"], "looks like format top-pypi"),
        "missing required column": (
            [str(nocol), "--format", "hf-listing", "--date", "2022-01-01"],
            "missing required column",
        ),
        "missing edge column": ([str(edges.parent)], "relation"),
        "non-numeric downloads": ([str(nonnum), "--date", "2022-01-01"], f"{nonnum}:3 (column downloads)"),
        "negative downloads": (
            [str(neg), "--date", "2022-01-01"],
            f"{neg}:4 (column downloads): downloads must not be negative",
        ),
        "negative downloads json": ([str(negjson)], f"{negjson}:3 (column downloads)"),
        "empty file": ([str(empty)], "empty file"),
        "empty gzip": ([str(emptygz), "--format", "hf-api"], "empty file"),
        "missing path": ([str(tmp / "nope.json")], "no such file"),
        "bad date": ([str(pypi), "--date", "2020-13-45"], "not a date"),
        "no date": ([str(nonnum.with_name("ok.csv"))], "--date"),
        "directory without data": ([str(nodata)], f"{nodata}: empty directory: no data files"),
        "data only in sub-directories": (
            [str(nested)],
            f"sub-directories are not searched; ingest them one by one, e.g. {nested / 'pypi'}",
        ),
        "cards file given as data": ([str(cards)], "model-card file; pass it with --cards"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "truncated gzip",
        "invalid JSON line",
        "wrong --format",
        "missing required column",
        "missing edge column",
        "non-numeric downloads",
        "negative downloads",
        "negative downloads json",
        "empty file",
        "empty gzip",
        "missing path",
        "bad date",
        "no date",
        "directory without data",
        "data only in sub-directories",
        "cards file given as data",
    ],
)
def test_bad_input_leaves_store_unchanged(case, tmp_path, cli, seeded):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "ok.csv").write_text("model,downloads\na/b,1\n")
    args, needle = _cases(bad)[case]
    before = _sha(seeded)
    code, out, err = cli("ingest", *args, "--store", seeded)
    assert code == 1
    assert out == ""
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert needle in lines[0], lines[0]
    assert lines[0].startswith("error: ")
    assert _sha(seeded) == before


@pytest.mark.parametrize(
    "args, needle",
    [
        (["info", "nope"], "no snapshot 'nope'"),
        (["metric", "turnover", "--registry", "npm", "--snapshots", "nope"], "no snapshot 'nope'"),
        (["metric", "turnover", "--registry", "pypi"], "no complete snapshots of registry 'pypi'"),
        (["metric", "preservation", "--plot", "fig.gif"], "unsupported figure format .gif"),
    ],
)
def test_unknown_snapshot_and_bad_plot_suffix(args, needle, tmp_path, cli, seeded):
    before = _sha(seeded)
    code, out, err = cli(*args, "--store", seeded)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 1 and out == ""
    assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0], err
    assert _sha(seeded) == before
    assert not (tmp_path / "fig.gif").exists()


def test_bad_input_never_creates_a_store(tmp_path, cli):
    p = tmp_path / "empty.json"
    p.write_text("")
    store = tmp_path / "new.duckdb"
    code, _, _ = cli("ingest", p, "--store", store)
    assert code == 1
    assert not store.exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read files without read permission")
def test_unreadable_file(tmp_path, cli, seeded):
    p = tmp_path / "2.20250101.0_counts.json"
    p.write_text("{}")
    p.chmod(0)
    before = _sha(seeded)
    code, _, err = cli("ingest", p, "--store", seeded)
    assert code == 1 and str(p) in err and "cannot read" in err
    assert _sha(seeded) == before


def test_directory_with_one_bad_file_writes_nothing(tmp_path, cli, seeded):
    d = tmp_path / "pypi"
    d.mkdir()
    (d / "2020-01-01_top-pypi-packages.json").write_text(
        json.dumps({"last_update": "2020-01-01", "rows": [{"download_count": 1, "project": "a"}]})
    )
    (d / "2020-02-01_top-pypi-packages.json").write_text('{"last_update": "2020-02-01", "rows": [')
    before = _sha(seeded)
    code, _, err = cli("ingest", d, "--store", seeded)
    assert code == 1 and "2020-02-01_top-pypi-packages.json" in err
    assert _sha(seeded) == before


def test_duplicate_ids_are_kept_once_and_reported(tmp_path, cli, seeded):
    p = tmp_path / "dups.csv"
    p.write_text("model,downloads\na/b,5\nc/d,1\na/b,9\n")
    code, out, err = cli("ingest", p, "--store", seeded, "--date", "2022-01-01", "--json")
    assert code == 0, err
    (res,) = json.loads(out)["results"]
    assert res["rows"] == 2
    assert "1 duplicate ids (kept the first row of each; e.g. a/b)" in res["notes"]
    assert res["warnings"] == ["1 duplicate ids (kept the first row of each; e.g. a/b)"]
    code, out, _ = cli("info", res["snapshot_id"], "--store", seeded, "--json")
    assert json.loads(out)["downloads"]["sum"] == 6  # the first a/b (5) + c/d (1)


def test_top_pypi_bad_count_names_the_row(tmp_path, cli):
    p = tmp_path / "2020-01-01_top-pypi-packages.json"
    p.write_text(
        json.dumps(
            {
                "last_update": "2020-01-01",
                "rows": [{"download_count": 5, "project": "a"}, {"download_count": -2, "project": "b"}],
            }
        )
    )
    code, _, err = cli("ingest", p, "--store", tmp_path / "s.duckdb")
    assert code == 1
    assert f"{p} (column download_count): download_count must not be negative, got -2 (row 2)" in err
    assert not (tmp_path / "s.duckdb").exists()


def test_bad_cards_file_names_its_line(tmp_path, cli, seeded):
    dump = tmp_path / "infos.jsonl"
    dump.write_text(json.dumps({"modelId": "a/b", "sha": "x", "lastModified": "2022-01-01T00:00:00Z"}) + "\n")
    cards = tmp_path / "cards.jsonl"
    cards.write_text(
        json.dumps({"modelId": "a/b", "readme": "x"}) + "\n" + json.dumps({"modelId": "c", "readme": 5}) + "\n"
    )
    before = _sha(seeded)
    code, _, err = cli("ingest", dump, "--cards", cards, "--store", seeded)
    assert code == 1 and f"{cards}:2 (column readme): card text must be a string" in err
    cards.write_text(json.dumps({"modelId": "a/b", "readme": "x"}) + "\n{oops\n")
    code, _, err = cli("ingest", dump, "--cards", cards, "--store", seeded)
    assert code == 1 and f"{cards}:2 (column 2): invalid JSON" in err
    assert _sha(seeded) == before
