"""Shared fixtures: where the real data is, a fresh store, a CLI runner."""

from __future__ import annotations

from pathlib import Path

import pytest

from realdata import ROOT, SHARED_DATA, shared_path  # noqa: F401  (re-exported)


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "store.duckdb"


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """Run the CLI in-process: ``code, out, err = cli("snapshots", "--json")``."""
    from ptmscope.cli import main

    monkeypatch.delenv("PTMSCOPE_STORE", raising=False)

    def run(*args: str) -> tuple[int, str, str]:
        import io
        import sys

        old_out, old_err = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = io.StringIO(), io.StringIO()
        try:
            from ptmscope.cli import _apps

            # rich consoles bind to the stream at creation; rebind for capture
            _apps.console.file = sys.stderr
            _apps.out.file = sys.stdout
            code = main([str(a) for a in args])
            return code, sys.stdout.getvalue(), sys.stderr.getvalue()
        finally:
            sys.stdout, sys.stderr = old_out, old_err
            _apps.console.file = None  # type: ignore[assignment]
            _apps.out.file = None  # type: ignore[assignment]

    return run
