"""The report: ``index.html`` (self-contained, inline SVG figures, strict CSP,
no network), ``report.md`` (figures as SVG files next to it) and
``results.json`` (every number with its inputs).  Same store -> same bytes."""

from __future__ import annotations

from .builder import build_results, write_report

__all__ = ["build_results", "write_report"]
