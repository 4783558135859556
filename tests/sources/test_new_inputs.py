"""The dataset-listing, commit-log and GitHub-dependents importers, and Hub file lists / parameter counts,
on small hand-written files.  Every expected value is read off the input written in the test."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ptmscope.errors import InputError
from ptmscope.schema import DATA_TABLES
from ptmscope.sources import detect_format, plan

UTC = dt.UTC


def _one(path: Path, **kw):
    (p,) = plan(path, **kw)
    for name, t in p.batch.tables.items():
        assert t.schema == DATA_TABLES[name]
        assert set(t.column("snapshot_id").to_pylist()) <= {p.batch.snapshot.snapshot_id}
    return p


def _rows(p, table="packages"):
    return p.batch.table(table).to_pylist()


# -- hf-datasets ----------------------------------------------------------------------------------


def _listing(path: Path, **over) -> Path:
    cols = {
        "dataset_name": ["glue", "org/a", "org/b", "u/c", "u/d"],
        "author": ["huggingface", "org", "org", "u", "u"],
        "dataset_creation_time": [
            "Tue Jan 25 16:34:03 2022 +0100",
            "Wed Sep 8 16:34:02 2021 +0000",
            "2023-03-16T07:26:04Z",
            "Thu Mar 16 01:00:00 2023 -0700",
            "Fri Apr 1 00:04:18 2022 +0000",
        ],
        "downloads": [1140355.0, 0.0, 12.0, 3.0, 0.0],
        "has_card": [True, True, False, True, True],
        "has_nonempty_card": [True, True, False, False, True],
        "task": ["text-classification,question-answering", "None", "None", "summarization", "None"],
        "domain": ["nlp", None, None, None, "audio"],
    }
    cols.update(over)
    pq.write_table(pa.table(cols), path)
    return path


def _cards(path: Path, recs: list[dict]) -> Path:
    data = ("\n".join(json.dumps(r) for r in recs) + "\n").encode()
    path.write_bytes(gzip.compress(data) if path.name.endswith(".gz") else data)
    return path


def test_dataset_listing_with_cards(tmp_path):
    lst = _listing(tmp_path / "dataset_info.parquet")
    cards = _cards(
        tmp_path / "dataset_cards.jsonl.gz",
        [
            {"dataset_name": "glue", "card": "---\nlicense: cc\n---\n# GLUE"},
            {"dataset_name": "org/a", "card": "# A"},
            {"dataset_name": "gone/x", "card": "# not in the listing"},
        ],
    )
    assert detect_format(lst) == "hf-datasets"
    p = _one(lst, cards_path=cards)
    s = p.batch.snapshot
    # latest creation time: 2023-03-16 07:26 UTC and 2023-03-16 01:00 -0700 = 08:00 UTC
    assert (s.registry, s.source_format, s.row_count, s.taken_at) == (
        "hf-datasets",
        "hf-datasets",
        5,
        dt.date(2023, 3, 16),
    )
    assert "a lower bound" in s.notes
    pk = {r["package_id"]: r for r in _rows(p)}
    assert pk["glue"]["created_at"] == dt.datetime(2022, 1, 25, 15, 34, 3, tzinfo=UTC)
    assert pk["u/c"]["created_at"] == dt.datetime(2023, 3, 16, 8, 0, tzinfo=UTC)
    assert pk["glue"]["downloads"] == 1140355 and pk["glue"]["downloads_window"] == "30d"
    assert pk["glue"]["task"] == "text-classification,question-answering"
    assert pk["glue"]["tags"] == [
        "task_categories:text-classification",
        "task_categories:question-answering",
        "domain:nlp",
    ]
    assert pk["org/a"]["task"] is None and pk["org/a"]["tags"] == []
    assert pk["u/d"]["tags"] == ["domain:audio"]
    assert pk["glue"]["author"] == "huggingface"
    c = {r["package_id"]: (r["text"], r["missing"]) for r in _rows(p, "cards")}
    assert c == {
        "glue": ("---\nlicense: cc\n---\n# GLUE", False),
        "org/a": ("# A", False),
        "org/b": (None, True),  # has_card false
        "u/c": (None, False),  # a card the source marks empty
        "u/d": (None, False),  # non-empty per the listing, but no text in the cards file
    }
    assert "1 datasets have a card the source marks empty" in s.notes
    assert "1 datasets with a non-empty card per the listing have no text in the cards file" in s.notes
    assert "1 cards for datasets not in the listing (dropped; e.g. gone/x)" in s.notes
    assert json.loads(s.manifest)["cards_file"] == str(cards)


def test_dataset_folder_pairs_listing_and_cards(tmp_path):
    d = tmp_path / "2023-03_dataset-cards"
    d.mkdir()
    _listing(d / "dataset_info.parquet")
    _cards(d / "dataset_cards.jsonl.gz", [{"dataset_name": "glue", "card": "# GLUE"}])
    (p,) = plan(d)
    assert p.format == "hf-datasets"
    assert {r["package_id"]: r["text"] for r in _rows(p, "cards")}["glue"] == "# GLUE"
    # the listing alone: existence only, and a hint at the file beside it
    alone = _one(d / "dataset_info.parquet")
    assert all(r["text"] is None for r in _rows(alone, "cards"))
    assert "dataset_cards.jsonl.gz lies beside this listing" in alone.batch.snapshot.notes
    assert alone.batch.snapshot.source_sha256 != p.batch.snapshot.source_sha256
    with pytest.raises(InputError, match="dataset-card file; pass it with --cards"):
        plan(d / "dataset_cards.jsonl.gz")


def test_dataset_csv_listing_and_duplicates(tmp_path):
    f = tmp_path / "datasets.csv"
    f.write_text(
        "dataset_id,downloads,created_at,has_card\n"
        "a/x,5,2022-01-01T00:00:00Z,true\n"
        "b,7,2022-02-01T00:00:00Z,false\n"
        "a/x,9,2022-03-01T00:00:00Z,true\n"
    )
    assert detect_format(f) == "hf-datasets"
    p = _one(f)
    assert [(r["package_id"], r["downloads"], r["author"]) for r in _rows(p)] == [("a/x", 5, "a"), ("b", 7, None)]
    assert "1 duplicate dataset ids (kept the first row of each; e.g. a/x)" in p.batch.warnings
    # the dropped repeat (2022-03-01) does not date the snapshot
    assert p.batch.snapshot.taken_at == dt.date(2022, 2, 1)
    assert [(r["package_id"], r["missing"]) for r in _rows(p, "cards")] == [("a/x", False), ("b", True)]


def test_dataset_listing_refused_as_model_listing(tmp_path):
    lst = _listing(tmp_path / "dataset_info.parquet")
    with pytest.raises(InputError, match="looks like format hf-datasets, not hf-listing"):
        plan(lst, format="hf-listing")


# -- commit-log -----------------------------------------------------------------------------------

_HISTORY = (
    "repo_url,commit_hash,model_file_path,serialization_format,message,author,date\n"
    'a/m,f33d44540298e143079f34c35b21eebe4f3dce89,a/m\\model.safetensors,safetensors,"Adding `safetensors` variant\n\n'
    '- converted",bot,2023-08-04 06:46:32\n'
    "a/m,d93a6e4cfd29b7a4cccc068c24f4afab9c218c45,a/m\\pytorch_model.bin,torch.save,update,Ann,2023-03-20 04:00:35\n"
    "a/m,F3CDC9A0868AC3D6DBD8F7431F719DC07C5114E9,pytorch_model.bin,torch.save,init commit,Ann,2022-08-31 02:01:42\n"
    "a/m,F3CDC9A0868AC3D6DBD8F7431F719DC07C5114E9,spiece.model,ONNX,init commit,Ann,2022-08-31 02:01:42\n"
    "a/m,F3CDC9A0868AC3D6DBD8F7431F719DC07C5114E9,pytorch_model.bin,torch.save,init commit,Ann,2022-08-31 02:01:42\n"
    "https://huggingface.co/b/n,77e5078dd80bf50a3d476f70c9c0a1bd9da67c9e,unet\\w.bin,torch.save,up,sys,"
    "2019-11-04 11:00:53\n"
    "c,77e5078dd80bf50a3d476f70c9c0a1bd9da67c9e,spiece.model,ONNX,up,sys,2019-11-04 11:00:53\n"
)


def test_commit_log_safetensors_history_shape(tmp_path):
    f = tmp_path / "fixed3_repository_evolution_commits_0_5014.csv"
    f.write_text(_HISTORY)
    assert detect_format(f) == "commit-log"
    p = _one(f)
    s = p.batch.snapshot
    assert (s.registry, s.taken_at, s.row_count) == ("hf", dt.date(2023, 8, 4), 3)
    assert [(r["package_id"], r["raw_id"], r["author"], r["downloads"]) for r in _rows(p)] == [
        ("a/m", "a/m", "a", None),
        ("b/n", "https://huggingface.co/b/n", "b", None),
        ("c", "c", None, None),
    ]
    commits = _rows(p, "commits")
    assert [(c["package_id"], c["commit_id"][:7], c["files"], c["formats"]) for c in commits] == [
        ("a/m", "f33d445", ["model.safetensors"], ["safetensors"]),
        ("a/m", "d93a6e4", ["pytorch_model.bin"], ["torch.save"]),
        ("a/m", "f3cdc9a", ["pytorch_model.bin", "spiece.model"], ["torch.save", "ONNX"]),
        ("b/n", "77e5078", ["unet/w.bin"], ["torch.save"]),
        ("c", "77e5078", ["spiece.model"], ["ONNX"]),
    ]
    first = commits[0]
    assert first["message"] == "Adding `safetensors` variant\n\n- converted"
    assert first["author"] == "bot"
    assert first["committed_at"] == dt.datetime(2023, 8, 4, 6, 46, 32, tzinfo=UTC)
    assert "7 rows -> 5 commits (4 distinct hashes) of 3 repositories" in s.notes
    assert "covers only commits that touched a model weight file" in s.notes
    assert "1 repeated (commit, file) rows (kept the first of each)" in p.batch.warnings
    assert "1 commit hashes appear in more than one repository" in s.notes
    assert "2 file paths lost the collector's local" in s.notes
    assert "7 commit times without a time zone, read as UTC" in s.notes


def test_commit_log_plain_shape(tmp_path):
    f = tmp_path / "log.csv.gz"
    f.write_bytes(
        gzip.compress(
            b"repo,commit,date,author,message\n"
            b"x/y,abcdef1,2024-01-02T03:04:05+02:00,Eve,fix typo\n"
            b"x/y,abcdef2,Tue Jan 25 16:34:18 2022 +0100,Eve,\n"
            b"x/y,abcdef1,2024-01-02T03:04:05+02:00,Eve,fix typo again\n"
        )
    )
    assert detect_format(f) == "commit-log"
    p = _one(f, taken_at=dt.date(2024, 6, 1))
    commits = _rows(p, "commits")
    assert [(c["commit_id"], c["committed_at"], c["message"], c["files"]) for c in commits] == [
        ("abcdef1", dt.datetime(2024, 1, 2, 1, 4, 5, tzinfo=UTC), "fix typo", None),
        ("abcdef2", dt.datetime(2022, 1, 25, 15, 34, 18, tzinfo=UTC), None, None),
    ]
    notes = p.batch.snapshot.notes
    assert "1 repeated commit rows (kept the first of each)" in notes
    assert "1 rows disagree with the first row of their commit" in notes
    assert "plain commit log: files and formats unknown" in notes
    assert "without a time zone" not in notes
    assert p.batch.snapshot.taken_at == dt.date(2024, 6, 1)


def test_commit_log_of_dataset_repos(tmp_path):
    f = tmp_path / "log.csv"
    f.write_text("repo,commit,date\nhttps://huggingface.co/datasets/o/d.git,abcdef1,2024-01-02\n")
    with pytest.raises(InputError, match="not a hf repository id or URL"):
        plan(f)
    p = _one(f, registry="hf-datasets")
    assert [r["package_id"] for r in _rows(p)] == ["o/d"]
    assert p.batch.snapshot.registry == "hf-datasets"


def test_commit_log_refused_as_listing(tmp_path):
    f = tmp_path / "log.csv"
    f.write_text("repo,commit,date,author,message\nx/y,abcdef1,2024-01-02,a,m\n")
    with pytest.raises(InputError, match="looks like format commit-log, not hf-listing"):
        plan(f, format="hf-listing", taken_at=dt.date(2024, 1, 3))


# -- gh-dependents --------------------------------------------------------------------------------

_MAPPING = (
    "github.com/bigcode-project/commits,bigcode/santacoder,https://huggingface.co/bigcode/santacoder,bigcode-openrail-m\n"
    "github.com/NoviScl/GPT3-Reliability,gpt2,https://huggingface.co/gpt2,mit\n"
    "github.com/ekinakyurek/deprem,gpt2,https://huggingface.co/gpt2,mit\n"
    "github.com/namuan/dr-doc-search,p/long-t5,https://huggingface.co/p/long-t5,bsd-3-clause\n"
    "github.com/namuan/dr-doc-search,p/long-t5,https://huggingface.co/p/long-t5,apache-2.0\n"
)


def test_gh_dependents_headerless(tmp_path):
    f = tmp_path / "gh_repo_to_hf_model_license_mapping.csv"
    f.write_text(_MAPPING)
    assert detect_format(f) == "gh-dependents"
    with pytest.raises(InputError, match="pass --date"):
        plan(f)
    p = _one(f, taken_at=dt.date(2023, 8, 1))
    s = p.batch.snapshot
    assert (s.registry, s.row_count, s.taken_at) == ("hf", 3, dt.date(2023, 8, 1))
    deps = [(r["package_id"], r["dependent"], r["kind"], r["license"]) for r in _rows(p, "dependents")]
    assert deps == [
        ("bigcode/santacoder", "github:bigcode-project/commits", "github", "bigcode-openrail-m"),
        ("gpt2", "github:NoviScl/GPT3-Reliability", "github", "mit"),
        ("gpt2", "github:ekinakyurek/deprem", "github", "mit"),
        ("p/long-t5", "github:namuan/dr-doc-search", "github", "bsd-3-clause"),  # the first of two rows
    ]
    assert [(r["package_id"], r["author"], r["license"], r["downloads"]) for r in _rows(p)] == [
        ("bigcode/santacoder", "bigcode", "bigcode-openrail-m", None),
        ("gpt2", None, "mit", None),
        ("p/long-t5", "p", "bsd-3-clause", None),
    ]
    assert "5 rows -> 4 links from 4 GitHub repositories to 3 models" in s.notes
    assert p.batch.warnings == [
        "1 repeated (model, repository) links (kept the first row of each; "
        "e.g. github:namuan/dr-doc-search -> p/long-t5)"
    ]


def test_gh_dependents_with_header(tmp_path):
    f = tmp_path / "deps_2024-05-01.csv"
    f.write_text("github_repo,model_id,license\nhttps://github.com/o/r.git,a/b,\no2/r2,a/b,mit\n")
    assert detect_format(f) == "gh-dependents"
    p = _one(f)
    assert p.batch.snapshot.taken_at == dt.date(2024, 5, 1)
    assert [(r["dependent"], r["license"]) for r in _rows(p, "dependents")] == [
        ("github:o/r", None),
        ("github:o2/r2", "mit"),
    ]


# -- Hub file lists and parameter counts ------------------------------------------------------------


def test_hf_api_siblings_and_parameters(tmp_path):
    recs = [
        {
            "id": "a/b",
            "lastModified": "2024-01-01T00:00:00Z",
            "createdAt": "2023-05-01T00:00:00Z",
            "siblings": [{"rfilename": "model.safetensors", "size": 1234}, {"rfilename": "README.md"}],
            "safetensors": {"parameters": {"BF16": 7}, "total": 7},
        },
        {"id": "c", "lastModified": "2024-01-01T00:00:00Z", "siblings": [], "gguf": {"total": 42}},
        {"id": "d", "lastModified": "2024-01-01T00:00:00Z"},
    ]
    f = tmp_path / "infos.jsonl"
    f.write_text("\n".join(json.dumps(r) for r in recs) + "\n")
    p = _one(f)
    assert [(r["package_id"], r["parameters"]) for r in _rows(p)] == [("a/b", 7), ("c", 42), ("d", None)]
    assert [(r["package_id"], r["path"], r["size_bytes"]) for r in _rows(p, "package_files")] == [
        ("a/b", "model.safetensors", 1234),
        ("a/b", "README.md", None),
    ]
    assert "files: 2 paths of 2 models with siblings (1 with sizes)" in p.batch.snapshot.notes


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        ({"siblings": "model.bin"}, ":2 (column siblings): siblings must be a list, got str"),
        ({"siblings": [{"size": 3}]}, ":2 (column siblings): sibling without a file name"),
        (
            {"siblings": [{"rfilename": "x", "size": -1}]},
            ":2 (column siblings.size): siblings.size must not be negative",
        ),
        ({"safetensors": {"total": "many"}}, ":2 (column safetensors.total): safetensors.total must be a number"),
        (
            {"safetensors": {"total": 2**63}},
            ":2 (column safetensors.total): safetensors.total 9223372036854775808 out of range (0 … 2^63-1)",
        ),
        (
            {"safetensors": {"total": "7"}},
            ":2 (column safetensors.total): safetensors.total must be a number, got text",
        ),
        (
            {"siblings": [{"rfilename": "x", "size": 1e300}]},
            ":2 (column siblings.size): siblings.size 1e+300 out of range (0 … 2^63-1)",
        ),
    ],
)
def test_hf_api_bad_siblings_and_parameters(tmp_path, extra, needle):
    ok = {"id": "a/b", "lastModified": "2024-01-01T00:00:00Z"}
    f = tmp_path / "infos.jsonl"
    f.write_text(json.dumps(ok) + "\n" + json.dumps({**ok, "id": "c/d", **extra}) + "\n")
    with pytest.raises(InputError) as exc:
        plan(f)
    assert needle in str(exc.value)


def _raw_family(path: Path, rows: list[dict]) -> None:
    import csv

    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["", "model_id", "metadata", "depth", "children", "children_count"])
        w.writeheader()
        for i, r in enumerate(rows):
            w.writerow({"": i, "depth": 0, "children": "", "children_count": 0, **r})


def test_model_trees_raw_metadata_gives_files_parameters_and_created(tmp_path):
    d = tmp_path / "trees"
    (d / "raw").mkdir(parents=True)
    (d / "edges.csv").write_text(
        "parent,child,relation,source_file\nT/base,u/ft,finetune,F_finetunes_20250407_211759.csv\n"
    )
    (d / "nodes.csv").write_text(
        "model_id,downloads,likes,created_at,base_model_tags,tags\n"
        "T/base,10,1,,[],[]\n"
        "u/ft,2,0,2024-10-01 00:00:00+00:00,[],[]\n"
    )
    meta = {
        "id": "T/base",
        "created_at": "2024-08-17 11:42:28+00:00",
        "safetensors": {"parameters": {"BF16": 5}, "total": 5},
        "siblings": [
            "RepoSibling(rfilename='.gitattributes', size=None, blob_id=None, lfs=None)",
            'RepoSibling(rfilename="it\'s.bin", size=99, blob_id=None, lfs=None)',
        ],
    }
    _raw_family(
        d / "raw" / "F_finetunes_20250407_211759.csv",
        [{"model_id": "T/base", "metadata": json.dumps(meta)}, {"model_id": "u/ft", "metadata": "N/A"}],
    )
    p = _one(d)
    pk = {r["package_id"]: r for r in _rows(p)}
    assert pk["T/base"]["parameters"] == 5 and pk["u/ft"]["parameters"] is None
    assert pk["T/base"]["created_at"] == dt.datetime(2024, 8, 17, 11, 42, 28, tzinfo=UTC)  # null in nodes.csv
    assert pk["u/ft"]["created_at"] == dt.datetime(2024, 10, 1, tzinfo=UTC)
    assert [(r["package_id"], r["path"], r["size_bytes"]) for r in _rows(p, "package_files")] == [
        ("T/base", ".gitattributes", None),
        ("T/base", "it's.bin", 99),
    ]
    assert "1 creation times added; 1 models without metadata (N/A)" in p.batch.snapshot.notes

    _raw_family(d / "raw" / "F_finetunes_20250407_211759.csv", [{"model_id": "T/base", "metadata": "{oops"}])
    with pytest.raises(
        InputError, match=r"F_finetunes_20250407_211759.csv:2 \(column metadata\): metadata is not JSON \(Expecting"
    ):
        plan(d)
    # a repeated key: the first value wins (as in every JSON importer), counted in the notes
    _raw_family(
        d / "raw" / "F_finetunes_20250407_211759.csv",
        [{"model_id": "T/base", "metadata": '{"id": "T/base", "safetensors": {"total": 1}, "safetensors": null}'}],
    )
    p = _one(d)
    assert {r["package_id"]: r["parameters"] for r in _rows(p)} == {"T/base": 1, "u/ft": None}
    assert (
        "1 repeated keys in the metadata JSON of raw/ (kept the first value of each; e.g. safetensors)"
        in p.batch.snapshot.notes
    )
    meta["siblings"] = ["import os"]
    # the second record sits on line 3 (the header is line 1)
    _raw_family(
        d / "raw" / "F_finetunes_20250407_211759.csv",
        [{"model_id": "u/ft", "metadata": "N/A"}, {"model_id": "T/base", "metadata": json.dumps(meta)}],
    )
    with pytest.raises(
        InputError, match=r"F_finetunes_20250407_211759.csv:3 \(column siblings\): unreadable sibling 'import os'$"
    ):
        plan(d)
