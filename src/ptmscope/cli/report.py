"""``ptmscope report``, ``ptmscope run`` and ``ptmscope demo``."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated, Any

import typer

from ..engine import ENGINES
from ..pipeline import METRIC_NAMES
from ._apps import StoreOpt, app, console, out

EngineChoice = enum.Enum("EngineChoice", {e: e for e in ENGINES}, type=str)  # type: ignore[misc]
MetricChoice = enum.Enum("MetricChoice", {m: m for m in METRIC_NAMES}, type=str)  # type: ignore[misc]


def _progress(msg: str) -> None:
    console.print(msg, highlight=False, markup=False, soft_wrap=True)


@app.command("report")
def report_cmd(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for index.html, report.md, results.json, figures/.")],
    store: StoreOpt = None,
    engine: Annotated[EngineChoice, typer.Option("--engine", help="Ibis backend to compute on.")] = EngineChoice(
        "duckdb"
    ),  # type: ignore[assignment]
    metric: Annotated[
        list[MetricChoice] | None, typer.Option("--metric", help="Only these metrics (repeatable); default all.")
    ] = None,
    rules: Annotated[Path | None, typer.Option("--rules", help="Verdict rules TOML (default: built-in).")] = None,
    catalogue: Annotated[Path | None, typer.Option("--catalogue", help="Claims TOML (default: built-in).")] = None,
    k: Annotated[int, typer.Option("--k", min=1, help="K of the top-K turnover.")] = 1000,
    score_cards: Annotated[
        bool,
        typer.Option(
            "--score-cards/--no-score-cards",
            help="Score not-yet-scored model cards with the rules scorer first (stored in the store).",
        ),
    ] = True,
) -> None:
    """Compute every metric and claim verdict on the store and write the report."""
    from ..engine import connect
    from ..pipeline import _close, analyse, ensure_writable_dir, require_hub_snapshot
    from ..pipeline import score_cards as _score
    from ..report import write_report
    from ..store import Store, check_store_path, resolve_store_path

    path = resolve_store_path(store)
    check_store_path(path, read_only=True)  # before the report folder is touched
    ensure_writable_dir(out_dir)
    with Store(path, read_only=not score_cards) as st:
        require_hub_snapshot(st, path)
        if score_cards:
            _score(st, _progress)
    backend: Any = connect(path, engine.value)
    try:
        analysis = analyse(
            backend,
            include=[m.value for m in metric] if metric else None,
            params={"turnover": {"k": k}},
            catalogue_path=catalogue,
            rules_path=rules,
            progress=_progress,
        )
    finally:
        _close(backend)
    write_report(analysis, out_dir)
    out.print(f"report: {out_dir / 'index.html'}", highlight=False)


@app.command("run")
def run_cmd(
    config: Annotated[Path, typer.Argument(metavar="CONFIG", help="Run config TOML (sources, metrics, report).")],
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Report folder (overrides the config's report.out).")
    ] = None,
) -> None:
    """Ingest the config's sources (skipping those already in the store), compute everything, write the report."""
    from ..pipeline import run

    target = run(config, progress=_progress, out=out_dir)
    out.print(f"report: {target / 'index.html'}", highlight=False)


@app.command("demo")
def demo_cmd(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the demo store and report.")] = Path(
        "ptmscope-demo"
    ),
    seed: Annotated[int, typer.Option("--seed", help="Seed of the synthetic world.")] = 0,
    models: Annotated[int, typer.Option("--models", min=100, help="Hub models per synthetic snapshot.")] = 4000,
) -> None:
    """Generate a SYNTHETIC Hub/npm/PyPI world, run the whole pipeline on it, print where the report is."""
    from ..pipeline import demo

    console.print("generating a SYNTHETIC world (seeded simulation, not real registry data)", highlight=False)
    target = demo(out_dir, seed=seed, models=models, progress=_progress)
    out.print(f"SYNTHETIC demo report: {target / 'index.html'}", highlight=False)
    out.print(f"open it with: xdg-open {target / 'index.html'}  (or any browser; works offline)", highlight=False)
