"""Bad input to the dataset, commit-log and dependents importers: one line naming file (and line or row,
and column), exit 1, the store byte-for-byte unchanged; and re-ingesting the same files writes nothing."""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


@pytest.fixture
def seeded(tmp_path, cli):
    good = tmp_path / "good" / "2.20250101.0_counts.json"
    good.parent.mkdir()
    good.write_text(json.dumps({"a": 3, "b": 1}))
    store = tmp_path / "s.duckdb"
    code, _, err = cli("ingest", good, "--store", store)
    assert code == 0, err
    return store


def _parquet(path: Path, **cols) -> Path:
    pq.write_table(pa.table(cols), path)
    return path


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def _gz(path: Path, data: bytes, *, cut: bool = False) -> Path:
    z = gzip.compress(data)
    path.write_bytes(z[: len(z) // 2] if cut else z)
    return path


HISTORY_HEAD = "repo_url,commit_hash,model_file_path,serialization_format,message,author,date\n"
GOOD_COMMIT = "a/m,f33d44540298e143079f34c35b21eebe4f3dce89,model.bin,torch.save,m,x,2023-08-04 06:46:32\n"
MAP_ROW = "github.com/o/r,gpt2,https://huggingface.co/gpt2,mit\n"


def _cases(t: Path) -> dict[str, tuple[list[str], str]]:
    """name -> (ingest arguments, text the one error line must contain)."""
    lst = _parquet(t / "dataset_info.parquet", dataset_name=["a/x", "b"], downloads=[1.0, 2.0])
    big = "x" * 2000
    many_cards = "".join(json.dumps({"dataset_name": f"d{i}", "card": big}) + "\n" for i in range(200))
    c = {
        # -- hf-datasets
        "listing without an id column": (
            [str(_parquet(t / "listing.parquet", name2=["a"], downloads=[1])), "--format", "hf-datasets"],
            "listing.parquet: missing required column(s): id (dataset_name / dataset_id / datasetId); found: name2",
        ),
        "truncated Parquet": (
            [str(t / "cut.parquet"), "--format", "hf-datasets"],
            "cut.parquet: unreadable Parquet",
        ),
        "truncated gzip cards": (
            [str(lst), "--cards", str(_gz(t / "dataset_cards.jsonl.gz", many_cards.encode(), cut=True))],
            "dataset_cards.jsonl.gz: corrupt or truncated gzip",
        ),
        "non-numeric downloads (CSV)": (
            [str(_write(t / "ds.csv", "dataset_name,downloads\na,5\nb,lots\n"))],
            "ds.csv:3 (column downloads): downloads must be a number, got 'lots'",
        ),
        "downloads out of range": (
            [str(_parquet(t / "big.parquet", dataset_name=["a", "b"], downloads=[1.0, 1e20]))],
            "big.parquet (column downloads): downloads 1e+20 out of range (0 … 2^63-1) (row 2)",
        ),
        "negative downloads": (
            [str(_parquet(t / "neg.parquet", dataset_name=["a", "b"], downloads=[1, -4]))],
            "neg.parquet (column downloads): downloads must not be negative, got -4 (row 2)",
        ),
        "fractional downloads": (
            [str(_parquet(t / "frac.parquet", dataset_name=["a"], downloads=[1.5]))],
            "frac.parquet (column downloads): downloads must be a whole number, got 1.5 (row 1)",
        ),
        "dataset id of the wrong type": (
            [str(_parquet(t / "ids.parquet", dataset_name=[1, 2], downloads=[1, 2]))],
            "ids.parquet (column dataset_name): dataset id must be text, got int (row 1)",
        ),
        "empty dataset id": (
            [str(_write(t / "eid.csv", "dataset_name,downloads\na,1\n ,2\n"))],
            "eid.csv:3 (column dataset_name): empty or missing dataset id (' ')",
        ),
        "author of the wrong type": (
            [str(_parquet(t / "auth.parquet", dataset_name=["a"], author=[7], downloads=[1]))],
            "auth.parquet (column author): author must be text, got int (row 1)",
        ),
        "creation time not a time": (
            [str(_write(t / "time.csv", "dataset_name,dataset_creation_time\na,yesterday\n"))],
            "time.csv:2 (column dataset_creation_time): dataset_creation_time is not a time",
        ),
        "creation time out of range": (
            [str(_write(t / "old.csv", "dataset_name,created_at\na,1900-01-01T00:00:00Z\n"))],
            "old.csv:2 (column created_at): created_at 1900-01-01T00:00:00Z out of range (years 1970 … 2100 in UTC)",
        ),
        "has_card not a boolean": (
            [str(_write(t / "hc.csv", "dataset_name,has_card\na,true\nb,maybe\n"))],
            "hc.csv:3 (column has_card): has_card must be true or false, got 'maybe'",
        ),
        "listing row with too many fields": (
            [str(_write(t / "wide.csv", "dataset_name,downloads\na,1\nb,2,3\n"))],
            "wide.csv:3: row has 3 fields, the header has 2 (malformed CSV)",
        ),
        "cards line not JSON": (
            [str(lst), "--cards", str(_write(t / "c1.jsonl", '{"dataset_name": "a/x", "card": "x"}\n{oops\n'))],
            "c1.jsonl:2 (column 2): invalid JSON",
        ),
        "cards record with a lone surrogate": (
            [str(lst), "--cards", str(_write(t / "c2.jsonl", '{"dataset_name": "a/x", "card": "x\\ud800"}\n'))],
            "c2.jsonl:1: invalid JSON (a lone surrogate escape in 'x\\ud800' is not Unicode text)",
        ),
        "card text not a string": (
            [str(lst), "--cards", str(_write(t / "c3.jsonl", '{"dataset_name": "a/x", "card": 5}\n'))],
            "c3.jsonl:1 (column card): card text must be a string, got int",
        ),
        "model cards given for datasets": (
            [
                str(lst),
                "--cards",
                str(_write(t / "mc.jsonl", '{"modelId": "a", "readme": "x", "readme_missing": false}\n')),
            ],
            "mc.jsonl: this is a model-card file, not dataset cards",
        ),
        "dataset cards given alone": (
            [str(_write(t / "dataset_cards.jsonl", '{"dataset_name": "a/x", "card": "x"}\n'))],
            "dataset-card file; pass it with --cards beside its dataset listing (hf-datasets)",
        ),
        # -- commit-log
        "commit log without a commit column": (
            [str(_write(t / "nocommit.csv", "repo_url,date\na/m,2023-01-01\n")), "--format", "commit-log"],
            "nocommit.csv:1: missing required column(s): commit (commit_hash / commit / commit_id)",
        ),
        "commit hash not hex": (
            [str(_write(t / "h.csv", HISTORY_HEAD + GOOD_COMMIT + "a/m,xyz,m.bin,torch.save,m,x,2023-01-01\n"))],
            "h.csv:3 (column commit_hash): commit hash must be 7..64 hex digits, got 'xyz'",
        ),
        "commit date not a time": (
            [str(_write(t / "d.csv", HISTORY_HEAD + GOOD_COMMIT.replace("2023-08-04 06:46:32", "soon")))],
            "d.csv:2 (column date): date is not a time",
        ),
        "commit date out of range": (
            [str(_write(t / "d2.csv", HISTORY_HEAD + GOOD_COMMIT.replace("2023-08-04", "2999-08-04")))],
            "d2.csv:2 (column date): date 2999-08-04 06:46:32 out of range (years 1970 … 2100 in UTC)",
        ),
        "empty commit date": (
            [str(_write(t / "d3.csv", HISTORY_HEAD + GOOD_COMMIT.replace("2023-08-04 06:46:32", "")))],
            "d3.csv:2 (column date): empty commit date",
        ),
        "a Space, not a model": (
            [str(_write(t / "s.csv", HISTORY_HEAD + GOOD_COMMIT.replace("a/m,", "spaces/a/m,", 1)))],
            "s.csv:2 (column repo_url): not a hf repository id or URL: 'spaces/a/m'",
        ),
        "unclosed quote": (
            [
                str(
                    _write(
                        t / "q.csv", HISTORY_HEAD + GOOD_COMMIT + 'a/m,abcdef1,x.bin,torch.save,"open,x,2023-01-01\n'
                    )
                )
            ],
            "q.csv:3: malformed CSV: unexpected end of data",
        ),
        "truncated gzip commit log": (
            [
                str(_gz(t / "log.csv.gz", (HISTORY_HEAD + GOOD_COMMIT * 400).encode(), cut=True)),
                "--format",
                "commit-log",
            ],
            "log.csv.gz: corrupt or truncated gzip",
        ),
        "cards with a commit log": (
            [str(_write(t / "h2.csv", HISTORY_HEAD + GOOD_COMMIT)), "--cards", str(t / "c3.jsonl")],
            "c3.jsonl: a cards file goes with formats hf-api or hf-datasets, not commit-log",
        ),
        # -- gh-dependents
        "dependent not on GitHub": (
            [
                str(_write(t / "m1.csv", MAP_ROW + "gitlab.com/o/r,gpt2,https://huggingface.co/gpt2,mit\n")),
                "--date",
                "2023-08-01",
            ],
            "m1.csv:2 (column 1 (GitHub repo)): not a GitHub repository: 'gitlab.com/o/r'",
        ),
        "model URL for another model": (
            [
                str(_write(t / "m2.csv", MAP_ROW.replace("huggingface.co/gpt2", "huggingface.co/gpt3"))),
                "--date",
                "2023-08-01",
            ],
            "m2.csv:1 (column 3 (model URL)): model URL 'https://huggingface.co/gpt3' does not match model id 'gpt2'",
        ),
        "model id with a space": (
            [str(_write(t / "m3.csv", "github_repo,model_id\no/r,a b\n")), "--date", "2023-08-01"],
            "m3.csv:2 (column model_id): not a Hub model id: 'a b'",
        ),
        "mapping row with a missing field": (
            [
                str(_write(t / "m4.csv", MAP_ROW + "github.com/o/r2,gpt2,https://huggingface.co/gpt2\n")),
                "--date",
                "2023-08-01",
            ],
            "m4.csv:2: row has 3 fields, the first row has 4 (malformed CSV)",
        ),
        "mapping without a date": (
            [str(_write(t / "m5.csv", MAP_ROW))],
            "m5.csv: the data carries no collection date; pass --date YYYY-MM-DD",
        ),
    }
    full = _parquet(t / "full.parquet", dataset_name=[f"d{i}" for i in range(500)], downloads=list(range(500)))
    (t / "cut.parquet").write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    return c


CASES = [
    "listing without an id column",
    "truncated Parquet",
    "truncated gzip cards",
    "non-numeric downloads (CSV)",
    "downloads out of range",
    "negative downloads",
    "fractional downloads",
    "dataset id of the wrong type",
    "empty dataset id",
    "author of the wrong type",
    "creation time not a time",
    "creation time out of range",
    "has_card not a boolean",
    "listing row with too many fields",
    "cards line not JSON",
    "cards record with a lone surrogate",
    "card text not a string",
    "model cards given for datasets",
    "dataset cards given alone",
    "commit log without a commit column",
    "commit hash not hex",
    "commit date not a time",
    "commit date out of range",
    "empty commit date",
    "a Space, not a model",
    "unclosed quote",
    "truncated gzip commit log",
    "cards with a commit log",
    "dependent not on GitHub",
    "model URL for another model",
    "model id with a space",
    "mapping row with a missing field",
    "mapping without a date",
]


def test_case_list_is_complete(tmp_path):
    assert sorted(CASES) == sorted(_cases(tmp_path))


@pytest.mark.parametrize("case", CASES)
def test_bad_input_one_line_store_unchanged(case, tmp_path, cli, seeded):
    bad = tmp_path / "bad"
    bad.mkdir()
    args, needle = _cases(bad)[case]
    before = _sha(seeded)
    code, out, err = cli("ingest", *args, "--store", seeded)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 1, err
    assert out == ""
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    assert needle in lines[0], lines[0]
    assert _sha(seeded) == before


def test_reingest_writes_nothing(tmp_path, cli):
    store = tmp_path / "s.duckdb"
    d = tmp_path / "datasets"
    d.mkdir()
    _parquet(d / "dataset_info.parquet", dataset_name=["a/x", "b"], downloads=[1.0, 2.0], has_card=[True, False])
    (d / "dataset_cards.jsonl").write_text(json.dumps({"dataset_name": "a/x", "card": "# x"}) + "\n")
    log = _write(tmp_path / "log.csv", HISTORY_HEAD + GOOD_COMMIT)
    mapping = _write(tmp_path / "map.csv", MAP_ROW)
    runs = [[str(d), "--date", "2023-03-16"], [str(log)], [str(mapping), "--date", "2023-08-01"]]
    first = []
    for args in runs:
        code, out, err = cli("ingest", *args, "--store", store, "--json")
        assert code == 0, err
        first.append(json.loads(out)["results"])
    assert [r[0]["created"] for r in first] == [True, True, True]
    assert [r[0]["format"] for r in first] == ["hf-datasets", "commit-log", "gh-dependents"]
    before = _sha(store)
    for args, old in zip(runs, first, strict=True):
        code, out, err = cli("ingest", *args, "--store", store, "--json")
        assert code == 0, err
        (res,) = json.loads(out)["results"]
        assert (res["created"], res["snapshot_id"]) == (False, old[0]["snapshot_id"])
    assert _sha(store) == before
    code, out, _ = cli("info", first[0][0]["snapshot_id"], "--store", store, "--json")
    info = json.loads(out)
    assert info["counts"]["packages"] == 2
    assert info["cards"] == {"rows": 2, "with_text": 1, "missing": 1}
    code, out, _ = cli("info", first[1][0]["snapshot_id"], "--store", store, "--json")
    info = json.loads(out)
    assert info["commits"] == {
        "rows": 1,
        "packages": 1,
        "with_files": 1,
        "first": "2023-08-04T06:46:32+00:00",
        "last": "2023-08-04T06:46:32+00:00",
    }
    code, out, _ = cli("info", first[2][0]["snapshot_id"], "--store", store)
    assert "dependents: 1 links from 1 dependents to 1 packages (github 1)" in out
