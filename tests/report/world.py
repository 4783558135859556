"""A small hand-built Hub-like store for the report tests (independent of
ptmscope.synth, so these tests do not depend on another module's choices)."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import numpy as np

from ptmscope.schema import Snapshot, SnapshotBatch, make_snapshot_id, to_table
from ptmscope.store import Store

EVIL_ID = "<img src=x onerror=alert(1)>"
CARD_FULL = (
    "# Model\n\nThis model is a small test model that classifies short English sentences well.\n\n"
    "## Limitations\n\nIt is biased and fails on long inputs.\n\n"
    "## How to use\n\n```python\nfrom transformers import pipeline\npipeline('text-classification')\n```\n\n"
    "## Training\n\nTrained on a public data set for three epochs.\n\n"
    "## Evaluation\n\nAccuracy 0.91 on the test split.\n"
)
CARD_THIN = "# Model\n\nA model.\n"


def make_world(path: Path, *, n: int = 300, seed: int = 0, evil: bool = True, n_snapshots: int = 2) -> Path:
    rng = np.random.default_rng(seed)
    types = ["bert", "gpt2", "t5", "roberta", "wav2vec2"]
    tasks = ["text-classification", "text-generation", "translation", "fill-mask", None]
    libs = ["transformers", "pytorch", "keras"]
    with Store(path) as store:
        for s in range(n_snapshots):
            taken = dt.date(2022, 1 + 3 * s, 15)
            sha = hashlib.sha256(f"world-{seed}-{s}".encode()).hexdigest()
            sid = make_snapshot_id("hf", taken, sha)
            ids, authors, created, mts, dls, tks, tags = [], [], [], [], [], [], []
            for i in range(n):
                a = f"org{int(rng.zipf(1.6)) % 40}"
                mt = types[i % len(types)]
                name = f"{mt}-model-{i}" if i % 3 else f"thing-{i}"
                pid = f"{a}/{name}"
                if evil and i == 0:
                    pid, a = EVIL_ID, None
                ids.append(pid)
                authors.append(a)
                month = int(min(35, rng.exponential(8)))
                created.append(dt.datetime(2019 + (35 - month) // 12, (35 - month) % 12 + 1, 3, tzinfo=dt.UTC))
                mts.append(mt)
                d = int(rng.pareto(1.1) * 50) + (10**7 if (evil and i == 0) else 0)
                dls.append(d)
                tks.append(tasks[i % len(tasks)])
                tags.append(["arxiv:1234.5678"] if i % 4 == 0 else ["pytorch"])
            pk = to_table(
                "packages",
                {
                    "package_id": ids,
                    "raw_id": ids,
                    "downloads": dls,
                    "downloads_window": ["30d"] * n,
                    "author": authors,
                    "created_at": created,
                    "task": tks,
                    "model_type": mts,
                    "tags": tags,
                },
                sid,
            )
            lib = to_table(
                "package_libraries",
                {"package_id": ids, "library": [libs[i % 3] for i in range(n)], "origin": ["library_name"] * n},
                sid,
            )
            children = ids[10:60]
            lin = to_table(
                "lineage",
                {
                    "child": children,
                    "parent_ref": [ids[1 + (i % 5)] for i in range(len(children))],
                    "parent_id": [ids[1 + (i % 5)] for i in range(len(children))],
                    "relation": ["finetune"] * len(children),
                    "origin": ["synthetic"] * len(children),
                },
                sid,
            )
            texts = [CARD_FULL if j % 2 else CARD_THIN for j, _ in enumerate(range(0, n, 2))]
            cards = to_table(
                "cards",
                {
                    "package_id": ids[0:n:2],
                    "text": texts,
                    "text_sha256": [hashlib.sha256(t.encode()).hexdigest() for t in texts],
                    "missing": [False] * len(texts),
                },
                sid,
            )
            snap = Snapshot(sid, "hf", taken, "test-world", f"world-{s}.jsonl", sha, n, "test", synthetic=True)
            store.add_batch(
                SnapshotBatch(snap, {"packages": pk, "package_libraries": lib, "lineage": lin, "cards": cards})
            )
    return path
