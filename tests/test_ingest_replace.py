"""``ingest DIR --replace`` is one transaction: killed or failed half-way, the store holds all old or all new."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ptmscope.store import Store

N_FILES = 12


def _write_versions(folder: Path, version: int) -> None:
    """N_FILES top-pypi files; ``version`` changes every file's content but not its name or date."""
    folder.mkdir(exist_ok=True)
    for i in range(N_FILES):
        day = dt.date(2020, 1, 1) + dt.timedelta(days=7 * i)
        rows = [{"download_count": 1000 * version + 10 - j, "project": f"p{j}"} for j in range(10)]
        (folder / f"{day}_top-pypi-packages.json").write_text(
            json.dumps({"last_update": f"{day} 00:00:00", "rows": rows})
        )


def _state(store: Path) -> tuple[set[int], int]:
    """(versions found among the snapshots' top download counts, number of snapshots)."""
    with Store(store, read_only=True) as s:
        rows = s.con.execute(
            "SELECT p.snapshot_id, max(p.downloads) FROM packages p JOIN snapshots s USING (snapshot_id) "
            "GROUP BY p.snapshot_id"
        ).fetchall()
    return {(top - 10) // 1000 for _, top in rows}, len(rows)


@pytest.fixture
def old_store(tmp_path, cli):
    folder = tmp_path / "pypi"
    _write_versions(folder, 1)
    store = tmp_path / "s.duckdb"
    code, _, err = cli("ingest", folder, "--store", store)
    assert code == 0, err
    assert _state(store) == ({1}, N_FILES)
    _write_versions(folder, 2)
    return folder, store


def test_replace_failing_half_way_keeps_all_old(old_store, monkeypatch, cli):
    """An error after some batches were handed to the store: nothing of the call stays."""
    import ptmscope.cli.data as data_cli
    from ptmscope import sources

    folder, store = old_store

    def failing_ingest(st, planned, **kw):
        def on_batch(p, i, n):
            if i == N_FILES // 2:
                raise KeyboardInterrupt

        return sources.ingest(st, planned, replace=kw["replace"], on_batch=on_batch)

    monkeypatch.setattr(data_cli, "ingest", failing_ingest)
    code, _, _ = cli("ingest", folder, "--store", store, "--replace")
    assert code == 130
    monkeypatch.undo()
    assert _state(store) == ({1}, N_FILES)
    code, _, err = cli("ingest", folder, "--store", store, "--replace")
    assert code == 0, err
    assert _state(store) == ({2}, N_FILES)


_KILLER = textwrap.dedent(
    """
    import os, signal, sys
    import ptmscope.cli.data as data_cli
    from ptmscope import sources
    from ptmscope.cli import main

    at = int(sys.argv[1])

    def ingest(st, planned, **kw):
        def on_batch(p, i, n):
            if i == at:
                os.kill(os.getpid(), signal.SIGKILL)
        return sources.ingest(st, planned, replace=kw["replace"], on_batch=on_batch)

    data_cli.ingest = ingest
    sys.exit(main(sys.argv[2:]))
    """
)


def test_sigkill_mid_replace_leaves_all_old(old_store):
    """SIGKILL in the middle of replacing the snapshots of a folder, in a real process."""
    folder, store = old_store
    env = {**os.environ, "PYTHONPATH": str(Path(__import__("ptmscope").__file__).parents[1])}
    env.pop("PTMSCOPE_STORE", None)
    r = subprocess.run(
        [sys.executable, "-c", _KILLER, str(N_FILES // 2), "ingest", str(folder), "--store", str(store), "--replace"],
        env=env,
        capture_output=True,
        timeout=300,
    )
    assert r.returncode == -signal.SIGKILL, r.stderr.decode()
    assert _state(store) == ({1}, N_FILES)
