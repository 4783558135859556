"""``ptmscope ingest``, ``ptmscope snapshots``, ``ptmscope info``: data in, and what is there.

JSON output (``--json``), stable and documented in ``docs/data-model.md``:

* ``ingest``: ``{"results": [{"path", "format", "snapshot_id", "registry",
  "taken_at", "rows", "created", "notes", "warnings"}]}``;
* ``snapshots``: ``{"snapshots": [{"snapshot_id", "registry", "taken_at",
  "source_format", "source_file", "source_sha256", "row_count",
  "importer_version", "notes", "status", "synthetic"}]}``;
* ``info``: :meth:`ptmscope.info.SnapshotInfo.to_dict`.

``--format csv|tsv`` gives the same records as rows (``info``: section, name, value).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape as rich_escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..errors import InputError, StoreError
from ..schema import REGISTRIES, SNAPSHOT_COLUMNS
from ..sources import FORMATS, ingest, plan
from ._apps import EveryOpt, JsonOpt, SinceOpt, StoreOpt, UntilOpt, app, console, out, print_json, selected_ids
from ._output import FormatOpt, OutputFormat, emit, render_table, resolve_format

FormatChoice = enum.Enum("FormatChoice", {f.replace("-", "_"): f for f in FORMATS}, type=str)  # type: ignore[misc]
RegistryChoice = enum.Enum("RegistryChoice", {r: r for r in REGISTRIES}, type=str)  # type: ignore[misc]


def _date(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError("--date", f"not a date (YYYY-MM-DD): {value!r}") from None


def _aliases(store: Path | None) -> dict[str, str]:
    """Hub aliases for lineage resolution: the store's (read-only peek) or the built-in list."""
    from ..aliases import builtin_aliases
    from ..store import Store, resolve_store_path

    p = resolve_store_path(store)
    if p.is_file():
        with Store(p, read_only=True) as st:
            return st.aliases("hf")
    return dict(builtin_aliases("hf"))


def _progress() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )


@app.command("ingest")
def ingest_cmd(
    path: Annotated[
        Path,
        typer.Argument(metavar="PATH", help="A data file, or a directory of data files (e.g. the top-pypi folder)."),
    ],
    format: Annotated[
        FormatChoice | None,
        typer.Option("--format", "-f", help="Source format; detected from name and content when omitted."),
    ] = None,
    registry: Annotated[
        RegistryChoice | None,
        typer.Option("--registry", help="Registry the data describes (default: the format's)."),
    ] = None,
    date: Annotated[
        str | None,
        typer.Option("--date", help="Collection date YYYY-MM-DD; overrides any date in the data."),
    ] = None,
    cards: Annotated[
        Path | None,
        typer.Option(
            "--cards",
            help="Card JSON-lines file: model cards of a Hub API dump (hf-api) or dataset cards of a dataset listing "
            "(hf-datasets).",
        ),
    ] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Replace a stored snapshot of the same file name, format and date.")
    ] = False,
    store: StoreOpt = None,
    json: JsonOpt = False,
) -> None:
    """Import data into the store: every file is read and validated first, then all new snapshots are written in one \
transaction."""
    from ..store import Store

    taken_at = _date(date)
    fmt = format.value if format is not None else None
    reg = registry.value if registry is not None else None
    if store is not None and Path(store).is_dir():
        raise StoreError(f"{store}: is a directory, not a store file")
    with _progress() as progress:
        task = progress.add_task("reading", total=None)

        def on_file(p: Path, i: int, n: int) -> None:
            progress.update(task, description=f"reading {p.name}", completed=i, total=n)

        aliases = _aliases(store)
        planned = plan(
            path, format=fmt, registry=reg, taken_at=taken_at, cards_path=cards, aliases=aliases, on_file=on_file
        )
        progress.update(task, completed=len(planned), total=len(planned))
        with Store(store) as st:
            wtask = progress.add_task("writing", total=len(planned))

            def on_batch(p, i: int, n: int) -> None:
                progress.update(wtask, description=f"writing {p.batch.snapshot.snapshot_id}", completed=i)

            results = ingest(st, planned, replace=replace, on_batch=on_batch)
    if json:
        print_json({"results": [r.to_dict() for r in results]})
        return
    for r in results:
        for w in r.warnings:
            console.print(f"[yellow]warning:[/] {r.path}: {w}", highlight=False)
    t = Table("registry", "date", "format", "rows", "status")
    t.add_column("snapshot", no_wrap=True)
    for r in results:
        t.add_row(
            r.registry,
            r.taken_at.isoformat(),
            r.format,
            f"{r.rows:,}",
            "added" if r.created else "already present",
            r.snapshot_id,
        )
    out.print(t)
    for r in results:
        if r.notes:
            out.print(f"{r.snapshot_id}: {r.notes}", highlight=False, soft_wrap=True)


def _snapshot_dict(s) -> dict[str, object]:
    return {
        "snapshot_id": s.snapshot_id,
        "registry": s.registry,
        "taken_at": s.taken_at.isoformat(),
        "source_format": s.source_format,
        "source_file": s.source_file,
        "source_sha256": s.source_sha256,
        "row_count": s.row_count,
        "importer_version": s.importer_version,
        "notes": s.notes,
        "status": s.status,
        "synthetic": bool(s.synthetic),
    }


@app.command("snapshots")
def snapshots_cmd(
    registry: Annotated[
        RegistryChoice | None,
        typer.Option("--registry", help="Only this registry."),
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Include incomplete (in-progress crawl) snapshots.")] = False,
    snapshots: Annotated[
        str | None,
        typer.Option("--snapshots", help="Only these: comma-separated ids, unique id prefixes or dates (YYYY-MM-DD)."),
    ] = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    every: EveryOpt = None,
    store: StoreOpt = None,
    fmt: FormatOpt = OutputFormat.table,
    json: JsonOpt = False,
) -> None:
    """List the snapshots in the store (id, registry, date, rows, source, coverage notes)."""
    from ..store import Store

    reg = registry.value if registry is not None else None
    picked = selected_ids(store, reg, snapshots, since, until, every)
    with Store(store, read_only=True) as st:
        snaps = st.snapshots(reg, include_incomplete=all_ and picked is None)
        if picked is not None:
            keep = set(picked)
            snaps = [s for s in snaps if s.snapshot_id in keep]
        n_hidden = (
            0
            if all_
            else len(st.snapshots(registry.value if registry is not None else None, include_incomplete=True))
            - len(snaps)
        )
    fmt = resolve_format(fmt, json)
    if fmt is not OutputFormat.table:
        dicts = [_snapshot_dict(s) for s in snaps]
        emit(fmt, SNAPSHOT_COLUMNS, [[d[c] for c in SNAPSHOT_COLUMNS] for d in dicts], json_doc={"snapshots": dicts})
        return
    # an unfinished crawl must not look like a finished snapshot: its id is starred (footnote below)
    rows = [
        (
            s.snapshot_id + ("" if s.status == "complete" else "*"),
            s.registry,
            s.taken_at.isoformat(),
            f"{s.row_count:,}",
            s.source_format,
            Path(s.source_file).name,
            s.notes or "",
        )
        for s in snaps
    ]
    heads = ["snapshot", "registry", "date", "rows", "format", "source", "notes"]
    if out.is_terminal:
        _snapshots_on_terminal(heads, rows)
    else:  # a pipe or a file: every column in full, one line per snapshot
        render_table(heads, rows, right=["rows"], no_wrap=heads)
    console.print(f"{len(snaps)} snapshots (full notes: `ptmscope info ID`, --format csv or --json)", highlight=False)
    n_open = sum(1 for s in snaps if s.status != "complete")
    if n_open:
        console.print(
            f"* {n_open} unfinished (status in_progress): `ptmscope crawl status`; resume with the same "
            "`ptmscope crawl hf` command, or discard with `ptmscope crawl hf --abort`",
            highlight=False,
        )
    if n_hidden:
        console.print(
            f"{n_hidden} unfinished (in_progress) not shown: `ptmscope snapshots --all`, `ptmscope crawl status`",
            highlight=False,
        )


def _snapshots_on_terminal(heads: list[str], rows: Sequence[tuple[str, ...]]) -> None:
    """One line per snapshot: long notes (and source names) are cut to the terminal width."""
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(heads)]
    widths[5] = min(widths[5], 28)
    room = out.width - sum(widths[:5]) - 3 * 5 - 1  # what is left beside the five short columns
    if room < widths[5] + 3 + 12:  # no room for source and some notes: show notes only, or neither
        heads, widths, rows = heads[:5] + heads[6:], widths[:5] + widths[6:], [r[:5] + r[6:] for r in rows]
        if room < 3 + 12:
            heads, widths, rows = heads[:5], widths[:5], [r[:5] for r in rows]
    if heads[-1] == "notes":
        widths[-1] = out.width - sum(widths[:-1]) - 3 * len(heads) - 1
    t = Table()
    for i, h in enumerate(heads):
        fixed = h in ("source", "notes")
        t.add_column(
            h,
            no_wrap=fixed or h == "snapshot",
            overflow="ellipsis" if fixed else "fold",
            justify="right" if h == "rows" else "left",
            width=widths[i] if fixed else None,
        )
    for r in rows:
        t.add_row(*(rich_escape(v) for v in r))
    out.print(t)


def _find_snapshot(st, key: str):
    snaps = st.snapshots(include_incomplete=True)
    exact = [s for s in snaps if s.snapshot_id == key]
    if exact:
        return exact[0]
    pref = [s for s in snaps if s.snapshot_id.startswith(key)]
    if len(pref) == 1:
        return pref[0]
    if len(pref) > 1:
        ids = ", ".join(s.snapshot_id for s in pref[:5])
        raise StoreError(f"{st.path}: {key!r} matches {len(pref)} snapshots ({ids}...); give more of the id")
    raise StoreError(f"{st.path}: no snapshot {key!r} (see `ptmscope snapshots`)")


def _flatten(value: object, prefix: str = "") -> list[tuple[str, object]]:
    """(dotted path, scalar) pairs of a nested dict/list (list items by index)."""
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, list):
        items = list(enumerate(value))
    else:
        return [(prefix, value)]
    out_: list[tuple[str, object]] = []
    for k, v in items:
        out_.extend(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    return out_


@app.command("info")
def info_cmd(
    snapshot: Annotated[str, typer.Argument(metavar="SNAPSHOT", help="Snapshot id (or a unique prefix of one).")],
    store: StoreOpt = None,
    fmt: FormatOpt = OutputFormat.table,
    json: JsonOpt = False,
) -> None:
    """Counts per table, download quantiles, null shares and lineage of one snapshot (csv/tsv: section, name, value)."""
    from ..info import snapshot_info
    from ..store import Store

    with Store(store, read_only=True) as st:
        snap = _find_snapshot(st, snapshot)
        info = snapshot_info(st.backend, snap)
    fmt = resolve_format(fmt, json)
    if fmt is not OutputFormat.table:
        d = info.to_dict()
        rows = [[section, name, v] for section, value in d.items() for name, v in _flatten(value)]
        emit(fmt, ["section", "name", "value"], rows, json_doc=d)
        return
    s = info.snapshot
    out.print(
        f"[bold]{s['snapshot_id']}[/]  {s['registry']}  {s['taken_at']}  {s['source_format']}  {s['source_file']}"
    )
    if s["notes"]:
        out.print(f"notes: {s['notes']}", highlight=False)
    t = Table("table", "rows")
    for k, v in info.counts.items():
        t.add_row(k, f"{v:,}")
    out.print(t)
    d = info.downloads
    if d["n"]:
        q = d["quantiles"]
        out.print(
            f"downloads: n={d['n']:,} nulls={d['nulls']:,} sum={d['sum']:,} mean={d['mean']:.1f} "
            + " ".join(f"{k}={v:,.0f}" for k, v in q.items()),
            highlight=False,
        )
    else:
        out.print(f"downloads: none in this source ({d['nulls']:,} nulls)")
    shares = ", ".join(f"{k} {v:.1%}" for k, v in info.null_share.items() if v)
    out.print(f"null share: {shares}", highlight=False)
    ln = info.lineage
    out.print(
        f"lineage: {ln['rows']:,} rows, {ln['resolved']:,} resolved, {ln['unresolved']:,} unresolved", highlight=False
    )
    for origin, c in ln["by_origin"].items():
        out.print(f"  {origin}: {c['rows']:,} ({c['resolved']:,} resolved)", highlight=False)
    if info.cards:
        c = info.cards
        out.print(f"cards: {c['rows']:,} rows, {c['with_text']:,} with text, {c['missing']:,} missing", highlight=False)
    if info.files:
        f = info.files
        out.print(
            f"files: {f['rows']:,} of {f['packages']:,} packages ({f['with_size']:,} with sizes)", highlight=False
        )
    if info.commits:
        c = info.commits
        out.print(
            f"commits: {c['rows']:,} of {c['packages']:,} repositories, {c['first'][:10]} .. {c['last'][:10]} "
            f"({c['with_files']:,} with file lists)",
            highlight=False,
        )
    if info.dependents:
        d = info.dependents
        kinds = ", ".join(f"{k} {v:,}" for k, v in sorted(d["by_kind"].items()))
        out.print(
            f"dependents: {d['rows']:,} links from {d['dependents']:,} dependents to {d['packages']:,} packages "
            f"({kinds})",
            highlight=False,
        )
    if info.libraries:
        out.print(
            "top libraries: " + ", ".join(f"{x['library']} {x['packages']:,}" for x in info.libraries), highlight=False
        )
