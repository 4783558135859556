"""Typed configuration files: TOML parsed into pydantic models, errors on one line.

Every file a user writes for ptmscope (run configs, claims catalogues, verdict
rules, review folders) is read by :func:`load_toml_model`: the TOML is parsed,
validated against a pydantic model whose tables forbid unknown keys, and any
defect becomes one :class:`~ptmscope.errors.InputError` naming the file, the
line, the key and the fix::

    run.toml:12: [metrics.growth] min_cuont: unknown key; did you mean min_count?
    run.toml:7: [metrics.turnover] k: expected an integer, got 'abc'

Models derive from :class:`StrictModel` (unknown keys are errors, no silent
coercion of strings to numbers).
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from .errors import InputError

M = TypeVar("M", bound=BaseModel)

Loc = tuple[str | int, ...]


class StrictModel(BaseModel):
    """Base of every file-backed model: unknown keys are errors, values are not coerced."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def toml_error_line(exc: Exception) -> int | None:
    """The line of a TOML syntax error (``lineno`` on Python >= 3.14, else from the message)."""
    line = getattr(exc, "lineno", None)
    if line is None:
        m = re.search(r"at line (\d+)", str(exc))
        line = int(m.group(1)) if m else None
    return line


def read_toml_text(path: str | Path, what: str = "TOML file") -> tuple[dict[str, Any], str]:
    """Parse a TOML file; every way it can fail is one InputError naming it. Returns (data, text)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(p, "no such file") from None
    except IsADirectoryError:
        raise InputError(p, f"is a folder, not a {what}") from None
    except UnicodeDecodeError:
        raise InputError(p, f"not UTF-8 text: not a {what}") from None
    except OSError as exc:
        raise InputError(p, f"cannot read: {exc.strerror or exc}") from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        raise InputError(p, f"not valid TOML: {exc}", line=toml_error_line(exc)) from None


def read_toml(path: str | Path, what: str = "TOML file") -> dict[str, Any]:
    """Parse a TOML file (see :func:`read_toml_text`)."""
    return read_toml_text(path, what)[0]


# ---------------------------------------------------------------------------
# Where a key is: TOML text -> {path tuple: line}
# ---------------------------------------------------------------------------

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"""^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*=""")


def _split_key(k: str) -> list[str]:
    parts = re.findall(r"""[A-Za-z0-9_-]+|"[^"]*"|'[^']*'""", k)
    return [p[1:-1] if p[:1] in "\"'" else p for p in parts]


def key_lines(text: str) -> dict[Loc, int]:
    """Line (1-based) of every table header and key in a TOML document, by path.

    ``[[sources]]`` tables are numbered from 0 as pydantic numbers list items,
    so a validation error's ``loc`` can be looked up directly.  Keys inside
    multi-line arrays and strings are not tracked (their enclosing key is).
    """
    out: dict[Loc, int] = {}
    counters: dict[tuple[str, ...], int] = {}
    current: Loc = ()
    depth = 0  # open brackets of a multi-line value
    in_ml_string: str | None = None
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw
        if in_ml_string:
            if in_ml_string in line:
                in_ml_string = None
            continue
        if depth > 0:
            depth += line.count("[") - line.count("]")
            depth = max(depth, 0)
            continue
        m = _HEADER.match(line)
        if m and not _KEY.match(line):
            names = tuple(_split_key(m.group(2)))
            if m.group(1) == "[[":
                idx = counters.get(names, -1) + 1
                counters[names] = idx
                # nested array tables restart under a new parent: good enough for our files
                current = (*names, idx)
            else:
                current = names
            out.setdefault(current, n)
            continue
        k = _KEY.match(line)
        if k:
            key = (*current, *_split_key(k.group(1)))
            out.setdefault(key, n)
            rest = line[k.end() :]
            for q in ('"""', "'''"):
                if rest.count(q) == 1:
                    in_ml_string = q
            if in_ml_string is None:
                stripped = re.sub(r'"(?:[^"\\]|\\.)*"|\'[^\']*\'', "", rest)
                depth = max(stripped.count("[") - stripped.count("]"), 0)
    return out


def line_of(text: str | None, loc: Sequence[str | int]) -> int | None:
    """The line of the longest prefix of ``loc`` that the document spells out."""
    if not text:
        return None
    lines = key_lines(text)
    path = tuple(loc)
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return None


# ---------------------------------------------------------------------------
# pydantic errors -> one line
# ---------------------------------------------------------------------------

_EXPECTED = {
    "int_type": "an integer",
    "int_parsing": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "string_type": "a string",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list",
    "tuple_type": "a list",
    "dict_type": "a table",
    "model_type": "a table",
    "model_attributes_type": "a table",
    "date_type": "a date (YYYY-MM-DD)",
    "date_parsing": "a date (YYYY-MM-DD)",
    "date_from_datetime_parsing": "a date (YYYY-MM-DD)",
    "path_type": "a path (a string)",
}


def table_name(loc: Sequence[str | int]) -> str:
    """``('metrics', 'growth')`` -> ``[metrics.growth]``; ``('sources', 1)`` -> ``[[sources]] #2``."""
    names = [str(p) for p in loc if not isinstance(p, int)]
    idx = [p for p in loc if isinstance(p, int)]
    if not names:
        return "top level"
    if idx and isinstance(loc[-1], int):
        return f"[[{'.'.join(names)}]] #{idx[-1] + 1}"
    if idx:
        return f"[{'.'.join(names)}] (#{idx[-1] + 1})"
    return f"[{'.'.join(names)}]"


def where(loc: Sequence[str | int]) -> str:
    """``('metrics', 'growth', 'min_count')`` -> ``[metrics.growth] min_count``."""
    parts = list(loc)
    if not parts:
        return "top level"
    if isinstance(parts[-1], int):
        # an item of a plain list value: "[metrics] include[2]"
        if len(parts) >= 2 and not isinstance(parts[-2], int):
            head = table_name(parts[:-2])
            key = f"{parts[-2]}[{parts[-1]}]"
            return key if head == "top level" else f"{head} {key}"
        return table_name(parts)
    head = table_name(parts[:-1])
    return str(parts[-1]) if head == "top level" else f"{head} {parts[-1]}"


def _allowed_keys(model: type[BaseModel], loc: Sequence[str | int]) -> list[str]:
    """The valid keys of the table at ``loc`` (walking nested models)."""
    cur: Any = model
    for p in loc:
        if isinstance(p, int):
            continue
        fields = getattr(cur, "model_fields", None)
        if not fields or p not in fields:
            return []
        cur = _inner_model(fields[p].annotation)
        if cur is None:
            return []
    fields = getattr(cur, "model_fields", None) or {}
    return sorted(f.alias or name for name, f in fields.items())


def _inner_model(ann: Any) -> Any:
    import typing

    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return ann
    for a in typing.get_args(ann):
        m = _inner_model(a)
        if m is not None:
            return m
    return None


def did_you_mean(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    if not close:
        close = [c for c in choices if c.lower() == word.lower()]
    return f"; did you mean {close[0]}?" if close else (f"; allowed: {', '.join(choices)}" if choices else "")


def describe_error(err: Any, model: type[BaseModel], prefix: Loc = ()) -> str:
    """One pydantic error dict as text (without file and line); ``prefix`` places the model in its file."""
    inner = tuple(err.get("loc", ()))
    loc = (*prefix, *inner)
    kind = err.get("type", "")
    if kind == "extra_forbidden":
        key = str(loc[-1]) if loc else "?"
        head = table_name(loc[:-1])
        lead = f"{head} " if head != "top level" else ""
        return f"{lead}{key}: unknown key{did_you_mean(key, _allowed_keys(model, inner[:-1]))}"
    if kind == "missing":
        return f"{where(loc)}: missing (required)"
    inp = err.get("input")
    shown = repr(inp) if not isinstance(inp, (dict, list)) else ("a table" if isinstance(inp, dict) else "a list")
    if kind in _EXPECTED:
        return f"{where(loc)}: expected {_EXPECTED[kind]}, got {shown}"
    if kind == "literal_error":
        exp = (err.get("ctx") or {}).get("expected", "")
        return f"{where(loc)}: {shown} is not one of {exp}"
    msg = str(err.get("msg", "invalid value"))
    msg = re.sub(r"^Value error, ", "", msg)
    return f"{where(loc)}: {msg}"


def validation_error(
    exc: ValidationError, model: type[BaseModel], path: str | Path, text: str | None, prefix: Loc = ()
) -> InputError:
    """The first error of ``exc`` as an InputError at its file and line."""
    errs = exc.errors(include_url=False)
    # a misspelt key also makes the key it was meant to be "missing": name the typo first
    errs = sorted(errs, key=lambda e: e.get("type") != "extra_forbidden")
    first = errs[0] if errs else {"loc": (), "type": "", "msg": str(exc)}
    msg = describe_error(first, model, prefix)
    more = len(errs) - 1
    if more:
        msg += f" (and {more} more problem{'s' if more > 1 else ''})"
    return InputError(path, msg, line=line_of(text, (*prefix, *first.get("loc", ()))))


def validate_data(model: type[M], data: Any, path: str | Path, text: str | None = None, *, prefix: Loc = ()) -> M:
    """Validate parsed data against ``model``; one-line InputError on any defect.

    ``prefix`` is where ``data`` sits in the file (``("runs", 2)``), for the message and the line.
    """
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc, model, path, text, prefix) from None


def load_toml_model(path: str | Path, model: type[M], what: str = "TOML file") -> M:
    """Read ``path`` and validate it into ``model``."""
    data, text = read_toml_text(path, what)
    return validate_data(model, data, path, text)
