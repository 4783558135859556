"""``ptmscope synth``: generate a seeded synthetic world (clearly labelled synthetic).

``--out`` ending in ``.duckdb`` (or an existing store file) writes straight
into that store; any other path is a folder that receives the snapshots in
the publishers' own formats (Hub API JSON lines, top-pypi JSON, npm
download-counts JSON) for ``ptmscope ingest``.

JSON output (``--json``): ``{"synthetic": true, "config": {...}, "out": PATH,
"snapshots": [{"snapshot_id", "registry", "taken_at", "rows", "created"}]}``
for a store, ``{"synthetic": true, "config": {...}, "out": PATH, "files": [...]}``
for a folder.
"""

from __future__ import annotations

import datetime as dt
import enum
import time
from pathlib import Path
from typing import Annotated

import typer

from ..errors import InputError
from ..synth import CARDS_MODES, SynthConfig, write_files, write_store
from ._apps import JsonOpt, app, console, out, print_json

CardsChoice = enum.Enum("CardsChoice", {m: m for m in CARDS_MODES}, type=str)  # type: ignore[misc]


def _is_store(path: Path) -> bool:
    return path.suffix in (".duckdb", ".db") or path.is_file()


@app.command("synth")
def synth(
    out_path: Annotated[Path, typer.Option("--out", help="A store file (*.duckdb) or a folder for files.")],
    models: Annotated[int, typer.Option("--models", help="Hub models in each snapshot.")] = SynthConfig.models,
    snapshots: Annotated[
        int, typer.Option("--snapshots", help="Dated snapshots per registry.")
    ] = SynthConfig.snapshots,
    seed: Annotated[int, typer.Option("--seed", help="Random seed: same seed, same data.")] = SynthConfig.seed,
    start: Annotated[
        str, typer.Option("--start", help="Date of the first snapshot (YYYY-MM-DD).")
    ] = SynthConfig.start.isoformat(),
    step_days: Annotated[int, typer.Option("--step-days", help="Days between snapshots.")] = SynthConfig.step_days,
    cards: Annotated[
        CardsChoice, typer.Option("--cards", help="Model cards for all snapshots, the last one, or none.")
    ] = CardsChoice(SynthConfig.cards),
    top_list_size: Annotated[
        int, typer.Option("--top-list-size", help="Rows of each npm / PyPI top list.")
    ] = SynthConfig.top_list_size,
    as_json: JsonOpt = False,
) -> None:
    """Generate a seeded, realistic SYNTHETIC world: Hub-like models, npm and PyPI top lists."""
    try:
        start_date = dt.date.fromisoformat(start)
    except ValueError:
        raise InputError("--start", f"not a date (YYYY-MM-DD): {start!r}") from None
    cfg = SynthConfig(
        models=models,
        snapshots=snapshots,
        seed=seed,
        start=start_date,
        step_days=step_days,
        cards=cards.value,
        top_list_size=top_list_size,
    )
    t0 = time.perf_counter()
    say = None if as_json else (lambda msg: console.print(msg, highlight=False, markup=False))
    if _is_store(out_path):
        res = write_store(out_path, cfg, progress=say)
        if as_json:
            print_json(
                {
                    "synthetic": True,
                    "config": cfg.to_dict(),
                    "out": str(out_path),
                    "snapshots": [r.to_dict() for r in res],
                }
            )
            return
        new = sum(r.created for r in res)
        out.print(
            f"SYNTHETIC world (seed {seed}): {new} new snapshot(s), {len(res) - new} already present, "
            f"in {out_path} ({time.perf_counter() - t0:.1f} s)",
            highlight=False,
        )
    else:
        files = write_files(out_path, cfg, progress=say)
        if as_json:
            print_json(
                {"synthetic": True, "config": cfg.to_dict(), "out": str(out_path), "files": [str(p) for p in files]}
            )
            return
        out.print(
            f"SYNTHETIC world (seed {seed}): {len(files)} files in {out_path} ({time.perf_counter() - t0:.1f} s)",
            highlight=False,
        )
