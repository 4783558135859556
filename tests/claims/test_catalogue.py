"""The claims catalogue: contents, and refusal of malformed files."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from ptmscope.claims import load_catalogue
from ptmscope.claims.catalogue import BASES, default_catalogue_path, parse_catalogue
from ptmscope.errors import InputError


def test_review_flow_numbers_are_the_papers():
    f = load_catalogue().review_flow
    assert (f["papers_found"], f["papers_after_dedup"], f["papers_included"]) == (45, 31, 18)
    assert (f["claims_discussed"], f["claims_kept"], f["claims_consolidated"]) == (256, 49, 12)
    assert (f["claims_kept_motivation"], f["claims_kept_work"]) == (19, 30)


def test_twelve_claims_four_hypotheses():
    cat = load_catalogue()
    paper = [c for c in cat.claims if not c.extra]
    assert [c.id for c in paper] == [f"C{i}" for i in range(1, 13)]
    assert sum(c.lacked_quantitative_support for c in paper) == 4
    assert [(h.claim, h.metric) for h in cat.hypotheses] == [
        ("C1", "preservation"),
        ("C2", "turnover"),
        ("C2", "descendants"),
        ("C3", "docs"),
    ]


def test_confirmed_titles_verbatim_and_everything_else_flagged():
    cat = load_catalogue()
    titles = {c.id: c.text for c in cat.claims}
    # the artifact README's own words
    assert titles["C1"] == "Transformers library increases accessibility"
    assert titles["C2"] == "Popularity impacts PTM selection"
    assert titles["C3"] == "Documentation quality influences selection"
    for c in cat.claims:
        if c.wording == "verbatim":
            assert c.content == "confirmed"
        if c.content == "reconstructed":
            assert c.wording == "paraphrase"
        assert all(b in BASES for b in c.basis)


def test_unmeasurable_claims_say_why():
    for c in load_catalogue().claims:
        if not c.metrics:
            assert c.not_measurable and len(c.not_measurable) > 20


def _data() -> dict:
    return tomllib.loads(default_catalogue_path().read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d["claims"][0].pop("theme"), "missing key 'theme'"),
        (lambda d: d["claims"][0].__setitem__("basis", ["astrology"]), "unknown basis"),
        (lambda d: d["claims"][1].__setitem__("id", "C1"), "duplicate claim id"),
        (lambda d: d["claims"][0].__setitem__("metrics", ["nope"]), "unknown metric"),
        (lambda d: d["claims"][0].__setitem__("wording", "quoted"), "wording must be one of"),
        (lambda d: d["review_flow"].__setitem__("claims_kept_work", 31), "must equal claims_kept"),
        (lambda d: d["review_flow"].__setitem__("papers_included", 40), "must shrink"),
        (lambda d: d["claims"].pop(), "12"),
        (lambda d: d["claims"][8].pop("not_measurable"), "must say why"),
        (lambda d: d["hypotheses"][0].__setitem__("claim", "C99"), "unknown claim"),
        (lambda d: d["claims"][0].__setitem__("lacked_quantitative_support", "yes"), "must be bool"),
    ],
)
def test_malformed_catalogue_refused(mutate, message):
    d = _data()
    mutate(d)
    with pytest.raises(InputError, match=message) as exc:
        parse_catalogue(d, Path("my-claims.toml"))
    assert "my-claims.toml" in str(exc.value)


def test_bad_toml_names_file_and_line(tmp_path):
    p = tmp_path / "claims.toml"
    p.write_text("schema_version = 1\n[paper\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"claims.toml:2"):
        load_catalogue(p)


def test_cli_claims_json(cli):
    import json

    code, out, err = cli("claims", "--json")
    assert code == 0, err
    d = json.loads(out)
    assert len([c for c in d["claims"] if c["id"].startswith("C")]) == 12
    c2 = next(c for c in d["claims"] if c["id"] == "C2")
    assert set(c2["rules"]) == {"C2-turnover", "C2-descendants"}


def test_cli_claims_table(cli):
    code, out, err = cli("claims")
    assert code == 0, err
    assert "256" in out and "C12" in out


def test_folder_or_binary_instead_of_a_file_is_one_clear_error(tmp_path, cli):
    from ptmscope.claims import load_rules

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
