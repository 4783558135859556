"""``ptmscope reproduce esem24``: file choice, a synthetic layout, and the real data."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest

from ptmscope.reproduce import PAPER_DATES, nearest_files
from realdata import shared_path


def write_pypi(d: Path, date: str, names: list[str]) -> str:
    name = f"{date}_top-pypi-packages-30-days.json.gz"
    rows = [{"download_count": 1000 - i, "project": n} for i, n in enumerate(names)]
    with gzip.open(d / name, "wt") as fh:
        json.dump({"last_update": f"{date} 00:00:00", "rows": rows}, fh)
    return name


@pytest.fixture
def layout(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    pypi = data / "pypi" / "top-pypi-packages"
    pypi.mkdir(parents=True)
    lines = ["snapshot_date,file,commit,source_path,last_update,backend,window,n_rows"]
    sets = {
        "2022-11-01": ["a", "b"],
        "2023-01-01": ["x", "y"],  # not near any paper date: never used
        "2023-08-01": ["a", "c"],
        "2023-10-01": ["b", "c"],
        "2024-03-01": ["a", "b"],
    }
    for date, names in sets.items():
        f = write_pypi(pypi, date, names)
        lines.append(f"{date},{f},0,x,,BigQuery,30d,{len(names)}")
    (pypi / "snapshots.csv").write_text("\n".join(lines) + "\n")
    art = data / "hf" / "esem24-artifact"
    art.mkdir(parents=True)
    (art / "number_of_direct_descendant_models_per_download.csv").write_text(
        "downloads,count\n10,1\n10,1\n100,10\n1000,100\n0,2\n"
    )
    return data


def test_nearest_files_pick_one_per_paper_date(layout):
    got = nearest_files(layout / "pypi" / "top-pypi-packages", "snapshot_date", PAPER_DATES)
    assert [d.isoformat() for d, _ in got] == ["2022-11-01", "2023-08-01", "2023-10-01", "2024-03-01"]
    assert nearest_files(layout / "nothing-here", "snapshot_date", PAPER_DATES) == []


def test_synthetic_layout_end_to_end(cli, layout, tmp_path):
    out = tmp_path / "out"
    code, stdout, err = cli(
        "reproduce", "esem24", "--data", layout, "--out", out, "--n-boot", "20", "--json", "--no-figures"
    )
    assert code == 0, err
    rep = json.loads(stdout)
    rows = {r["metric"]: r for r in rep["rows"]}
    # K = 1000 over lists of two: T = {a,b}, {a,c}, {b,c}, {a,b}: distinct a, b, c
    assert rows["pypi top-1000 distinct ever over 4 snapshots"]["ours"] == "3"
    assert rows["pypi top-1000 distinct ever over 4 snapshots"]["paper"] == "1,429"
    steps = rows["pypi top-1000 per step (Remained / Newcomers / Returning)"]["ours"]
    assert steps == "2023-08-01: R 1 N 1 Ret 0; 2023-10-01: R 1 N 0 Ret 1; 2024-03-01: R 1 N 0 Ret 1"
    art = rows["Fig. 7 log-log slope, artifact fit (dedupe pairs, log10(x+1e-5))"]
    assert art["comparable"] == "yes" and "n=4" in art["ours"]  # one duplicate dropped
    assert any("npm" in m for m in rep["missing"]) and any("2022-02_hub-dump" in m for m in rep["missing"])
    assert any("fewer than K=1000" in w for w in rep["warnings"])
    md = (out / "esem24.md").read_text()
    assert md.count("\n| ") >= 4 and "| metric | paper | ours |" in md


def test_not_a_directory(cli, tmp_path):
    code, _, err = cli("reproduce", "esem24", "--data", tmp_path / "absent", "--out", tmp_path / "o")
    assert code == 1 and "not a directory" in err


@pytest.mark.realdata
@pytest.mark.slow
def test_real_data_reproduction(cli, tmp_path):
    data = shared_path()
    shared_path("hf", "2022-02_hub-dump", "model_infos.jsonl.gz")
    out = tmp_path / "out"
    code, stdout, err = cli(
        "reproduce", "esem24", "--data", data, "--out", out, "--n-boot", "50", "--json", "--no-figures"
    )
    assert code == 0, err
    rep = json.loads(stdout)
    rows = {r["metric"]: r for r in rep["rows"]}
    npm_row = rows["npm top-1000 distinct ever over 4 snapshots"]
    pypi_row = rows["pypi top-1000 distinct ever over 4 snapshots"]
    # oracle: the union of the top 1000 of the four files the row names, recomputed from the raw files
    pypi_files = re.findall(r"\S+_top-pypi-packages-30-days\.json\.gz", pypi_row["data"])
    npm_files = re.findall(r"\d+\.\d+\.\d+_top-download\.js\.gz", npm_row["data"])
    assert len(pypi_files) == len(npm_files) == 4
    pypi_union: set[str] = set()
    for f in pypi_files:
        with gzip.open(data / "pypi" / "top-pypi-packages" / f, "rt") as fh:
            top = sorted(json.load(fh)["rows"], key=lambda r: -r["download_count"])
        # the 1000th and 1001st differ on these dates, so ties at K do not matter here
        assert top[999]["download_count"] > top[1000]["download_count"]
        pypi_union |= {re.sub(r"[-_.]+", "-", r["project"]).lower() for r in top[:1000]}
    npm_union: set[str] = set()
    for f in npm_files:
        with gzip.open(data / "npm" / "npm-high-impact" / f, "rt") as fh:
            names = re.findall(r"'([^']+)'|\"([^\"]+)\"", fh.read())
        npm_union |= {(a or b).lower() for a, b in names[:1000]}
    assert int(pypi_row["ours"].replace(",", "")) == len(pypi_union)
    assert int(npm_row["ours"].replace(",", "")) == len(npm_union)
    hf = rows["HF top-1000 distinct ever"]
    assert hf["comparable"] == "no" and "hf-2022-06" in hf["why"]  # the partial 2022-06 listing is flagged
    assert any("partial listing" in w for w in rep["warnings"])
    slope = float(rows["Fig. 7 log-log slope, artifact fit (dedupe pairs, log10(x+1e-5))"]["ours"].split()[1])
    assert 0.1 < slope < 0.2
    assert (out / "esem24.md").is_file() and (out / "esem24.json").is_file()


def test_hub_dump_without_cards_skips_c1_and_says_why(cli, layout, tmp_path):
    dump = layout / "hf" / "2022-02_hub-dump"
    dump.mkdir(parents=True)
    recs = [
        {"modelId": f"m/{i}", "lastModified": "2022-02-15T00:00:00Z", "downloads": i, "tags": ["pytorch"]}
        for i in range(5)
    ]
    with gzip.open(dump / "model_infos.jsonl.gz", "wt") as fh:
        fh.write("\n".join(json.dumps(r) for r in recs) + "\n")
    out = tmp_path / "out"
    code, stdout, err = cli(
        "reproduce", "esem24", "--data", layout, "--out", out, "--n-boot", "0", "--json", "--no-figures"
    )
    assert code == 0, err
    rep = json.loads(stdout)
    assert any("model_cards.jsonl.gz (C1 and descendants need the lineage" in m for m in rep["missing"])
    assert not any(r["metric"].startswith("C1") for r in rep["rows"])
