"""Build the report from an :class:`~ptmscope.pipeline.Analysis`.

Everything that comes from data (ids, names, notes, card text, reasons) is
escaped with :func:`html.escape` before it reaches the HTML, and with
:func:`md_escape` (backslash escapes, no HTML entities) before it reaches the
Markdown.  Figures are matplotlib
SVGs whose text is drawn as glyph paths, so no data text is ever markup in
them.  The HTML carries a Content-Security-Policy that allows no scripts, no
network, nothing but inline styles and data: images.
"""

from __future__ import annotations

import html
import json
import math
import re
from pathlib import Path
from typing import Any

from .. import __version__
from . import claims_view

CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src 'none'; "
    "script-src 'none'; connect-src 'none'; object-src 'none'; base-uri 'none'; form-action 'none'"
)

VERDICT_CLASS = {"supported": "ok", "not supported": "no", "inconclusive": "unk"}

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;\
color:#1b1b1b;line-height:1.45}
h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}h3{margin-top:1.4em}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em}\
th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;padding:.05em .5em;border-radius:.6em;font-size:.85em;font-weight:600;white-space:nowrap}
.ok{background:#d7f0dc;color:#145a26}.no{background:#f8d7da;color:#7a1620}.unk{background:#eee;color:#444}
.synthetic{background:#fff3cd;border:2px solid #d39e00;padding:.6em 1em;font-weight:600}
.note{color:#555;font-size:.9em}figure{margin:1em 0}figure svg{max-width:100%;height:auto}
code{background:#f5f5f5;padding:0 .2em}footer{margin-top:3em;border-top:1px solid #ccc;font-size:.85em;color:#444}
"""


def esc(v: Any) -> str:
    return html.escape("" if v is None else str(v), quote=True)


_MD_SPECIAL = re.compile(r"([\\`*_\[\]{}()#+!|<>&~])")


def md_escape(v: Any) -> str:
    """One line with every character Markdown or inline HTML acts on backslash-escaped: no tag, no entity, no markup."""
    s = ("" if v is None else str(v)).replace("\r", " ").replace("\n", " ")
    return _MD_SPECIAL.sub(r"\\\1", s)


def fmt(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        if v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e6):
            return f"{v:.3g}"
        return f"{v:.3f}"
    if isinstance(v, (list, tuple)) and len(v) == 2 and all(isinstance(x, (int, float)) or x is None for x in v):
        return f"[{fmt(v[0])}, {fmt(v[1])}]"
    return str(v)


_P_LABEL = re.compile(r"(^|[\s._(])p($|[\s_)])")


def is_p_label(label: str) -> bool:
    """'p', 'Welch p (Holm)', 'summary.p_holm', 'dl_min_p_holm' ... name a p-value."""
    return bool(_P_LABEL.search(str(label)))


def fmt_p(v: Any) -> str:
    # a p-value that underflowed to 0.0 is smaller than the smallest double the test returns
    if isinstance(v, float) and v == 0.0:
        return "< 1e-300"
    return fmt(v)


# ---------------------------------------------------------------------------
# results.json
# ---------------------------------------------------------------------------


def _clean_json(o: Any) -> Any:
    """JSON-able with NaN/inf as null and numpy scalars as Python numbers."""
    if isinstance(o, dict):
        return {str(k): _clean_json(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_clean_json(v) for v in o]
    if hasattr(o, "item") and not isinstance(o, (str, bytes)):
        try:
            o = o.item()
        except (ValueError, TypeError):
            o = o.tolist() if hasattr(o, "tolist") else str(o)
    if isinstance(o, float) and not math.isfinite(o):
        return None
    if hasattr(o, "isoformat"):
        return o.isoformat()
    return o


def overall_verdict(labels: list[str]) -> str:
    if not labels:
        return "not measured"
    if all(x == labels[0] for x in labels):
        return labels[0]
    if "supported" in labels and "not supported" in labels:
        return "inconclusive"  # the claim's metrics disagree
    decided = [x for x in labels if x != "inconclusive"]
    return decided[0] if len(set(decided)) == 1 and len(decided) == len(labels) else "inconclusive"


def _metric_titles(cat: Any) -> dict[str, str]:
    """A metric's name in captions: the catalogue's (the paper's wording) where it has one, else the metric's title."""
    from ..metrics import registry

    out = {n: m.title for n, m in registry.metrics().items()}
    out.update({k: v["name"] for k, v in getattr(cat, "metrics", {}).items() if isinstance(v, dict) and "name" in v})
    return dict(sorted(out.items()))


def build_results(analysis: Any) -> dict[str, Any]:
    cat = analysis.catalogue
    by_claim: dict[str, list[dict[str, Any]]] = {}
    for v in analysis.verdicts:
        by_claim.setdefault(v.claim, []).append(v.to_dict())
    claims = []
    for c in cat.claims:
        vs = by_claim.get(c.id, [])
        claims.append(
            {
                **c.to_dict(cat.references),
                "verdicts": vs,
                "overall": overall_verdict([v["verdict"] for v in vs]) if c.metrics else "not measurable",
            }
        )
    cd = cat.to_dict()
    res = {
        "ptmscope_version": __version__,
        "synthetic": analysis.synthetic,
        "paper": cat.paper,
        "sources": cd["sources"],
        "review_flow": cat.review_flow,
        "claims": claims,
        "table4": cd["table4"],
        "inconsistencies": cd["inconsistencies"],
        "hypotheses": [h.to_dict() for h in cat.hypotheses],
        "rules": [r.to_dict() for r in analysis.rules],
        "metric_names": _metric_titles(cat),
        "metrics": {k: o.to_dict() for k, o in sorted(analysis.outcomes.items())},
        "snapshots": analysis.snapshots,
        "inputs": analysis.inputs,
    }
    return _clean_json(res)


# ---------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------


def _figures_for(label: str, outcome: Any) -> list[tuple[str, Any]]:
    """(file stem, matplotlib figure) of one run's result, from its metric's declaration."""
    from ..metrics import registry

    m = registry.get(outcome.metric)
    if outcome.result is None or m.figure is None:
        return []
    params = m.parse_params(outcome.params or {})
    return [(label, m.figure(outcome.result, params))]


def render_figures(analysis: Any) -> dict[str, list[tuple[str, str]]]:
    """metric -> [(stem, svg text)]; a figure that fails to draw is skipped with a note."""
    from ..figures._style import to_svg_text

    out: dict[str, list[tuple[str, str]]] = {}
    for metric, o in sorted(analysis.outcomes.items()):
        if o.status != "ok":
            continue
        figs = []
        try:
            for stem, fig in _figures_for(metric, o):
                figs.append((stem, _strip_svg(to_svg_text(fig))))
        except Exception as exc:  # a broken figure must not lose the numbers
            o.data.setdefault("figure_error", f"{type(exc).__name__}: {exc}")
        out[metric] = figs
    return out


def _strip_svg(svg: str) -> str:
    # drop the metadata block (creator/date RDF) and any script, defensively
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.S)
    svg = re.sub(r"<script\b.*?</script>", "", svg, flags=re.S | re.I)
    return svg


# ---------------------------------------------------------------------------
# Key numbers, tables and caveats per metric: from the metric's declaration
# ---------------------------------------------------------------------------


def figure_caption(number: int, metric: str, results: dict[str, Any]) -> str:
    """'Figure N: <what the metric measures> (<the snapshot(s) it used>[: how many models])[. <the metric's note>]'."""
    data = results["metrics"][metric].get("result") or {}
    inputs = data.get("inputs") or {}
    sid = data.get("snapshot_id") or inputs.get("snapshot_id")
    sids = inputs.get("snapshot_ids") or []
    rests = [r for r in data.get("rests_on") or [] if isinstance(r, dict) and r.get("snapshot_id")]
    if rests:
        used = "; ".join(f"snapshot {r['snapshot_id']}: {fmt(r.get('n'))} {r.get('what', '')}".rstrip() for r in rests)
    elif sid:
        used = f"snapshot {sid}"
    elif sids:
        used = f"{len(sids)} hf snapshots, {sids[0]} to {sids[-1]}" if len(sids) > 1 else f"snapshot {sids[0]}"
    else:
        used = ""
    name = (results.get("metric_names") or {}).get(metric) or metric
    note = data.get("caption_note")
    return f"Figure {number}: {name}" + (f" ({used})" if used else "") + (f". {note}" if note else "")


def key_numbers(metric: str, data: dict[str, Any]) -> list[tuple[str, Any]]:
    from ..metrics import registry

    return registry.key_numbers((registry.get(metric), data))


def tables_for(metric: str, data: dict[str, Any]) -> list[tuple[str, list[str], list[list[Any]]]]:
    """Extra small tables (title, header, rows) with data text (escaped on output)."""
    from ..metrics import registry

    m = registry.get(metric)
    return [(t.title, list(t.header), t.rows) for t in (m.tables(data) if m.tables else [])]


def warnings_for(metric: str, data: dict[str, Any]) -> list[str]:
    from ..metrics import registry

    w = [f"caveat: {c}" for c in registry.get(metric).caveats]
    for x in data.get("warnings", []) or []:
        w.append(x.get("message", str(x)) if isinstance(x, dict) else str(x))
    for x in data.get("notes", []) or []:
        w.append(str(x))
    for x in data.get("runtime_warnings", []) or []:
        w.append("numerical warning while computing: " + str(x))
    if data.get("figure_error"):
        w.append("figure could not be drawn: " + str(data["figure_error"]))
    return w


# ---------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------


def _badge(label: str) -> str:
    return f'<span class="badge {VERDICT_CLASS.get(label, "unk")}">{esc(label)}</span>'


def _cell(v: Any, p_value: bool = False) -> str:
    cls = ' class="num"' if isinstance(v, (int, float)) and not isinstance(v, bool) else ""
    return f"<td{cls}>{esc(fmt_p(v) if p_value else fmt(v))}</td>"


def _p_flags(header: list[str], row: list[Any]) -> list[bool]:
    """Which cells hold p-values: by column header, or (label/value tables) by the row's label."""
    by_col = [is_p_label(h) for h in header]
    if len(row) == 2 and isinstance(row[0], str) and is_p_label(row[0]):
        return [False, True]
    return by_col


def _table(header: list[str], rows: list[list[Any]]) -> str:
    h = "".join(f"<th>{esc(x)}</th>" for x in header)
    body = "".join(
        "<tr>" + "".join(_cell(v, f) for v, f in zip(r, _p_flags(header, r), strict=False)) + "</tr>" for r in rows
    )
    return f"<table><thead><tr>{h}</tr></thead><tbody>{body}</tbody></table>"


def render_html(results: dict[str, Any], figures: dict[str, list[tuple[str, str]]]) -> str:
    P: list[str] = []
    a = P.append
    synthetic = results["synthetic"]
    title = "ptmscope report: claims about Hugging Face checked on the data"
    if synthetic:
        title = "SYNTHETIC DATA - " + title
    a("<!DOCTYPE html>")
    a('<html lang="en"><head><meta charset="utf-8">')
    a(f'<meta http-equiv="Content-Security-Policy" content="{esc(CSP)}">')
    a('<meta name="referrer" content="no-referrer">')
    a('<meta name="viewport" content="width=device-width, initial-scale=1">')
    a(f"<title>{esc(title)}</title><style>{CSS}</style></head><body>")
    a(f"<h1>{esc(title)}</h1>")
    if synthetic:
        a(
            '<p class="synthetic">This report was computed on SYNTHETIC data generated by ptmscope '
            "(a seeded simulation). Its numbers and verdicts say nothing about the real Hugging Face Hub, "
            "npm or PyPI; they show what the pipeline produces.</p>"
        )
    paper = results["paper"]
    a(
        f"<p>Claims from <em>{esc(paper.get('title'))}</em> ({esc(', '.join(paper.get('authors', [])))}; "
        f"{esc(paper.get('venue'))}; arXiv:{esc(paper.get('arxiv'))}), each linked to a measurement on the "
        "snapshots in this store, with the rule that turns the numbers into a verdict.</p>"
    )
    a(
        '<nav><a href="#overview">Claims overview</a> · <a href="#review">Review flow</a> · '
        '<a href="#hypotheses">Hypotheses</a> · <a href="#claims">Claims</a> · <a href="#data">Data and coverage</a> · '
        '<a href="#repro">Reproducibility</a></nav>'
    )

    a(claims_view.overview_html(results))

    # per claim
    a('<h2 id="claims">Claims</h2>')
    metrics = results["metrics"]
    shown_fig: set[str] = set()
    n_fig = 0
    for c in results["claims"]:
        a(claims_view.claim_heading_html(c, results))
        if not c["metrics"]:
            a(f"<p><strong>Not measurable with registry snapshots.</strong> {esc(c.get('not_measurable'))}</p>")
            continue
        for h in results["hypotheses"]:
            if h["claim"] == c["id"]:
                a(claims_view.hypothesis_line_html(h))
        for v in c["verdicts"]:
            rule = next((r for r in results["rules"] if r["id"] == v["rule"]), None)
            a(f"<p>Rule <code>{esc(v['rule'])}</code>: {_badge(v['verdict'])} — {esc(v['reason'])}</p>")
            if rule:
                a(f'<p class="note">{esc(rule["description"])}</p>')
                a(
                    _table(
                        ["branch", "conditions"],
                        [
                            ["require", "; ".join(rule["require"]) or "–"],
                            ["supported", "; ".join(rule["supported"])],
                            ["not supported", "; ".join(rule["not_supported"])],
                        ],
                    )
                )
            if v["numbers"]:
                a(_table(["number used", "value"], [[k, val] for k, val in sorted(v["numbers"].items())]))
        for m in c["metrics"]:
            md = metrics.get(m, {})
            if md.get("status") != "ok":
                a(f"<p><strong>Metric {esc(m)} not measurable:</strong> {esc(md.get('reason', 'not run'))}</p>")
                continue
            data = md["result"]
            if m not in shown_fig:
                for stem, svg in figures.get(m, []):
                    n_fig += 1
                    a(
                        f'<figure id="fig-{esc(stem)}">{svg}'
                        f"<figcaption>{esc(figure_caption(n_fig, m, results))}</figcaption></figure>"
                    )
                shown_fig.add(m)
            kn = key_numbers(m, data)
            if kn:
                a(_table([f"{m}: statistic", "value"], [[k, v] for k, v in kn]))
            for title_, header, trows in tables_for(m, data):
                if trows:
                    a(f"<p><strong>{esc(title_)}</strong></p>")
                    a(_table(header, trows))
            for w in warnings_for(m, data):
                a(f'<p class="note">Note: {esc(w)}</p>')

    # further runs: a metric run again with other parameters (a study's variants)
    extra = [(label, md) for label, md in sorted(metrics.items()) if md.get("metric", label) != label]
    if extra:
        a('<h2 id="runs">Further runs</h2>')
        for label, md in extra:
            m = md["metric"]
            a(f'<h3 id="run-{esc(label)}">{esc(label)} ({esc(m)})</h3>')
            a(f'<p class="note">Parameters: {esc(json.dumps(md.get("params") or {}, sort_keys=True))}</p>')
            if md.get("status") != "ok":
                a(f"<p><strong>Not measurable:</strong> {esc(md.get('reason', 'not run'))}</p>")
                continue
            for stem, svg in figures.get(label, []):
                n_fig += 1
                cap = esc(f"Figure {n_fig}: {label}")
                a(f'<figure id="fig-{esc(stem)}">{svg}<figcaption>{cap}</figcaption></figure>')
            kn = key_numbers(m, md["result"])
            if kn:
                a(_table([f"{label}: statistic", "value"], [[k, v] for k, v in kn]))
            for title_, header, trows in tables_for(m, md["result"]):
                if trows:
                    a(f"<p><strong>{esc(title_)}</strong></p>")
                    a(_table(header, trows))

    # data and coverage
    a('<h2 id="data">Data and coverage</h2>')
    a(
        _table(
            ["snapshot", "registry", "date", "rows", "format", "file", "synthetic", "notes"],
            [
                [
                    s["snapshot_id"],
                    s["registry"],
                    s["taken_at"],
                    s["row_count"],
                    s["source_format"],
                    s["source_file"],
                    s["synthetic"],
                    s.get("notes") or "",
                ]
                for s in results["snapshots"]
            ],
        )
    )
    a("<p><strong>What could not be measured, and why</strong></p><ul>")
    for c in results["claims"]:
        if not c["metrics"]:
            a(f"<li>{esc(c['id'])}: {esc(c.get('not_measurable'))}</li>")
    for m, md in sorted(metrics.items()):
        if md.get("status") != "ok":
            a(f"<li>metric {esc(m)}: {esc(md.get('reason'))}</li>")
    a("</ul>")
    a(
        '<p class="note">Download counts are windows (usually 30 days) at each snapshot date, not lifetime use. '
        "Listings only contain models that existed when they were taken (deleted models are missing), which "
        "biases growth upwards. Each cross-sectional metric names the snapshot it used (chosen as the one with the "
        "most usable rows).</p>"
    )

    # reproducibility
    a('<footer id="repro"><h2>Reproducibility</h2>')
    a(
        f"<p>ptmscope {esc(results['ptmscope_version'])}. Catalogue {esc(results['inputs']['catalogue']['file'])} "
        f"sha256 <code>{esc(results['inputs']['catalogue']['sha256'])}</code>; rules "
        f"{esc(results['inputs']['rules']['file'])} sha256 <code>{esc(results['inputs']['rules']['sha256'])}</code>. "
        "Every number above is in results.json with its inputs.</p>"
    )
    a(
        _table(
            ["snapshot", "source sha256", "importer"],
            [[s["snapshot_id"], s["source_sha256"], s["importer_version"]] for s in results["snapshots"]],
        )
    )
    a("</footer></body></html>")
    return "\n".join(P) + "\n"


# ---------------------------------------------------------------------------
# Markdown
# ---------------------------------------------------------------------------


def _md_table(header: list[str], rows: list[list[Any]]) -> list[str]:
    out = ["| " + " | ".join(md_escape(h) for h in header) + " |", "|" + "---|" * len(header)]
    for r in rows:
        out.append(
            "| "
            + " | ".join(md_escape(fmt_p(v) if f else fmt(v)) for v, f in zip(r, _p_flags(header, r), strict=False))
            + " |"
        )
    return [*out, ""]


def render_md(results: dict[str, Any], figure_files: dict[str, list[str]]) -> str:
    L: list[str] = []
    a = L.append
    synthetic = results["synthetic"]
    a(("# SYNTHETIC DATA - " if synthetic else "# ") + "ptmscope report: claims about Hugging Face checked on the data")
    a("")
    if synthetic:
        a("> **SYNTHETIC DATA.** Computed on a seeded simulation; the numbers say nothing about the real registries.")
        a("")
    L.extend(claims_view.overview_md(results))
    a("## Claims")
    a("")
    shown: set[str] = set()
    n_fig = 0
    for c in results["claims"]:
        L.extend(claims_view.claim_heading_md(c, results))
        if not c["metrics"]:
            a(f"Not measurable with registry snapshots: {md_escape(c.get('not_measurable'))}")
            a("")
            continue
        for v in c["verdicts"]:
            a(f"- rule `{v['rule']}`: **{v['verdict']}** — {md_escape(v['reason'])}")
            for k, val in sorted(v["numbers"].items()):
                a(f"  - {md_escape(k)} = {md_escape(fmt_p(val) if is_p_label(k) else fmt(val))}")
        a("")
        for m in c["metrics"]:
            md = results["metrics"].get(m, {})
            if md.get("status") != "ok":
                a(f"Metric {md_escape(m)} not measurable: {md_escape(md.get('reason', 'not run'))}")
                a("")
                continue
            if m not in shown:
                for fn in figure_files.get(m, []):
                    n_fig += 1
                    a(f"![{md_escape(m)}]({fn})")
                    a("")
                    a(f"*{md_escape(figure_caption(n_fig, m, results))}*")
                    a("")
                shown.add(m)
            kn = key_numbers(m, md["result"])
            if kn:
                L.extend(_md_table([f"{m}: statistic", "value"], [[k, v] for k, v in kn]))
            for title_, header, trows in tables_for(m, md["result"]):
                if trows:
                    a(f"**{md_escape(title_)}**")
                    a("")
                    L.extend(_md_table(header, trows))
            notes = warnings_for(m, md["result"])
            for w in notes:
                a(f"- Note: {md_escape(w)}")
            if notes:
                a("")
    extra = [(label, md) for label, md in sorted(results["metrics"].items()) if md.get("metric", label) != label]
    if extra:
        a("## Further runs")
        a("")
        for label, md in extra:
            a(f"### {md_escape(label)} ({md_escape(md['metric'])})")
            a("")
            if md.get("status") != "ok":
                a(f"Not measurable: {md_escape(md.get('reason', 'not run'))}")
                a("")
                continue
            for fn in figure_files.get(label, []):
                a(f"![{md_escape(label)}]({fn})")
                a("")
            kn = key_numbers(md["metric"], md["result"])
            if kn:
                L.extend(_md_table([f"{label}: statistic", "value"], [[k, v] for k, v in kn]))
            for title_, header, trows in tables_for(md["metric"], md["result"]):
                if trows:
                    a(f"**{md_escape(title_)}**")
                    a("")
                    L.extend(_md_table(header, trows))
    a("## Data and coverage")
    a("")
    L.extend(
        _md_table(
            ["snapshot", "registry", "date", "rows", "format", "synthetic"],
            [
                [s["snapshot_id"], s["registry"], s["taken_at"], s["row_count"], s["source_format"], s["synthetic"]]
                for s in results["snapshots"]
            ],
        )
    )
    for m, md in sorted(results["metrics"].items()):
        if md.get("status") != "ok":
            a(f"- metric {md_escape(m)}: {md_escape(md.get('reason'))}")
    a("")
    a("## Reproducibility")
    a("")
    a(
        f"ptmscope {results['ptmscope_version']}; catalogue sha256 `{results['inputs']['catalogue']['sha256']}`; "
        f"rules sha256 `{results['inputs']['rules']['sha256']}`."
    )
    a("")
    L.extend(
        _md_table(["snapshot", "source sha256"], [[s["snapshot_id"], s["source_sha256"]] for s in results["snapshots"]])
    )
    return "\n".join(L)


# ---------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------


def write_report(analysis: Any, out_dir: str | Path, *, force: bool = False) -> Path:
    """Write index.html, report.md, results.json and figures/*.svg into ``out_dir``.

    Only files an earlier report wrote there are replaced or removed (see
    :mod:`ptmscope.report.output`); ``force`` lets the report replace files of
    the same names that it did not write.
    """
    from .output import check_report_dir

    out = Path(out_dir)
    folder = check_report_dir(out, force=force)
    figures = render_figures(analysis)
    results = build_results(analysis)  # after figures: a figure error is recorded in the data
    files: dict[str, list[str]] = {}
    payload: dict[str, bytes] = {}
    for metric, figs in figures.items():
        for stem, svg in figs:
            name = f"figures/{stem}.svg"
            payload[name] = ('<?xml version="1.0" encoding="utf-8" standalone="no"?>\n' + svg).encode("utf-8")
            files.setdefault(metric, []).append(name)
    payload["results.json"] = (
        json.dumps(results, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"
    ).encode("utf-8")
    payload["index.html"] = render_html(results, figures).encode("utf-8")
    payload["report.md"] = (render_md(results, files) + "\n").encode("utf-8")
    # a figure of an earlier report into this folder would sit next to numbers it does not match: the
    # folder's manifest says which files that report wrote, and only those are removed
    folder.write(payload)
    return out
