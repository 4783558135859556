"""Metadata availability, documentation score, the C3 test, storage and CLI on a hand-built store."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from scipy import stats as sps

from ptmscope.cards import SECTIONS, CardScore
from ptmscope.cards.metadata import flags_from_tags, metadata_availability
from ptmscope.cards.storage import score_snapshot
from ptmscope.errors import NotMeasurable
from ptmscope.metrics.docs import c3_test
from ptmscope.schema import Snapshot, SnapshotBatch, to_table
from ptmscope.store import Store

SID = "hf-2022-02-15-aaaaaaaa"

# model -> (downloads, likes, author, model_type, tags, license, task, library?, card text or None)
MODELS = {
    "o/a": (100, 5, "o", "bert", ["dataset:x", "en", "arxiv:1"], "mit", "fill-mask", True, "five"),
    "o/b": (90, 4, "o", "bert", ["dataset:x", "en", "arxiv:1", "pytorch"], "mit", "fill-mask", True, "five again"),
    "o/c": (80, 3, "o", None, [], None, None, False, "zero"),
    "d": (1, 0, None, None, None, None, None, False, None),
    "o/e": (0, 0, None, None, None, None, None, False, "zero too"),
    "z/f": (0, 0, "z", None, [], None, None, False, "one"),
}
CARD_SCORES = {"five": 5, "five again": 5, "zero": 0, "zero too": 0, "one": 1}
# hand-computed metadata scores over the 9 PeaTMOSS schema fields an hf-api snapshot can hold
# (architecture, author, datasets, framework, language, library, license, paper, tags):
# o/a lacks only a framework tag, o/b has all nine, o/c and z/f only an author
META = {"o/a": 8 / 9, "o/b": 1.0, "o/c": 1 / 9, "d": 0.0, "o/e": 0.0, "z/f": 1 / 9}


class FixedScorer:
    """Scores from a lookup table, so these tests do not depend on the rules."""

    name = "fixed"
    key = "fixed-v1"

    def __init__(self) -> None:
        self.calls = 0

    def score(self, text: str | None) -> CardScore:
        self.calls += 1
        if text is None:
            return CardScore.empty("no card")
        n = CARD_SCORES[text]
        return CardScore.from_flags({s: i < n for i, s in enumerate(SECTIONS)}, {s: "fixed" for s in SECTIONS})

    def score_many(self, texts: Sequence[str | None]) -> list[CardScore]:
        return [self.score(t) for t in texts]


def build_store(path: Path) -> Store:
    ids = list(MODELS)
    col = lambda i: [MODELS[m][i] for m in ids]  # noqa: E731
    cards_text = col(8)
    tables = {
        "packages": to_table(
            "packages",
            {
                "package_id": ids,
                "raw_id": ids,
                "downloads": col(0),
                "likes": col(1),
                "author": col(2),
                "model_type": col(3),
                "tags": col(4),
                "license": col(5),
                "task": col(6),
            },
            SID,
        ),
        "package_libraries": to_table(
            "package_libraries",
            {
                "package_id": [m for m in ids if MODELS[m][7]],
                "library": ["transformers", "transformers"],
                "origin": ["tag", "tag"],
            },
            SID,
        ),
        "lineage": to_table(
            "lineage",
            {
                "child": ["o/b"],
                "parent_ref": ["o/a"],
                "parent_id": ["o/a"],
                "relation": ["finetune"],
                "origin": ["base_model_tag"],
            },
            SID,
        ),
        "cards": to_table(
            "cards",
            {
                "package_id": ids,
                "text": cards_text,
                "text_sha256": [None if t is None else f"sha-{t}" for t in cards_text],
                "missing": [t is None for t in cards_text],
            },
            SID,
        ),
    }
    snap = Snapshot(SID, "hf", dt.date(2022, 2, 15), "hf-api", "model_infos.jsonl.gz", "a" * 64, len(ids), "test")
    st = Store(path)
    st.add_batch(SnapshotBatch(snap, tables))
    return st


def test_metadata_availability_hand_computed(store_path: Path) -> None:
    st = build_store(store_path)
    r = metadata_availability(st.backend, SID)
    assert r.fields_used == (
        "architecture",
        "author",
        "datasets",
        "framework",
        "language",
        "library",
        "license",
        "paper",
        "tags",
    )
    assert r.fields_excluded == {}
    assert r.mean_score == pytest.approx(np.mean(list(META.values())))
    assert r.field_share["framework"] == pytest.approx(1 / 6)
    d = r.to_dict()
    assert d["inputs"] == {"snapshot_id": SID, "source_format": "hf-api"}
    assert d["schema_tables_used"]["datasets"] == "model_to_dataset"
    # what a snapshot cannot have is listed with the reason, never scored
    for f in ("hyper_parameters", "hardware", "evaluation", "upstream_model", "max_length"):
        assert f in d["fields_not_in_snapshots"] and f not in d["fields_used"]


def test_unknown_source_excludes_fields_nobody_has(store_path: Path) -> None:
    st = build_store(store_path)
    st.con.execute("UPDATE snapshots SET source_format = 'mystery' WHERE snapshot_id = ?", [SID])
    st.con.execute("UPDATE packages SET tags = NULL, license = NULL")
    r = metadata_availability(st.backend, SID)
    for f in ("datasets", "language", "paper", "tags", "license"):
        assert f in r.fields_excluded and f not in r.fields_used


def test_flags_from_tags() -> None:
    f = flags_from_tags(["license:mit", "de", "tf", "arxiv:1910.1", "dataset:squad"])
    assert f == {"datasets": True, "framework": True, "language": True, "license": True, "paper": True, "tags": True}
    assert flags_from_tags(["tf"])["language"] is False
    assert flags_from_tags(["en"])["framework"] is False
    assert flags_from_tags(None) == dict.fromkeys(f, False)


def test_framework_from_package_libraries_too(store_path: Path) -> None:
    st = build_store(store_path)
    # the PeaTMOSS import puts frameworks into package_libraries, not tags
    st.con.execute("UPDATE package_libraries SET library = 'PyTorch' WHERE package_id = 'o/a'")
    r = metadata_availability(st.backend, SID)
    assert r.field_share["framework"] == pytest.approx(2 / 6)


@pytest.mark.realdata
def test_fields_are_the_peatmoss_schema_link_tables() -> None:
    import re

    from ptmscope.cards.metadata import NOT_IN_SNAPSHOTS, SCHEMA_TABLES
    from realdata import shared_path

    base = shared_path("hf", "2023_peatmoss-artifact")
    sql = (base / "PeaTMOSS_schema.sql").read_text(encoding="utf-8")
    link_tables = set(re.findall(r"CREATE TABLE (model_to_\w+)", sql))
    # every per-model metadata relation of the schema, and nothing else; reuse repositories are not metadata
    assert set(SCHEMA_TABLES.values()) == link_tables - {"model_to_reuse_repository"}
    # every field PeaTMOSS's LLM extraction and hand labels carry is a schema field or listed as not in snapshots
    schema_names = {"frameworks", "datasets", "license", "paper"}
    for name in ("500ModelResult_llm_extracted.json", "groundTruth_accurate.json"):
        records = json.loads((base / name).read_text(encoding="utf-8")).values()
        keys = {k for rec in records if isinstance(rec, dict) for k in rec}
        keys = {"demo" if k == "code_demo" else k for k in keys}
        assert keys - schema_names <= set(NOT_IN_SNAPSHOTS), keys - schema_names - set(NOT_IN_SNAPSHOTS)


def test_score_store_and_resume(store_path: Path) -> None:
    st = build_store(store_path)
    sc = FixedScorer()
    run = score_snapshot(st, SID, sc)
    assert (run.n_cards, run.n_scored, run.n_skipped, run.n_missing) == (6, 6, 0, 1)
    assert run.mean_score == pytest.approx(11 / 6)
    again = score_snapshot(st, SID, sc)
    assert (again.n_scored, again.n_skipped) == (0, 6)
    assert sc.calls == 6
    # a changed card text is rescored, the rest is not
    st.con.execute("UPDATE cards SET text = 'one', text_sha256 = 'sha-one-b' WHERE package_id = 'o/c'")
    third = score_snapshot(st, SID, sc)
    assert (third.n_scored, third.n_skipped) == (1, 5)
    rows = st.con.execute("SELECT count(*), sum(score) FROM card_scores WHERE snapshot_id = ?", [SID]).fetchall()[0]
    assert rows == (6, 12)
    st.delete_snapshot(SID)
    assert st.con.execute("SELECT count(*) FROM card_scores").fetchall()[0][0] == 0


def test_c3_hand_computed(store_path: Path) -> None:
    st = build_store(store_path)
    score_snapshot(st, SID, FixedScorer())
    r = c3_test(st.backend, top=2, n_boot=200)
    doc = {m: (CARD_SCORES.get(MODELS[m][8], 0) / 5 + META[m]) / 2 for m in MODELS}
    assert r.mean_documentation_score == pytest.approx(np.mean(list(doc.values())))
    comps = {c.measure: c for c in r.comparisons}
    assert set(comps) == {"downloads", "likes"}  # only one model has descendants: no test
    assert any("descendants" in n for n in r.notes)
    top = [doc["o/a"], doc["o/b"]]
    d = comps["downloads"]
    bottom = [doc["o/e"], doc["z/f"]]  # 0 downloads each; ties broken by id
    assert sorted(d.top_scores) == pytest.approx(sorted(top))
    assert sorted(d.bottom_scores) == pytest.approx(sorted(bottom))
    ref = sps.ttest_ind(top, bottom, equal_var=False, alternative="greater")
    assert d.welch.p == pytest.approx(ref.pvalue)
    assert d.mean_diff.estimate == pytest.approx(np.mean(top) - np.mean(bottom))
    assert d.cliffs_delta == pytest.approx(1.0)
    mwu = sps.mannwhitneyu(top, bottom, alternative="greater")
    assert d.mann_whitney.p == pytest.approx(mwu.pvalue)
    pooled = np.sqrt(
        ((len(top) - 1) * np.var(top, ddof=1) + (len(bottom) - 1) * np.var(bottom, ddof=1))
        / (len(top) + len(bottom) - 2)
    )
    assert d.cohens_d == pytest.approx((np.mean(top) - np.mean(bottom)) / pooled)
    assert d.mean_diff.low <= d.mean_diff.estimate <= d.mean_diff.high
    likes = comps["likes"]
    assert sorted(likes.bottom_scores) == pytest.approx(sorted([doc["d"], doc["o/e"]]))
    # Holm over the two measures: the smaller p doubled, the larger kept (never below the smaller adjusted)
    ps = sorted([d.welch.p, likes.welch.p])
    adj = sorted([d.p_welch_holm, likes.p_welch_holm])
    assert adj[0] == pytest.approx(min(1.0, 2 * ps[0]))
    assert adj[1] == pytest.approx(max(adj[0], ps[1]))
    out = r.to_dict()
    assert out["inputs"]["top"] == 2 and out["inputs"]["scorer_key"] == "fixed-v1"
    json.dumps(out)


def test_c3_needs_scores(store_path: Path) -> None:
    st = build_store(store_path)
    with pytest.raises(NotMeasurable, match="cards score"):
        c3_test(st.backend)


def test_cli_score_and_metric_docs(cli, store_path: Path, tmp_path: Path) -> None:
    build_store(store_path).close()
    code, out, err = cli("cards", "score", "--store", store_path, "--json")
    assert code == 0, err
    run = json.loads(out)
    assert run["inputs"]["scorer_key"].startswith("rules-") and run["n_cards"] == 6
    code, out, err = cli("cards", "score", "--store", store_path, "--json")
    assert json.loads(out)["n_skipped"] == 6
    svg = tmp_path / "c3.svg"
    code, out, err = cli(
        "metric",
        "docs",
        "--store",
        store_path,
        "--top",
        "2",
        "--by",
        "downloads,likes",
        "--n-boot",
        "50",
        "--json",
        "--plot",
        svg,
    )
    assert code == 0, err
    res = json.loads(out)
    assert [c["measure"] for c in res["comparisons"]] == ["downloads", "likes"]
    text = svg.read_text()
    assert text.lstrip().startswith("<?xml") and "<script" not in text
    code, out, err = cli("metric", "docs", "--store", store_path, "--by", "stars")
    assert code == 1 and "stars" in err
    code, out, err = cli("cards", "score", "--store", store_path, "--snapshot", "nope")
    assert code == 1 and "nope" in err
    code, out, err = cli("cards", "score", "--store", store_path, "--scorer", "llm")
    assert code == 1 and "--endpoint" in err


def test_tiny_p_values_survive_to_dict(store_path: Path) -> None:
    st = build_store(store_path)
    score_snapshot(st, SID, FixedScorer())
    r = c3_test(st.backend, top=2, n_boot=50)
    for c, d in zip(r.comparisons, r.to_dict()["comparisons"], strict=False):
        assert d["p_welch_holm"] == pytest.approx(c.p_welch_holm, rel=1e-5)
        assert (d["p_welch_holm"] > 0) == (c.p_welch_holm > 0)


@pytest.mark.spark
@pytest.mark.slow
def test_same_results_on_spark(store_path: Path) -> None:
    import shutil

    pytest.importorskip("pyspark", reason="pyspark not installed (extra [spark])")
    if shutil.which("java") is None:
        pytest.skip("no Java runtime on PATH (Spark needs Java 17+)")
    from ptmscope.engine import connect

    st = build_store(store_path)
    score_snapshot(st, SID, FixedScorer())
    duck = (c3_test(st.backend, top=2, n_boot=50).to_dict(), metadata_availability(st.backend, SID).to_dict())
    st.close()
    spark = connect(store_path, "spark")
    assert (c3_test(spark, top=2, n_boot=50).to_dict(), metadata_availability(spark, SID).to_dict()) == duck


def test_peatmoss_excludes_architecture(store_path: Path) -> None:
    st = build_store(store_path)
    st.con.execute("UPDATE snapshots SET source_format = 'peatmoss' WHERE snapshot_id = ?", [SID])
    r = metadata_availability(st.backend, SID)
    assert set(r.fields_excluded) == {"architecture"}
    # 8 fields remain; o/b has all of them, o/a all but a framework, d none
    assert len(r.fields_used) == 8
    assert r.mean_score == pytest.approx((7 / 8 + 1 + 1 / 8 + 0 + 0 + 1 / 8) / 6)


def test_no_card_share_per_group(store_path: Path) -> None:
    st = build_store(store_path)
    score_snapshot(st, SID, FixedScorer())
    comps = {c.measure: c for c in c3_test(st.backend, top=2, n_boot=20).comparisons}
    assert comps["downloads"].bottom_no_card_share == 0.0  # o/e and z/f both have a card
    assert comps["likes"].bottom_no_card_share == 0.5  # d has none, o/e has one
    assert comps["likes"].top_no_card_share == 0.0


def test_with_card_only_drops_models_without_a_card(store_path: Path) -> None:
    st = build_store(store_path)
    score_snapshot(st, SID, FixedScorer())
    r = c3_test(st.backend, top=2, n_boot=20, by=("likes",), with_card_only=True)
    (likes,) = r.comparisons
    assert likes.bottom_no_card_share == 0.0 and likes.top_no_card_share == 0.0
    doc_e = (0 / 5 + META["o/e"]) / 2
    doc_f = (1 / 5 + META["z/f"]) / 2
    assert sorted(likes.bottom_scores) == pytest.approx(sorted([doc_e, doc_f]))  # d (no card) is gone
    assert r.to_dict()["inputs"]["with_card_only"] is True
    # 6 models, 1 without a card (d): the headline counts the 5 compared, not "6 models ... 1 without a card"
    n_with_card = sum(1 for m in MODELS.values() if m[8] is not None)
    assert r.n_compared == n_with_card == 5
    assert r.headline().startswith(f"{SID} (fixed-v1): 5 models with a card compared (of 6 in the snapshot; 1 ")
    assert r.to_dict()["n_models_compared"] == 5
    mean_cards = sum((CARD_SCORES[m[8]] / 5 + META[k]) / 2 for k, m in MODELS.items() if m[8]) / n_with_card
    assert r.mean_documentation_score == pytest.approx(mean_cards)
    everyone = c3_test(st.backend, top=2, n_boot=20, by=("likes",))
    assert everyone.n_compared == 6 and "6 models compared, 1 of them without a card" in everyone.headline()


def test_cli_with_card_only_prints_what_was_compared(cli, store_path: Path) -> None:
    st = build_store(store_path)
    score_snapshot(st, SID, FixedScorer())
    st.close()
    code, out, err = cli("metric", "docs", "--store", store_path, "--top", "2", "--by", "likes", "--with-card-only")
    assert code == 0, err
    assert "5 models with a card compared (of 6 in the snapshot; 1 without a card left out)" in out
    assert "6 models" not in out.replace("of 6 in the snapshot", "")


def test_snapshot_without_cards_is_refused_and_the_store_untouched(store_path: Path) -> None:
    from ptmscope.errors import StoreError

    st = build_store(store_path)
    st.con.execute("DELETE FROM cards")
    with pytest.raises(StoreError, match="has no cards"):
        score_snapshot(st, SID, FixedScorer())
    tables = {r[0] for r in st.con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert "card_scores" not in tables


def test_models_without_a_score_are_left_out_with_a_note(store_path: Path) -> None:
    st = build_store(store_path)
    score_snapshot(st, SID, FixedScorer())
    st.con.execute("DELETE FROM card_scores WHERE package_id IN ('o/c', 'z/f')")  # as if scoring stopped early
    r = c3_test(st.backend, top=2, n_boot=20, by=("likes",))
    assert r.n_no_card_row == 2
    assert any(n.startswith("2 of 6 models have no fixed-v1 score") for n in r.notes)
    kept = ["o/a", "o/b", "d", "o/e"]
    doc = {m: (CARD_SCORES.get(MODELS[m][8], 0) / 5 + META[m]) / 2 for m in kept}
    assert r.mean_documentation_score == pytest.approx(np.mean(list(doc.values())))


def test_figure_width_does_not_grow_with_a_long_scorer_key(store_path: Path, tmp_path: Path) -> None:
    import struct

    from ptmscope.figures._style import save
    from ptmscope.figures.docs import docs_figure

    class LongKey(FixedScorer):
        key = "embedding-all-MiniLM-L6-v2-v1-h0.7-c0.5-p0.2-0.6-0.3-0.5-0.4-and-some-more-settings"

    st = build_store(store_path)
    score_snapshot(st, SID, LongKey())
    r = c3_test(st.backend, scorer_key=LongKey.key, top=2, n_boot=20, by=("likes",))
    png = tmp_path / "one.png"
    save(docs_figure(r), png)
    width_px, height_px = struct.unpack(">II", png.read_bytes()[16:24])  # the PNG IHDR chunk
    # one panel is 2.3 + 0.6 inches wide at 200 dpi; a title on one line would make it several times wider
    assert width_px <= 3.3 * 200, (width_px, height_px)
