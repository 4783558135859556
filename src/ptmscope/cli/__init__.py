"""The ``ptmscope`` command line: a thin skin over the library.

One module per command group (``cli/data.py``, ``cli/metric.py`` ...), each
attaching its commands to the Typer apps in :mod:`ptmscope.cli._apps`.

:func:`main` imports only the module of the command it runs when the command
comes first (``ptmscope metric turnover ...``): the others pull in libraries
(the Hub client, the importers, SciPy through the synthetic world) that a
metric call does not need, and importing them cost seconds on every call.
Anything else (``--help``, a global option first, an unknown name) and
``ptmscope.cli.app`` import every module.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

from ._apps import run_app

# Command-group modules, imported for their side effect of registering commands.
COMMAND_MODULES = (
    "data",
    "metric",
    "reproduce",
    "cards",
    "crawl",
    "claims",
    "report",
    "synth",
    "review",
    "export",
)

# top-level command or group -> the module that defines it (tests/test_cli_lazy.py checks it against the app)
COMMAND_OF = {
    "ingest": "data",
    "snapshots": "data",
    "info": "data",
    "metric": "metric",
    "reproduce": "reproduce",
    "cards": "cards",
    "crawl": "crawl",
    "claims": "claims",
    "report": "report",
    "run": "report",
    "demo": "report",
    "synth": "synth",
    "review": "review",
    "export": "export",
}

_loaded: set[str] = set()


def _load(names: tuple[str, ...]) -> None:
    for name in names:
        if name in _loaded:
            continue
        try:
            importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:  # a group not written yet
            if exc.name != f"{__name__}.{name}":
                raise
        _loaded.add(name)


def load_all() -> Any:
    """Import every command module; the app with all its commands."""
    _load(COMMAND_MODULES)
    from ._apps import app

    _canonical_order(app)
    return app


def _canonical_order(app: Any) -> None:
    """Commands listed in COMMAND_OF's order, whichever module a caller imported first (help, docs/cli.md)."""
    rank = {name: i for i, name in enumerate(COMMAND_OF)}

    def key(info: Any) -> int:
        name = info.name or (info.callback.__name__.replace("_", "-") if info.callback else "")
        return rank.get(name, len(rank))

    app.registered_commands.sort(key=key)
    app.registered_groups.sort(key=key)


def __getattr__(name: str) -> Any:
    if name == "app":
        return load_all()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    module = COMMAND_OF.get(args[0]) if args else None
    if module is not None:
        _load((module,))
        from ._apps import app

        return run_app(app, args)
    return run_app(load_all(), args)


__all__ = ["app", "load_all", "main"]
