"""The importers on the real data in ../shared/data (skipped when absent).

Expected numbers come from the data's own README / snapshots.csv, or are
recomputed here from the raw files with the standard library -- never from
the importers.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import json
import re

import pytest

from ptmscope.aliases import builtin_aliases
from ptmscope.sources import detect_format, plan
from realdata import shared_path

pytestmark = pytest.mark.realdata


def _one(path, **kw):
    (p,) = plan(path, **kw)
    return p.batch


def test_hub_dump_2022_02_with_cards():
    d = shared_path("hf", "2022-02_hub-dump")
    b = _one(d / "model_infos.jsonl.gz", cards_path=d / "model_cards.jsonl.gz", aliases=dict(builtin_aliases("hf")))
    assert detect_format(d / "model_infos.jsonl.gz") == "hf-api"
    assert b.snapshot.row_count == 29_432
    cards = b.table("cards")
    assert cards.num_rows == 29_432
    assert cards.num_rows - sum(cards.column("missing").to_pylist()) == 16_590
    # lineage oracle: cards that contain the Trainer's sentence with a link
    pat = re.compile(r"fine-tuned version of \[[^\]\n]+\]\(", re.I)
    n_trainer = 0
    with gzip.open(d / "model_cards.jsonl.gz", "rt") as fh:
        for line in fh:
            rec = json.loads(line)
            if rec.get("readme") and not rec.get("readme_missing") and pat.search(rec["readme"]):
                n_trainer += 1
    lin = b.table("lineage")
    origins = lin.column("origin").to_pylist()
    assert origins.count("card_text") == n_trainer
    resolved = lin.column("parent_id").to_pylist()
    assert 0 < sum(r is not None for r in resolved) < len(resolved)  # most, not all, name a 2022-02 model


def test_listing_2022_06_sqlite_null_downloads():
    b = _one(shared_path("hf", "2022-06_hf-model-metadata", "PeaTMOSS_ANCIENT.db"), taken_at=dt.date(2022, 6, 15))
    assert b.snapshot.row_count == 10_406
    assert b.table("packages").column("downloads").null_count == 1_369


@pytest.mark.parametrize(
    ("parts", "rows", "date"),
    [
        (("2022-07_huggingfaceR", "models_with_downloads.csv.gz"), 55_524, dt.date(2022, 7, 2)),
        (("2022-08_repo-names", "repo_names_2022-08-15.txt.gz"), 63_367, None),
        (("2022-08_repo-names", "top20model_downloads.csv"), 20, dt.date(2022, 8, 15)),
        (("2022-10_model-card-study", "model_info.parquet"), 74_970, None),
    ],
)
def test_other_listings(parts, rows, date):
    path = shared_path("hf", *parts)
    assert detect_format(path) == "hf-listing"
    b = _one(path, taken_at=date)
    assert b.snapshot.row_count == rows


def test_model_trees_2025_04():
    d = shared_path("hf", "2025-04_model-trees")
    b = _one(d)
    with open(d / "nodes.csv", newline="") as fh:
        nodes = [r["model_id"] for r in csv.DictReader(fh)]
    with open(d / "edges.csv", newline="") as fh:
        edges = {(r["parent"], r["child"], r["relation"]) for r in csv.DictReader(fh)}
    assert len(nodes) == 2_058
    assert b.snapshot.row_count == len(set(nodes))
    lin = b.table("lineage").to_pylist()
    got = {(r["parent_ref"], r["child"], r["relation"]) for r in lin if r["origin"] == "edge_list"}
    assert got == edges
    # every edge's parent is a crawled family member, so all edge parents resolve
    assert all(r["parent_id"] is not None for r in lin if r["origin"] == "edge_list")
    assert {"base_model_tag", "card_yaml"} <= {r["origin"] for r in lin}
    assert b.snapshot.taken_at == dt.date(2025, 4, 26)


def test_top_pypi_all_164_snapshots():
    d = shared_path("pypi", "top-pypi-packages")
    with open(d / "snapshots.csv", newline="") as fh:
        listed = {r["file"]: r for r in csv.DictReader(fh)}
    planned = plan(d)
    assert len(planned) == 164 == len(listed)
    for p in planned:
        row = listed[p.path.name]
        s = p.batch.snapshot
        assert s.taken_at == dt.date.fromisoformat(row["snapshot_date"]), p.path.name
        dups = 0
        if s.notes and "duplicate ids" in s.notes:
            dups = int(re.search(r"(\d+) duplicate ids", s.notes).group(1))
        assert s.row_count + dups == int(row["n_rows"]), p.path.name


def test_npm_high_impact_and_counts():
    d = shared_path("npm", "npm-high-impact")
    with open(d / "snapshots.csv", newline="") as fh:
        listed = {r["file"]: r for r in csv.DictReader(fh)}
    planned = plan(d)
    assert len(planned) == 14
    for p in planned:
        assert p.batch.snapshot.row_count == int(listed[p.path.name]["n_rows"])
        assert p.batch.snapshot.taken_at == dt.date.fromisoformat(listed[p.path.name]["data_date"])
    counts = plan(shared_path("npm", "download-counts"))
    assert [p.batch.snapshot.row_count for p in counts] == [20_000, 20_000]
    assert [p.batch.snapshot.taken_at for p in counts] == [dt.date(2025, 12, 1), dt.date(2026, 3, 1)]


def test_peatmoss_artifact_top_models_json():
    b = _one(
        shared_path("hf", "2023_peatmoss-artifact", "2k_filtered_models.json"),
        format="hf-listing",
        taken_at=dt.date(2023, 8, 1),
    )
    assert b.snapshot.row_count == 1_461
