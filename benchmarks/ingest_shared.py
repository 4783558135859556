"""Time `ptmscope ingest` of every importable file in ../shared/data into a fresh store.

    .venv/bin/python benchmarks/ingest_shared.py [--data ../shared/data] [--store /tmp/x.duckdb]

Prints per source: snapshots, rows, read+validate seconds, write seconds
(wall and CPU), then the total. Files without a date in the data get the
dates the shared-data README gives.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# (path under the data folder, --date or None, --format or None)
SOURCES = [
    ("hf/2022-02_hub-dump", None, None),  # model_infos + model_cards paired
    ("hf/2022-06_hf-model-metadata/PeaTMOSS_ANCIENT.db", "2022-06-15", None),
    ("hf/2022-07_huggingfaceR/models_with_downloads.csv.gz", "2022-07-02", None),
    ("hf/2022-08_repo-names/repo_names_2022-08-15.txt.gz", None, None),
    ("hf/2022-08_repo-names/top20model_downloads.csv", "2022-08-15", None),
    ("hf/2022-10_model-card-study/model_info.parquet", None, None),
    ("hf/2023_peatmoss-artifact/2k_filtered_models.json", "2023-08-01", "hf-listing"),
    ("hf/2025-04_model-trees", None, None),
    ("pypi/top-pypi-packages", None, None),
    ("npm/npm-high-impact", None, None),
    ("npm/download-counts", None, None),
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--store", default=None)
    args = ap.parse_args()
    from ptmscope.sources import ingest, plan
    from ptmscope.store import Store

    data = Path(args.data)
    store_path = Path(args.store or Path(tempfile.mkdtemp()) / "shared.duckdb")
    if store_path.exists():
        os.remove(store_path)
    t0, c0 = time.perf_counter(), time.process_time()
    total_rows = total_snaps = 0
    with Store(store_path) as store:
        aliases = store.aliases("hf")
        for rel, date, fmt in SOURCES:
            p = data / rel
            if not p.exists():
                print(f"{rel}: absent, skipped")
                continue
            t1 = time.perf_counter()
            planned = plan(p, format=fmt, taken_at=dt.date.fromisoformat(date) if date else None, aliases=aliases)
            t2 = time.perf_counter()
            res = ingest(store, planned)
            t3 = time.perf_counter()
            rows = sum(r.rows for r in res)
            total_rows += rows
            total_snaps += len(res)
            print(f"{rel}: {len(res)} snapshots, {rows:,} rows, read {t2 - t1:.2f} s, write {t3 - t2:.2f} s")
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(
        f"TOTAL: {total_snaps} snapshots, {total_rows:,} package rows in {wall:.1f} s wall ({cpu:.1f} s CPU), "
        f"store {store_path.stat().st_size / 1e6:.0f} MB, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
