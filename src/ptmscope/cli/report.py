"""``ptmscope report``, ``ptmscope run`` and ``ptmscope demo``."""

from __future__ import annotations

import enum
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from ..engine import ENGINES
from ..errors import PtmscopeError
from ..metrics import registry
from ._apps import StoreOpt, app, console, out

EngineChoice = enum.Enum("EngineChoice", {e: e for e in ENGINES}, type=str)  # type: ignore[misc]
MetricChoice = enum.Enum("MetricChoice", {m: m for m in registry.names()}, type=str)  # type: ignore[misc]


def parse_settings(settings: list[str] | None) -> dict[str, dict[str, Any]]:
    """``METRIC.PARAM=VALUE`` pairs (VALUE read as a TOML value, else as text) into per-metric params."""
    import tomllib

    out_: dict[str, dict[str, Any]] = {}
    for item in settings or []:
        key, sep, raw = item.partition("=")
        metric, dot, param = key.strip().partition(".")
        if not sep or not dot or not metric or not param:
            raise PtmscopeError(f"--set {item!r}: expected METRIC.PARAM=VALUE, e.g. turnover.top=500")
        registry.get(metric)
        try:
            value = tomllib.loads(f"v = {raw.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw.strip()
        out_.setdefault(metric, {})[param] = value
    for metric, values in out_.items():
        registry.get(metric).parse_params(values, where="--set")
    return out_


def _progress(msg: str) -> None:
    console.print(msg, highlight=False, markup=False, soft_wrap=True)


ForceOpt = Annotated[
    bool,
    typer.Option(
        "--force",
        help="Write into a folder holding files this report did not write (same-named ones are replaced; "
        "nothing else is touched).",
    ),
]


@contextmanager
def _force_hint() -> Iterator[None]:
    from ..report.output import ReportFolderError

    try:
        yield
    except ReportFolderError as exc:
        raise PtmscopeError(f"{exc} with --force") from None


@app.command("report")
def report_cmd(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for index.html, report.md, results.json, figures/.")],
    store: StoreOpt = None,
    engine: Annotated[EngineChoice, typer.Option("--engine", help="Ibis backend to compute on.")] = EngineChoice(
        "duckdb"
    ),
    metric: Annotated[
        list[MetricChoice] | None, typer.Option("--metric", help="Only these metrics (repeatable); default all.")
    ] = None,
    rules: Annotated[Path | None, typer.Option("--rules", help="Verdict rules TOML (default: built-in).")] = None,
    catalogue: Annotated[
        Path | None,
        typer.Option(
            "--catalogue",
            help='Catalogue TOML: kind "review" replaces the built-in review, kind "user" adds your own claims.',
        ),
    ] = None,
    settings: Annotated[
        list[str] | None,
        typer.Option("--set", help="A metric parameter, METRIC.PARAM=VALUE (repeatable), e.g. --set turnover.top=500."),
    ] = None,
    score_cards: Annotated[
        bool,
        typer.Option(
            "--score-cards/--no-score-cards",
            help="Score not-yet-scored model cards with the rules scorer first (stored in the store).",
        ),
    ] = True,
    force: ForceOpt = False,
) -> None:
    """Compute every metric and claim verdict on the store and write the report."""
    from ..engine import connect
    from ..pipeline import _close, analyse, require_hub_snapshot
    from ..pipeline import score_cards as _score
    from ..report import write_report
    from ..report.output import check_report_dir
    from ..store import Store, check_store_path, resolve_store_path

    params = parse_settings(settings)
    path = resolve_store_path(store)
    check_store_path(path, read_only=True)  # before the report folder is touched
    with _force_hint():
        check_report_dir(out_dir, force=force)
    with Store(path, read_only=not score_cards) as st:
        require_hub_snapshot(st, path)
        if score_cards:
            _score(st, _progress)
    backend: Any = connect(path, engine.value)
    try:
        analysis = analyse(
            backend,
            include=[m.value for m in metric] if metric else None,
            params=params,
            catalogue_path=catalogue,
            rules_path=rules,
            progress=_progress,
        )
    finally:
        _close(backend)
    with _force_hint():
        write_report(analysis, out_dir, force=force)
    out.print(f"report: {out_dir / 'index.html'}", highlight=False)


@app.command("run")
def run_cmd(
    config: Annotated[Path, typer.Argument(metavar="CONFIG", help="Run config TOML (sources, metrics, report).")],
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Report folder (overrides the config's report.out).")
    ] = None,
    force: ForceOpt = False,
) -> None:
    """Ingest the config's sources (skipping those already in the store), compute everything, write the report."""
    from ..pipeline import run

    with _force_hint():
        target = run(config, progress=_progress, out=out_dir, force=force)
    out.print(f"report: {target / 'index.html'}", highlight=False)


@app.command("demo")
def demo_cmd(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the demo store and report.")] = Path(
        "ptmscope-demo"
    ),
    seed: Annotated[int, typer.Option("--seed", help="Seed of the synthetic world.")] = 0,
    models: Annotated[int, typer.Option("--models", min=100, help="Hub models per synthetic snapshot.")] = 4000,
    force: ForceOpt = False,
) -> None:
    """Generate a SYNTHETIC Hub/npm/PyPI world, run the whole pipeline on it, print where the report is."""
    from ..pipeline import demo

    console.print("generating a SYNTHETIC world (seeded simulation, not real registry data)", highlight=False)
    with _force_hint():
        target = demo(out_dir, seed=seed, models=models, progress=_progress, force=force)
    out.print(f"SYNTHETIC demo report: {target / 'index.html'}", highlight=False)
    out.print(f"open it with: xdg-open {target / 'index.html'}  (or any browser; works offline)", highlight=False)
