"""``ptmscope review``: a systematic literature review kept as plain files in a folder."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import InputError, PtmscopeError
from ._apps import JsonOpt, app, console, out, print_json

review_app = typer.Typer(
    help="A systematic literature review as data: import, de-duplicate, screen, extract, consolidate, build.",
    no_args_is_help=True,
)
app.add_typer(review_app, name="review")

FolderArg = Annotated[Path, typer.Argument(metavar="FOLDER", help="The review folder (review.toml and its files).")]


def _open(folder: Path) -> Any:
    from ..review import open_review

    return open_review(folder)


def _line(msg: str) -> None:
    out.print(msg, highlight=False, markup=False, soft_wrap=True)


@review_app.command("example")
def example_cmd(
    dest: Annotated[Path, typer.Argument(metavar="DEST", help="New folder to copy the worked example into.")],
) -> None:
    """Copy the ESEM'24 paper's review (the worked example) into DEST, to read or to start from."""
    from ..review import example_folder

    if dest.exists():
        raise PtmscopeError(f"{dest}: already exists; give a new folder")
    shutil.copytree(example_folder(), dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    _line(f"copied the ESEM'24 review example to {dest}")


@review_app.command("init")
def init_cmd(
    dest: Annotated[Path, typer.Argument(metavar="DEST", help="New folder for the review.")],
    title: Annotated[str, typer.Option("--title", help="What the review is (its label).")] = "My review",
    source_id: Annotated[
        str, typer.Option("--id", help="Short id of the review (letters, digits, . _ -).")
    ] = "my-review",
) -> None:
    """Start an empty review: the paper's criteria (§4.1.3) and claim categories (Table 2), empty record files."""
    from ..review.scaffold import init_review

    for p in init_review(dest, label=title, source_id=source_id):
        _line(str(p))


@review_app.command("import")
def import_cmd(
    folder: FolderArg,
    export: Annotated[Path, typer.Argument(metavar="FILE", help="A search export: .bib, .ris or .csv.")],
    query: Annotated[str, typer.Option("--query", help="The query exactly as typed into the search engine.")],
    source: Annotated[str, typer.Option("--source", help="Where it was run (e.g. 'Google Scholar', 'ACM DL').")],
    query_id: Annotated[str | None, typer.Option("--id", help="Id of this search (default: q1, q2, ...).")] = None,
    date: Annotated[str | None, typer.Option("--date", help="When it was run (YYYY-MM-DD).")] = None,
) -> None:
    """Add a search: the export is parsed first, then copied to FOLDER/search/ and the query recorded."""
    import tomllib

    from ..review.search import detect_format, read_records
    from ..validation import read_toml_text

    rt = folder / "review.toml"
    data, text = read_toml_text(rt, "review.toml")
    ids = {q.get("id") for q in data.get("queries", []) if isinstance(q, dict)}
    qid = query_id or next(f"q{i}" for i in range(1, len(ids) + 2) if f"q{i}" not in ids)
    if qid in ids:
        raise InputError(rt, f"a query with id {qid!r} is already recorded")
    fmt = detect_format(export)
    recs = read_records(export, qid, fmt)  # a malformed export fails here, before anything is written
    target = folder / "search" / f"{qid}{export.suffix.lower()}"
    if target.exists():
        raise InputError(target, "already exists; choose another --id")
    entry: dict[str, Any] = {"id": qid, "source": source, "query": query, "file": f"search/{target.name}"}
    if date:
        entry["date"] = date
    import tomli_w

    block = "\n[[queries]]\n" + tomli_w.dumps(entry)
    tomllib.loads(text + block)  # still valid TOML
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(export, target)
    with rt.open("a", encoding="utf-8") as fh:
        fh.write(block)
    _line(f"{qid}: {len(recs)} records from {export.name} ({fmt}) -> {target}")


@review_app.command("dedup")
def dedup_cmd(folder: FolderArg, as_json: JsonOpt = False) -> None:
    """De-duplicate the search results (DOI, then title + year) and list every merge."""
    rv = _open(folder)
    if rv.dedup is None:
        rv.raise_if_problems()
        raise PtmscopeError(f"{folder}: no search results (records are not public in this review)")
    d = rv.dedup
    data = {
        "records": len(rv.records),
        "papers": len(d.papers),
        "merges": [m.__dict__ for m in d.merges],
        "possible_duplicates": [m.__dict__ for m in d.possible],
    }
    if as_json:
        print_json(data)
        return
    _line(f"{len(rv.records)} records -> {len(d.papers)} papers ({len(d.merges)} merges)")
    for m in d.merges:
        _line(f"  merged {m.merged} into {m.kept}: {m.reason}" + (f" (title score {m.score})" if m.score else ""))
    for m in d.possible:
        _line(f"  NOT merged {m.merged} / {m.kept}: {m.reason} (title score {m.score}); confirm in dedup.toml")


@review_app.command("agreement")
def agreement_cmd(
    folder: FolderArg,
    reviewers: Annotated[
        str | None, typer.Option("--reviewers", help="Two reviewers, 'A,B' (default: every pair).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Cohen's kappa (95% CI) between screening reviewers, and the conflicts still to resolve."""
    from ..review import agreement

    rv = _open(folder)
    pair = None
    if reviewers:
        parts = [x.strip() for x in reviewers.split(",") if x.strip()]
        if len(parts) != 2:
            raise PtmscopeError(f"--reviewers needs two names, 'A,B'; got {reviewers!r}")
        pair = (parts[0], parts[1])
    res = agreement(rv, pair)
    if as_json:
        print_json(res)
        return
    for p in res["pairs"]:
        a, b = p["reviewers"]
        if p["kappa"] is None:
            _line(f"{a} vs {b}: {p['n']} papers, agreement {p['observed_agreement']:.2f}; {p['note']}")
        else:
            lo, hi = p["ci"]
            _line(
                f"{a} vs {b}: {p['n']} papers, agreement {p['observed_agreement']:.2f}, "
                f"Cohen's kappa {p['kappa']:.2f} (95% CI {lo:.2f} to {hi:.2f}); conflicts: "
                + (", ".join(p["conflicts"]) or "none")
            )
    if res["unresolved_conflicts"]:
        _line("unresolved (add to resolutions.csv): " + ", ".join(res["unresolved_conflicts"]))


@review_app.command("check")
def check_cmd(folder: FolderArg, as_json: JsonOpt = False) -> None:
    """Validate the folder: one line per problem with its file and line; exit 1 if there is any."""
    rv = _open(folder)
    if as_json:
        print_json({"ok": not rv.problems, "problems": [p.__dict__ for p in rv.problems]})
        raise typer.Exit(1 if rv.problems else 0)
    if rv.problems:
        for p in rv.problems:
            console.print(
                f"error: {folder / p.file}{f':{p.line}' if p.line else ''}: {p.message}",
                highlight=False,
                markup=False,
                soft_wrap=True,
            )
        raise typer.Exit(1)
    f = rv.flow()
    _line(
        f"ok: {folder}: {f['papers_found']} papers found, {f['papers_included']} included, "
        f"{f['claims_kept']} claims kept, {f['claims_consolidated']} consolidated ({f['claims_marked']} marked †)"
        + ("" if rv.has_records else "; counts reported (records not public)")
    )


@review_app.command("table3")
def table3_cmd(
    folder: FolderArg,
    fmt: Annotated[str, typer.Option("--format", help="md, tex or html.")] = "md",
) -> None:
    """Print Table 3 (consolidated claims: theme, claim, basis, works, †) as Markdown, LaTeX or HTML."""
    from ..review.outputs import table3_html, table3_latex, table3_markdown

    render = {"md": table3_markdown, "tex": table3_latex, "html": table3_html}.get(fmt)
    if render is None:
        raise PtmscopeError(f"--format must be md, tex or html; got {fmt!r}")
    rv = _open(folder)
    rv.raise_if_problems()
    import sys

    sys.stdout.write(render(rv))


@review_app.command("build")
def build_cmd(
    folder: FolderArg,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the outputs (created).")],
) -> None:
    """Build the flow figure (SVG, PNG), Table 3 (md, tex, html) and the claims catalogue (catalogue.toml)."""
    from ..review import build_outputs, write_outputs

    rv = _open(folder)
    if rv.problems:
        for p in rv.problems:
            console.print(
                f"error: {folder / p.file}{f':{p.line}' if p.line else ''}: {p.message}",
                highlight=False,
                markup=False,
                soft_wrap=True,
            )
        raise typer.Exit(1)
    files = build_outputs(rv)  # everything rendered before anything is written
    for p in write_outputs(files, out_dir):
        _line(str(p))
