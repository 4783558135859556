"""The Hub ModelInfo converter: hand-written records, both field spellings."""

from __future__ import annotations

import datetime as dt

import pytest

from ptmscope.errors import InputError
from ptmscope.schema import DATA_TABLES
from ptmscope.sources.hf_api import libraries_of, model_row, records_to_tables

OLD = {
    "modelId": "alice/bert-tuned",
    "sha": "abc",
    "lastModified": "2022-01-20T12:13:34.000Z",
    "tags": ["pytorch", "tensorboard", "bert", "transformers", "license:mit"],
    "pipeline_tag": "fill-mask",
    "config": {"model_type": "bert"},
    "downloads": 7,
    "likes": 1,
    "library_name": "transformers",
}
NEW = {
    "id": "bob/llama-q4",
    "author": "bob",
    "createdAt": "2024-05-01T00:00:00.000Z",
    "last_modified": "2024-05-02 10:00:00+00:00",
    "downloads": 100,
    "downloadsAllTime": 5000,
    "likes": 3,
    "library_name": "gguf",
    "tags": ["gguf", "base_model:quantized:Meta/Llama-3", "base_model:Meta/Llama-3", "base_model:carol/other"],
    "card_data": {"license": "llama3", "base_model": ["meta/llama-3"]},
    "gguf": {"total": 1},
    "safetensors": {"parameters": {"F16": 10}},
}


def test_model_row_old_spelling():
    row = model_row(OLD)
    p = row.package
    assert p["package_id"] == "alice/bert-tuned"
    assert p["author"] == "alice"
    assert p["downloads"] == 7 and p["downloads_window"] == "30d"
    assert p["last_modified"] == dt.datetime(2022, 1, 20, 12, 13, 34, tzinfo=dt.UTC)
    assert p["created_at"] is None
    assert p["license"] == "mit"
    assert p["model_type"] == "bert"
    assert p["task"] == "fill-mask"
    assert dict(row.libraries) == {"transformers": "library_name", "pytorch": "tag", "tensorboard": "tag"}
    assert row.lineage == []


def test_model_row_new_spelling_and_lineage():
    row = model_row(NEW)
    p = row.package
    assert p["package_id"] == "bob/llama-q4"
    assert p["created_at"] == dt.datetime(2024, 5, 1, tzinfo=dt.UTC)
    assert p["last_modified"] == dt.datetime(2024, 5, 2, 10, tzinfo=dt.UTC)
    assert p["license"] == "llama3"  # card data wins over tags
    assert dict(row.libraries) == {"gguf": "library_name", "safetensors": "tag"}
    got = {(r.parent_ref, r.relation, r.origin) for r in row.lineage}
    assert got == {
        ("meta/llama-3", "quantized", "card_yaml"),  # relation borrowed from the tag naming the same id
        ("Meta/Llama-3", "quantized", "base_model_tag"),
        ("carol/other", "unknown", "base_model_tag"),
    }


def test_records_to_tables_resolution_cards_duplicates():
    parent = {"id": "Meta/Llama-3", "downloads": 10}
    trainer_child = {"modelId": "dave/ft", "downloads": None}
    recs = [NEW, parent, trainer_child, dict(parent, downloads=99)]
    cards = {
        "dave/ft": "# x\nThis model is a fine-tuned version of [bert](https://huggingface.co/bert-base-uncased) on y.",
        "Meta/Llama-3": None,
    }
    tables = records_to_tables(
        recs, "s1", source="f.jsonl", cards=cards, aliases={"bert-base-uncased": "google-bert/bert-base-uncased"}
    )
    for name, t in tables.items():
        assert t.schema == DATA_TABLES[name]
    pk = tables["packages"].to_pylist()
    assert [r["package_id"] for r in pk] == ["bob/llama-q4", "Meta/Llama-3", "dave/ft"]
    assert pk[1]["downloads"] == 10  # first record of the duplicate kept
    assert pk[2]["downloads"] is None and pk[2]["downloads_window"] is None
    lin = {(r["child"], r["parent_ref"], r["origin"]): r["parent_id"] for r in tables["lineage"].to_pylist()}
    assert lin[("bob/llama-q4", "meta/llama-3", "card_yaml")] == "Meta/Llama-3"  # case-insensitive
    assert lin[("bob/llama-q4", "carol/other", "base_model_tag")] is None  # not in this snapshot
    assert lin[("dave/ft", "https://huggingface.co/bert-base-uncased", "card_text")] is None
    cards_t = {r["package_id"]: r for r in tables["cards"].to_pylist()}
    assert cards_t["Meta/Llama-3"]["missing"] is True and cards_t["Meta/Llama-3"]["text"] is None
    assert cards_t["dave/ft"]["missing"] is False and len(cards_t["dave/ft"]["text_sha256"]) == 64
    assert "bob/llama-q4" not in cards_t  # not in the cards mapping: no row


@pytest.mark.parametrize(
    ("rec", "field"),
    [
        ({"id": "a/b", "downloads": -1}, "downloads"),
        ({"id": "a/b", "downloads": "many"}, "downloads"),
        ({"id": "a/b", "downloads": 1.5}, "downloads"),
        ({"id": "a/b", "likes": True}, "likes"),
        ({"id": "a/b", "lastModified": "yesterday"}, "lastModified"),
        ({"downloads": 1}, "id"),
        ({"id": "a/b", "tags": "pytorch"}, "tags"),
    ],
)
def test_bad_records_name_line_and_field(rec, field):
    with pytest.raises(InputError) as ei:
        records_to_tables([{"id": "ok/1"}, rec], "s", source="dump.jsonl")
    msg = str(ei.value)
    assert msg.startswith("dump.jsonl:2 ")
    assert field in msg


def test_line_numbers_from_pairs():
    with pytest.raises(InputError, match=r"^x\.jsonl:41 "):
        records_to_tables([(40, {"id": "a"}), (41, {"id": "b", "downloads": -3})], "s", source="x.jsonl")


def test_tag_libraries_are_exact_vocabulary_words():
    libs = dict(libraries_of(None, ["PyTorch", "pytorch", "onnx", "transformers", "text-generation", "en"]))
    assert libs == {"pytorch": "tag", "onnx": "tag", "transformers": "tag"}
