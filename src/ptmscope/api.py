"""The Python API for notebooks: a store you can ask for metrics and snapshots.

``ptmscope.open_store(path)`` returns an :class:`OpenStore`: a
:class:`~ptmscope.store.Store` (tables, snapshots, SQL through ``.con``) that
also computes any registered metric with the keyword names of the command
line, ``store.metric("turnover", registry="pypi", top=1000, every="year")``,
and chooses snapshots by the same rules as ``--snapshots/--since/--until/--every``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Sequence
from typing import Any

from .metrics.registry import MetricResult
from .snapshots import SnapshotRef, as_selection, resolve
from .store import Store


class OpenStore(Store):
    """A store with the analysis API (see the module docstring)."""

    def metric(self, name: str, *, engine: str = "duckdb", **options: Any) -> MetricResult:
        """Compute a registered metric on this store, with the keyword names of ``ptmscope metric NAME``.

        ``options`` are the metric's parameters (``top=1000``, ``registry="hf"``)
        and a snapshot selection (``snapshots``, ``since``, ``until``, ``every``).
        Returns a result with ``.to_dict()``, ``.to_pandas()`` and ``.plot()``.
        """
        from .engine import connect
        from .metrics import registry

        m = registry.get(name)
        sel = as_selection(
            options.pop("snapshots", None),
            since=options.pop("since", None),
            until=options.pop("until", None),
            every=options.pop("every", None),
        )
        if isinstance(options.get("registry"), str) and m.snapshots == "many":
            options["registry"] = tuple(r.strip() for r in options["registry"].split(",") if r.strip())
        if engine == "duckdb":
            return m.run(self.backend, options, sel)
        backend = connect(self.path, engine)
        try:
            return m.run(backend, options, sel)
        finally:
            with contextlib.suppress(Exception):
                backend.disconnect()

    def select_snapshots(
        self,
        registry: str | None = None,
        snapshots: str | Sequence[str] | None = None,
        *,
        since: dt.date | str | None = None,
        until: dt.date | str | None = None,
        every: str | None = None,
    ) -> list[SnapshotRef]:
        """The complete snapshots a selection picks (the same rules as ``--snapshots/--since/--until/--every``)."""
        return resolve(self.backend, registry, as_selection(snapshots, since=since, until=until, every=every))


__all__ = ["OpenStore"]
