"""docs/cli.md is generated from the code (scripts/gen_cli_docs.py) and must not go stale."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "gen_cli_docs.py"


def _gen():
    spec = importlib.util.spec_from_file_location("gen_cli_docs", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def rendered() -> str:
    return _gen().render()


def test_docs_cli_md_is_up_to_date(rendered):
    stored = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8") if (ROOT / "docs" / "cli.md").is_file() else ""
    if stored != rendered:
        import difflib

        diff = "".join(
            list(difflib.unified_diff(stored.splitlines(True), rendered.splitlines(True), "docs/cli.md", "generated"))[
                :40
            ]
        )
        pytest.fail(f"docs/cli.md is out of date; run scripts/gen_cli_docs.py\n{diff}")


def test_every_command_of_the_click_tree_is_documented(rendered):
    """Walk the command tree independently of the script: each command has its own section."""
    import typer

    from ptmscope.cli import app

    def walk(cmd, path):
        yield path
        for name, sub in sorted(getattr(cmd, "commands", {}).items()):
            if not sub.hidden:
                yield from walk(sub, [*path, name])

    paths = list(walk(typer.main.get_command(app), ["ptmscope"]))
    # the commands this session knows of must be among them (others may have been added since)
    for expected in (["ptmscope", "ingest"], ["ptmscope", "metric", "turnover"], ["ptmscope", "reproduce", "esem24"]):
        assert expected in paths
    headings = re.findall(r"^## `([^`]+)`$", rendered, flags=re.M)
    assert sorted(headings) == sorted(" ".join(p) for p in paths)


def test_help_is_plain_text_of_fixed_width(rendered, monkeypatch):
    assert "\x1b[" not in rendered  # no ANSI colour
    assert "╭" not in rendered and "│" not in rendered  # no rich panels
    blocks = re.findall(r"```text\n(.*?)\n```", rendered, flags=re.S)
    assert len(blocks) == rendered.count("\n## ")
    # click wraps help text at the width; only an option's own signature (a long choice list) may exceed it
    width = _gen().WIDTH
    for block in blocks:
        for line in block.splitlines():
            assert len(line) <= width or line.lstrip().startswith("-"), line
    # independent of the caller's terminal and environment
    monkeypatch.setenv("COLUMNS", "40")
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert _gen().render() == rendered


def test_usage_lines_name_the_full_command_path(rendered):
    assert "Usage: ptmscope metric turnover [OPTIONS]" in rendered
    assert "Usage: ptmscope reproduce esem24 [OPTIONS]" in rendered
    assert "--plot" in rendered.split("## `ptmscope metric descendants`")[1].split("\n## ")[0]


def test_check_mode_reports_a_stale_file(tmp_path, monkeypatch, capsys):
    gen = _gen()
    stale = tmp_path / "cli.md"
    stale.write_text("# old\n", encoding="utf-8")
    monkeypatch.setattr(gen, "TARGET", stale)
    assert gen.main(["--check"]) == 1
    assert "run scripts/gen_cli_docs.py" in capsys.readouterr().err
    assert gen.main([]) == 0 and gen.main(["--check"]) == 0


def test_command_order_does_not_depend_on_which_command_ran_first():
    """A lazy call (`ptmscope run --help`) imports its module first; the listing order must not change with it."""
    import subprocess
    import sys

    code = (
        "import importlib.util\n"
        "from ptmscope.cli import main\n"
        "try:\n    main(['run', '--help'])\nexcept SystemExit:\n    pass\n"
        f"spec = importlib.util.spec_from_file_location('g', {str(SCRIPT)!r})\n"
        "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
        "import sys; sys.stderr.write(m.render())\n"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    assert p.stderr == (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
