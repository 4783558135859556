"""File models of verdict rules and the grammar of their result paths."""

from __future__ import annotations

import math
import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from ..validation import StrictModel

Op = Literal["<", "<=", ">", ">=", "==", "!="]

# one step of a path: a key, a list index, or a list entry selected by one of its keys
Step = tuple[Literal["key"], str] | tuple[Literal["index"], int] | tuple[Literal["select"], str, str]

_SEGMENT = re.compile(r"(?P<name>[^.\[\]=]+)?(?P<sel>(?:\[[^\[\]]*\])*)")
_SELECT = re.compile(r"^\s*([^=\s][^=]*?)\s*=\s*(.*?)\s*$")


def parse_path(path: str) -> list[Step]:
    """``coefficients[term=has_license].ci_low`` -> key, select, key steps; ``ci.0`` -> key, index."""
    if not path or path != path.strip():
        raise ValueError("path must be a non-empty string without surrounding spaces")
    steps: list[Step] = []
    parts = re.findall(r"(?:[^.\[]|\[[^\]]*\])+", path)
    if ".".join(parts) != path:
        raise ValueError(f"malformed path {path!r} (empty part or unclosed [...])")
    for part in parts:
        m = _SEGMENT.fullmatch(part)
        if not m or (not m.group("name") and not m.group("sel")):
            raise ValueError(f"malformed path part {part!r} in {path!r}")
        name = m.group("name")
        if name is not None:
            steps.append(("index", int(name)) if name.isdigit() else ("key", name))
        for sel in re.findall(r"\[([^\[\]]*)\]", m.group("sel") or ""):
            if sel.strip().lstrip("-").isdigit():
                steps.append(("index", int(sel)))
                continue
            s = _SELECT.match(sel)
            if not s or not s.group(2):
                raise ValueError(f"malformed selector [{sel}] in {path!r}: use [N] or [key=value]")
            steps.append(("select", s.group(1), s.group(2)))
    return steps


class ConditionModel(StrictModel):
    path: str
    op: Op
    value: float | int

    @field_validator("path")
    @classmethod
    def _path(cls, v: str) -> str:
        parse_path(v)
        return v

    @field_validator("value")
    @classmethod
    def _finite(cls, v: float | int) -> float | int:
        if isinstance(v, bool) or not math.isfinite(v):
            raise ValueError("value must be a finite number")
        return v


class RuleModel(StrictModel):
    id: str = Field(min_length=1)
    claim: str = Field(min_length=1)
    metric: str = Field(min_length=1)
    description: str = Field(min_length=1)
    hypothesis: str | None = None
    require: list[ConditionModel] = Field(default_factory=list)
    require_note: str | None = Field(None, min_length=1, description="What the data lacks when a requirement fails.")
    supported: list[ConditionModel]
    not_supported: list[ConditionModel]

    @model_validator(mode="after")
    def _both(self) -> RuleModel:
        if not self.supported or not self.not_supported:
            raise ValueError("needs both supported and not_supported conditions")
        return self


class RulesFile(StrictModel):
    schema_version: Literal[2]
    extends: str | None = None
    rules: list[RuleModel] = Field(default_factory=list)
