"""The C1/C2 metric calls the standalone-cluster test runs on both engines (imported by its driver too)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ptmscope.metrics.descendants import descendants
from ptmscope.metrics.preservation import preservation
from ptmscope.metrics.turnover import turnover

# one call per metric (their variants are compared in local mode by test_parity.py); small bootstraps:
# they run in numpy on the pulled per-cluster sums, so equal inputs give equal intervals
CALLS: dict[str, Callable[[Any], Any]] = {
    "turnover-hf": lambda b: turnover(b, "hf", k=100),
    "preservation-paper": lambda b: preservation(b, n_boot=20),
    "descendants-sum-artifact": lambda b: descendants(b, popularity="descendants_sum", mode="artifact", n_boot=20),
}
