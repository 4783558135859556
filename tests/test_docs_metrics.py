"""docs/metrics.md against the metric registry and the verdict rules: the index at the top lists exactly the
registered built-in metrics with the claims and rules that use them, and every metric has a section whose
parameter table matches its Params class."""

from __future__ import annotations

import re
import tomllib
from typing import Any

import pytest

from ptmscope.metrics import registry
from realdata import ROOT

DOC = ROOT / "docs" / "metrics.md"
CLAIMS = ROOT / "src" / "ptmscope" / "claims"
ANCHOR = re.compile(r'^<a id="metric-([\w-]+)"></a>$', re.M)


def builtin_names() -> list[str]:
    return [n for n in registry.names() if registry.get(n).origin == "builtin"]


def doc_text() -> str:
    return DOC.read_text(encoding="utf-8")


def index_rows(text: str) -> dict[str, str]:
    """metric name -> its index row (the table under '## Index', which must come before any section)."""
    m = re.search(r"^## Index\n(.*?)(?=^## )", text, re.S | re.M)
    assert m, "docs/metrics.md has no '## Index' section"
    first_section = ANCHOR.search(text)
    assert first_section is None or m.start() < first_section.start(), "the index must come before the sections"
    rows: dict[str, str] = {}
    for line in m.group(1).splitlines():
        link = re.match(r"\| \[`([\w-]+)`\]\(#metric-([\w-]+)\)", line)
        if link is None:
            continue
        assert link[1] == link[2], f"index row of {link[1]} links to #metric-{link[2]}"
        assert link[1] not in rows, f"{link[1]} is listed twice in the index"
        rows[link[1]] = line
    return rows


def sections(text: str) -> dict[str, str]:
    """metric name -> its section: from its anchor's '## ' heading to the next '## ' heading."""
    out: dict[str, str] = {}
    for m in ANCHOR.finditer(text):
        rest = text[m.end() :].lstrip("\n")
        assert rest.startswith("## "), f'<a id="metric-{m[1]}"> must be followed by a "## " heading'
        nxt = re.search(r"^## ", rest[3:], re.M)
        assert m[1] not in out, f"two sections for {m[1]}"
        out[m[1]] = rest[: nxt.start() + 3] if nxt else rest
    return out


def rules_by_metric() -> dict[str, list[dict[str, Any]]]:
    rules = tomllib.loads((CLAIMS / "rules.toml").read_text(encoding="utf-8"))["rules"]
    out: dict[str, list[dict[str, Any]]] = {}
    for r in rules:
        out.setdefault(r["metric"], []).append(r)
    return out


def catalogue_claims_by_metric() -> dict[str, set[str]]:
    cat = tomllib.loads((CLAIMS / "claims.toml").read_text(encoding="utf-8"))
    out: dict[str, set[str]] = {}
    for c in cat["claims"]:
        for name in c.get("metrics", []):
            out.setdefault(name, set()).add(c["id"])
    return out


def shown_default(value: Any) -> str:
    """How the parameter tables write a default."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, tuple):
        return ",".join(map(str, value)) if value else "auto"
    return str(value)


def test_index_lists_exactly_the_registered_metrics():
    rows = index_rows(doc_text())
    names = builtin_names()
    assert names, "no metric registered"
    assert not set(names) - set(rows), f"registered but not in the index of docs/metrics.md: {set(names) - set(rows)}"
    assert not set(rows) - set(names), f"in the index but not registered: {set(rows) - set(names)}"
    assert list(rows) == names, "the index should list the metrics in the registry's order"


def test_index_names_the_claims_and_rules_of_each_metric():
    rows = index_rows(doc_text())
    rules = rules_by_metric()
    catalogue = catalogue_claims_by_metric()
    for name, row in rows.items():
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        assert len(cells) == 4, f"index row of {name} should have 4 cells: {row}"
        claims_cell, rule_cell = cells[2], cells[3]
        claims_shown = set(re.findall(r"T3\.\d+", claims_cell))
        expected = {r["claim"] for r in rules.get(name, [])} | catalogue.get(name, set())
        assert claims_shown == expected, f"{name}: index names claims {claims_shown}, rules/catalogue say {expected}"
        rule_ids = {r["id"] for r in rules.get(name, [])}
        shown_rules = set(re.findall(r"`([\w.-]+)`", rule_cell))
        if rule_ids:
            assert shown_rules == rule_ids, f"{name}: index names rules {shown_rules}, rules.toml has {rule_ids}"
        else:
            assert registry.get(name).no_rule, f"{name} has no verdict rule and no no_rule reason"
            assert "no rule" in rule_cell, f"{name} has no verdict rule; its index row should say 'no rule'"


@pytest.mark.parametrize("name", builtin_names())
def test_every_metric_has_a_section_with_its_parameters(name: str):
    secs = sections(doc_text())
    assert name in secs, f"docs/metrics.md has no section for metric {name} (anchor metric-{name})"
    sec = secs[name]
    assert f"ptmscope metric {name}" in sec, f"the section of {name} does not show its command line"
    documented: dict[str, tuple[str, str]] = {}
    for opt, lib, default in re.findall(r"^\| `(--[\w-]+)` \| `(\w+)` \| `([^`]*)` \|", sec, re.M):
        documented[lib] = (opt, default)
    fields = registry.get(name).params.model_fields
    assert set(documented) == set(fields), (
        f"{name}: parameter table lists {sorted(documented)}, its Params class has {sorted(fields)}"
    )
    for lib, info in fields.items():
        opt, default = documented[lib]
        assert opt == "--" + lib.replace("_", "-"), f"{name}.{lib}: documented as {opt}"
        assert default == shown_default(info.default), f"{name}.{lib}: documented default {default!r}"


def test_sections_belong_to_registered_metrics():
    stray = set(sections(doc_text())) - set(builtin_names())
    assert not stray, f"docs/metrics.md has sections for unregistered metrics: {stray}"


def test_the_checks_catch_a_missing_metric():
    """The parsers above see a removed index row and a removed section."""
    text = doc_text()
    name = builtin_names()[-1]
    without_row = "\n".join(ln for ln in text.splitlines() if not ln.startswith(f"| [`{name}`]"))
    assert name not in index_rows(without_row)
    without_section = text.replace(f'<a id="metric-{name}"></a>', "")
    assert name not in sections(without_section)


def test_the_stated_count_is_the_registry_count():
    m = re.search(r"ptmscope's (\d+) built-in metrics", doc_text())
    assert m, "docs/metrics.md should open by saying how many built-in metrics there are"
    assert int(m[1]) == len(builtin_names())
