"""The synthetic world: determinism, labelling, schema, the fitted marginal, churn, lineage, writers."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ptmscope.schema import DATA_TABLES
from ptmscope.store import Store
from ptmscope.synth import (
    FIT,
    HubWorld,
    SynthConfig,
    downloads_quantile,
    generate,
    solve_rho,
    topk_remained,
    write_files,
    write_store,
)

TINY = SynthConfig(models=300, snapshots=3, seed=7, top_list_size=200, turnover_k=50)


@pytest.fixture(scope="module")
def tiny_batches():
    return list(generate(TINY))


def test_same_seed_same_bytes_other_seed_other_data(tiny_batches):
    again = list(generate(TINY))
    assert [b.snapshot for b in again] == [b.snapshot for b in tiny_batches]
    for a, b in zip(tiny_batches, again, strict=False):
        assert a.tables.keys() == b.tables.keys()
        for name in a.tables:
            assert a.tables[name].equals(b.tables[name]), name
    other = next(generate(SynthConfig(models=300, snapshots=3, seed=8, top_list_size=200)))
    assert not other.tables["packages"].equals(tiny_batches[0].tables["packages"])
    assert other.snapshot.snapshot_id != tiny_batches[0].snapshot.snapshot_id


def test_labelled_synthetic_everywhere(tiny_batches):
    for b in tiny_batches:
        s = b.snapshot
        assert s.synthetic is True
        assert s.source_format == "synthetic"
        assert s.notes.startswith("SYNTHETIC")
        assert json.loads(s.manifest)["config"]["seed"] == 7
        ids = b.tables["packages"].column("package_id").to_pylist()
        assert all("synthetic" in i for i in ids)
        for name in ("package_libraries", "lineage"):
            if name in b.tables:
                assert set(b.tables[name].column("origin").to_pylist()) == {"synthetic"}
        if "cards" in b.tables:
            assert all("SYNTHETIC model card" in t for t in b.tables["cards"].column("text").to_pylist())


def test_tables_have_the_canonical_schemas_and_counts(tiny_batches):
    regs = [b.snapshot.registry for b in tiny_batches]
    assert regs.count("hf") == regs.count("npm") == regs.count("pypi") == 3
    for b in tiny_batches:
        for name, t in b.tables.items():
            assert t.schema.equals(DATA_TABLES[name]), name
            assert set(t.column("snapshot_id").to_pylist()) == {b.snapshot.snapshot_id}
        pk = b.tables["packages"]
        want = 300 if b.snapshot.registry == "hf" else 200
        assert pk.num_rows == b.snapshot.row_count == want
        assert len(set(pk.column("package_id").to_pylist())) == want  # no duplicate ids
        if b.snapshot.registry != "hf":
            assert pk.column("rank").to_pylist() == list(range(1, want + 1))
            d = pk.column("downloads").to_pylist()
            assert d == sorted(d, reverse=True)


def test_pypi_raw_names_need_pep503(tiny_batches):
    from ptmscope.aliases import pep503

    pypi = next(b for b in tiny_batches if b.snapshot.registry == "pypi").tables["packages"]
    raw, norm = pypi.column("raw_id").to_pylist(), pypi.column("package_id").to_pylist()
    assert [pep503(r) for r in raw] == norm
    assert any(r != n for r, n in zip(raw, norm, strict=False))


def test_lineage_points_to_earlier_models_and_resolves_only_present_parents(tiny_batches):
    for b in (x for x in tiny_batches if x.snapshot.registry == "hf"):
        pk = b.tables["packages"].to_pandas().set_index("package_id")
        lin = b.tables["lineage"].to_pandas()
        assert set(lin.child) <= set(pk.index)
        present = lin[lin.parent_id.notna()]
        assert set(present.parent_id) <= set(pk.index)
        # unresolved parents are exactly those not in this snapshot
        missing = lin[lin.parent_id.isna()]
        assert not set(missing.parent_ref) & set(pk.index)
        both = present[present.parent_id.isin(pk.index)]
        assert (pk.loc[both.parent_id, "created_at"].to_numpy() < pk.loc[both.child, "created_at"].to_numpy()).all()
        assert set(lin.relation) <= {"finetune", "adapter", "quantized", "merge"}


def test_snapshot_dates_and_churn(tiny_batches):
    hf = [b for b in tiny_batches if b.snapshot.registry == "hf"]
    assert [b.snapshot.taken_at for b in hf] == TINY.dates()
    ids = [set(b.tables["packages"].column("package_id").to_pylist()) for b in hf]
    new = round(TINY.new_share * TINY.models)
    for a, b in itertools.pairwise(ids):
        assert len(b - a) == new and len(a - b) == new  # as many arrive as leave
    for b in hf:  # nothing is created after its snapshot date
        created = b.tables["packages"].column("created_at").to_pandas()
        assert created.max().date() < b.snapshot.taken_at


# -- the fitted marginal --------------------------------------------------------


def test_quantile_function_by_hand():
    p0 = FIT["p_zero"]
    u = np.array([0.0, p0 / 2, p0 - 1e-9, p0 + 1e-9, 0.5, 0.999999])
    d = downloads_quantile(u)
    assert list(d[:3]) == [0, 0, 0]
    assert d[3] == 1  # the smallest nonzero count
    assert np.all(np.diff(d) >= 0)
    assert d[-1] < FIT["cap"]
    # the body ends where the tail starts: just below / above the tail boundary
    edge = p0 + (1 - p0) * (1 - FIT["p_tail"])
    lo, hi = downloads_quantile(np.array([edge - 1e-9, edge + 1e-9]))
    assert lo <= FIT["x_min"] <= hi + 1


def test_sampled_tail_has_the_fitted_exponent():
    rng = np.random.default_rng(0)
    d = downloads_quantile(rng.random(400_000))
    assert abs((d == 0).mean() - FIT["p_zero"]) < 0.005
    xmin = FIT["x_min"]
    tail = d[(d >= xmin) & (d < 1e5)]  # below the soft cap's reach
    share = (d >= xmin).mean()
    assert abs(share - (1 - FIT["p_zero"]) * FIT["p_tail"]) < 0.005
    # discrete power-law MLE on the truncated sample, corrected for truncation by simulation-free check:
    # the CCDF slope between 100 and 10,000 on log-log axes is -(alpha - 1)
    c1, c2 = (d >= 100).mean(), (d >= 10_000).mean()
    slope = math.log(c2 / c1) / math.log(100)
    assert abs(-slope - (FIT["alpha"] - 1)) < 0.03
    assert len(tail) > 1000


def test_topk_remained_closed_form():
    # for q = 1/2, P(Z2 > 0 | Z1 > 0) = 1/2 + arcsin(rho) / pi
    for rho in (0.0, 0.3, 0.8, 0.95):
        assert topk_remained(rho, 0.5) == pytest.approx(0.5 + math.asin(rho) / math.pi, abs=1e-6)
    assert topk_remained(0.0, 0.01) == pytest.approx(0.01, abs=1e-6)  # independence
    r = solve_rho(0.7, 0.5)
    assert r == pytest.approx(math.sin((0.7 - 0.5) * math.pi), abs=1e-5)


def test_hub_turnover_hits_its_target():
    cfg = SynthConfig(models=5000, snapshots=4, seed=1, registries=("hf",), cards="none")
    tops = []
    for b in generate(cfg):
        t = b.tables["packages"].to_pandas().sort_values(["downloads", "package_id"], ascending=[False, True])
        tops.append(set(t.package_id[:1000]))
    remained = [len(a & b) / 1000 for a, b in itertools.pairwise(tops)]
    assert abs(np.mean(remained) - cfg.hf_remained) < 0.06, remained


def test_children_keep_transformers_and_drop_tf_like_the_dump():
    w = HubWorld(SynthConfig(models=20000, snapshots=1, seed=3, registries=("hf",)))
    li = {n: j for j, n in enumerate(w.lib_names)}
    kids = np.nonzero(w.parent >= 0)[0]
    par = w.parent[kids]
    for lib, lo, hi in (("transformers", 0.95, 1.0), ("tf", 0.0, 0.15)):
        has = w.libs[par, li[lib]]
        kept = w.libs[kids[has], li[lib]].mean()
        assert lo <= kept <= hi, (lib, kept)
    # preferential attachment: a few bases collect many descendants
    counts = np.bincount(par)
    counts = counts[counts > 0]
    assert counts.max() >= 20 * np.median(counts)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), models=st.integers(10, 400), snapshots=st.integers(1, 3))
def test_invariants_for_any_seed(seed, models, snapshots):
    cfg = SynthConfig(models=models, snapshots=snapshots, seed=seed, registries=("hf",), cards="none")
    for b in generate(cfg):
        pk = b.tables["packages"]
        assert pk.num_rows == models
        assert len(pk.column("package_id").unique()) == models
        assert pa.compute.min(pk.column("downloads")).as_py() >= 0
        lin = b.tables.get("lineage")
        if lin is not None and lin.num_rows:
            assert set(lin.column("child").to_pylist()) <= set(pk.column("package_id").to_pylist())


# -- writers ----------------------------------------------------------------------


def test_write_store_is_idempotent(store_path):
    res = write_store(store_path, TINY)
    assert all(r.created for r in res) and len(res) == 9
    again = write_store(store_path, TINY)
    assert [r.snapshot_id for r in again] == [r.snapshot_id for r in res]
    assert not any(r.created for r in again)
    with Store(store_path, read_only=True) as st_:
        n = st_.con.execute("SELECT count(*) FROM packages").fetchone()[0]
        assert n == 3 * 300 + 6 * 200
        assert all(s.synthetic for s in st_.snapshots())


def test_chunking_does_not_change_the_data(tmp_path):
    a, b = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    write_store(a, TINY)
    write_store(b, SynthConfig(**{**TINY.__dict__, "chunk_rows": 37}))
    q = "SELECT * FROM {} ORDER BY ALL"
    with Store(a, read_only=True) as sa, Store(b, read_only=True) as sb:
        for name in ("packages", "package_libraries", "lineage", "cards"):
            assert sa.con.execute(q.format(name)).fetchall() == sb.con.execute(q.format(name)).fetchall(), name


def test_files_round_trip_through_the_importers(tmp_path, cli):
    cfg = SynthConfig(models=120, snapshots=2, seed=2, top_list_size=150)
    files = write_files(tmp_path / "world", cfg)
    manifest = json.loads((tmp_path / "world" / "SYNTHETIC.json").read_text())
    assert manifest["synthetic"] is True and len(manifest["files"]) == len(files) - 1
    store = tmp_path / "in.duckdb"
    date = cfg.dates()[0].isoformat()
    info = tmp_path / "world" / "hf" / date / "model_infos.jsonl.gz"
    code, _, err = cli(
        "ingest",
        str(info),
        "--store",
        str(store),
        "--date",
        date,
        "--cards",
        str(info.with_name("model_cards.jsonl.gz")),
    )
    assert code == 0, err
    ref = next(b for b in generate(cfg) if b.snapshot.registry == "hf")
    with Store(store, read_only=True) as st_:
        got = dict(st_.con.execute("SELECT package_id, downloads FROM packages").fetchall())
        want = dict(
            zip(
                ref.tables["packages"].column("package_id").to_pylist(),
                ref.tables["packages"].column("downloads").to_pylist(),
                strict=False,
            )
        )
        assert got == want
        libs = set(st_.con.execute("SELECT package_id, library FROM package_libraries").fetchall())
        want_libs = set(
            zip(
                ref.tables["package_libraries"].column("package_id").to_pylist(),
                ref.tables["package_libraries"].column("library").to_pylist(),
                strict=False,
            )
        )
        assert want_libs <= libs
        edges = set(st_.con.execute("SELECT child, parent_id FROM lineage WHERE parent_id IS NOT NULL").fetchall())
        want_edges = {
            (c, p)
            for c, p in zip(
                ref.tables["lineage"].column("child").to_pylist(),
                ref.tables["lineage"].column("parent_id").to_pylist(),
                strict=False,
            )
            if p
        }
        assert want_edges <= edges


def test_cli_synth_store_and_errors(tmp_path, cli):
    out = tmp_path / "s.duckdb"
    code, stdout, err = cli("synth", "--models", "50", "--snapshots", "2", "--seed", "4", "--out", str(out), "--json")
    assert code == 0, err
    doc = json.loads(stdout)
    assert doc["synthetic"] is True and doc["config"]["models"] == 50
    assert [s["registry"] for s in doc["snapshots"]] == ["hf", "hf", "npm", "npm", "pypi", "pypi"]
    assert all(s["created"] for s in doc["snapshots"])
    code, stdout, _ = cli("synth", "--models", "50", "--snapshots", "2", "--seed", "4", "--out", str(out), "--json")
    assert code == 0 and not any(s["created"] for s in json.loads(stdout)["snapshots"])
    code, _, err = cli("synth", "--models", "3", "--out", str(tmp_path / "x.duckdb"))
    assert code == 1 and "at least 10" in err and len(err.strip().splitlines()) == 1
    code, _, err = cli("synth", "--start", "yesterday", "--out", str(tmp_path / "y.duckdb"))
    assert code == 1 and "--start" in err
    assert not (tmp_path / "x.duckdb").exists()


def test_fitted_parameters_match_the_real_dump():
    """The code's FIT numbers are what benchmarks/fit_synth_params.py computes on the real data."""
    import importlib.util
    from pathlib import Path

    from realdata import shared_path

    dump = shared_path("hf", "2022-02_hub-dump", "model_infos.jsonl.gz")
    spec = importlib.util.spec_from_file_location(
        "fit_synth_params", Path(__file__).resolve().parents[1] / "benchmarks" / "fit_synth_params.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    fit = mod.fit_downloads(mod.read_downloads(dump))
    assert fit["p_zero"] == pytest.approx(FIT["p_zero"], abs=0.001)
    assert fit["x_min"] == FIT["x_min"]
    assert fit["alpha"] == pytest.approx(FIT["alpha"], abs=0.001)
    assert fit["p_tail"] == pytest.approx(FIT["p_tail"], abs=0.001)
    assert fit["body_mu"] == pytest.approx(FIT["body_mu"], abs=0.001)
    assert fit["body_sigma"] == pytest.approx(FIT["body_sigma"], abs=0.001)


def test_a_failure_mid_snapshot_leaves_no_partial_snapshot(store_path, monkeypatch):
    calls = {"n": 0}
    real = HubWorld.lineage_table

    def flaky(self, rows, alive):
        calls["n"] += 1
        if calls["n"] == 2:  # inside the second snapshot's transaction
            raise RuntimeError("disk on fire")
        return real(self, rows, alive)

    monkeypatch.setattr(HubWorld, "lineage_table", flaky)
    with pytest.raises(RuntimeError, match="disk on fire"):
        write_store(store_path, TINY)
    with Store(store_path, read_only=True) as st_:
        assert [s.registry for s in st_.snapshots()] == ["hf"]  # only the committed first one
        assert st_.con.execute("SELECT count(DISTINCT snapshot_id) FROM packages").fetchone()[0] == 1
    monkeypatch.setattr(HubWorld, "lineage_table", real)
    res = write_store(store_path, TINY)  # resumes: the rest is written, the first is skipped
    assert [r.created for r in res].count(False) == 1 and len(res) == 9


# Digests of every table of the reference world (benchmarks/store_digest.py REFERENCE), computed with
# the writer of commit d01993f, before the streaming rewrite:
#   git archive d01993f src | tar -x -C /tmp/old
#   PYTHONPATH=/tmp/old/src python benchmarks/store_digest.py --synth-reference /tmp/old.duckdb
# ("rows:sha256" of the rows rendered by DuckDB, sorted; snapshots without ingested_at).
D01993F_DIGESTS = {
    "aliases": "0:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "cards": "5159:7eac67d1e27cbe14032441181fd5f546ccb7abc09fe5ae5f9bdba3fa1a27479c",
    "commits": "0:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "dependents": "0:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "lineage": "2879:fc841105ec46b09f1010e4ec6121c9d828ab82608ae14c00fae3afc98c3d214d",
    "package_files": "0:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "package_libraries": "17360:5952f5630089dcb96887e8dec2a577069458fc612f4b2a154533a569aea68034",
    "packages": "10800:4eb1deac2976b5fb9ee34c36ab29d804a2532902391662a33faa88387a393121",
    "snapshots": "9:acd0b65689fadcaa1766f359ed3dc47262fbd65e73983fbcd1923f5fd05b5d08",
}


def test_store_contents_equal_the_original_generators(tmp_path):
    """The streaming writer stores exactly what the writer of d01993f stored, whatever the chunk size."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location(
        "store_digest", Path(__file__).resolve().parents[1] / "benchmarks" / "store_digest.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    path = tmp_path / "ref.duckdb"
    write_store(path, SynthConfig(**mod.REFERENCE, chunk_rows=701))  # several chunks per table
    assert mod.table_digests(path) == D01993F_DIGESTS


def test_the_generator_thread_hands_over_items_in_order_errors_and_stops_with_the_reader():
    import threading

    from ptmscope.synth import _ahead

    assert list(_ahead(iter(range(50)), 2)) == list(range(50))

    def broken():
        yield 1
        yield 2
        raise ValueError("generator broke")

    got = []
    with pytest.raises(ValueError, match="generator broke"):
        for x in _ahead(broken(), 1):
            got.append(x)
    assert got == [1, 2]

    built = []

    def endless():
        for i in itertools.count():
            built.append(i)
            yield i

    reader = _ahead(endless(), 2)
    assert [next(reader) for _ in range(3)] == [0, 1, 2]
    reader.close()  # the reader stops (an INSERT failed): the thread stops too, a few items ahead at most
    assert not any(t.name == "ptmscope-synth" for t in threading.enumerate())
    assert len(built) <= 3 + 2 + 2
