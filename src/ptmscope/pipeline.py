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
    [metrics]
    include = ["growth", ...]  # default: all
    [metrics.turnover]         # per-metric parameters
    k = 1000
    [report]
    out = "report-real"

Sources already in the store (same file, same sha256) are skipped without
being parsed again.
"""

from __future__ import annotations

import contextlib
import hashlib
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

from .claims import Catalogue, Rule, Verdict, evaluate, load_catalogue, load_rules
from .claims.catalogue import read_toml
from .errors import InputError, PtmscopeError

Progress = Callable[[str], None]


# ---------------------------------------------------------------------------
# Metric runners: each returns (result object, result dict) or raises
# NotMeasurable / PtmscopeError with the reason.
# ---------------------------------------------------------------------------


@dataclass
class MetricOutcome:
    metric: str
    status: str  # "ok" | "not measurable" | "error"
    result: Any = None  # the frozen result object(s), for figures
    data: dict[str, Any] | None = None  # JSON-able: result.to_dict() (+ summary)
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"metric": self.metric, "status": self.status}
        if self.data is not None:
            d["result"] = self.data
        if self.reason:
            d["reason"] = self.reason
        return d


def run_turnover(backend: Any, params: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    from .metrics.turnover import turnover_overview

    # every registry with two complete snapshots, also when the Hub has fewer (its claim then stays open)
    overview = turnover_overview(backend, k=int(params.get("k", 1000)))
    return overview.ordered(), overview.to_dict()


def run_preservation(backend: Any, params: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    from .metrics.preservation import preservation

    min_den = int(params.get("min_denominator_other", 30))
    # a rival needs descendants from several base models: one family with many
    # children (e.g. 4 diffusers bases in the 2025-04 trees) is not evidence
    min_bases = int(params.get("min_bases_other", 10))
    res = preservation(backend, n_boot=int(params.get("n_boot", 1000)))
    data = res.to_dict()
    libs = {r.library: r for r in res.libraries}
    t = libs.get("transformers")
    others = [
        r
        for r in res.libraries
        if r.library != "transformers"
        and r.rate is not None
        and r.denominator >= min_den
        and r.n_bases_with_descendants >= min_bases
    ]
    best = max(others, key=lambda r: (r.rate, r.denominator, r.library), default=None)
    data["summary"] = {
        "formula": "transformers P_L minus the highest P_L of any other library with denominator >= "
        f"{min_den} and descendants from >= {min_bases} base models",
        "transformers_rate": t.rate if t else None,
        "transformers_denominator": t.denominator if t else 0,
        "transformers_ci": [t.ci_low, t.ci_high] if t else None,
        "best_other_library": best.library if best else None,
        "best_other_rate": best.rate if best else None,
        "transformers_minus_best_other": (t.rate - best.rate) if (t and best and t.rate is not None) else None,
        # the rival's point estimate against transformers' bootstrap CI: a verdict should not
        # rest on a difference the family-level resampling cannot tell from noise
        "transformers_ci_low_minus_best_other": (
            (t.ci_low - best.rate) if (t and best and t.ci_low is not None) else None
        ),
        "transformers_ci_high_minus_best_other": (
            (t.ci_high - best.rate) if (t and best and t.ci_high is not None) else None
        ),
    }
    return res, data


def run_descendants(backend: Any, params: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    from .metrics.descendants import descendants

    res = descendants(backend, popularity=params.get("popularity", "own"), n_boot=int(params.get("n_boot", 500)))
    return res, res.to_dict()


def run_docs(backend: Any, params: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    from .metrics.docs import c3_test

    res = c3_test(backend, n_boot=int(params.get("n_boot", 1000)), top=int(params.get("top", 1000)))
    data = res.to_dict()
    data["summary"] = _docs_summary(data)
    return res, data


def _docs_summary(d: dict[str, Any]) -> dict[str, Any]:
    """The paper's C3 test by downloads: top-N vs bottom-N documentation score."""
    comp = next((c for c in d.get("comparisons", []) if c.get("measure") == "downloads"), None)
    if comp is None:
        return {
            "measure": "downloads",
            "n_per_group": 0,
            "p_holm": None,
            "mean_diff": None,
            "mean_diff_low": None,
            "mean_diff_high": None,
        }
    md = comp.get("mean_difference") or {}
    return {
        "formula": "documentation score, top-N vs bottom-N models by downloads: one-sided Welch t "
        "(Holm over the popularity measures) and a bootstrap CI of the mean difference",
        "measure": "downloads",
        "n_per_group": comp.get("n_per_group"),
        "p_holm": comp.get("p_welch_holm"),
        "mean_diff": md.get("estimate"),
        "mean_diff_low": md.get("low"),
        "mean_diff_high": md.get("high"),
        "cohens_d": comp.get("cohens_d"),
    }


def cards_snapshot(con: Any) -> str | None:
    """The hf snapshot with most card texts (the one C3 and under-documentation use)."""
    row = con.execute(
        "SELECT c.snapshot_id FROM cards c JOIN snapshots s USING (snapshot_id) "
        "WHERE s.registry = 'hf' AND s.status = 'complete' AND NOT c.missing AND c.text IS NOT NULL "
        "GROUP BY c.snapshot_id ORDER BY count(*) DESC, max(s.taken_at) DESC, c.snapshot_id DESC LIMIT 1"
    ).fetchall()
    return row[0][0] if row else None


def score_cards(store: Any, progress: Progress | None = None) -> str | None:
    """Score the cards of :func:`cards_snapshot` with the rules scorer (already scored ones are
    reused), so that C3 (docs) and under-documentation read stored card scores."""
    from .cards import get_scorer
    from .cards.storage import score_snapshot

    sid = cards_snapshot(store.con)
    if sid is None:
        return None
    if progress:
        progress(f"card scores (rules scorer) for {sid}")
    score_snapshot(store, sid, get_scorer("rules"))
    return sid


def _simple(fn_path: str) -> Callable[[Any, dict[str, Any]], tuple[Any, dict[str, Any]]]:
    def run(backend: Any, params: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        import importlib

        mod, name = fn_path.rsplit(".", 1)
        fn = getattr(importlib.import_module(mod), name)
        res = fn(backend, **params)
        return res, res.to_dict()

    return run


MetricName = Literal[
    "preservation", "turnover", "descendants", "docs", "attributes", "underdoc", "naming", "growth", "concentration"
]
METRIC_NAMES: tuple[str, ...] = get_args(MetricName)

RUNNERS: dict[str, Callable[[Any, dict[str, Any]], tuple[Any, dict[str, Any]]]] = {
    "preservation": run_preservation,
    "turnover": run_turnover,
    "descendants": run_descendants,
    "docs": run_docs,
    "attributes": _simple("ptmscope.metrics.attributes.attributes"),
    "underdoc": _simple("ptmscope.metrics.underdoc.underdoc"),
    "naming": _simple("ptmscope.metrics.naming.naming"),
    "growth": _simple("ptmscope.metrics.growth.growth"),
    "concentration": _simple("ptmscope.metrics.concentration.concentration"),
}
assert tuple(RUNNERS) == METRIC_NAMES


def compute_metrics(
    backend: Any,
    *,
    include: list[str] | None = None,
    params: dict[str, dict[str, Any]] | None = None,
    progress: Progress | None = None,
) -> dict[str, MetricOutcome]:
    """Run every metric; a metric the data cannot answer is recorded with the reason."""
    from .metrics._select import NotMeasurable

    params = params or {}
    names = include or list(RUNNERS)
    unknown = [n for n in names if n not in RUNNERS]
    if unknown:
        raise PtmscopeError(f"unknown metric(s) {', '.join(unknown)}; choose from {', '.join(RUNNERS)}")
    out: dict[str, MetricOutcome] = {}
    for name in names:
        if progress:
            progress(f"metric {name}")
        try:
            # numerical warnings (rank-deficient designs, empty bootstrap resamples) are
            # kept with the result instead of being printed over the progress lines
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                obj, data = RUNNERS[name](backend, dict(params.get(name, {})))
            # library deprecation notices (pandas, duckdb) say nothing about the numbers: dropped
            msgs = sorted(
                {
                    f"{w.category.__name__}: {w.message}"
                    for w in caught
                    if not issubclass(w.category, (DeprecationWarning, PendingDeprecationWarning, FutureWarning))
                }
            )
            if msgs:
                data["runtime_warnings"] = msgs
            out[name] = MetricOutcome(name, "ok", obj, data)
        except NotMeasurable as exc:
            out[name] = MetricOutcome(name, "not measurable", reason=str(exc))
        except PtmscopeError as exc:
            # metric modules raise PtmscopeError for "no usable snapshot" and similar
            out[name] = MetricOutcome(name, "not measurable", reason=str(exc))
    return out


def judge(outcomes: dict[str, MetricOutcome], rules: tuple[Rule, ...]) -> list[Verdict]:
    verdicts = []
    for rule in rules:
        o = outcomes.get(rule.metric)
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
    cols = [
        "snapshot_id",
        "registry",
        "taken_at",
        "source_format",
        "source_file",
        "source_sha256",
        "row_count",
        "importer_version",
        "notes",
        "status",
        "synthetic",
    ]
    df = s.select(*cols).order_by(["registry", "taken_at", "snapshot_id"]).execute()
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
    include: list[str] | None = None,
    params: dict[str, dict[str, Any]] | None = None,
    catalogue_path: str | Path | None = None,
    rules_path: str | Path | None = None,
    progress: Progress | None = None,
) -> Analysis:
    from .claims.catalogue import default_catalogue_path
    from .claims.verdicts import default_rules_path

    cat = load_catalogue(catalogue_path)
    rules = load_rules(rules_path, claim_ids={c.id for c in cat.claims})
    outcomes = compute_metrics(backend, include=include, params=params, progress=progress)
    verdicts = judge(outcomes, rules)
    cp = Path(catalogue_path) if catalogue_path else default_catalogue_path()
    rp = Path(rules_path) if rules_path else default_rules_path()
    inputs = {
        "catalogue": {"file": cp.name, "sha256": _sha_file(cp)},
        "rules": {"file": rp.name, "sha256": _sha_file(rp)},
        "metrics": list(outcomes),
        "params": {k: dict(v) for k, v in sorted((params or {}).items())},
    }
    return Analysis(cat, rules, outcomes, verdicts, snapshot_facts(backend), inputs)


# ---------------------------------------------------------------------------
# Run config
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceSpec:
    path: Path
    format: str | None = None
    date: str | None = None
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RunConfig:
    path: Path
    base_dir: Path
    store: Path
    sources: tuple[SourceSpec, ...]
    include: list[str] | None
    params: dict[str, dict[str, Any]]
    out: Path
    catalogue: Path | None = None
    rules: Path | None = None


def load_config(path: str | Path) -> RunConfig:
    p = Path(path)
    data = read_toml(p, "run config (TOML file)")
    known = {"base_dir", "store", "sources", "metrics", "report", "catalogue", "rules"}
    extra = sorted(set(data) - known)
    if extra:
        raise InputError(p, f"unknown top-level keys {extra}; allowed: {sorted(known)}")
    base = (p.parent / str(data.get("base_dir", "."))).resolve()

    def rel(v: Any, what: str) -> Path:
        if not isinstance(v, str) or not v:
            raise InputError(p, f"{what} must be a non-empty string path")
        q = Path(v)
        return q if q.is_absolute() else base / q

    sources = []
    if not isinstance(data.get("sources", []), list):
        raise InputError(p, 'sources must be an array of tables: [[sources]] path = "..."')
    for i, s in enumerate(data.get("sources", [])):
        if not isinstance(s, dict) or "path" not in s:
            raise InputError(p, f"[[sources]] #{i + 1}: needs a path")
        opts = {k: v for k, v in s.items() if k not in ("path", "format", "date")}
        for k, v in list(opts.items()):
            if isinstance(v, str) and k == "cards":
                opts[k] = rel(v, f"[[sources]] #{i + 1} {k}")
        date = s.get("date")
        sources.append(
            SourceSpec(
                rel(s["path"], f"[[sources]] #{i + 1} path"),
                s.get("format"),
                str(date) if date is not None else None,
                opts,
            )
        )
    m = data.get("metrics", {})
    if not isinstance(m, dict):
        raise InputError(p, "[metrics] must be a table")
    include = m.get("include")
    if include is not None and (not isinstance(include, list) or not all(isinstance(x, str) for x in include)):
        raise InputError(p, "[metrics] include must be a list of metric names")
    if include:
        bad = [x for x in include if x not in RUNNERS]
        if bad:
            raise InputError(p, f"[metrics] include: unknown metric(s) {bad}; choose from {list(RUNNERS)}")
    params = {k: v for k, v in m.items() if isinstance(v, dict)}
    bad = [k for k in params if k not in RUNNERS]
    if bad:
        raise InputError(p, f"[metrics.{bad[0]}]: unknown metric; choose from {list(RUNNERS)}")
    rep = data.get("report", {})
    if not isinstance(rep, dict):
        raise InputError(p, "[report] must be a table")
    return RunConfig(
        path=p,
        base_dir=base,
        store=rel(data.get("store", "ptmscope.duckdb"), "store"),
        sources=tuple(sources),
        include=include,
        params=params,
        out=rel(rep.get("out", "report"), "[report] out"),
        catalogue=rel(data["catalogue"], "catalogue") if "catalogue" in data else None,
        rules=rel(data["rules"], "rules") if "rules" in data else None,
    )


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
    with the same content (sha256 as the importer records it)."""
    snaps = store.snapshots(include_incomplete=False)
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
    cards = spec.options.get("cards")
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
    import datetime as dt

    from . import sources as src

    opts = dict(spec.options)
    bad = sorted(set(opts) - {"cards", "registry"})
    if bad:
        raise InputError(spec.path, f"unknown source option(s) {bad} in the run config (allowed: cards, registry)")
    taken = None
    if spec.date:
        try:
            taken = dt.date.fromisoformat(spec.date)
        except ValueError:
            raise InputError(spec.path, f"date {spec.date!r} in the run config is not YYYY-MM-DD") from None
    planned = src.plan(
        spec.path, format=spec.format, registry=opts.get("registry"), taken_at=taken, cards_path=opts.get("cards")
    )
    results = src.ingest(store, planned)
    for r in results:
        if progress:
            progress(f"  {r.snapshot_id}: {r.rows:,} rows{'' if r.created else ' (already present)'}")
    return ",".join(r.snapshot_id for r in results)


def run(config_path: str | Path, *, progress: Progress | None = None, out: str | Path | None = None) -> Path:
    """``ptmscope run CONFIG.toml``: ingest, analyse, write the report; returns the report folder."""
    from .engine import connect
    from .report import write_report
    from .store import Store

    cfg = load_config(config_path)
    target = Path(out) if out else cfg.out
    # everything that can fail fast does so before the store is created or touched
    for spec in cfg.sources:
        for f in (spec.path, spec.options.get("cards")):
            if isinstance(f, Path) and not f.exists():
                raise InputError(f, f"source not found (listed in {cfg.path}; is ../shared/data present?)")
    ensure_writable_dir(target)
    cat = load_catalogue(cfg.catalogue)  # a broken catalogue or rules file fails before any ingest
    load_rules(cfg.rules, claim_ids={c.id for c in cat.claims})
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
            catalogue_path=cfg.catalogue,
            rules_path=cfg.rules,
            progress=progress,
        )
    finally:
        _close(backend)
    write_report(analysis, target)
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
    out: str | Path = "ptmscope-demo", *, seed: int = 0, models: int = DEMO_MODELS, progress: Progress | None = None
) -> Path:
    """Generate a seeded synthetic world into ``OUT/demo.duckdb``, analyse it and
    write the report to ``OUT/report``; returns the report folder."""
    from .engine import connect
    from .report import write_report
    from .store import Store
    from .synth import SynthConfig, write_store

    out = Path(out)
    ensure_writable_dir(out)
    store_path = out / "demo.duckdb"
    cfg = SynthConfig(models=models, snapshots=DEMO_SNAPSHOTS, seed=seed)
    with Store(store_path) as store:
        write_store(store, cfg, progress)
        score_cards(store, progress)
    backend = connect(store_path)
    try:
        analysis = analyse(backend, params={"turnover": {"k": min(1000, max(10, models // 5))}}, progress=progress)
    finally:
        _close(backend)
    analysis.inputs["demo"] = {"synth_config": cfg.to_dict()}
    report_dir = out / "report"
    write_report(analysis, report_dir)
    return report_dir
