"""Exceptions with messages a user can act on."""

from __future__ import annotations

from pathlib import Path


class PtmscopeError(Exception):
    """Base class: the CLI prints ``str(exc)`` on one line and exits non-zero."""


class InputError(PtmscopeError):
    """Bad input data; names the file and, where it applies, line and column."""

    def __init__(
        self,
        path: str | Path,
        message: str,
        *,
        line: int | None = None,
        column: str | int | None = None,
    ) -> None:
        self.path = str(path)
        self.line = line
        self.column = column
        self.message = message
        where = self.path
        if line is not None:
            where += f":{line}"
        if column is not None:
            where += f" (column {column})"
        super().__init__(f"{where}: {message}")


class StoreError(PtmscopeError):
    """The store refused an operation (conflict, missing snapshot, bad file)."""


class NotMeasurable(PtmscopeError):
    """The data at hand cannot answer this metric (the message says why and what data would)."""
