"""The report in a real headless browser (Debian chromium): renders, logs no
console errors, shows a hostile model id as text."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from world import EVIL_ID

pytestmark = pytest.mark.browser

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--enable-logging=stderr",
    "--v=0",
]


def _chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        p = shutil.which(name)
        if p:
            return p
    pytest.skip("chromium is not installed (apt-get install chromium; CI's .ci/run installs it)")


def _run(args: list[str], tmp_path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [_chromium(), *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_renders_without_console_errors_and_escapes(world_report, tmp_path):
    url = (world_report / "index.html").resolve().as_uri()
    p = _run(["--dump-dom", url], tmp_path)
    assert p.returncode == 0, p.stderr[-2000:]
    dom = p.stdout
    assert "<h1>" in dom and "Claims overview" in dom and dom.count("<svg") >= 5
    # the hostile id is text: escaped in the serialised DOM, never an element
    assert "&lt;img src=x onerror=alert(1)&gt;" in dom
    assert "<img" not in dom.lower()
    errors = [
        ln
        for ln in p.stderr.splitlines()
        if "Uncaught" in ln
        or ("CONSOLE" in ln and ("ERROR" in ln or "error" in ln))
        or "Refused to" in ln
        or "Content Security Policy" in ln
    ]
    assert not errors, errors
    assert EVIL_ID not in dom


def test_screenshot(world_report, tmp_path):
    shot = tmp_path / "shot.png"
    p = _run(
        ["--window-size=1100,2400", f"--screenshot={shot}", (world_report / "index.html").resolve().as_uri()], tmp_path
    )
    assert p.returncode == 0, p.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
