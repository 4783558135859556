"""Metadata availability: the share of documented metadata fields a model has.

Formula (ESEM'24 paper, C3, "metadata score"): for model *m* and the set *F*
of fields the snapshot's source can hold,

    metadata_score(m) = |{f in F : m has f}| / |F|

Fields (``MetadataField``) and how "has" is decided from the canonical tables:

=============  ===========================================================
architecture   ``packages.model_type`` not null (config.model_type)
author         ``packages.author`` not null
base_model     the model has a ``lineage`` row as child (any parent reference)
datasets       a ``dataset:`` tag
language       a ``language:`` tag or a bare two-letter ISO 639-1 tag (``en``)
library        a ``package_libraries`` row
license        ``packages.license`` not null
paper          an ``arxiv:`` or ``doi:`` tag
tags           at least one tag
task           ``packages.task`` not null (pipeline tag)
hardware       never in the canonical tables (PeaTMOSS-only field)
github_repo    never in the canonical tables (PeaTMOSS-only field)
=============  ===========================================================

Fields the source cannot have are excluded from the denominator and listed
with the reason: those not in the canonical schema, those
``SOURCE_EXCLUSIONS`` names for the snapshot's ``source_format`` (PeaTMOSS:
architecture, task), and -- for every format except ``hf-api``, whose
``ModelInfo`` records always carry all fields -- every field that no model of
the snapshot has (listings and PeaTMOSS exports vary by file; a source that
never records a field cannot be blamed on the models).

Differences from the paper: the paper used PeaTMOSS's metadata columns (its
field list is not published in full); here the list is the table above,
computed from whatever the snapshot holds.  Domain is not a separate field
(it is derived from the task, so counting it would double-count the task).

Written as Ibis expressions: runs unchanged on DuckDB and PySpark.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import ibis

from ..errors import NotMeasurable

MetadataField = Literal[
    "architecture",
    "author",
    "base_model",
    "datasets",
    "language",
    "library",
    "license",
    "paper",
    "tags",
    "task",
    "hardware",
    "github_repo",
]
METADATA_FIELDS: tuple[str, ...] = get_args(MetadataField)

#: Fields no snapshot in the canonical tables can hold (no column for them).
NOT_IN_SCHEMA: dict[str, str] = {
    "hardware": "no hardware column in the canonical schema (PeaTMOSS-only field)",
    "github_repo": "no GitHub-repository column in the canonical schema (PeaTMOSS-only field)",
}

#: Per source format, fields that source cannot have, with the reason.
SOURCE_EXCLUSIONS: dict[str, dict[str, str]] = {
    "hf-api": {},  # ModelInfo records carry every other field
    "peatmoss": {
        "architecture": "the PeaTMOSS import has no config.model_type column",
        "task": "the PeaTMOSS import fills no task column",
    },
}
#: Formats whose records always carry every field they can have: a field
#: nobody in the snapshot has is then a real absence, not a gap of the source.
COMPLETE_RECORD_FORMATS: frozenset[str] = frozenset({"hf-api"})

_LANGUAGE_TAG = r"^(?:language:.+|[a-z]{2})$"
_NOT_LANGUAGE = ("tf",)  # two-letter tags that are not languages (TensorFlow)


@dataclass(frozen=True)
class MetadataAvailability:
    """Metadata availability of one snapshot."""

    snapshot_id: str
    source_format: str
    n_models: int
    fields_used: tuple[str, ...]
    fields_excluded: dict[str, str]  # field -> why it is not in the denominator
    field_share: dict[str, float]  # field -> share of models that have it (fields_used only)
    mean_score: float
    median_score: float
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": "metadata_availability",
            "inputs": {"snapshot_id": self.snapshot_id, "source_format": self.source_format},
            "n_models": self.n_models,
            "fields_used": list(self.fields_used),
            "fields_excluded": dict(sorted(self.fields_excluded.items())),
            "field_share": {k: round(v, 6) for k, v in sorted(self.field_share.items())},
            "mean_score": round(self.mean_score, 6),
            "median_score": round(self.median_score, 6),
            **self.extra,
        }


_SEP = "\x1f"  # tags are joined with a unit separator so regexes stay portable (no lambdas)


def _joined_tags(tags: Any) -> Any:
    # "\x1ftag1\x1ftag2\x1f": every tag is delimited on both sides
    return ibis.literal(_SEP) + tags.join(_SEP).fill_null("") + ibis.literal(_SEP)


def field_flags(backend: Any, snapshot_id: str) -> ibis.Table:
    """One row per model of the snapshot: ``package_id`` and one boolean per field."""
    p = backend.table("packages")
    p = p.filter(p.snapshot_id == snapshot_id)
    libs = backend.table("package_libraries")
    libs = libs.filter(libs.snapshot_id == snapshot_id).select(lib_pid="package_id").distinct()
    lin = backend.table("lineage")
    lin = lin.filter((lin.snapshot_id == snapshot_id) & lin.parent_ref.notnull()).select(lin_pid="child").distinct()
    t = p.left_join(libs, p.package_id == libs.lib_pid).left_join(lin, p.package_id == lin.lin_pid)
    j = _joined_tags(t.tags)
    j_lang = j
    for bad in _NOT_LANGUAGE:
        j_lang = j_lang.replace(_SEP + bad + _SEP, _SEP + _SEP)
    return t.select(
        package_id=t.package_id,
        architecture=t.model_type.notnull() & (t.model_type != ""),
        author=t.author.notnull() & (t.author != ""),
        base_model=t.lin_pid.notnull(),
        datasets=j.contains(_SEP + "dataset:"),
        language=j_lang.contains(_SEP + "language:") | j_lang.re_search(_SEP + "[a-z]{2}" + _SEP),
        library=t.lib_pid.notnull(),
        license=t.license.notnull() & (t.license != ""),
        paper=j.contains(_SEP + "arxiv:") | j.contains(_SEP + "doi:"),
        tags=t.tags.length().fill_null(0) > 0,
        task=t.task.notnull() & (t.task != ""),
    )


def _source_format(backend: Any, snapshot_id: str) -> str:
    s = backend.table("snapshots")
    df = s.filter(s.snapshot_id == snapshot_id).select("source_format").execute()
    if df.empty:
        raise NotMeasurable(f"no snapshot {snapshot_id!r} in the store (see `ptmscope snapshots`)")
    return str(df.iloc[0, 0])


def choose_fields(source_format: str, shares: dict[str, float]) -> tuple[tuple[str, ...], dict[str, str]]:
    """Fields in the denominator and the excluded ones with reasons."""
    excluded = dict(NOT_IN_SCHEMA)
    excluded.update(SOURCE_EXCLUSIONS.get(source_format, {}))
    if source_format not in COMPLETE_RECORD_FORMATS:
        # listings and PeaTMOSS exports vary by file: a field no model has is taken as one the file lacks
        for f, share in shares.items():
            if share == 0 and f not in excluded:
                excluded[f] = f"no model of this {source_format!r} snapshot has it (source does not record it)"
    used = tuple(f for f in METADATA_FIELDS if f not in excluded)
    return used, excluded


def metadata_scores(backend: Any, snapshot_id: str) -> tuple[ibis.Table, tuple[str, ...], dict[str, str]]:
    """Per-model ``metadata_score`` (Ibis table) and the fields it used/excluded."""
    flags = field_flags(backend, snapshot_id)
    computable = [f for f in METADATA_FIELDS if f not in NOT_IN_SCHEMA]
    agg = flags.aggregate(n=flags.count(), **{f: flags[f].cast("int64").sum() for f in computable}).execute()
    n = int(agg["n"].iloc[0])
    if n == 0:
        raise NotMeasurable(f"snapshot {snapshot_id!r} has no models")
    shares = {f: float(agg[f].iloc[0] or 0) / n for f in computable}
    used, excluded = choose_fields(_source_format(backend, snapshot_id), shares)
    if not used:
        raise NotMeasurable(f"snapshot {snapshot_id!r}: its source holds none of the metadata fields")
    total = sum((flags[f].cast("float64") for f in used), ibis.literal(0.0))
    scored = flags.mutate(metadata_score=total / len(used))
    return scored, used, excluded


def metadata_availability(backend: Any, snapshot_id: str) -> MetadataAvailability:
    """Metadata availability of every model of ``snapshot_id``."""
    scored, used, excluded = metadata_scores(backend, snapshot_id)
    agg = scored.aggregate(
        n=scored.count(),
        mean=scored.metadata_score.mean(),
        median=scored.metadata_score.median(),
        **{f: scored[f].cast("float64").mean() for f in used},
    ).execute()
    r = agg.iloc[0]
    return MetadataAvailability(
        snapshot_id=snapshot_id,
        source_format=_source_format(backend, snapshot_id),
        n_models=int(r["n"]),
        fields_used=used,
        fields_excluded=excluded,
        field_share={f: float(r[f]) for f in used},
        mean_score=float(r["mean"]),
        median_score=float(r["median"]),
    )


# -- the same rules on plain records (the human-labelled dev set has only tags) --
TAG_FIELDS: tuple[str, ...] = ("datasets", "language", "license", "paper", "tags")


def flags_from_tags(tags: Iterable[str] | None) -> dict[str, bool]:
    """The tag-derived fields of one model (same rules as :func:`field_flags`)."""
    import re

    tags = [t for t in (tags or []) if isinstance(t, str)]
    lang = re.compile(_LANGUAGE_TAG)
    return {
        "datasets": any(t.startswith("dataset:") for t in tags),
        "language": any(lang.search(t) and t not in _NOT_LANGUAGE for t in tags),
        "license": any(t.startswith("license:") for t in tags),
        "paper": any(t.startswith(("arxiv:", "doi:")) for t in tags),
        "tags": bool(tags),
    }
