"""pickle_only (the proxy for T3.4) on a store built by hand: classes of repositories, descendants
vs their bases, the snapshot chosen, and commit histories, all counted by hand."""

from __future__ import annotations

import json

import pytest
from hand_store import build, utc

from ptmscope.engine import connect
from ptmscope.metrics.pickle_only import PickleOnlyParams, _cluster_ci, pickle_only, summarise

FILES = {
    "base/st": ["model.safetensors", "pytorch_model.bin", "config.json"],  # safetensors
    "base/pk": ["pytorch_model.bin", "training_args.bin"],  # pickle-only
    "kid/1": ["pytorch_model.bin", "training_args.bin"],  # pickle-only, base has safetensors: introduced
    "kid/2": ["model.safetensors"],
    "kid/3": ["tf_model.h5"],  # Keras HDF5 counts with the pickle-based formats
    "kid/4": ["adapter_model.safetensors"],  # base pickle-only, child not: removed
    "kid/5": ["model.gguf"],  # another format: not pickle-only
    "kid/6": ["training_args.bin", "optimizer.pt", "README.md"],  # training state only: no weights
    "kid/8": ["sub/pytorch_model.bin"],  # introduced
    "solo/1": ["model.onnx"],
    "solo/2": ["last.ckpt"],
}
EDGES = [
    ("kid/1", "base/st"),
    ("kid/2", "base/st"),
    ("kid/5", "base/st"),
    ("kid/6", "base/st"),
    ("kid/8", "base/st"),
    ("kid/3", "base/pk"),
    ("kid/4", "base/pk"),
]


def _files(files: dict[str, list[str]]) -> dict[str, list]:
    return {
        "package_id": [p for p, fs in files.items() for _ in fs],
        "path": [f for fs in files.values() for f in fs],
    }


def make_store(path):
    """The hand-built store of this module's tests (also used by the Spark parity test)."""
    lineage = {
        "child": [c for c, _ in EDGES] + ["kid/7"],
        "parent_id": [p for _, p in EDGES] + [None],
        "parent_ref": [p for _, p in EDGES] + ["gone/x"],
    }
    old = {f"o/{i}": ["pytorch_model.bin"] for i in range(10)}
    commits = {
        "package_id": ["base/st", "base/st", "kid/1", "KID/3", "other/repo", "other/two", "other/three"],
        "commit_id": ["c1", "c2", "c3", "c4", "c5", "c6", "c7"],
        "committed_at": [
            utc(2022, 1, 3),
            utc(2023, 3, 3),
            utc(2022, 6, 3),
            utc(2022, 7, 3),
            utc(2021, 5, 3),
            utc(2021, 6, 3),
            utc(2021, 7, 3),
        ],
        "files": [
            ["pytorch_model.bin"],
            ["model.safetensors"],
            ["pytorch_model.bin"],
            ["tf_model.h5"],
            ["model.ckpt"],
            ["model.onnx"],
            ["checkpoint-5/training_args.bin"],  # labelled torch.save, but training state, not weights
        ],
        "formats": [["torch.save"], ["safetensors"], ["torch.save"], ["h5/hdf5"], [None], ["ONNX"], ["torch.save"]],
    }
    build(
        path,
        [
            (
                "hf",
                "2025-04-26",
                {
                    "packages": {"package_id": [*FILES, "kid/7"]},
                    "package_files": _files(FILES),
                    "lineage": lineage,
                },
            ),
            # more edges, but before safetensors existed: tabulated, not the snapshot the verdict reads
            (
                "hf",
                "2022-02-15",
                {
                    "packages": {"package_id": list(old)},
                    "package_files": _files(old),
                    "lineage": {"child": [f"o/{i}" for i in range(1, 10)], "parent_id": ["o/0"] * 9},
                },
            ),
            (
                "hf",
                "2024-09-25",
                {"packages": {"package_id": sorted(set(commits["package_id"]))}, "commits": commits},
            ),
        ],
    )
    return path


@pytest.fixture
def store(tmp_path):
    return make_store(tmp_path / "p.duckdb")


def test_file_lists_by_hand(store):
    res = pickle_only(connect(store), params=PickleOnlyParams(n_boot=0))
    f = res.files
    assert f["snapshot_id"].startswith("hf-2025-04-26")
    b = next(x for x in f["by_snapshot"] if x["snapshot_id"] == f["snapshot_id"])
    assert (b["models_with_weights"], b["n_pickle_only"], b["safetensors"], b["other_formats_only"]) == (10, 5, 3, 2)
    # edges with weights at both ends: kid/1, 2, 5, 8 of base/st; kid/3, 4 of base/pk (kid/6 has none)
    assert b["edges"] == 6
    assert b["desc_share"] == pytest.approx(3 / 6) and b["base_share"] == pytest.approx(2 / 6)
    assert b["diff"] == pytest.approx(1 / 6)
    assert (b["introduced"], b["removed"]) == (2, 1)
    assert (b["bases"], b["bases_pickle_only"]) == (2, 1)
    # not descendants: base/st, base/pk, solo/1, solo/2 -> 2 of 4 pickle-only
    assert (b["non_descendants"], b["non_descendants_share"]) == (4, 0.5)
    old = next(x for x in f["by_snapshot"] if x["snapshot_id"].startswith("hf-2022-02-15"))
    assert old["edges"] == 9 and old["any_safetensors"] is False and old["diff"] == 0


def test_commit_histories_by_hand(store):
    res = pickle_only(connect(store), params=PickleOnlyParams(n_boot=0))
    c = res.commits
    assert c["snapshot_id"].startswith("hf-2024-09-25")
    # other/two has only an ONNX commit, other/three only training state: neither counts
    assert (c["repos"], c["n_pickle_only"]) == (4, 3)
    roles = {r["role"]: (r["repos"], r["n_pickle_only"]) for r in c["by_role"]}
    # KID/3 matches the lineage child kid/3 whatever the case
    assert roles == {"base": (1, 0), "descendant": (2, 2), "no lineage known": (1, 1)}
    adoption = {r["month"]: (r["repos"], r["with_safetensors"]) for r in c["adoption"]}
    assert adoption == {"2021-05": (1, 0), "2022-01": (2, 0), "2022-06": (3, 0), "2022-07": (4, 0), "2023-03": (4, 1)}
    assert c["adoption"][-1]["share_pickle_only"] == 0.75


def test_summary_says_proxy_and_reads_the_primary_snapshot(store):
    p = PickleOnlyParams(n_boot=300)
    res = pickle_only(connect(store), params=p)
    s = summarise(res, p)
    assert s["proxy"] is True and "not in registry data" in s["not_measurable"]
    assert s["n_edges"] == 6 and s["diff"] == pytest.approx(1 / 6)
    assert s["diff_ci_low"] <= s["diff"] <= s["diff_ci_high"]
    assert s["commits_descendants_repos"] == 2 and s["commits_descendants_share_pickle_only"] == 1.0
    assert "CVE severity is not measurable" in res.caption_note


def test_without_commits_the_file_lists_still_answer(tmp_path):
    path = tmp_path / "f.duckdb"
    lineage = {"child": [c for c, _ in EDGES], "parent_id": [p for _, p in EDGES]}
    build(
        path,
        [
            (
                "hf",
                "2025-04-26",
                {"packages": {"package_id": list(FILES)}, "package_files": _files(FILES), "lineage": lineage},
            )
        ],
    )
    res = pickle_only(connect(path), params=PickleOnlyParams(n_boot=0))
    assert res.files["snapshot_id"] and res.commits is None
    assert res.notes == ["commit histories not measurable: no complete hf snapshot has rows in table 'commits'"]


def test_cluster_bootstrap_resamples_parents():
    import pandas as pd

    # two parents: one with 3 children all pickle-only (parent not), one with 1 child not (parent pickle-only)
    prof = pd.DataFrame({"n": [3, 1], "k": [3, 0], "ppo": [0, 1], "count": [1, 1]})
    desc_ci, diff_ci = _cluster_ci(prof, 4000, 0)
    # resampling two clusters: the replicates are {both A, A+B, both B}; desc share 1, 3/4, 0; diff 1, 1/2, -1
    assert desc_ci == pytest.approx([0.0, 1.0]) and diff_ci == pytest.approx([-1.0, 1.0])


def test_cli_json_plot_and_report_caption(cli, store, tmp_path):
    code, out, err = cli(
        "metric", "pickle_only", "--n-boot", "50", "--json", "--plot", tmp_path / "p.png", "--store", store
    )
    assert code == 0, err
    d = json.loads(out)
    assert d["summary"]["n_edges"] == 6
    assert (tmp_path / "p.png").read_bytes()[:4] == b"\x89PNG"
    from ptmscope.report.builder import figure_caption

    cap = figure_caption(3, "pickle_only", {"metrics": {"pickle_only": {"result": d}}, "metric_names": {}})
    assert cap.startswith("Figure 3: pickle_only (snapshot hf-2025-04-26")
    assert "6 lineage edges" in cap and cap.endswith(
        "CVE severity is not measurable from registry data; shown is "
        "whether weights exist only in pickle-based formats."
    )
