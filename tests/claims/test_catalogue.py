"""The claims catalogue against the paper's text, and refusal of malformed files."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest

from ptmscope.claims import load_catalogue, load_rules
from ptmscope.claims.catalogue import basis_kinds, default_catalogue_path, parse_review, printed_basis
from ptmscope.errors import InputError
from realdata import paper_text

# ---------------------------------------------------------------------------
# The paper's tables, parsed from ../shared/paper at test time
# ---------------------------------------------------------------------------


def _rows(text: str, header: str) -> list[list[str]]:
    lines = text.splitlines()
    i = lines.index(header)
    out = []
    for ln in lines[i + 1 :]:
        if not ln.strip():
            break
        out.append(ln.split("\t"))
    return out


def paper_table3(text: str) -> list[dict]:
    rows, theme = [], None
    for th, cl, basis, works in _rows(text, "Themes\tClaims\tClaim Basis\tWorks"):
        theme = th or theme
        m = re.fullmatch(r"† \((\d)\) <i>(.*)</i>", cl)
        rows.append(
            {
                "theme": theme,
                "text": m.group(2) if m else cl,
                "dagger": int(m.group(1)) if m else None,
                "basis": [b.strip() for b in basis.split(",")],
                "works": [w.strip() for w in works.strip("[]").split(",")],
            }
        )
    return rows


def paper_table4(text: str) -> list[dict]:
    rows, label = [], None
    for claim, metric, hyp in _rows(text, "Qualitative Claim\tMetric\tHypothesized Result"):
        if claim:
            m = re.fullmatch(r"C (.) : (.*)", claim)
            label = (f"C{'₁₂₃₄'.index(m.group(1)) + 1}", m.group(2))
        rows.append({"table4": label[0], "claim": label[1], "metric": metric, "hypothesis": hyp})
    return rows


def _norm(s: str) -> str:
    return " ".join(s.replace("*", "").split())


def test_table3_claims_are_the_papers_word_for_word():
    want = paper_table3(paper_text())
    cat = load_catalogue()
    got = [c for c in cat.claims if c.origin == "paper"]
    assert len(want) == 12
    assert [c.id for c in got] == [f"T3.{i}" for i in range(1, 13)]
    for c, w in zip(got, want, strict=True):
        assert c.text == w["text"], c.id
        assert c.theme == w["theme"], c.id
        assert list(c.basis) == w["basis"], c.id
        assert list(c.works) == w["works"], c.id
        assert c.dagger == w["dagger"], c.id
    assert tuple(cat.review.themes) == tuple(dict.fromkeys(w["theme"] for w in want))


def test_table4_rows_and_hypotheses_are_the_papers():
    want = paper_table4(paper_text())
    cat = load_catalogue()
    paper_h = [h for h in cat.hypotheses if h.origin == "paper"]
    assert [h.id for h in paper_h] == [f"H{i}" for i in range(1, len(want) + 1)]
    t4 = {t.id: t for t in cat.review.table4}
    for h, w in zip(paper_h, want, strict=True):
        assert h.hypothesis == w["hypothesis"], h.id
        assert h.metric_text == w["metric"], h.id
        assert h.table4 == w["table4"] and t4[h.table4].text == w["claim"], h.id
        # the Table 4 claim is the Table 3 row carrying the same † number, with the same words
        t3 = cat.claim(h.claim)
        assert t3.dagger == int(w["table4"][1:]) and t3.text == w["claim"]
        assert list(h.references) == re.findall(r"\[(\d+)\]", w["metric"] + w["hypothesis"])


def test_tables_1_and_2_are_the_papers():
    text = paper_text()
    cat = load_catalogue()
    rows = _rows(text, "Metric\tDescription & Implication\tPackage Registries\tExample Works")
    assert len(rows) == len(cat.review.table1)
    for got, (metric, desc, regs, works) in zip(cat.review.table1, rows, strict=True):
        assert (got.metric, got.description) == (metric, desc)
        assert ", ".join(got.registries) == regs
        expanded = []
        for w in works.strip("[]").split(", "):
            a, _, b = w.partition("–")
            expanded += [str(x) for x in range(int(a), int(b) + 1)] if b else [a]
        assert list(got.works) == expanded
    t2 = _rows(text, "Claim Category\tDefinition\tExamples")
    assert [c.name for c in cat.review.categories] == [r[0] for r in t2]
    for c, (_name, definition, examples) in zip(cat.review.categories, t2, strict=True):
        assert c.definition == definition
        quotes = re.findall(r"<p>“(.*?)” \[(\d+)\]</p>", examples)
        assert [(e.quote, e.work) for e in c.examples] == quotes


def _reference_entries(text: str) -> dict[str, str]:
    """Entries of the reference list, markdown links and escapes reduced to their text."""
    out = {}
    for m in re.finditer(r"^- \[(\d+)\] (.*)$", text, flags=re.M):
        e = re.sub(r"\[([^\]]*(?:\\\][^\]]*)*)\]\(https?://[^)]*\)", r"\1", m.group(2))
        out[m.group(1)] = e.replace("\\", "")
    return out


def test_works_resolve_to_the_papers_reference_list():
    text = paper_text()
    entries = _reference_entries(text)
    cat = load_catalogue()
    cited = {w for c in cat.paper_claims for w in c.works}
    cited |= {w for h in cat.hypotheses for w in h.references}
    cited |= {w for row in cat.review.table1 for w in row.works}
    assert cited <= set(cat.references)
    for rid, ref in cat.references.items():
        if ":" in rid:
            continue
        entry = _norm(entries[rid])
        assert entry.startswith(", ".join(ref.authors[:-1])) or entry.startswith(ref.authors[0]), rid
        assert f". {ref.year}. " in entry, rid
        assert _norm(ref.title) in entry, rid
        if ref.venue:
            assert _norm(ref.venue) in entry.replace("In ", "", 1) or _norm(ref.venue) in entry, rid
        for key in ("doi", "arxiv"):
            if getattr(ref, key):
                assert getattr(ref, key) in entry, rid
    # every DOI and arXiv id the paper prints for a stored entry is stored
    for rid in cat.references:
        if ":" not in rid:
            for doi in re.findall(r"doi\.org/(10\.[^>\s]+)", entries[rid]):
                assert cat.references[rid].doi == doi, rid


def test_review_flow_counts_are_the_papers():
    text = _norm(paper_text())
    f = load_catalogue().review_flow

    def n(pattern: str) -> int:
        return int(re.search(pattern, text).group(1))

    assert f["papers_found"] == n(r"These search queries gave us (\d+) papers")
    assert f["papers_after_dedup"] == n(r"reducing the number of papers to (\d+)")
    assert f["papers_included"] == n(r"initial set of \d+ papers to (\d+) high-quality")
    assert f["claims_discussed"] == n(r"A total of (\d+) claims were discussed")
    assert f["claims_kept"] == n(r"resulted in a total of (\d+) claims")
    assert f["claims_motivation"] == n(r"yielded (\d+) motivation claims")
    assert f["claims_work"] == n(r"motivation claims and (\d+) work claims")
    assert f["claims_consolidated"] == n(r"resulting in a refined set of (\d+) distinct claims")
    assert f["claims_marked"] == text.count("† (") == 4
    assert f["records"] == "not public"


def test_inconsistencies_quote_the_paper():
    text = _norm(paper_text())
    cat = load_catalogue()
    ids = {i.id for i in cat.review.inconsistencies}
    assert {"unevaluated-count", "c1-wording", "hf-metadata-date"} <= ids
    for inc in cat.review.inconsistencies:
        for s in inc.statements:
            assert _norm(s.quote) in text, (inc.id, s.where)
    # the dagger rule (no large-scale basis) marks five rows; Table 3 marks four
    paper = cat.paper_claims
    assert sum(not c.large_scale for c in paper) == 5
    assert sum(c.dagger is not None for c in paper) == 4
    unmarked = [c.id for c in paper if not c.large_scale and c.dagger is None]
    assert (
        unmarked == ["T3.11"]
        and "T3.11" in next(i for i in cat.review.inconsistencies if i.id == "unevaluated-count").claims
    )


def test_extensions_are_apart_and_not_numbered_like_the_paper():
    cat = load_catalogue()
    ext = [c for c in cat.claims if c.origin == "extension"]
    assert ext and all(c.id.startswith("ext.") for c in ext)
    assert all(not re.fullmatch(r"T\d+\.\d+|C\d+|H\d+", h.id) for h in cat.hypotheses if h.origin != "paper")
    assert [c.origin for c in cat.claims] == sorted((c.origin for c in cat.claims), key=["paper", "extension"].index)
    assert not load_catalogue(extensions=False).claims[-1].extra


def test_unmeasurable_claims_say_why():
    for c in load_catalogue().claims:
        if not c.metrics:
            assert c.not_measurable and len(c.not_measurable) > 20


def test_basis_kinds_round_trip():
    assert basis_kinds(["Small-Scale and Large-Scale Measurement", "Survey"]) == (
        "small-scale measurement",
        "large-scale measurement",
        "survey",
    )
    assert printed_basis(["survey", "large-scale measurement"]) == ("Large-Scale Measurement", "Survey")
    with pytest.raises(ValueError, match="unknown basis"):
        basis_kinds(["Astrology"])


# ---------------------------------------------------------------------------
# Malformed files
# ---------------------------------------------------------------------------


def _data() -> dict:
    return tomllib.loads(default_catalogue_path().read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d["claims"][0].pop("theme"), "theme: missing"),
        (lambda d: d["claims"][0].__setitem__("basis", ["Astrology"]), "unknown basis"),
        (lambda d: d["claims"][1].__setitem__("id", "T3.1"), "duplicate claim id"),
        (lambda d: d["claims"][0].__setitem__("theme", "Vibes"), "not one of the review's themes"),
        (lambda d: d["claims"][0].__setitem__("works", ["99"]), "work '99' is not in"),
        (lambda d: d["claims"][0].__setitem__("dagger", 9), "basis has one"),
        (lambda d: d["claims"][0].__setitem__("wording", "verbatim"), "wording: unknown key"),
        (lambda d: d["review_flow"].__setitem__("claims_work", 31), "must equal claims_kept"),
        (lambda d: d["review_flow"].__setitem__("papers_included", 40), "must shrink"),
        (lambda d: d["claims"].pop(), "11 claims but review_flow says 12"),
        (
            lambda d: (d["claims"][1].__setitem__("metrics", []), d["claims"][1].pop("not_measurable", None)),
            "must say why",
        ),
        (lambda d: d["hypotheses"][0].__setitem__("table4", "C9"), "unknown table4 claim"),
        (lambda d: d["table4"][0].__setitem__("claim", "T3.99"), "unknown claim"),
        (lambda d: d["review_flow"].__setitem__("claims_marked", "4"), "expected an integer"),
    ],
)
def test_malformed_catalogue_refused(mutate, message):
    d = _data()
    mutate(d)
    with pytest.raises(InputError, match=message) as exc:
        parse_review(d, Path("my-claims.toml"))
    assert "my-claims.toml" in str(exc.value)


def test_unknown_metric_refused_when_names_are_known():
    with pytest.raises(InputError, match="unknown metric 'authorship'; did you mean authorshi"):
        load_catalogue(known_metrics={"authorshi", "turnover"})


def test_bad_toml_names_file_and_line(tmp_path):
    p = tmp_path / "claims.toml"
    p.write_text('schema_version = 2\nkind = "user"\n[source\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"claims.toml:3"):
        load_catalogue(p)


def test_typo_names_line_and_the_right_key(tmp_path):
    p = tmp_path / "mine.toml"
    p.write_text(
        'schema_version = 2\nkind = "user"\n[source]\nid = "me"\nlabel = "Me"\n\n[[claims]]\nid = "mine.a"\n'
        'theme = "X"\ntext = "t"\nmetrcs = ["growth"]\n',
        encoding="utf-8",
    )
    with pytest.raises(
        InputError, match=r"mine.toml:11: \[\[claims\]\] #1 metrcs: unknown key; did you mean metrics\?"
    ):
        load_catalogue(p)


# ---------------------------------------------------------------------------
# User catalogues
# ---------------------------------------------------------------------------

USER = """schema_version = 2
kind = "user"
extends = "esem24"

[source]
id = "lab"
label = "Our lab's claims"

[[claims]]
id = "lab.gated"
theme = "Access"
text = "Gated models are downloaded less than open ones."
metrics = ["growth"]
works = ["smith"]

[[references]]
id = "smith"
authors = ["A. Smith"]
year = 2025
title = "Gates"

[[rules]]
id = "lab.gated-growth"
claim = "lab.gated"
metric = "growth"
description = "made up"
supported = [{ path = "monthly_growth_ci[0]", op = ">", value = 0 }]
not_supported = [{ path = "monthly_growth_ci[1]", op = "<=", value = 0 }]
"""


def test_a_users_claim_is_merged_without_touching_the_papers_counts(tmp_path):
    p = tmp_path / "mine.toml"
    p.write_text(USER, encoding="utf-8")
    base = load_catalogue()
    cat = load_catalogue([p])
    assert cat.review_flow == base.review_flow  # 12 consolidated, not 13
    assert len(cat.paper_claims) == 12
    mine = cat.claim("lab.gated")
    assert mine.origin == "user" and mine.source == "lab" and cat.sources["lab"].label == "Our lab's claims"
    assert mine.to_dict(cat.references)["works"][0]["title"] == "Gates"
    rules = load_rules(catalogue=cat)
    assert [r.id for r in rules if r.claim == "lab.gated"] == ["lab.gated-growth"]
    assert [f.kind for f in cat.files] == ["review", "extension", "user"]


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda s: s.replace('id = "lab.gated"', 'id = "T3.13"'), "ids like T3.1, C1, H1 are the paper's"),
        (lambda s: s.replace('id = "lab.gated"', 'id = "ext.lineage"'), "claim id already used"),
        (lambda s: s.replace('extends = "esem24"', 'extends = "other"'), "extends 'other'"),
        (lambda s: s.replace('works = ["smith"]', 'works = ["jones"]'), "work 'jones' is not in"),
        (lambda s: s.replace('claim = "lab.gated"\nmetric', 'claim = "lab.nope"\nmetric'), "unknown claim 'lab.nope'"),
        (lambda s: s.replace('id = "lab"', 'id = "esem24"'), "already used by another catalogue"),
        (lambda s: s.replace('kind = "user"', 'kind = "mine"'), "kind: expected one of"),
    ],
)
def test_bad_user_catalogue_refused(tmp_path, edit, message):
    p = tmp_path / "mine.toml"
    p.write_text(edit(USER), encoding="utf-8")
    with pytest.raises(InputError, match=message) as exc:
        load_catalogue(p)
    assert "mine.toml" in str(exc.value)


def test_cli_claims_json_with_a_user_catalogue(cli, tmp_path):
    p = tmp_path / "mine.toml"
    p.write_text(USER, encoding="utf-8")
    code, out, err = cli("claims", "--json", "--catalogue", str(p))
    assert code == 0, err
    d = json.loads(out)
    assert [c["id"] for c in d["claims"] if c["origin"] == "paper"] == [f"T3.{i}" for i in range(1, 13)]
    assert next(c for c in d["claims"] if c["id"] == "lab.gated")["rules"] == ["lab.gated-growth"]
    t36 = next(c for c in d["claims"] if c["id"] == "T3.6")
    assert set(t36["rules"]) == {"H2-turnover", "H3-descendants"}
    assert t36["works"][0]["title"].startswith("An Empirical Study of Pre-Trained Model Reuse")


def test_cli_claims_table(cli):
    code, out, err = cli("claims")
    assert code == 0, err
    assert "256" in out and "T3.12" in out and "ext.lineage" in out


def test_folder_or_binary_instead_of_a_file_is_one_clear_error(tmp_path, cli):
    with pytest.raises(InputError, match="is a folder"):
        load_catalogue(tmp_path)
    with pytest.raises(InputError, match="is a folder"):
        load_rules(tmp_path)
    binary = tmp_path / "x.toml"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(InputError, match="not UTF-8"):
        load_rules(binary)
    code, _out, err = cli("claims", "--results", tmp_path)
    assert code == 1 and "is a folder" in err and "Traceback" not in err
