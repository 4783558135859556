"""``ptmscope crawl hf`` / ``ptmscope crawl status``: live, resumable Hub snapshots (models, datasets, commits).

Exit codes: 0 the snapshot is complete; 75 (EX_TEMPFAIL) the crawl stopped
on a network/server/data problem and is resumable (rerun the same command);
1 bad arguments or store problems; 130 interrupted (also resumable).
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from ..crawl import (
    DEFAULT_EXPAND,
    EXPANDS,
    SORTS,
    CrawlError,
    CrawlParams,
    CrawlProgress,
    RetryPolicy,
    abort,
    crawl_hf,
    resolve_endpoint,
    status,
)
from ..crawl.hub import COMMITS_FORMAT, DEFAULT_DATASET_EXPAND, MAX_PAGE_SIZE, REPO_TYPES, SOURCE_FORMAT, read_repo_ids
from ..errors import PtmscopeError
from ..store import Store, resolve_store_path
from ._apps import OPTION_NAMES, JsonOpt, StoreOpt, console, crawl_app, out, print_json

OPTION_NAMES.update(
    {
        "base_delay": "--backoff-base",
        "max_delay": "--backoff-max",
        "commits_only": "--commits",
        "filters": "--filter",
        "commit_ids": "--commits-from",
    }
)

EXIT_RESUMABLE = 75

SortChoice = Enum("SortChoice", {s: s for s in SORTS}, type=str)  # type: ignore[misc]
RepoTypeChoice = Enum("RepoTypeChoice", {s: s for s in REPO_TYPES}, type=str)  # type: ignore[misc]


def _split(values: list[str] | None) -> tuple[str, ...]:
    out_: list[str] = []
    for v in values or ():
        out_.extend(x.strip() for x in v.split(",") if x.strip())
    return tuple(out_)


class _Bar:
    """A rich progress bar: models (of total when known), models/s, requests, retries, ETA."""

    def __init__(self, enabled: bool) -> None:
        from rich.progress import Progress, TaskID

        self.enabled = enabled
        self.progress: Progress | None = None
        self.task: TaskID | None = None

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
                TextColumn("{task.fields[rate]:.0f} {task.fields[unit]}/s"),
                TextColumn("{task.fields[requests]} req"),
                TextColumn("{task.fields[retries]} retries"),
                TimeRemainingColumn(),
                console=console,
                transient=False,
            )
            self.progress.__enter__()
            self.task = self.progress.add_task("crawl hf", total=None, rate=0.0, requests=0, retries=0, unit="models")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.__exit__(None, None, None)

    def __call__(self, ev: CrawlProgress) -> None:
        if self.progress is None or self.task is None:
            return
        rate = ev.models_this_run / ev.elapsed_s if ev.elapsed_s > 0 else 0.0
        desc = f"page {ev.pages}"
        if ev.phase == "resumed":
            console.print(f"resuming {ev.snapshot_id} after {ev.pages} committed pages ({ev.models} {ev.unit})")
        elif ev.phase == "started":
            console.print(f"crawling into snapshot {ev.snapshot_id}")
        if ev.phase == "commits":  # the bar now counts commits, of unknown total
            self.progress.update(
                self.task,
                description=f"commits, page {ev.pages}",
                completed=ev.commits,
                total=None,
                rate=0.0,
                unit="commits",
                requests=ev.requests,
                retries=ev.retries,
            )
            return
        self.progress.update(
            self.task,
            description=desc,
            completed=ev.models,
            total=ev.total,
            rate=rate,
            unit=ev.unit,
            requests=ev.requests,
            retries=ev.retries,
        )


@crawl_app.command("hf")
def crawl_hf_cmd(
    store: StoreOpt = None,
    repo_type: Annotated[
        RepoTypeChoice,
        typer.Option(
            "--repo-type",
            help="What to list: Hub models (registry hf) or datasets (registry hf-datasets, with dataset cards).",
        ),
    ] = RepoTypeChoice("model"),
    limit: Annotated[
        int | None, typer.Option("--limit", help="Stop after N models/datasets (a partial listing).")
    ] = None,
    sort: Annotated[
        SortChoice | None, typer.Option("--sort", help="Order of the listing (the Hub's sort keys).")
    ] = None,
    filter_: Annotated[
        list[str] | None, typer.Option("--filter", help="Hub filter (tag, library, task); repeatable.")
    ] = None,
    author: Annotated[str | None, typer.Option("--author", help="Only repositories of this user/organisation.")] = None,
    search: Annotated[str | None, typer.Option("--search", help="Only repositories whose id contains this.")] = None,
    cards: Annotated[bool, typer.Option("--cards", help="Also store model/dataset cards (README.md).")] = False,
    since_snapshot: Annotated[
        str | None,
        typer.Option(
            "--since-snapshot",
            help="Reuse cards of this snapshot for repositories whose sha did not change "
            "(default: the latest complete crawl with cards of the same registry).",
        ),
    ] = None,
    full: Annotated[bool, typer.Option("--full", help="Refetch every card (ignore earlier snapshots).")] = False,
    endpoint: Annotated[
        str | None, typer.Option("--endpoint", help="Hub URL. Default: $HF_ENDPOINT, else https://huggingface.co.")
    ] = None,
    page_size: Annotated[
        int,
        typer.Option(
            "--page-size", help=f"Repositories (or commits) per request (the Hub allows up to {MAX_PAGE_SIZE})."
        ),
    ] = MAX_PAGE_SIZE,
    expand: Annotated[
        list[str] | None,
        typer.Option(
            "--expand",
            help=f"Fields asked of the listing (repeatable or comma-separated). Default for models: "
            f"{', '.join(DEFAULT_EXPAND)}; for datasets: {', '.join(DEFAULT_DATASET_EXPAND)}. "
            f"Accepted for models: {', '.join(EXPANDS)}.",
            show_default=False,
        ),
    ] = None,
    commits: Annotated[
        bool,
        typer.Option(
            "--commits",
            help="Fetch commit histories only (no listing), into a snapshot of their own; name the repositories "
            "with --commits-top (the top N of the newest complete snapshot) and/or --commits-from.",
        ),
    ] = False,
    commits_top: Annotated[
        int | None,
        typer.Option(
            "--commits-top",
            help="Also fetch the commit histories of the N most downloaded repositories of this crawl's snapshot "
            "(with --commits: of the newest complete snapshot).",
        ),
    ] = None,
    commits_from: Annotated[
        Path | None,
        typer.Option("--commits-from", help="Also fetch the commit histories of these repositories (one id a line)."),
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
    """Take (or resume) a dated snapshot of the Hub's model or dataset listing, optionally with commit histories.

    One listing request per page of up to 1,000 repositories; cards only for
    repositories whose sha changed.  Progress is committed page by page:
    rerun the same command after a crash, a rate limit or a network failure
    to continue.  Exits 0 only when the snapshot is complete (75 when stopped
    and resumable).
    """
    if abort_ and resume:
        raise PtmscopeError("--abort and --resume exclude each other")
    rtype = repo_type.value
    registry = REPO_TYPES[rtype]
    fmt = COMMITS_FORMAT if commits else SOURCE_FORMAT
    what = f"{'commit-history' if commits else rtype + ' listing'} crawl"
    path = resolve_store_path(store)
    if (abort_ or resume) and not path.exists():  # nothing to discard or resume; never create an empty store
        raise PtmscopeError(f"{path}: no store here (nothing to {'abort' if abort_ else 'resume'})")
    # arguments are checked (by the library) before the store is opened: a bad one must not create or touch it
    policy = RetryPolicy(
        max_retries=max_retries,
        base_delay=backoff_base,
        max_delay=backoff_max,
        max_retry_after=max_retry_after,
        timeout=timeout,
    )
    params = None
    if not resume and not abort_:
        ids, ids_sha = read_repo_ids(commits_from) if commits_from else ((), None)
        params = CrawlParams(
            endpoint=resolve_endpoint(endpoint),
            repo_type=rtype,
            commits_only=commits,
            commits_top=commits_top,
            commits_from=str(commits_from) if commits_from else None,
            commits_from_sha256=ids_sha,
            commit_ids=ids,
            sort=sort.value if sort is not None else None,
            filters=_split(filter_),
            author=author,
            search=search,
            limit=limit,
            page_size=page_size,
            expand=_split(expand),
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
            aborted = abort(st, registry, fmt)
            if json_:
                print_json({"aborted": aborted})
            else:
                out.print(
                    "aborted " + ", ".join(aborted) if aborted else f"no unfinished {registry} {what} in the store"
                )
            return
        if params is None:
            pending = status(st, registry, fmt)
            if not pending:
                raise PtmscopeError(
                    f"--resume: no unfinished {registry} {what} in the store (start one without --resume)"
                )
            params = CrawlParams.from_identity(pending[-1]["params"], card_workers=card_workers)
        try:
            with _Bar(enabled=not quiet) as bar:
                result = crawl_hf(st, params, policy=policy, progress=bar)
        except CrawlError as exc:
            pend = status(st, registry, fmt)
            where = ""
            if pend:
                p = pend[-1]
                rows = f"{p['models']} {rtype}s" + (f", {p['commits']} commits" if p["commits"] else "")
                where = (
                    f" {p['pages']} pages ({rows}) of {p['snapshot_id']} are committed; "
                    f"next cursor: {p['next_cursor']}. Rerun the same command (or --resume) to continue, "
                    "--abort to discard."
                )
            console.print(f"[bold red]crawl stopped:[/] {exc}.{where}", highlight=False, soft_wrap=True)
            raise typer.Exit(EXIT_RESUMABLE) from None
        except KeyboardInterrupt:
            pend = status(st, registry, fmt)
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
        c = m["counters"]
        got = f"{result.models} {rtype}s" if not commits else ""
        if "commit_repos" in c:
            got += f"{', ' if got else ''}{c['commits']} commits of {c.get('commit_repos', 0)} repositories"
        out.print(
            f"snapshot {result.snapshot_id} complete: {got} in {result.pages} pages, "
            f"{m['requests']} requests ({c.get('list_requests', 0)} listing), {m['retries']} retries"
            + (" (resumed)" if result.resumed else ""),
            highlight=False,
            soft_wrap=True,
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
        unit = "datasets" if r["registry"] == "hf-datasets" else "models"
        what = f"{r['models']} {unit}" if r["kind"] == "listing" else f"{r['commits']} commits"
        if r["kind"] == "listing" and r["commits"]:
            what += f", {r['commits']} commits"
        out.print(
            f"{r['snapshot_id']}  in_progress  {r['kind']}  {r['pages']} pages  {what}  "
            f"next cursor {r['next_cursor']}  ({r['endpoint']}, {r['runs']} run(s))",
            highlight=False,
        )
