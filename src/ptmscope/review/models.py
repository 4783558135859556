"""The files of a review folder as pydantic models (TOML files; the CSV rows are checked in :mod:`.folder`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ..claims.catalogue import (
    ClaimCategory,
    Inconsistency,
    Reference,
    Source,
    Table4Claim,
    TraditionalMetric,
    basis_kinds,
)
from ..claims.catalogue import Hypothesis as Table4Hypothesis
from ..validation import StrictModel

_ID = r"^[A-Za-z0-9][A-Za-z0-9_.:\-]*$"


class Criterion(StrictModel):
    id: str = Field(pattern=_ID)
    kind: Literal["inclusion", "exclusion"]
    text: str = Field(min_length=1)


class Query(StrictModel):
    """One search: where, what was typed, when, and the export file it gave."""

    id: str = Field(pattern=_ID)
    source: str = Field(min_length=1)
    query: str = Field(min_length=1)
    date: str | None = None
    file: str = Field(min_length=1)
    format: Literal["bibtex", "ris", "csv"] | None = None


class ReportedFlow(StrictModel):
    papers_found: int = Field(ge=0)
    papers_after_dedup: int = Field(ge=0)
    papers_included: int = Field(ge=0)
    claims_discussed: int = Field(ge=0)
    claims_kept: int = Field(ge=0)
    claims_motivation: int = Field(ge=0)
    claims_work: int = Field(ge=0)


class Dedup(StrictModel):
    title_threshold: float = Field(default=95.0, ge=50, le=100)
    same_year: bool = True


class PopulationRule(StrictModel):
    large_scale_share: float = Field(default=0.10, gt=0, lt=1)


class ReviewFile(StrictModel):
    """``review.toml``: the protocol and what the folder holds."""

    schema_version: Literal[1]
    synthetic: bool = False
    records: Literal["folder", "not public"] = "folder"
    records_note: str | None = None
    themes: list[str] = Field(min_length=1)
    source: Source
    reported_flow: ReportedFlow | None = None
    population_rule: PopulationRule = PopulationRule()
    dedup: Dedup = Dedup()
    criteria: list[Criterion] = Field(min_length=1)
    categories: list[ClaimCategory] = Field(default_factory=list)
    queries: list[Query] = Field(default_factory=list)
    inconsistencies: list[Inconsistency] = Field(default_factory=list)

    @model_validator(mode="after")
    def _records(self) -> ReviewFile:
        if self.records == "not public" and self.reported_flow is None:
            raise ValueError('records = "not public" needs the counts in [reported_flow]')
        if self.records == "not public" and not self.records_note:
            raise ValueError('records = "not public" needs records_note saying what is missing and why')
        return self


class Evidence(StrictModel):
    """One piece of evidence behind a consolidated claim; measurements are scaled by the 10% rule."""

    method: Literal["measurement", "survey", "interviews", "case study"]
    work: str | None = None
    sample: int | None = Field(default=None, ge=0)
    population: int | None = Field(default=None, gt=0)
    note: str | None = None

    @model_validator(mode="after")
    def _sizes(self) -> Evidence:
        if self.method == "measurement" and (self.sample is None or self.population is None):
            raise ValueError("a measurement needs sample and population (the 10% rule decides its scale)")
        if self.sample is not None and self.population is not None and self.sample > self.population:
            raise ValueError("sample cannot exceed population")
        return self


class ConsolidatedClaim(StrictModel):
    id: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_.\-]*$")
    theme: str
    text: str = Field(min_length=1)
    basis: list[str] = Field(default_factory=list)
    evidence: list[Evidence] = Field(default_factory=list)
    works: list[str] | None = None
    dagger: int | None = Field(default=None, ge=1)
    no_dagger_reason: str | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _basis(self) -> ConsolidatedClaim:
        basis_kinds(self.basis)
        if not self.basis and not self.evidence:
            raise ValueError("needs evidence (or the basis as printed, when the sizes are not recorded)")
        return self


class ConsolidatedFile(StrictModel):
    schema_version: Literal[1]
    claims: list[ConsolidatedClaim] = Field(min_length=1)


class Measure(StrictModel):
    claim: str
    metrics: list[str] = Field(default_factory=list)
    not_measurable: str | None = None

    @model_validator(mode="after")
    def _one(self) -> Measure:
        if not self.metrics and not self.not_measurable:
            raise ValueError("give metrics or not_measurable")
        return self


class ValidationFile(StrictModel):
    """``validation.toml``: Table 4 and Table 1 analogues and the metric of each claim."""

    schema_version: Literal[1]
    table4: list[Table4Claim] = Field(default_factory=list)
    hypotheses: list[Table4Hypothesis] = Field(default_factory=list)
    table1: list[TraditionalMetric] = Field(default_factory=list)
    measures: list[Measure] = Field(default_factory=list)


class ReferencesFile(StrictModel):
    schema_version: Literal[1]
    references: list[Reference] = Field(default_factory=list)


class DedupOverride(StrictModel):
    ids: list[str] = Field(min_length=2)
    note: str | None = None


class DedupFile(StrictModel):
    """``dedup.toml``: a reviewer's corrections of the automatic de-duplication."""

    schema_version: Literal[1]
    same: list[DedupOverride] = Field(default_factory=list)
    different: list[DedupOverride] = Field(default_factory=list)
