"""Verdict rules (data, ``rules.toml``) and their evaluator.

A rule names a claim, a metric and three lists of conditions on numbers in
the metric result's ``to_dict()``.  A path is dotted keys with list steps:
``slope_ci.0`` or ``slope_ci[0]`` (index), ``coefficients[term=has_license].ci_low``
(the list entry whose ``term`` is ``has_license``):

* ``require``: all must hold, else the verdict is *inconclusive* (too little
  data to judge);
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
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from numbers import Integral
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

from ..errors import InputError
from ..validation import line_of, read_toml_text, validate_data
from .rules_model import RuleModel, RulesFile, parse_path

if TYPE_CHECKING:
    from .catalogue import Catalogue

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
    source: str | None = None
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
            "source": self.source,
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


def _rule(m: RuleModel, source: str | None = None) -> Rule:
    def conds(cs: Sequence[Any]) -> tuple[Condition, ...]:
        return tuple(Condition(c.path, c.op, float(c.value)) for c in cs)

    return Rule(
        id=m.id,
        claim=m.claim,
        metric=m.metric,
        description=m.description,
        require=conds(m.require),
        supported=conds(m.supported),
        not_supported=conds(m.not_supported),
        hypothesis=m.hypothesis,
        source=source,
        require_note=m.require_note,
    )


def parse_rules(
    data: dict[str, Any],
    path: Path,
    *,
    claim_ids: set[str] | None = None,
    known_metrics: set[str] | None = None,
    text: str | None = None,
) -> tuple[Rule, ...]:
    """Validate the parsed TOML of a rules file; raise :class:`InputError` on any defect."""
    f = validate_data(RulesFile, data, path, text)
    seen: set[str] = set()
    out = []
    for i, r in enumerate(f.rules):
        where = f"[[rules]] #{i + 1} ({r.id})"
        line = line_of(text, ("rules", i))
        if r.id in seen:
            raise InputError(path, f"{where}: duplicate rule id", line=line)
        seen.add(r.id)
        if claim_ids is not None and r.claim not in claim_ids:
            raise InputError(path, f"{where}: unknown claim {r.claim!r}", line=line_of(text, ("rules", i, "claim")))
        if known_metrics is not None and r.metric not in known_metrics:
            from ..validation import did_you_mean

            raise InputError(
                path,
                f"{where}: unknown metric {r.metric!r}{did_you_mean(r.metric, sorted(known_metrics))}",
                line=line_of(text, ("rules", i, "metric")),
            )
        out.append(_rule(r, path.name))
    return tuple(out)


def load_rules(
    path: str | Path | None = None,
    *,
    claim_ids: set[str] | None = None,
    known_metrics: set[str] | None = None,
    catalogue: Catalogue | None = None,
) -> tuple[Rule, ...]:
    """The rules of ``path`` (default: the shipped ``rules.toml``), plus a catalogue's user rules.

    With ``catalogue`` the claim ids are checked against it, its user catalogues'
    rules are added, and the shipped rules are used only when they extend the
    review in use (a repeated review has its own claim ids).
    """
    p = Path(path) if path is not None else default_rules_path()
    data, text = read_toml_text(p, "rules file (TOML)")
    if catalogue is not None:
        claim_ids = {c.id for c in catalogue.claims}
        if path is None and data.get("extends") not in (None, catalogue.review.source.id):
            data = {**data, "rules": []}
    rules = list(parse_rules(data, p, claim_ids=claim_ids, known_metrics=known_metrics, text=text))
    if catalogue is not None:
        hyps = {h.id: h for h in catalogue.hypotheses}
        for i, r in enumerate(rules):
            h = hyps.get(r.hypothesis or "")
            if r.hypothesis is not None and (h is None or h.claim != r.claim):
                why = "unknown hypothesis" if h is None else f"hypothesis of claim {h.claim}, not {r.claim}:"
                raise InputError(
                    p, f"[[rules]] #{i + 1} ({r.id}): {why} {r.hypothesis!r}", line=line_of(text, ("rules", i))
                )
        ids = {r.id for r in rules}
        for file, m in catalogue.user_rules:
            if m.id in ids:
                raise InputError(file, f"[[rules]] ({m.id}): rule id already used by {p.name}")
            ids.add(m.id)
            rules.append(_rule(m, Path(file).name))
    return tuple(rules)


_MISSING = object()


def resolve(result: Any, path: str) -> tuple[Any, str | None]:
    """The value at ``path`` and, when absent, why (``_MISSING``, reason)."""
    try:
        steps = parse_path(path)
    except ValueError as exc:
        return _MISSING, str(exc)
    cur = result
    done = ""
    for step in steps:
        if step[0] == "key":
            if not isinstance(cur, dict) or step[1] not in cur:
                return _MISSING, f"no key {step[1]!r}" + (f" in {done}" if done else "")
            cur = cur[step[1]]
            done = f"{done}.{step[1]}" if done else step[1]
        elif step[0] == "index":
            if isinstance(cur, dict) and str(step[1]) in cur:
                cur = cur[str(step[1])]
            elif isinstance(cur, (list, tuple)) and -len(cur) <= step[1] < len(cur):
                cur = cur[step[1]]
            else:
                return _MISSING, f"no entry {step[1]} in {done or 'the result'}"
            done = f"{done}[{step[1]}]"
        else:
            _, key, want = step
            if not isinstance(cur, (list, tuple)):
                return _MISSING, f"{done or 'the result'} is not a list to select [{key}={want}] from"
            hits = [x for x in cur if isinstance(x, dict) and key in x and str(x[key]) == want]
            if not hits:
                return _MISSING, f"no entry with {key}={want} in {done or 'the result'}"
            if len(hits) > 1:
                return _MISSING, f"{len(hits)} entries with {key}={want} in {done or 'the result'}"
            cur = hits[0]
            done = f"{done}[{key}={want}]"
    return cur, None


def lookup(result: Any, path: str) -> Any:
    """The value at ``path`` in a nested dict/list; ``_MISSING`` if absent."""
    return resolve(result, path)[0]


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
    missing: dict[str, str] = {}
    for c in (*rule.require, *rule.supported, *rule.not_supported):
        raw, why = resolve(result, c.path)
        v = _number(raw)
        numbers[c.path] = v
        if v is None:
            missing[c.path] = why or ("null" if raw is None else "not a finite number")

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
        return verdict(
            "inconclusive",
            "no usable number for " + ", ".join(f"{k} ({v})" for k, v in sorted(missing.items())),
            numbers,
        )
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
