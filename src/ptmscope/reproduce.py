"""Reproduce the ESEM'24 paper's C1/C2 measurements on the data at hand.

The study is a run configuration like the ones ``ptmscope run`` reads, and
goes through the same path: :func:`choose_sources` picks the files from a
folder laid out like ``../shared/data`` (see its README), they are ingested
with :func:`ptmscope.pipeline.ingest_sources`, :func:`study_runs` lists the
labelled runs on the exact snapshots ingested, and
:func:`ptmscope.pipeline.analyse` computes and judges them; the standard
report goes to ``OUT/report``.  The comparison with the paper is one small
function per claim (:func:`pairs_rows`, :func:`turnover_rows`,
:func:`hf_turnover_rows`, :func:`preservation_rows`,
:func:`descendants_rows`), each turning the analysis outcomes into rows
(metric, the paper's value, ours, the data used, whether the two are
comparable and why), written to ``esem24.md`` / ``esem24.json`` with the
figures.  Files that are absent are reported as such, never guessed.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import PtmscopeError
from .metrics.descendants import METRIC as DESCENDANTS
from .metrics.descendants import DescendantsParams, DescendantsResult
from .metrics.preservation import METRIC as PRESERVATION
from .metrics.preservation import PreservationParams, PreservationResult
from .metrics.turnover import METRIC as TURNOVER
from .metrics.turnover import TurnoverOverview, TurnoverParams
from .pipeline import MetricOutcome, Run, SourceSpec, analyse, ensure_writable_dir, ingest_sources
from .schema import Registry
from .snapshots import Selection

if TYPE_CHECKING:
    from .store import Store

# The paper's snapshot months (npm/PyPI via ecosyste.ms); mid-month targets.
PAPER_DATES: tuple[dt.date, ...] = (
    dt.date(2022, 11, 15),
    dt.date(2023, 8, 15),
    dt.date(2023, 10, 15),
    dt.date(2024, 3, 15),
)
PAPER_DISTINCT_EVER = {"npm": 1127, "pypi": 1429, "hf": 2535}
PAPER_K = 1000
C1_MIN_DENOMINATOR = 10  # libraries shown in the eq. 1 row need this many descendants
# Bootstrap resamples of every interval in the study (the study's own value, not each metric's default).
N_BOOT = 1000
SEED = 0

# Hugging Face listings of 2022 in the shared-data layout, with the collection
# date where the file does not carry one (dates from ../shared/data/README.md).
HUB_DUMP = "hf/2022-02_hub-dump/model_infos.jsonl.gz"
HF_2022: tuple[tuple[str, str | None, str | None], ...] = (
    (HUB_DUMP, None, "hf/2022-02_hub-dump/model_cards.jsonl.gz"),
    ("hf/2022-06_hf-model-metadata/PeaTMOSS_ANCIENT.db", "2022-06-15", None),
    ("hf/2022-07_huggingfaceR/models_with_downloads.csv.gz", "2022-07-02", None),
    ("hf/2022-08_repo-names/repo_names_2022-08-15.txt.gz", None, None),
    ("hf/2022-10_model-card-study/model_info.parquet", "2022-10-01", None),
)
PAIRS_FILES = (
    "hf/esem24-artifact/number_of_direct_descendant_models_per_download.csv",
    "hf/esem24-artifact/direct_descendants_by_base_model.csv",
)
PYPI_DIR = "pypi/top-pypi-packages"
NPM_DIR = "npm/npm-high-impact"
PACKAGE_REGISTRIES: tuple[Registry, ...] = ("npm", "pypi")
REPORT_DIR = "report"

# Run labels.  The default run of a metric carries the metric's name: the
# verdict rules of the standard report read it (H1: eq. 1, H2: Hub turnover,
# H3: descendants against the base model's own downloads).
PAIRS_ARTIFACT = f"{DESCENDANTS.name}_pairs_artifact"
PAIRS_PAPER = f"{DESCENDANTS.name}_pairs_paper"
HF_TURNOVER = TURNOVER.name
PRES_PAPER = PRESERVATION.name
PRES_ARTIFACT = f"{PRESERVATION.name}_artifact"
DUMP_DESCENDANTS = (
    ("own", "paper", DESCENDANTS.name),
    ("descendants_sum", "artifact", f"{DESCENDANTS.name}_sum_artifact"),
)

Outcomes = Mapping[str, MetricOutcome]
Progress = Callable[[str], None]


def turnover_label(registry: str, raw_ids: bool = False) -> str:
    """The label of a package registry's turnover run (normalised ids, or raw ones)."""
    return f"{TURNOVER.name}_{registry}" + ("_raw_ids" if raw_ids else "")


@dataclass(frozen=True)
class Row:
    """One comparison with the paper."""

    metric: str
    paper: str
    ours: str
    data: str
    comparable: str  # "yes", "partly", "no"
    why: str

    def to_dict(self) -> dict[str, str]:
        return dict(self.__dict__)


@dataclass
class Reproduction:
    data_dir: str
    store: str
    report: str | None = None
    rows: list[Row] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "study": "esem24",
            "data_dir": self.data_dir,
            "store": self.store,
            "report": self.report,
            "rows": [r.to_dict() for r in self.rows],
            "details": self.details,
            "warnings": list(self.warnings),
            "missing": list(self.missing),
            "figures": list(self.figures),
        }


# -- the study as a run configuration ---------------------------------------------


def _sidecar_dates(directory: Path, date_col: str) -> list[tuple[dt.date, Path]]:
    import csv

    p = directory / "snapshots.csv"
    out: list[tuple[dt.date, Path]] = []
    if p.is_file():
        for r in csv.DictReader(p.read_text(encoding="utf-8-sig").splitlines()):
            if str(r.get("duplicate_of_previous", "")).lower() == "true":
                continue  # same data as the previous version (npm-high-impact 1.7.0)
            try:
                d = dt.date.fromisoformat((r.get(date_col) or "")[:10])
            except ValueError:
                continue
            f = directory / r.get("file", "")
            if f.is_file():
                out.append((d, f))
        return out
    from .sources._common import date_in_name

    for f in sorted(directory.glob("*")):
        named = date_in_name(f.name)
        if named and f.is_file():
            out.append((named, f))
    return out


def nearest_files(directory: Path, date_col: str, targets: Sequence[dt.date]) -> list[tuple[dt.date, Path]]:
    """The file nearest each target date (distinct files, in date order)."""
    cands = _sidecar_dates(directory, date_col)
    if not cands:
        return []
    chosen: dict[Path, dt.date] = {}
    for t in targets:
        d, f = min(cands, key=lambda c: (abs((c[0] - t).days), c[0]))
        chosen[f] = d
    return sorted(((d, f) for f, d in chosen.items()), key=lambda x: x[0])


@dataclass
class Study:
    """The sources chosen from the data folder and, once ingested, their snapshot ids by registry."""

    sources: list[tuple[str, SourceSpec]] = field(default_factory=list)  # (registry, source)
    used: dict[str, list[str]] = field(default_factory=lambda: {"npm": [], "pypi": [], "hf": []})
    missing: list[str] = field(default_factory=list)
    pairs: Path | None = None  # the paper's Figure 7 pairs file
    hub_dump: Path | None = None  # the 2022-02 dump, when its cards (the lineage) are there too
    ids: dict[str, list[str]] = field(default_factory=lambda: {"npm": [], "pypi": [], "hf": []})
    hub_dump_id: str | None = None

    @property
    def specs(self) -> tuple[SourceSpec, ...]:
        return tuple(s for _, s in self.sources)


def choose_sources(data: Path) -> Study:
    """npm/PyPI files nearest the paper's dates, the 2022 Hub listings (the dump with its cards), the pairs file."""
    study = Study()
    for reg, sub, col in (("npm", NPM_DIR, "data_date"), ("pypi", PYPI_DIR, "snapshot_date")):
        if not (data / sub).is_dir():
            study.missing.append(sub)
            continue
        for day, f in nearest_files(data / sub, col, PAPER_DATES):
            study.sources.append((reg, SourceSpec.model_validate({"path": f})))
            study.used[reg].append(f"{f.name} ({day})")
    for rel, date, cards in HF_2022:
        f = data / rel
        if not f.is_file():
            study.missing.append(rel)
            continue
        c = data / cards if cards and (data / cards).is_file() else None
        taken = dt.date.fromisoformat(date) if date else None
        study.sources.append(("hf", SourceSpec.model_validate({"path": f, "date": taken, "cards": c})))
        study.used["hf"].append(rel.split("/")[1])
        if rel == HUB_DUMP and c is not None:
            study.hub_dump = f
        elif rel == HUB_DUMP:  # no cards, no lineage: C1 and descendants cannot run on the dump
            study.missing.append(f"{cards} (C1 and descendants need the lineage in the cards)")
    study.pairs = next((data / p for p in PAIRS_FILES if (data / p).is_file()), None)
    if study.pairs is None:
        study.missing.append(PAIRS_FILES[0])
    return study


def ingest_study(store: Store, study: Study, progress: Progress | None = None) -> None:
    """Ingest the chosen sources with the pipeline and record each one's snapshot id."""
    done = ingest_sources(store, study.specs, progress)
    for (reg, spec), d in zip(study.sources, done, strict=True):
        study.ids[reg].append(d["snapshot_id"])
        if spec.path == study.hub_dump:
            study.hub_dump_id = d["snapshot_id"]


def _snapshots(ids: Sequence[str]) -> Selection:
    return Selection.model_validate({"snapshots": tuple(ids)})


def study_runs(study: Study, *, n_boot: int = N_BOOT, seed: int = SEED) -> list[Run]:
    """The study's labelled runs, on the exact snapshots :func:`ingest_study` recorded."""
    boot = {"n_boot": n_boot, "seed": seed}
    top = {"top": PAPER_K}
    runs: list[Run] = []
    if study.pairs is not None:
        for label, mode in ((PAIRS_ARTIFACT, "artifact"), (PAIRS_PAPER, "paper")):
            p = DescendantsParams.model_validate({"pairs": study.pairs, "mode": mode, **boot})
            runs.append(Run(label, DESCENDANTS.name, p))
    for reg in PACKAGE_REGISTRIES:
        if study.ids[reg]:
            sel = _snapshots(study.ids[reg])
            norm = TurnoverParams.model_validate({"registry": [reg], "sensitivity": True, **top})
            raw = TurnoverParams.model_validate({"registry": [reg], "raw_ids": True, **top})
            runs += [
                Run(turnover_label(reg), TURNOVER.name, norm, sel),
                Run(turnover_label(reg, True), TURNOVER.name, raw, sel),
            ]
    if study.ids["hf"]:
        hf = TurnoverParams.model_validate({"registry": ["hf"], **top})
        runs.append(Run(HF_TURNOVER, TURNOVER.name, hf, _snapshots(study.ids["hf"])))
    if study.hub_dump_id:
        dump = _snapshots([study.hub_dump_id])
        paper = PreservationParams.model_validate({"min_denominator": C1_MIN_DENOMINATOR, **boot})
        artifact = PreservationParams.model_validate({"mode": "artifact", **boot})
        runs += [Run(PRES_PAPER, PRESERVATION.name, paper, dump), Run(PRES_ARTIFACT, PRESERVATION.name, artifact, dump)]
        for pop, mode, label in DUMP_DESCENDANTS:
            p = DescendantsParams.model_validate({"popularity": pop, "mode": mode, **boot})
            runs.append(Run(label, DESCENDANTS.name, p, dump))
    return runs


# -- comparison with the paper, one function per claim ------------------------------


def _n(v: float | int | None, digits: int = 3) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, int):
        return f"{v:,}"
    return f"{v:.{digits}f}"


def _fit_text(res: DescendantsResult) -> str:
    f = res.fit
    if f is None:
        return "no fit (no pairs)"
    return f"slope {f.slope:.3f} [{f.slope_ci[0]:.3f}, {f.slope_ci[1]:.3f}], intercept {f.intercept:.3f}, n={f.n}"


def _result(outcomes: Outcomes, label: str) -> Any:
    """The metric's result object of a run that measured, else None."""
    o = outcomes.get(label)
    return o.result if o is not None and o.status == "ok" else None


def _unmeasured(outcomes: Outcomes, *labels: str) -> list[Row]:
    """A row for each of these runs that the data could not answer."""
    return [
        Row(label, "", "not measurable", o.selection or "", "no", o.reason or "")
        for label in labels
        if (o := outcomes.get(label)) is not None and o.status != "ok"
    ]


def pairs_rows(study: Study, outcomes: Outcomes) -> list[Row]:
    """C2, Figure 7 on the paper's own pairs file: the published (artifact) fit and the corrected one."""
    art: DescendantsResult | None = _result(outcomes, PAIRS_ARTIFACT)
    cor: DescendantsResult | None = _result(outcomes, PAIRS_PAPER)
    if study.pairs is None or art is None or cor is None:
        return _unmeasured(outcomes, PAIRS_ARTIFACT, PAIRS_PAPER)
    sp = cor.spearman
    rho = f"; Spearman {sp.coef:.3f} [{sp.ci[0]:.3f}, {sp.ci[1]:.3f}]" if sp else ""
    name = study.pairs.name
    return [
        Row(
            "Fig. 7 log-log slope, artifact fit (dedupe pairs, log10(x+1e-5))",
            "slope 0.15: the line drawn in Fig. 7 (the published descendents.py fit of this CSV)",
            _fit_text(art),
            f"{name}: {art.n_bases:,} base models (PeaTMOSS, Oct 2023), x = summed downloads of descendants",
            "yes",
            f"same data, same computation; {art.dropped_duplicates:,} duplicate pairs dropped as the code did",
        ),
        Row(
            "Fig. 7 log-log slope, corrected fit (all pairs, no offset)",
            "slope 0.15: the line drawn in Fig. 7",
            _fit_text(cor) + rho,
            f"{name}, all {cor.n_bases:,} pairs; {cor.dropped_zero_popularity} with 0 downloads left out of the fit",
            "partly",
            "same data; OLS on every base (duplicates kept, zero-download bases excluded instead of placed at "
            "log10(1e-5) = -5)",
        ),
    ]


def _steps_text(run: TurnoverOverview, first: int) -> str:
    steps = run.ordered()[0].steps[first:]
    return "; ".join(f"{s.taken_at}: R {s.remained} N {s.newcomers} Ret {s.returning}" for s in steps)


def turnover_rows(study: Study, outcomes: Outcomes) -> list[Row]:
    """C2, turnover of npm and PyPI at the paper's dates: distinct ever, then the per-step counts."""
    rows: list[Row] = []
    for reg in PACKAGE_REGISTRIES:
        run: TurnoverOverview | None = _result(outcomes, turnover_label(reg))
        raw: TurnoverOverview | None = _result(outcomes, turnover_label(reg, True))
        if run is None or raw is None:
            rows += _unmeasured(outcomes, turnover_label(reg), turnover_label(reg, True))
            continue
        if reg == "npm":
            src = "npm-high-impact ranked lists (npm last-week downloads, no counts)"
            why = "; npm lists rank by last-week downloads and include only packages above 1M/week"
        else:
            src = "top-pypi-packages (BigQuery, 30-day downloads)"
            why = f"; PyPI ids PEP 503-normalised (raw ids give {raw.ordered()[0].distinct_ever:,})"
        used = ", ".join(study.used[reg])
        rows.append(
            Row(
                f"{reg} top-{PAPER_K} distinct ever over 4 snapshots",
                f"{PAPER_DISTINCT_EVER[reg]:,}",
                f"{run.ordered()[0].distinct_ever:,}",
                f"{src}: {used}",
                "partly",
                "same K and four snapshots near the same months, but another source than the paper's ecosyste.ms "
                "dumps" + why,
            )
        )
        rows.append(
            Row(
                f"{reg} top-{PAPER_K} per step (Remained / Newcomers / Returning)",
                "Fig. 6 bars",
                _steps_text(run, 1),
                used,
                "partly",
                "same definitions (eqs. 2-4); compare shapes, not exact bars (different sources)",
            )
        )
    return rows


def hf_turnover_rows(study: Study, outcomes: Outcomes) -> list[Row]:
    """C2, Hub turnover over the 2022 listings (the paper's Hub dates are not in the data)."""
    run: TurnoverOverview | None = _result(outcomes, HF_TURNOVER)
    if run is None:
        return _unmeasured(outcomes, HF_TURNOVER)
    hf = run.ordered()[0]
    flagged = sorted({w.snapshot_id for w in hf.warnings})
    return [
        Row(
            f"HF top-{PAPER_K} distinct ever",
            f"{PAPER_DISTINCT_EVER['hf']:,} (Jun 2022, May 2023, Oct 2023, Apr 2024)",
            f"{hf.distinct_ever:,} over {len(hf.steps)} snapshots " + _steps_text(run, 0),
            "HF listings of 2022: " + ", ".join(study.used["hf"]),
            "no",
            "different dates (2022 only, months apart instead of ~6-month gaps); coverage warnings on "
            + (", ".join(flagged) if flagged else "none"),
        )
    ]


def _top3(r: PreservationResult) -> str:
    return (
        "; ".join(
            f"{x.library} {x.rate:.3f} [{_n(x.ci_low)}, {_n(x.ci_high)}] ({x.numerator}/{x.denominator})"
            for x in r.top(3)
        )
        or "no library qualifies"
    )


def preservation_rows(study: Study, outcomes: Outcomes) -> list[Row]:
    """C1 on the 2022-02 Hub dump: eq. 1 as the paper states it, and the artifact's quantity."""
    pres: PreservationResult | None = _result(outcomes, PRES_PAPER)
    art: PreservationResult | None = _result(outcomes, PRES_ARTIFACT)
    if pres is None or art is None:
        return _unmeasured(outcomes, PRES_PAPER, PRES_ARTIFACT)
    sid = study.hub_dump_id
    return [
        Row(
            f"C1 preservation P_L (eq. 1), top 3 with >= {C1_MIN_DENOMINATOR} descendants",
            "Fig. 5 (PeaTMOSS, Oct 2023; computed by the artifact code, see next row)",
            _top3(pres),
            f"{sid}: libraries from library_name + tags, lineage from card text/YAML",
            "no",
            "different snapshot (Feb 2022, before base_model metadata existed) "
            "and the paper's figure shows the artifact quantity, not eq. 1",
        ),
        Row(
            "C1 artifact share (descendants with >= 2 libraries tagged L)",
            "Fig. 5 (PeaTMOSS, Oct 2023)",
            _top3(art),
            f"{sid}",
            "partly",
            "same computation as the published code, on a 2022 snapshot with far sparser lineage",
        ),
    ]


def descendants_rows(study: Study, outcomes: Outcomes) -> list[Row]:
    """C2, descendants against popularity on the 2022-02 Hub dump: the paper's text and its code."""
    rows: list[Row] = []
    for pop, mode, label in DUMP_DESCENDANTS:
        d: DescendantsResult | None = _result(outcomes, label)
        if d is None:
            rows += _unmeasured(outcomes, label)
            continue
        sp = d.spearman
        code = pop == "descendants_sum"
        rows.append(
            Row(
                f"Descendants vs popularity ({pop}, {mode} fit)",
                "slope 0.15: Fig. 7 line (popularity = summed descendant downloads, artifact fit)",
                _fit_text(d) + (f"; Spearman {sp.coef:.3f} (p={sp.p:.2g}, n={sp.n})" if sp else ""),
                f"{study.hub_dump_id}: {d.n_bases:,} base models with known popularity "
                f"({d.dropped_unknown_popularity:,} without)",
                "partly" if code else "no",
                "same computation as the paper's code, on Feb 2022 lineage from card text/YAML"
                if code
                else "the paper's text describes this x (the base model's own downloads); "
                "its code used summed descendant downloads",
            )
        )
    return rows


CLAIMS: tuple[Callable[[Study, Outcomes], list[Row]], ...] = (
    pairs_rows,
    turnover_rows,
    hf_turnover_rows,
    preservation_rows,
    descendants_rows,
)


def compare(study: Study, outcomes: Outcomes) -> list[Row]:
    """Every claim's rows, in the table's order."""
    return [row for claim in CLAIMS for row in claim(study, outcomes)]


def details(outcomes: Outcomes) -> dict[str, Any]:
    """Every number behind the rows, with its inputs (the results of the runs, by comparison)."""
    out: dict[str, Any] = {}
    art, cor = _result(outcomes, PAIRS_ARTIFACT), _result(outcomes, PAIRS_PAPER)
    if art is not None and cor is not None:
        out["fig7_pairs"] = {"artifact": art.to_dict(), "paper": cor.to_dict()}
    for reg in PACKAGE_REGISTRIES:
        run, raw = _result(outcomes, turnover_label(reg)), _result(outcomes, turnover_label(reg, True))
        if run is not None and raw is not None:
            out[turnover_label(reg)] = {
                "normalised": run.ordered()[0].to_dict(),
                "raw_ids": raw.ordered()[0].to_dict(),
                "sensitivity": run.sensitivity[0].to_dict(),
            }
    if (hf := _result(outcomes, HF_TURNOVER)) is not None:
        out[f"{TURNOVER.name}_hf_2022"] = hf.ordered()[0].to_dict()
    pres, pres_art = _result(outcomes, PRES_PAPER), _result(outcomes, PRES_ARTIFACT)
    if pres is not None and pres_art is not None:
        out[PRESERVATION.name] = {"paper": pres.to_dict(), "artifact": pres_art.to_dict()}
    for pop, mode, label in DUMP_DESCENDANTS:
        if (d := _result(outcomes, label)) is not None:
            out[f"{DESCENDANTS.name}_{pop}_{mode}"] = d.to_dict()
    return out


def coverage_warnings(outcomes: Outcomes) -> list[str]:
    """The turnover runs' coverage warnings (partial or unrankable listings)."""
    labels = [turnover_label(reg) for reg in PACKAGE_REGISTRIES] + [HF_TURNOVER]
    runs: list[TurnoverOverview] = [r for label in labels if (r := _result(outcomes, label)) is not None]
    return [w.message for run in runs for w in run.ordered()[0].warnings]


def write_figures(outcomes: Outcomes, out: Path) -> list[str]:
    """Figures 5-7 as PNG files next to the comparison."""
    from .figures._style import save
    from .figures.descendants import descendants_figure
    from .figures.preservation import preservation_figure
    from .figures.turnover import turnover_figure

    files: list[str] = []

    def put(fig: Any, name: str) -> None:
        files.append(str(save(fig, out / name)))

    if (art := _result(outcomes, PAIRS_ARTIFACT)) is not None:
        put(descendants_figure(art), "fig7_paper_pairs_artifact.png")
    labels = [turnover_label(reg) for reg in PACKAGE_REGISTRIES] + [HF_TURNOVER]
    turnover = [r.ordered()[0] for label in labels if (r := _result(outcomes, label)) is not None]
    if turnover:
        put(turnover_figure(turnover), "fig6_turnover.png")
    if (own := _result(outcomes, DUMP_DESCENDANTS[0][2])) is not None:
        put(descendants_figure(own), "fig7_hub_2022_02_own.png")
    pres, pres_art = _result(outcomes, PRES_PAPER), _result(outcomes, PRES_ARTIFACT)
    if pres is not None and pres_art is not None:
        put(preservation_figure(pres_art), "fig5_preservation_artifact.png")
        put(preservation_figure(pres), "fig5_preservation_paper.png")
    return files


# -- the reproduction ----------------------------------------------------------------


def reproduce_esem24(
    data_dir: str | Path,
    out_dir: str | Path,
    *,
    store_path: str | Path | None = None,
    n_boot: int = N_BOOT,
    seed: int = SEED,
    figures: bool = True,
    progress: Progress | None = None,
) -> Reproduction:
    """Ingest, analyse and report the study as ``ptmscope run`` does, then compare with the paper.

    Writes the standard report to ``out_dir/report`` and ``esem24.md``,
    ``esem24.json`` and the figures to ``out_dir``.
    """
    from .report import write_report as write_standard_report
    from .store import Store, check_store_path

    t0 = time.perf_counter()
    data = Path(data_dir)
    if not data.is_dir():
        raise PtmscopeError(f"{data}: not a directory (expected the layout of ../shared/data)")
    spath = Path(store_path) if store_path else Path(out_dir) / "esem24.duckdb"
    check_store_path(spath)  # before anything is written
    out = ensure_writable_dir(out_dir)
    study = choose_sources(data)
    with Store(spath) as store:
        ingest_study(store, study, progress)
        runs = study_runs(study, n_boot=n_boot, seed=seed)
        analysis = analyse(store.backend, runs=runs, progress=progress)
    analysis.inputs["study"] = {"name": "esem24", "data_dir": str(data), "n_boot": n_boot, "seed": seed}
    report = write_standard_report(analysis, out / REPORT_DIR)
    rep = Reproduction(data_dir=str(data), store=str(spath), report=str(report), missing=list(study.missing))
    rep.rows = compare(study, analysis.outcomes)
    rep.details = details(analysis.outcomes)
    rep.warnings = coverage_warnings(analysis.outcomes)
    if figures:
        rep.figures = write_figures(analysis.outcomes, out)
    rep.seconds = time.perf_counter() - t0
    write_report(rep, out)
    return rep


def to_markdown(rep: Reproduction) -> str:
    def cell(s: str) -> str:
        return s.replace("|", "\\|").replace("\n", " ")

    lines = [
        "| metric | paper | ours | data used | comparable | why |",
        "|---|---|---|---|---|---|",
    ]
    for r in rep.rows:
        lines.append(
            "| " + " | ".join(cell(x) for x in (r.metric, r.paper, r.ours, r.data, r.comparable, r.why)) + " |"
        )
    if rep.warnings:
        lines += ["", "Coverage warnings:", ""] + [f"- {w}" for w in rep.warnings]
    if rep.missing:
        lines += ["", "Absent from the data folder (rows skipped):", ""] + [f"- `{m}`" for m in rep.missing]
    return "\n".join(lines) + "\n"


def write_report(rep: Reproduction, out: Path) -> tuple[Path, Path]:
    """Write the comparison with the paper (``esem24.md``, ``esem24.json``) into ``out``."""
    md = out / "esem24.md"
    js = out / "esem24.json"
    md.write_text("# ESEM'24 C1/C2 reproduction\n\n" + to_markdown(rep), encoding="utf-8")
    js.write_text(json.dumps(rep.to_dict(), indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
    return md, js
