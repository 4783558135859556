"""`ptmscope run CONFIG` (ingest + skip + report) and `ptmscope demo`."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from ptmscope.errors import InputError
from ptmscope.pipeline import load_config


def _pypi(path: Path, date: str, names: list[str]) -> Path:
    rows = [{"download_count": 1000 - i, "project": n} for i, n in enumerate(names)]
    data = {"last_update": f"{date} 09:00:00", "rows": rows}
    with gzip.open(path, "wt", encoding="utf-8") as f:
        json.dump(data, f)
    return path


def test_run_ingests_then_skips(tmp_path, cli):
    d = tmp_path / "data"
    d.mkdir()
    a = _pypi(d / "2022-01-01_top-pypi-packages-30-days.json.gz", "2022-01-01", [f"p{i}" for i in range(30)])
    b = _pypi(d / "2022-02-01_top-pypi-packages-30-days.json.gz", "2022-02-01", [f"p{i}" for i in range(5, 35)])
    hf = d / "hub.csv"
    hf.write_text("modelId,downloads\n" + "".join(f"org{i % 7}/m{i},{1000 - i}\n" for i in range(40)), encoding="utf-8")
    cfg = tmp_path / "conf" / "run.toml"
    cfg.parent.mkdir()
    cfg.write_text(
        'base_dir = ".."\nstore = "s.duckdb"\n'
        f'[[sources]]\npath = "data/{a.name}"\n[[sources]]\npath = "data/{b.name}"\n'
        '[[sources]]\npath = "data/hub.csv"\nformat = "hf-listing"\ndate = "2022-02-01"\n'
        '[metrics.turnover]\ntop = 10\n[report]\nout = "rep"\n',
        encoding="utf-8",
    )
    code, _out, err = cli("run", cfg)
    assert code == 0, err
    assert "ingest" in err and (tmp_path / "rep" / "index.html").exists()
    r = json.loads((tmp_path / "rep" / "results.json").read_text())
    assert len([s for s in r["snapshots"] if s["registry"] == "pypi"]) == 2
    # one hf listing without creation dates: growth is not measurable and the report says why
    assert r["metrics"]["growth"]["status"] == "not measurable" and r["metrics"]["growth"]["reason"]
    # one Hub snapshot: PyPI turnover is still measured and reported; the Hub claim says why it stays open
    t = r["metrics"]["turnover"]
    assert t["status"] == "ok", t
    pypi = t["result"]["summary"]["by_registry"]["pypi"]
    # top 10: p0..p9, then p5..p14: 5 of 10 left over the 31 days from 2022-01-01 to 2022-02-01
    assert pypi["turnover_shares"] == [0.5] and pypi["median_gap_days"] == 31
    assert pypi["median_turnover_per_year"] == pytest.approx(1 - 0.5 ** (365.25 / 31))
    (v,) = [v for c in r["claims"] for v in c["verdicts"] if v["rule"] == "H2-turnover"]
    assert v["verdict"] == "inconclusive" and "the Hub claim needs at least two comparable steps" in v["reason"]
    md = (tmp_path / "rep" / "report.md").read_text(encoding="utf-8")
    assert "Turnover by registry" in md and "| pypi | 2 \\(2022-01-01 to 2022-02-01\\) | 1 / 1 | 31 | 0.500 |" in md
    code, _out, err = cli("run", cfg)
    assert code == 0, err
    assert err.count("skip") == 3 and "ingest " not in err


def test_run_refuses_a_store_without_hub_data(tmp_path, cli):
    a = _pypi(tmp_path / "2022-01-01_top-pypi-packages-30-days.json.gz", "2022-01-01", ["a", "b"])
    cfg = tmp_path / "run.toml"
    cfg.write_text(f'store = "s.duckdb"\n[[sources]]\npath = "{a.name}"\n[report]\nout = "rep"\n', encoding="utf-8")
    code, _out, err = cli("run", cfg)
    assert code == 1 and "no Hugging Face snapshot" in err and "pypi" in err
    assert len(err.strip().splitlines()) <= 3 and "Traceback" not in err
    assert not (tmp_path / "rep" / "index.html").exists()


def test_run_config_that_is_a_folder_or_not_toml(tmp_path, cli):
    code, _out, err = cli("run", tmp_path)
    assert code == 1 and "is a folder" in err and "Traceback" not in err
    p = tmp_path / "c.toml"
    p.write_text('sources = "x"\n', encoding="utf-8")
    code, _out, err = cli("run", p)
    assert code == 1 and "c.toml:1: sources: expected a list" in err  # one line with file and line


def test_report_out_that_cannot_be_a_folder(tmp_path, cli, world_store):
    f = tmp_path / "a-file"
    f.write_text("x", encoding="utf-8")
    for target in (f, f / "sub"):
        code, _out, err = cli("report", "--store", world_store, "--out", target, "--no-score-cards")
        assert code == 1 and "cannot write the report" in err and "Traceback" not in err, err


def test_config_errors_name_the_file(tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text('[metrics]\ninclude = ["nope"]\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"bad.toml.*unknown metric"):
        load_config(p)
    p.write_text('colour = "red"\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"bad.toml:1: colour: unknown key"):
        load_config(p)


def test_missing_source_is_one_clear_error(tmp_path, cli):
    cfg = tmp_path / "run.toml"
    cfg.write_text('store = "s.duckdb"\n[[sources]]\npath = "absent.json.gz"\n', encoding="utf-8")
    code, _out, err = cli("run", cfg)
    assert code == 1 and "absent.json.gz" in err and "not found" in err
    assert not (tmp_path / "s.duckdb").exists()  # checked before the store is created


def test_broken_rules_file_fails_before_the_store_is_touched(tmp_path, cli):
    a = _pypi(tmp_path / "2022-01-01_top-pypi-packages-30-days.json.gz", "2022-01-01", ["a", "b"])
    (tmp_path / "my-rules.toml").write_text("schema_version = 1\n[[rules]\n", encoding="utf-8")
    cfg = tmp_path / "run.toml"
    cfg.write_text(f'store = "s.duckdb"\nrules = "my-rules.toml"\n[[sources]]\npath = "{a.name}"\n', encoding="utf-8")
    code, _out, err = cli("run", cfg)
    assert code == 1 and "my-rules.toml:2" in err
    assert not (tmp_path / "s.duckdb").exists()


def test_example_config_points_at_shared_data():
    cfg = load_config(Path(__file__).resolve().parents[2] / "examples" / "real-data.toml")
    assert cfg.sources
    for s in cfg.sources:
        assert "/shared/data/" in s.path.as_posix()  # read in place, never copied into the repo
    assert cfg.out.name == "report-real" and cfg.out.parent.name == "out"


@pytest.mark.slow
def test_demo(tmp_path, cli):
    code, out, err = cli("demo", "--out", tmp_path / "demo", "--models", "400")
    assert code == 0, err
    assert "SYNTHETIC" in out and "index.html" in out
    r = json.loads((tmp_path / "demo" / "report" / "results.json").read_text())
    assert r["synthetic"] is True
    assert all(s["synthetic"] for s in r["snapshots"])
    assert sum(m["status"] == "ok" for m in r["metrics"].values()) >= 6


def test_numerical_warnings_kept_library_deprecations_dropped(monkeypatch):
    import warnings

    from ptmscope import pipeline
    from ptmscope.metrics import registry

    def fake(ctx, params):
        warnings.warn("x is deprecated", DeprecationWarning, stacklevel=2)
        warnings.warn("option goes away", FutureWarning, stacklevel=2)
        warnings.warn("invalid value encountered in divide", RuntimeWarning, stacklevel=2)
        return {"metric": "fake"}

    monkeypatch.setitem(
        registry._METRICS, "fake", registry.Metric(name="fake", title="fake", params=registry.Params, compute=fake)
    )
    out = pipeline.compute_metrics(None, include=["fake"])
    assert out["fake"].data["runtime_warnings"] == ["RuntimeWarning: invalid value encountered in divide"]
