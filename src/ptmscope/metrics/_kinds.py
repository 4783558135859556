"""Kinds of turnover coverage warnings, shared by the turnover metric and its figure."""

from __future__ import annotations

PARTIAL_KINDS: tuple[str, ...] = ("fewer_than_k", "few_rows", "low_kth")  # the snapshot is probably partial
CHANGE_KINDS: tuple[str, ...] = ("measure", "window")  # the step compares two different measurements
