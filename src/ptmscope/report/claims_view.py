"""The report's claims overview: the review's Table 3 row for row plus a verdict column,
its Table 4 with the verdict of each hypothesis, the review flow and the source's
inconsistencies, then ptmscope's extensions and the user's own claims, each apart.

Every text from the catalogue is data: HTML-escaped (:func:`html.escape`) or
Markdown-escaped before it is written.
"""

from __future__ import annotations

import html
import re
from typing import Any

VERDICT_CLASS = {"supported": "ok", "not supported": "no", "inconclusive": "unk"}
_MD_SPECIAL = re.compile(r"([\\`*_\[\]{}()#+!|])")


def esc(v: Any) -> str:
    return html.escape("" if v is None else str(v), quote=True)


def md(v: Any) -> str:
    s = html.escape("" if v is None else str(v), quote=False)
    s = " ".join(s.replace("\r", " ").replace("\n", " ").split())
    return _MD_SPECIAL.sub(r"\\\1", s)


def badge(label: str | None) -> str:
    label = label or "not measured"
    return f'<span class="badge {VERDICT_CLASS.get(label, "unk")}">{esc(label)}</span>'


def works_text(works: list[Any]) -> str:
    ids = [str(w.get("id")) if isinstance(w, dict) else str(w) for w in works]
    return "[" + ", ".join(ids) + "]" if ids else "–"


def work_title(w: Any) -> str:
    if not isinstance(w, dict):
        return str(w)
    authors = w.get("authors") or []
    who = (
        authors[0].split()[-1]
        + (" et al." if len(authors) > 2 else f" and {authors[1].split()[-1]}" if len(authors) == 2 else "")
        if authors
        else ""
    )
    parts = [f"[{w.get('id')}]", who, f"({w['year']})" if w.get("year") else "", w.get("title", "")]
    tail = f"doi:{w['doi']}" if w.get("doi") else (f"arXiv:{w['arxiv']}" if w.get("arxiv") else "")
    return " ".join(p for p in [*parts, tail] if p)


def dagger_text(c: dict[str, Any]) -> str:
    return f"† ({c['dagger']})" if c.get("dagger") is not None else ""


def claim_verdict(c: dict[str, Any]) -> str:
    return str(c.get("overall") or ("not measurable" if not c.get("metrics") else "not measured"))


def _hyp_verdicts(results: dict[str, Any]) -> dict[str, list[str]]:
    rule_hyp = {r["id"]: r.get("hypothesis") for r in results.get("rules", [])}
    out: dict[str, list[str]] = {}
    for c in results["claims"]:
        for v in c.get("verdicts", []):
            h = rule_hyp.get(v["rule"])
            if h:
                out.setdefault(h, []).append(v["verdict"])
    return out


def _hyp_verdict(labels: list[str]) -> str:
    if not labels:
        return "not measured"
    return labels[0] if len(set(labels)) == 1 else "inconclusive"


def _origin(results: dict[str, Any], origin: str) -> list[dict[str, Any]]:
    return [c for c in results["claims"] if c.get("origin") == origin]


def _source_label(results: dict[str, Any], sid: str) -> str:
    return str((results.get("sources") or {}).get(sid, {}).get("label", sid))


def flow_sentence(f: dict[str, Any]) -> str:
    return (
        f"{f['papers_found']} papers found → {f['papers_after_dedup']} after de-duplication → "
        f"{f['papers_included']} included; {f['claims_discussed']} claims discussed → {f['claims_kept']} kept "
        f"({f['claims_motivation']} motivation, {f['claims_work']} work) → {f['claims_consolidated']} consolidated, "
        f"{f['claims_marked']} of them marked † (no large-scale quantification)."
    )


# ---------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------


def _table(header: list[str], rows: list[list[str]]) -> str:
    """Rows are already-escaped HTML cells."""
    h = "".join(f"<th>{esc(x)}</th>" for x in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{h}</tr></thead><tbody>{body}</tbody></table>"


def overview_html(results: dict[str, Any]) -> str:
    P: list[str] = []
    a = P.append
    paper = results.get("paper") or {}
    a('<h2 id="overview">Claims overview</h2>')
    a(
        f'<p class="note">Table 3 of <em>{esc(paper.get("title"))}</em> ({esc(paper.get("label"))}), row for row '
        "and word for word, with ptmscope's verdict on the data. †: the claim basis is not a large-scale "
        "quantification; the number is the claim's Table 4 label (C1–C4).</p>"
    )
    rows = []
    last = None
    for c in _origin(results, "paper"):
        theme = c["theme"] if c["theme"] != last else ""
        last = c["theme"]
        text = esc(c["text"])
        if c.get("dagger") is not None:
            text = f"{esc(dagger_text(c))} <i>{text}</i>"
        works = esc(works_text(c.get("works", [])))
        titles = "; ".join(work_title(w) for w in c.get("works", []))
        verdict = badge(claim_verdict(c)) if c.get("metrics") else esc("not measurable here")
        rows.append(
            [
                esc(theme),
                f'<a href="#claim-{esc(c["id"])}">{esc(c["id"])}</a>',
                text,
                esc(", ".join(c.get("basis", []))),
                f'<span title="{esc(titles)}">{works}</span>',
                verdict,
            ]
        )
    a(_table(["Themes", "id", "Claims", "Claim Basis", "Works", "verdict"], rows))
    f = results.get("review_flow") or {}
    if f:
        a('<h3 id="review">Review flow</h3>')
        a(f"<p>{esc(flow_sentence(f))}</p>")
        if f.get("note"):
            a(f'<p class="note">{esc(f["note"])}</p>')
    hv = _hyp_verdicts(results)
    t4 = {t["id"]: t for t in results.get("table4", [])}
    paper_h = [h for h in results.get("hypotheses", []) if h.get("origin") == "paper"]
    if paper_h:
        a('<h3 id="hypotheses">Table 4: claims, metrics and hypothesised results</h3>')
        rows = []
        for h in paper_h:
            t = t4.get(h.get("table4") or "", {})
            rows.append(
                [
                    esc(f"{h.get('table4')}: {t.get('text', '')}"),
                    esc(h["id"]),
                    esc(h.get("metric_text")),
                    esc(h["hypothesis"]),
                    esc(", ".join(h.get("metrics", [])) or "–"),
                    esc("yes" if h.get("paper_measured") else "no"),
                    badge(_hyp_verdict(hv.get(h["id"], []))),
                ]
            )
        a(
            _table(
                [
                    "Qualitative Claim",
                    "id",
                    "Metric",
                    "Hypothesized Result",
                    "ptmscope metric",
                    "measured in the paper",
                    "verdict",
                ],
                rows,
            )
        )
    inc = results.get("inconsistencies") or []
    if inc:
        a('<h3 id="inconsistencies">Where the paper contradicts itself (recorded, not resolved)</h3><ul>')
        for i in inc:
            quotes = "; ".join(f"{s['where']}: “{s['quote']}”" for s in i.get("statements", []))
            a(f"<li><strong>{esc(i['topic'])}.</strong> {esc(quotes)} <em>{esc(i.get('catalogue'))}</em></li>")
        a("</ul>")
    ext_c = _origin(results, "extension")
    ext_h = [h for h in results.get("hypotheses", []) if h.get("origin") == "extension"]
    if ext_c or ext_h:
        a('<h2 id="extensions">ptmscope extensions (not in the paper)</h2>')
        a(
            '<p class="note">ptmscope\'s own tests of paper claims the paper did not quantify, and claims that are '
            "not in the paper at all. Neither is the paper's; they are listed apart and not numbered like it.</p>"
        )
        if ext_h:
            claims = {c["id"]: c for c in results["claims"]}
            a(
                _table(
                    ["test", "of claim", "hypothesis (ptmscope's)", "metric", "verdict"],
                    [
                        [
                            esc(h["id"]),
                            esc(f"{h['claim']}: {claims.get(h['claim'], {}).get('text', '')}"),
                            esc(h["hypothesis"]),
                            esc(", ".join(h.get("metrics", []))),
                            badge(_hyp_verdict(hv.get(h["id"], []))),
                        ]
                        for h in ext_h
                    ],
                )
            )
        if ext_c:
            a(_claims_table_html(results, ext_c))
    user = _origin(results, "user")
    if user:
        a('<h2 id="user-claims">Claims of your own catalogue</h2>')
        a('<p class="note">Added by a user catalogue; not part of the paper\'s review or its counts.</p>')
        a(_claims_table_html(results, user))
    return "\n".join(P)


def _claims_table_html(results: dict[str, Any], claims: list[dict[str, Any]]) -> str:
    return _table(
        ["id", "source", "theme", "claim", "metrics", "verdict"],
        [
            [
                f'<a href="#claim-{esc(c["id"])}">{esc(c["id"])}</a>',
                esc(_source_label(results, c.get("source", ""))),
                esc(c["theme"]),
                esc(c["text"]),
                esc(", ".join(c.get("metrics", [])) or "–"),
                badge(claim_verdict(c)) if c.get("metrics") else esc("not measurable here"),
            ]
            for c in claims
        ],
    )


def claim_heading_html(c: dict[str, Any], results: dict[str, Any]) -> str:
    """Heading and provenance line of one claim's section."""
    origin = c.get("origin", "paper")
    label = {"paper": "", "extension": " [ptmscope extension, not in the paper]", "user": " [user catalogue]"}
    title = f"{c['id']} ({c['theme']}): {c['text']}{label.get(origin, '')}"
    head = f'<h3 id="claim-{esc(c["id"])}">{esc(title)}</h3>'
    if origin == "paper":
        works = "; ".join(work_title(w) for w in c.get("works", [])) or "–"
        note = (
            f'<p class="note">Source: {esc(_source_label(results, c.get("source", "")))}, Table 3. Claim basis: '
            f"{esc(', '.join(c.get('basis', [])) or '–')}. {esc(dagger_text(c))} Works: {esc(works)}.</p>"
        )
    else:
        note = f'<p class="note">Source: {esc(_source_label(results, c.get("source", "")))}.</p>'
    if c.get("note"):
        note += f'<p class="note">{esc(c["note"])}</p>'
    return head + note


def hypothesis_line_html(h: dict[str, Any]) -> str:
    metric = h.get("metric_text") or ", ".join(h.get("metrics", []))
    return f"<p>Hypothesis {esc(h['id'])} ({esc(metric)}): {esc(h['hypothesis'])}</p>"


# ---------------------------------------------------------------------------
# Markdown
# ---------------------------------------------------------------------------


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(md(h) for h in header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return [*out, ""]


def overview_md(results: dict[str, Any]) -> list[str]:
    L: list[str] = ["## Claims overview", ""]
    L.append(
        "Table 3 of the paper, row for row and word for word, with ptmscope's verdict. †: the claim basis is not a "
        "large-scale quantification; the number is the claim's Table 4 label."
    )
    L.append("")
    rows = []
    last = None
    for c in _origin(results, "paper"):
        theme = c["theme"] if c["theme"] != last else ""
        last = c["theme"]
        text = md(c["text"])
        if c.get("dagger") is not None:
            text = f"{md(dagger_text(c))} *{text}*"
        rows.append(
            [
                md(theme),
                md(c["id"]),
                text,
                md(", ".join(c.get("basis", []))),
                md(works_text(c.get("works", []))),
                md(claim_verdict(c) if c.get("metrics") else "not measurable here"),
            ]
        )
    L += _md_table(["Themes", "id", "Claims", "Claim Basis", "Works", "verdict"], rows)
    f = results.get("review_flow") or {}
    if f:
        L += ["### Review flow", "", md(flow_sentence(f)), ""]
        if f.get("note"):
            L += [md(f["note"]), ""]
    hv = _hyp_verdicts(results)
    t4 = {t["id"]: t for t in results.get("table4", [])}
    paper_h = [h for h in results.get("hypotheses", []) if h.get("origin") == "paper"]
    if paper_h:
        L += ["### Table 4: claims, metrics and hypothesised results", ""]
        L += _md_table(
            ["Qualitative Claim", "id", "Metric", "Hypothesized Result", "ptmscope metric", "verdict"],
            [
                [
                    md(f"{h.get('table4')}: {t4.get(h.get('table4') or '', {}).get('text', '')}"),
                    md(h["id"]),
                    md(h.get("metric_text")),
                    md(h["hypothesis"]),
                    md(", ".join(h.get("metrics", []))),
                    md(_hyp_verdict(hv.get(h["id"], []))),
                ]
                for h in paper_h
            ],
        )
    if results.get("inconsistencies"):
        L += ["### Where the paper contradicts itself (recorded, not resolved)", ""]
    for i in results.get("inconsistencies") or []:
        quotes = "; ".join(f"{s['where']}: “{s['quote']}”" for s in i.get("statements", []))
        L.append(f"- **{md(i['topic'])}.** {md(quotes)} *{md(i.get('catalogue'))}*")
    if results.get("inconsistencies"):
        L.append("")
    ext_c = _origin(results, "extension")
    ext_h = [h for h in results.get("hypotheses", []) if h.get("origin") == "extension"]
    if ext_c or ext_h:
        L += ["## ptmscope extensions (not in the paper)", ""]
        if ext_h:
            L += _md_table(
                ["test", "of claim", "hypothesis (ptmscope's)", "metric", "verdict"],
                [
                    [
                        md(h["id"]),
                        md(h["claim"]),
                        md(h["hypothesis"]),
                        md(", ".join(h.get("metrics", []))),
                        md(_hyp_verdict(hv.get(h["id"], []))),
                    ]
                    for h in ext_h
                ],
            )
        if ext_c:
            L += _claims_table_md(results, ext_c)
    user = _origin(results, "user")
    if user:
        L += ["## Claims of your own catalogue", ""]
        L += _claims_table_md(results, user)
    return L


def _claims_table_md(results: dict[str, Any], claims: list[dict[str, Any]]) -> list[str]:
    return _md_table(
        ["id", "source", "theme", "claim", "metrics", "verdict"],
        [
            [
                md(c["id"]),
                md(_source_label(results, c.get("source", ""))),
                md(c["theme"]),
                md(c["text"]),
                md(", ".join(c.get("metrics", [])) or "–"),
                md(claim_verdict(c) if c.get("metrics") else "not measurable here"),
            ]
            for c in claims
        ],
    )


def claim_heading_md(c: dict[str, Any], results: dict[str, Any]) -> list[str]:
    origin = c.get("origin", "paper")
    label = {"paper": "", "extension": " [ptmscope extension, not in the paper]", "user": " [user catalogue]"}
    L = [f"### {md(c['id'])} ({md(c['theme'])}): {md(c['text'])}{md(label.get(origin, ''))}", ""]
    if origin == "paper":
        works = "; ".join(work_title(w) for w in c.get("works", [])) or "–"
        L += [f"Claim basis: {md(', '.join(c.get('basis', [])))}. {md(dagger_text(c))} Works: {md(works)}.", ""]
    return L
