"""What a review folder produces: the claims catalogue, Table 3 (Markdown, LaTeX, HTML),
the review flow figure (SVG, PNG) and the de-duplication and agreement listings."""

from __future__ import annotations

import contextlib
import csv
import html
import io
import json
from pathlib import Path
from typing import Any

from ..claims.catalogue import SCHEMA_VERSION, parse_review
from ..errors import InputError
from .folder import Review, references_of

GENERATED_BY = "ptmscope review build"


def _drop_none(d: Any) -> Any:
    if isinstance(d, dict):
        return {k: _drop_none(v) for k, v in d.items() if v is not None}
    if isinstance(d, list):
        return [_drop_none(v) for v in d]
    return d


def catalogue_data(rv: Review) -> dict[str, Any]:
    """The ``kind = "review"`` catalogue of a checked review folder."""
    r = rv.review
    assert r is not None and rv.consolidated is not None
    v = rv.validation
    measures = {m.claim: m for m in v.measures} if v else {}
    claims = []
    for view in rv.views:
        c = view.claim
        m = measures.get(c.id)
        claims.append(
            {
                "id": c.id,
                "theme": c.theme,
                "text": c.text,
                "basis": list(view.basis),
                "works": list(view.works),
                "dagger": view.dagger,
                "metrics": list(m.metrics) if m else [],
                "not_measurable": (m.not_measurable if m else None)
                or (None if m and m.metrics else "No metric is assigned to this claim in validation.toml."),
                "note": c.note or c.no_dagger_reason,
            }
        )
    flow: dict[str, Any] = dict(rv.flow())
    flow["records"] = "public" if rv.has_records else "not public"
    if r.records_note:
        flow["note"] = r.records_note
    data: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "kind": "review",
        "generated_by": GENERATED_BY,
        "themes": list(r.themes),
        "source": r.source.model_dump(),
        "review_flow": flow,
        "claims": claims,
        "table4": [t.model_dump() for t in v.table4] if v else [],
        "hypotheses": [h.model_dump() for h in v.hypotheses] if v else [],
        "table1": [t.model_dump() for t in v.table1] if v else [],
        "categories": [c.model_dump() for c in r.categories],
        "inconsistencies": [i.model_dump() for i in r.inconsistencies],
        "references": references_of(rv),
    }
    return _drop_none(data)


def catalogue_toml(rv: Review) -> str:
    """The catalogue as TOML text (validated by the catalogue loader before it is returned)."""
    import tomli_w

    data = catalogue_data(rv)
    r = rv.review
    assert r is not None
    head = [
        "# Claims catalogue built by `ptmscope review build` from a review folder; do not edit by hand:",
        "# change the review folder and build again.",
        f"# Review: {r.source.label}" + (" -- SYNTHETIC (made-up data for tests)" if r.synthetic else ""),
        "",
    ]
    text = "\n".join(head) + "\n" + tomli_w.dumps(data)
    import tomllib

    parse_review(tomllib.loads(text), Path("catalogue.toml"), text)
    return text


# ---------------------------------------------------------------------------
# Table 3
# ---------------------------------------------------------------------------


def _works(ws: list[str] | tuple[str, ...]) -> str:
    return "[" + ", ".join(ws) + "]"


def table3_rows(rv: Review) -> list[dict[str, Any]]:
    rows = []
    last = None
    for v in rv.views:
        rows.append(
            {
                "theme": v.claim.theme if v.claim.theme != last else "",
                "claim": v.claim.text,
                "dagger": v.dagger,
                "basis": ", ".join(v.basis),
                "works": _works(v.works),
                "unmarked": bool(v.lacks_large_scale and v.dagger is None),
            }
        )
        last = v.claim.theme
    return rows


def _md(s: str) -> str:
    from ..report.claims_view import md

    return md(s)


def _caption(rv: Review) -> str:
    r = rv.review
    assert r is not None
    share = f"{r.population_rule.large_scale_share:.0%}"
    return (
        f"Consolidated themes and claims of {r.source.label}. Small-scale measurements cover less than {share} of the "
        f"population, large-scale measurements {share} or more. †: the claim basis is not a large-scale quantification."
    )


def _notes(rv: Review) -> list[str]:
    return [
        f"{v.claim.id}: not marked † although its basis is not a large-scale quantification: {v.claim.no_dagger_reason}"
        for v in rv.views
        if v.lacks_large_scale and v.dagger is None
    ]


def table3_markdown(rv: Review) -> str:
    L = [f"Table 3: {_md(_caption(rv))}", "", "| Themes | Claims | Claim Basis | Works |", "|---|---|---|---|"]
    for row in table3_rows(rv):
        claim = _md(row["claim"])
        if row["dagger"] is not None:
            claim = f"† ({row['dagger']}) *{claim}*"
        L.append(f"| {_md(row['theme'])} | {claim} | {_md(row['basis'])} | {_md(row['works'])} |")
    notes = _notes(rv)
    if notes:
        L += ["", *(f"- {_md(n)}" for n in notes)]
    return "\n".join(L) + "\n"


_TEX = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "†": r"\dag{}",
}


def _tex(s: str) -> str:
    return "".join(_TEX.get(ch, ch) for ch in " ".join(s.split()))


def table3_latex(rv: Review) -> str:
    L = [
        "\\begin{table*}",
        f"\\caption{{{_tex(_caption(rv))}}}",
        "\\label{tab:claims}",
        "\\begin{tabular}{p{0.18\\linewidth}p{0.45\\linewidth}p{0.2\\linewidth}p{0.1\\linewidth}}",
        "\\toprule",
        "Themes & Claims & Claim Basis & Works \\\\",
        "\\midrule",
    ]
    for row in table3_rows(rv):
        claim = _tex(row["claim"])
        if row["dagger"] is not None:
            claim = f"\\dag{{}} ({row['dagger']}) \\textit{{{claim}}}"
        L.append(f"{_tex(row['theme'])} & {claim} & {_tex(row['basis'])} & {_tex(row['works'])} \\\\")
    L += ["\\bottomrule", "\\end{tabular}"]
    for n in _notes(rv):
        L.append(f"\\\\\\footnotesize {_tex(n)}")
    L.append("\\end{table*}")
    return "\n".join(L) + "\n"


def _h(s: Any) -> str:
    return html.escape(str(s), quote=True)


def table3_html(rv: Review) -> str:
    L = [
        "<table>",
        f"<caption>Table 3: {_h(_caption(rv))}</caption>",
        "<thead><tr><th>Themes</th><th>Claims</th><th>Claim Basis</th><th>Works</th></tr></thead>",
        "<tbody>",
    ]
    for row in table3_rows(rv):
        claim = _h(row["claim"])
        if row["dagger"] is not None:
            claim = f"† ({row['dagger']}) <i>{claim}</i>"
        L.append(
            f"<tr><td>{_h(row['theme'])}</td><td>{claim}</td><td>{_h(row['basis'])}</td><td>{_h(row['works'])}</td></tr>"
        )
    L.append("</tbody>")
    L.append("</table>")
    for n in _notes(rv):
        L.append(f"<p>{_h(n)}</p>")
    return "\n".join(L) + "\n"


# ---------------------------------------------------------------------------
# Figure 4: the review flow
# ---------------------------------------------------------------------------


def flow_steps(rv: Review) -> list[tuple[str, str]]:
    f = rv.flow()
    r = rv.review
    assert r is not None
    n_queries = len(r.queries)
    return [
        ("Identification", f"{f['papers_found']} papers found" + (f" by {n_queries} queries" if n_queries else "")),
        ("De-duplication", f"{f['papers_after_dedup']} unique papers"),
        ("Selection", f"{f['papers_included']} papers included"),
        ("Data extraction", f"{f['claims_discussed']} claims discussed → {f['claims_kept']} kept"),
        ("Categorisation", f"{f['claims_motivation']} motivation, {f['claims_work']} work claims"),
        ("Consolidation", f"{f['claims_consolidated']} consolidated claims, {f['claims_marked']} marked †"),
    ]


def flow_figure(rv: Review) -> Any:
    from ..figures._style import new_figure

    steps = flow_steps(rv)
    r = rv.review
    assert r is not None
    fig, ax = new_figure(width=4.6, height=0.75 * len(steps) + 0.9)
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.6, len(steps) - 0.2)
    ax.axis("off")
    for i, (stage, text) in enumerate(steps):
        y = len(steps) - 1 - i
        ax.text(
            0.5,
            y + 0.12,
            stage,
            ha="center",
            va="center",
            fontsize=9,
            fontweight="bold",
            bbox={"boxstyle": "round,pad=0.45", "fc": "#eef3f8", "ec": "#1f4e79", "lw": 0.8},
        )
        ax.text(0.5, y - 0.2, text, ha="center", va="center", fontsize=8)
        if i < len(steps) - 1:
            ax.annotate(
                "",
                xy=(0.5, y - 0.52),
                xytext=(0.5, y - 0.34),
                arrowprops={"arrowstyle": "-|>", "color": "#444", "lw": 0.8},
            )
    label = (
        "counts reported by the source (records not public)"
        if not rv.has_records
        else "counts computed from the records"
    )
    title = "Review flow" + (" — SYNTHETIC" if r.synthetic else "")
    ax.set_title(f"{title}\n{label}", fontsize=9)
    return fig


def figure_bytes(fig: Any) -> tuple[bytes, bytes]:
    """(SVG, PNG) bytes of a figure, reproducibly; closes it."""
    import matplotlib.pyplot as plt

    from ..figures._style import style

    out = []
    for fmt, meta in (("svg", {"Date": None, "Creator": "ptmscope"}), ("png", {"Software": "ptmscope"})):
        buf = io.BytesIO()
        with style():
            fig.savefig(buf, format=fmt, metadata=meta)
        out.append(buf.getvalue())
    plt.close(fig)
    return out[0], out[1]


# ---------------------------------------------------------------------------
# Listings
# ---------------------------------------------------------------------------


def papers_csv(rv: Review) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["paper", "title", "year", "doi", "records", "decision"])
    for p in rv.dedup.papers if rv.dedup else []:
        w.writerow(
            [p.id, p.title, p.year or "", p.doi or "", ";".join(r.rid for r in p.records), rv.final.get(p.id, "")]
        )
    return buf.getvalue()


def merges_csv(rv: Review) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["kept", "merged", "reason", "title_score", "merged"])
    if rv.dedup:
        for m in rv.dedup.merges:
            w.writerow([m.kept, m.merged, m.reason, "" if m.score is None else m.score, "yes"])
        for m in rv.dedup.possible:
            w.writerow([m.kept, m.merged, m.reason, "" if m.score is None else m.score, "no"])
    return buf.getvalue()


def build_outputs(rv: Review) -> dict[str, bytes]:
    """Every output file of a review (name -> bytes); raises on any problem of the folder."""
    rv.raise_if_problems()
    files: dict[str, bytes] = {}
    files["catalogue.toml"] = catalogue_toml(rv).encode("utf-8")
    files["table3.md"] = table3_markdown(rv).encode("utf-8")
    files["table3.tex"] = table3_latex(rv).encode("utf-8")
    files["table3.html"] = table3_html(rv).encode("utf-8")
    svg, png = figure_bytes(flow_figure(rv))
    files["flow.svg"], files["flow.png"] = svg, png
    files["flow.json"] = (json.dumps(rv.flow(), indent=2) + "\n").encode("utf-8")
    if rv.has_records:
        from .screening import agreement

        files["papers.csv"] = papers_csv(rv).encode("utf-8")
        files["merges.csv"] = merges_csv(rv).encode("utf-8")
        with contextlib.suppress(InputError):  # fewer than two reviewers: the flow does not need kappa
            files["agreement.json"] = (json.dumps(agreement(rv), indent=2, sort_keys=True) + "\n").encode("utf-8")
    return files


def write_outputs(files: dict[str, bytes], out: str | Path) -> list[Path]:
    """Write the built files into ``out`` (created); all were rendered before the first is written."""
    from ..pipeline import ensure_writable_dir

    d = ensure_writable_dir(out)
    written = []
    for name, data in files.items():
        p = d / name
        tmp = p.with_name(p.name + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(p)
        written.append(p)
    return written
