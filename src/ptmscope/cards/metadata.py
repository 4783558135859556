"""Metadata availability: the share of PeaTMOSS's metadata fields a model has.

Formula (ESEM'24 paper, C3, "availability of metadata"): the paper scored a model
"on an integer scale from 0 to the maximum, *i.e.*, the number of distinct pieces
of metadata considered in the PeaTMOSS database schema".  Normalised, for model *m*
and the set *F* of those fields the snapshot's source can hold,

    metadata_score(m) = |{f in F : m has f}| / |F|

The fields are the per-model metadata relations of the PeaTMOSS schema
(``PeaTMOSS_schema.sql``, 2023-08 version: the ``model_to_*`` link tables other
than ``model_to_reuse_repository``), and "has" is decided from the canonical tables:

============  =====================  =======================================================
field         PeaTMOSS table         a model has it when
============  =====================  =======================================================
architecture  model_to_architecture  ``packages.model_type`` is set (config.json's model_type)
author        model_to_author        ``packages.author`` is set
datasets      model_to_dataset       a ``dataset:`` tag
framework     model_to_framework     a framework tag (``pytorch``, ``tf``, ``jax``, ``onnx``,
                                     ``safetensors`` ... see ``FRAMEWORK_TAGS``) or such a
                                     ``package_libraries`` row (the PeaTMOSS import puts
                                     frameworks there)
language      model_to_language      a ``language:`` tag or a bare two-letter ISO 639-1 tag
library       model_to_library       a ``package_libraries`` row
license       model_to_license       ``packages.license`` is set
paper         model_to_paper         an ``arxiv:`` or ``doi:`` tag
tags          model_to_tag           at least one tag
============  =====================  =======================================================

Not counted, and why (listed in every result as ``fields_not_in_snapshots``):

* the schema's other per-model relations are repository and reuse data, not
  model-card or config metadata (``hf_commit``, ``hf_git_ref``, ``discussion``,
  ``model.ptm_issues_id``/``ptm_pull_requests_id``, ``model_to_reuse_repository``,
  ``reuse_file``); ``model.sha``/``repo_url``/``downloads``/``likes`` every model has;
* the fields PeaTMOSS's LLM extraction reads from the card and ``config.json``
  (``hf-metadata-extraction``; ``500ModelResult_llm_extracted.json`` in the artifact):
  hyper-parameters, hardware, evaluation, limitations and bias, demo, input and output
  format, GitHub link, upstream model, parameter count, tasks, domain, and config values
  (max length, vocabulary size, input size, sample rate, input preprocessing, token limit,
  number of classes), and task-specific ones (WER, trigger word).  They are not in the 2023-08
  schema, and a registry snapshot holds none of them (ptmscope's own ``lineage``,
  ``packages.task`` and ``packages.parameters`` come from other sources and are not
  schema fields, so counting them would change the paper's measure).

Schema fields a snapshot's source cannot fill leave the denominator and are listed
with the reason (``fields_excluded``): ``SOURCE_EXCLUSIONS`` names those a format
never fills (the PeaTMOSS import keeps no architecture), and for every format except
``hf-api`` -- whose ``ModelInfo`` records always carry every field -- a field that no
model of the snapshot has is taken as one the file does not record.

Differences from the paper: the paper read PeaTMOSS's database, whose link tables
were filled partly by its LLM extraction; here each field comes from the registry
metadata the snapshot holds, by the rules in the table above.

Written as Ibis expressions: runs unchanged on DuckDB and PySpark.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import ibis

from ..errors import NotMeasurable

#: The PeaTMOSS schema version the fields follow (``PeaTMOSS_schema.sql`` of the artifact).
PEATMOSS_SCHEMA = "PeaTMOSS_schema.sql (2023-08)"

MetadataField = Literal[
    "architecture",
    "author",
    "datasets",
    "framework",
    "language",
    "library",
    "license",
    "paper",
    "tags",
]
METADATA_FIELDS: tuple[str, ...] = get_args(MetadataField)

#: field -> the PeaTMOSS link table it stands for.
SCHEMA_TABLES: dict[str, str] = {
    "architecture": "model_to_architecture",
    "author": "model_to_author",
    "datasets": "model_to_dataset",
    "framework": "model_to_framework",
    "language": "model_to_language",
    "library": "model_to_library",
    "license": "model_to_license",
    "paper": "model_to_paper",
    "tags": "model_to_tag",
}

_LLM = "only PeaTMOSS's LLM extraction from the card text gives it; not a 2023-08 schema field"
_CONFIG = "a config.json value only PeaTMOSS's LLM extraction reads; snapshots keep only config.model_type"
#: Metadata PeaTMOSS knows that no snapshot holds or that the 2023-08 schema does not count, with the reason.
NOT_IN_SNAPSHOTS: dict[str, str] = {
    "hyper_parameters": _LLM,
    "hardware": _LLM,
    "evaluation": _LLM,
    "limitation_and_bias": _LLM,
    "demo": _LLM + " (code_demo in the hand-labelled ground truth)",
    "input_format": _LLM,
    "output_format": _LLM,
    "github": _LLM + " (the schema's GitHub links are downstream reuse repositories, not the model's own)",
    "upstream_model": "LLM extraction; the 2023-08 schema has no model_to_base_model table (ptmscope's lineage "
    "table is not counted, so the score stays the schema's)",
    "parameter_count": "LLM extraction; ptmscope's packages.parameters (Hub safetensors metadata) is not a "
    "schema field",
    "model_tasks": "LLM extraction; the Hub pipeline tag (packages.task) is not a 2023-08 schema field",
    "model_type": "LLM extraction (the domain: nlp, audio, ...); derived from the task, not a schema field",
    "max_length": _CONFIG,
    "vocabulary_size": _CONFIG,
    "input_size": _CONFIG,
    "sample_rate": _CONFIG,
    "input_preprocessing": _CONFIG,
    "input_token_limit": _CONFIG,
    "num_of_classes_for_classification": _CONFIG,
    "WER": _LLM + " (an evaluation result of speech models)",
    "trigger_word": _LLM + " (of text-to-image adapters)",
}

#: Per source format, schema fields that source cannot have, with the reason.
SOURCE_EXCLUSIONS: dict[str, dict[str, str]] = {
    "hf-api": {},  # ModelInfo records carry every field
    "peatmoss": {
        "architecture": "the PeaTMOSS import keeps no architecture (model_to_architecture is not imported)",
    },
}
#: Formats whose records always carry every field they can have: a field
#: nobody in the snapshot has is then a real absence, not a gap of the source.
COMPLETE_RECORD_FORMATS: frozenset[str] = frozenset({"hf-api"})

#: Tags (and package_libraries keys) naming a framework or weight format, as PeaTMOSS's "frameworks" do.
FRAMEWORK_TAGS: tuple[str, ...] = (
    "pytorch",
    "tf",
    "tensorflow",
    "jax",
    "flax",
    "keras",
    "tf-keras",
    "onnx",
    "tflite",
    "coreml",
    "safetensors",
    "paddlepaddle",
    "mxnet",
    "openvino",
    "gguf",
    "mlx",
    "rust",
)

_LANGUAGE_TAG = r"^(?:language:.+|[a-z]{2})$"
_NOT_LANGUAGE = ("tf",)  # two-letter tags that are not languages (TensorFlow)


@dataclass(frozen=True)
class MetadataAvailability:
    """Metadata availability of one snapshot."""

    snapshot_id: str
    source_format: str
    n_models: int
    fields_used: tuple[str, ...]
    fields_excluded: dict[str, str]  # schema field -> why it is not in the denominator
    field_share: dict[str, float]  # field -> share of models that have it (fields_used only)
    mean_score: float
    median_score: float
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": "metadata_availability",
            "inputs": {"snapshot_id": self.snapshot_id, "source_format": self.source_format},
            "schema": PEATMOSS_SCHEMA,
            "n_models": self.n_models,
            "fields_used": list(self.fields_used),
            "schema_tables_used": {f: SCHEMA_TABLES[f] for f in self.fields_used},
            "fields_excluded": dict(sorted(self.fields_excluded.items())),
            "fields_not_in_snapshots": dict(NOT_IN_SNAPSHOTS),
            "field_share": {k: round(v, 6) for k, v in sorted(self.field_share.items())},
            "mean_score": round(self.mean_score, 6),
            "median_score": round(self.median_score, 6),
            **self.extra,
        }


_SEP = "\x1f"  # tags are joined with a unit separator so regexes stay portable (no lambdas)


def _joined_tags(tags: Any) -> Any:
    # "\x1ftag1\x1ftag2\x1f": every tag is delimited on both sides
    return ibis.literal(_SEP) + tags.join(_SEP).fill_null("") + ibis.literal(_SEP)


def _tag_alternation(tags: Iterable[str]) -> str:
    return _SEP + "(?:" + "|".join(tags) + ")" + _SEP


def field_flags(backend: Any, snapshot_id: str) -> ibis.Table:
    """One row per model of the snapshot: ``package_id`` and one boolean per field."""
    p = backend.table("packages")
    p = p.filter(p.snapshot_id == snapshot_id)
    all_libs = backend.table("package_libraries")
    all_libs = all_libs.filter(all_libs.snapshot_id == snapshot_id)
    libs = all_libs.select(lib_pid="package_id").distinct()
    fw = all_libs.filter(all_libs.library.lower().isin(FRAMEWORK_TAGS)).select(fw_pid="package_id").distinct()
    t = p.left_join(libs, p.package_id == libs.lib_pid).left_join(fw, p.package_id == fw.fw_pid)
    j = _joined_tags(t.tags)
    j_lang = j
    for bad in _NOT_LANGUAGE:
        j_lang = j_lang.replace(_SEP + bad + _SEP, _SEP + _SEP)
    return t.select(
        package_id=t.package_id,
        architecture=t.model_type.notnull() & (t.model_type != ""),
        author=t.author.notnull() & (t.author != ""),
        datasets=j.contains(_SEP + "dataset:"),
        framework=j.lower().re_search(_tag_alternation(FRAMEWORK_TAGS)) | t.fw_pid.notnull(),
        language=j_lang.contains(_SEP + "language:") | j_lang.re_search(_SEP + "[a-z]{2}" + _SEP),
        library=t.lib_pid.notnull(),
        license=t.license.notnull() & (t.license != ""),
        paper=j.contains(_SEP + "arxiv:") | j.contains(_SEP + "doi:"),
        tags=t.tags.length().fill_null(0) > 0,
    )


def _source_format(backend: Any, snapshot_id: str) -> str:
    s = backend.table("snapshots")
    df = s.filter(s.snapshot_id == snapshot_id).select("source_format").execute()
    if df.empty:
        raise NotMeasurable(f"no snapshot {snapshot_id!r} in the store (see `ptmscope snapshots`)")
    return str(df.iloc[0, 0])


def choose_fields(source_format: str, shares: dict[str, float]) -> tuple[tuple[str, ...], dict[str, str]]:
    """Fields in the denominator and the excluded ones with reasons."""
    excluded = dict(SOURCE_EXCLUSIONS.get(source_format, {}))
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
    computable = list(METADATA_FIELDS)
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
    # integer sums, not a mean of floats: a float sum's last bits depend on the engine's row order and threads
    agg = scored.aggregate(
        n=scored.count(),
        median=scored.metadata_score.median(),
        **{f: scored[f].cast("int64").sum() for f in used},
    ).execute()
    r = agg.iloc[0]
    n = int(r["n"])
    hits = {f: int(r[f] or 0) for f in used}
    return MetadataAvailability(
        snapshot_id=snapshot_id,
        source_format=_source_format(backend, snapshot_id),
        n_models=n,
        fields_used=used,
        fields_excluded=excluded,
        field_share={f: hits[f] / n if n else float("nan") for f in used},
        mean_score=sum(hits.values()) / (n * len(used)) if n else float("nan"),
        median_score=float(r["median"]),
    )


# -- the same rules on plain records (the human-labelled dev set has only tags) --
TAG_FIELDS: tuple[str, ...] = ("datasets", "framework", "language", "license", "paper", "tags")


def flags_from_tags(tags: Iterable[str] | None) -> dict[str, bool]:
    """The tag-derived fields of one model (same rules as :func:`field_flags`)."""
    import re

    tags = [t for t in (tags or []) if isinstance(t, str)]
    lang = re.compile(_LANGUAGE_TAG)
    return {
        "datasets": any(t.startswith("dataset:") for t in tags),
        "framework": any(t.lower() in FRAMEWORK_TAGS for t in tags),
        "language": any(lang.search(t) and t not in _NOT_LANGUAGE for t in tags),
        "license": any(t.startswith("license:") for t in tags),
        "paper": any(t.startswith(("arxiv:", "doi:")) for t in tags),
        "tags": bool(tags),
    }
