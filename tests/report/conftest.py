from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from world import make_world


@pytest.fixture(scope="module")
def world_store(tmp_path_factory) -> Path:
    from ptmscope.pipeline import score_cards
    from ptmscope.store import Store

    path = make_world(tmp_path_factory.mktemp("world") / "world.duckdb")
    with Store(path) as st:
        score_cards(st)
    return path


@pytest.fixture(scope="module")
def world_report(world_store, tmp_path_factory) -> Path:
    from ptmscope.engine import connect
    from ptmscope.pipeline import analyse
    from ptmscope.report import write_report

    b = connect(world_store)
    a = analyse(b, params={"turnover": {"top": 50}, "descendants": {"n_boot": 100}, "preservation": {"n_boot": 100}})
    b.disconnect()
    return write_report(a, tmp_path_factory.mktemp("report") / "out")
