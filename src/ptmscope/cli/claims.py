"""``ptmscope claims``: the claims catalogue, the metrics that test each claim
and, given a report's results.json, their verdicts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ..errors import InputError
from ._apps import JsonOpt, app, out, print_json


@app.command("claims")
def claims_cmd(
    results: Annotated[
        Path | None,
        typer.Option("--results", help="A report's results.json: show the verdicts it holds."),
    ] = None,
    catalogue: Annotated[
        Path | None, typer.Option("--catalogue", help="Use this claims TOML instead of the built-in one.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """List the paper's 12 claims and 4 hypotheses, the metrics that test them, and verdicts when known."""
    from rich.markup import escape
    from rich.table import Table

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
    if as_json:
        d = cat.to_dict()
        d["rules"] = [r.to_dict() for r in rules]
        for c in d["claims"]:
            c["rules"] = [r.id for r in rules if r.claim == c["id"]]
            if results is not None:
                c["verdicts"] = verdicts.get(c["id"], [])
                c["overall"] = overall.get(c["id"])
        print_json(d)
        return
    f = cat.review_flow
    out.print(
        f"Review flow: {f['papers_found']} papers -> {f['papers_after_dedup']} -> {f['papers_included']} included; "
        f"{f['claims_discussed']} claims -> {f['claims_kept']} kept ({f['claims_kept_motivation']} motivation, "
        f"{f['claims_kept_work']} work) -> {f['claims_consolidated']} consolidated",
        highlight=False,
    )
    t = Table(show_lines=False)
    for col in ("id", "theme", "claim", "wording", "lacked q. support", "metrics", "verdict" if results else "rules"):
        t.add_column(col, overflow="fold")
    for c in cat.claims:
        last = overall.get(c.id) or "–" if results else ", ".join(r.id for r in rules if r.claim == c.id) or "–"
        t.add_row(
            escape(c.id),
            escape(c.theme),
            escape(c.text),
            escape(f"{c.wording}/{c.content}"),
            "yes" if c.lacked_quantitative_support else "no",
            escape(", ".join(c.metrics) or "not measurable"),
            escape(str(last)),
        )
    out.print(t)
    h = Table(title="Hypotheses (Table 4)")
    for col in ("id", "claim", "metric", "hypothesis"):
        h.add_column(col, overflow="fold")
    for x in cat.hypotheses:
        h.add_row(escape(x.id), escape(x.claim), escape(x.metric_name), escape(x.hypothesis))
    out.print(h)
