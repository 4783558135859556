"""The one-command pipeline: ingest what a run config lists, compute every
metric, check every claim, write the report.

Run config (TOML)::

    base_dir = ".."            # paths below are relative to this (itself
                               # relative to the config file); default: the
                               # config file's folder
    store = "ptmscope-real.duckdb"
    [[sources]]                # as `ptmscope ingest` takes them
    path = "../shared/data/hf/2022-02_hub-dump/model_infos.jsonl.gz"
    format = "hf-api"          # optional: detected when absent
    date = "2022-02-21"        # optional
    cards = "../shared/data/hf/2022-02_hub-dump/model_cards.jsonl.gz"  # optional extras
    registry = "hf"            # optional
    plugins = ["my_metrics"]   # modules / .py files that register metrics of their own
    [metrics]
    include = ["growth", ...]  # default: every registered metric
    [metrics.turnover]         # a metric's parameters (its Params class; `ptmscope metric NAME --help`)
    top = 1000
    every = "year"             # and a snapshot selection: snapshots, since, until, every
    [[metrics.sql]]            # a metric defined by one read-only SQL query
    name = "..."
    query = "SELECT ..."
    [report]
    out = "report-real"

The whole file is validated (unknown keys, wrong types, unknown formats,
registries and metrics: one line with file, line and the fix) before any
store is opened or created.  Sources already in the store (same file, same
sha256) are skipped without being parsed again.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Protocol, cast

from pydantic import AfterValidator, Field, create_model

from .claims import Catalogue, Rule, Verdict, evaluate, load_catalogue, load_rules
from .errors import InputError, NotMeasurable, PtmscopeError
from .metrics.registry import Params
from .schema import SNAPSHOT_COLUMNS, Registry
from .snapshots import Every, Selection
from .validation import StrictModel

Progress = Callable[[str], None]


# ---------------------------------------------------------------------------
# Metrics: every registered metric, by the registry's declarations
# ---------------------------------------------------------------------------


@dataclass
class MetricOutcome:
    metric: str
    status: str  # "ok" | "not measurable" | "error"
    result: Any = None  # the metric's result object, for figures
    data: dict[str, Any] | None = None  # JSON-able: result.to_dict() (+ summary)
    reason: str | None = None
    params: dict[str, Any] | None = None  # the parameters it ran with
    selection: str | None = None  # the snapshot selection, in words

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"metric": self.metric, "status": self.status}
        if self.data is not None:
            d["result"] = self.data
        if self.reason:
            d["reason"] = self.reason
        if self.params is not None:
            d["params"] = self.params
        return d


def cards_snapshot(con: Any) -> str | None:
    """The hf snapshot with most card texts (the one C3 and under-documentation use)."""
    row = con.execute(
        "SELECT c.snapshot_id FROM cards c JOIN snapshots s USING (snapshot_id) "
        "WHERE s.registry = 'hf' AND s.status = 'complete' AND NOT c.missing AND c.text IS NOT NULL "
        "GROUP BY c.snapshot_id ORDER BY count(*) DESC, max(s.taken_at) DESC, c.snapshot_id DESC LIMIT 1"
    ).fetchall()
    return row[0][0] if row else None


def dataset_cards_snapshot(con: Any) -> str | None:
    """The hf-datasets snapshot with most dataset-card texts (the one dataset documentation uses)."""
    from .cards.storage import DATASET_REGISTRY

    row = con.execute(
        "SELECT c.snapshot_id FROM cards c JOIN snapshots s USING (snapshot_id) "
        "WHERE s.registry = ? AND s.status = 'complete' AND NOT c.missing AND c.text IS NOT NULL "
        "GROUP BY c.snapshot_id ORDER BY count(*) DESC, max(s.taken_at) DESC, c.snapshot_id DESC LIMIT 1",
        [DATASET_REGISTRY],
    ).fetchall()
    return row[0][0] if row else None


def score_cards(store: Any, progress: Progress | None = None) -> str | None:
    """Score the model cards of :func:`cards_snapshot` with the rules scorer and the dataset cards of
    :func:`dataset_cards_snapshot` with the dataset-card rules (already scored ones are reused), so that
    C3 (docs), under-documentation and dataset documentation read stored scores; returns the model
    snapshot scored."""
    from .cards import DATASET_SCORERS, get_scorer
    from .cards.storage import score_snapshot

    dsid = dataset_cards_snapshot(store.con)
    if dsid is not None:
        if progress:
            progress(f"dataset-card scores ({DATASET_SCORERS[0]} scorer) for {dsid}")
        score_snapshot(store, dsid, get_scorer(DATASET_SCORERS[0]))
    sid = cards_snapshot(store.con)
    if sid is None:
        return None
    if progress:
        progress(f"card scores (rules scorer) for {sid}")
    score_snapshot(store, sid, get_scorer("rules"))
    return sid


@dataclass(frozen=True)
class Run:
    """One metric computation: the metric, its parameters and snapshot selection, under a label.

    The default run of a metric is labelled with the metric's name (the one
    verdict rules read); further runs of the same metric with other
    parameters (a study's variants) carry labels of their own.
    """

    label: str
    metric: str
    params: Mapping[str, Any] | Params | None = None
    selection: Selection | None = None


def default_runs(
    include: Sequence[str] | None = None,
    params: Mapping[str, Mapping[str, Any] | Params] | None = None,
    selections: Mapping[str, Selection] | None = None,
) -> list[Run]:
    """One run per (included) registered metric, labelled with its name."""
    from .metrics import registry

    params = params or {}
    selections = selections or {}
    return [Run(n, n, params.get(n), selections.get(n)) for n in registry.names_in_order(include)]


def compute_metrics(
    backend: Any,
    *,
    include: Sequence[str] | None = None,
    params: Mapping[str, Mapping[str, Any] | Params] | None = None,
    selections: Mapping[str, Selection] | None = None,
    runs: Sequence[Run] | None = None,
    progress: Progress | None = None,
) -> dict[str, MetricOutcome]:
    """Run every (or every included) registered metric, or exactly ``runs``; outcomes by run label.

    "Not measurable" is recorded only for :class:`~ptmscope.errors.NotMeasurable`
    (the data cannot answer, with the reason); any other error stops the run.
    """
    from .metrics import registry

    todo = list(runs) if runs is not None else default_runs(include, params, selections)
    labels = [r.label for r in todo]
    if len(set(labels)) != len(labels):
        raise PtmscopeError(f"run labels must be unique: {labels}")
    out: dict[str, MetricOutcome] = {}
    for run in todo:
        metric = registry.get(run.metric)
        if progress:
            progress(f"metric {run.label}")
        p = metric.parse_params(run.params)
        dumped = p.model_dump(mode="json")
        try:
            res = metric.run(backend, p, run.selection)
        except NotMeasurable as exc:
            out[run.label] = MetricOutcome(run.metric, "not measurable", reason=str(exc), params=dumped)
            continue
        sel = run.selection.describe() if run.selection and not run.selection.empty else None
        out[run.label] = MetricOutcome(run.metric, "ok", res.value, res.data, params=dumped, selection=sel)
    return out


def judge(outcomes: dict[str, MetricOutcome], rules: tuple[Rule, ...]) -> list[Verdict]:
    verdicts = []
    for rule in rules:
        o = outcomes.get(rule.metric)  # a rule reads the metric's default run (labelled with its name)
        v = evaluate(rule, o.data if o and o.status == "ok" else None)
        if o is not None and o.status != "ok":
            v = Verdict(v.rule, v.claim, v.metric, "inconclusive", f"not measurable: {o.reason}", {}, v.conditions)
        verdicts.append(v)
    return verdicts


# ---------------------------------------------------------------------------
# Store facts for the report (provenance)
# ---------------------------------------------------------------------------


def snapshot_facts(backend: Any) -> list[dict[str, Any]]:
    s = backend.table("snapshots")
    df = s.select(*SNAPSHOT_COLUMNS).order_by(["registry", "taken_at", "snapshot_id"]).execute()
    out = []
    for r in df.to_dict("records"):
        r["taken_at"] = str(r["taken_at"])[:10]
        r["row_count"] = int(r["row_count"])
        r["synthetic"] = bool(r["synthetic"])
        r["source_file"] = Path(str(r["source_file"])).name  # the name, not this machine's path
        out.append(r)
    return out


@dataclass
class Analysis:
    catalogue: Catalogue
    rules: tuple[Rule, ...]
    outcomes: dict[str, MetricOutcome]
    verdicts: list[Verdict]
    snapshots: list[dict[str, Any]]
    inputs: dict[str, Any] = field(default_factory=dict)

    @property
    def synthetic(self) -> bool:
        return any(s["synthetic"] for s in self.snapshots)


def _sha_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def analyse(
    backend: Any,
    *,
    include: Sequence[str] | None = None,
    params: Mapping[str, Mapping[str, Any] | Params] | None = None,
    selections: Mapping[str, Selection] | None = None,
    runs: Sequence[Run] | None = None,
    catalogue_path: str | Path | None = None,
    rules_path: str | Path | None = None,
    progress: Progress | None = None,
) -> Analysis:
    """Compute the metrics, judge every rule, collect the store's provenance."""
    from .claims.verdicts import default_rules_path
    from .metrics import registry

    known = set(registry.names())
    cat = load_catalogue(catalogue_path, known_metrics=known)
    rules = load_rules(rules_path, catalogue=cat, known_metrics=known)
    outcomes = compute_metrics(
        backend, include=include, params=params, selections=selections, runs=runs, progress=progress
    )
    verdicts = judge(outcomes, rules)
    rp = Path(rules_path) if rules_path else default_rules_path()
    given = {
        k: (v.model_dump(mode="json", exclude_defaults=True) if isinstance(v, Params) else dict(v))
        for k, v in (params or {}).items()
    }
    inputs = {
        "catalogue": cat.digest(),
        "rules": {"file": rp.name, "sha256": _sha_file(rp)},
        "metrics": list(outcomes),
        "params": {k: v for k, v in sorted(given.items()) if v},
        "selections": {k: v.describe() for k, v in sorted((selections or {}).items()) if not v.empty},
    }
    return Analysis(cat, rules, outcomes, verdicts, snapshot_facts(backend), inputs)


# ---------------------------------------------------------------------------
# Run config: parsed into typed models before anything is opened or created
# ---------------------------------------------------------------------------


def _known_format(v: str | None) -> str | None:
    from .sources import FORMATS

    if v is not None and v not in FORMATS:
        from .validation import did_you_mean

        raise ValueError(f"unknown format {v!r}{did_you_mean(v, list(FORMATS))}")
    return v


class SourceSpec(StrictModel):
    """One ``[[sources]]`` entry: what ``ptmscope ingest`` takes."""

    path: Path = Field(strict=False, description="File or folder to ingest.")
    format: Annotated[str | None, AfterValidator(_known_format)] = Field(None, description="Detected when absent.")
    date: dt.date | None = Field(None, strict=False, description="Collection date (YYYY-MM-DD) when the data has none.")
    cards: Path | None = Field(None, strict=False, description="Model cards file of a Hub API dump.")
    registry: Registry | None = Field(None, description="Registry the data describes (default: the format's).")


class SqlMetricSpec(StrictModel):
    """A ``[[metrics.sql]]`` entry: a metric defined by one read-only query."""

    name: str
    query: str
    title: str | None = None


class ReportSpec(StrictModel):
    out: Path = Field(Path("report"), strict=False, description="Report folder.")


class _SelectionFields(Protocol):
    """The snapshot selection ``_metric_table_model`` adds to a metric's parameters."""

    snapshots: tuple[str, ...]
    since: dt.date | None
    until: dt.date | None
    every: Every | None


def _metric_table_model(metric: Any) -> type[StrictModel]:
    """The run-config table of one metric: its parameters plus a snapshot selection."""
    return create_model(
        f"{metric.params.__name__}Table",
        __base__=metric.params,
        snapshots=(
            tuple[str, ...],
            Field((), strict=False, description=Selection.model_fields["snapshots"].description),
        ),
        since=(dt.date | None, Field(None, strict=False)),
        until=(dt.date | None, Field(None, strict=False)),
        every=(Every | None, None),
    )


def _config_model() -> type[StrictModel]:
    """The run config's model, built from the metrics registered now (built-ins and plugins)."""
    from .metrics import registry

    tables = {name: (_metric_table_model(m) | None, None) for name, m in registry.metrics().items()}
    metrics_model = create_model(  # type: ignore[call-overload]
        "MetricsSection",
        __base__=StrictModel,
        include=(list[str] | None, Field(None, description="Metrics to run (default: all).")),
        sql=(list[SqlMetricSpec], Field(default_factory=list)),
        **tables,
    )
    return create_model(
        "RunConfigFile",
        __base__=StrictModel,
        base_dir=(str, Field(".", description="Paths are relative to this folder (itself relative to the file).")),
        store=(Path, Field(Path("ptmscope.duckdb"), strict=False)),
        plugins=(list[str], Field(default_factory=list, description="Modules or .py files that register metrics.")),
        catalogue=(Path | None, Field(None, strict=False)),
        rules=(Path | None, Field(None, strict=False)),
        sources=(list[SourceSpec], Field(default_factory=list)),
        runs=(list[dict[str, Any]], Field(default_factory=list, description="Further labelled runs of a metric.")),
        metrics=(metrics_model, Field(default_factory=metrics_model)),
        report=(ReportSpec, Field(default_factory=ReportSpec)),
    )


@dataclass(frozen=True)
class RunConfig:
    path: Path
    base_dir: Path
    store: Path
    sources: tuple[SourceSpec, ...]
    include: list[str] | None
    params: dict[str, Params]
    selections: dict[str, Selection]
    out: Path
    runs: tuple[Run, ...] = ()
    catalogue: Path | None = None
    rules: Path | None = None
    plugins: tuple[str, ...] = ()


def load_config(path: str | Path) -> RunConfig:
    """Read and validate a run config; every defect is one line naming file, line, key and fix."""
    from .metrics import registry
    from .validation import line_of, read_toml_text, validate_data

    p = Path(path)
    data, text = read_toml_text(p, "run config (TOML file)")
    base = (p.parent / str(data.get("base_dir", "."))).resolve()
    # plugins first: the metrics they register are valid [metrics.NAME] tables
    plugins = data.get("plugins", [])
    if not isinstance(plugins, list) or not all(isinstance(x, str) for x in plugins):
        raise InputError(p, "plugins: expected a list of module names or .py paths", line=line_of(text, ("plugins",)))
    for ref in plugins:
        try:
            registry.load_plugin(ref, base, where=p)
        except PtmscopeError as exc:
            raise InputError(p, f"plugins: {exc}", line=line_of(text, ("plugins",))) from None
    m = data.get("metrics")
    for i, spec in enumerate(m.get("sql", []) if isinstance(m, dict) else []):
        sm = validate_data(SqlMetricSpec, spec, p, None) if isinstance(spec, dict) else None
        if sm is not None:
            try:
                registry.register(registry.sql_metric(sm.name, sm.query, title=sm.title, origin=str(p)))
            except PtmscopeError as exc:
                raise InputError(
                    p, f"[[metrics.sql]] #{i + 1}: {exc}", line=line_of(text, ("metrics", "sql", i))
                ) from None
    cfg = validate_data(_config_model(), data, p, text)

    def rel(q: Path) -> Path:
        return q if q.is_absolute() else base / q

    include = cfg.metrics.include  # type: ignore[attr-defined]
    if include:
        known = registry.names()
        for name in include:
            if name not in known:
                from .validation import did_you_mean

                raise InputError(
                    p,
                    f"[metrics] include: unknown metric {name!r}{did_you_mean(name, list(known))}",
                    line=line_of(text, ("metrics", "include")),
                )
    params: dict[str, Params] = {}
    selections: dict[str, Selection] = {}
    for name, metric in registry.metrics().items():
        table = getattr(cfg.metrics, name, None)  # type: ignore[attr-defined]
        if table is None:
            continue
        values = table.model_dump(exclude={"snapshots", "since", "until", "every"}, exclude_unset=True)
        params[name] = metric.parse_params(values, where=p)
        chosen = cast(_SelectionFields, table)  # the table model declares these four fields
        sel = Selection(snapshots=chosen.snapshots, since=chosen.since, until=chosen.until, every=chosen.every)
        if not sel.empty:
            selections[name] = sel
    sources = tuple(
        s.model_copy(update={"path": rel(s.path), "cards": rel(s.cards) if s.cards else None})
        for s in cfg.sources  # type: ignore[attr-defined]
    )
    runs = _parse_runs(cfg.runs, p, text)  # type: ignore[attr-defined]
    return RunConfig(
        path=p,
        base_dir=base,
        store=rel(cfg.store),  # type: ignore[attr-defined]
        sources=sources,
        include=include,
        params=params,
        selections=selections,
        out=rel(cfg.report.out),  # type: ignore[attr-defined]
        catalogue=rel(cfg.catalogue) if cfg.catalogue else None,  # type: ignore[attr-defined]
        rules=rel(cfg.rules) if cfg.rules else None,  # type: ignore[attr-defined]
        plugins=tuple(plugins),
        runs=runs,
    )


def _parse_runs(entries: list[dict[str, Any]], path: Path, text: str | None) -> tuple[Run, ...]:
    """``[[runs]]``: label, metric, then that metric's parameters and a snapshot selection."""
    from .metrics import registry
    from .validation import did_you_mean, line_of, validate_data

    out: list[Run] = []
    seen = set(registry.names())
    for i, entry in enumerate(entries):
        where = f"[[runs]] #{i + 1}"
        label, name = entry.get("label"), entry.get("metric")
        for key, v in (("label", label), ("metric", name)):
            if not isinstance(v, str) or not v:
                raise InputError(path, f"{where} {key}: missing (a non-empty string)", line=line_of(text, ("runs", i)))
        assert isinstance(label, str) and isinstance(name, str)
        if name not in registry.names():
            raise InputError(
                path,
                f"{where} metric: unknown metric {name!r}{did_you_mean(name, list(registry.names()))}",
                line=line_of(text, ("runs", i, "metric")),
            )
        if label in seen:
            raise InputError(
                path,
                f"{where} label: {label!r} is taken (by a metric or an earlier run); choose another",
                line=line_of(text, ("runs", i, "label")),
            )
        seen.add(label)
        metric = registry.get(name)
        rest = {k: v for k, v in entry.items() if k not in ("label", "metric")}
        table = validate_data(_metric_table_model(metric), rest, path, text, prefix=("runs", i))
        values = table.model_dump(exclude={"snapshots", "since", "until", "every"}, exclude_unset=True)
        chosen = cast(_SelectionFields, table)  # the table model declares these four fields
        sel = Selection(snapshots=chosen.snapshots, since=chosen.since, until=chosen.until, every=chosen.every)
        out.append(Run(label, name, metric.parse_params(values, where=path), None if sel.empty else sel))
    return tuple(out)


def _data_files(path: Path) -> list[Path] | None:
    """The data files of a directory source as the importers see them; None for one-snapshot folders."""
    from . import sources as src

    if src.lineage_edges.detect(path, b""):
        return None
    return src._files_of(path)


def _manifest(s: Any) -> dict[str, Any]:
    import json

    try:
        m = json.loads(s.manifest) if s.manifest else {}
    except (TypeError, ValueError):
        return {}
    return m if isinstance(m, dict) else {}


def _already_ingested(store: Any, spec: SourceSpec) -> str | None:
    """The snapshot id(s) when every file of this source is already in the store
    with the same content (sha256 as the importer records it), written by this
    importer version (an older one is re-imported: its output has changed since)."""
    from .sources._common import IMPORTER_VERSION

    snaps = [s for s in store.snapshots(include_incomplete=False) if s.importer_version == IMPORTER_VERSION]
    if spec.path.is_dir():
        files = _data_files(spec.path)
        if files is None:  # a lineage folder is one snapshot; its manifest lists each file's sha256
            root = spec.path.resolve()
            for s in snaps:
                if Path(s.source_file).resolve().parent != root:
                    continue
                recorded = _manifest(s).get("files", {})
                if recorded and all(
                    (root / name).is_file() and _sha_file(root / name) == sha for name, sha in recorded.items()
                ):
                    return s.snapshot_id
            return None
    else:
        files = [spec.path]
    cards = spec.cards
    found = []
    for f in files:
        cands = [s for s in snaps if Path(s.source_file).name == f.name]
        if not cands:
            return None
        sha = _sha_file(f)
        accepted = {sha}
        if cards is not None and Path(cards).is_file():
            # the Hub API importer files a dump with cards under sha256(dump sha + cards sha)
            accepted.add(hashlib.sha256((sha + _sha_file(Path(cards))).encode()).hexdigest())
        match = [s.snapshot_id for s in cands if s.source_sha256 in accepted]
        if not match:
            return None
        found.append(match[0])
    return ",".join(found) if found else None


def ingest_sources(store: Any, specs: tuple[SourceSpec, ...], progress: Progress | None = None) -> list[dict[str, Any]]:
    """Ingest each source unless its file(s) are already in the store."""
    done = []
    for spec in specs:
        if not spec.path.exists():
            raise InputError(spec.path, "source not found (is ../shared/data present?)")
        sid = _already_ingested(store, spec)
        if sid:
            if progress:
                progress(f"skip {spec.path.name}: already in the store ({sid})")
            done.append({"path": str(spec.path), "snapshot_id": sid, "skipped": True})
            continue
        if progress:
            progress(f"ingest {spec.path}")
        done.append({"path": str(spec.path), "snapshot_id": _ingest_one(store, spec, progress), "skipped": False})
    return done


def _ingest_one(store: Any, spec: SourceSpec, progress: Progress | None = None) -> str:
    from . import sources as src

    planned = src.plan(spec.path, format=spec.format, registry=spec.registry, taken_at=spec.date, cards_path=spec.cards)
    results = src.ingest(store, planned)
    for r in results:
        if progress:
            progress(f"  {r.snapshot_id}: {r.rows:,} rows{'' if r.created else ' (already present)'}")
    return ",".join(r.snapshot_id for r in results)


def run(
    config_path: str | Path, *, progress: Progress | None = None, out: str | Path | None = None, force: bool = False
) -> Path:
    """``ptmscope run CONFIG.toml``: ingest, analyse, write the report; returns the report folder."""
    from .engine import connect
    from .report import write_report
    from .report.output import check_report_dir
    from .store import Store

    cfg = load_config(config_path)
    target = Path(out) if out else cfg.out
    # everything that can fail fast does so before the store is created or touched
    for spec in cfg.sources:
        for f in (spec.path, spec.cards):
            if isinstance(f, Path) and not f.exists():
                raise InputError(f, f"source not found (listed in {cfg.path}; is ../shared/data present?)")
    check_report_dir(target, force=force)
    from .metrics import registry

    known = set(registry.names())  # plugins of the config are registered by now
    cat = load_catalogue(cfg.catalogue, known_metrics=known)  # a broken catalogue or rules file fails first
    load_rules(cfg.rules, catalogue=cat, known_metrics=known)
    with Store(cfg.store) as store:
        ingest_sources(store, cfg.sources, progress)
        require_hub_snapshot(store, cfg.store)
        score_cards(store, progress)
    backend = connect(cfg.store)
    try:
        analysis = analyse(
            backend,
            include=cfg.include,
            params=cfg.params,
            selections=cfg.selections,
            runs=[*default_runs(cfg.include, cfg.params, cfg.selections), *cfg.runs] if cfg.runs else None,
            catalogue_path=cfg.catalogue,
            rules_path=cfg.rules,
            progress=progress,
        )
    finally:
        _close(backend)
    write_report(analysis, target, force=force)
    return target


def ensure_writable_dir(path: str | Path) -> Path:
    """Create ``path`` (and parents) and check a file can be written in it; one-line error if not."""
    p = Path(path)
    try:
        p.mkdir(parents=True, exist_ok=True)
        probe = p / ".ptmscope-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except FileExistsError:
        raise PtmscopeError(f"{p}: exists and is not a folder; cannot write the report there") from None
    except OSError as exc:
        raise PtmscopeError(f"{p}: cannot write the report there: {exc.strerror or exc}") from None
    return p


def require_hub_snapshot(store: Any, path: str | Path) -> None:
    """Every claim is about the Hugging Face Hub: refuse a store without any Hub snapshot."""
    if not store.snapshots():
        raise PtmscopeError(f"{path}: the store has no snapshots; ingest data first (`ptmscope ingest FILE`)")
    if not store.snapshots("hf"):
        regs = sorted({s.registry for s in store.snapshots()})
        raise PtmscopeError(
            f"{path}: no Hugging Face snapshot (only {', '.join(regs)}); every claim is about the Hub, "
            "so ingest a Hub listing or dump first"
        )


def _close(backend: Any) -> None:
    with contextlib.suppress(Exception):  # pragma: no cover
        backend.disconnect()


# ---------------------------------------------------------------------------
# Demo
# ---------------------------------------------------------------------------

DEMO_MODELS = 4000
DEMO_SNAPSHOTS = 4


def demo(
    out: str | Path = "ptmscope-demo",
    *,
    seed: int = 0,
    models: int = DEMO_MODELS,
    progress: Progress | None = None,
    force: bool = False,
) -> Path:
    """Generate a seeded synthetic world into ``OUT/demo.duckdb``, analyse it and
    write the report to ``OUT/report``; returns the report folder."""
    from .engine import connect
    from .report import write_report
    from .report.output import check_report_dir
    from .store import Store
    from .synth import SynthConfig, write_store

    out = Path(out)
    ensure_writable_dir(out)
    check_report_dir(out / "report", force=force)
    store_path = out / "demo.duckdb"
    cfg = SynthConfig(models=models, snapshots=DEMO_SNAPSHOTS, seed=seed)
    with Store(store_path) as store:
        write_store(store, cfg, progress)
        score_cards(store, progress)
    backend = connect(store_path)
    try:
        from .metrics.turnover import METRIC as TURNOVER

        top = {TURNOVER.name: {"top": min(1000, max(10, models // 5))}}
        analysis = analyse(backend, params=top, progress=progress)
    finally:
        _close(backend)
    analysis.inputs["demo"] = {"synth_config": cfg.to_dict()}
    report_dir = out / "report"
    write_report(analysis, report_dir, force=force)
    return report_dir
