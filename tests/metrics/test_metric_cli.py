"""``ptmscope metric ...`` through the CLI: small stores, figures, errors, real data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from metric_tables import add_snapshot

from ptmscope.store import Store
from realdata import shared_path


@pytest.fixture
def small_store(store_path: Path) -> Path:
    with Store(store_path) as s:
        add_snapshot(s, "pypi", "2022-01-01", {"package_id": ["a", "b", "c"], "downloads": [9, 8, 7]})
        add_snapshot(s, "pypi", "2022-02-01", {"package_id": ["a", "d", "c"], "downloads": [9, 8, 7]})
        add_snapshot(
            s,
            "hf",
            "2022-02-15",
            {"package_id": ["A", "a1", "a2", "B", "b1"], "downloads": [100, 10, 0, 50, 5]},
            libraries={
                "package_id": ["A", "A", "a1", "a1", "a2", "B", "B", "b1"],
                "library": [
                    "transformers",
                    "pytorch",
                    "transformers",
                    "pytorch",
                    "pytorch",
                    "transformers",
                    "tf",
                    "tf",
                ],
                "origin": ["tag"] * 8,
            },
            lineage={"child": ["a1", "a2", "b1"], "parent_id": ["A", "A", "B"]},
        )
    return store_path


def test_turnover_json_carries_inputs_and_numbers(cli, small_store):
    code, out, err = cli(
        "metric", "turnover", "--registry", "pypi", "--top", "2", "--sensitivity", "--json", "--store", small_store
    )
    assert code == 0, err
    d = json.loads(out)
    assert d["inputs"]["k"] == 2 and d["inputs"]["tie_rule"] == "id" and d["inputs"]["normalise"] is True
    assert len(d["inputs"]["snapshot_ids"]) == 2
    # T1={a,b}; T2={a,d}
    assert [(s["remained"], s["newcomers"], s["returning"]) for s in d["steps"]] == [(0, 2, 0), (1, 1, 0)]
    assert d["distinct_ever"] == 3
    assert [r["k"] for r in d["sensitivity"][0]["rows"]] == [100, 500, 1000, 5000]


def test_turnover_several_registries_and_figures(cli, small_store, tmp_path):
    for ext in ("svg", "png", "pdf"):
        plot = tmp_path / f"t.{ext}"
        code, out, err = cli(
            "metric",
            "turnover",
            "--registry",
            "pypi,hf",
            "--top",
            "2",
            "--no-sensitivity",
            "--plot",
            plot,
            "--store",
            small_store,
        )
        assert code == 0, err
        assert plot.stat().st_size > 1000
    assert (tmp_path / "t.svg").read_text().lstrip().startswith("<?xml")
    assert (tmp_path / "t.pdf").read_bytes()[:4] == b"%PDF"
    assert "pypi: top-2 per snapshot" in out and "hf: top-2 per snapshot" in out


def test_turnover_choices_come_from_the_library(cli, small_store):
    code, _, err = cli("metric", "turnover", "--ties", "random", "--store", small_store)
    assert code == 2 and "random" in err


def test_preservation_cli(cli, small_store, tmp_path):
    code, out, err = cli(
        "metric", "preservation", "--json", "--n-boot", "100", "--plot", tmp_path / "p.png", "--store", small_store
    )
    assert code == 0, err
    d = json.loads(out)
    libs = {r["library"]: r for r in d["libraries"]}
    # bases A {transformers, pytorch}, B {transformers, tf}, a1 {transformers, pytorch} (no children)
    assert (libs["transformers"]["numerator"], libs["transformers"]["denominator"]) == (1, 3)
    assert (libs["pytorch"]["numerator"], libs["pytorch"]["denominator"]) == (2, 2)
    assert (libs["tf"]["numerator"], libs["tf"]["denominator"]) == (1, 1)
    assert d["inputs"]["mode"] == "paper"
    code, out, _ = cli("metric", "preservation", "--mode", "artifact", "--json", "--store", small_store)
    art = {r["library"]: r for r in json.loads(out)["libraries"]}
    assert (art["transformers"]["numerator"], art["transformers"]["denominator"]) == (1, 1)  # only a1 has 2 libraries


def test_descendants_cli(cli, small_store, tmp_path):
    code, out, err = cli("metric", "descendants", "--json", "--n-boot", "0", "--store", small_store)
    assert code == 0, err
    d = json.loads(out)
    assert {b["base"]: (b["count"], b["popularity"]) for b in d["top_bases"]} == {"A": (2, 100), "B": (1, 50)}
    code, out, err = cli(
        "metric", "descendants", "--popularity", "descendants_sum", "--json", "--n-boot", "0", "--store", small_store
    )
    d = json.loads(out)
    assert {b["base"]: (b["count"], b["popularity"]) for b in d["top_bases"]} == {"A": (2, 10), "B": (1, 5)}
    assert d["inputs"]["popularity"] == "descendants_sum"


def test_pairs_errors_are_one_line(cli, tmp_path):
    bad = tmp_path / "pairs.csv"
    bad.write_text("downloads,count\n12,three\n")
    code, _out, err = cli("metric", "descendants", "--pairs", bad)
    assert code == 1
    assert f"{bad}:2 (column count): not a number" in err.replace("\n", "")


def test_missing_store_and_bad_snapshot(cli, tmp_path, small_store):
    code, _, err = cli("metric", "turnover", "--store", tmp_path / "absent.duckdb")
    assert code == 1 and "no store here" in err
    code, _, err = cli("metric", "turnover", "--snapshots", "nope", "--store", small_store)
    assert code == 1 and "no snapshot 'nope'" in err
    code, _, err = cli("metric", "preservation", "--snapshots", "a,b", "--store", small_store)
    assert code == 1 and "no snapshot 'a'" in err


# --- real data, end to end --------------------------------------------------------


@pytest.fixture(scope="module")
def real_store(tmp_path_factory) -> Path:
    dump = shared_path("hf", "2022-02_hub-dump", "model_infos.jsonl.gz")
    cards = shared_path("hf", "2022-02_hub-dump", "model_cards.jsonl.gz")
    pypi = shared_path("pypi", "top-pypi-packages")
    from ptmscope.cli import main

    path = tmp_path_factory.mktemp("real") / "store.duckdb"
    assert main(["ingest", str(dump), "--cards", str(cards), "--store", str(path)]) == 0
    for f in ("2022-11-01_top-pypi-packages-30-days.json.gz", "2023-08-01_top-pypi-packages-30-days.json.gz"):
        assert main(["ingest", str(pypi / f), "--store", str(path)]) == 0
    return path


@pytest.mark.realdata
def test_real_turnover_pypi(cli, real_store):
    code, out, err = cli(
        "metric", "turnover", "--registry", "pypi", "--json", "--no-sensitivity", "--store", real_store
    )
    assert code == 0, err
    d = json.loads(out)
    s = d["steps"][1]
    assert s["remained"] + s["newcomers"] + s["returning"] == 1000
    assert 1000 < d["distinct_ever"] < 2000


@pytest.mark.realdata
def test_real_preservation_and_descendants(cli, real_store, tmp_path):
    code, out, err = cli("metric", "preservation", "--json", "--n-boot", "50", "--store", real_store)
    assert code == 0, err
    libs = {r["library"]: r for r in json.loads(out)["libraries"]}
    assert libs["transformers"]["denominator"] > 1000
    assert 0.9 < libs["transformers"]["rate"] <= 1.0
    code, out, err = cli(
        "metric", "descendants", "--json", "--n-boot", "50", "--plot", tmp_path / "d.svg", "--store", real_store
    )
    assert code == 0, err
    d = json.loads(out)
    assert d["n_bases"] > 100 and d["fit"]["n"] > 100
    assert d["spearman"]["coef"] > 0


@pytest.mark.realdata
def test_real_paper_pairs_via_cli(cli, tmp_path):
    pairs = shared_path("hf", "esem24-artifact", "number_of_direct_descendant_models_per_download.csv")
    code, out, err = cli(
        "metric",
        "descendants",
        "--pairs",
        pairs,
        "--mode",
        "artifact",
        "--json",
        "--n-boot",
        "0",
        "--plot",
        tmp_path / "f7.pdf",
    )
    assert code == 0, err
    d = json.loads(out)
    assert d["n_bases"] == 3471 and d["dropped_duplicates"] > 0
    assert 0.1 < d["fit"]["slope"] < 0.2


def test_turnover_registry_follows_the_named_snapshots(cli, small_store):
    ids = json.loads(cli("snapshots", "--registry", "pypi", "--json", "--store", small_store)[1])["snapshots"]
    pypi_ids = ",".join(s["snapshot_id"] for s in ids)
    # no --registry: taken from the snapshots (it used to default to hf and refuse them)
    code, out, err = cli(
        "metric",
        "turnover",
        "--snapshots",
        pypi_ids,
        "--top",
        "2",
        "--no-sensitivity",
        "--json",
        "--store",
        small_store,
    )
    assert code == 0, err
    assert json.loads(out)["inputs"]["registry"] == "pypi"
    # several registries: each must be named by --snapshots (hf used to fall back silently to all its snapshots)
    code, _, err = cli("metric", "turnover", "--registry", "pypi,hf", "--snapshots", pypi_ids, "--store", small_store)
    assert code == 1 and "names no hf snapshot" in err
    code, _, err = cli("metric", "turnover", "--registry", "hf", "--snapshots", pypi_ids, "--store", small_store)
    assert code == 1 and "is from registry 'pypi', not hf" in err


def test_a_named_snapshot_without_lineage_is_an_error_not_an_empty_result(cli, small_store):
    from metric_tables import add_snapshot

    with Store(small_store) as s:
        sid = add_snapshot(s, "hf", "2022-06-15", {"package_id": ["x", "y"], "downloads": [3, 2]})
    for metric in ("descendants", "preservation"):
        code, out, err = cli("metric", metric, "--snapshots", sid, "--store", small_store)
        assert code == 1 and out == ""
        assert f"snapshot '{sid}' has no rows in table 'lineage'" in err
