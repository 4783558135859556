"""C3 and dataset documentation on the real data (../shared/data), through ``ptmscope metric NAME --json``.

Expected counts come from the raw files, read here independently of the importers and the metrics.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from scipy import stats as sps

from realdata import shared_path

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def files() -> dict[str, Path]:
    return {
        "dump": shared_path("hf", "2022-02_hub-dump", "model_infos.jsonl.gz"),
        "cards": shared_path("hf", "2022-02_hub-dump", "model_cards.jsonl.gz"),
        "mapping": shared_path("hf", "2023_peatmoss-artifact", "gh_repo_to_hf_model_license_mapping.csv"),
        "datasets": shared_path("hf", "2023-03_dataset-cards", "dataset_info.parquet"),
        "dataset_cards": shared_path("hf", "2023-03_dataset-cards", "dataset_cards.jsonl.gz"),
    }


@pytest.fixture(scope="module")
def store(files: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    from ptmscope.cli import main

    path = tmp_path_factory.mktemp("c3real") / "store.duckdb"
    s = str(path)
    assert main(["ingest", str(files["dump"]), "--cards", str(files["cards"]), "--store", s]) == 0
    assert (
        main(["ingest", str(files["mapping"]), "--format", "gh-dependents", "--date", "2023-08-01", "--store", s]) == 0
    )
    assert main(["ingest", str(files["datasets"]), "--cards", str(files["dataset_cards"]), "--store", s]) == 0
    assert main(["cards", "score", "--store", s]) == 0
    assert main(["cards", "score", "--scorer", "dataset-rules", "--store", s]) == 0
    return path


def _dump(path: Path) -> dict[str, tuple[int | None, int | None]]:
    out = {}
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            out[r["modelId"]] = (r.get("downloads"), r.get("likes"))
    return out


def test_c3_top_15000_population_and_three_measures(cli, store: Path, files: dict[str, Path]) -> None:
    code, out, err = cli("metric", "docs", "--json", "--store", store)
    assert code == 0, err
    d = json.loads(out)
    models = _dump(files["dump"])
    dl = np.array(sorted((v[0] for v in models.values() if v[0] is not None), reverse=True))
    cut = dl[15000 - 1]
    pop = d["population"]
    assert pop["n_models"] == 15000 and pop["cutoff_downloads"] == cut
    assert pop["n_above_cutoff"] == int((dl > cut).sum()) and pop["n_tied_at_cutoff"] == int((dl == cut).sum())
    assert pop["n_over_50_downloads"] == min(15000, int((dl > 50).sum()))
    assert pop["n_eligible"] == dl.size
    # the paper's three ways, each top-N vs bottom-N within the population
    assert [c["measure"] for c in d["comparisons"]] == ["downloads", "likes", "dependents"]
    assert d["ties"]["rule"] == "draw" and d["ties"]["draws_made"] == 200
    # the mapping's ids against the dump's: equal, or equal ignoring case (the 2023 mapping uses the 2022 names)
    mapped = {line.split(",")[1].strip() for line in files["mapping"].read_text(encoding="utf-8").splitlines()}
    lower = {m.lower() for m in mapped}
    exact = {m for m in models if m in mapped}
    by_case = {m for m in models if m not in mapped and m.lower() in lower}
    dep = d["dependents"]
    assert dep["snapshot_models_matched_by_id"] == len(exact)
    assert dep["snapshot_models_matched_by_case"] == len(by_case)
    assert dep["n_mapped_models"] == len(mapped)
    sure = sum(1 for m in exact | by_case if (models[m][0] or 0) > cut)
    at_cut = sum(1 for m in exact | by_case if models[m][0] == cut)
    with_dep = dep["population_models_with_dependents"]
    assert sure <= with_dep["min"] <= with_dep["max"] <= sure + at_cut
    dependents = next(c for c in d["comparisons"] if c["measure"] == "dependents")
    assert dependents["n_top"] == dependents["n_bottom"] == min(1000, int(with_dep["min"]))
    # the paper's finding (§5.5.2, Figure 8): the top models are better documented, p < 0.01
    assert d["summary"]["p_holm"] < 0.01


def test_c3_whole_snapshot_variant(cli, store: Path, files: dict[str, Path]) -> None:
    code, out, err = cli(
        "metric", "docs", "--population", "snapshot", "--by", "likes", "--draws", "20", "--json", "--store", store
    )
    assert code == 0, err
    d = json.loads(out)
    models = _dump(files["dump"])
    assert d["population"]["n_models"] == len(models)
    (likes,) = d["comparisons"]
    zero_likes = sum(1 for v in models.values() if v[1] == 0)
    assert likes["ties_at_bottom_cutoff"] == zero_likes and likes["drawn_bottom"] == 1000
    assert likes["over_draws"]["bottom_mean"]["min"] < likes["over_draws"]["bottom_mean"]["max"]


def test_dataset_docs(cli, store: Path, files: dict[str, Path]) -> None:
    code, out, err = cli("metric", "dataset_docs", "--json", "--store", store)
    assert code == 0, err
    d = json.loads(out)
    info = pq.read_table(files["datasets"]).to_pandas()
    assert d["n_datasets"] == len(info)
    assert d["n_zero_downloads"] == int((info["downloads"] == 0).sum())
    assert d["n_no_card"] == int((~info["has_card"].astype(bool)).sum())
    assert d["n_empty_card"] == int((info["has_card"].astype(bool) & ~info["has_nonempty_card"].astype(bool)).sum())
    with gzip.open(files["dataset_cards"], "rt", encoding="utf-8") as f:
        assert d["n_with_card"] == sum(1 for _ in f)
    (c,) = d["comparisons"]
    assert c["ties_at_bottom_cutoff"] == int((info["downloads"] == 0).sum()) and c["drawn_bottom"] == 1000
    # Spearman recomputed from the stored section scores and the listing's own download counts
    from ptmscope.store import Store

    with Store(store, read_only=True) as st:
        rows = st.con.execute("SELECT package_id, score FROM dataset_card_scores").fetchall()
    score = dict(rows)
    x = np.array([score[n] for n in info["dataset_name"]], dtype=float)
    ref = sps.spearmanr(x, info["downloads"].to_numpy(dtype=float))
    assert d["spearman"]["coef"] == pytest.approx(ref.statistic)
    assert d["summary"]["rho"] == pytest.approx(ref.statistic)
