"""Lineage extraction and resolution: hand-written cards, tags and references."""

from __future__ import annotations

import string

from hypothesis import given
from hypothesis import strategies as st

from ptmscope.lineage import (
    LineageRef,
    Resolver,
    clean_ref,
    front_matter,
    refs_from_card_data,
    refs_from_card_text,
    refs_from_tags,
    relation_of,
    resolve_lineage,
)
from ptmscope.schema import to_table


def test_front_matter_base_model_string_and_list():
    card = "---\nlicense: mit\nbase_model: meta-llama/Llama-2-7b-hf\n---\n# hi\n"
    assert front_matter(card)["base_model"] == "meta-llama/Llama-2-7b-hf"
    card2 = "---\nbase_model:\n- a/b\n- c/d\nbase_model_relation: merge\n---\ntext"
    refs = refs_from_card_data(front_matter(card2))
    assert refs == [LineageRef("a/b", "merge", "card_yaml"), LineageRef("c/d", "merge", "card_yaml")]


def test_front_matter_rejects_non_mappings_and_unsafe_yaml():
    assert front_matter("no front matter") is None
    assert front_matter("---\n- a\n- b\n---\n") is None  # a list, not a mapping
    assert front_matter("---\n: : :\n  bad: [\n---\n") is None  # invalid YAML
    # safe loader: python tags are refused, never executed
    assert front_matter("---\nx: !!python/object/apply:os.system ['echo hi']\n---\n") is None


def test_repeated_yaml_keys_keep_the_first_value():
    """The rule of every importer: a key repeated in one mapping keeps its first value (PyYAML keeps the last)."""
    card = "---\nbase_model: first/model\nlicense: mit\nbase_model: second/model\n---\n# x\n"
    assert refs_from_card_data(front_matter(card)) == [LineageRef("first/model", "unknown", "card_yaml")]
    nested = "---\nmodel-index:\n- name: a\n  name: b\n---\n"
    assert front_matter(nested) == {"model-index": [{"name": "a"}]}
    # merge keys keep YAML's meaning: the mapping's own keys override the merged ones
    merged = "---\ndefaults: &d {base_model: x/y, license: mit}\ncard:\n  <<: *d\n  base_model: own/one\n---\n"
    assert front_matter(merged)["card"] == {"base_model": "own/one", "license": "mit"}


def test_card_yaml_relation_from_matching_tag():
    refs = refs_from_card_data({"base_model": "Org/M"}, ["base_model:adapter:org/m"])
    assert refs == [LineageRef("Org/M", "adapter", "card_yaml")]
    assert refs_from_card_data({"base_model": 5}) == []
    assert refs_from_card_data({"base_model": ["", "  x/y "]}) == [LineageRef("x/y", "unknown", "card_yaml")]


def test_tags_with_and_without_relation():
    tags = [
        "base_model:finetune:a/b",
        "base_model:a/b",  # same id as the relation tag: not repeated
        "base_model:c/d",
        "base_model:quantized:e/f",
        "license:mit",
    ]
    got = refs_from_tags(tags)
    assert got == [
        LineageRef("a/b", "finetune", "base_model_tag"),
        LineageRef("e/f", "quantized", "base_model_tag"),
        LineageRef("c/d", "unknown", "base_model_tag"),
    ]


def test_trainer_sentence():
    text = (
        "This model is a fine-tuned version of [bert-base-uncased](https://huggingface.co/bert-base-uncased) on glue."
    )
    assert refs_from_card_text(text) == [
        LineageRef("https://huggingface.co/bert-base-uncased", "finetune", "card_text")
    ]
    local = "This model is a fine-tuned version of [/content/ckpt](/content/ckpt) on None."
    assert refs_from_card_text(local) == [LineageRef("/content/ckpt", "finetune", "card_text")]
    assert refs_from_card_text("A fine-tuned model.") == []


def test_relation_words():
    assert [relation_of(w) for w in ("finetune", "Adapter", "quantized", "merge", "lora", "weird", None)] == [
        "finetune",
        "adapter",
        "quantized",
        "merge",
        "adapter",
        "unknown",
        "unknown",
    ]


def test_clean_ref_forms():
    assert clean_ref("https://huggingface.co/org/model") == "org/model"
    assert clean_ref("https://hf.co/org/model/tree/main") == "org/model"
    assert clean_ref("huggingface.co/org/model/") == "org/model"
    assert clean_ref("https://huggingface.co/models/org/model?x=1") == "org/model"
    assert clean_ref(" org/model.git ") == "org/model"
    # a doubled slash after the prefix (seen in 2025 cards); a local path behind the prefix stays a path
    assert clean_ref("https://huggingface.co//meta-llama/Llama-2-7b-chat-hf") == "meta-llama/Llama-2-7b-chat-hf"
    assert clean_ref("https://huggingface.co//home/ec2-user/SageMaker/marian_large").startswith("/home/")
    assert clean_ref("/org/model") == "/org/model"  # no Hub prefix: a local path, not an id


def test_resolver_case_aliases_and_ambiguity():
    ids = ["bert-base-uncased", "Org/Model", "dup/X", "dup/x"]
    r = Resolver(ids, {"bert-base-uncased": "google-bert/bert-base-uncased"})
    assert r.resolve("https://huggingface.co/google-bert/bert-base-uncased") == "bert-base-uncased"  # new -> old
    assert r.resolve("BERT-base-uncased") == "bert-base-uncased"
    assert r.resolve("org/model") == "Org/Model"
    assert r.resolve("dup/X") == "dup/X"  # exact spelling wins
    assert r.resolve("DUP/x") is None  # ambiguous by case: left unresolved
    assert r.resolve("Dup/X2") is None
    assert r.resolve("nobody/none") is None
    r2 = Resolver(["google-bert/bert-base-uncased"], {"bert-base-uncased": "google-bert/bert-base-uncased"})
    assert r2.resolve("bert-base-uncased") == "google-bert/bert-base-uncased"  # old -> new


def test_resolve_lineage_table_rewrites_parent_ids():
    t = to_table(
        "lineage",
        {
            "child": ["c1", "c2"],
            "parent_ref": ["P/a", "zz"],
            "parent_id": [None, None],
            "relation": ["finetune"] * 2,
            "origin": ["card_yaml"] * 2,
        },
        "s",
    )
    out = resolve_lineage(t, ["p/a"])
    assert out.column("parent_id").to_pylist() == ["p/a", None]


_name = st.text(alphabet=string.ascii_letters + string.digits + "-_.", min_size=1, max_size=12).filter(
    lambda s: s.strip(".") == s and not s.endswith(".git")
)


@given(
    owner=_name,
    name=_name,
    prefix=st.sampled_from(["", "https://huggingface.co/", "http://www.huggingface.co/", "https://hf.co/", "hf.co/"]),
    suffix=st.sampled_from(["", "/", "/tree/main", "/blob/main/README.md"]),
    upper=st.booleans(),
)
def test_any_hub_url_of_an_id_resolves_to_it(owner, name, prefix, suffix, upper):
    pid = f"{owner}/{name}"
    ref = prefix + (pid.upper() if upper else pid) + suffix
    assert Resolver([pid, "other/thing"]).resolve(ref) == pid
