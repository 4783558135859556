"""The report: self-contained, escaped, traceable, byte-reproducible."""

from __future__ import annotations

import html as htmlmod
import json
import re

from world import EVIL_ID

from ptmscope.claims.verdicts import _MISSING, lookup


def test_files_written(world_report):
    for name in ("index.html", "report.md", "results.json"):
        assert (world_report / name).stat().st_size > 1000
    assert list((world_report / "figures").glob("*.svg"))


def test_html_is_self_contained_and_locked_down(world_report):
    html = (world_report / "index.html").read_text(encoding="utf-8")
    assert '<meta http-equiv="Content-Security-Policy"' in html
    csp = htmlmod.unescape(re.search(r'Content-Security-Policy" content="([^"]+)"', html).group(1))
    assert "default-src 'none'" in csp and "script-src 'none'" in csp
    assert "<script" not in html.lower()
    # no external resource: every src/href is a fragment; http(s) only as XML namespaces
    for attr, val in re.findall(r'\b(src|href)="([^"]*)"', html):
        assert val.startswith(("#", "data:image/png;base64,")), (attr, val)  # raster parts of figures inline
    for url in re.findall(r"https?://[^\"'\s<>)]+", html):
        assert url.startswith(("http://www.w3.org/", "http://purl.org/", "http://creativecommons.org/")), url
    assert html.count("<svg") >= 5


def test_data_text_is_escaped(world_report):
    html = (world_report / "index.html").read_text(encoding="utf-8")
    md = (world_report / "report.md").read_text(encoding="utf-8")
    assert EVIL_ID not in html and EVIL_ID not in md
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "\\<img src=x onerror=alert\\(1\\)\\>" in md  # backslash escapes, not HTML entities
    assert "<img" not in md.replace("\\<img", "")
    assert "onerror=alert(1)>" not in html


def test_markdown_has_no_entities_and_renders_data_as_text(world_report):
    """report.md is Markdown, not HTML: no &gt; in the source, and a renderer that passes raw HTML shows the id."""
    from markdown_it import MarkdownIt

    md = (world_report / "report.md").read_text(encoding="utf-8")
    assert not re.search(r"&(gt|lt|amp|quot|#\d+);", md)
    rendered = MarkdownIt("commonmark", {"html": True}).enable("table").render(md)
    assert not re.search(r"<img src=x|<[^>]*onerror", rendered)  # the hostile id never becomes a tag
    assert htmlmod.escape(EVIL_ID, quote=False) in rendered  # ... it reads as written
    # the world has one Hub step: C2-turnover's unmet requirement reads as written, with its note
    text = htmlmod.unescape(re.sub(r"<[^>]+>", "", rendered))
    assert "requirement not met: summary.n_steps >= 2" in text
    assert "the Hub claim needs at least two comparable steps" in text


def test_figures_are_numbered_and_captioned(world_report):
    html = (world_report / "index.html").read_text(encoding="utf-8")
    caps = re.findall(r"<figcaption>(.*?)</figcaption>", html)
    assert len(caps) >= 5
    for i, cap in enumerate(caps, 1):
        assert cap.startswith(f"Figure {i}: ") and "()" not in cap, cap
    r = json.loads((world_report / "results.json").read_text())
    growth = next(c for c in caps if r["metric_names"]["growth"] in c)
    g = r["metrics"]["growth"]["result"]
    # the snapshot and how many models the figure rests on
    assert f"(snapshot {g['snapshot_id']}: {g['n_packages_with_created']:,} models with a creation date" in growth
    md = (world_report / "report.md").read_text(encoding="utf-8")
    assert md.count("*Figure ") == len(caps)


def test_overview_lists_the_papers_claims_then_extensions_apart(world_report):
    html = (world_report / "index.html").read_text(encoding="utf-8")
    r = json.loads((world_report / "results.json").read_text())
    paper = [c for c in r["claims"] if c["origin"] == "paper"]
    ext = [c for c in r["claims"] if c["origin"] == "extension"]
    assert len(paper) == 12 and ext
    overview = html[html.index('id="overview"') : html.index('id="extensions"')]
    ext_part = html[html.index('id="extensions"') : html.index('id="claims"')]
    for c in paper:
        assert htmlmod.escape(c["text"]) in overview
    for c in ext:
        assert htmlmod.escape(c["text"]) in ext_part and htmlmod.escape(c["text"]) not in overview


def test_synthetic_is_labelled(world_report):
    html = (world_report / "index.html").read_text(encoding="utf-8")
    assert "<title>SYNTHETIC DATA" in html
    assert (world_report / "report.md").read_text(encoding="utf-8").startswith("# SYNTHETIC DATA")
    assert json.loads((world_report / "results.json").read_text())["synthetic"] is True


def test_every_verdict_number_traces_to_a_metric_result(world_report):
    r = json.loads((world_report / "results.json").read_text())
    assert len([c for c in r["claims"] if c["origin"] == "paper"]) == 12
    n_checked = 0
    for c in r["claims"]:
        for v in c["verdicts"]:
            m = r["metrics"][v["metric"]]
            for path, value in v["numbers"].items():
                got = lookup(m["result"], path)
                assert got is not _MISSING
                assert got == value or (isinstance(got, float) and abs(got - value) < 1e-12)
                n_checked += 1
            rule = next(x for x in r["rules"] if x["id"] == v["rule"])
            assert v["conditions"]["supported"] == rule["supported"]
    assert n_checked >= 8
    # inputs are carried: snapshot ids of every cross-sectional metric are in the store's list
    ids = {s["snapshot_id"] for s in r["snapshots"]}
    for name in ("growth", "concentration", "naming", "attributes", "underdoc"):
        assert r["metrics"][name]["result"]["snapshot_id"] in ids
    assert all(len(s["source_sha256"]) == 64 for s in r["snapshots"])


def test_hand_checked_numbers(world_report):
    r = json.loads((world_report / "results.json").read_text())
    n = r["metrics"]["naming"]["result"]
    # world: every third model is "thing-<i>" (no architecture), the rest "<type>-model-<i>";
    # model 0 is the evil id (no architecture in it): i % 3 == 0 -> 100 of 300 do not name it
    assert n["n_with_model_type"] == 300 and n["n_naming_architecture"] == 200
    u = r["metrics"]["underdoc"]["result"]
    # 150 cards, alternating thin/full; thin cards miss limitations
    assert u["n_cards"] == 150 and u["n_missing_card"] == 150
    assert u["missing_share_cards"]["limitations"] == 0.5
    g = r["metrics"]["growth"]["result"]
    assert sum(g["counts"]) == 300


def test_byte_reproducible(world_store, world_report, tmp_path):
    from ptmscope.engine import connect
    from ptmscope.pipeline import analyse
    from ptmscope.report import write_report

    b = connect(world_store)
    a = analyse(b, params={"turnover": {"top": 50}, "descendants": {"n_boot": 100}, "preservation": {"n_boot": 100}})
    b.disconnect()
    again = write_report(a, tmp_path / "again")
    for f in sorted(p.relative_to(world_report) for p in world_report.rglob("*") if p.is_file()):
        assert (again / f).read_bytes() == (world_report / f).read_bytes(), f


def test_empty_store_is_one_clear_error(tmp_path, cli):
    from ptmscope.store import Store

    Store(tmp_path / "empty.duckdb").close()
    code, _out, err = cli("report", "--store", tmp_path / "empty.duckdb", "--out", tmp_path / "r")
    assert code == 1 and "no snapshots" in err and "Traceback" not in err
    assert not (tmp_path / "r" / "index.html").exists()


def test_store_without_enough_data_reports_what_cannot_be_measured(tmp_path):
    from ptmscope.engine import connect
    from ptmscope.pipeline import analyse
    from ptmscope.report import write_report
    from ptmscope.store import Store

    Store(tmp_path / "empty.duckdb").close()
    b = connect(tmp_path / "empty.duckdb")
    a = analyse(b)
    b.disconnect()
    write_report(a, tmp_path / "r")
    r = json.loads((tmp_path / "r" / "results.json").read_text())
    assert not list((tmp_path / "r" / "figures").glob("*.svg"))
    assert all(m["status"] == "not measurable" and m["reason"] for m in r["metrics"].values())
    assert {c["overall"] for c in r["claims"]} <= {"inconclusive", "not measurable"}
    html = (tmp_path / "r" / "index.html").read_text()
    assert "What could not be measured" in html


def test_stale_figures_of_an_earlier_report_are_removed(world_report, tmp_path):
    import shutil

    from ptmscope.engine import connect
    from ptmscope.pipeline import analyse
    from ptmscope.report import write_report
    from ptmscope.store import Store

    target = tmp_path / "r"
    shutil.copytree(world_report, target)
    (target / "figures" / "notes.txt").write_text("mine", encoding="utf-8")
    assert list((target / "figures").glob("*.svg"))
    Store(tmp_path / "empty.duckdb").close()
    b = connect(tmp_path / "empty.duckdb")
    a = analyse(b)
    b.disconnect()
    write_report(a, target)  # nothing measurable now: no figure may survive from the earlier report
    assert not list((target / "figures").glob("*.svg"))
    assert (target / "figures" / "notes.txt").read_text(encoding="utf-8") == "mine"  # not ours: kept


def test_report_cli_refuses_missing_store(tmp_path, cli):
    code, _out, err = cli("report", "--store", tmp_path / "nope.duckdb", "--out", tmp_path / "r")
    assert code == 1 and "no store here" in err
    assert not (tmp_path / "r").exists()


def test_claims_cli_reads_results(world_report, cli):
    code, out, err = cli("claims", "--json", "--results", world_report / "results.json")
    assert code == 0, err
    d = json.loads(out)
    r = json.loads((world_report / "results.json").read_text())
    want = {c["id"]: c["overall"] for c in r["claims"]}
    growth = next(c for c in d["claims"] if c["id"] == "T3.12")
    assert growth["overall"] == want["T3.12"] and growth["overall"] in ("supported", "not supported", "inconclusive")
    assert growth["verdicts"][0]["rule"] == "ext.growth"
    assert {c["id"]: c["overall"] for c in d["claims"] if c["metrics"]} == {
        k: v for k, v in want.items() if next(c for c in r["claims"] if c["id"] == k)["metrics"]
    }


def test_underflowed_p_values_are_not_printed_as_zero():
    from ptmscope.report.builder import _table, fmt_p, is_p_label

    assert fmt_p(0.0) == "< 1e-300" and fmt_p(0.0123) == "0.012" and fmt_p(2.5e-18) == "2.5e-18"
    assert is_p_label("Welch p (Holm)") and is_p_label("summary.p_holm") and not is_p_label("top1_share")
    html = _table(["term", "estimate", "p"], [["x", 0.0, 0.0]])
    assert '<td class="num">0.000</td>' in html and "&lt; 1e-300" in html  # estimate 0 stays 0
    html = _table(["statistic", "value"], [["Welch p (Holm)", 0.0], ["mean difference", 0.0]])
    assert html.count("&lt; 1e-300") == 1


def test_every_number_in_the_html_is_in_results_json(world_report):
    from ptmscope.report.builder import fmt, fmt_p

    r = json.loads((world_report / "results.json").read_text())
    shown: set[str] = set()

    def walk(o):
        if isinstance(o, dict):
            for v in o.values():
                walk(v)
        elif isinstance(o, list):
            if len(o) == 2 and all(isinstance(x, (int, float)) or x is None for x in o):
                shown.add(fmt(o))
            for v in o:
                walk(v)
        elif isinstance(o, (int, float)) and not isinstance(o, bool):
            shown.update({fmt(o), fmt_p(o)})

    walk(r)
    html = (world_report / "index.html").read_text(encoding="utf-8")
    cells = [htmlmod.unescape(c) for c in re.findall(r'<td class="num">([^<]*)</td>', html)]
    assert len(cells) > 50
    missing = sorted({c for c in cells if c not in shown})
    assert not missing, missing[:10]
    # CI cells ("[lo, hi]") are plain cells: each end must be a number of results.json (or "–": none)
    pairs = [htmlmod.unescape(c) for c in re.findall(r"<td>(\[[^<\]]*\])</td>", html)]
    ends = [e for p in pairs for e in p.strip("[]").split(", ")]
    assert ends and all(e in shown or e == "–" for e in ends), [e for e in ends if e not in shown][:5]
