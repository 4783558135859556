"""``ptmscope crawl hf`` / ``ptmscope crawl status``: live, resumable Hub snapshots.

Exit codes: 0 the snapshot is complete; 75 (EX_TEMPFAIL) the crawl stopped
on a network/server/data problem and is resumable (rerun the same command);
1 bad arguments or store problems; 130 interrupted (also resumable).
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer

from ..crawl import (
    DEFAULT_EXPAND,
    EXPANDS,
    SORTS,
    CrawlArgumentError,
    CrawlError,
    CrawlParams,
    CrawlProgress,
    RetryPolicy,
    abort,
    crawl_hf,
    resolve_endpoint,
    status,
)
from ..crawl.hub import MAX_PAGE_SIZE
from ..store import Store, resolve_store_path
from ._apps import JsonOpt, StoreOpt, console, crawl_app, out, print_json

EXIT_RESUMABLE = 75

SortChoice = Enum("SortChoice", {s: s for s in SORTS}, type=str)  # type: ignore[misc]


def _split(values: list[str] | None) -> tuple[str, ...]:
    out_: list[str] = []
    for v in values or ():
        out_.extend(x.strip() for x in v.split(",") if x.strip())
    return tuple(out_)


class _Bar:
    """A rich progress bar: models (of total when known), models/s, requests, retries, ETA."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.progress = None
        self.task = None

    def __enter__(self) -> _Bar:
        if self.enabled:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            self.progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(bar_width=20),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]:.0f} models/s"),
                TextColumn("{task.fields[requests]} req"),
                TextColumn("{task.fields[retries]} retries"),
                TimeRemainingColumn(),
                console=console,
                transient=False,
            )
            self.progress.__enter__()
            self.task = self.progress.add_task("crawl hf", total=None, rate=0.0, requests=0, retries=0)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.__exit__(None, None, None)

    def __call__(self, ev: CrawlProgress) -> None:
        if self.progress is None:
            return
        rate = ev.models_this_run / ev.elapsed_s if ev.elapsed_s > 0 else 0.0
        desc = f"page {ev.pages}"
        if ev.phase == "resumed":
            console.print(f"resuming {ev.snapshot_id} after {ev.pages} committed pages ({ev.models} models)")
        elif ev.phase == "started":
            console.print(f"crawling into snapshot {ev.snapshot_id}")
        self.progress.update(
            self.task,  # type: ignore[arg-type]
            description=desc,
            completed=ev.models,
            total=ev.total,
            rate=rate,
            requests=ev.requests,
            retries=ev.retries,
        )


@crawl_app.command("hf")
def crawl_hf_cmd(
    store: StoreOpt = None,
    limit: Annotated[int | None, typer.Option("--limit", help="Stop after N models (a partial listing).")] = None,
    sort: Annotated[
        SortChoice | None, typer.Option("--sort", help="Order of the listing (the Hub's sort keys).")
    ] = None,  # type: ignore[valid-type]
    filter_: Annotated[
        list[str] | None, typer.Option("--filter", help="Hub filter (tag, library, task); repeatable.")
    ] = None,
    author: Annotated[str | None, typer.Option("--author", help="Only models of this user/organisation.")] = None,
    search: Annotated[str | None, typer.Option("--search", help="Only models whose id contains this.")] = None,
    cards: Annotated[bool, typer.Option("--cards", help="Also store model cards (README.md).")] = False,
    since_snapshot: Annotated[
        str | None,
        typer.Option(
            "--since-snapshot",
            help="Reuse cards of this snapshot for models whose sha did not change "
            "(default: the latest complete hf crawl with cards).",
        ),
    ] = None,
    full: Annotated[bool, typer.Option("--full", help="Refetch every card (ignore earlier snapshots).")] = False,
    endpoint: Annotated[
        str | None, typer.Option("--endpoint", help="Hub URL. Default: $HF_ENDPOINT, else https://huggingface.co.")
    ] = None,
    page_size: Annotated[
        int, typer.Option("--page-size", help=f"Models per listing request (the Hub allows up to {MAX_PAGE_SIZE}).")
    ] = MAX_PAGE_SIZE,
    expand: Annotated[
        list[str] | None,
        typer.Option(
            "--expand",
            help=f"Fields asked of the listing (repeatable or comma-separated). Default: {', '.join(DEFAULT_EXPAND)}. "
            f"Accepted: {', '.join(EXPANDS)}.",
            show_default=False,
        ),
    ] = None,
    card_workers: Annotated[int, typer.Option("--card-workers", help="Concurrent card downloads.")] = 8,
    skip_bad_records: Annotated[
        bool,
        typer.Option(
            "--skip-bad-records",
            help="Drop (and count) single malformed models instead of stopping at their page.",
        ),
    ] = False,
    max_retries: Annotated[int, typer.Option("--max-retries", help="Retries per request.")] = RetryPolicy.max_retries,
    backoff_base: Annotated[
        float, typer.Option("--backoff-base", help="First backoff delay, s.")
    ] = RetryPolicy.base_delay,
    backoff_max: Annotated[float, typer.Option("--backoff-max", help="Backoff cap, s.")] = RetryPolicy.max_delay,
    max_retry_after: Annotated[
        float, typer.Option("--max-retry-after", help="Longest Retry-After the crawler sleeps through, s.")
    ] = RetryPolicy.max_retry_after,
    timeout: Annotated[float, typer.Option("--timeout", help="Per-request timeout, s.")] = RetryPolicy.timeout,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue the unfinished crawl with the parameters it was started with.")
    ] = False,
    abort_: Annotated[bool, typer.Option("--abort", help="Discard the unfinished crawl (its rows and state).")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Take (or resume) a dated snapshot of the Hub's model listing.

    One listing request per page of up to 1,000 models; cards only for models
    whose sha changed.  Progress is committed page by page: rerun the same
    command after a crash, a rate limit or a network failure to continue.
    Exits 0 only when the snapshot is complete (75 when stopped and resumable).
    """
    if abort_ and resume:
        raise CrawlArgumentError("--abort and --resume exclude each other")
    path = resolve_store_path(store)
    if (abort_ or resume) and not path.exists():  # nothing to discard or resume; never create an empty store
        raise CrawlArgumentError(f"{path}: no store here (nothing to {'abort' if abort_ else 'resume'})")
    # arguments are checked before the store is opened: a bad one must not create or touch it
    for name, value, low in (
        ("--max-retries", max_retries, 0),
        ("--backoff-base", backoff_base, 0),
        ("--backoff-max", backoff_max, 0),
        ("--max-retry-after", max_retry_after, 0),
    ):
        if value < low:
            raise CrawlArgumentError(f"{name} must be >= {low}, not {value}")
    if timeout <= 0:
        raise CrawlArgumentError(f"--timeout must be > 0 seconds, not {timeout}")
    policy = RetryPolicy(
        max_retries=max_retries,
        base_delay=backoff_base,
        max_delay=backoff_max,
        max_retry_after=max_retry_after,
        timeout=timeout,
    )
    params = None
    if not resume and not abort_:
        params = CrawlParams(
            endpoint=resolve_endpoint(endpoint),
            sort=sort.value if sort is not None else None,
            filters=_split(filter_),
            author=author,
            search=search,
            limit=limit,
            page_size=page_size,
            expand=_split(expand) or DEFAULT_EXPAND,
            cards=cards,
            full=full,
            since_snapshot=since_snapshot,
            skip_bad_records=skip_bad_records,
            card_workers=card_workers,
        )
    if params is not None:
        import os
        import urllib.parse

        u = urllib.parse.urlsplit(params.endpoint)
        if u.scheme == "http" and u.hostname not in ("127.0.0.1", "localhost", "::1") and os.environ.get("HF_TOKEN"):
            console.print(
                f"warning: HF_TOKEN is sent unencrypted to {u.hostname} (http://); use https://", highlight=False
            )
    with Store(path) as st:
        if abort_:
            ids = abort(st)
            if json_:
                print_json({"aborted": ids})
            else:
                out.print("aborted " + ", ".join(ids) if ids else "no unfinished hf crawl in the store")
            return
        if params is None:
            pending = status(st)
            if not pending:
                raise CrawlArgumentError("--resume: no unfinished hf crawl in the store (start one without --resume)")
            params = CrawlParams.from_identity(pending[-1]["params"], card_workers=card_workers)
        try:
            with _Bar(enabled=not quiet) as bar:
                result = crawl_hf(st, params, policy=policy, progress=bar)
        except CrawlError as exc:
            pend = status(st)
            where = ""
            if pend:
                p = pend[-1]
                where = (
                    f" {p['pages']} pages ({p['models']} models) of {p['snapshot_id']} are committed; "
                    f"next cursor: {p['next_cursor']}. Rerun the same command (or --resume) to continue, "
                    "--abort to discard."
                )
            console.print(f"[bold red]crawl stopped:[/] {exc}.{where}", highlight=False, soft_wrap=True)
            raise typer.Exit(EXIT_RESUMABLE) from None
        except KeyboardInterrupt:
            pend = status(st)
            done = f" {pend[-1]['pages']} pages of {pend[-1]['snapshot_id']} are committed;" if pend else ""
            console.print(
                f"interrupted:{done} rerun the same command (or --resume) to continue, --abort to discard.",
                highlight=False,
                soft_wrap=True,
            )
            raise typer.Exit(130) from None
    if json_:
        print_json(result.to_dict())
    else:
        m = result.manifest
        out.print(
            f"snapshot {result.snapshot_id} complete: {result.models} models in {result.pages} pages, "
            f"{m['requests']} requests ({m['counters'].get('list_requests', 0)} listing), {m['retries']} retries"
            + (" (resumed)" if result.resumed else ""),
            highlight=False,
        )


@crawl_app.command("status")
def crawl_status_cmd(store: StoreOpt = None, json_: JsonOpt = False) -> None:
    """Unfinished crawls in the store: pages and models committed, cursor to resume from."""
    with Store(store, read_only=True) as st:
        rows = status(st)
    if json_:
        print_json(rows)
        return
    if not rows:
        out.print("no unfinished crawl")
    for r in rows:
        out.print(
            f"{r['snapshot_id']}  in_progress  {r['pages']} pages  {r['models']} models  "
            f"next cursor {r['next_cursor']}  ({r['endpoint']}, {r['runs']} run(s))",
            highlight=False,
        )
