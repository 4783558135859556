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
    snapshot: Annotated[str | None, typer.Option("--snapshot", help="Snapshot id (default: newest with card scores).")] = None,
    scorer: Annotated[
        str | None, typer.Option("--scorer", help="Scorer name or key of the stored card scores (default: rules).")
    ] = None,
    n_boot: Annotated[int, typer.Option("--n-boot", min=1, help="Bootstrap resamples for the mean-difference CI.")] = 2000,
    seed: Annotated[int, typer.Option("--seed", help="Bootstrap seed.")] = 0,
    with_card_only: Annotated[
        bool, typer.Option("--with-card-only", help="Compare only models that have a card (sensitivity check).")
    ] = False,
    plot: Annotated[Path | None, typer.Option("--plot", help="Write the box plots to FILE (.svg, .png or .pdf).")] = None,
    store: StoreOpt = None,
    json: JsonOpt = False,
) -> None:
    """Documentation score (card + metadata) of top-N vs bottom-N models by popularity (C3)."""
    from ..metrics.docs import c3_test
    from ..store import Store

    measures = _measures(by)
    with Store(store, read_only=True) as st:
        result = c3_test(st.backend, snapshot_id=snapshot, scorer_key=scorer, top=top, by=measures, n_boot=n_boot,
                         seed=seed, with_card_only=with_card_only)
    if plot is not None:
        from ..figures._style import save
        from ..figures.docs import docs_figure

        save(docs_figure(result), plot)
        console.print(f"figure written to {plot}")
    if json:
        print_json(result.to_dict())
        return
    from rich.table import Table

    out.print(
        f"{result.snapshot_id} ({result.scorer_key}): {result.n_models} models, mean documentation score "
        f"{result.mean_documentation_score:.3f} (card {result.mean_card_score:.2f}/5, metadata "
        f"{result.mean_metadata_score:.3f}); {result.n_missing_card} without a card",
        highlight=False,
    )
    t = Table(title="C3: top-N vs bottom-N (one-sided, top > bottom)", title_justify="left")
    for col in ("by", "N", "top mean", "bottom mean", "Welch t", "p (Holm)", "MWU p (Holm)", "Cohen's d",
                "Cliff's δ", "mean diff 95% CI"):
        t.add_column(col, justify="left" if col == "by" else "right")
    for c in result.comparisons:
        t.add_row(c.measure, str(c.n), f"{c.top_mean:.3f}", f"{c.bottom_mean:.3f}", f"{c.welch.statistic:.2f}",
                  _p(c.p_welch_holm), _p(c.p_mann_whitney_holm), f"{c.cohens_d:.2f}",
                  f"{c.cliffs_delta:.2f}", f"[{c.mean_diff.low:.3f}, {c.mean_diff.high:.3f}]")
    out.print(t)
    for n in result.notes:
        console.print(f"note: {n}", highlight=False)
