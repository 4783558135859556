"""Card-scoring throughput per scorer (cards per second) on this machine.

    .venv/bin/python benchmarks/bench_cards.py                 # all scorers available
    .venv/bin/python benchmarks/bench_cards.py --embedding-cards 300 --llm-cards 500 --json

Cards: the 16,590 real cards of the 2022-02 Hub dump (``../shared/data``),
or, when that is absent, synthetic cards built from hand-written sections.

* rules: every card, one process, one core; reports wall-clock and CPU time
  (``time.process_time``) -- on a shared machine the CPU figure is the fairer
  one; target >= 5,000 cards/s.
* embedding (extra ``[embed]``): the first ``--embedding-cards`` cards, model
  loaded before timing, torch limited to one thread.
* llm: the first ``--llm-cards`` cards against a local fake endpoint
  (127.0.0.1, instant answers) -- the client's own overhead (JSON, HTTP,
  cache writes) with concurrency 8, then the same cards again from the cache.
  Real endpoints are bounded by their latency and rate limits, not by this.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CARDS = ROOT.parent / "shared" / "data" / "hf" / "2022-02_hub-dump" / "model_cards.jsonl.gz"


def load_cards() -> tuple[list[str], str]:
    if CARDS.exists():
        with gzip.open(CARDS, "rt", encoding="utf-8") as f:
            rows = [json.loads(line) for line in f]
        return [r["readme"] for r in rows if not r.get("readme_missing") and r.get("readme")], str(CARDS)
    sys.path.insert(0, str(ROOT / "tests" / "cards"))
    import cards_samples as s  # type: ignore[import-not-found]

    base = [s.FULL_CARD, s.SYNONYM_CARD, s.TRAINER_PLACEHOLDER_CARD, s.HUB_TEMPLATE_EMPTY, s.HTML_CARD]
    return [base[i % len(base)] + f"\n<!-- {i} -->\n" for i in range(10_000)], "synthetic"


def bench_rules(texts: list[str]) -> dict:
    from ptmscope.cards.rules import RulesScorer

    sc = RulesScorer()
    sc.score_many(texts[:200])  # warm the regex/heading caches
    w0, c0 = time.perf_counter(), time.process_time()
    scores = sc.score_many(texts)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    return {
        "scorer": sc.key,
        "cards": len(texts),
        "wall_s": round(wall, 3),
        "cpu_s": round(cpu, 3),
        "cards_per_s_wall": round(len(texts) / wall, 1),
        "cards_per_s_cpu": round(len(texts) / cpu, 1),
        "mean_score": round(sum(s.score for s in scores) / len(scores), 4),
        "target_cards_per_s": 5000,
    }


def bench_embedding(texts: list[str]) -> dict:
    from ptmscope.cards.embedding import EmbeddingScorer, available

    if not available():
        return {"scorer": "embedding", "skipped": "extra [embed] not installed"}
    import torch

    torch.set_num_threads(1)
    sc = EmbeddingScorer()
    sc.score_many(texts[:5])  # load the model, embed the prototypes
    w0, c0 = time.perf_counter(), time.process_time()
    sc.score_many(texts)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    return {
        "scorer": sc.key,
        "cards": len(texts),
        "wall_s": round(wall, 3),
        "cpu_s": round(cpu, 3),
        "cards_per_s_wall": round(len(texts) / wall, 2),
        "cards_per_s_cpu": round(len(texts) / cpu, 2),
        "torch_threads": 1,
    }


class _Fake(BaseHTTPRequestHandler):
    answer = json.dumps(
        {
            "choices": [
                {
                    "message": {
                        "role": "assistant",
                        "content": json.dumps(
                            {
                                "Model description": True,
                                "Limitations": False,
                                "How to use": True,
                                "Training": True,
                                "Evaluation": False,
                            }
                        ),
                    }
                }
            ]
        }
    ).encode()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.answer)))
        self.end_headers()
        self.wfile.write(self.answer)

    def log_message(self, *args: object) -> None:
        pass


def bench_llm(texts: list[str]) -> dict:
    from ptmscope.cards.llm import LLMScorer

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Fake)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            sc = LLMScorer(
                endpoint=f"http://127.0.0.1:{server.server_port}/v1",
                model="fake",
                cache_dir=tmp,
                concurrency=8,
                api_key_env="PTMSCOPE_BENCH_NO_KEY",
            )
            w0 = time.perf_counter()
            sc.score_many(texts)
            cold = time.perf_counter() - w0
            w0 = time.perf_counter()
            sc.score_many(texts)
            hot = time.perf_counter() - w0
    finally:
        server.shutdown()
        server.server_close()
    return {
        "scorer": "llm (local fake endpoint)",
        "cards": len(texts),
        "cold_s": round(cold, 3),
        "cached_s": round(hot, 3),
        "cards_per_s_cold": round(len(texts) / cold, 1),
        "cards_per_s_cached": round(len(texts) / hot, 1),
        "concurrency": 8,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--embedding-cards", type=int, default=300)
    ap.add_argument("--llm-cards", type=int, default=1000)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    texts, source = load_cards()
    results = {
        "source": source,
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "load_avg": os.getloadavg()},
        "rules": bench_rules(texts),
        "llm": bench_llm(texts[: args.llm_cards]),
        "embedding": bench_embedding(texts[: args.embedding_cards]),
    }
    if args.json:
        print(json.dumps(results, indent=2, sort_keys=True))
    else:
        for k in ("rules", "embedding", "llm"):
            print(k, json.dumps(results[k], sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
