"""The metric registry: every metric declares itself once, everything else reads it.

A metric module ends with one :func:`register` call::

    class GrowthParams(Params):
        min_count: int = Field(10, ge=1, description="First fitted month needs this many models.")

    METRIC = register(Metric(
        name="growth",
        title="Models created per month, exponential fit",
        params=GrowthParams,
        compute=_compute,          # (Context, GrowthParams) -> result with .to_dict()
        figure=_figure,            # (result, params) -> matplotlib Figure
        tables=_tables,            # (result dict) -> [ReportTable]
        key_numbers=(("slope", "log slope per month"), ...),
        caveats=("...",),
        needs="creation dates (packages.created_at) of one Hub snapshot",
    ))

The pipeline (``ptmscope run``), the report, the verdict rules, the Python
API (:meth:`ptmscope.store.Store.metric`) and the command line
(``ptmscope metric NAME``, generated from ``params``) all read that one
declaration: a metric's name, its parameters and their defaults exist in one
place.  Users register metrics the same way, from a module named in a run
config (``plugins = ["my_metrics"]``), from an installed package's entry
point (group ``ptmscope.metrics``) or as a SQL query (:func:`sql_metric`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib
import importlib.util
import sys
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from ..errors import NotMeasurable, PtmscopeError
from ..snapshots import ALL, Selection
from ..validation import StrictModel, validate_data

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

ENTRY_POINT_GROUP = "ptmscope.metrics"


class Params(StrictModel):
    """Base of a metric's parameters: the defaults defined on a subclass are the only ones."""


P = TypeVar("P", bound=Params)


@dataclass(frozen=True)
class ReportTable:
    """A small table of a metric result for the report and the terminal (cells are data: escaped on output)."""

    title: str
    header: tuple[str, ...]
    rows: list[list[Any]]


class Context:
    """What a metric's ``compute`` gets besides its parameters: the store's backend and the snapshot selection.

    The backend is opened on first use, so a metric that reads a file instead
    of the store (``descendants --pairs``) never needs one.
    """

    def __init__(self, backend: Any | Callable[[], Any] | None, selection: Selection | None = None) -> None:
        self._backend = backend
        self.selection = selection or ALL

    @property
    def backend(self) -> Any:
        if callable(self._backend) and not hasattr(self._backend, "table"):
            self._backend = self._backend()
        if self._backend is None:
            raise PtmscopeError("this metric needs a store, and none was given")
        return self._backend

    @property
    def has_backend(self) -> bool:
        return self._backend is not None and hasattr(self._backend, "table")


SnapshotArity = Literal["one", "many"]


@dataclass(frozen=True)
class Metric(Generic[P]):
    """One metric's declaration (see the module docstring)."""

    name: str
    title: str
    params: type[P]
    compute: Callable[[Context, P], Any]
    snapshots: SnapshotArity = "one"
    summarise: Callable[[Any, P], dict[str, Any]] | None = None
    figure: Callable[[Any, P], Figure] | None = None
    tables: Callable[[dict[str, Any]], list[ReportTable]] | None = None
    frames: Callable[[Any, dict[str, Any]], dict[str, pd.DataFrame]] | None = None
    key_numbers: tuple[tuple[str, str], ...] = ()
    caveats: tuple[str, ...] = ()
    needs: str = ""
    no_rule: str | None = None
    origin: str = "builtin"
    description: str = ""

    def defaults(self) -> P:
        return self.params()

    def parse_params(self, values: Mapping[str, Any] | P | None = None, *, where: str | Path | None = None) -> P:
        """Validated parameters (unknown names and wrong types are one-line errors)."""
        if isinstance(values, self.params):
            return values
        return validate_data(self.params, dict(values or {}), where or f"metric {self.name}")

    def run(
        self,
        backend: Any | Callable[[], Any] | None,
        params: Mapping[str, Any] | P | None = None,
        selection: Selection | None = None,
    ) -> MetricResult:
        """Compute the metric; numerical warnings are kept with the result instead of printed."""
        p = self.parse_params(params)
        ctx = backend if isinstance(backend, Context) else Context(backend, selection)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            value = self.compute(ctx, p)
        data = dict(value) if isinstance(value, Mapping) else value.to_dict()
        if self.summarise is not None:
            data["summary"] = self.summarise(value, p)
        msgs = sorted(
            {
                f"{w.category.__name__}: {w.message}"
                for w in caught
                if not issubclass(w.category, (DeprecationWarning, PendingDeprecationWarning, FutureWarning))
            }
        )
        if msgs:
            data["runtime_warnings"] = msgs
        return MetricResult(self, p, ctx.selection, value, data)


@dataclass
class MetricResult:
    """A computed metric for notebooks: ``to_dict()``, ``to_pandas()``, ``plot()``."""

    metric: Metric[Any]
    params: Params
    selection: Selection
    value: Any  # the metric's own result object
    data: dict[str, Any]  # JSON-able: value.to_dict() plus the summary the verdict rules read
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.metric.name

    def to_dict(self) -> dict[str, Any]:
        return self.data

    def to_pandas(self) -> dict[str, pd.DataFrame]:
        """One tidy table per result table (dates as datetimes)."""
        if self.metric.frames is not None:
            frames = self.metric.frames(self.value, self.data)
        else:
            frames = default_frames(self.data)
        return {k: _with_datetimes(v) for k, v in frames.items()}

    def plot(self) -> Figure:
        """The metric's figure (a matplotlib Figure)."""
        if self.metric.figure is None:
            raise PtmscopeError(f"metric {self.metric.name} has no figure")
        return self.metric.figure(self.value, self.params)

    def tables(self) -> list[ReportTable]:
        return self.metric.tables(self.data) if self.metric.tables else []

    def _repr_html_(self) -> str:  # notebooks
        from ..report.builder import esc, fmt

        rows = "".join(f"<tr><td>{esc(k)}</td><td>{esc(fmt(v))}</td></tr>" for k, v in key_numbers(self))
        return f"<p><b>{esc(self.metric.title)}</b></p><table>{rows}</table>"


def default_frames(data: Mapping[str, Any]) -> dict[str, pd.DataFrame]:
    """Top-level lists of records in a result dict, each as a DataFrame; scalars in ``summary``."""
    import pandas as pd

    out: dict[str, pd.DataFrame] = {}
    scalars: dict[str, Any] = {}
    for k, v in data.items():
        if isinstance(v, list) and v and all(isinstance(x, Mapping) for x in v):
            out[k] = pd.DataFrame([dict(x) for x in v])
        elif isinstance(v, (str, int, float, bool)) or v is None:
            scalars[k] = v
    out["summary"] = pd.DataFrame([scalars]) if scalars else pd.DataFrame()
    return out


_DATE_COLUMNS = ("taken_at", "date", "month", "committed_at", "created_at", "first_seen", "last_seen")


def _with_datetimes(df: pd.DataFrame) -> pd.DataFrame:
    import pandas as pd

    df = df.copy()
    for c in df.columns:
        named = str(c) in _DATE_COLUMNS or str(c).endswith(("_at", "_date"))
        if named and (df[c].dtype == object or str(df[c].dtype).startswith("str")):
            converted = pd.to_datetime(df[c], errors="coerce", utc=False)
            if converted.notna().sum() == df[c].notna().sum():
                df[c] = converted
    return df


def key_numbers(result: MetricResult | tuple[Metric[Any], dict[str, Any]]) -> list[tuple[str, Any]]:
    """(label, value) of the metric's key numbers present in the result."""
    from ..claims.verdicts import _MISSING as MISSING
    from ..claims.verdicts import lookup

    metric, data = (result.metric, result.data) if isinstance(result, MetricResult) else result
    out = []
    for path, label in metric.key_numbers:
        v = lookup(data, path)
        if v is MISSING:
            continue
        if isinstance(v, list) and not v:
            v = "none"
        elif isinstance(v, list) and not all(isinstance(x, (int, float)) or x is None for x in v):
            v = ", ".join(str(x) for x in v)
        out.append((label, v))
    return out


# ---------------------------------------------------------------------------
# The registry
# ---------------------------------------------------------------------------

_METRICS: dict[str, Metric[Any]] = {}
_LOADED_ENTRY_POINTS = False


def register(metric: Metric[P]) -> Metric[P]:
    """Add a metric; a second metric with the same name is an error (the same one again is not)."""
    old = _METRICS.get(metric.name)
    if old is not None and old is not metric and (old.compute is not metric.compute or old.origin != metric.origin):
        raise PtmscopeError(
            f"metric {metric.name!r} is already registered (from {old.origin}); a {metric.origin} metric "
            "needs another name"
        )
    if not metric.name or not metric.name.replace("_", "").replace("-", "").isalnum():
        raise PtmscopeError(f"metric name {metric.name!r}: use letters, digits, - and _ only")
    _METRICS[metric.name] = metric
    return metric


def unregister(name: str) -> None:
    """Remove a metric (tests, notebooks re-running a cell)."""
    _METRICS.pop(name, None)


def _builtin_order() -> list[str]:
    from . import BUILTIN_MODULES  # importing them registers them

    return [m.METRIC.name for m in BUILTIN_MODULES]


def metrics() -> dict[str, Metric[Any]]:
    """Every registered metric by name: built-ins (the paper's first), then entry points and plugins."""
    order = _builtin_order()
    load_entry_points()
    out = {n: _METRICS[n] for n in order if n in _METRICS}
    out.update((n, m) for n, m in _METRICS.items() if n not in out)
    return out


def names() -> tuple[str, ...]:
    return tuple(metrics())


def get(name: str) -> Metric[Any]:
    ms = metrics()
    if name not in ms:
        from ..validation import did_you_mean

        raise PtmscopeError(f"unknown metric {name!r}{did_you_mean(name, list(ms))}")
    return ms[name]


def load_entry_points() -> None:
    """Register metrics that installed packages declare under the ``ptmscope.metrics`` entry-point group."""
    global _LOADED_ENTRY_POINTS
    if _LOADED_ENTRY_POINTS:
        return
    _LOADED_ENTRY_POINTS = True
    from importlib.metadata import entry_points

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            obj = ep.load()
        except Exception as exc:
            raise PtmscopeError(f"entry point {ep.name} ({ep.value}) of group {ENTRY_POINT_GROUP}: {exc}") from exc
        if isinstance(obj, Metric) and obj.name not in _METRICS:
            register(obj)


def load_plugin(ref: str, base_dir: Path | None = None, *, where: str | Path = "plugins") -> list[str]:
    """Import a user module (a dotted name, or a ``.py`` path relative to ``base_dir``) that registers metrics.

    Returns the names of the metrics it registered.
    """
    before = set(_METRICS)
    path = Path(ref)
    if ref.endswith(".py"):
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        if not path.is_file():
            raise PtmscopeError(f"{where}: plugin file {path} not found")
        mod_name = f"ptmscope_plugin_{abs(hash(str(path.resolve())))}"
        spec = importlib.util.spec_from_file_location(mod_name, path)
        if spec is None or spec.loader is None:
            raise PtmscopeError(f"{where}: cannot load plugin file {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[mod_name] = module
        try:
            spec.loader.exec_module(module)
        except PtmscopeError:
            raise
        except Exception as exc:
            raise PtmscopeError(f"{where}: plugin {path} failed to load: {type(exc).__name__}: {exc}") from exc
    else:
        added = False
        if base_dir is not None and str(base_dir) not in sys.path:
            sys.path.insert(0, str(base_dir))
            added = True
        try:
            importlib.import_module(ref)
        except ModuleNotFoundError as exc:
            raise PtmscopeError(f"{where}: no module {ref!r} (is it installed or next to the config?)") from exc
        except PtmscopeError:
            raise
        except Exception as exc:
            raise PtmscopeError(f"{where}: plugin {ref} failed to load: {type(exc).__name__}: {exc}") from exc
        finally:
            if added:
                sys.path.remove(str(base_dir))
    return sorted(set(_METRICS) - before)


# ---------------------------------------------------------------------------
# SQL metrics
# ---------------------------------------------------------------------------


class SqlParams(Params):
    """A SQL metric takes no parameters."""


@dataclass(frozen=True)
class SqlResult:
    query: str
    columns: list[str]
    rows: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"query": self.query, "columns": self.columns, "rows": self.rows, "n_rows": len(self.rows)}
        if len(self.rows) == 1:
            d["values"] = dict(self.rows[0])
        return d


def _json_cell(v: Any) -> Any:
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):
        with contextlib.suppress(TypeError, ValueError):
            v = v.item()
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    if isinstance(v, float) and v != v:  # NaN
        return None
    return v


def sql_metric(
    name: str, query: str, *, title: str | None = None, description: str = "", origin: str = "sql"
) -> Metric[SqlParams]:
    """A metric defined by one read-only SQL query over the store's tables.

    Its result is ``{"columns", "rows", "n_rows"}`` (and ``"values"``, the
    row itself, when the query returns exactly one row), so a verdict rule
    can read ``values.share`` or ``rows[package_id=x].downloads``.
    """
    q = query.strip().rstrip(";")
    first = q.split(None, 1)[0].lower() if q else ""
    if first not in ("select", "with"):
        raise PtmscopeError(f"metric {name}: a SQL metric must be one SELECT (or WITH ... SELECT) query")

    def compute(ctx: Context, params: SqlParams) -> SqlResult:
        b = ctx.backend
        con = getattr(b, "con", None)
        if con is not None and hasattr(con, "sql") and hasattr(con, "execute"):
            # DuckDB directly: ibis 12's sql() calls a method DuckDB 2 removed; the store is opened read-only
            df = con.sql(q).df()
        else:
            df = b.sql(q).to_pandas()
        cols = [str(c) for c in df.columns]
        rows = [{c: _json_cell(v) for c, v in zip(cols, r, strict=True)} for r in df.itertuples(index=False)]
        return SqlResult(q, cols, rows)

    def tables(data: dict[str, Any]) -> list[ReportTable]:
        cols = data.get("columns", [])
        return [ReportTable("Query result", tuple(cols), [[r.get(c) for c in cols] for r in data.get("rows", [])[:50]])]

    return Metric(
        name=name,
        title=title or name,
        params=SqlParams,
        compute=compute,
        snapshots="many",
        tables=tables,
        origin=origin,
        description=description or f"SQL: {q}",
        needs="whatever its query reads",
        no_rule="a user's SQL metric: rules are the user's",
    )


def names_in_order(selected: Sequence[str] | None) -> list[str]:
    """The metrics to run: ``selected`` (validated) or every registered one."""
    ms = metrics()
    if not selected:
        return list(ms)
    for n in selected:
        get(n)
    return list(selected)


__all__ = [
    "ENTRY_POINT_GROUP",
    "Context",
    "Metric",
    "MetricResult",
    "NotMeasurable",
    "Params",
    "ReportTable",
    "SqlParams",
    "get",
    "key_numbers",
    "load_entry_points",
    "load_plugin",
    "metrics",
    "names",
    "register",
    "sql_metric",
]
