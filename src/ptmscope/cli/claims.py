"""``ptmscope claims``: the claims catalogue, the metrics that test each claim
and, given a report's results.json, their verdicts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import InputError
from ._apps import JsonOpt, app, out
from ._output import FormatOpt, OutputFormat, emit, resolve_format


def _read_results(results: Path) -> tuple[dict[str, list[dict[str, Any]]], dict[str, str]]:
    verdicts: dict[str, list[dict[str, Any]]] = {}
    overall: dict[str, str] = {}
    try:
        data = json.loads(results.read_text(encoding="utf-8"))
        for c in data["claims"]:
            verdicts[c["id"]] = c.get("verdicts", [])
            overall[c["id"]] = c.get("overall")
    except FileNotFoundError:
        raise InputError(results, "no such file") from None
    except IsADirectoryError:
        raise InputError(results, "is a folder, not a file") from None
    except UnicodeDecodeError:
        raise InputError(results, "not UTF-8 text") from None
    except OSError as exc:
        raise InputError(results, f"cannot read: {exc.strerror or exc}") from None
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise InputError(results, f"not a ptmscope results.json: {exc}") from None
    return verdicts, overall


@app.command("claims")
def claims_cmd(
    results: Annotated[
        Path | None,
        typer.Option("--results", help="A report's results.json: show the verdicts it holds."),
    ] = None,
    catalogue: Annotated[
        list[Path] | None,
        typer.Option(
            "--catalogue",
            help='A catalogue file: kind "review" replaces the built-in review, kind "user" adds your own claims. '
            "Repeatable.",
        ),
    ] = None,
    rules: Annotated[Path | None, typer.Option("--rules", help="Verdict rules TOML (default: built-in).")] = None,
    fmt: FormatOpt = OutputFormat.table,
    as_json: JsonOpt = False,
) -> None:
    """List the paper's Table 3 claims and Table 4 hypotheses, ptmscope's extensions, the metrics and verdicts."""
    from ..claims import load_catalogue, load_rules

    cat = load_catalogue(catalogue or ())
    rule_list = load_rules(rules, catalogue=cat)
    verdicts, overall = _read_results(results) if results is not None else ({}, {})
    fmt = resolve_format(fmt, as_json)
    d = cat.to_dict()
    d["rules"] = [r.to_dict() for r in rule_list]
    for c in d["claims"]:
        c["rules"] = [r.id for r in rule_list if r.claim == c["id"]]
        if results is not None:
            c["verdicts"] = verdicts.get(c["id"], [])
            c["overall"] = overall.get(c["id"])
    last_col = "verdict" if results else "rules"

    def row(c: Any) -> list[str]:
        last = overall.get(c.id) or "–" if results else ", ".join(r.id for r in rule_list if r.claim == c.id) or "–"
        return [
            c.id,
            c.theme,
            (f"† ({c.dagger}) " if c.dagger is not None else "") + c.text,
            ", ".join(c.basis) or "–",
            ", ".join(c.works) or "–",
            ", ".join(c.metrics) or "not measurable",
            str(last),
        ]

    header = ["id", "theme", "claim", "basis", "works", "metrics", last_col]
    if fmt is not OutputFormat.table:
        # csv/tsv: one row per claim (the paper's, extensions, yours: column "origin"); all of it in json
        emit(fmt, ["origin", *header], [[c.origin, *row(c)] for c in cat.claims], json_doc=d)
        return
    f = cat.review_flow
    out.print(
        f"{cat.review.source.label}. Review flow: {f['papers_found']} papers -> {f['papers_after_dedup']} -> "
        f"{f['papers_included']} included; {f['claims_discussed']} claims -> {f['claims_kept']} kept "
        f"({f['claims_motivation']} motivation, {f['claims_work']} work) -> {f['claims_consolidated']} consolidated, "
        f"{f['claims_marked']} marked †",
        highlight=False,
        markup=False,
    )
    sections = [
        ("paper", f"Table 3 ({cat.review.source.label})"),
        ("extension", "ptmscope extensions (not in the paper)"),
        ("user", "Your catalogue"),
    ]
    for origin, title in sections:
        claims = [c for c in cat.claims if c.origin == origin]
        if claims:
            emit(fmt, header, [row(c) for c in claims], title=title, no_wrap=["id"])
    emit(
        fmt,
        ["id", "claim", "metric", "hypothesis"],
        [[x.id, x.claim, x.metric_text or ", ".join(x.metrics), x.hypothesis] for x in cat.hypotheses],
        title="Hypotheses (Table 4) and tests",
        no_wrap=["id", "claim"],
    )
