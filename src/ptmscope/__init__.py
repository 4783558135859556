"""ptmscope: measure software package registries (Hugging Face Hub, npm, PyPI).

For notebooks::

    import ptmscope
    store = ptmscope.open_store("ptmscope.duckdb")
    res = store.metric("turnover", registry="pypi", top=1000, every="year")
    res.to_pandas()["steps"]; res.plot()
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"

if TYPE_CHECKING:
    import os

    from .api import OpenStore


def open_store(path: str | os.PathLike[str] | None = None, *, read_only: bool = True) -> OpenStore:
    """Open a store (default ``$PTMSCOPE_STORE``, else ``./ptmscope.duckdb``), read-only unless asked.

    A read-only store can be opened by several processes at once; see docs/sql.md on locking.
    """
    from .api import OpenStore

    return OpenStore(path, read_only=read_only)


__all__ = ["__version__", "open_store"]
