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


class ParameterError(PtmscopeError):
    """A bad or conflicting parameter of a library call, named by its parameter name.

    The command line shows the parameter as its option (``page_size`` as
    ``--page-size``); the library's own message never names an option.
    """

    def __init__(self, param: str, message: str) -> None:
        self.param = param
        self.message = message
        super().__init__(f"{param}: {message}")

    def option(self) -> str:
        return "--" + self.param.replace("_", "-")


class NotMeasurable(PtmscopeError):
    """The data at hand cannot answer this metric (the message says why and what data would)."""
