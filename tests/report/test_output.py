"""A report replaces or removes only files it wrote itself (issue 11, item 4)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ptmscope.report.output import MANIFEST, ReportFolderError, check_report_dir

USER_HTML = "<html><body>my own page</body></html>\n"
USER_SVG = '<svg xmlns="http://www.w3.org/2000/svg"><text>my growth chart</text></svg>\n'


def _user_folder(path: Path) -> Path:
    (path / "figures").mkdir(parents=True)
    (path / "index.html").write_text(USER_HTML, encoding="utf-8")
    (path / "figures" / "growth.svg").write_text(USER_SVG, encoding="utf-8")
    return path


def _tree(path: Path) -> dict[str, bytes]:
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def test_report_refuses_a_folder_of_user_files_and_keeps_them(world_store, tmp_path, cli):
    target = _user_folder(tmp_path / "mine")
    before = _tree(target)
    code, _out, err = cli(
        "report", "--store", world_store, "--out", target, "--metric", "concentration", "--no-score-cards"
    )
    assert code == 1
    (line,) = err.strip().splitlines()
    assert "not a ptmscope report folder" in line and "--force" in line and "index.html" in line
    assert _tree(target) == before


def test_forced_report_replaces_same_names_only_and_a_later_report_keeps_user_files(world_store, tmp_path, cli):
    target = _user_folder(tmp_path / "mine")
    (target / "notes.txt").write_text("keep me", encoding="utf-8")
    args = ("report", "--store", world_store, "--out", target, "--no-score-cards")
    code, _out, err = cli(*args, "--metric", "concentration", "--force")
    assert code == 0, err
    assert (target / "index.html").read_text(encoding="utf-8") != USER_HTML  # forced: same name replaced
    assert (target / "figures" / "growth.svg").read_text(encoding="utf-8") == USER_SVG  # not a concentration file
    manifest = json.loads((target / MANIFEST).read_text(encoding="utf-8"))
    assert "figures/growth.svg" not in manifest["files"] and "index.html" in manifest["files"]
    ours = sorted(manifest["files"])
    assert any(f.startswith("figures/") for f in ours)
    # the folder is now a report folder; a report that would write growth.svg must not take the user's file
    code, _out, err = cli(*args, "--metric", "growth")
    (line,) = [ln for ln in err.splitlines() if ln.startswith("error:")]
    assert code == 1 and "figures/growth.svg" in line and "Traceback" not in err
    assert (target / "figures" / "growth.svg").read_text(encoding="utf-8") == USER_SVG
    # a report of another metric replaces the earlier report's files and removes its stale figures, nothing else
    code, _out, err = cli(*args, "--metric", "naming")
    assert code == 0, err
    after = json.loads((target / MANIFEST).read_text(encoding="utf-8"))["files"]
    for f in ours:
        if f.startswith("figures/") and f not in after:
            assert not (target / f).exists(), f
    assert (target / "figures" / "growth.svg").read_text(encoding="utf-8") == USER_SVG
    assert (target / "notes.txt").read_text(encoding="utf-8") == "keep me"


def test_a_report_file_the_user_edited_is_theirs(world_report, tmp_path):
    import shutil

    target = tmp_path / "r"
    shutil.copytree(world_report, target)
    check_report_dir(target)  # an unchanged earlier report: fine
    figs = sorted((target / "figures").glob("*.svg"))
    figs[0].write_text(USER_SVG, encoding="utf-8")
    folder = check_report_dir(target)
    assert folder.foreign == [f"figures/{figs[0].name}"] and f"figures/{figs[1].name}" in folder.owned
    with pytest.raises(ReportFolderError, match=f"figures/{figs[0].name}"):
        folder.write({"index.html": b"x", f"figures/{figs[0].name}": b"<svg/>"})
    assert figs[0].read_text(encoding="utf-8") == USER_SVG
    folder.write({"index.html": b"x"})  # the edited figure is not the report's any more: kept, not removed
    assert figs[0].read_text(encoding="utf-8") == USER_SVG and not figs[1].exists()
    (target / "index.html").write_text(USER_HTML, encoding="utf-8")
    with pytest.raises(ReportFolderError, match=r"index\.html"):
        check_report_dir(target)  # every report writes index.html: refused before any work


def test_empty_new_and_foreign_folders(tmp_path):
    assert check_report_dir(tmp_path / "new" / "deep").owned == {}
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "data.csv").write_text("a,b\n", encoding="utf-8")
    with pytest.raises(ReportFolderError, match=r"data\.csv"):
        check_report_dir(tmp_path / "other")
    (tmp_path / "file").write_text("x", encoding="utf-8")
    with pytest.raises(Exception, match="not a folder"):
        check_report_dir(tmp_path / "file")


def test_a_hostile_manifest_cannot_make_the_report_delete_other_files(tmp_path):
    """A manifest naming paths outside the report's own names is not trusted."""
    target = tmp_path / "r"
    target.mkdir()
    (tmp_path / "precious.txt").write_text("x", encoding="utf-8")
    (target / "data.csv").write_text("x", encoding="utf-8")
    (target / MANIFEST).write_text(
        json.dumps({"kind": "ptmscope-report", "version": 1, "files": {"../precious.txt": None, "data.csv": None}}),
        encoding="utf-8",
    )
    with pytest.raises(ReportFolderError, match="not a ptmscope report folder"):
        check_report_dir(target)
    folder = check_report_dir(target, force=True)
    folder.write({"index.html": b"<html></html>"})
    assert (tmp_path / "precious.txt").exists() and (target / "data.csv").exists()


def test_a_report_killed_while_writing_leaves_a_folder_the_next_report_takes_over(tmp_path):
    """SIGKILL between the claim and the final manifest: the claimed files stay the report's."""
    target = tmp_path / "r"
    script = textwrap.dedent(
        f"""
        import os, signal
        from pathlib import Path
        from ptmscope.report import output
        real = output._atomic_write
        calls = []
        def dying(path, data):
            calls.append(path)
            if len(calls) == 3:  # manifest claim, figures/a.svg, then die writing index.html
                os.kill(os.getpid(), signal.SIGKILL)
            real(path, data)
        output._atomic_write = dying
        output.check_report_dir({str(target)!r}).write(
            {{"index.html": b"new", "report.md": b"new", "figures/a.svg": b"<svg/>"}}
        )
        """
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(Path(__file__).parents[2] / "src"), *sys.path]))
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()
    assert (target / "figures" / "a.svg").read_bytes() == b"<svg/>" and not (target / "index.html").exists()
    folder = check_report_dir(target)
    assert set(folder.owned) == {"index.html", "report.md", "figures/a.svg"} and folder.foreign == []
    folder.write({"index.html": b"v2"})
    assert _tree(target).keys() == {"index.html", MANIFEST}  # the half-written report's figure is gone
