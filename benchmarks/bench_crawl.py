"""Crawler throughput and request economy against the local fake Hub.

    .venv/bin/python benchmarks/bench_crawl.py            # real 2022-02 dump if present, else 30,000 synthetic
    .venv/bin/python benchmarks/bench_crawl.py --models 5000 --card-models 2000 --json

Three runs, each into a fresh store, the fake Hub in its own process (so the
crawler does not share a GIL with the server):

1. metadata crawl, pages of 1,000, default ``expand``: models/s and listing
   requests per 1,000 models (target <= 1.1);
2. metadata + cards of the first ``--card-models`` models: models/s, card requests;
3. the same again after 1% of the models changed sha: card requests (only
   the changed ones should be fetched) and models/s of an incremental crawl.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.crawl.fakehub
DUMP = ROOT.parent / "shared" / "data" / "hf" / "2022-02_hub-dump"


def _records(n: int | None):
    from tests.crawl.fakehub import load_dump, synthetic_records

    if DUMP.exists():
        recs, cards = load_dump(DUMP, limit=n)
        return recs, cards, f"real 2022-02 dump ({len(recs)} models)"
    recs, cards = synthetic_records(n or 30_000, seed=0)
    return recs, cards, f"synthetic ({len(recs)} models; the real dump is absent)"


def _serve(q: mp.Queue, n: int | None, change_fraction: float) -> None:
    from tests.crawl.fakehub import FakeHub

    recs, cards, label = _records(n)
    if change_fraction:
        step = max(1, round(1 / change_fraction))
        for i in range(0, len(recs), step):
            recs[i] = dict(recs[i], sha="0" * 40)
    hub = FakeHub(recs, cards).start()
    for r in recs:  # parse card YAML once up front, so the crawl is what we time
        hub._card_data(r["id"])
    q.put((hub.url, label, len(recs)))
    while True:
        time.sleep(3600)


class _Hub:
    def __init__(self, n: int | None, change_fraction: float = 0.0) -> None:
        ctx = mp.get_context("spawn")
        q = ctx.Queue()
        self.proc = ctx.Process(target=_serve, args=(q, n, change_fraction), daemon=True)
        self.proc.start()
        self.url, self.label, self.n = q.get(timeout=300)

    def close(self) -> None:
        self.proc.terminate()
        self.proc.join()


def _crawl(store: Path, url: str, **kw):
    from ptmscope.crawl import CrawlParams, crawl_hf
    from ptmscope.store import Store

    with Store(store) as st:
        t = time.perf_counter()
        res = crawl_hf(st, CrawlParams(endpoint=url, **kw))
        return res, time.perf_counter() - t


def _line(name: str, res, secs: float) -> dict:
    c = res.counters
    out = {
        "run": name,
        "models": res.models,
        "pages": res.pages,
        "seconds": round(secs, 2),
        "models_per_s": round(res.models / secs, 1),
        "list_requests": c["list_requests"],
        "list_requests_per_1000_models": round(1000 * c["list_requests"] / res.models, 3),
        "card_requests": c["card_requests"],
        "cards_copied": c.get("cards_copied", 0),
        "retries": c["retries"],
    }
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", type=int, default=None, help="models served (default: the whole dump / 30,000)")
    ap.add_argument("--card-models", type=int, default=5000, help="models in the card runs")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        hub = _Hub(a.models)
        try:
            label = hub.label
            res, secs = _crawl(Path(tmp, "meta.duckdb"), hub.url, page_size=1000)
            results.append(_line("metadata, pages of 1,000", res, secs))
        finally:
            hub.close()
        hub = _Hub(a.card_models)
        try:
            res, secs = _crawl(Path(tmp, "cards.duckdb"), hub.url, page_size=1000, cards=True)
            results.append(_line("metadata + all cards", res, secs))
        finally:
            hub.close()
        hub = _Hub(a.card_models, change_fraction=0.01)
        try:
            res, secs = _crawl(Path(tmp, "cards.duckdb"), hub.url, page_size=1000, cards=True)
            results.append(_line("incremental (1% changed sha)", res, secs))
        finally:
            hub.close()
    if a.json:
        print(json.dumps({"data": label, "results": results}, indent=2))
        return 0
    print(f"fake Hub serving {label}; pages of 1,000")
    for r in results:
        print(
            f"  {r['run']:<30} {r['models']:>7} models {r['seconds']:>7.2f} s {r['models_per_s']:>9.1f} models/s  "
            f"{r['list_requests_per_1000_models']:.3f} listing req/1000 models  {r['card_requests']} card req  "
            f"{r['cards_copied']} cards copied"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
