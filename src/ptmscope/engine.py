"""Engines: the Ibis backend that metric code runs on.

``duckdb`` (default) reads the store file directly.  ``spark`` (extra
``[spark]``) loads the store's tables into a local or remote Spark session
and hands back an Ibis PySpark backend with the same table names, so every
metric runs unchanged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, get_args

Engine = Literal["duckdb", "spark"]
ENGINES: tuple[str, ...] = get_args(Engine)


def connect(store_path: str | Path | None = None, engine: str = "duckdb", **options: Any) -> Any:
    """An Ibis backend exposing the canonical tables of the store at ``store_path``."""
    if engine == "duckdb":
        from .store import Store

        return Store(store_path, read_only=True).backend
    if engine == "spark":
        from .spark import connect_spark  # provided by the [spark] extra module

        return connect_spark(store_path, **options)
    from .errors import PtmscopeError

    raise PtmscopeError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
