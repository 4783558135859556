"""Tabular output for every listing command: ``--format table|csv|tsv|json``.

* ``table`` (default): a rich table.  On a terminal it wraps only between
  words (each column is at least as wide as its longest word); when the
  terminal is too narrow even for that, every row is printed as a block of
  ``column: value`` lines instead.  Written to a pipe or a file it is never
  wrapped or cut: the consoles of :mod:`ptmscope.cli._apps` have no width
  limit when their stream is not a terminal.
* ``csv`` / ``tsv``: one header row, then one row per record, every value in
  full (RFC 4180 quoting; a value with a tab or newline is quoted in TSV too;
  empty for null, ``true``/``false`` for booleans).
* ``json``: the command's documented JSON document (as ``--json``).

Commands call :func:`emit` with the header, the rows (plain values, no
markup) and the JSON document; :func:`resolve_format` folds the older
``--json`` flag into ``--format``.
"""

from __future__ import annotations

import csv
import enum
import sys
from collections.abc import Sequence
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from ._apps import out, print_json


class OutputFormat(enum.StrEnum):
    table = "table"
    csv = "csv"
    tsv = "tsv"
    json = "json"


FormatOpt = Annotated[
    OutputFormat,
    typer.Option(
        "--format",
        help="Output: table (never cut when written to a pipe or file), csv, tsv or json (same as --json).",
        case_sensitive=False,
    ),
]


def resolve_format(fmt: OutputFormat, as_json: bool) -> OutputFormat:
    """``--json`` is ``--format json``."""
    return OutputFormat.json if as_json else fmt


def cell_text(v: Any, *, machine: bool = False) -> str:
    """A value as text: empty for None; booleans yes/no in a table, true/false in CSV/TSV; lists joined."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return ("true" if v else "false") if machine else ("yes" if v else "no")
    if isinstance(v, (list, tuple)):
        return ", ".join(cell_text(x, machine=machine) for x in v)
    return str(v)


def write_delimited(header: Sequence[str], rows: Sequence[Sequence[Any]], delimiter: str, stream: Any = None) -> None:
    w = csv.writer(stream or sys.stdout, delimiter=delimiter, lineterminator="\n")
    w.writerow(header)
    for r in rows:
        w.writerow([cell_text(v, machine=True) for v in r])


def _longest_word(texts: Sequence[str]) -> int:
    return max([len(w) for t in texts for w in t.split()] + [1])


def render_table(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    title: str | None = None,
    right: Sequence[str] = (),
    no_wrap: Sequence[str] = (),
) -> None:
    """A rich table that wraps only between words, or one block per row when the terminal is too narrow."""
    mins = []
    for i, h in enumerate(header):
        col = [r[i] for r in rows]
        mins.append(max([len(h), *map(len, col)]) if h in no_wrap else max(_longest_word([h]), _longest_word(col)))
    needed = sum(mins) + 3 * len(header) + 1  # one space of padding each side and a border per column
    if out.is_terminal and needed > out.width and len(header) > 2:
        _render_records(header, rows, title)
        return
    t = Table(title=escape(title) if title else None, title_justify="left")
    for i, h in enumerate(header):
        t.add_column(
            escape(h),
            justify="right" if h in right else "left",
            min_width=mins[i],
            no_wrap=h in no_wrap,
            overflow="fold",  # only a word longer than the whole column is ever broken
        )
    for r in rows:
        t.add_row(*(escape(v) for v in r))
    out.print(t)


def _render_records(header: Sequence[str], rows: Sequence[Sequence[str]], title: str | None) -> None:
    if title:
        out.print(escape(title), highlight=False)
    key_width = max(len(h) for h in header[1:])
    for i, r in enumerate(rows):
        if i:
            out.print()
        out.print(f"[bold]{escape(r[0])}[/]", highlight=False)
        g = Table.grid(padding=(0, 1))
        g.add_column(no_wrap=True, width=key_width + 3)
        g.add_column(overflow="fold")
        for h, v in zip(header[1:], r[1:], strict=False):
            g.add_row(f"  {escape(h)}:", escape(v))
        out.print(g)


def emit(
    fmt: OutputFormat,
    header: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    json_doc: Any = None,
    title: str | None = None,
    right: Sequence[str] = (),
    no_wrap: Sequence[str] = (),
) -> None:
    """Print a listing in the chosen format (see the module docstring)."""
    if fmt is OutputFormat.json:
        print_json(json_doc if json_doc is not None else [dict(zip(header, r, strict=False)) for r in rows])
    elif fmt is OutputFormat.csv:
        write_delimited(header, rows, ",")
    elif fmt is OutputFormat.tsv:
        write_delimited(header, rows, "\t")
    else:
        render_table(header, [[cell_text(v) for v in r] for r in rows], title=title, right=right, no_wrap=no_wrap)
