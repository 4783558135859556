"""Every importer on small hand-written files; detection; directories with snapshots.csv."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import sqlite3
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ptmscope.errors import InputError
from ptmscope.schema import DATA_TABLES
from ptmscope.sources import FORMATS, detect_format, plan
from ptmscope.sources.npm_high_impact import parse_string_array


def _one(path: Path, **kw):
    (p,) = plan(path, **kw)
    for name, t in p.batch.tables.items():
        assert t.schema == DATA_TABLES[name]
        assert set(t.column("snapshot_id").to_pylist()) <= {p.batch.snapshot.snapshot_id}
    return p


def _rows(p, table="packages"):
    return p.batch.table(table).to_pylist()


def test_format_names_are_the_issue_list():
    assert set(FORMATS) == {
        "hf-api",
        "hf-listing",
        "peatmoss",
        "lineage-edges",
        "top-pypi",
        "npm-high-impact",
        "npm-download-counts",
        "hf-datasets",
        "commit-log",
        "gh-dependents",
    }


def test_hf_api_jsonl_gz_with_cards(tmp_path):
    recs = [
        {
            "modelId": "bert-base-uncased",
            "lastModified": "2022-02-01T00:00:00.000Z",
            "downloads": 100,
            "likes": 2,
            "tags": ["pytorch"],
            "library_name": "transformers",
        },
        {"modelId": "u/ft", "lastModified": "2022-02-03T10:00:00.000Z", "downloads": 1, "tags": []},
    ]
    f = tmp_path / "model_infos.jsonl.gz"
    f.write_bytes(gzip.compress("\n".join(json.dumps(r) for r in recs).encode()))
    c = tmp_path / "cards.jsonl"
    c.write_text(
        json.dumps(
            {
                "modelId": "u/ft",
                "readme_missing": False,
                "readme": "fine-tuned version of [b](https://huggingface.co/google-bert/bert-base-uncased)",
            }
        )
        + "\n"
        + json.dumps({"modelId": "bert-base-uncased", "readme_missing": True, "readme": None})
        + "\n"
    )
    assert detect_format(f) == "hf-api"
    p = _one(f, cards_path=c, aliases={"bert-base-uncased": "google-bert/bert-base-uncased"})
    s = p.batch.snapshot
    assert (s.registry, s.taken_at, s.row_count, s.source_format) == ("hf", dt.date(2022, 2, 3), 2, "hf-api")
    lin = _rows(p, "lineage")
    assert [(r["child"], r["parent_id"], r["origin"]) for r in lin] == [("u/ft", "bert-base-uncased", "card_text")]
    assert {r["package_id"]: r["missing"] for r in _rows(p, "cards")} == {"u/ft": False, "bert-base-uncased": True}
    assert json.loads(s.manifest)["cards_file"] == str(c)


def test_hf_api_json_array_and_date_override(tmp_path):
    f = tmp_path / "dump.json"
    f.write_text(json.dumps([{"id": "a/b", "downloads": 3, "createdAt": "2024-01-01T00:00:00Z"}]))
    p = _one(f, taken_at=dt.date(2024, 5, 1))
    assert p.batch.snapshot.taken_at == dt.date(2024, 5, 1)
    assert _rows(p)[0]["created_at"] == dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def test_hf_listing_sqlite_keeps_null_downloads(tmp_path):
    db = tmp_path / "listing.db"
    con = sqlite3.connect(db)
    con.execute('CREATE TABLE "PeaTMOSS_ANCIENT" ("modelId" TEXT, downloads_last_month FLOAT)')
    con.executemany("INSERT INTO PeaTMOSS_ANCIENT VALUES (?, ?)", [("gpt2", 10.0), ("a/b", None), ("c/d", 0.0)])
    con.commit()
    con.close()
    before = db.read_bytes()
    assert detect_format(db) == "hf-listing"
    with pytest.raises(InputError, match="--date"):
        plan(db)
    p = _one(db, taken_at=dt.date(2022, 6, 1))
    assert [(r["package_id"], r["downloads"], r["downloads_window"]) for r in _rows(p)] == [
        ("gpt2", 10, "30d"),
        ("a/b", None, None),
        ("c/d", 0, "30d"),
    ]
    assert "1 of 3 rows without downloads" in p.batch.snapshot.notes
    assert db.read_bytes() == before  # opened read-only


def test_hf_listing_csv_gz_and_parquet_and_txt_and_json(tmp_path):
    csvf = tmp_path / "models_with_downloads.csv.gz"
    csvf.write_bytes(
        gzip.compress(b"model,downloads,task,sha,private\ngpt2,5,text-generation,abc,False\n007,,fill-mask,def,True\n")
    )
    assert detect_format(csvf) == "hf-listing"
    p = _one(csvf, taken_at=dt.date(2022, 7, 2))
    rows = _rows(p)
    assert [(r["package_id"], r["downloads"], r["task"], r["sha"]) for r in rows] == [
        ("gpt2", 5, "text-generation", "abc"),
        ("007", None, "fill-mask", "def"),  # "007" stays text
    ]
    assert "1 rows marked private" in p.batch.snapshot.notes

    pq_path = tmp_path / "model_info.parquet"
    pq.write_table(
        pa.table(
            {
                "modelId": ["x/a", "y"],
                "author": ["x", None],
                "creation_time": pa.array(
                    [
                        dt.datetime(2022, 9, 1, tzinfo=dt.UTC),
                        dt.datetime(2022, 9, 30, 5, tzinfo=dt.UTC),
                    ],
                    pa.timestamp("us", tz="UTC"),
                ),
                "downloads": [3.0, 0.0],
                "has_modelcard": [True, False],
                "task_category": ["fill-mask", None],
            }
        ),
        pq_path,
    )
    p = _one(pq_path)
    assert p.batch.snapshot.taken_at == dt.date(2022, 9, 30)  # latest creation time: a lower bound
    assert "lower bound" in p.batch.snapshot.notes
    assert [r["missing"] for r in _rows(p, "cards")] == [False, True]
    assert [r["downloads"] for r in _rows(p)] == [3, 0]

    txt = tmp_path / "repo_names_2022-08-15.txt.gz"
    txt.write_bytes(gzip.compress(b"a/b\n\nc\n"))
    p = _one(txt)
    assert p.batch.snapshot.taken_at == dt.date(2022, 8, 15)
    assert [r["package_id"] for r in _rows(p)] == ["a/b", "c"]
    assert "no download counts" in p.batch.snapshot.notes

    js = tmp_path / "2k_filtered_models.json"
    js.write_text(json.dumps({"a/b": 5, "c": 7}))
    with pytest.raises(InputError, match="--format"):
        detect_format(js)  # same shape as npm counts.json: ambiguous
    p = _one(js, format="hf-listing", taken_at=dt.date(2023, 8, 1))
    assert [(r["package_id"], r["downloads"]) for r in _rows(p)] == [("a/b", 5), ("c", 7)]


def test_top_pypi_both_shapes_pep503_and_rank(tmp_path):
    old = tmp_path / "2018-01-24_top-pypi-packages.json.gz"
    old.write_bytes(
        gzip.compress(
            json.dumps(
                [{"download_count": 9, "project": "Six"}, {"download_count": 5, "project": "zope.interface"}]
            ).encode()
        )
    )
    new = tmp_path / "2026-02-01_top-pypi-packages-30-days.json.gz"
    new.write_bytes(
        gzip.compress(
            json.dumps(
                {
                    "last_update": "2026-02-01 07:34:08",
                    "source": "ClickHouse",
                    "rows": [
                        {"download_count": 30, "project": "boto3"},
                        {"download_count": 20, "project": "Zope_Interface"},
                    ],
                }
            ).encode()
        )
    )
    (tmp_path / "snapshots.csv").write_text(
        "snapshot_date,file,commit,source_path,last_update,backend,window,n_rows\n"
        "2018-01-24,2018-01-24_top-pypi-packages.json.gz,abc,x,,BigQuery/pypinfo,30d,2\n"
    )
    assert detect_format(old) == detect_format(new) == "top-pypi"
    batches = {p.path.name: p.batch for p in plan(tmp_path)}
    a = batches[old.name]
    assert a.snapshot.taken_at == dt.date(2018, 1, 24)
    assert [
        (r["package_id"], r["raw_id"], r["rank"], r["downloads_window"]) for r in a.table("packages").to_pylist()
    ] == [
        ("six", "Six", 1, "30d"),
        ("zope-interface", "zope.interface", 2, "30d"),
    ]
    b = batches[new.name]
    assert b.snapshot.taken_at == dt.date(2026, 2, 1)
    assert b.table("packages").column("package_id").to_pylist() == ["boto3", "zope-interface"]
    assert b.table("packages").column("downloads_window").to_pylist() == ["previous-month"] * 2
    assert b.snapshot.registry == "pypi"


def test_npm_high_impact_parsed_as_data(tmp_path):
    js = tmp_path / "1.0.0_top-download.js.gz"
    js.write_bytes(
        gzip.compress(b"export const topDownload = [\n  'semver',\n  \"@types/node\", // comment\n  'a\\'b',\n]\n")
    )
    (tmp_path / "snapshots.csv").write_text(
        "version,file,data_date,origin,data_commit,measure,n_rows,duplicate_of_previous\n"
        "1.0.0,1.0.0_top-download.js.gz,2022-11-03,git tag,x,last-week,3,False\n"
    )
    assert detect_format(js) == "npm-high-impact"
    (p,) = plan(tmp_path)
    assert p.batch.snapshot.taken_at == dt.date(2022, 11, 3)
    assert [(r["package_id"], r["rank"], r["downloads"]) for r in p.batch.table("packages").to_pylist()] == [
        ("semver", 1, None),
        ("@types/node", 2, None),
        ("a'b", 3, None),
    ]


@pytest.mark.parametrize(
    ("name", "manifest"),
    [
        # the package's README: v1.0-1.11 rank by npm's last-week downloads, v1.12+ by ecosyste.ms downloads
        ("1.11.0_top-download.js", {"version": "1.11.0", "ranking_measure": "npm-downloads-last-week"}),
        ("1.12.0_top-download.js", {"version": "1.12.0", "ranking_measure": "ecosystems-downloads"}),
        ("v2.0.1-top-download.js", {"version": "2.0.1", "ranking_measure": "ecosystems-downloads"}),
        ("top-download.js", None),  # no release known: no measure claimed
    ],
)
def test_npm_high_impact_manifest_names_the_ranking_measure(tmp_path, name, manifest):
    js = tmp_path / name
    js.write_text("export const topDownload = ['semver', 'debug']\n", encoding="utf-8")
    (p,) = plan(js, format="npm-high-impact", taken_at=dt.date(2025, 6, 5))
    got = p.batch.snapshot.manifest
    assert (json.loads(got) if got else None) == manifest


@pytest.mark.parametrize(
    "src",
    [
        "export const topDownload = [require('fs')]",
        "export const topDownload = ['a', 'b'",
        "export const topDownload = ['a'] ; process.exit(1)",
        "console.log(1)",
    ],
)
def test_npm_high_impact_refuses_code(src):
    with pytest.raises(InputError):
        parse_string_array(src, "x.js")


def test_npm_download_counts(tmp_path):
    f = tmp_path / "2.20251201.0_counts.top3.json.gz"
    f.write_bytes(gzip.compress(json.dumps({"semver": 30, "Debug": 20, "ms": 10}).encode()))
    assert detect_format(f) == "npm-download-counts"
    p = _one(f)
    assert p.batch.snapshot.taken_at == dt.date(2025, 12, 1)
    assert [(r["package_id"], r["downloads"], r["rank"], r["downloads_window"]) for r in _rows(p)] == [
        ("semver", 30, 1, "last-month"),
        ("debug", 20, 2, "last-month"),
        ("ms", 10, 3, "last-month"),
    ]
    assert "partial listing: the top 3 packages" in p.batch.snapshot.notes


def test_lineage_edges_folder(tmp_path):
    (tmp_path / "edges.csv").write_text(
        "parent,child,relation,source_file\n"
        "base/M,u/ft,finetune,M_finetunes_20250404_231041.csv\n"
        "base/M,u/q,quantized,M_finetunes_20250405_001816.csv\n"
        "base/M,u/q,quantized,M_finetunes_20250405_001816.csv\n"
    )
    (tmp_path / "nodes.csv").write_text(
        "model_id,source_file,depth,downloads,likes,library_name,pipeline_tag,created_at,last_modified,license,"
        "base_model_tags,tags,has_card_column,card_len\n"
        "base/M,M.csv,0,100.0,5.0,transformers,text-generation,2024-01-01 00:00:00+00:00,2024-02-01 00:00:00+00:00,"
        'mit,[],"[""safetensors""]",True,10\n'
        "u/ft,M.csv,1,,1.0,peft,,2024-03-01 00:00:00+00:00,2024-03-02 00:00:00+00:00,,"
        '"[""base_model:adapter:base/M""]","[""base_model:adapter:base/M""]",False,\n'
    )
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "M_finetunes_20250405_001816.csv").write_text(
        'model_id,card,metadata\nu/ft,"---\nbase_model: BASE/m\n---\nhello",{}\n'
    )
    assert detect_format(tmp_path) == "lineage-edges"
    p = _one(tmp_path)
    s = p.batch.snapshot
    assert s.taken_at == dt.date(2025, 4, 5)
    assert [(r["package_id"], r["downloads"]) for r in _rows(p)] == [("base/M", 100), ("u/ft", None)]
    lin = sorted((r["child"], r["parent_ref"], r["parent_id"], r["relation"], r["origin"]) for r in _rows(p, "lineage"))
    assert lin == [
        ("u/ft", "BASE/m", "base/M", "unknown", "card_yaml"),
        ("u/ft", "base/M", "base/M", "adapter", "base_model_tag"),
        ("u/ft", "base/M", "base/M", "finetune", "edge_list"),
        ("u/q", "base/M", "base/M", "quantized", "edge_list"),
    ]
    assert {(r["package_id"], r["library"], r["origin"]) for r in _rows(p, "package_libraries")} == {
        ("base/M", "transformers", "library_name"),
        ("base/M", "safetensors", "tag"),
        ("u/ft", "peft", "library_name"),
    }
    assert "1 repeated edges" in s.notes
    assert set(json.loads(s.manifest)["files"]) == {"edges.csv", "nodes.csv", "raw/M_finetunes_20250405_001816.csv"}


def test_lineage_edges_raw_family_file(tmp_path):
    meta = {
        "id": "base/M",
        "downloads": 7,
        "tags": ["safetensors"],
        "library_name": "transformers",
        "last_modified": "2025-01-01 00:00:00+00:00",
    }
    f = tmp_path / "M_finetunes_20250422_224221.csv"
    import csv

    with f.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["model_id", "card", "metadata", "depth", "children", "adapters", "quantized", "merges"])
        w.writerow(
            [
                "base/M",
                "# M",
                json.dumps(meta),
                0,
                "https://huggingface.co/u/a, https://huggingface.co/u/b",
                "https://huggingface.co/u/c",
                "",
                "",
            ]
        )
    assert detect_format(f) == "lineage-edges"
    p = _one(f)
    assert p.batch.snapshot.taken_at == dt.date(2025, 4, 22)
    lin = sorted((r["child"], r["parent_id"], r["relation"]) for r in _rows(p, "lineage"))
    assert lin == [("u/a", "base/M", "finetune"), ("u/b", "base/M", "finetune"), ("u/c", "base/M", "adapter")]
    assert _rows(p)[0]["downloads"] == 7


@settings(max_examples=200)
@given(
    names=st.lists(
        st.text(alphabet=st.characters(codec="ascii", exclude_categories=("Cc",)), min_size=1, max_size=15).filter(
            lambda s: s.strip()
        ),
        min_size=1,
        max_size=20,
    ),
    registry=st.sampled_from(["hf", "npm", "pypi"]),
)
def test_bulk_id_normalisation_equals_the_reference(names, registry):
    from ptmscope.aliases import normalise_id
    from ptmscope.sources._common import normalise_id_array

    got = normalise_id_array(registry, names, path="x", line_offset=1, column="id").to_pylist()
    assert got == [normalise_id(registry, n) for n in names]


@given(ids=st.lists(st.sampled_from(["a", "b", "c", "d"]), max_size=30))
def test_dedupe_keeps_first_occurrences_in_order(ids):
    from ptmscope.sources._common import Notes, dedupe_first

    notes = Notes()
    keep = dedupe_first(ids, source="x", notes=notes)
    expected = [i for i, v in enumerate(ids) if v not in ids[:i]]
    assert keep == expected
    assert bool(notes.warnings) == (len(expected) != len(ids))


@pytest.mark.parametrize(
    ("name", "window"),
    [
        ("2018-01-31_top-pypi-packages.json.gz", "unknown"),  # the early bare file: ~12x the 30-day counts
        ("2018-02-07_top-pypi-packages-30-days.json.gz", "30d"),
        ("2019-01-01_top-pypi-packages-365-days.json.gz", "365d"),
    ],
)
def test_top_pypi_window_from_the_file_kind(tmp_path, name, window):
    f = tmp_path / name
    f.write_bytes(gzip.compress(json.dumps([{"download_count": 9, "project": "a"}]).encode()))
    p = _one(f)
    assert _rows(p)[0]["downloads_window"] == window
    assert ("download window unknown" in p.batch.snapshot.notes) == (window == "unknown")


def test_top_pypi_modern_file_with_a_bare_name_stays_30d(tmp_path):
    f = tmp_path / "2020-01-01_top-pypi-packages.json"
    f.write_text(json.dumps({"last_update": "2020-01-01 00:00:00", "rows": [{"download_count": 3, "project": "a"}]}))
    assert _rows(_one(f))[0]["downloads_window"] == "30d"
