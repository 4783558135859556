"""The shape of what the Hub answers, as pydantic models: every item of a page is validated before any is stored.

Types are strict: a count is a JSON integer between 0 and 2^63-1 (``"12"``,
``12.0``, ``true`` and ``1e300`` are all refused), a timestamp is an
ISO-8601 string, a list of tags is a list of strings.  Fields the crawler
stores or reads are typed exactly; fields it only passes through (widget
data, inference-provider mappings ...) may hold any JSON, because their shape
is the Hub's business and changes without notice -- refusing a page over
them would stop a crawl for data it does not use.  Unknown fields are
allowed and ignored for the same reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
)

MAX_COUNT = 2**63 - 1


def _timestamp(v: str) -> str:
    try:
        dt.datetime.fromisoformat(v.strip())
    except ValueError:
        raise ValueError(f"not an ISO-8601 timestamp: {v[:40]!r}") from None
    return v


def _nonblank(v: str) -> str:
    if not v.strip():
        raise ValueError("empty")
    return v


Count = Annotated[StrictInt, Field(ge=0, le=MAX_COUNT)]
Timestamp = Annotated[StrictStr, AfterValidator(_timestamp)]
Name = Annotated[StrictStr, AfterValidator(_nonblank)]


class _Item(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True, frozen=True, populate_by_name=True)


class Sibling(_Item):
    rfilename: Name
    size: Count | None = None


class SafeTensors(_Item):
    parameters: dict[str, Count] | None = None
    total: Count | None = None


class ModelConfig(_Item):
    model_type: StrictStr | None = None


class _Repo(_Item):
    """Fields models and datasets share."""

    internal_id: StrictStr | None = Field(None, alias="_id")
    id: Name | None = None
    author: StrictStr | None = None
    sha: StrictStr | None = None
    createdAt: Timestamp | None = None
    lastModified: Timestamp | None = None
    private: StrictBool | None = None
    gated: StrictBool | Literal["auto", "manual"] | None = None
    disabled: StrictBool | None = None
    downloads: Count | None = None
    downloadsAllTime: Count | None = None
    likes: Count | None = None
    trendingScore: StrictInt | StrictFloat | None = None
    tags: list[StrictStr] | None = None
    cardData: dict[str, Any] | None = None
    siblings: list[Sibling] | None = None
    usedStorage: Count | None = None


class ModelItem(_Repo):
    """One item of ``GET /api/models`` (``expand=`` fields of huggingface_hub's ``ExpandModelProperty_T``)."""

    modelId: Name | None = None  # the older spelling of the id
    library_name: StrictStr | None = None
    pipeline_tag: StrictStr | None = None
    config: ModelConfig | None = None
    safetensors: SafeTensors | None = None
    gguf: dict[str, Any] | None = None
    baseModels: Any = None
    childrenModelCount: Count | None = None
    evalResults: Any = None
    inference: Any = None
    inferenceProviderMapping: Any = None
    mask_token: Any = None
    model_index: Any = Field(None, alias="model-index")
    resourceGroup: Any = None
    spaces: list[StrictStr] | None = None
    transformersInfo: Any = None
    widgetData: Any = None

    @property
    def repo_id(self) -> str | None:
        return (self.id or self.modelId or "").strip() or None


class DatasetItem(_Repo):
    """One item of ``GET /api/datasets`` (``expand=`` fields of ``ExpandDatasetProperty_T``)."""

    citation: StrictStr | None = None
    description: StrictStr | None = None
    paperswithcode_id: StrictStr | None = None
    mainSize: Any = None
    resourceGroup: Any = None

    @property
    def repo_id(self) -> str | None:
        return (self.id or "").strip() or None


class CommitAuthor(_Item):
    user: Name


class CommitItem(_Item):
    """One item of ``GET /api/{models|datasets}/{id}/commits/{revision}`` (huggingface_hub's ``GitCommitInfo``)."""

    id: Annotated[StrictStr, Field(pattern=r"^[0-9a-f]{7,64}$")]
    title: StrictStr
    message: StrictStr
    authors: list[CommitAuthor]
    date: Timestamp


_EXPECTED = {
    "int_type": "a whole number",
    "string_type": "a string",
    "bool_type": "true or false",
    "list_type": "a list",
    "dict_type": "an object",
    "model_type": "an object",
    "float_type": "a number",
}


def _loc(loc: Sequence[str | int]) -> str:
    out = ""
    for p in loc:
        if isinstance(p, int):
            out += f"[{p}]"
        elif p in ("str", "int", "float", "bool", "literal['auto','manual']") or p.startswith(
            ("constrained-", "function-")
        ):
            continue  # pydantic's name of a union member, not a field
        else:
            out += f".{p}" if out else str(p)
    return out or "item"


def describe(exc: ValidationError) -> str:
    """The first problem of a validation error as ``field: expected ..., got ...`` (plus a count of others)."""
    errs = exc.errors(include_url=False)
    e = errs[0]
    inp = e.get("input")
    shown = f"{type(inp).__name__} {inp!r}"[:80] if not isinstance(inp, (dict, list)) else type(inp).__name__
    kind = e.get("type", "")
    if kind in _EXPECTED:
        msg = f"expected {_EXPECTED[kind]}, got {shown}"
    elif kind in ("greater_than_equal", "less_than_equal"):
        msg = f"{inp!r} out of range (0 … 2^63-1)"
    else:
        msg = str(e.get("msg", "invalid")).removeprefix("Value error, ")
        if kind == "string_pattern_mismatch":
            msg = f"{inp!r} is not a commit hash"
    more = len({tuple(x.get("loc", ())[:1]) for x in errs}) - 1
    return f"{_loc(e.get('loc', ()))}: {msg}" + (f" (and {more} more field{'s' * (more > 1)})" if more > 0 else "")


__all__ = [
    "CommitItem",
    "DatasetItem",
    "ModelItem",
    "ValidationError",
    "describe",
]
