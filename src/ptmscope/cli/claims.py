"""``ptmscope claims``: the claims catalogue, the metrics that test each claim
and, given a report's results.json, their verdicts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ..errors import InputError
from ._apps import JsonOpt, app, out
from ._output import FormatOpt, OutputFormat, emit, resolve_format


@app.command("claims")
def claims_cmd(
    results: Annotated[
        Path | None,
        typer.Option("--results", help="A report's results.json: show the verdicts it holds."),
    ] = None,
    catalogue: Annotated[
        Path | None, typer.Option("--catalogue", help="Use this claims TOML instead of the built-in one.")
    ] = None,
    fmt: FormatOpt = OutputFormat.table,
    as_json: JsonOpt = False,
) -> None:
    """List the paper's 12 claims and 4 hypotheses, the metrics that test them, and verdicts when known."""
    from ..claims import load_catalogue, load_rules

    cat = load_catalogue(catalogue)
    rules = load_rules(claim_ids={c.id for c in cat.claims})
    verdicts: dict[str, list[dict]] = {}
    overall: dict[str, str] = {}
    if results is not None:
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
    fmt = resolve_format(fmt, as_json)
    d = cat.to_dict()
    d["rules"] = [r.to_dict() for r in rules]
    for c in d["claims"]:
        c["rules"] = [r.id for r in rules if r.claim == c["id"]]
        if results is not None:
            c["verdicts"] = verdicts.get(c["id"], [])
            c["overall"] = overall.get(c["id"])
    last = "verdict" if results else "rules"
    header = ["id", "theme", "claim", "wording", "lacked q. support", "metrics", last]
    rows = [
        [
            c.id,
            c.theme,
            c.text,
            f"{c.wording}/{c.content}",
            c.lacked_quantitative_support,
            ", ".join(c.metrics) or "not measurable",
            (overall.get(c.id) or "–") if results else ", ".join(r.id for r in rules if r.claim == c.id) or "–",
        ]
        for c in cat.claims
    ]
    if fmt is not OutputFormat.table:
        # csv/tsv: the claims (one row each); the hypotheses are in --format json
        emit(fmt, header, rows, json_doc=d)
        return
    f = cat.review_flow
    out.print(
        f"Review flow: {f['papers_found']} papers -> {f['papers_after_dedup']} -> {f['papers_included']} included; "
        f"{f['claims_discussed']} claims -> {f['claims_kept']} kept ({f['claims_kept_motivation']} motivation, "
        f"{f['claims_kept_work']} work) -> {f['claims_consolidated']} consolidated",
        highlight=False,
    )
    emit(fmt, header, rows, no_wrap=["id", "lacked q. support"])
    emit(
        fmt,
        ["id", "claim", "metric", "hypothesis"],
        [[x.id, x.claim, x.metric_name, x.hypothesis] for x in cat.hypotheses],
        title="Hypotheses (Table 4)",
        no_wrap=["id", "claim"],
    )
