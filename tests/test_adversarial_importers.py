"""An adversarial pass over every importer of the sources registry.

For each format (and each container of it) a *sample* writes a small valid
file from ``(id, downloads)`` rows; the tests then feed it

* out-of-range numbers (10^30, 2^63, 1e300, 1e999, uint64 max, REAL 1e30, ...)
  -- a commit log has no numbers: its commit times out of 1970 … 2100 instead,
* values of the wrong type (text where JSON has numbers, booleans, lists,
  fractions, yes/no columns holding other text; a commit time that is not a
  time, a dependent that is not a GitHub repository),
* repeated keys (a JSON key twice in one object, a CSV/Parquet column twice),
* the file replaced while it is read (at every point where the importer opens it),

and check the promises: one ``error:`` line naming the file (and line or row),
exit 1, the store file byte-for-byte unchanged; repeated JSON keys keep the
first value and are counted in the notes; the sha256 filed is that of the
bytes whose rows were stored.

A format registered in :data:`ptmscope.sources.IMPORTERS` without a sample
here fails :func:`test_every_registered_format_has_samples`, so importers
added later are covered too; the hostile-file test needs no sample at all.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import itertools
import json
import os
import shutil
import sqlite3
import sys
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ptmscope.errors import InputError, PtmscopeError
from ptmscope.sources import IMPORTERS, plan
from ptmscope.store import Store

INT64_MAX = 2**63 - 1
RANGE = "out of range (0 … 2^63-1)"


@dataclass(frozen=True)
class Raw:
    """A value written into the file exactly as this text (a JSON token, a CSV cell)."""

    text: str


def _tok(v: Any) -> str:
    return v.text if isinstance(v, Raw) else json.dumps(v)


def _cell(v: Any) -> str:
    return v.text if isinstance(v, Raw) else ("" if v is None else str(v))


Rows = list[tuple[str, Any]]
Maker = Callable[[Path, Rows], tuple[Path, list[str]]]


@dataclass
class Sample:
    """How to write one container of one format, and what adversarial values it can hold."""

    fmt: str
    make: Maker  # (folder, rows) -> (path to ingest, extra arguments)
    where: Callable[[Path, int], str]  # (ingested path, 0-based bad row) -> location text in the error
    out_of_range: list[Any] = field(default_factory=list)
    wrong_types: list[Any] = field(default_factory=list)
    # (folder) -> (path, args, expectation): ("error", text) or ("first", package_id, downloads, note text)
    repeated: Callable[[Path], tuple[Path, list[str], tuple]] | None = None
    range_text: str = RANGE  # how an out-of-range value is reported after the value as written
    type_text: str = "must be"  # what a value of the wrong type is reported with


DATE = ["--date", "2022-01-01"]


# -- writers ---------------------------------------------------------------------------------


def _hf_api_lines(rows: Rows) -> str:
    return "".join(
        f'{{"modelId": {json.dumps(i)}, "lastModified": "2022-01-01T00:00:00Z", "downloads": {_tok(v)}}}\n'
        for i, v in rows
    )


def hf_api_jsonl(d: Path, rows: Rows) -> tuple[Path, list[str]]:
    p = d / "model_infos.jsonl"
    p.write_text(_hf_api_lines(rows))
    return p, []


def hf_api_array_gz(d: Path, rows: Rows) -> tuple[Path, list[str]]:
    p = d / "model_infos.json.gz"
    p.write_bytes(gzip.compress(("[\n" + ",\n".join(_hf_api_lines(rows).splitlines()) + "\n]\n").encode()))
    return p, []


def hf_api_with_cards(d: Path, rows: Rows) -> tuple[Path, list[str]]:
    p, _ = hf_api_jsonl(d, rows)
    cards = d / "model_cards.jsonl"
    cards.write_text("".join(json.dumps({"modelId": i, "readme": f"# {i}\nbase_model: x"}) + "\n" for i, _ in rows))
    return p, ["--cards", str(cards)]


def _text_file(name: str, head: str, line: Callable[[str, Any], str]) -> Maker:
    """A text file ``name``: ``head``, then ``line(id, value)`` for each row; dated with --date."""

    def make(d: Path, rows: Rows) -> tuple[Path, list[str]]:
        p = d / name
        p.write_text(head + "".join(line(i, v) + "\n" for i, v in rows))
        return p, DATE

    return make


listing_csv = _text_file("listing.csv", "model,downloads\n", lambda i, v: f"{i},{_cell(v)}")


def _arrow(values: list[Any]) -> pa.Array:
    """A Parquet column holding the values; one odd value makes the column of its type (text, yes/no)."""
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values) and max(values) > INT64_MAX:
        return pa.array(values, pa.uint64())
    if any(isinstance(v, str) for v in values):
        return pa.array([str(v) for v in values])
    if any(isinstance(v, bool) for v in values):
        return pa.array([bool(v) for v in values])
    return pa.array(values)


def _parquet(name: str, id_column: str) -> Maker:
    def make(d: Path, rows: Rows) -> tuple[Path, list[str]]:
        p = d / name
        pq.write_table(pa.table({id_column: [i for i, _ in rows], "downloads": _arrow([v for _, v in rows])}), p)
        return p, DATE

    return make


listing_parquet = _parquet("model_info.parquet", "modelId")
datasets_parquet = _parquet("dataset_info.parquet", "dataset_name")


def listing_sqlite(d: Path, rows: Rows) -> tuple[Path, list[str]]:
    p = d / "listing.db"
    con = sqlite3.connect(p)
    con.execute("CREATE TABLE listing (modelId TEXT, downloads)")
    con.executemany("INSERT INTO listing VALUES (?, ?)", rows)
    con.commit()
    con.close()
    return p, DATE


def listing_json(d: Path, rows: Rows) -> tuple[Path, list[str]]:
    p = d / "models.json"
    p.write_text("{" + ", ".join(f"{json.dumps(i)}: {_tok(v)}" for i, v in rows) + "}")
    return p, [*DATE, "--format", "hf-listing"]


listing_txt = _text_file("repo_names.txt", "", lambda i, v: i)


def peatmoss_db(d: Path, rows: Rows) -> tuple[Path, list[str]]:
    p = d / "PeaTMOSS.db"
    con = sqlite3.connect(p)
    con.execute("CREATE TABLE model (id INTEGER PRIMARY KEY, context_id TEXT, downloads, likes)")
    con.executemany("INSERT INTO model VALUES (?, ?, ?, 0)", [(n, i, v) for n, (i, v) in enumerate(rows, 1)])
    con.commit()
    con.close()
    return p, DATE


def lineage_folder(d: Path, rows: Rows) -> tuple[Path, list[str]]:
    f = d / "trees"
    f.mkdir()
    ids = [i for i, _ in rows]
    (f / "edges.csv").write_text(
        "parent,child,relation\n" + "".join(f"{a},{b},finetune\n" for a, b in itertools.pairwise(ids))
    )
    (f / "nodes.csv").write_text("model_id,downloads\n" + "".join(f"{i},{_cell(v)}\n" for i, v in rows))
    return f, DATE


def lineage_raw(d: Path, rows: Rows) -> tuple[Path, list[str]]:
    import csv

    f = d / "raw"
    f.mkdir()
    p = f / "fam_finetunes_20250101_000000.csv"
    with open(p, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["model_id", "card", "metadata", "children"])
        for i, v in rows:
            w.writerow([i, "", f'{{"id": {json.dumps(i)}, "downloads": {_tok(v)}}}', ""])
    return p, []


def top_pypi(d: Path, rows: Rows) -> tuple[Path, list[str]]:
    p = d / "2020-01-01_top-pypi-packages.json"
    body = ", ".join(f'{{"download_count": {_tok(v)}, "project": {json.dumps(i)}}}' for i, v in rows)
    p.write_text(f'{{"last_update": "2020-01-01 00:00:00", "rows": [{body}]}}')
    return p, []


def npm_counts(d: Path, rows: Rows) -> tuple[Path, list[str]]:
    p = d / "2.20250101.0_counts.json"
    p.write_text("{" + ", ".join(f"{json.dumps(i)}: {_tok(v)}" for i, v in rows) + "}")
    return p, []


def npm_high_impact(d: Path, rows: Rows) -> tuple[Path, list[str]]:
    p = d / "top-download.js"
    p.write_text("export const topDownload = [" + ", ".join(json.dumps(i) for i, _ in rows) + "]\n")
    return p, DATE


datasets_csv = _text_file("datasets.csv", "dataset_name,downloads,has_card\n", lambda i, v: f"{i},{_cell(v)},true")


def datasets_with_cards(d: Path, rows: Rows) -> tuple[Path, list[str]]:
    p, args = datasets_parquet(d, rows)
    cards = d / "dataset_cards.jsonl"
    cards.write_text("".join(json.dumps({"dataset_name": i, "card": f"# {i}"}) + "\n" for i, _ in rows))
    return p, [*args, "--cards", str(cards)]


HISTORY_HEAD = "repo_url,commit_hash,model_file_path,serialization_format,message,author,date\n"


def _commit_date(v: Any) -> str:
    """A commit time holding the sample's value: a good value as a day of 2023, a bad one as written."""
    return v.text if isinstance(v, Raw) else f"2023-01-{v % 28 + 1:02d}T00:00:00Z"


def _hash(i: str) -> str:
    return hashlib.sha1(i.encode()).hexdigest()


def commit_history(d: Path, rows: Rows) -> tuple[Path, list[str]]:
    p = d / "commits.csv"
    p.write_text(
        HISTORY_HEAD + "".join(f"{i},{_hash(i)},{i}\\model.bin,torch.save,up,Ann,{_commit_date(v)}\n" for i, v in rows)
    )
    return p, []


def commit_plain(d: Path, rows: Rows) -> tuple[Path, list[str]]:
    p = d / "log.csv.gz"
    body = "repo,commit,date,author,message\n" + "".join(
        f"{i},{_hash(i)[:12]},{_commit_date(v)},Ann,fix\n" for i, v in rows
    )
    p.write_bytes(gzip.compress(body.encode()))
    return p, []


def _gh_repo(v: Any) -> str:
    """The GitHub repository of a mapping row holding the sample's value."""
    return v.text if isinstance(v, Raw) else f"github.com/o/r{v}"


gh_mapping = _text_file(
    "gh_repo_to_hf_model_license_mapping.csv", "", lambda i, v: f"{_gh_repo(v)},{i},https://huggingface.co/{i},mit"
)
gh_mapping_header = _text_file(
    "dependents.csv", "github_repo,model_id,license\n", lambda i, v: f"{_gh_repo(v)},{i},mit"
)


# -- repeated keys -------------------------------------------------------------------------------


def _rep_hf_api(d: Path) -> tuple[Path, list[str], tuple]:
    p = d / "model_infos.jsonl"
    p.write_text(
        '{"modelId": "a/x", "lastModified": "2022-01-01T00:00:00Z", "downloads": 1}\n'
        '{"modelId": "b/y", "lastModified": "2022-01-01T00:00:00Z", "downloads": 5, "downloads": 7}\n'
    )
    return p, [], ("first", "b/y", 5, "1 repeated keys")


def _rep_top_pypi(d: Path) -> tuple[Path, list[str], tuple]:
    p = d / "2020-01-01_top-pypi-packages.json"
    p.write_text(
        '{"last_update": "2020-01-01 00:00:00", "rows": [{"download_count": 9, "project": "a"}, '
        '{"download_count": 5, "download_count": 7, "project": "b"}]}'
    )
    return p, [], ("first", "b", 5, "1 repeated keys")


def _rep_npm(d: Path) -> tuple[Path, list[str], tuple]:
    p = d / "2.20250101.0_counts.json"
    p.write_text('{"a": 5, "b": 3, "a": 7}')
    return p, [], ("first", "a", 5, "1 duplicate ids (kept the first row of each; e.g. a)")


def _rep_listing_json(d: Path) -> tuple[Path, list[str], tuple]:
    p = d / "models.json"
    p.write_text('{"a/x": 5, "b/y": 3, "a/x": 7}')
    return p, [*DATE, "--format", "hf-listing"], ("first", "a/x", 5, "1 duplicate ids")


def _rep_raw(d: Path) -> tuple[Path, list[str], tuple]:
    p, _ = lineage_raw(d, [("a/x", 1), ("b/y", Raw('5, "downloads": 7'))])
    return p, [], ("first", "b/y", 5, "1 repeated keys")


def _rep_csv(d: Path) -> tuple[Path, list[str], tuple]:
    p = d / "listing.csv"
    p.write_text("model,downloads,downloads\na/x,1,2\n")
    return p, DATE, ("error", f"{p}:1: column 'downloads' appears twice in the header (columns 2 and 3)")


def _rep_nodes(d: Path) -> tuple[Path, list[str], tuple]:
    f, args = lineage_folder(d, [("a", 1), ("b", 2)])
    (f / "nodes.csv").write_text("model_id,downloads,model_id\na,1,a\n")
    return f, args, ("error", f"{f / 'nodes.csv'}:1: column 'model_id' appears twice in the header")


def _rep_parquet(maker: Maker) -> Callable[[Path], tuple[Path, list[str], tuple]]:
    """A Parquet sample with a second column ``Downloads``: refused, naming both spellings."""

    def rep(d: Path) -> tuple[Path, list[str], tuple]:
        p, args = maker(d, [("a/x", 1)])
        t = pq.read_table(p)
        pq.write_table(t.append_column("Downloads", pa.array([2])), p)
        return p, args, ("error", f"{p}: columns 'downloads' and 'Downloads' differ only in case")

    return rep


def _rep_sqlite_rows(maker: Maker) -> Callable[[Path], tuple[Path, list[str], tuple]]:
    def rep(d: Path) -> tuple[Path, list[str], tuple]:
        p, args = maker(d, [("a/x", 5), ("b/y", 3), ("a/x", 7)])
        return p, args, ("first", "a/x", 5, "1 duplicate ids")

    return rep


def _rep_js(d: Path) -> tuple[Path, list[str], tuple]:
    p, args = npm_high_impact(d, [("a", None), ("b", None), ("a", None)])
    return p, args, ("first", "a", None, "1 duplicate ids")


def _rep_txt(d: Path) -> tuple[Path, list[str], tuple]:
    p, args = listing_txt(d, [("a/x", None), ("b/y", None), ("a/x", None)])
    return p, args, ("first", "a/x", None, "1 duplicate ids")


def _rep_datasets_rows(d: Path) -> tuple[Path, list[str], tuple]:
    p, args = datasets_with_cards(d, [("a/x", 5), ("b/y", 3), ("a/x", 7)])
    return p, args, ("first", "a/x", 5, "1 duplicate dataset ids (kept the first row of each; e.g. a/x)")


def _rep_header(maker: Maker, twice: str, columns: str) -> Callable[[Path], tuple[Path, list[str], tuple]]:
    """A CSV sample whose header names ``twice`` again at its end: refused, naming the two columns."""

    def rep(d: Path) -> tuple[Path, list[str], tuple]:
        p, args = maker(d, [("a", 1)])
        raw = p.read_bytes()
        text = (gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw).decode()
        head, rest = text.split("\n", 1)
        text = f"{head},{twice}\n" + "".join(f"{line},x\n" for line in rest.splitlines())
        p.write_bytes(gzip.compress(text.encode()) if raw[:2] == b"\x1f\x8b" else text.encode())
        return p, args, ("error", f"{p}:1: column {twice!r} appears twice in the header ({columns})")

    return rep


# -- the samples -------------------------------------------------------------------------------------

JSON_RANGE = [Raw(str(10**30)), Raw(str(2**63)), Raw("1e300"), Raw("1e999"), Raw("-1e300")]
JSON_TYPES = [Raw('"12"'), Raw("true"), Raw("[1]"), Raw('{"n": 1}'), Raw("1.5")]
CSV_RANGE = [Raw("99999999999999999999999"), Raw(str(2**63)), Raw("1e300")]
CSV_TYPES = [Raw("lots"), Raw("1.5"), Raw("true")]
COMMIT_DATES_RANGE = [Raw("1900-01-01"), Raw("2999-12-31T00:00:00Z"), Raw("Tue Jan 25 16:34:18 1960 +0100")]
COMMIT_DATES_TYPES = [Raw("soon"), Raw("12"), Raw("2023-02-30")]
YEARS = "out of range (years 1970 … 2100 in UTC)"


def _at_line(offset: int) -> Callable[[Path, int], str]:
    return lambda p, r: f"{p}:{r + offset} "


def _at_row(p: Path, r: int) -> str:
    return f"(row {r + 1})"


SAMPLES: dict[str, Sample] = {
    "hf-api jsonl": Sample("hf-api", hf_api_jsonl, _at_line(1), JSON_RANGE, JSON_TYPES, _rep_hf_api),
    "hf-api array gz": Sample("hf-api", hf_api_array_gz, _at_line(1), JSON_RANGE[:2], JSON_TYPES[:2]),
    "hf-api + cards": Sample("hf-api", hf_api_with_cards, _at_line(1), JSON_RANGE[2:3], JSON_TYPES[:1]),
    "hf-listing csv": Sample("hf-listing", listing_csv, _at_line(2), CSV_RANGE, CSV_TYPES, _rep_csv),
    "hf-listing parquet": Sample(
        "hf-listing",
        listing_parquet,
        lambda p, r: f"{p} (column downloads): ",  # a column of the wrong type has no row to name
        [2**64 - 1, 1e300, 2.0**63],
        ["lots", True],
        _rep_parquet(listing_parquet),
    ),
    "hf-listing sqlite": Sample(
        "hf-listing",
        listing_sqlite,
        _at_line(1),
        [1e30, 2.0**63],
        ["lots", b"\x00\x01", 1.5],
        _rep_sqlite_rows(listing_sqlite),
    ),
    "hf-listing json": Sample("hf-listing", listing_json, _at_row, JSON_RANGE[:3], [], _rep_listing_json),
    "hf-listing txt": Sample("hf-listing", listing_txt, _at_line(1), [], [], _rep_txt),
    "peatmoss": Sample(
        "peatmoss", peatmoss_db, _at_line(1), [1e30, 2.0**63], ["lots", 1.5], _rep_sqlite_rows(peatmoss_db)
    ),
    "lineage-edges folder": Sample(
        "lineage-edges", lineage_folder, lambda p, r: f"{p / 'nodes.csv'}:{r + 2} ", CSV_RANGE, CSV_TYPES, _rep_nodes
    ),
    "lineage-edges raw": Sample("lineage-edges", lineage_raw, _at_line(2), JSON_RANGE[:3], JSON_TYPES, _rep_raw),
    "top-pypi": Sample("top-pypi", top_pypi, _at_row, JSON_RANGE, JSON_TYPES, _rep_top_pypi),
    "npm-download-counts": Sample(
        "npm-download-counts", npm_counts, lambda p, r: f"downloads of 'p{r}'", JSON_RANGE, JSON_TYPES, _rep_npm
    ),
    "npm-high-impact": Sample("npm-high-impact", npm_high_impact, _at_line(1), [], [], _rep_js),
    "hf-datasets parquet": Sample(
        "hf-datasets",
        datasets_parquet,
        lambda p, r: f"{p} (column downloads): ",
        [2**64 - 1, 1e300, 2.0**63, -4],
        ["lots", True, 1.5],
        _rep_parquet(datasets_parquet),
    ),
    "hf-datasets csv": Sample(
        "hf-datasets",
        datasets_csv,
        _at_line(2),
        [*CSV_RANGE, Raw("-1")],
        CSV_TYPES,
        _rep_header(datasets_csv, "downloads", "columns 2 and 4"),
    ),
    "hf-datasets + cards": Sample(
        "hf-datasets",
        datasets_with_cards,
        lambda p, r: f"{p} (column downloads): ",
        [1e300],
        ["lots"],
        _rep_datasets_rows,
    ),
    # no numbers in a commit log: its commit times are what can be out of range or not a time
    "commit-log history": Sample(
        "commit-log",
        commit_history,
        _at_line(2),
        COMMIT_DATES_RANGE,
        COMMIT_DATES_TYPES,
        _rep_header(commit_history, "date", "columns 7 and 8"),
        range_text=YEARS,
        type_text="date is not a time",
    ),
    "commit-log plain": Sample(
        "commit-log",
        commit_plain,
        _at_line(2),
        COMMIT_DATES_RANGE[:1],
        COMMIT_DATES_TYPES[:1],
        _rep_header(commit_plain, "commit", "columns 2 and 6"),
        range_text=YEARS,
        type_text="date is not a time",
    ),
    # no numbers in a mapping: a dependent that is not a GitHub repository is its wrong type
    "gh-dependents": Sample(
        "gh-dependents",
        gh_mapping,
        _at_line(1),
        [],
        [Raw("gitlab.com/o/r"), Raw("12"), Raw("github.com/o")],
        type_text="not a GitHub repository",
    ),
    "gh-dependents header": Sample(
        "gh-dependents",
        gh_mapping_header,
        _at_line(2),
        [],
        [Raw("gitlab.com/o/r")],
        _rep_header(gh_mapping_header, "model_id", "columns 2 and 4"),
        type_text="not a GitHub repository",
    ),
}


def _rows_with(bad: Any) -> Rows:
    return [("p0", 3), ("p1", bad), ("p2", 1)]


def _shown(v: Any) -> tuple[str, ...]:
    """How an error message may show the number: as written, or as Python prints the float it parses to."""
    if isinstance(v, Raw):
        t = v.text
        try:
            return (t, repr(float(t))) if any(c in t for c in ".eE") else (t,)
        except ValueError:  # not a number (a time)
            return (t,)
    return (repr(v),) if isinstance(v, float) else (str(v),)


def _plan(path: Path, args: list[str]) -> list:
    kw: dict[str, Any] = {}
    it = iter(args)
    for a in it:
        if a == "--date":
            import datetime as dt

            kw["taken_at"] = dt.date.fromisoformat(next(it))
        elif a == "--format":
            kw["format"] = next(it)
        elif a == "--cards":
            kw["cards_path"] = Path(next(it))
    return plan(path, **kw)


def test_every_registered_format_has_samples():
    covered = {s.fmt for s in SAMPLES.values()}
    missing = sorted(set(IMPORTERS) - covered)
    assert not missing, f"add adversarial samples for the new format(s) {missing} to {Path(__file__).name}"


def test_samples_are_valid(tmp_path):
    """Each sample, filled with good values, imports (else the other tests would test nothing)."""
    for name, s in SAMPLES.items():
        d = tmp_path / name.replace(" ", "_")
        d.mkdir()
        path, args = s.make(d, [("p0", 3), ("p1", 2), ("p2", 1)])
        (p,) = _plan(path, args)
        ids = sorted(p.batch.table("packages").column("package_id").to_pylist())
        assert set(ids) >= {"p0", "p1", "p2"}, name


CASES = [
    (name, kind, i)
    for name, s in SAMPLES.items()
    for kind, values in (("range", s.out_of_range), ("type", s.wrong_types))
    for i in range(len(values))
]


@pytest.mark.parametrize(("name", "kind", "i"), CASES, ids=[f"{n}-{k}-{i}" for n, k, i in CASES])
def test_bad_number_is_one_input_error_naming_file_and_place(name, kind, i, tmp_path):
    s = SAMPLES[name]
    bad = (s.out_of_range if kind == "range" else s.wrong_types)[i]
    path, args = s.make(tmp_path, _rows_with(bad))
    with pytest.raises(InputError) as ei:
        _plan(path, args)
    msg = str(ei.value)
    assert "\n" not in msg
    negative = (isinstance(bad, Raw) and bad.text.startswith("-")) or (isinstance(bad, (int, float)) and bad < 0)
    if kind == "range" and not negative:
        assert s.range_text in msg and any(f" {x} {s.range_text}" in msg for x in _shown(bad)), msg
    elif kind == "range":
        assert "must not be negative" in msg, msg
    elif name == "hf-listing json":  # its values must all be numbers: the whole file is refused
        assert "expected a JSON object {model id: downloads}" in msg, msg
    else:
        assert s.type_text in msg, msg
    if name != "hf-listing json" or kind == "range":
        assert s.where(path, 1) in msg, (s.where(path, 1), msg)


@pytest.mark.parametrize("name", [n for n, s in SAMPLES.items() if s.repeated is not None])
def test_repeated_keys_keep_the_first_or_are_refused(name, tmp_path):
    s = SAMPLES[name]
    assert s.repeated is not None
    path, args, expect = s.repeated(tmp_path)
    if expect[0] == "error":
        with pytest.raises(InputError) as ei:
            _plan(path, args)
        assert expect[1] in str(ei.value)
        return
    _, pid, downloads, note = expect
    (p,) = _plan(path, args)
    rows = {r["package_id"]: r["downloads"] for r in p.batch.table("packages").to_pylist()}
    assert rows[pid] == downloads
    assert note in (p.batch.snapshot.notes or ""), p.batch.snapshot.notes
    assert any(note in w for w in p.batch.warnings)


# -- one line, exit 1, store unchanged (through the CLI) --------------------------------------------


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


@pytest.fixture
def seeded(tmp_path, cli) -> Path:
    good = tmp_path / "good" / "2.20250101.0_counts.json"
    good.parent.mkdir()
    good.write_text(json.dumps({"a": 3, "b": 1}))
    store = tmp_path / "s.duckdb"
    code, _, err = cli("ingest", good, "--store", store)
    assert code == 0, err
    return store


@pytest.mark.parametrize("name", list(SAMPLES))
def test_cli_one_line_exit_1_store_unchanged(name, tmp_path, cli, seeded):
    s = SAMPLES[name]
    cases: list[tuple[Path, list[str]]] = []
    for values in (s.out_of_range, s.wrong_types):
        if values:
            d = tmp_path / f"case{len(cases)}"
            d.mkdir()
            cases.append(s.make(d, _rows_with(values[0])))
    if s.repeated is not None:
        d = tmp_path / "rep"
        d.mkdir()
        path, args, expect = s.repeated(d)
        if expect[0] == "error":
            cases.append((path, args))
    if not cases:
        pytest.skip(f"{name}: no numbers and no repeatable keys to get wrong")
    before = _sha(seeded)
    for path, args in cases:
        code, out, err = cli("ingest", path, *args, "--store", seeded)
        lines = [ln for ln in err.splitlines() if ln.strip()]
        assert code == 1 and out == "", err
        assert len(lines) == 1 and lines[0].startswith("error: "), err
        assert str(path) in lines[0] or path.name in lines[0] or "nodes.csv" in lines[0], lines[0]
        assert _sha(seeded) == before


# -- a file replaced while it is read ------------------------------------------------------------------


class _Swapper:
    """Replaces ``target`` by ``other`` just before the k-th time the process opens ``target``.

    Opens are seen through the interpreter's audit events (``open``,
    ``sqlite3.connect``), so every way an importer may read the file counts.
    """

    active: _Swapper | None = None
    installed = False

    def __init__(self, target: Path, other: Path, k: int, in_place: bool) -> None:
        self.target = os.path.abspath(target)
        self.other = other
        self.k = k
        self.in_place = in_place
        self.opens = 0
        self.busy = False

    @classmethod
    def install(cls) -> None:
        if not cls.installed:
            sys.addaudithook(functools.partial(cls._hook, cls))  # hooks stay for the process's life
            cls.installed = True

    @staticmethod
    def _hook(cls: type[_Swapper], event: str, args: tuple) -> None:
        me = cls.active
        if me is None or me.busy or event not in ("open", "sqlite3.connect"):
            return
        raw = args[0] if args else None
        if isinstance(raw, int) or raw is None:
            return
        p = os.fsdecode(raw)
        if p.startswith("file:"):
            p = urllib.parse.unquote(urllib.parse.urlsplit(p).path)
        if os.path.abspath(p) != me.target:
            return
        me.opens += 1
        if me.opens == me.k:
            me.busy = True
            try:
                if me.in_place:
                    with open(me.target, "r+b") as f:
                        f.write(me.other.read_bytes())
                        f.truncate()
                else:
                    tmp = me.target + ".swap"
                    shutil.copyfile(me.other, tmp)
                    os.replace(tmp, me.target)
            finally:
                me.busy = False


def _rows_of(batch) -> dict[str, list[dict]]:
    return {name: t.drop_columns(["snapshot_id"]).to_pylist() for name, t in sorted(batch.tables.items())}


def _versions(s: Sample, tmp: Path) -> tuple[Path, list[str], Path, Path, list[Path]]:
    """Version A (imported from folder a) and version B (same file names, other rows, in folder b)."""
    a, b = tmp / "a", tmp / "b"
    a.mkdir()
    b.mkdir()
    path, args = s.make(a, [("p0", 3), ("p1", 2), ("p2", 1)])
    s.make(b, [("q0", 30), ("q1", 20), ("q2", 10), ("q3", 5)])
    files = sorted(f for f in a.rglob("*") if f.is_file())
    return path, args, a, b, files


SWAP_SAMPLES = [n for n in SAMPLES if n not in ("hf-api array gz",)]


@pytest.mark.parametrize("name", SWAP_SAMPLES)
def test_file_swapped_mid_read_gets_the_sha256_of_the_rows_read(name, tmp_path):
    s = SAMPLES[name]
    path, args, a, b, files = _versions(s, tmp_path)
    _Swapper.install()
    for target in files:
        rel = target.relative_to(a)
        other = b / rel
        pristine = target.read_bytes()
        # what a clean read of each state gives: sha256 -> rows
        clean_a = _plan(path, args)[0].batch
        target.write_bytes(other.read_bytes())
        clean_b = _plan(path, args)[0].batch
        target.write_bytes(pristine)
        expect = {
            clean_a.snapshot.source_sha256: _rows_of(clean_a),
            clean_b.snapshot.source_sha256: _rows_of(clean_b),
        }
        assert len(expect) == 2
        # count the opens of an import, then swap before each of them in turn (and after the last)
        counter = _Swapper(target, other, k=0, in_place=False)
        _Swapper.active = counter
        try:
            _plan(path, args)
        finally:
            _Swapper.active = None
        assert counter.opens >= 1, f"{name}: {rel} was never opened through Python"
        seen: set[str] = set()
        for in_place in (False, True):
            for k in range(1, counter.opens + 2):
                target.write_bytes(pristine)
                sw = _Swapper(target, other, k=k, in_place=in_place)
                _Swapper.active = sw
                try:
                    batch = _plan(path, args)[0].batch
                except PtmscopeError as exc:  # refusing a file that changed is fine too
                    assert "\n" not in str(exc)
                    continue
                finally:
                    _Swapper.active = None
                sha = batch.snapshot.source_sha256
                assert sha in expect, f"{name} {rel} k={k} in_place={in_place}: sha256 of neither version"
                assert _rows_of(batch) == expect[sha], (
                    f"{name} {rel} k={k} in_place={in_place}: rows of the other version"
                )
                seen.add(sha)
        assert seen == set(expect), f"{name} {rel}: the swaps never took effect"
        target.write_bytes(pristine)


@pytest.mark.parametrize("name", ["hf-api jsonl", "hf-listing csv"])
def test_swap_mid_ingest_through_the_store(name, tmp_path, cli):
    """The issue's cases end to end: the stored sha256 is that of the version whose rows are stored."""
    s = SAMPLES[name]
    path, args, a, b, files = _versions(s, tmp_path)
    (target,) = files
    other = b / target.relative_to(a)
    pristine = target.read_bytes()
    expect = {}
    for content in (pristine, other.read_bytes()):
        target.write_bytes(content)
        batch = _plan(path, args)[0].batch
        expect[batch.snapshot.source_sha256] = sorted(
            (r["package_id"], r["downloads"]) for r in batch.table("packages").to_pylist()
        )
    _Swapper.install()
    counter = _Swapper(target, other, k=0, in_place=False)
    _Swapper.active = counter
    try:
        code, _, err = cli("ingest", path, *args, "--store", tmp_path / "count.duckdb")
    finally:
        _Swapper.active = None
    assert code == 0, err
    seen: set[str] = set()
    for k in range(1, counter.opens + 2):
        target.write_bytes(pristine)
        store = tmp_path / f"s{k}.duckdb"
        _Swapper.active = _Swapper(target, other, k=k, in_place=False)
        try:
            code, _, err = cli("ingest", path, *args, "--store", store)
        finally:
            _Swapper.active = None
        assert code == 0, err
        with Store(store, read_only=True) as st:
            (snap,) = st.snapshots()
            rows = sorted(st.con.execute("SELECT package_id, downloads FROM packages").fetchall())
        assert snap.source_sha256 in expect and rows == expect[snap.source_sha256], k
        seen.add(snap.source_sha256)
    assert seen == set(expect), "the swaps never took effect"


# -- CSV rows with the wrong number of fields ------------------------------------------------------------


CSV_SAMPLES = {
    "hf-listing csv": lambda path: path,
    "lineage-edges folder": lambda path: path / "nodes.csv",
    "lineage-edges raw": lambda path: path,
    "hf-datasets csv": lambda path: path,
    "commit-log history": lambda path: path,
    "gh-dependents header": lambda path: path,
}


@pytest.mark.parametrize("name", list(CSV_SAMPLES))
@pytest.mark.parametrize("extra", [1, -1])
def test_csv_row_with_wrong_field_count_names_its_line(name, extra, tmp_path):
    s = SAMPLES[name]
    path, args = s.make(tmp_path, [("p0", 3), ("p1", 2), ("p2", 1)])
    csv_file = CSV_SAMPLES[name](path)
    lines = csv_file.read_text().splitlines()
    n = len(lines[0].split(","))
    # a quoted value spanning two lines first, so the bad row's line is not its row number
    fields = ["x"] * n
    fields[0] = '"p9\nstill p9"'
    good = ",".join(fields)
    bad = ",".join(["y"] * (n + extra))
    csv_file.write_text("\n".join([*lines, good, bad]) + "\n")
    bad_line = len(lines) + 3  # header + rows, the two lines of the quoted value, then the bad row
    with pytest.raises(InputError) as ei:
        _plan(path, args)
    assert str(ei.value).startswith(f"{csv_file}:{bad_line}: row has {n + extra} fields, the header has {n}"), str(
        ei.value
    )


# -- hostile files, for every registered format (no sample needed) -------------------------------------


def _hostile(d: Path) -> list[Path]:
    out = []

    def put(name: str, data: bytes) -> None:
        p = d / name
        p.write_bytes(data)
        out.append(p)

    put("random.json", hashlib.sha512(b"x").digest() * 40)
    put("deep.json", b"[" * 100_000 + b"]" * 100_000)
    put("deepobj.jsonl", b'{"modelId": "a", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n")
    put("longnum.json", b'{"a": ' + b"9" * 5000 + b"}")
    put("nan.json", b'{"a": NaN, "b": Infinity}')
    put("nul.csv", b"model,downloads\na\x00b,1\n")
    put("badutf8.csv", b"model,downloads\n\xff\xfe,1\n")
    put("header_only.csv", b"model,downloads\n")
    put("quote.csv", b'model,downloads\n"a,1\n')
    put("garbage.gz", b"\x1f\x8b" + b"\x00" * 50)
    put("notsqlite.db", b"SQLite format 3\x00" + b"\x00" * 200)
    put("surrogate.jsonl", b'{"modelId": "a\\ud800", "lastModified": "2022-01-01T00:00:00Z", "downloads": 1}\n')
    put("surrogate_counts.json", b'{"a\\udc00": 1}')
    put("surrogate.js", b"export const topDownload = ['a', '\\ud800']\n")
    put("scalar.json", b"42")
    put("empty_obj.json", b"{}")
    put("records_mixed.json", b'[{"modelId": "a", "downloads": 1}, {"modelId": 5, "downloads": "x"}]')
    sq = d / "nocols.db"
    con = sqlite3.connect(sq)
    con.execute("CREATE TABLE t (x INTEGER)")
    con.commit()
    con.close()
    out.append(sq)
    pqf = d / "empty.parquet"
    pq.write_table(pa.table({"modelId": pa.array([], pa.string())}), pqf)
    out.append(pqf)
    nested = d / "nested.parquet"
    pq.write_table(pa.table({"modelId": ["a"], "downloads": [[1, 2]], "pipeline_tag": [["x"]]}), nested)
    out.append(nested)
    return out


@pytest.mark.parametrize("fmt", sorted(IMPORTERS))
def test_hostile_files_are_one_line_errors(fmt, tmp_path):
    """Whatever the file, an importer raises a one-line PtmscopeError or imports it; never anything else."""
    import datetime as dt

    for p in _hostile(tmp_path):
        try:
            plan(p, format=fmt, taken_at=dt.date(2022, 1, 1))
        except PtmscopeError as exc:
            assert "\n" not in str(exc), (p.name, str(exc))
        except Exception as exc:  # pragma: no cover - the failure being tested
            pytest.fail(f"{fmt} on {p.name}: {type(exc).__name__}: {exc}")


# -- the same classes elsewhere ---------------------------------------------------------------------------


def test_snapshots_csv_beside_the_files_is_checked(tmp_path):
    """The sidecar that dates a folder's files: wrong field counts and non-dates name the file; first row wins."""
    import datetime as dt

    d = tmp_path / "pypi"
    d.mkdir()
    f = d / "top-pypi-packages-30-days.json"
    f.write_text(json.dumps({"rows": [{"download_count": 5, "project": "a"}]}))
    side = d / "snapshots.csv"
    side.write_text(f"file,snapshot_date\n{f.name},2020-01-01\n{f.name},2021-01-01\n")
    (p,) = plan(d)
    assert p.batch.snapshot.taken_at == dt.date(2020, 1, 1)
    side.write_text(f"file,snapshot_date\n{f.name},2020-01-01,extra\n")
    with pytest.raises(InputError, match=rf"^{side}:2: row has 3 fields, the header has 2"):
        plan(d)
    side.write_text(f"file,snapshot_date\n{f.name},2020-13-45\n")
    with pytest.raises(InputError, match=rf"^{side} \(column snapshot_date\): snapshot_date of {f.name} is not a date"):
        plan(d)


def test_descendant_pairs_file_hashes_the_bytes_it_parsed(tmp_path):
    from ptmscope.metrics.descendants import descendants_from_pairs

    a = tmp_path / "pairs.csv"
    b = tmp_path / "other.csv"
    a.write_text("base_model,downloads,count\nx,10,1\ny,20,2\nz,30,3\n")
    b.write_text("base_model,downloads,count\nq,7,1\nr,8,5\ns,9,9\n")
    want = {
        hashlib.sha256(a.read_bytes()).hexdigest(): 3,
        hashlib.sha256(b.read_bytes()).hexdigest(): 9,
    }
    pristine = a.read_bytes()
    _Swapper.install()
    for k in (1, 2, 3):
        a.write_bytes(pristine)
        _Swapper.active = _Swapper(a, b, k=k, in_place=False)
        try:
            r = descendants_from_pairs(a, n_boot=0)
        finally:
            _Swapper.active = None
        top = max(n for _, n, _ in r.top_bases)
        assert r.source_sha256 in want and want[r.source_sha256] == top, k
    a.write_text("base_model,downloads,count,count\nx,10,1,2\n")
    with pytest.raises(InputError, match="column 'count' appears twice"):
        descendants_from_pairs(a, n_boot=0)


def test_repeated_keys_in_a_cards_file_keep_the_first(tmp_path):
    dump, _ = hf_api_jsonl(tmp_path, [("a/x", 1), ("b/y", 2)])
    cards = tmp_path / "model_cards.jsonl"
    cards.write_text(
        '{"modelId": "a/x", "readme": "first", "readme": "second"}\n'
        '{"modelId": "b/y", "readme": "b card"}\n'
        '{"modelId": "b/y", "readme": "b again"}\n'
    )
    (p,) = plan(dump, cards_path=cards)
    texts = {r["package_id"]: r["text"] for r in p.batch.table("cards").to_pylist()}
    assert texts == {"a/x": "first", "b/y": "b card"}
    notes = p.batch.snapshot.notes or ""
    assert "1 repeated keys in the cards file's records (kept the first value of each; e.g. readme)" in notes
    assert "cards: 1 repeated model ids in the cards file (kept the first card of each)" in notes


def test_repeated_keys_in_a_dataset_cards_file_keep_the_first(tmp_path):
    listing, args = datasets_parquet(tmp_path, [("a/x", 1), ("b/y", 2)])
    cards = tmp_path / "dataset_cards.jsonl"
    cards.write_text(
        '{"dataset_name": "a/x", "card": "first", "card": "second"}\n'
        '{"dataset_name": "b/y", "card": "b card"}\n'
        '{"dataset_name": "b/y", "card": "b again"}\n'
    )
    (p,) = _plan(listing, [*args, "--cards", str(cards)])
    texts = {r["package_id"]: r["text"] for r in p.batch.table("cards").to_pylist()}
    assert texts == {"a/x": "first", "b/y": "b card"}
    notes = p.batch.snapshot.notes or ""
    assert "1 repeated keys in the cards file's records (kept the first value of each; e.g. card)" in notes
    assert "cards file: 1 repeated dataset ids (kept the first card of each; e.g. b/y)" in notes
    # filed under the hashes of the two files read, listing first
    want = hashlib.sha256(
        (hashlib.sha256(listing.read_bytes()).hexdigest() + hashlib.sha256(cards.read_bytes()).hexdigest()).encode()
    ).hexdigest()
    assert p.batch.snapshot.source_sha256 == want
