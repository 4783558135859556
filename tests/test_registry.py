"""The metric registry: every metric is one module plus one registration, and everything reads it."""

from __future__ import annotations

import ast
import inspect
import json
import re
import sys
from pathlib import Path

import pytest

from realdata import ROOT

sys.path.insert(0, str(Path(__file__).parent / "report"))

from world import make_world

from ptmscope.metrics import registry

SRC = ROOT / "src" / "ptmscope"


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    from ptmscope.pipeline import score_cards
    from ptmscope.store import Store

    path = make_world(tmp_path_factory.mktemp("reg") / "world.duckdb", n=120, evil=False, n_snapshots=3)
    with Store(path) as st:
        score_cards(st)
        _add_files_commits_dependents(st)
    return path


def _add_files_commits_dependents(st) -> None:
    """File lists on the newest snapshot, a commit log and a dependents mapping: what the newer metrics read."""
    import datetime as dt

    from ptmscope.schema import Snapshot, SnapshotBatch, make_snapshot_id, to_table

    newest = st.con.execute(
        "SELECT snapshot_id FROM snapshots WHERE registry = 'hf' ORDER BY taken_at DESC LIMIT 1"
    ).fetchone()[0]
    ids = [r[0] for r in st.con.execute("SELECT package_id FROM packages WHERE snapshot_id = ?", [newest]).fetchall()]
    files = [
        (newest, pid, "model.safetensors" if i % 3 else "pytorch_model.bin", 1000 + i) for i, pid in enumerate(ids)
    ]
    st.con.executemany("INSERT INTO package_files VALUES (?, ?, ?, ?)", files)
    messages = ["Update README.md", "fix tokenizer config", "Upload model", "Adding `safetensors` variant"]
    repos, commit, when, author, message = [], [], [], [], []
    for i, pid in enumerate(ids[:80]):
        for j in range(1 + i % 4):
            repos.append(pid)
            commit.append(f"{i:04d}{j:04d}" + "0" * 32)
            when.append(dt.datetime(2021 + j % 2, 1 + (i + j) % 12, 1, tzinfo=dt.UTC))
            author.append("someone")
            message.append(messages[(i + j) % len(messages)])
    for registry_rows, fmt, extra in (
        ({"package_id": sorted(set(repos))}, "commit-log", None),
        ({"package_id": ids[:40]}, "gh-dependents", None),
    ):
        sha = fmt.ljust(64, "0")
        taken = dt.date(2022, 12, 1)
        sid = make_snapshot_id("hf", taken, sha)
        pk = dict(registry_rows, raw_id=list(registry_rows["package_id"]))
        tables = {"packages": to_table("packages", pk, sid)}
        if fmt == "commit-log":
            tables["commits"] = to_table(
                "commits",
                {"package_id": repos, "commit_id": commit, "committed_at": when, "author": author, "message": message},
                sid,
            )
        else:
            tables["dependents"] = to_table(
                "dependents",
                {
                    "package_id": ids[:40],
                    "dependent": [f"github:org{i % 7}/repo{i}" for i in range(40)],
                    "kind": ["github"] * 40,
                },
                sid,
            )
        snap = Snapshot(sid, "hf", taken, fmt, f"{fmt}.csv", sha, len(pk["package_id"]), "test", synthetic=True)
        st.add_batch(SnapshotBatch(snap, tables))
        del extra
    # a Hub dataset listing with dataset cards (some with the template's sections, some thin)
    n = 60
    ds = [f"org{i % 5}/data{i}" for i in range(n)]
    full = "## Dataset Description\n\nText.\n\n## Dataset Structure\n\nFields.\n\n## Additional Information\n\nMIT.\n"
    texts = [full if i % 2 else "# data\n" for i in range(n)]
    sha = "datasets".ljust(64, "0")
    taken = dt.date(2023, 3, 16)
    sid = make_snapshot_id("hf-datasets", taken, sha)
    tables = {
        "packages": to_table("packages", {"package_id": ds, "raw_id": ds, "downloads": [i * 3 for i in range(n)]}, sid),
        "cards": to_table(
            "cards", {"package_id": ds, "text": texts, "text_sha256": [None] * n, "missing": [False] * n}, sid
        ),
    }
    st.add_batch(
        SnapshotBatch(Snapshot(sid, "hf-datasets", taken, "hf-datasets", "ds.parquet", sha, n, "test"), tables)
    )
    from ptmscope.pipeline import score_cards

    score_cards(st)


# --- every registered metric has a command, JSON, a figure, report tables, a rule ------------------------


@pytest.mark.parametrize("name", registry.names())
def test_every_metric_has_a_command_json_figure_and_tables(name, cli, world, tmp_path, monkeypatch):
    metric = registry.get(name)
    monkeypatch.setenv("COLUMNS", "300")  # rich cuts long option names to the terminal width
    code, out, err = cli("metric", name, "--help")
    assert code == 0 and "--json" in out and "--store" in out, err
    for field in metric.params.model_fields:
        assert "--" + field.replace("_", "-") in out, f"{name}: option for {field} missing from --help"
    assert metric.figure is not None, f"{name} has no figure"
    assert metric.tables is not None, f"{name} has no report tables"
    small = {"n_boot": 20} if "n_boot" in metric.params.model_fields else {}
    args = [a for k, v in small.items() for a in ("--" + k.replace("_", "-"), str(v))]
    plot = tmp_path / f"{name}.svg"
    code, out, err = cli("metric", name, *args, "--json", "--plot", plot, "--store", world)
    if code == 1 and "no complete" in err:
        pytest.skip(f"{name}: not measurable on the small world ({err.strip()})")
    assert code == 0, err
    data = json.loads(out)
    assert data.get("metric") or data.get("inputs"), data.keys()
    assert plot.read_text(encoding="utf-8").lstrip().startswith("<?xml")
    assert isinstance(metric.tables(data), list)


def test_every_metric_has_a_verdict_rule_or_says_why_not():
    from ptmscope.claims import load_catalogue, load_rules

    cat = load_catalogue(known_metrics=set(registry.names()))
    ruled = {r.metric for r in load_rules(catalogue=cat, known_metrics=set(registry.names()))}
    for name, m in registry.metrics().items():
        assert name in ruled or (m.no_rule and m.no_rule.strip()), f"{name}: no verdict rule and no stated reason"


# --- a metric's name is written once in src/ ----------------------------------------------------------------

# Other meanings of the same word (not references to the metric), each with why it is not one.
SAME_WORD_ELSEWHERE = {
    ("metrics/docs.py", "descendants"): "C3's popularity measure 'number of direct descendants'",
    ("metrics/preservation.py", "descendants"): "a column header: a library's descendants",
    ("metrics/naming.py", "naming"): "a per-family count key ('naming' models)",
}


def _string_constants(path: Path) -> list[tuple[int, str, bool]]:
    """(line, value, is it ``NAME = "..."``) of a module's string constants, without docstrings and __all__."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip: set[int] = set()
    declared = {
        id(n.value)
        for n in ast.walk(tree)
        if isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "NAME" for t in n.targets)
    }
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        first = body[0] if isinstance(body, list) and body else None
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
            skip.add(id(first.value))
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            for elt in getattr(node.value, "elts", []):
                skip.add(id(elt))
    return [
        (n.lineno, n.value, id(n) in declared)
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in skip
    ]


def test_a_metric_name_is_written_once_in_src():
    names = set(registry.names())
    found: dict[str, list[str]] = {n: [] for n in names}
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC).as_posix()
        for line, value, is_name in _string_constants(path):
            if value in names and (is_name or (rel, value) not in SAME_WORD_ELSEWHERE):
                found[value].append(f"{rel}:{line}")
    for name, places in found.items():
        assert len(places) == 1, f"metric name {name!r} is written in {places}: refer to the metric's NAME instead"
        assert places[0].startswith("metrics/"), places


# --- one set of defaults ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", registry.names())
def test_cli_defaults_are_the_params_defaults(name):
    from ptmscope.cli import metric as cli_metric

    m = registry.get(name)
    cmd = cli_metric._make_command(m)
    sig = inspect.signature(cmd)
    for field, info in m.params.model_fields.items():
        default = sig.parameters[field].default
        shown = getattr(default, "value", default)
        if isinstance(info.default, tuple):
            continue  # lists are typed as comma-separated text; the help shows the default
        assert shown == info.default, f"{name}.{field}: CLI default {shown!r} != Params default {info.default!r}"


def test_library_and_pipeline_defaults_are_the_params_defaults(world):
    from ptmscope.metrics import descendants, preservation, turnover
    from ptmscope.metrics.descendants import DescendantsParams
    from ptmscope.metrics.preservation import PreservationParams
    from ptmscope.metrics.turnover import TurnoverParams
    from ptmscope.pipeline import compute_metrics
    from ptmscope.store import Store

    # the library functions' keyword defaults come from the same Params objects
    for fn, params, mapping in (
        (preservation, PreservationParams(), {"n_boot": "n_boot", "mode": "mode", "seed": "seed"}),
        (descendants, DescendantsParams(), {"n_boot": "n_boot", "popularity": "popularity"}),
        (turnover, TurnoverParams(), {"k": "top", "tie_rule": "ties"}),
    ):
        sig = inspect.signature(fn)
        for arg, field in mapping.items():
            assert sig.parameters[arg].default == getattr(params, field), (fn.__name__, arg)
    # the pipeline runs every metric with its Params defaults when the config says nothing
    with Store(world, read_only=True) as st:
        out = compute_metrics(st.backend, include=["preservation", "descendants"])
    assert out["preservation"].params == PreservationParams().model_dump(mode="json")
    assert out["descendants"].params == DescendantsParams().model_dump(mode="json")


# --- bad run configs: one line with file, line and the fix ----------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "[metrics.growth]\nmin_cuont = 5\n",
            r"run.toml:2: \[metrics.growth\] min_cuont: unknown key; did you mean min_count\?",
        ),
        ('[metrics.turnover]\ntop = "abc"\n', r"run.toml:2: \[metrics.turnover\] top: expected an integer, got 'abc'"),
        ("[metrics.turnover]\nK = 5\n", r"run.toml:2: \[metrics.turnover\] K: unknown key; allowed: "),
        ('stroe = "x.duckdb"\n', r"run.toml:1: stroe: unknown key; did you mean store\?"),
        ('[[sources]]\npath = "a"\ndate = "15/06/2022"\n', r"run.toml:3: \[\[sources\]\] #1 date: expected a date"),
        ('[[sources]]\npath = "a"\nformat = 5\n', r"run.toml:3: \[\[sources\]\] #1 format: expected a string, got 5"),
        (
            '[[sources]]\npath = "a"\nregistry = "cran"\n',
            r"run.toml:3: \[\[sources\]\] #1 registry: 'cran' is not one of",
        ),
        (
            '[[sources]]\npath = "a"\nformat = "hf-apii"\n',
            r"run.toml:3: .*unknown format 'hf-apii'; did you mean hf-api\?",
        ),
        ('[[sources]]\npath = "a"\ncards = 5\n', r"run.toml:3: \[\[sources\]\] #1 cards: "),
        (
            '[metrics]\ninclude = ["grwoth"]\n',
            r"run.toml:2: \[metrics\] include: unknown metric 'grwoth'; did you mean growth\?",
        ),
        (
            '[[runs]]\nlabel = "x"\nmetric = "turnvoer"\n',
            r"run.toml:3: \[\[runs\]\] #1 metric: unknown metric 'turnvoer'; did you mean turnover\?",
        ),
        (
            '[[runs]]\nlabel = "x"\nmetric = "turnover"\ntopp = 3\n',
            r"run.toml:4: \[\[runs\]\] #1 topp: unknown key; did you mean top\?",
        ),
    ],
)
def test_bad_run_configs_are_one_line_with_file_line_and_fix(cli, tmp_path, body, expected):
    cfg = tmp_path / "run.toml"
    cfg.write_text('store = "s.duckdb"\n' * ("store" not in body and "stroe" not in body) + body, encoding="utf-8")
    if "store" not in body and "stroe" not in body:
        expected = expected.replace("run.toml:", "run.toml:", 1)
        # one line was added on top: shift the expected line number
        expected = re.sub(r"run\.toml:(\d+)", lambda m: f"run.toml:{int(m.group(1)) + 1}", expected)
    code, out, err = cli("run", cfg)
    assert code == 1 and out == "", err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert re.search(expected, lines[0]), lines[0]
    assert not (tmp_path / "s.duckdb").exists(), "the store was created before the config was validated"


def test_missing_config_and_a_folder_are_one_line(cli, tmp_path):
    code, _, err = cli("run", tmp_path / "absent.toml")
    assert code == 1 and "absent.toml: no such file" in err
    (tmp_path / "dir.toml").mkdir()
    code, _, err = cli("run", tmp_path / "dir.toml")
    assert code == 1 and "dir.toml: is a folder" in err and len(err.strip().splitlines()) == 1


# --- user metrics: a module named in a run config, used by a rule -------------------------------------------

PLUGIN = """
from pydantic import Field
from ptmscope.metrics.registry import Context, Metric, Params, ReportTable, register


class ShareParams(Params):
    min_downloads: int = Field(100, ge=0, description="Popular means at least this many downloads.")


def compute(ctx: Context, p: ShareParams) -> dict:
    t = ctx.backend.table("packages")
    n = int(t.count().execute())
    k = int(t.filter(t.downloads >= p.min_downloads).count().execute())
    return {"metric": "popular_share", "n": n, "popular": k, "share": k / n}


def figure(result, p):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.bar(["popular", "rest"], [result["popular"], result["n"] - result["popular"]])
    return fig


METRIC = register(Metric(name="popular_share", title="Share of popular models", params=ShareParams,
                         compute=compute, figure=figure,
                         tables=lambda d: [ReportTable("counts", ("n", "popular"), [[d["n"], d["popular"]]])],
                         key_numbers=(("share", "share of popular models"),)))
"""

USER_CATALOGUE = """
schema_version = 2
kind = "user"

[source]
id = "mine"
label = "my claims"

[[claims]]
id = "my.popular"
theme = "Mine"
text = "Few models are popular."
metrics = ["popular_share"]

[[rules]]
id = "my.popular-rule"
claim = "my.popular"
metric = "popular_share"
description = "Fewer than half of the models reach the popularity threshold."
supported = [{ path = "share", op = "<", value = 0.5 }]
not_supported = [{ path = "share", op = ">=", value = 0.5 }]
"""


def test_a_user_metric_from_a_run_config_is_computed_and_judged(cli, tmp_path, world):
    import shutil

    from ptmscope.store import Store

    (tmp_path / "my_metrics.py").write_text(PLUGIN, encoding="utf-8")
    (tmp_path / "mine.toml").write_text(USER_CATALOGUE, encoding="utf-8")
    store = tmp_path / "w.duckdb"
    shutil.copy(world, store)
    cfg = tmp_path / "run.toml"
    cfg.write_text(
        'store = "w.duckdb"\nplugins = ["my_metrics.py"]\ncatalogue = "mine.toml"\n'
        '[metrics]\ninclude = ["popular_share"]\n[metrics.popular_share]\nmin_downloads = 50\n'
        '[report]\nout = "rep"\n',
        encoding="utf-8",
    )
    try:
        code, _out, err = cli("run", cfg)
        assert code == 0, err
        r = json.loads((tmp_path / "rep" / "results.json").read_text(encoding="utf-8"))
        res = r["metrics"]["popular_share"]["result"]
        with Store(store, read_only=True) as st:
            n, k = st.con.execute("SELECT count(*), count(*) FILTER (downloads >= 50) FROM packages").fetchone()
        assert (res["n"], res["popular"]) == (n, k)
        verdicts = [v for c in r["claims"] for v in c.get("verdicts", []) if v["rule"] == "my.popular-rule"]
        assert len(verdicts) == 1
        assert verdicts[0]["verdict"] == ("supported" if k / n < 0.5 else "not supported")
    finally:
        registry.unregister("popular_share")


def test_a_sql_metric_from_a_run_config(cli, tmp_path, world):
    import shutil

    shutil.copy(world, tmp_path / "w.duckdb")
    cfg = tmp_path / "run.toml"
    cfg.write_text(
        'store = "w.duckdb"\n[metrics]\ninclude = ["hf_rows"]\n[[metrics.sql]]\nname = "hf_rows"\n'
        'query = "SELECT count(*) AS n FROM packages p JOIN snapshots s USING (snapshot_id) '
        "WHERE s.registry = 'hf' AND s.source_format = 'test-world'\"\n"
        '[report]\nout = "rep"\n',
        encoding="utf-8",
    )
    try:
        code, _out, err = cli("run", cfg)
        assert code == 0, err
        r = json.loads((tmp_path / "rep" / "results.json").read_text(encoding="utf-8"))
        assert r["metrics"]["hf_rows"]["result"]["values"]["n"] == 120 * 3
    finally:
        registry.unregister("hf_rows")


def test_a_sql_metric_must_be_a_query(tmp_path):
    from ptmscope.errors import PtmscopeError

    with pytest.raises(PtmscopeError, match="one SELECT"):
        registry.sql_metric("bad", "DELETE FROM packages")


# --- the README's Python API example runs -----------------------------------------------------------------


def test_readme_python_example_runs(world, tmp_path, monkeypatch):
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## In a notebook.*?```python\n(.*?)```", text, re.S)
    assert block, "README must show the Python API in a ```python block under 'In a notebook'"
    code = block.group(1).replace("out/ptmscope-real.duckdb", str(world))
    # the example's registry and dates are the real data's; the small world has hf snapshots only
    code = code.replace('registry="pypi"', 'registry="hf"').replace(
        '"pypi", since="2019-01-01"', '"hf", since="2022-01-01"'
    )
    ns: dict[str, object] = {}
    exec(compile(code, "README.md", "exec"), ns)
    import pandas as pd
    from matplotlib.figure import Figure

    res = ns["res"]
    steps = res.to_pandas()["steps"]  # type: ignore[attr-defined]
    assert isinstance(steps, pd.DataFrame) and str(steps["taken_at"].dtype).startswith("datetime64")
    assert isinstance(ns["fig"], Figure)
