"""``ptmscope reproduce esem24``: the paper's C1/C2 numbers on the data at hand."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._apps import JsonOpt, console, out, print_json, reproduce_app


@reproduce_app.command("esem24")
def esem24_cmd(
    data: Annotated[Path, typer.Option("--data", help="Folder laid out like ../shared/data (see its README).")],
    out_dir: Annotated[
        Path,
        typer.Option(
            "--out", help="Where to write esem24.md, esem24.json, the figures and the standard report (OUT/report)."
        ),
    ],
    store: Annotated[
        Path | None,
        typer.Option(
            "--store",
            help=(
                "Store file (DuckDB) to ingest into and read. Default: OUT/esem24.duckdb ($PTMSCOPE_STORE is not used)."
            ),
            show_default=False,
        ),
    ] = None,
    n_boot: Annotated[
        int, typer.Option("--n-boot", min=0, help="Bootstrap resamples for the intervals of every run of the study.")
    ] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Bootstrap seed.")] = 0,
    no_figures: Annotated[
        bool, typer.Option("--no-figures", help="Skip the fig5/6/7 PNG files (the report keeps its figures).")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Run C1/C2 on --data through the pipeline and compare with the paper."""
    from ..reproduce import reproduce_esem24, to_markdown

    rep = reproduce_esem24(data, out_dir, store_path=store, n_boot=n_boot, seed=seed, figures=not no_figures)
    for w in rep.warnings:
        console.print(f"[yellow]warning:[/] {w}", highlight=False)
    console.print(
        f"wrote {out_dir / 'esem24.md'}, {out_dir / 'esem24.json'} and the report {rep.report} in {rep.seconds:.1f} s"
    )
    if json_out:
        print_json(rep.to_dict())
    else:
        out.print(to_markdown(rep), markup=False, highlight=False)
