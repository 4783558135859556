"""``ptmscope cards score|validate``: model-card documentation scoring."""

from __future__ import annotations

import enum
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from ..cards import SCORERS
from ..errors import PtmscopeError
from ._apps import JsonOpt, StoreOpt, cards_app, console, out, print_json

# Choices derived from the library's Literal type, never restated here.
ScorerChoice = enum.Enum("ScorerChoice", {s: s for s in SCORERS}, type=str)  # type: ignore[misc]

EndpointOpt = Annotated[
    str | None,
    typer.Option("--endpoint", help="llm scorer: OpenAI-compatible base URL (…/v1) or full /chat/completions URL."),
]
ModelOpt = Annotated[str, typer.Option("--model", help="llm scorer: model name sent to the endpoint.")]
KeyEnvOpt = Annotated[
    str, typer.Option("--api-key-env", help="llm scorer: environment variable holding the API key (never printed).")
]
CacheOpt = Annotated[
    Path | None, typer.Option("--cache-dir", help="llm scorer: answer cache (default ./.ptmscope-cache/llm).")
]
ConcOpt = Annotated[int, typer.Option("--concurrency", min=1, max=64, help="llm scorer: requests in flight.")]
RetryOpt = Annotated[
    int, typer.Option("--retries", min=0, max=10, help="llm scorer: retries per card (429/5xx/network).")
]


def _llm_options(
    endpoint: str | None, model: str, api_key_env: str, cache_dir: Path | None, concurrency: int, retries: int
) -> dict[str, Any]:
    return {
        "endpoint": endpoint,
        "model": model,
        "api_key_env": api_key_env,
        "cache_dir": cache_dir,
        "concurrency": concurrency,
        "retries": retries,
    }


def _make(name: str, llm: dict[str, Any]) -> Any:
    import os

    from ..cards import get_scorer

    scorer = get_scorer(name, **(llm if name == "llm" else {}))
    if name == "llm" and not os.environ.get(llm["api_key_env"]):  # fine for a local server, a 401 elsewhere
        console.print(f"note: ${llm['api_key_env']} is not set: requests carry no API key", highlight=False)
    elif name == "llm":
        import urllib.parse

        u = urllib.parse.urlsplit(llm["endpoint"] or "")
        if u.scheme == "http" and u.hostname not in ("127.0.0.1", "localhost", "::1"):
            console.print(
                f"warning: the API key from ${llm['api_key_env']} is sent unencrypted to {u.hostname} "
                "(http://); use https:// for a remote endpoint",
                highlight=False,
            )
    return scorer


def _default_snapshot(st: Any) -> str:
    rows = st.con.execute(
        "SELECT s.snapshot_id FROM snapshots s WHERE s.status = 'complete' AND EXISTS "
        "(SELECT 1 FROM cards c WHERE c.snapshot_id = s.snapshot_id) "
        "ORDER BY s.taken_at DESC, s.snapshot_id DESC LIMIT 1"
    ).fetchall()
    if not rows:
        raise PtmscopeError(
            f"{st.path}: no snapshot with model cards (ingest a Hub dump with --cards, e.g. "
            "`ptmscope ingest model_infos.jsonl.gz --cards model_cards.jsonl.gz`)"
        )
    return str(rows[0][0])


@cards_app.command("score")
def score_cmd(
    snapshot: Annotated[
        str | None, typer.Option("--snapshot", help="Snapshot id (default: newest with cards).")
    ] = None,
    scorer: Annotated[ScorerChoice, typer.Option("--scorer", help="Which scorer.")] = ScorerChoice["rules"],
    endpoint: EndpointOpt = None,
    model: ModelOpt = "gpt-4",
    api_key_env: KeyEnvOpt = "OPENAI_API_KEY",
    cache_dir: CacheOpt = None,
    concurrency: ConcOpt = 4,
    retries: RetryOpt = 3,
    store: StoreOpt = None,
    json: JsonOpt = False,
) -> None:
    """Score every model card of a snapshot and store the scores (resumable: scored cards are skipped)."""
    from ..cards.storage import score_snapshot
    from ..store import Store, resolve_store_path

    path = resolve_store_path(store)
    if not path.exists():  # scoring never creates an empty store
        raise PtmscopeError(f"{path}: no store here (run `ptmscope ingest` first, or pass --store)")
    sc = _make(scorer.value, _llm_options(endpoint, model, api_key_env, cache_dir, concurrency, retries))
    with Store(store) as st:
        sid = snapshot or _default_snapshot(st)

        stored = [0]

        def progress(done: int, total: int) -> None:
            stored[0] = done
            if console.is_terminal:
                console.print(f"scored {done}/{total}", end="\r")

        try:
            run = score_snapshot(st, sid, sc, progress=progress)
        except KeyboardInterrupt:
            console.print(
                f"interrupted: the scores of {stored[0]} models of {sid} are stored; rerun the same command "
                "to score the rest",
                highlight=False,
                soft_wrap=True,
            )
            raise typer.Exit(130) from None
    if run.n_unscored:
        console.print(
            f"warning: {run.n_unscored} cards got no usable answer and are stored as unscored (left out of "
            "`metric docs`); rerun the same command to try them again",
            highlight=False,
        )
    if json:
        print_json(run.to_dict())
        return
    out.print(
        f"{run.snapshot_id}: {run.n_scored} cards scored with {run.scorer_key} "
        f"({run.n_skipped} already scored, {run.n_missing} models without a card, {run.n_unscored} unscored) "
        f"in {run.seconds:.1f} s; "
        f"mean card score {run.mean_score if run.mean_score is None else round(run.mean_score, 3)}",
        highlight=False,
    )


@cards_app.command("validate")
def validate_cmd(
    labels: Annotated[Path, typer.Option("--labels", help="Labels CSV (modelId, has_description, ..., quality_high).")],
    cards: Annotated[Path, typer.Option("--cards", help="Cards JSON lines (modelId, modelcard_text), gzip or not.")],
    annotations: Annotated[
        Path | None, typer.Option("--annotations", help="Heading annotations CSV (modelId, category, heading).")
    ] = None,
    scorer: Annotated[
        list[ScorerChoice] | None,
        typer.Option("--scorer", help="Scorer(s) to validate (repeatable). Default: every scorer available here."),
    ] = None,
    endpoint: EndpointOpt = None,
    model: ModelOpt = "gpt-4",
    api_key_env: KeyEnvOpt = "OPENAI_API_KEY",
    cache_dir: CacheOpt = None,
    concurrency: ConcOpt = 4,
    retries: RetryOpt = 3,
    folds: Annotated[
        int,
        typer.Option(
            "--folds",
            min=0,
            help="Also report K-fold cross-validation: per-fold and mean per-section P/R/F1 over K seeded random "
            "folds of the cards (0: off).",
        ),
    ] = 0,
    fold_seed: Annotated[int, typer.Option("--fold-seed", help="Seed of the fold assignment.")] = 0,
    json: JsonOpt = False,
) -> None:
    """Per-section precision/recall/F1 and ROC AUC of the scores for the human quality label."""
    from ..cards.embedding import available as embedding_available
    from ..cards.validate import cross_validate, load_dev_set, validate

    dev = load_dev_set(labels, cards, annotations)
    if annotations is None:
        console.print(
            "note: without --annotations, 'how to use' is checked only against has_uses, which equals "
            "has_training on every row of the model-card-quality set (unreliable)",
            highlight=False,
        )
    if scorer:
        names = [s.value for s in scorer]
    else:
        names = ["rules"]
        if embedding_available():
            names.append("embedding")
        else:
            console.print("embedding scorer skipped: the [embed] extra is not installed")
        if endpoint:
            names.append("llm")
    if folds == 1:
        raise PtmscopeError("--folds must be 0 (off) or at least 2")
    llm = _llm_options(endpoint, model, api_key_env, cache_dir, concurrency, retries)
    results = []
    cvs = []
    for n in names:
        sc = _make(n, llm)
        t0 = time.perf_counter()
        scores = sc.score_many(list(dev.texts))
        results.append(validate(sc, dev, scores, time.perf_counter() - t0))
        if folds:
            cvs.append(cross_validate(sc, dev, folds, fold_seed, scores))
    for r in results:
        if r.n_scored == 0:  # every metric below would be 0 or nan: say why instead
            raise PtmscopeError(
                f"{r.scorer_key} scored none of the {r.n_cards} cards (no usable answer: endpoint errors "
                "or answers that do not parse)"
            )
    if json:
        payload: dict[str, Any] = {"results": [r.to_dict() for r in results]}
        if folds:
            payload["cross_validation"] = [cv.to_dict() for cv in cvs]
        print_json(payload)
        return
    from rich.table import Table

    for r in results:
        t = Table(title=f"{r.scorer_key} on {r.n_cards} cards ({r.n_scored} scored)", title_justify="left")
        # short headers and folding (not "…") keep every value readable at 80 columns
        for col in ("section", "reference", "reliable", "P", "R", "F1", "true", "pred."):
            t.add_column(col, justify="left" if col in ("section", "reference") else "right", overflow="fold")
        for s in r.sections:
            t.add_row(
                s.section,
                s.reference,
                "yes" if s.reliable else "NO",
                f"{s.precision:.3f}",
                f"{s.recall:.3f}",
                f"{s.f1:.3f}",
                str(s.support),
                str(s.predicted),
            )
        out.print(t)
        out.print(
            "P/R/F1: precision, recall, F1; true: cards with the item by the reference; pred.: by the scorer",
            highlight=False,
        )
        out.print(
            f"AUC for quality_high: card score {r.auc_card_score:.3f}, documentation score "
            f"{r.auc_documentation_score:.3f}; {r.cards_per_second:.1f} cards/s",
            highlight=False,
        )
    for cv in cvs:
        _print_folds(cv)


def _print_folds(cv: Any) -> None:
    from rich.table import Table

    d = cv.to_dict()
    t = Table(
        title=f"{d['scorer_key']}: {d['folds']}-fold cross-validation (seed {d['seed']}), F1 per fold",
        title_justify="left",
    )
    t.add_column("section", overflow="fold")
    t.add_column("reference", overflow="fold")
    for f in d["per_fold"]:
        t.add_column(f"{f['fold']} (n={f['n_cards']})", justify="right")
    for col in ("mean P", "mean R", "mean F1", "SD F1"):
        t.add_column(col, justify="right")
    for i, row in enumerate(d["mean_over_folds"]):
        if not row["reliable"]:
            continue
        t.add_row(
            row["section"],
            row["reference"],
            *[f"{f['sections'][i]['f1']:.3f}" for f in d["per_fold"]],
            f"{row['precision_mean']:.3f}",
            f"{row['recall_mean']:.3f}",
            f"{row['f1_mean']:.3f}",
            f"{row['f1_sd']:.3f}",
        )
    m = d["mean_f1_reliable"]
    t.add_row(
        "mean F1",
        "reliable refs",
        *[f"{f['mean_f1_reliable']:.3f}" for f in d["per_fold"]],
        "",
        "",
        f"{m['mean']:.3f}",
        f"{m['sd']:.3f}",
    )
    out.print(t)
    out.print(
        "folds: a seeded random permutation of the cards cut into near-equal parts; the scorer is not refitted "
        "per fold (per-fold P/R/F1 with --json)",
        highlight=False,
    )
