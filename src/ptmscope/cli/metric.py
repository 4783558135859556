"""``ptmscope metric NAME``: one command per registered metric, generated from its declaration.

Each command's options are the metric's parameters (names, types, choices,
defaults and help from its ``Params`` class) plus the options every metric
shares: the snapshot selection (``--snapshots``, ``--since``, ``--until`` and,
for metrics over several snapshots, ``--every``), ``--engine``, ``--json``,
``--plot`` and ``--store``.  Nothing here names a metric.
"""

from __future__ import annotations

import enum
import inspect
import types
import typing
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic.fields import FieldInfo
from rich.markup import escape as rich_escape

from ..engine import ENGINES
from ..errors import PtmscopeError
from ..metrics import registry
from ..snapshots import EVERY, as_selection
from ._apps import console, metric_app, out, print_json

EngineChoice = enum.Enum("EngineChoice", {e: e for e in ENGINES}, type=str)  # type: ignore[misc]
EveryChoice = enum.Enum("EveryChoice", {e: e for e in EVERY}, type=str)  # type: ignore[misc]

COMMON = ("snapshots", "since", "until", "every", "engine", "json_out", "plot", "store")


def _connect(store: Path | None, engine: str) -> Any:
    from ..engine import connect
    from ..store import resolve_store_path

    path = resolve_store_path(store)
    if engine == "duckdb" and not path.exists():
        raise PtmscopeError(f"{path}: no store here (run `ptmscope ingest` first, or pass --store)")
    return connect(path, engine)


def _check_plot(plot: Path | None) -> None:
    """Refuse a figure suffix before computing anything (save() would only fail at the end)."""
    if plot is None:  # no figure: do not import matplotlib
        return
    from ..figures._style import FORMATS

    if plot.suffix.lower() not in FORMATS:
        raise PtmscopeError(
            f"{plot}: unsupported figure format {plot.suffix or '(none)'}; use one of {', '.join(FORMATS)}"
        )


# ---------------------------------------------------------------------------
# Params field -> typer option
# ---------------------------------------------------------------------------


def _unwrap_optional(ann: Any) -> tuple[Any, bool]:
    args = typing.get_args(ann)
    if typing.get_origin(ann) in (typing.Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        return (rest[0] if len(rest) == 1 else ann), True
    return ann, False


def _choices(ann: Any) -> tuple[str, ...] | None:
    if typing.get_origin(ann) is typing.Literal:
        return tuple(str(a) for a in typing.get_args(ann))
    # a Literal alias defined with `type X = Literal[...]` or a TypeAliasType
    value = getattr(ann, "__value__", None)
    if value is not None:
        return _choices(value)
    return None


def _is_sequence(ann: Any) -> tuple[bool, Any]:
    origin = typing.get_origin(ann)
    if origin in (tuple, list):
        args = [a for a in typing.get_args(ann) if a is not Ellipsis]
        return True, (args[0] if args else str)
    return False, None


def _show(v: Any) -> str:
    if isinstance(v, (tuple, list)):
        return ",".join(str(x) for x in v) or "(none)"
    return str(v)


def _option(name: str, field: FieldInfo) -> tuple[Any, Any]:
    """(annotation with typer.Option, default) for one parameter."""
    flag = "--" + name.replace("_", "-")
    ann, optional = _unwrap_optional(field.annotation)
    help_ = field.description or ""
    default = field.default
    seq, item = _is_sequence(ann)
    if seq:
        choices = _choices(item)
        extra = f" Comma-separated{': ' + ', '.join(choices) if choices else ''}."
        return (
            Annotated[
                str | None,
                typer.Option(flag, help=f"{help_}{extra} [default: {_show(default)}]", show_default=False),
            ],
            None,
        )
    if ann is bool:
        return Annotated[bool, typer.Option(f"{flag}/--no-{name.replace('_', '-')}", help=help_)], bool(default)
    choices = _choices(ann)
    if choices:
        enum_type = enum.Enum(f"{name.title()}Choice", {c: c for c in choices}, type=str)  # type: ignore[misc]
        if optional:
            return Annotated[enum_type | None, typer.Option(flag, help=help_)], (
                None if default is None else enum_type(default)
            )
        return Annotated[enum_type, typer.Option(flag, help=help_)], enum_type(default)
    base = ann if ann in (int, float, str, Path) else str
    if optional or default is None:
        return Annotated[base | None, typer.Option(flag, help=help_)], default
    return Annotated[base, typer.Option(flag, help=help_)], default


def _params_from(metric: registry.Metric[Any], kwargs: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, field in metric.params.model_fields.items():
        v = kwargs.get(name)
        ann, _ = _unwrap_optional(field.annotation)
        if _is_sequence(ann)[0]:
            if v is None:
                continue
            v = tuple(x.strip() for x in str(v).split(",") if x.strip())
        elif isinstance(v, enum.Enum):
            v = v.value
        if v is None and field.default is None:
            continue
        values[name] = v
    return values


def _common_parameters(metric: registry.Metric[Any]) -> list[inspect.Parameter]:
    many = metric.snapshots == "many"
    kw = inspect.Parameter.KEYWORD_ONLY
    sel_help = "Snapshots to use: comma-separated ids, unique id prefixes or dates (YYYY-MM-DD). " + (
        "Default: every complete snapshot." if many else "Default: the selected snapshot with most usable rows."
    )
    ps = [
        inspect.Parameter(
            "snapshots",
            kw,
            default=None,
            annotation=Annotated[str | None, typer.Option("--snapshots", "--snapshot", help=sel_help)],
        ),
        inspect.Parameter(
            "since",
            kw,
            default=None,
            annotation=Annotated[
                str | None, typer.Option("--since", help="Only snapshots taken on or after this date.")
            ],
        ),
        inspect.Parameter(
            "until",
            kw,
            default=None,
            annotation=Annotated[
                str | None, typer.Option("--until", help="Only snapshots taken on or before this date.")
            ],
        ),
    ]
    if many:
        ps.append(
            inspect.Parameter(
                "every",
                kw,
                default=None,
                annotation=Annotated[
                    EveryChoice | None,
                    typer.Option(
                        "--every",
                        help="One snapshot per month, quarter or year: the one nearest the period's first day.",
                    ),
                ],
            )
        )
    ps += [
        inspect.Parameter(
            "engine",
            kw,
            default=EngineChoice("duckdb"),
            annotation=Annotated[EngineChoice, typer.Option("--engine", help="Ibis backend to compute on.")],
        ),
        inspect.Parameter(
            "json_out",
            kw,
            default=False,
            annotation=Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")],
        ),
    ]
    if metric.figure is not None:
        ps.append(
            inspect.Parameter(
                "plot",
                kw,
                default=None,
                annotation=Annotated[
                    Path | None, typer.Option("--plot", help="Write the figure to FILE (.svg, .png or .pdf).")
                ],
            )
        )
    ps.append(
        inspect.Parameter(
            "store",
            kw,
            default=None,
            annotation=Annotated[
                Path | None,
                typer.Option(
                    "--store",
                    help="Store file (DuckDB). Default: $PTMSCOPE_STORE, else ./ptmscope.duckdb.",
                    show_default=False,
                ),
            ],
        )
    )
    return ps


def _print_text(result: registry.MetricResult) -> None:
    from rich.table import Table

    from ..report.builder import fmt, fmt_p, is_p_label

    m = result.metric
    if result.data.get("headline"):  # a metric's one-line summary of what it compared
        out.print(str(result.data["headline"]), highlight=False, markup=False)
    kn = registry.key_numbers(result)
    if kn:
        t = Table(title=m.title, title_justify="left")
        t.add_column("statistic")
        t.add_column("value", justify="right")
        for label, v in kn:
            t.add_row(label, fmt_p(v) if is_p_label(label) else fmt(v))
        out.print(t)
    else:
        out.print(m.title, highlight=False, markup=False)
    for table in result.tables():
        if not table.rows:
            continue
        t = Table(title=table.title, title_justify="left")
        for h in table.header:
            t.add_column(str(h))
        p_cols = [is_p_label(h) for h in table.header]
        for r in table.rows:
            t.add_row(*[(fmt_p(v) if p else fmt(v)) for v, p in zip(r, p_cols, strict=False)])
        out.print(t)


def _warn(data: dict[str, Any]) -> None:
    for w in data.get("warnings", []) or []:
        msg = w.get("message", str(w)) if isinstance(w, dict) else str(w)
        console.print(f"[yellow]warning:[/] {rich_escape(msg)}", highlight=False, markup=True, soft_wrap=True)
    for n in data.get("notes", []) or []:
        console.print(f"note: {n}", highlight=False, markup=False, soft_wrap=True)
    for n in data.get("runtime_warnings", []) or []:
        console.print(f"note: numerical warning while computing: {n}", highlight=False, markup=False, soft_wrap=True)


def _make_command(metric: registry.Metric[Any]) -> Any:
    def command(**kwargs: Any) -> None:
        plot = kwargs.get("plot")
        _check_plot(plot)
        selection = as_selection(
            kwargs.get("snapshots"),
            since=kwargs.get("since"),
            until=kwargs.get("until"),
            every=kwargs["every"].value if kwargs.get("every") is not None else None,
        )
        params = metric.parse_params(_params_from(metric, kwargs), where=f"ptmscope metric {metric.name}")
        engine = kwargs["engine"].value
        store = kwargs.get("store")
        backend: dict[str, Any] = {}

        def lazy() -> Any:
            backend["b"] = _connect(store, engine)
            return backend["b"]

        try:
            result = metric.run(lazy, params, selection)
        finally:
            if "b" in backend:
                from ..pipeline import _close

                _close(backend["b"])
        _warn(result.data)
        if plot is not None:
            from ..figures._style import save

            save(result.plot(), plot)
            console.print(f"figure written to {plot}", highlight=False)
        if kwargs.get("json_out"):
            print_json(result.to_dict())
            return
        _print_text(result)

    own = []
    for name, field in metric.params.model_fields.items():
        ann, default = _option(name, field)
        own.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=ann))
    command.__signature__ = inspect.Signature([*own, *_common_parameters(metric)])  # type: ignore[attr-defined]
    command.__name__ = f"metric_{metric.name}"
    doc = metric.title + "."
    if metric.needs:
        doc += f"\n\nNeeds: {metric.needs}."
    if metric.description:
        doc += f"\n\n{metric.description}"
    command.__doc__ = doc
    return command


def register_commands() -> None:
    """One ``ptmscope metric NAME`` per registered metric (built-ins and installed plugins)."""
    for name, metric in registry.metrics().items():
        metric_app.command(name)(_make_command(metric))


register_commands()

__all__ = ["register_commands"]
