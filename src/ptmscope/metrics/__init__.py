"""The metrics, one module each, every one declared once in :mod:`ptmscope.metrics.registry`.

Importing this package registers the built-in metrics; ``registry.metrics()``
lists them (with any plugin metrics).  The module functions (``turnover``,
``preservation`` ...) stay available for direct use on an Ibis backend.
"""

# importing a metric module registers its metric
from . import attributes as _attributes
from . import authorship as _authorship
from . import concentration as _concentration
from . import descendants as _descendants
from . import docs as _docs
from . import growth as _growth
from . import naming as _naming
from . import pickle_only as _pickle_only
from . import preservation as _preservation
from . import transformers_adoption as _transformers_adoption
from . import turnover as _turnover
from . import underdoc as _underdoc
from .descendants import POPULARITIES, DescendantsResult, Popularity, descendants, descendants_from_pairs, read_pairs
from .preservation import LibraryRate, PreservationResult, preservation
from .registry import Context, Metric, MetricResult, Params, ReportTable, get, metrics, names, register, sql_metric
from .turnover import (
    MODES,
    SENSITIVITY_KS,
    TIE_RULES,
    Mode,
    TieRule,
    TurnoverResult,
    TurnoverSensitivity,
    turnover,
    turnover_sensitivity,
)

# the built-in metrics in the order commands and reports list them: the paper's first
BUILTIN_MODULES = (
    _preservation,
    _turnover,
    _descendants,
    _docs,
    _attributes,
    _underdoc,
    _naming,
    _growth,
    _authorship,
    _transformers_adoption,
    _pickle_only,
    _concentration,
)

__all__ = [
    "MODES",
    "POPULARITIES",
    "SENSITIVITY_KS",
    "TIE_RULES",
    "Context",
    "DescendantsResult",
    "LibraryRate",
    "Metric",
    "MetricResult",
    "Mode",
    "Params",
    "Popularity",
    "PreservationResult",
    "ReportTable",
    "TieRule",
    "TurnoverResult",
    "TurnoverSensitivity",
    "descendants",
    "descendants_from_pairs",
    "get",
    "metrics",
    "names",
    "preservation",
    "read_pairs",
    "register",
    "sql_metric",
    "turnover",
    "turnover_sensitivity",
]
