"""The ``ptmscope`` command line: a thin skin over the library.

One module per command group (``cli/data.py``, ``cli/metric.py`` ...), each
attaching its commands to the Typer apps in :mod:`ptmscope.cli._apps`.
"""

from __future__ import annotations

import importlib
import sys

from ._apps import app, run_app

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

for _name in COMMAND_MODULES:
    try:
        importlib.import_module(f"{__name__}.{_name}")
    except ModuleNotFoundError as exc:  # a group not written yet
        if exc.name != f"{__name__}.{_name}":
            raise


def main(argv: list[str] | None = None) -> int:
    return run_app(app, argv if argv is not None else sys.argv[1:])


__all__ = ["app", "main"]
