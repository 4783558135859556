"""Verdict rules (data, ``rules.toml``) and their evaluator.

A rule names a claim, a metric and three lists of conditions on numbers in
the metric result's ``to_dict()`` (dotted paths, list indices allowed:
``slope_ci.0``):

* ``require``: all must hold, else the verdict is *inconclusive* (too little
  data to judge; an optional ``require_note`` says in words what is missing);
* ``supported``: all hold -> *supported*;
* ``not_supported``: all hold -> *not supported*;
* otherwise *inconclusive* (the numbers fall between the thresholds).

A missing or non-numeric number makes the verdict inconclusive with the
reason.  Every verdict carries the numbers it used and the conditions as text,
so the report shows exactly why.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from importlib import resources
from numbers import Integral
from pathlib import Path
from typing import Any, Literal, get_args

from ..errors import InputError
from .catalogue import read_toml

VerdictLabel = Literal["supported", "not supported", "inconclusive"]
VERDICTS: tuple[str, ...] = get_args(VerdictLabel)
Op = Literal["<", "<=", ">", ">=", "==", "!="]
OPS: dict[str, Any] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}


@dataclass(frozen=True)
class Condition:
    path: str
    op: str
    value: float

    def text(self) -> str:
        return f"{self.path} {self.op} {self.value:g}"


@dataclass(frozen=True)
class Rule:
    id: str
    claim: str
    metric: str
    description: str
    require: tuple[Condition, ...]
    supported: tuple[Condition, ...]
    not_supported: tuple[Condition, ...]
    hypothesis: str | None = None
    require_note: str | None = None  # what the data lacks when a requirement fails, in words

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "claim": self.claim,
            "metric": self.metric,
            "hypothesis": self.hypothesis,
            "description": self.description,
            "require": [c.text() for c in self.require],
            "require_note": self.require_note,
            "supported": [c.text() for c in self.supported],
            "not_supported": [c.text() for c in self.not_supported],
        }


@dataclass(frozen=True)
class Verdict:
    rule: str
    claim: str
    metric: str
    verdict: str
    reason: str
    numbers: dict[str, float | int | None]
    conditions: dict[str, list[str]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "claim": self.claim,
            "metric": self.metric,
            "verdict": self.verdict,
            "reason": self.reason,
            "numbers": dict(sorted(self.numbers.items())),
            "conditions": {k: list(v) for k, v in self.conditions.items()},
        }


def default_rules_path() -> Path:
    return Path(str(resources.files("ptmscope.claims").joinpath("rules.toml")))


def _conditions(entry: dict[str, Any], key: str, where: str, path: Path) -> tuple[Condition, ...]:
    raw = entry.get(key, [])
    if not isinstance(raw, list):
        raise InputError(path, f"{where}: {key!r} must be a list of {{path, op, value}} tables")
    out = []
    for j, c in enumerate(raw):
        w = f"{where} {key}[{j}]"
        if not isinstance(c, dict) or set(c) != {"path", "op", "value"}:
            raise InputError(path, f"{w}: needs exactly the keys path, op, value")
        if not isinstance(c["path"], str) or not c["path"]:
            raise InputError(path, f"{w}: path must be a non-empty string")
        if c["op"] not in OPS:
            raise InputError(path, f"{w}: op must be one of {' '.join(OPS)}")
        v = c["value"]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise InputError(path, f"{w}: value must be a finite number")
        out.append(Condition(c["path"], c["op"], float(v)))
    return tuple(out)


def parse_rules(data: dict[str, Any], path: Path, *, claim_ids: set[str] | None = None) -> tuple[Rule, ...]:
    if data.get("schema_version") != 1:
        raise InputError(path, f"schema_version must be 1, got {data.get('schema_version')!r}")
    rules = []
    seen = set()
    for i, entry in enumerate(data.get("rules", [])):
        where = f"[[rules]] #{i + 1}"
        if not isinstance(entry, dict):
            raise InputError(path, f"{where}: must be a table")
        for key in ("id", "claim", "metric", "description"):
            if not isinstance(entry.get(key), str) or not entry[key]:
                raise InputError(path, f"{where}: missing or empty {key!r}")
        rid = entry["id"]
        where = f"{where} ({rid})"
        if rid in seen:
            raise InputError(path, f"{where}: duplicate rule id")
        seen.add(rid)
        if claim_ids is not None and entry["claim"] not in claim_ids:
            raise InputError(path, f"{where}: unknown claim {entry['claim']!r}")
        sup = _conditions(entry, "supported", where, path)
        nsup = _conditions(entry, "not_supported", where, path)
        if not sup or not nsup:
            raise InputError(path, f"{where}: needs both supported and not_supported conditions")
        note = entry.get("require_note")
        if note is not None and (not isinstance(note, str) or not note.strip()):
            raise InputError(path, f"{where}: require_note must be a non-empty string")
        rules.append(
            Rule(
                id=rid,
                claim=entry["claim"],
                metric=entry["metric"],
                description=entry["description"],
                require=_conditions(entry, "require", where, path),
                supported=sup,
                not_supported=nsup,
                hypothesis=entry.get("hypothesis"),
                require_note=note,
            )
        )
    return tuple(rules)


def load_rules(path: str | Path | None = None, *, claim_ids: set[str] | None = None) -> tuple[Rule, ...]:
    p = Path(path) if path is not None else default_rules_path()
    data = read_toml(p, "rules file (TOML)")
    return parse_rules(data, p, claim_ids=claim_ids)


_MISSING = object()


def lookup(result: Any, path: str) -> Any:
    """The value at dotted ``path`` in a nested dict/list; ``_MISSING`` if absent."""
    cur = result
    for part in path.split("."):
        if isinstance(cur, dict):
            if part not in cur:
                return _MISSING
            cur = cur[part]
        elif isinstance(cur, (list, tuple)):
            try:
                cur = cur[int(part)]
            except (ValueError, IndexError):
                return _MISSING
        else:
            return _MISSING
    return cur


def _number(v: Any) -> float | int | None:
    if v is _MISSING or v is None or isinstance(v, bool):
        return None
    if isinstance(v, Integral):
        return int(v)  # counts stay counts in results.json and the report
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def evaluate(rule: Rule, result: dict[str, Any] | None) -> Verdict:
    """Apply ``rule`` to a metric result dict (``to_dict()`` output)."""
    conds = {
        "require": [c.text() for c in rule.require],
        "supported": [c.text() for c in rule.supported],
        "not_supported": [c.text() for c in rule.not_supported],
    }

    def verdict(label: str, reason: str, numbers: dict[str, float | int | None]) -> Verdict:
        return Verdict(rule.id, rule.claim, rule.metric, label, reason, numbers, conds)

    if result is None:
        return verdict("inconclusive", f"metric {rule.metric!r} has no result on this data", {})
    numbers: dict[str, float | int | None] = {}
    missing = []
    for c in (*rule.require, *rule.supported, *rule.not_supported):
        v = _number(lookup(result, c.path))
        numbers[c.path] = v
        if v is None:
            missing.append(c.path)

    def holds(cs: tuple[Condition, ...]) -> list[bool]:
        return [bool(OPS[c.op](numbers[c.path], c.value)) for c in cs]

    # an unmet requirement explains a missing statistic (no steps, no median), so it is reported first
    if not any(c.path in missing for c in rule.require):
        failed_req = [c.text() for c, ok in zip(rule.require, holds(rule.require), strict=False) if not ok]
        if failed_req:
            why = f"{rule.require_note} (" if rule.require_note else ""
            return verdict(
                "inconclusive",
                f"too little data: {why}requirement not met: {'; '.join(failed_req)}{')' if why else ''}",
                numbers,
            )
    if missing:
        return verdict("inconclusive", "no usable number for " + ", ".join(sorted(set(missing))), numbers)
    sup = all(holds(rule.supported))
    nsup = all(holds(rule.not_supported))
    if sup and nsup:
        return verdict("inconclusive", "rule is contradictory on these numbers (both branches hold)", numbers)
    if sup:
        return verdict("supported", "all of: " + "; ".join(conds["supported"]), numbers)
    if nsup:
        return verdict("not supported", "all of: " + "; ".join(conds["not_supported"]), numbers)
    return verdict(
        "inconclusive",
        "between thresholds: neither ["
        + "; ".join(conds["supported"])
        + "] nor ["
        + "; ".join(conds["not_supported"])
        + "] holds",
        numbers,
    )
