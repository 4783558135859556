"""``ptmscope metric preservation|turnover|descendants``: the paper's C1/C2 metrics."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated, Any

import typer

from ..engine import ENGINES
from ..errors import PtmscopeError
from ..metrics import MODES, POPULARITIES, SENSITIVITY_KS, TIE_RULES
from ..schema import REGISTRIES
from ._apps import JsonOpt, StoreOpt, console, metric_app, out, print_json

# Choices derived from the library's Literal types, never restated here.
ModeChoice = enum.Enum("ModeChoice", {m: m for m in MODES}, type=str)  # type: ignore[misc]
TieChoice = enum.Enum("TieChoice", {t: t for t in TIE_RULES}, type=str)  # type: ignore[misc]
PopularityChoice = enum.Enum("PopularityChoice", {p: p for p in POPULARITIES}, type=str)  # type: ignore[misc]
EngineChoice = enum.Enum("EngineChoice", {e: e for e in ENGINES}, type=str)  # type: ignore[misc]

SnapshotsOpt = Annotated[
    str | None,
    typer.Option(
        "--snapshots",
        help="Comma-separated snapshot ids, in any order (default: every complete snapshot of the registry).",
    ),
]
OneSnapshotOpt = Annotated[
    str | None,
    typer.Option(
        "--snapshots", help="One snapshot id (default: the newest snapshot of the registry that has lineage)."
    ),
]
ModeOpt = Annotated[
    ModeChoice,
    typer.Option(
        "--mode", help="paper: the formula as the paper states it; artifact: what its published code computed."
    ),
]
PlotOpt = Annotated[Path | None, typer.Option("--plot", help="Write the figure to FILE (.svg, .png or .pdf).")]
EngineOpt = Annotated[EngineChoice, typer.Option("--engine", help="Ibis backend to compute on.")]
BootOpt = Annotated[int, typer.Option("--n-boot", min=0, help="Bootstrap resamples for the intervals (0 = none).")]
SeedOpt = Annotated[int, typer.Option("--seed", help="Bootstrap seed.")]


def _ids(snapshots: str | None) -> list[str] | None:
    if not snapshots:
        return None
    ids = [s.strip() for s in snapshots.split(",") if s.strip()]
    return ids or None


def _registries(registry: str) -> list[str]:
    regs = [r.strip() for r in registry.split(",") if r.strip()]
    for r in regs:
        if r not in REGISTRIES:
            raise PtmscopeError(f"unknown registry {r!r}; choose from {', '.join(REGISTRIES)}")
    if not regs:
        raise PtmscopeError("--registry is empty")
    return regs


def _connect(store: Path | None, engine: EngineChoice) -> Any:
    from ..engine import connect
    from ..store import resolve_store_path

    path = resolve_store_path(store)
    if engine.value == "duckdb" and not path.exists():
        raise PtmscopeError(f"{path}: no store here (run `ptmscope ingest` first, or pass --store)")
    return connect(path, engine.value)


def _check_plot(plot: Path | None) -> None:
    """Refuse a figure suffix before computing anything (save() would only fail at the end)."""
    from ..figures._style import FORMATS

    if plot is not None and plot.suffix.lower() not in FORMATS:
        raise PtmscopeError(
            f"{plot}: unsupported figure format {plot.suffix or '(none)'}; use one of {', '.join(FORMATS)}"
        )


def _save(fig: Any, plot: Path) -> None:
    from ..figures._style import save

    save(fig, plot)
    console.print(f"figure written to {plot}")


def _fmt(v: float | None, digits: int = 3) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


@metric_app.command("turnover")
def turnover_cmd(
    registry: Annotated[
        str | None,
        typer.Option(
            "--registry",
            help=f"Registry, or several comma-separated ({', '.join(REGISTRIES)}). "
            "Default: the registries of --snapshots, else hf.",
            show_default=False,
        ),
    ] = None,
    snapshots: SnapshotsOpt = None,
    top: Annotated[int, typer.Option("--top", min=1, help="K: size of the top list.")] = 1000,
    mode: ModeOpt = ModeChoice("paper"),  # type: ignore[call-arg]
    ties: Annotated[
        TieChoice, typer.Option("--ties", help="Ties at rank K: id = break by id (exactly K), all = keep all tied.")
    ] = TieChoice("id"),  # type: ignore[call-arg]
    raw_ids: Annotated[
        bool,
        typer.Option("--raw-ids", help="Compare ids as the sources wrote them (no PEP 503 / alias normalisation)."),
    ] = False,
    sensitivity: Annotated[
        bool, typer.Option("--sensitivity/--no-sensitivity", help=f"Also compute the table over K in {SENSITIVITY_KS}.")
    ] = True,
    json_out: JsonOpt = False,
    plot: PlotOpt = None,
    store: StoreOpt = None,
    engine: EngineOpt = EngineChoice("duckdb"),  # type: ignore[call-arg]
) -> None:
    """Top-K turnover (paper equations 2-4): Remained / Newcomers / Returning per snapshot."""
    from ..metrics import turnover, turnover_sensitivity

    _check_plot(plot)
    ids = _ids(snapshots)
    regs = _registries(registry) if registry is not None else None
    backend = _connect(store, engine)
    per_registry: dict[str, list[str] | None]
    if ids:
        from ..metrics._common import list_snapshots

        reg_of = {s.snapshot_id: s.registry for s in list_snapshots(backend)}
        for i in ids:
            if i not in reg_of:
                raise PtmscopeError(f"no snapshot {i!r} in the store (see `ptmscope snapshots`)")
        if regs is None:
            regs = list(dict.fromkeys(reg_of[i] for i in ids))
        for i in ids:
            if reg_of[i] not in regs:
                raise PtmscopeError(f"snapshot {i!r} is from registry {reg_of[i]!r}, not {', '.join(regs)}")
        per_registry = {r: [i for i in ids if reg_of[i] == r] for r in regs}
        for r, mine in per_registry.items():
            if not mine:
                raise PtmscopeError(
                    f"--snapshots names no {r} snapshot; drop {r} from --registry or name its snapshots"
                )
    else:
        regs = regs or ["hf"]
        per_registry = {r: None for r in regs}
    results, sens = [], []
    for reg in regs:
        reg_ids = per_registry[reg]
        res = turnover(backend, reg, reg_ids, k=top, tie_rule=ties.value, normalise=not raw_ids, mode=mode.value)
        results.append(res)
        if sensitivity:
            sens.append(
                turnover_sensitivity(
                    backend, reg, [s.snapshot_id for s in res.snapshots], tie_rule=ties.value, normalise=res.normalise
                )
            )
    for res in results:
        for w in res.warnings:
            console.print(f"[yellow]warning:[/] {w.message}", highlight=False)
    if plot:
        from ..figures.turnover import turnover_figure

        _save(turnover_figure(results), plot)
    if json_out:
        payload = {"results": [r.to_dict() for r in results], "sensitivity": [s.to_dict() for s in sens]}
        print_json(
            payload
            if len(results) > 1
            else {**results[0].to_dict(), "sensitivity": sens[0].to_dict() if sens else None}
        )
        return
    from rich.table import Table

    for i, res in enumerate(results):
        t = Table(
            title=(
                f"{res.registry}: top-{res.k} turnover "
                f"(ties={res.tie_rule}, normalise={res.normalise}, mode={res.mode})"
            )
        )
        for c in (
            "snapshot",
            "date",
            "in top",
            "remained",
            "newcomers",
            "returning",
            "distinct so far",
            "K-th downloads",
        ):
            t.add_column(c)
        for s in res.steps:
            t.add_row(
                s.snapshot_id,
                s.taken_at,
                str(s.in_top),
                str(s.remained),
                str(s.newcomers),
                str(s.returning),
                str(s.distinct_so_far),
                "-" if s.kth_downloads is None else f"{s.kth_downloads:,}",
            )
        out.print(t)
        out.print(f"distinct packages ever in the top {res.k}: {res.distinct_ever:,}")
        if sens:
            st = Table(title="sensitivity over K")
            for c in (
                "K",
                "distinct ever",
                "distinct / K",
                "mean newcomer share",
                "mean remained share",
                "incomplete snapshots",
            ):
                st.add_column(c)
            for r in sens[i].rows:
                st.add_row(
                    str(r.k),
                    f"{r.distinct_ever:,}",
                    _fmt(r.distinct_per_k),
                    _fmt(r.mean_newcomer_share),
                    _fmt(r.mean_remained_share),
                    str(r.incomplete_snapshots),
                )
            out.print(st)


@metric_app.command("preservation")
def preservation_cmd(
    registry: Annotated[str, typer.Option("--registry", help="Registry (the Hub has libraries and lineage).")] = "hf",
    snapshots: OneSnapshotOpt = None,
    top: Annotated[int, typer.Option("--top", min=1, help="Libraries to show and plot.")] = 10,
    mode: ModeOpt = ModeChoice("paper"),  # type: ignore[call-arg]
    min_descendants: Annotated[
        int, typer.Option("--min-descendants", min=1, help="Rank only libraries with at least this denominator.")
    ] = 1,
    n_boot: BootOpt = 2000,
    seed: SeedOpt = 0,
    json_out: JsonOpt = False,
    plot: PlotOpt = None,
    store: StoreOpt = None,
    engine: EngineOpt = EngineChoice("duckdb"),  # type: ignore[call-arg]
) -> None:
    """Library preservation rate P_L (paper equation 1) per library, with bootstrap intervals."""
    from ..metrics import preservation

    _check_plot(plot)
    ids = _ids(snapshots)
    if ids and len(ids) > 1:
        raise PtmscopeError("preservation runs on one snapshot; pass a single id to --snapshots")
    reg = _registries(registry)[0]
    backend = _connect(store, engine)
    res = preservation(
        backend,
        ids[0] if ids else None,
        registry=reg,
        mode=mode.value,
        n_boot=n_boot,
        seed=seed,
        min_denominator=min_descendants,
    )
    for n in res.notes:
        console.print(f"[yellow]note:[/] {n}", highlight=False)
    if plot:
        from ..figures.preservation import preservation_figure

        _save(preservation_figure(res, top), plot)
    if json_out:
        print_json(res.to_dict())
        return
    from rich.table import Table

    t = Table(title=f"library preservation, {res.snapshot.snapshot_id} (mode={res.mode})")
    for c in (
        "library",
        "P_L",
        "95% CI",
        "numerator",
        "denominator",
        "bases" if res.mode == "paper" else "descendants",
    ):
        t.add_column(c)
    for r in res.top(top):
        t.add_row(
            r.library,
            _fmt(r.rate),
            f"[{_fmt(r.ci_low)}, {_fmt(r.ci_high)}]",
            str(r.numerator),
            str(r.denominator),
            str(r.n_bases),
        )
    out.print(t)


@metric_app.command("descendants")
def descendants_cmd(
    registry: Annotated[str, typer.Option("--registry", help="Registry (the Hub has lineage).")] = "hf",
    snapshots: OneSnapshotOpt = None,
    mode: ModeOpt = ModeChoice("paper"),  # type: ignore[call-arg]
    popularity: Annotated[
        PopularityChoice,
        typer.Option(
            "--popularity",
            help=(
                "own: the base model's downloads (paper text); "
                "descendants_sum: its descendants' summed downloads (paper code)."
            ),
        ),
    ] = PopularityChoice("own"),  # type: ignore[call-arg]
    transitive: Annotated[
        bool,
        typer.Option("--transitive", help="Count the whole lineage tree below each base, not only direct descendants."),
    ] = False,
    pairs: Annotated[
        Path | None,
        typer.Option("--pairs", help="Analyse a precomputed CSV with columns downloads,count instead of the store."),
    ] = None,
    n_boot: BootOpt = 1000,
    seed: SeedOpt = 0,
    json_out: JsonOpt = False,
    plot: PlotOpt = None,
    store: StoreOpt = None,
    engine: EngineOpt = EngineChoice("duckdb"),  # type: ignore[call-arg]
) -> None:
    """Descendant count vs popularity (paper Figure 7): log-log OLS, Spearman, Kendall."""
    from ..metrics import descendants, descendants_from_pairs

    _check_plot(plot)
    if pairs is not None and (snapshots or transitive):
        raise PtmscopeError("--pairs analyses the file alone; drop --snapshots/--transitive (they apply to the store)")
    if pairs is not None:
        res = descendants_from_pairs(pairs, mode=mode.value, n_boot=n_boot, seed=seed)
    else:
        ids = _ids(snapshots)
        if ids and len(ids) > 1:
            raise PtmscopeError("descendants runs on one snapshot; pass a single id to --snapshots")
        reg = _registries(registry)[0]
        backend = _connect(store, engine)
        res = descendants(
            backend,
            ids[0] if ids else None,
            registry=reg,
            popularity=popularity.value,
            mode=mode.value,
            transitive=transitive,
            n_boot=n_boot,
            seed=seed,
        )
    if plot:
        from ..figures.descendants import descendants_figure

        _save(descendants_figure(res), plot)
    if json_out:
        print_json(res.to_dict())
        return
    out.print(f"source: {res.source}  mode={res.mode}  popularity={res.popularity}  transitive={res.transitive}")
    out.print(f"base models: {res.n_bases:,} (dropped, unknown popularity: {res.dropped_unknown_popularity:,})")
    f = res.fit
    if f is not None:
        out.print(
            f"log-log OLS (n={f.n}, offset={f.offset:g}): "
            f"slope {f.slope:.4f} [{_fmt(f.slope_ci[0], 4)}, {_fmt(f.slope_ci[1], 4)}], "
            f"intercept {f.intercept:.4f} [{_fmt(f.intercept_ci[0], 4)}, {_fmt(f.intercept_ci[1], 4)}], R² {f.r2:.3f}"
        )
        if res.dropped_zero_popularity:
            out.print(f"  left out of the fit: {res.dropped_zero_popularity} pairs with 0 downloads")
        if res.dropped_duplicates:
            out.print(f"  left out of the fit: {res.dropped_duplicates} duplicate pairs (artifact mode)")
    for c in (res.spearman, res.kendall):
        if c is not None:
            out.print(
                f"{c.method}: {c.coef:.4f} (p={c.p:.3g}, 95% CI [{_fmt(c.ci[0], 4)}, {_fmt(c.ci[1], 4)}], n={c.n})"
            )
