"""README and CI agree: .ci/run runs exactly the README's test command."""

from __future__ import annotations

import re

from realdata import ROOT


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```bash\n(.*?)```", text, re.S)
    assert block, "README.md must open with a ```bash block holding the two commands"
    return [ln.strip() for ln in block.group(1).splitlines() if ln.strip() and not ln.lstrip().startswith("#")]


def test_readme_opens_with_two_commands_and_ci_runs_the_second():
    cmds = _readme_commands()
    assert len(cmds) == 2, cmds
    assert "ptmscope demo" in cmds[0]
    assert "pytest" in cmds[1]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert cmds[1] in ci.splitlines(), ".ci/run must call exactly the README's test command"


def test_readme_names_only_existing_docs():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    for rel in re.findall(r"\]\((docs/[^)]+)\)", text):
        assert (ROOT / rel).exists(), f"README links to missing {rel}"


def test_ci_runs_lint_format_and_types_before_the_tests():
    lines = [ln.strip() for ln in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()]
    test_at = lines.index(_readme_commands()[1])
    for check in ("ruff check", "ruff format --check", "mypy"):
        at = next((i for i, ln in enumerate(lines) if check in ln and not ln.startswith("#")), None)
        assert at is not None and at < test_at, f".ci/run must run {check} before the tests"
    assert "set -euo pipefail" in lines, "a failing check must stop CI"
