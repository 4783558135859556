"""``ptmscope export``: a table, a filtered table, a read-only SQL query or the per-model documentation scores
to Parquet, CSV or JSON lines."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated

import typer

from ..errors import PtmscopeError
from ..export import EXPORT_FORMATS
from ._apps import EveryOpt, JsonOpt, SinceOpt, StoreOpt, UntilOpt, app, console, print_json, selected_ids

ExportFormatChoice = enum.Enum("ExportFormatChoice", {f: f for f in EXPORT_FORMATS}, type=str)  # type: ignore[misc]


@app.command("export")
def export_cmd(
    out: Annotated[
        str,
        typer.Argument(
            metavar="OUT", help="File to write (.parquet, .csv, .jsonl), or - for standard output (csv, jsonl)."
        ),
    ],
    table: Annotated[str | None, typer.Option("--table", help="A store table, e.g. packages or snapshots.")] = None,
    sql: Annotated[
        str | None,
        typer.Option("--sql", help="One read-only query (SELECT/WITH/FROM ...); ? placeholders take --param values."),
    ] = None,
    doc_scores: Annotated[
        bool,
        typer.Option("--doc-scores", help="The per-model documentation scores (card, metadata, documentation)."),
    ] = False,
    snapshots: Annotated[
        str | None,
        typer.Option(
            "--snapshots",
            help="Only these snapshots of --table (comma-separated ids, unique id prefixes or dates); "
            "with --doc-scores, the one snapshot.",
        ),
    ] = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    every: EveryOpt = None,
    where: Annotated[
        str | None,
        typer.Option("--where", help='SQL condition on --table\'s rows, e.g. "downloads >= ?" with --param 1000.'),
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option("--param", help="A value for the next ? in --where or --sql (repeat in order)."),
    ] = None,
    scorer: Annotated[
        str | None, typer.Option("--scorer", help="With --doc-scores: the card scorer (default: rules).")
    ] = None,
    fmt: Annotated[
        ExportFormatChoice | None,
        typer.Option("--format", help="Output format (default: from OUT's suffix)."),
    ] = None,
    store: StoreOpt = None,
    json: JsonOpt = False,
) -> None:
    """Write data out of the store (opened read-only) to Parquet, CSV or JSON lines; SQL that writes is refused."""
    from ..export import export, export_doc_scores

    chosen = sum(x for x in (table is not None, sql is not None, doc_scores))
    if chosen != 1:
        raise PtmscopeError("name what to export: exactly one of --table, --sql or --doc-scores")
    ids = selected_ids(store, None, snapshots, since, until, every)
    kind = fmt.value if fmt is not None else None
    if doc_scores:
        if where or param:
            raise PtmscopeError("--where/--param apply to --table and --sql, not --doc-scores")
        if ids and len(ids) > 1:
            raise PtmscopeError("--doc-scores takes one snapshot id")
        res = export_doc_scores(out, store=store, snapshot_id=ids[0] if ids else None, scorer_key=scorer, fmt=kind)
    else:
        if scorer:
            raise PtmscopeError("--scorer applies to --doc-scores")
        res = export(
            out, store=store, table=table, sql=sql, snapshot_ids=ids, where=where, params=param or [], fmt=kind
        )
    if json and res.path != "-":
        print_json(res.to_dict())
    elif res.path != "-":
        console.print(f"{res.rows:,} rows, {len(res.columns)} columns written to {Path(res.path)} ({res.format})")
