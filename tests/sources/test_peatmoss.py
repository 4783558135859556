"""PeaTMOSS importer on a small database built from the published DDL."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest

from ptmscope.errors import InputError
from ptmscope.sources import detect_format, plan
from realdata import shared_path


def _db(tmp_path, with_base=True):
    ddl = shared_path("hf", "2023_peatmoss-artifact", "PeaTMOSS_schema.sql").read_text()
    db = tmp_path / "PeaTMOSS.db"
    con = sqlite3.connect(db)
    con.executescript(ddl)
    con.executemany(
        "INSERT INTO model_hub (id, name, url) VALUES (?, ?, ?)",
        [(1, "Hugging Face", "https://huggingface.co"), (2, "PyTorch Hub", "https://pytorch.org/hub")],
    )
    con.executemany(
        "INSERT INTO model (id, context_id, model_hub_id, sha, repo_url, downloads, likes) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (1, "bert-base-uncased", 1, "s1", "https://huggingface.co/bert-base-uncased", 1000, 50),
            (2, "alice/bert-ft", 1, "s2", "https://huggingface.co/alice/bert-ft", 10, 0),
            (3, "bob/lora", 1, "s3", "https://huggingface.co/bob/lora", None, 1),
            (4, "pytorch/vision", 2, None, "https://github.com/pytorch/vision", 5, None),
        ],
    )
    con.executemany("INSERT INTO library (id, name) VALUES (?, ?)", [(1, "Transformers"), (2, "PEFT")])
    con.executemany("INSERT INTO model_to_library VALUES (?, ?)", [(1, 1), (2, 1), (3, 2)])
    con.executemany("INSERT INTO framework (id, name) VALUES (?, ?)", [(1, "pytorch")])
    con.executemany("INSERT INTO model_to_framework VALUES (?, ?)", [(1, 1)])
    con.executemany("INSERT INTO license (id, name) VALUES (?, ?)", [(1, "apache-2.0")])
    con.executemany("INSERT INTO model_to_license VALUES (?, ?)", [(1, 1)])
    con.executemany(
        "INSERT INTO hf_commit (id, commit_id, created_at, title, message, model_id) VALUES (?, ?, ?, ?, ?, ?)",
        [(1, "c", "2023-10-01T12:00:00+00:00", "t", "m", 1), (2, "d", "2023-10-05T00:00:00+00:00", "t", "m", 2)],
    )
    if with_base:
        con.execute("CREATE TABLE model_to_base_model (model_id INTEGER, base_model_name VARCHAR)")
        con.executemany(
            "INSERT INTO model_to_base_model VALUES (?, ?)",
            [(2, "bert-base-uncased"), (3, "alice/BERT-ft"), (3, "gone/model")],
        )
    con.commit()
    con.close()
    return db


def test_peatmoss_import(tmp_path):
    db = _db(tmp_path)
    before = db.read_bytes()
    assert detect_format(db) == "peatmoss"
    (p,) = plan(db)
    b = p.batch
    assert b.snapshot.taken_at == dt.date(2023, 10, 5)  # latest hf_commit: a lower bound
    rows = b.table("packages").to_pylist()
    assert [(r["package_id"], r["downloads"], r["likes"], r["license"]) for r in rows] == [
        ("bert-base-uncased", 1000, 50, "apache-2.0"),
        ("alice/bert-ft", 10, 0, None),
        ("bob/lora", None, 1, None),
    ]
    assert "1 non-Hugging-Face models" in b.snapshot.notes
    libs = {(r["package_id"], r["library"], r["origin"]) for r in b.table("package_libraries").to_pylist()}
    assert libs == {
        ("bert-base-uncased", "transformers", "peatmoss"),
        ("bert-base-uncased", "pytorch", "peatmoss"),
        ("alice/bert-ft", "transformers", "peatmoss"),
        ("bob/lora", "peft", "peatmoss"),
    }
    lin = sorted((r["child"], r["parent_ref"], r["parent_id"], r["origin"]) for r in b.table("lineage").to_pylist())
    assert lin == [
        ("alice/bert-ft", "bert-base-uncased", "bert-base-uncased", "peatmoss"),
        ("bob/lora", "alice/BERT-ft", "alice/bert-ft", "peatmoss"),
        ("bob/lora", "gone/model", None, "peatmoss"),
    ]
    assert db.read_bytes() == before


def test_peatmoss_without_base_model_table_and_date(tmp_path):
    db = _db(tmp_path, with_base=False)
    con = sqlite3.connect(db)
    con.execute("DELETE FROM hf_commit")
    con.commit()
    con.close()
    with pytest.raises(InputError, match="--date"):
        plan(db)
    (p,) = plan(db, taken_at=dt.date(2023, 8, 1))
    assert p.batch.table("lineage").num_rows == 0
    assert "no model_to_base_model" in p.batch.snapshot.notes


def test_wrong_format_flag_on_peatmoss_db(tmp_path):
    db = _db(tmp_path)
    with pytest.raises(InputError, match="looks like format peatmoss"):
        plan(db, format="hf-listing", taken_at=dt.date(2023, 1, 1))
