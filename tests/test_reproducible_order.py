"""Reproducible to the byte: the same rows stored in another order and read with other DuckDB threads, same JSON."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import duckdb
import numpy as np
import pytest

from ptmscope.cards.metadata import metadata_availability
from ptmscope.errors import PtmscopeError
from ptmscope.metrics import registry
from ptmscope.metrics._common import alias_map
from ptmscope.store import Store
from test_registry import _add_files_commits_dependents

N_BOOT = 50


def _tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' AND table_type = 'BASE TABLE'"
    ).fetchall()
    return sorted(r[0] for r in rows)


def _reordered_copy(src: Path, dst: Path) -> None:
    """The same rows in every table, inserted in a seeded shuffled order (one thread, so the order is kept)."""
    with Store(dst):
        pass  # the canonical schema (keys, defaults) of every store table
    rng = np.random.default_rng(20240521)
    con = duckdb.connect(str(dst))
    try:
        con.execute("SET threads = 1")
        existing = set(_tables(con))
        con.execute("ATTACH ? AS src (READ_ONLY)", [str(src)])
        names = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_catalog = 'src' "
                "AND table_schema = 'main' AND table_type = 'BASE TABLE'"
            ).fetchall()
        ]
        for name in sorted(names):
            rows = con.sql(f'SELECT * FROM src.main."{name}"').to_arrow_table()
            con.register("shuffled", rows.take(rng.permutation(rows.num_rows)) if rows.num_rows else rows)
            if name in existing:
                con.execute(f'INSERT INTO main."{name}" BY NAME SELECT * FROM shuffled')
            else:
                con.execute(f'CREATE TABLE main."{name}" AS SELECT * FROM shuffled')
            con.unregister("shuffled")
        con.execute("DETACH src")
        con.execute("CHECKPOINT")
    finally:
        con.close()


@pytest.fixture(scope="module")
def two_stores(tmp_path_factory) -> tuple[Path, Path]:
    from ptmscope.pipeline import score_cards
    from ptmscope.synth import SynthConfig, write_store

    base = tmp_path_factory.mktemp("order")
    a = base / "a.duckdb"
    with Store(a) as st:
        # the seeded synthetic Hub: lineage with many parents of unequal size, so orders can differ
        write_store(st, SynthConfig(models=800, snapshots=3, top_list_size=200, turnover_k=50))
        score_cards(st)
        _add_files_commits_dependents(st)
        # one alias stored twice with two canonical ids (two imports that disagree)
        pid = st.con.execute("SELECT min(package_id) FROM packages WHERE package_id LIKE '%/%'").fetchone()[0]
        st.add_aliases("hf", [(pid, "renamed-a/" + pid.split("/")[1]), (pid, "renamed-b/" + pid.split("/")[1])], "test")
    b = base / "b.duckdb"
    _reordered_copy(a, b)
    return a, b


def _run_all(path: Path, threads: int) -> dict[str, str]:
    """Every registered metric's JSON (or its one-line error) on one store with ``threads`` DuckDB threads."""
    out: dict[str, str] = {}
    with Store(path, read_only=True) as st:
        st.con.execute(f"SET threads = {threads}")
        for name in registry.names():
            m = registry.get(name)
            params = {"n_boot": N_BOOT} if "n_boot" in m.params.model_fields else {}
            try:
                data = m.run(st.backend, params).to_dict()
            except Exception as exc:  # the same failure on both stores is also reproducible
                out[name] = f"error: {type(exc).__name__}: {exc}"
                continue
            tables = [(t.title, t.header, t.rows) for t in m.tables(data)] if m.tables else []
            # not sort_keys: a dict filled in the engine's row order must come out in one order too
            out[name] = json.dumps([data, tables], default=str)
        out["alias_map"] = json.dumps(list(alias_map(st.backend, "hf").items()))
        for sid in sorted(s.snapshot_id for s in st.snapshots("hf")):
            try:
                out[f"metadata_availability {sid}"] = json.dumps(metadata_availability(st.backend, sid).to_dict())
            except PtmscopeError as exc:
                out[f"metadata_availability {sid}"] = f"error: {exc}"
    return out


def test_the_same_rows_in_another_order_give_byte_identical_results(two_stores):
    a, b = two_stores
    with duckdb.connect(str(a), read_only=True) as ca, duckdb.connect(str(b), read_only=True) as cb:
        for name in _tables(ca):
            # the copy really holds the same rows, in another order
            q = f'SELECT * FROM "{name}"'
            ra, rb = ca.execute(q).fetchall(), cb.execute(q).fetchall()
            assert sorted(map(repr, ra)) == sorted(map(repr, rb)), name
            if len(ra) > 2:
                assert ra != rb, f"{name}: the copy kept the original order"
    first, second = _run_all(a, threads=1), _run_all(b, threads=4)
    assert sum(not v.startswith("error:") for v in first.values()) >= len(first) // 2, first
    differ = [n for n in first if first[n] != second[n]]
    assert not differ, f"results depend on the stored row order or the threads: {differ}"


def _tie_store(path: Path, c_order: list[int]) -> None:
    """A snapshot L with libraries and no creation times, and two snapshots C1, C2 giving the same creation times."""
    from ptmscope.schema import Snapshot, SnapshotBatch, make_snapshot_id, to_table

    ids = [f"org/m{i}" for i in range(6)]
    created = [datetime.datetime(2021, 1 + i, 1, tzinfo=datetime.UTC) for i in range(6)]
    with Store(path) as st:
        for i in [0, *c_order]:
            taken = datetime.date(2022, 6, 1) if i == 0 else datetime.date(2022, 1 + i, 1)
            sha = f"tie{i}".ljust(64, "0")
            sid = make_snapshot_id("hf", taken, sha)
            cols: dict[str, list] = {"package_id": ids, "raw_id": ids}
            tables = {}
            if i == 0:
                tables["package_libraries"] = to_table(
                    "package_libraries",
                    {"package_id": ids, "library": ["transformers"] * 6, "origin": ["library_name"] * 6},
                    sid,
                )
            else:
                cols["created_at"] = created
            tables["packages"] = to_table("packages", cols, sid)
            snap = Snapshot(sid, "hf", taken, "test", f"tie{i}.jsonl", sha, len(ids), "test", synthetic=True)
            st.add_batch(SnapshotBatch(snap, tables))


def test_tied_creation_snapshots_are_chosen_the_same_way_whatever_the_order(tmp_path):
    from ptmscope.metrics.transformers_adoption import choose_creation_pair
    from ptmscope.snapshots import list_snapshots

    picked = set()
    for n, order in enumerate(([1, 2], [2, 1])):
        path = tmp_path / f"tie{n}.duckdb"
        _tie_store(path, order)
        with Store(path, read_only=True) as st:
            libs = [s for s in list_snapshots(st.backend, "hf") if s.taken_at == datetime.date(2022, 6, 1)]
            _, csnap, usable, _ = choose_creation_pair(st.backend, libs)
            assert usable == 6  # both C1 and C2 give all six models a creation time: a tie
            picked.add(csnap.snapshot_id)
    assert len(picked) == 1, picked
