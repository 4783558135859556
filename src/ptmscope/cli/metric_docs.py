"""``ptmscope metric docs``: documentation scores and the paper's C3 top-vs-bottom tests."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import PtmscopeError
from ..metrics.docs import DEFAULT_TOP, MEASURES
from ._apps import JsonOpt, StoreOpt, console, metric_app, out, print_json


def _p(v: float) -> str:
    return "< 1e-300" if v == 0 else f"{v:.2g}"  # a p-value that underflowed double precision


def _measures(by: str) -> list[str]:
    got = [m.strip() for m in by.split(",") if m.strip()]
    for m in got:
        if m not in MEASURES:
            raise PtmscopeError(f"--by: unknown popularity measure {m!r}; choose from {', '.join(MEASURES)}")
    if not got:
        raise PtmscopeError(f"--by is empty; choose from {', '.join(MEASURES)}")
    return got


@metric_app.command("docs")
def docs_cmd(
    top: Annotated[int, typer.Option("--top", min=2, help="N models per group (capped by the data).")] = DEFAULT_TOP,
    by: Annotated[
        str, typer.Option("--by", help=f"Comma-separated popularity measures ({', '.join(MEASURES)}).")
    ] = ",".join(MEASURES),
    snapshot: Annotated[
        str | None, typer.Option("--snapshot", help="Snapshot id (default: newest with card scores).")
    ] = None,
    scorer: Annotated[
        str | None, typer.Option("--scorer", help="Scorer name or key of the stored card scores (default: rules).")
    ] = None,
    n_boot: Annotated[
        int, typer.Option("--n-boot", min=1, help="Bootstrap resamples for the mean-difference CI.")
    ] = 2000,
    seed: Annotated[int, typer.Option("--seed", help="Bootstrap seed.")] = 0,
    with_card_only: Annotated[
        bool, typer.Option("--with-card-only", help="Compare only models that have a card (sensitivity check).")
    ] = False,
    plot: Annotated[
        Path | None, typer.Option("--plot", help="Write the box plots to FILE (.svg, .png or .pdf).")
    ] = None,
    store: StoreOpt = None,
    json: JsonOpt = False,
) -> None:
    """Documentation score (card + metadata) of top-N vs bottom-N models by popularity (C3)."""
    from ..metrics.docs import c3_test
    from ..store import Store

    measures = _measures(by)
    with Store(store, read_only=True) as st:
        result = c3_test(
            st.backend,
            snapshot_id=snapshot,
            scorer_key=scorer,
            top=top,
            by=measures,
            n_boot=n_boot,
            seed=seed,
            with_card_only=with_card_only,
        )
    if plot is not None:
        from ..figures._style import save
        from ..figures.docs import docs_figure

        save(docs_figure(result), plot)
        console.print(f"figure written to {plot}")
    if json:
        print_json(result.to_dict())
        return
    from rich.table import Table

    out.print(result.headline(), highlight=False)
    # one column per measure (at most three): readable at 80 columns, where ten columns were cut to "2.4e…"
    t = Table(title="C3: top-N vs bottom-N (one-sided, top > bottom)", title_justify="left")
    t.add_column("", justify="left", no_wrap=True)
    for c in result.comparisons:
        t.add_column(f"by {c.measure}", justify="right", no_wrap=True)
    rows: list[tuple[str, list[str]]] = [
        ("N per group", [str(c.n) for c in result.comparisons]),
        ("top / bottom mean", [f"{c.top_mean:.3f} / {c.bottom_mean:.3f}" for c in result.comparisons]),
        ("Welch t (df)", [f"{c.welch.statistic:.2f} ({c.welch.df or float('nan'):.0f})" for c in result.comparisons]),
        ("Welch p (Holm)", [_p(c.p_welch_holm) for c in result.comparisons]),
        ("MWU p (Holm)", [_p(c.p_mann_whitney_holm) for c in result.comparisons]),
        ("Cohen's d", [f"{c.cohens_d:.2f}" for c in result.comparisons]),
        ("Cliff's δ", [f"{c.cliffs_delta:.2f}" for c in result.comparisons]),
        ("mean difference", [f"{c.mean_diff.estimate:.3f}" for c in result.comparisons]),
        ("  its 95% CI", [f"[{c.mean_diff.low:.3f}, {c.mean_diff.high:.3f}]" for c in result.comparisons]),
    ]
    for label, values in rows:
        t.add_row(label, *values)
    out.print(t)
    out.print(
        "top / bottom mean: documentation score (0-1); MWU: Mann-Whitney U; mean difference: bootstrap CI",
        highlight=False,
    )
    for n in result.notes:
        console.print(f"note: {n}", highlight=False)
