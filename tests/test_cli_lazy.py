"""The command line imports only the module of the command it runs (cold start of `ptmscope metric ...`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import ptmscope.cli as cli


def _module_of(callback: object) -> str:
    return str(getattr(callback, "__module__", "")).rsplit(".", 1)[-1]


def test_every_top_level_command_maps_to_the_module_that_defines_it():
    app = cli.load_all()
    found: dict[str, str] = {}
    for c in app.registered_commands:
        found[c.name or c.callback.__name__] = _module_of(c.callback)
    for g in app.registered_groups:
        sub = g.typer_instance
        mods = {_module_of(c.callback) for c in sub.registered_commands}
        assert len(mods) == 1, f"group {g.name}: commands from {mods}"
        found[str(g.name)] = mods.pop()
    assert found == cli.COMMAND_OF


def test_a_metric_call_does_not_import_the_heavy_libraries(tmp_path: Path):
    from ptmscope.store import Store

    store = tmp_path / "empty.duckdb"
    Store(store).close()
    src = str(Path(cli.__file__).resolve().parents[2])
    code = (
        "import sys, json\n"
        "from ptmscope.cli import main\n"
        f"rc = main(['metric', 'preservation', '--json', '--store', {str(store)!r}])\n"
        "heavy = ('scipy', 'statsmodels', 'matplotlib', 'huggingface_hub', 'sentence_transformers', 'sklearn')\n"
        "print(json.dumps([rc, sorted({m.split('.')[0] for m in sys.modules if m.split('.')[0] in heavy})]))\n"
    )
    env = {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    rc, heavy = json.loads(out.stdout.strip().splitlines()[-1])
    assert rc == 1  # an empty store: "not measurable", after the command ran
    assert "error:" in out.stderr
    assert heavy == []
