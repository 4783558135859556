"""`ptmscope review` end to end on a SYNTHETIC review folder, the paper's worked example, and bad files.

Expected counts come from reading the synthetic files by hand (see the comments), not from the code.
"""

from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from ptmscope.claims import load_catalogue
from ptmscope.claims.catalogue import default_catalogue_path
from ptmscope.errors import InputError
from ptmscope.review import agreement, build_outputs, example_folder, open_review
from realdata import paper_text

SYNTH = Path(__file__).parent / "data" / "synthetic"

# By hand from the files: q1.bib has 4 entries, q2.ris 3 records, q3.csv 2 rows -> 9 found.
# q2 alpha has q1 alpha's DOI (other case, URL form); q2 charlie's title is q1 charlie's;
# q3 bravo-preprint is forced onto bravo2022 by dedup.toml -> 6 papers.
# Screening: alice and bob agree on alpha, bravo, charlie (include) and foxtrot (exclude);
# they disagree on delta and echo, resolved include / exclude -> 4 included.
# extraction.csv: 7 claims, x5 and x7 discarded -> 5 kept: x3 motivation, x1 x2 x4 x6 work.
# consolidated.toml: S1 (25% sample: large-scale; case study) and S2 (0.5%: small-scale; survey)
# -> only S2 lacks a large-scale measurement -> 1 marked.
EXPECTED_FLOW = {
    "papers_found": 9,
    "papers_after_dedup": 6,
    "papers_included": 4,
    "claims_discussed": 7,
    "claims_kept": 5,
    "claims_motivation": 1,
    "claims_work": 4,
    "claims_consolidated": 2,
    "claims_marked": 1,
}


@pytest.fixture
def synth(tmp_path: Path) -> Path:
    d = tmp_path / "review"
    shutil.copytree(SYNTH, d)
    return d


def _fce_kappa(table: np.ndarray) -> tuple[float, float]:
    """Cohen's kappa and the Fleiss-Cohen-Everitt (1969) asymptotic SE, written out independently."""
    n = table.sum()
    p = table / n
    po, r, c = np.trace(p), p.sum(1), p.sum(0)
    pe = float((r * c).sum())
    k = (po - pe) / (1 - pe)
    a = sum(p[i, i] * ((1 - pe) - (r[i] + c[i]) * (1 - po)) ** 2 for i in range(2))
    b = (1 - po) ** 2 * sum(p[i, j] * (c[i] + r[j]) ** 2 for i in range(2) for j in range(2) if i != j)
    cc = (po * pe - 2 * pe + po) ** 2
    return float(k), float(math.sqrt((a + b - cc) / (n * (1 - pe) ** 4)))


def test_check_dedup_agreement_build_end_to_end(synth, cli, tmp_path):
    code, out, err = cli("review", "check", str(synth))
    assert code == 0, err
    assert out.startswith("ok:")

    code, out, err = cli("review", "dedup", str(synth), "--json")
    assert code == 0, err
    d = json.loads(out)
    assert (d["records"], d["papers"]) == (9, 6)
    merges = {(m["kept"], m["merged"]): m["reason"] for m in d["merges"]}
    assert merges == {
        ("q1:alpha2023", "q2:alpha-ris"): "same DOI",
        ("q1:charlie2024", "q2:charlie-ris"): "same title and year",
        ("q1:bravo2022", "q3:bravo-preprint"): "dedup.toml [[same]]",
    }
    assert d["possible_duplicates"] == []

    code, out, err = cli("review", "agreement", str(synth), "--json")
    assert code == 0, err
    a = json.loads(out)
    (pair,) = a["pairs"]
    # alice (rows) x bob (columns), include/exclude: alpha bravo charlie agree include, foxtrot agree
    # exclude, delta include/exclude, echo exclude/include
    k, se = _fce_kappa(np.array([[3.0, 1.0], [1.0, 1.0]]))
    assert pair["reviewers"] == ["alice", "bob"] and pair["n"] == 6
    assert pair["kappa"] == pytest.approx(k) and k == pytest.approx(0.25)
    assert pair["ci"] == pytest.approx([max(k - 1.959964 * se, -1), min(k + 1.959964 * se, 1)], abs=1e-4)
    assert pair["conflicts"] == ["delta2021", "echo2020"]
    assert a["unresolved_conflicts"] == [] and a["resolved"] == ["delta2021", "echo2020"]

    out_dir = tmp_path / "built"
    code, out, err = cli("review", "build", str(synth), "--out", str(out_dir))
    assert code == 0, err
    names = sorted(p.name for p in out_dir.iterdir())
    assert names == sorted(
        [
            "catalogue.toml",
            "table3.md",
            "table3.tex",
            "table3.html",
            "flow.svg",
            "flow.png",
            "flow.json",
            "papers.csv",
            "merges.csv",
            "agreement.json",
        ]
    )
    assert json.loads((out_dir / "flow.json").read_text()) == EXPECTED_FLOW
    md = (out_dir / "table3.md").read_text()
    # S2: small-scale measurement + survey -> † (1), escaped; S1: large-scale + case study -> no †
    assert "| Quality | † (1) *Incomplete model cards &lt;b&gt;deter&lt;/b&gt; reuse &amp; selection.* | " in md
    assert "Small-Scale Measurement, Survey | \\[charlie2024, delta2021\\] |" in md
    assert (
        "| Tooling | Registry tooling drives reuse of a few base models. | Large-Scale Measurement, Case Study |" in md
    )
    tex = (out_dir / "table3.tex").read_text()
    assert r"\dag{} (1) \textit{Incomplete model cards <b>deter</b> reuse \& selection.}" in tex
    html = (out_dir / "table3.html").read_text()
    assert "&lt;b&gt;deter&lt;/b&gt; reuse &amp; selection" in html and "<b>deter" not in html
    svg = (out_dir / "flow.svg").read_text()
    assert svg.startswith("<?xml") and "<script" not in svg
    assert (out_dir / "flow.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    papers = (out_dir / "papers.csv").read_text().splitlines()
    assert len(papers) == 7 and "bravo2022" in papers[2] and "q3:bravo-preprint" in papers[2]

    # the built catalogue replaces the paper's review; the paper's extensions do not apply to it
    cat = load_catalogue(out_dir / "catalogue.toml")
    assert [c.id for c in cat.claims] == ["S1", "S2"]
    assert cat.claim("S2").dagger == 1 and cat.claim("S2").table4 == "C1"
    assert cat.claim("S1").works == ("alpha2023", "bravo2022")
    assert cat.references["alpha2023"].doi == "10.9999/syn.alpha"
    assert cat.review_flow["records"] == "public"
    assert {k: cat.review_flow[k] for k in EXPECTED_FLOW} == EXPECTED_FLOW
    code, out, err = cli("claims", "--json", "--catalogue", str(out_dir / "catalogue.toml"))
    assert code == 0, err
    assert [c["id"] for c in json.loads(out)["claims"]] == ["S1", "S2"]
    assert json.loads(out)["rules"] == []  # the shipped rules extend the paper's catalogue, not this one


def test_build_is_byte_reproducible(synth):
    a = build_outputs(open_review(synth))
    b = build_outputs(open_review(synth))
    assert a.keys() == b.keys()
    for name in a:
        assert a[name] == b[name], name


def test_table3_command_prints_each_format(synth, cli):
    for fmt, marker in (("md", "| Themes | Claims |"), ("tex", r"\begin{tabular}"), ("html", "<table>")):
        code, out, err = cli("review", "table3", str(synth), "--format", fmt)
        assert code == 0, err
        assert marker in out


def test_import_adds_the_query_and_the_export(synth, cli, tmp_path):
    export = tmp_path / "new.ris"
    export.write_text("TY  - JOUR\nID  - hotel\nTI  - A Brand New Study\nPY  - 2025\nER  - \n", encoding="utf-8")
    code, _out, err = cli(
        "review",
        "import",
        str(synth),
        str(export),
        "--query",
        "brand new",
        "--source",
        "Synthetic DB",
        "--date",
        "2026-02-01",
    )
    assert code == 0, err
    assert (synth / "search" / "q4.ris").read_text() == export.read_text()
    assert 'query = "brand new"' in (synth / "review.toml").read_text()
    rv = open_review(synth)
    assert len(rv.records) == 10
    # the new paper has no screening decision yet: check says so
    assert any("hotel" in p.message and "no decision" in p.message for p in rv.problems)


def test_import_of_a_malformed_export_writes_nothing(synth, cli, tmp_path):
    before = (synth / "review.toml").read_text()
    bad = tmp_path / "bad.bib"
    bad.write_text("@article{ok, title={Fine}, year={2020}}\n\n@article{broken,\n  title = {No end\n", encoding="utf-8")
    code, _out, err = cli("review", "import", str(synth), str(bad), "--query", "x", "--source", "y")
    assert code == 1 and "Traceback" not in err
    assert re.search(r"bad\.bib:3: malformed BibTeX", err), err
    assert (synth / "review.toml").read_text() == before
    assert not (synth / "search" / "q4.bib").exists()


def _problems(folder: Path) -> list[str]:
    return [str(p) for p in open_review(folder).problems]


@pytest.mark.parametrize(
    "file, edit, expected",
    [
        # a duplicate extracted-claim id, on the line of the second one
        (
            "extraction.csv",
            lambda s: s.replace("x2,bravo2022", "x1,bravo2022"),
            r"extraction\.csv:3: duplicate claim id 'x1' \(first on line 2\)",
        ),
        # a claim pointing at a paper that is not in the search results
        (
            "extraction.csv",
            lambda s: s.replace("x4,charlie2024", "x4,zulu1999"),
            r"extraction\.csv:5: claim x4: no paper 'zulu1999' in the search results",
        ),
        # a claim from a paper excluded at screening
        (
            "extraction.csv",
            lambda s: s.replace("x4,charlie2024", "x4,foxtrot2024"),
            r"extraction\.csv:5: claim x4: paper foxtrot2024 was excluded at screening",
        ),
        (
            "extraction.csv",
            lambda s: s.replace(",S2\n", ",S9\n", 1),
            r"extraction\.csv:5: claim x4: no consolidated claim 'S9'",
        ),
        (
            "extraction.csv",
            lambda s: s.replace("discarded,too vague to test,", "discarded,,"),
            r"extraction\.csv:6: claim x5: a discarded claim needs a reason",
        ),
        (
            "consolidated.toml",
            lambda s: s.replace('id = "S2"', 'id = "S1"'),
            r"consolidated\.toml:\d+: \[\[claims\]\] #2: duplicate claim id 'S1'",
        ),
        (
            "consolidated.toml",
            lambda s: s.replace('theme = "Quality"', 'theme = "Vibes"'),
            r"consolidated\.toml:\d+: \[\[claims\]\] #2 \(S2\): theme 'Vibes'",
        ),
        (
            "consolidated.toml",
            lambda s: s.replace("sample = 5000", "sample = 50000"),
            r"consolidated\.toml:\d+: .*sample cannot exceed population",
        ),
        (
            "screening.csv",
            lambda s: s.replace("foxtrot2024,bob,exclude,E1;E2,", "foxtrot2024,bob,exclude,,"),
            r"screening\.csv:13: an exclusion must name the exclusion criteria",
        ),
        (
            "screening.csv",
            lambda s: s.replace("alpha2023,bob,include,I1,", "alpha2023,bob,include,I7,"),
            r"screening\.csv:3: unknown criterion 'I7'",
        ),
        (
            "screening.csv",
            lambda s: s + "alpha2023,alice,exclude,E1,\n",
            r"screening\.csv:14: duplicate decision of alice on alpha2023",
        ),
        (
            "resolutions.csv",
            lambda s: s.replace("echo2020,exclude,E2,discussed: a position paper\n", ""),
            r"resolutions\.csv: paper echo2020: reviewers disagree and no resolution is recorded",
        ),
        (
            "search/q1.bib",
            lambda s: s.replace("@article{bravo2022,", "@article{bravo2022,\n  title = {oops"),
            r"search/q1\.bib:\d+: malformed BibTeX",
        ),
        (
            "search/q1.bib",
            lambda s: s.replace("@article{delta2021,", "@article{alpha2023,"),
            r"search/q1\.bib:\d+: malformed BibTeX: duplicate entry key 'alpha2023'",
        ),
        (
            "search/q2.ris",
            lambda s: s.rstrip().rsplit("\n", 1)[0] + "\n",
            r"search/q2\.ris:\d+: malformed RIS: the last record has no ER line",
        ),
        (
            "search/q2.ris",
            lambda s: s.replace("TI  - Model cards", "TI - Model cards"),
            r"search/q2\.ris:12: malformed RIS: expected 'XX  - value'",
        ),
        (
            "search/q3.csv",
            lambda s: s.replace("id,title,", "id,name,"),
            r"search/q3\.csv:1: CSV header has no title column",
        ),
        (
            "review.toml",
            lambda s: s.replace('file = "search/q3.csv"', 'file = "search/q3.csv"\nfiel = "x"'),
            r"review\.toml:\d+: \[\[queries\]\] #3 fiel: unknown key; did you mean file\?",
        ),
        (
            "validation.toml",
            lambda s: s.replace('claim = "S2"\ntext', 'claim = "S7"\ntext'),
            r"validation\.toml:\d+: \[\[table4\]\] #1 \(C1\): no consolidated claim 'S7'",
        ),
    ],
)
def test_bad_review_files_give_one_clear_line_each(synth, file, edit, expected, cli, tmp_path):
    p = synth / file
    p.write_text(edit(p.read_text(encoding="utf-8")), encoding="utf-8")
    probs = _problems(synth)
    assert any(re.search(expected, x) for x in probs), probs
    code, _out, err = cli("review", "check", str(synth))
    assert code == 1 and "Traceback" not in err
    assert all(line.startswith("error: ") for line in err.strip().splitlines())
    # nothing is written on error
    code, _out, err = cli("review", "build", str(synth), "--out", str(tmp_path / "never"))
    assert code == 1 and not (tmp_path / "never").exists()


def test_kappa_needs_two_reviewers(synth, cli):
    p = synth / "screening.csv"
    p.write_text("\n".join(x for x in p.read_text().splitlines() if ",bob," not in x) + "\n", encoding="utf-8")
    rv = open_review(synth)
    with pytest.raises(InputError, match=r"screening\.csv: Cohen's kappa needs two reviewers; .* one \(alice\)"):
        agreement(rv)
    code, _out, err = cli("review", "agreement", str(synth))
    assert code == 1 and "needs two reviewers" in err


def test_review_check_names_a_missing_folder(cli, tmp_path):
    code, _out, err = cli("review", "check", str(tmp_path / "nope"))
    assert code == 1 and "no such review folder" in err


# ---------------------------------------------------------------------------
# The paper's review (worked example)
# ---------------------------------------------------------------------------


def test_example_builds_the_shipped_catalogue_exactly():
    files = build_outputs(open_review(example_folder()))
    assert files["catalogue.toml"] == default_catalogue_path().read_bytes()
    assert json.loads(files["flow.json"]) == {
        k: v for k, v in load_catalogue().review_flow.items() if k not in ("records", "note")
    }


def test_example_says_its_records_are_not_public_and_invents_none(cli):
    ex = example_folder()
    rv = open_review(ex)
    assert not rv.problems and not rv.has_records
    assert "not public" in (rv.review.records_note or "")
    for name in ("screening.csv", "extraction.csv", "resolutions.csv"):
        assert not (ex / name).exists()
    assert rv.review.queries == []
    code, _out, err = cli("review", "agreement", str(ex))
    assert code == 1 and "not public" in err


def test_example_table3_matches_the_paper_row_for_row():
    text = paper_text()
    lines = text.splitlines()
    i = lines.index("Themes\tClaims\tClaim Basis\tWorks")
    printed = []
    for ln in lines[i + 1 :]:
        if not ln.strip():
            break
        th, cl, basis, works = ln.split("\t")
        printed.append((th, re.sub(r"</?i>", "*", cl), basis, works))
    from ptmscope.review.outputs import table3_rows

    rows = table3_rows(open_review(example_folder()))
    got = [
        (r["theme"], (f"† ({r['dagger']}) *{r['claim']}*" if r["dagger"] else r["claim"]), r["basis"], r["works"])
        for r in rows
    ]
    assert got == printed


def test_example_criteria_are_the_papers_words():
    text = " ".join(paper_text().replace("*", "").split())
    rv = open_review(example_folder())
    assert [c.id for c in rv.review.criteria] == ["I1", "I2", "I3", "I4", "E1", "E2", "E3"]
    for c in rv.review.criteria:
        assert c.text in text, c.id


def test_init_then_import_starts_a_review_with_the_papers_protocol(cli, tmp_path):
    d = tmp_path / "new"
    code, _out, err = cli("review", "init", str(d), "--title", "Kaggle Models review", "--id", "kaggle25")
    assert code == 0, err
    rv = open_review(d)
    assert [c.id for c in rv.review.criteria] == ["I1", "I2", "I3", "I4", "E1", "E2", "E3"]
    assert [c.key for c in rv.review.categories] == ["motivation", "work"]
    code, _out, err = cli(
        "review", "import", str(d), str(SYNTH / "search" / "q1.bib"), "--query", "x", "--source", "Synthetic"
    )
    assert code == 0, err
    rv = open_review(d)
    assert len(rv.records) == 4 and rv.review.queries[0].file == "search/q1.bib"
    msgs = [str(p) for p in rv.problems]
    assert "consolidated.toml: missing (required)" in msgs
    assert any("4 paper(s) have no decision" in m for m in msgs)
    code, _out, err = cli("review", "init", str(d))
    assert code == 1 and "already exists" in err
