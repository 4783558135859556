"""Dataset documentation vs popularity (T3.11) on a hand-built hf-datasets store: Spearman, bands,
section shares, the top-vs-bottom test with the zero-download ties, the CLI and the pipeline."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from scipy import stats as sps

from ptmscope.cards.datasets import DATASET_SECTIONS, DatasetCardScore
from ptmscope.cards.storage import score_snapshot
from ptmscope.errors import NotMeasurable
from ptmscope.metrics.dataset_docs import dataset_docs, summarise
from ptmscope.schema import Snapshot, SnapshotBatch, to_table
from ptmscope.store import Store

SID = "hf-datasets-2023-03-16-eeeeeeee"
SID_M = "hf-2022-02-15-ffffffff"

# id -> (downloads, card: "none" | "empty" | sections present as a 5-letter mask "10110")
DATASETS: dict[str, tuple[int, str]] = {
    "a/d01": (12000, "11111"),
    "a/d02": (5000, "11011"),
    "a/d03": (4000, "10001"),
    "a/d04": (900, "11101"),
    "a/d05": (800, "10000"),
    "a/d06": (500, "empty"),
    "a/d07": (80, "10011"),
    "a/d08": (40, "none"),
    "a/d09": (9, "10000"),
    "a/d10": (3, "00001"),
    "b/z1": (0, "none"),
    "b/z2": (0, "none"),
    "b/z3": (0, "empty"),
    "b/z4": (0, "10000"),
    "b/z5": (0, "11000"),
    "b/z6": (0, "none"),
    "b/z7": (0, "10001"),
    "b/z8": (0, "none"),
}


def score_of(card: str) -> int:
    return card.count("1") if card not in ("none", "empty") else 0


class FixedDatasetScorer:
    """Sections from the mask in the card text, so these tests do not depend on the rules."""

    name = "fixed-ds"
    key = "fixed-ds-v1"
    sections = DATASET_SECTIONS

    def score(self, text: str | None) -> DatasetCardScore:
        if text is None:
            return DatasetCardScore.empty("no card")
        mask = text.split()[-1]
        return DatasetCardScore.from_flags({s: c == "1" for s, c in zip(DATASET_SECTIONS, mask, strict=True)})

    def score_many(self, texts: Sequence[str | None]) -> list[DatasetCardScore]:
        return [self.score(t) for t in texts]


def build(path: Path, *, texts: dict[str, str | None] | None = None) -> Store:
    ids = list(DATASETS)
    card = {i: DATASETS[i][1] for i in ids}
    text = texts or {i: None if card[i] in ("none", "empty") else f"card {card[i]}" for i in ids}
    tables = {
        "packages": to_table(
            "packages", {"package_id": ids, "raw_id": ids, "downloads": [DATASETS[i][0] for i in ids]}, SID
        ),
        "cards": to_table(
            "cards",
            {
                "package_id": ids,
                "text": [text[i] for i in ids],
                "text_sha256": [None if text[i] is None else f"sha-{i}" for i in ids],
                "missing": [card[i] == "none" for i in ids],
            },
            SID,
        ),
    }
    st = Store(path)
    snap = Snapshot(SID, "hf-datasets", dt.date(2023, 3, 16), "hf-datasets", "d.parquet", "e" * 64, len(ids), "test")
    st.add_batch(SnapshotBatch(snap, tables))
    return st


@pytest.fixture
def st(store_path: Path) -> Store:
    s = build(store_path)
    score_snapshot(s, SID, FixedDatasetScorer())
    return s


def _arrays() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    dl = np.array([v[0] for v in DATASETS.values()], dtype=float)
    sc = np.array([score_of(v[1]) for v in DATASETS.values()], dtype=float)
    has = np.array([v[1] not in ("none", "empty") for v in DATASETS.values()])
    return dl, sc, has


def test_spearman_bands_and_sections_hand_computed(st: Store) -> None:
    r = dataset_docs(st.backend, top=3, ties="all", n_boot=200)
    dl, sc, has = _arrays()
    states = [v[1] if v[1] in ("none", "empty") else "card" for v in DATASETS.values()]
    assert (r.n_datasets, r.n_with_card, r.n_empty_card, r.n_no_card) == (
        18,
        states.count("card"),
        states.count("empty"),
        states.count("none"),
    )
    assert r.n_zero_downloads == 8 and r.n_compared == 18
    assert r.mean_score == pytest.approx(sc.mean())
    ref = sps.spearmanr(sc, dl)
    assert r.spearman.coef == pytest.approx(ref.statistic) and r.spearman.p == pytest.approx(ref.pvalue)
    assert r.spearman.ci[0] <= r.spearman.coef <= r.spearman.ci[1]
    assert r.spearman_with_card.coef == pytest.approx(sps.spearmanr(sc[has], dl[has]).statistic)
    masks = [v[1] for v in DATASETS.values() if v[1] not in ("none", "empty")]
    for j, s in enumerate(DATASET_SECTIONS):
        assert r.section_shares[s] == pytest.approx(np.mean([m[j] == "1" for m in masks]))
    bands = {b["band"]: b for b in r.bands}
    for name, lo, hi in (("0", 0, 1), ("1-9", 1, 10), ("10-99", 10, 100), ("100-999", 100, 1000)):
        m = (dl >= lo) & (dl < hi)
        assert bands[name]["n"] == int(m.sum())
        assert bands[name]["mean_card_score"] == pytest.approx(sc[m].mean(), rel=1e-5)  # 6 significant digits
        assert bands[name]["share_with_card"] == pytest.approx(has[m].mean(), rel=1e-5)
    # ties = all: the bottom group is every dataset with 0 downloads
    (c,) = r.comparisons
    top, bottom = sc[:3], sc[dl == 0]
    assert sorted(c.top_scores) == sorted(top) and sorted(c.bottom_scores) == sorted(bottom)
    assert c.welch.p == pytest.approx(sps.ttest_ind(top, bottom, equal_var=False, alternative="greater").pvalue)
    assert c.mann_whitney.p == pytest.approx(sps.mannwhitneyu(top, bottom, alternative="greater").pvalue)
    s = summarise(r, r.params)
    assert (
        s["rho"] == pytest.approx(ref.statistic)
        and s["n_per_group"] == 3
        and s["p_holm"] == pytest.approx(c.welch.p, rel=1e-5)
    )
    json.dumps(r.to_dict())


def test_zero_download_ties_are_drawn(st: Store) -> None:
    r = dataset_docs(st.backend, top=3, n_boot=100, draws=300)
    (c,) = r.comparisons
    dl, sc, _ = _arrays()
    zero = sc[dl == 0]
    assert (c.n_bottom, c.drawn_bottom, c.ties_at_bottom_cutoff, c.draws) == (3, 3, 8, 300)
    assert all(v in set(zero) for v in c.bottom_scores)
    # the median draw's statistics are those of its own groups
    top, bottom = np.array(c.top_scores), np.array(c.bottom_scores)
    assert c.welch.p == pytest.approx(sps.ttest_ind(top, bottom, equal_var=False, alternative="greater").pvalue)
    # 300 draws of 3 of the 8: the triples with the lowest (0,0,0) and highest (2,2,1) scores both come up
    srt = np.sort(zero)
    assert c.over_draws["bottom_mean"]["min"] == pytest.approx(srt[:3].mean(), rel=1e-5)  # 6 significant digits
    assert c.over_draws["bottom_mean"]["max"] == pytest.approx(srt[-3:].mean(), rel=1e-5)
    assert r.to_dict()["ties"]["draws_made"] == 300


def test_with_card_only(st: Store) -> None:
    r = dataset_docs(st.backend, top=2, n_boot=50, draws=10, with_card_only=True)
    dl, sc, has = _arrays()
    assert r.n_compared == int(has.sum())
    assert r.spearman.coef == pytest.approx(sps.spearmanr(sc[has], dl[has]).statistic)
    (c,) = r.comparisons
    assert c.group_means["no_card_share"] == (0.0, 0.0)


def test_not_measurable_without_a_listing_or_scores(store_path: Path, tmp_path: Path) -> None:
    s = build(store_path)
    with pytest.raises(NotMeasurable, match="cards score --scorer dataset-rules"):
        dataset_docs(s.backend)
    empty = Store(tmp_path / "e.duckdb")
    with pytest.raises(NotMeasurable, match="no complete hf-datasets snapshot"):
        dataset_docs(empty.backend)


REAL_LIKE = {
    "a/d01": "# Dataset Card\n\n## Dataset Description\n\nThis dataset contains 1,000 labelled tweets in English.\n\n"
    "## Dataset Structure\n\n### Data Fields\n\n- `text`: the tweet\n- `label`: 0 or 1\n\n"
    "## Additional Information\n\n### Licensing Information\n\nMIT\n",
    "b/z4": "# z4\n\nThis dataset contains a few short sentences for testing parsers.\n",
}


def test_cli_scores_dataset_cards_and_runs_the_metric(cli, store_path: Path) -> None:
    texts: dict[str, str | None] = {i: REAL_LIKE.get(i) for i in DATASETS}
    st = build(store_path, texts=texts)
    # a model snapshot with cards too: the dataset scorer's default is the hf-datasets snapshot all the same
    snap = Snapshot(SID_M, "hf", dt.date(2024, 1, 1), "hf-api", "m.jsonl", "f" * 64, 1, "test")
    st.add_batch(
        SnapshotBatch(
            snap,
            {
                "packages": to_table("packages", {"package_id": ["m/x"], "raw_id": ["m/x"], "downloads": [1]}, SID_M),
                "cards": to_table(
                    "cards",
                    {"package_id": ["m/x"], "text": ["# x\n"], "text_sha256": ["s"], "missing": [False]},
                    SID_M,
                ),
            },
        )
    )
    st.close()
    code, out, err = cli("cards", "score", "--scorer", "dataset-rules", "--store", store_path, "--json")
    assert code == 0, err
    run = json.loads(out)
    assert run["inputs"]["snapshot_id"] == SID and run["inputs"]["scorer_key"].startswith("dataset-rules-")
    code, out, err = cli("cards", "score", "--store", store_path, "--snapshot", SID)
    assert code == 1 and "--scorer dataset-rules" in err
    code, out, err = cli("metric", "dataset_docs", "--store", store_path, "--json", "--top", "3", "--draws", "20")
    assert code == 0, err
    d = json.loads(out)
    assert d["n_datasets"] == len(DATASETS) and d["n_with_card"] == 2
    assert d["inputs"]["scorer_key"] == run["inputs"]["scorer_key"]
    assert d["summary"]["n_per_group"] == 3 and d["comparisons"][0]["measure"] == "downloads"


def test_pipeline_scores_dataset_cards(store_path: Path) -> None:
    from ptmscope.pipeline import score_cards

    st = build(store_path, texts={i: REAL_LIKE.get(i) for i in DATASETS})
    score_cards(st)
    n = st.con.execute("SELECT count(*) FROM dataset_card_scores WHERE snapshot_id = ?", [SID]).fetchall()[0][0]
    assert n == len(DATASETS)


@pytest.mark.spark
@pytest.mark.slow
def test_same_results_on_spark(store_path: Path) -> None:
    import shutil

    pytest.importorskip("pyspark", reason="pyspark not installed (extra [spark])")
    if shutil.which("java") is None:
        pytest.skip("no Java runtime on PATH (Spark needs Java 17+)")
    from ptmscope.engine import connect

    s = build(store_path)
    score_snapshot(s, SID, FixedDatasetScorer())
    duck = dataset_docs(s.backend, top=3, n_boot=50, draws=20).to_dict()
    s.close()
    assert dataset_docs(connect(store_path, "spark"), top=3, n_boot=50, draws=20).to_dict() == duck
