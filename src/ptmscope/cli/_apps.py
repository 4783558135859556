"""The Typer apps every command module attaches to, shared options, error handling."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console, ConsoleDimensions
from rich.markup import escape as rich_escape

from .. import __version__
from ..errors import ParameterError, PtmscopeError

# library parameter -> command-line option, where the option is not simply --param-name
# (command modules add theirs); a ParameterError is shown with the option the user typed
OPTION_NAMES: dict[str, str] = {}

if TYPE_CHECKING:  # one module for the checker; the same ClickException API either way
    from typer._click import exceptions as _click_exc
else:
    try:  # typer >= 0.20 vendors click
        from typer._click import exceptions as _click_exc
    except ImportError:  # pragma: no cover
        from click import exceptions as _click_exc

app = typer.Typer(
    name="ptmscope",
    help="Measure software package registries (Hugging Face Hub, npm, PyPI) and check claims about them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
metric_app = typer.Typer(help="Compute one metric on the store.", no_args_is_help=True)
cards_app = typer.Typer(help="Score model cards (documentation quality).", no_args_is_help=True)
crawl_app = typer.Typer(help="Take snapshots of live registries.", no_args_is_help=True)
reproduce_app = typer.Typer(help="Reproduce a published study on the data at hand.", no_args_is_help=True)
app.add_typer(metric_app, name="metric")
app.add_typer(cards_app, name="cards")
app.add_typer(crawl_app, name="crawl")
app.add_typer(reproduce_app, name="reproduce")

UNBOUNDED_WIDTH = 100_000


class StreamConsole(Console):
    """A console as wide as the terminal it writes to, and without a width limit when writing to a pipe or file.

    Rich otherwise takes the width of whatever terminal the process has (or 80
    columns) and wraps or cuts text written to a file to it.
    """

    @property
    def size(self) -> ConsoleDimensions:
        dims = Console.size.fget(self)  # type: ignore[attr-defined]
        if self._width is None and not self.is_terminal:
            return ConsoleDimensions(UNBOUNDED_WIDTH, dims.height)
        return dims

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        Console.size.fset(self, new_size)  # type: ignore[attr-defined]


console = StreamConsole(stderr=True)  # progress, warnings, errors
out = StreamConsole()  # results


def _version(value: bool) -> None:
    if value:
        print(f"ptmscope {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
    memory_limit: Annotated[
        str | None,
        typer.Option(
            "--memory-limit",
            help="DuckDB memory limit for every store connection, e.g. 2GB, 512MiB or 25% (of RAM); "
            "beyond it DuckDB spills to disk. Default: $PTMSCOPE_MEMORY_LIMIT, else a quarter of RAM, "
            "at most 1 GiB.",
            show_default=False,
        ),
    ] = None,
    temp_dir: Annotated[
        Path | None,
        typer.Option(
            "--temp-dir",
            help="Where DuckDB spills. Default: $PTMSCOPE_TEMP_DIRECTORY, else STORE.tmp beside the store.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Measure software package registries and check claims about them."""
    from ..errors import InputError
    from ..store import set_engine_defaults

    try:
        set_engine_defaults(memory_limit=memory_limit, temp_directory=str(temp_dir) if temp_dir else None)
    except PtmscopeError as exc:
        raise InputError("--memory-limit", str(exc).split(": ", 1)[-1]) from None


StoreOpt = Annotated[
    Path | None,
    typer.Option(
        "--store",
        help="Store file (DuckDB). Default: $PTMSCOPE_STORE, else ./ptmscope.duckdb.",
        show_default=False,
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout.")]
SinceOpt = Annotated[str | None, typer.Option("--since", help="Only snapshots taken on or after this date.")]
UntilOpt = Annotated[str | None, typer.Option("--until", help="Only snapshots taken on or before this date.")]
EveryOpt = Annotated[
    str | None,
    typer.Option(
        "--every",
        help="One snapshot per month, quarter or year: the one nearest the period's first day.",
        metavar="month|quarter|year",
    ),
]


def selected_ids(
    store: Path | None,
    registry: str | None,
    snapshots: str | None,
    since: str | None,
    until: str | None,
    every: str | None,
) -> list[str] | None:
    """Snapshot ids a command's selection options pick (ptmscope.snapshots rules); None when none were given."""
    from ..snapshots import as_selection, resolve
    from ..store import Store

    sel = as_selection(snapshots, since=since, until=until, every=every)
    if sel.empty:
        return None
    with Store(store, read_only=True) as st:
        return [s.snapshot_id for s in resolve(st.backend, registry, sel)]


def print_json(obj: Any) -> None:
    """Stable JSON: sorted keys, ISO dates, two-space indent."""
    sys.stdout.write(json.dumps(obj, indent=2, sort_keys=True, default=_json_default) + "\n")


def _json_default(o: Any) -> Any:
    import datetime as dt

    if isinstance(o, (dt.date, dt.datetime)):
        return o.isoformat()
    if isinstance(o, Path):
        return str(o)
    if hasattr(o, "item"):  # numpy scalars
        return o.item()
    if hasattr(o, "tolist"):
        return o.tolist()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def run_app(application: typer.Typer, argv: list[str]) -> int:
    """Run the app; a PtmscopeError becomes one red line and exit code 1."""
    try:
        rv = application(args=argv, prog_name="ptmscope", standalone_mode=False)
        # with standalone_mode=False click returns (not raises) the code of `raise typer.Exit(n)`
        if isinstance(rv, int) and not isinstance(rv, bool):
            return rv
    except ParameterError as exc:
        option = OPTION_NAMES.get(exc.param, exc.option())
        console.print(
            f"[bold red]error:[/] {rich_escape(option)}: {rich_escape(exc.message)}", highlight=False, soft_wrap=True
        )
        return 1
    except PtmscopeError as exc:
        # the message is data (paths, TOML table names like [[sources]]): never markup
        console.print(f"[bold red]error:[/] {rich_escape(str(exc))}", highlight=False, markup=True, soft_wrap=True)
        return 1
    except typer.Exit as exc:
        return exc.exit_code
    except KeyboardInterrupt:
        console.print("[red]interrupted[/]")
        return 130
    except _click_exc.ClickException as exc:  # usage errors: click prints them, exit 2
        exc.show()
        return exc.exit_code
    except typer.Abort:
        return 1
    return 0
