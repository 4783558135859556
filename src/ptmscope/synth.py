"""A seeded, Hub-scale synthetic world: dated snapshots of a Hub-like model
registry plus npm- and PyPI-like top-download lists.

Everything here is SYNTHETIC and says so everywhere: every snapshot row has
``synthetic=True``, ``source_format="synthetic"``, a ``notes`` text starting
with ``SYNTHETIC``; every package id carries the marker ``synthetic``
(``synthetic-u000042/bert-text-classification-s0001234``,
``synthetic-pkg-00017``); library and lineage rows have origin
``synthetic``.  The same :class:`SynthConfig` (seed included) always gives
the same bytes.

Model of the world (parameters in :data:`FIT`, each with where it came from)
-----------------------------------------------------------------------------
* **Downloads** (30-day window) follow the marginal fitted to the real
  2022-02 Hub dump: a point mass at zero, a log-normal body and a discrete
  power-law tail above ``x_min`` (Clauset-Shalizi-Newman MLE with the KS
  choice of ``x_min``), truncated at ``cap``.  Each model has a latent
  standard-normal score ``z``; downloads are ``Q(Phi(z))`` with ``Q`` the
  fitted quantile function (a Gaussian copula), so every snapshot has exactly
  the fitted marginal.  Between snapshots ``z`` follows a stationary AR(1)
  with correlation ``rho`` solved so that the expected share of the top-K
  that *remains* in the top-K is the target (Hub ~50%, PyPI ~86%, npm ~96%,
  the paper's orders of magnitude).
* **Churn**: each snapshot has exactly ``models`` models.  Between snapshots
  a share ``new_share`` of models is created (dated between the snapshots)
  and as many old models with below-median downloads disappear (deleted or
  made private), so the registry keeps its size and top models persist.
* **Lineage**: a share ``p_child`` of models has a parent chosen among
  *earlier* models with probability proportional to a fitness
  ``(1 + downloads)^beta`` (preferential attachment to popular models;
  ``beta`` is set so the direct-descendant counts have the tail exponent
  fitted on the paper's own per-base-model counts).  ``merge`` children get
  a second parent.  Relations are drawn from :data:`RELATIONS_P`.
* **Libraries**: a base model draws its library set from the library
  combinations of the 2022-02 dump; a child keeps each parent library with
  the retention probability measured on the dump's resolved fine-tune pairs
  (transformers 0.996, pytorch 0.97, tf 0.05, jax 0.002); models created
  after 2022-10 also carry ``safetensors`` with probability 0.6.
* **Tasks, architectures, authors**: task and ``model_type`` from the dump's
  shares (children inherit their parent's), authors Zipf(1) like the dump
  (a few prolific authors, most with one model), ``created_at`` growing
  exponentially over time.
* **Cards**: 56% of models have one (dump: 16,590 of 29,432); lengths follow
  the dump's quantiles; sections drawn with the dump's heading shares;
  fine-tuned transformers children get the Trainer template with its
  "More information needed" placeholders.
* **npm / PyPI**: ranked top lists (rank-size slope about -1) over a
  universe four times the list size, low churn.

Writing
-------
:func:`write_store` writes straight into a :class:`~ptmscope.store.Store`
(one transaction per snapshot, each table streamed in Arrow chunks of ``chunk_rows``), idempotently
(the snapshot's ``source_sha256`` is the hash of the configuration).
:func:`generate` yields in-memory :class:`~ptmscope.schema.SnapshotBatch`
objects (small worlds).  :func:`write_files` writes the snapshots in the real
publishers' formats (Hub API JSON lines + cards, top-pypi JSON, npm
download-counts JSON) so the importers can be exercised on them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gzip
import hashlib
import json
import math
import queue
import threading
from collections.abc import Callable, Generator, Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy import integrate, optimize, special

from .errors import ParameterError
from .schema import DATA_TABLES, Snapshot, SnapshotBatch, make_snapshot_id

GENERATOR_VERSION = "1"
SOURCE_FORMAT = "synthetic"
MARKER = "synthetic"
# chunks the writer's generator thread may build ahead of DuckDB
AHEAD = 2
_T = TypeVar("_T")

CardsMode = Literal["all", "last", "none"]
CARDS_MODES: tuple[str, ...] = get_args(CardsMode)

# ---------------------------------------------------------------------------
# Fitted parameters (recomputed by ``benchmarks/fit_synth_params.py`` from
# ../shared/data; the numbers below are its output of 2026-11-26).
# ---------------------------------------------------------------------------
FIT: dict[str, Any] = {
    # hf/2022-02_hub-dump/model_infos.jsonl.gz (29,432 models, 212 null downloads dropped):
    # 30.7% zeros; nonzero: power-law tail above x_min=28 (27.2% of nonzero), alpha=1.413
    # (KS distance 0.022); body below x_min log-normal(mu=1.375, sigma=1.009) in log units.
    # Same fit on the 2022-06/07/10 listings: alpha 1.453 / 1.455 / 1.465, x_min 61 / 35 / 62.
    "p_zero": 0.307,
    "x_min": 28.0,
    "p_tail": 0.272,
    "alpha": 1.413,
    "body_mu": 1.375,
    "body_sigma": 1.009,
    # Soft cap of the tail (x -> cap * x / (x + cap)): the fitted alpha alone would put the
    # largest of 3M models near 1e15; the most-downloaded Hub models have ~1e8 a month.  The soft
    # cap keeps the order (no ties at the top) and leaves values below ~1e6 unchanged.
    "cap": 1.0e8,
    # esem24-artifact/direct_descendants_by_base_model.csv (3,471 base models): direct
    # descendant counts have a power-law tail alpha=2.03 above 12; 68% of base models have 1.
    "descendants_alpha": 2.03,
    # hf/2022-02_hub-dump/model_cards.jsonl.gz: 16,590 of 29,432 models have a card; card
    # length in characters: quantiles p10 88, p25 824, p50 2,062, p75 3,496, p90 4,617,
    # p99 12,753 (a log-normal fit, mu=7.196 sigma=1.499, misses the bulk: the median would
    # be 1,332, so the empirical quantiles are used); 83% start with YAML front matter;
    # 13.5% contain the Trainer's "More information needed".
    "p_card": 16590 / 29432,
    "card_len_quantiles": (
        (0.0, 40),
        (0.10, 88),
        (0.25, 824),
        (0.50, 2062),
        (0.75, 3496),
        (0.90, 4617),
        (0.99, 12753),
        (1.0, 60000),
    ),
    "p_yaml": 0.83,
    # Models per author in the dump: 8,026 authors for 29,432 models (3.67 per author),
    # median 1, p99 36, largest 2,488 (8.5%): Zipf(1) over N/3.67 authors.
    "models_per_author": 29432 / 8026,
}

# Library combinations of the 2022-02 dump (library_name + library tags), share of models.
LIBRARY_COMBOS: tuple[tuple[tuple[str, ...], float], ...] = (
    (("pytorch", "transformers"), 14126),
    ((), 7161),
    (("jax", "pytorch", "transformers"), 4241),
    (("pytorch", "tf", "transformers"), 852),
    (("jax", "pytorch", "tf", "transformers"), 831),
    (("tf", "transformers"), 280),
    (("jax", "transformers"), 229),
    (("transformers",), 213),
    (("espnet",), 206),
    (("pytorch", "sentence-transformers", "transformers"), 205),
    (("pytorch",), 144),
    (("spacy",), 139),
    (("adapter-transformers",), 120),
    (("keras",), 105),
    (("pytorch", "sentence-transformers"), 99),
    (("onnx", "pytorch", "transformers"), 39),
    (("stanza",), 73),
    (("flair", "pytorch"), 48),
    (("speechbrain",), 45),
    (("pytorch", "timm"), 39),
)
# P(child keeps library L | parent has L), measured on the 2,233 resolved "fine-tuned version
# of [X]" pairs of the 2022-02 dump; libraries not measured there keep 0.9 (assumption).
KEEP_P: dict[str, float] = {"transformers": 0.996, "pytorch": 0.972, "tf": 0.048, "jax": 0.0016}
KEEP_DEFAULT = 0.9
SAFETENSORS_FROM = dt.date(2022, 10, 1)
SAFETENSORS_P = 0.6

# pipeline_tag shares in the 2022-02 dump (counts); None = no task.
TASKS: tuple[tuple[str | None, int], ...] = (
    (None, 9345),
    ("text-generation", 3935),
    ("text-classification", 3091),
    ("fill-mask", 2369),
    ("text2text-generation", 2236),
    ("automatic-speech-recognition", 1477),
    ("translation", 1458),
    ("token-classification", 1257),
    ("conversational", 1028),
    ("feature-extraction", 972),
    ("question-answering", 967),
    ("sentence-similarity", 333),
    ("summarization", 320),
    ("image-classification", 243),
    ("text-to-speech", 160),
    ("zero-shot-classification", 68),
    ("audio-classification", 51),
    ("object-detection", 11),
    ("text-to-image", 8),
)
# config.model_type shares in the 2022-02 dump.
MODEL_TYPES: tuple[tuple[str | None, int], ...] = (
    (None, 8616),
    ("gpt2", 4853),
    ("bert", 4391),
    ("roberta", 1754),
    ("t5", 1574),
    ("marian", 1481),
    ("wav2vec2", 1388),
    ("distilbert", 1109),
    ("xlm-roberta", 624),
    ("electra", 538),
    ("bart", 449),
    ("albert", 276),
    ("camembert", 175),
    ("pegasus", 174),
    ("gpt_neo", 171),
    ("mt5", 170),
    ("vit", 128),
    ("mbart", 115),
    ("encoder-decoder", 100),
    ("xlnet", 84),
)
# Relations: 2022 card text has only fine-tunes; the 2025-04 model trees (diffusion-heavy) are
# 70% adapter / 25% finetune / 5% quantized / 0.5% merge.  A blend (assumption):
RELATIONS_P: tuple[tuple[str, float], ...] = (
    ("finetune", 0.60),
    ("adapter", 0.25),
    ("quantized", 0.12),
    ("merge", 0.03),
)
LICENSES: tuple[tuple[str | None, float], ...] = (
    (None, 0.55),
    ("apache-2.0", 0.2),
    ("mit", 0.12),
    ("cc-by-4.0", 0.05),
    ("openrail", 0.04),
    ("other", 0.04),
)
# Card headings and the share of real cards (2022-02 dump) that have them.
SECTIONS: tuple[tuple[str, float], ...] = (
    ("Model description", 0.239),
    ("How to use", 0.253),
    ("Training data", 0.233),
    ("Intended uses & limitations", 0.22),
    ("Limitations and bias", 0.177),
    ("Training procedure", 0.364),
    ("Evaluation results", 0.06),
    ("Usage", 0.081),
    ("BibTeX entry and citation info", 0.058),
    ("Citation", 0.038),
    ("Preprocessing", 0.033),
    ("Benchmarks", 0.081),
    ("Contact", 0.011),
)
TRAINER_SECTIONS = (
    "Model description",
    "Intended uses & limitations",
    "Training and evaluation data",
    "Training procedure",
    "Training hyperparameters",
    "Training results",
    "Framework versions",
)


@dataclass(frozen=True)
class SynthConfig:
    """What to generate.  ``models`` is the number of Hub models in *each* snapshot."""

    models: int = 5000
    snapshots: int = 4
    seed: int = 0
    start: dt.date = dt.date(2023, 3, 1)
    step_days: int = 120
    new_share: float = 0.15  # share of each snapshot created since the previous one
    p_child: float = 0.30  # share of models with a recorded parent (assumption, see docs/scale.md)
    hf_remained: float = 0.50  # target share of the top-K remaining in the top-K per step
    turnover_k: int = 1000  # K at which the remained targets hold (min(K, models // 5) used)
    top_list_size: int = 2000  # rows of each npm / PyPI top list
    npm_remained: float = 0.96
    pypi_remained: float = 0.86
    registries: tuple[str, ...] = ("hf", "npm", "pypi")
    cards: CardsMode = "all"
    chunk_rows: int = 250_000

    def __post_init__(self) -> None:
        from .errors import PtmscopeError

        if self.models < 10:
            raise ParameterError("models", f"must be at least 10 (got {self.models})")
        if self.snapshots < 1:
            raise ParameterError("snapshots", f"must be at least 1 (got {self.snapshots})")
        if not 0 <= self.new_share < 1:
            raise PtmscopeError(f"new_share must be in [0, 1) (got {self.new_share})")
        if self.cards not in CARDS_MODES:
            raise PtmscopeError(f"cards must be one of {', '.join(CARDS_MODES)} (got {self.cards!r})")
        bad = [r for r in self.registries if r not in ("hf", "npm", "pypi")]
        if bad:
            raise PtmscopeError(f"unknown registry {bad[0]!r} (choose hf, npm, pypi)")

    def dates(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=self.step_days * i) for i in range(self.snapshots)]

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["start"] = self.start.isoformat()
        d["registries"] = list(self.registries)
        d.pop("chunk_rows")  # does not change the data
        return d

    def sha256(self, registry: str, index: int) -> str:
        """The snapshot's ``source_sha256``: hash of generator version, config, registry, index."""
        key = json.dumps(
            {"generator": GENERATOR_VERSION, "config": self.to_dict(), "registry": registry, "index": index},
            sort_keys=True,
        )
        return hashlib.sha256(key.encode()).hexdigest()


SMALL = SynthConfig()

# ---------------------------------------------------------------------------
# Distributions
# ---------------------------------------------------------------------------


def downloads_quantile(u: np.ndarray, fit: dict[str, Any] = FIT) -> np.ndarray:
    """Inverse CDF of the fitted download marginal, vectorised (``u`` in [0, 1))."""
    p0, pt, xmin = fit["p_zero"], fit["p_tail"], fit["x_min"]
    mu, sigma, a, cap = fit["body_mu"], fit["body_sigma"], fit["alpha"], fit["cap"]
    out = np.zeros(u.shape, dtype=np.float64)
    v = (u - p0) / (1.0 - p0)  # position within the nonzero part
    body = (v >= 0) & (v < 1 - pt)
    tail = v >= 1 - pt
    # body: log-normal restricted to [1, x_min)
    f1, f2 = special.ndtr((0.0 - mu) / sigma), special.ndtr((math.log(xmin) - mu) / sigma)
    w = v[body] / (1 - pt)
    out[body] = np.exp(mu + sigma * special.ndtri(f1 + w * (f2 - f1)))
    # tail: Pareto above x_min (CCDF exponent alpha - 1), soft-capped
    w = (v[tail] - (1 - pt)) / pt
    w = np.minimum(w, 1 - 1e-16)
    x = xmin * (1 - w) ** (-1.0 / (a - 1.0))
    out[tail] = cap * x / (x + cap)
    return np.floor(np.maximum(out, np.where(v >= 0, 1.0, 0.0)))


def topk_remained(rho: float, q: float) -> float:
    """P(Z2 > t | Z1 > t) for standard bivariate normals with correlation rho, t = Phi^-1(1-q)."""
    if rho >= 1:
        return 1.0
    t = special.ndtri(1 - q)
    s = math.sqrt(1 - rho * rho)

    def f(x: float) -> float:
        return math.exp(-x * x / 2) / math.sqrt(2 * math.pi) * special.ndtr(-(t - rho * x) / s)

    val, _ = integrate.quad(f, t, t + 12, limit=200)
    return val / q


def solve_rho(target: float, q: float) -> float:
    """The AR(1) correlation that makes ``target`` of the top ``q`` share stay on top."""
    q = min(max(q, 1e-9), 0.5)
    lo, hi = -0.0, 0.999999
    if topk_remained(lo, q) >= target:
        return lo
    return float(optimize.brentq(lambda r: topk_remained(r, q) - target, lo, hi, xtol=1e-8))


def _categorical(rng: np.random.Generator, n: int, weights: np.ndarray) -> np.ndarray:
    p = np.asarray(weights, dtype=np.float64)
    return np.searchsorted(np.cumsum(p / p.sum()), rng.random(n), side="right").clip(0, len(p) - 1)


_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
# the model-type and task words of package ids
_MT_SHORT = pa.array([m or "model" for m, _ in MODEL_TYPES])
_TASK_SHORT = pa.array([(t or "base").split("-")[0] for t, _ in TASKS])


def _fixed_width(chars: np.ndarray) -> pa.Array:
    """Strings from an (n, width) uint8 matrix of ASCII bytes, without a copy per string."""
    n, width = chars.shape
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(chars)))


# the two hex digits of each byte value, as one uint16 in memory order
_HEX_PAIRS = np.stack([_HEX[np.arange(256) >> 4], _HEX[np.arange(256) & 15]], axis=1).copy().view(np.uint16).ravel()


def _hex(raw: np.ndarray) -> pa.Array:
    """Lower-case hex strings of the rows of an (n, nbytes) uint8 matrix (one table look-up per byte)."""
    return _fixed_width(_HEX_PAIRS[raw].view(np.uint8))


def _int_strings(values: np.ndarray, width: int) -> pa.Array:
    """Zero-padded decimal strings, vectorised."""
    v = values.astype(np.int64)
    digits = np.empty((len(v), width), dtype=np.uint8)
    for i in range(width - 1, -1, -1):
        digits[:, i] = 48 + (v % 10)
        v = v // 10
    return _fixed_width(digits)


def _sha256_rows(strings: pa.Array) -> np.ndarray:
    """SHA-256 digests of each string's UTF-8 bytes as an (n, 32) matrix, read from the Arrow buffers."""
    strings = pa.concat_arrays([strings])  # offset 0, own buffers
    offsets = np.frombuffer(strings.buffers()[1], dtype=np.int32, count=len(strings) + 1)
    data = memoryview(strings.buffers()[2] or b"")
    sha = hashlib.sha256
    digests = b"".join(
        sha(data[a:b]).digest() for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist(), strict=True)
    )
    return np.frombuffer(digests, dtype=np.uint8).reshape(len(strings), 32)


def _repeat(value: str, n: int) -> pa.Array:
    return pa.repeat(pa.scalar(value, pa.string()), n)


def _join(*parts: pa.Array | str) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


# ---------------------------------------------------------------------------
# The Hub-like world
# ---------------------------------------------------------------------------


class HubWorld:
    """All models that ever exist in the synthetic Hub, and who is alive when.

    Static attributes live in arrays over the universe of
    ``models + (snapshots - 1) * new_per_step`` models in creation order;
    downloads are drawn per snapshot from the latent AR(1) scores.
    """

    def __init__(self, cfg: SynthConfig) -> None:
        self.cfg = cfg
        n, s = cfg.models, cfg.snapshots
        self.new_per_step = round(cfg.new_share * n) if s > 1 else 0
        self.universe = u = n + (s - 1) * self.new_per_step
        rng = np.random.default_rng([cfg.seed, 1])
        self.dates = cfg.dates()
        k = min(cfg.turnover_k, max(1, n // 5))
        # newcomers (i.i.d. scores) take about new_share of the next top-K, so the old models'
        # conditional stay probability must be target / (1 - new_share)
        self.rho = solve_rho(min(cfg.hf_remained / (1 - cfg.new_share), 0.999), k / n)

        # creation dates: the first n models before the first snapshot (exponential growth
        # from 2019-01-01), each later batch between two snapshots.
        t0 = dt.datetime(2019, 1, 1, tzinfo=dt.UTC)
        first = dt.datetime.combine(self.dates[0], dt.time(), tzinfo=dt.UTC)
        span = (first - t0).total_seconds()
        g = 3.0
        x = np.sort(rng.random(n))
        secs = [span * np.log1p(x * (math.exp(g) - 1)) / g]
        for i in range(1, s):
            a = dt.datetime.combine(self.dates[i - 1], dt.time(), tzinfo=dt.UTC)
            secs.append((a - t0).total_seconds() + np.sort(rng.random(self.new_per_step)) * cfg.step_days * 86400)
        created_s = np.concatenate(secs)
        self.created_us = (created_s * 1e6).astype(np.int64) + int(t0.timestamp() * 1e6)

        # latent popularity: z[:, i] per snapshot, AR(1)
        self.z0 = rng.standard_normal(u)
        self._drift_seed = [cfg.seed, 2]

        # lineage: parent among earlier models, weight (1 + downloads at creation)^beta
        d0 = downloads_quantile(special.ndtr(self.z0))
        # in-degree tail exponent ~ 1 + (alpha_d - 1) / beta  =>  beta = (alpha_d - 1) / (alpha_desc - 1)
        beta = (FIT["alpha"] - 1) / (FIT["descendants_alpha"] - 1)
        has_parent = rng.random(u) < cfg.p_child
        has_parent[: max(1, min(50, n // 100))] = False  # the oldest models are roots
        weight = (1.0 + d0) ** beta
        weight[has_parent] *= 0.2  # derived models are less often bases themselves
        cum = np.cumsum(weight)
        idx = np.nonzero(has_parent)[0]
        target = rng.random(len(idx)) * cum[idx - 1]
        parent = np.full(u, -1, dtype=np.int64)
        parent[idx] = np.searchsorted(cum, target, side="right")
        self.parent = parent
        self.relation = np.full(u, -1, dtype=np.int8)
        self.relation[idx] = _categorical(rng, len(idx), np.array([p for _, p in RELATIONS_P]))
        # merges take a second parent, drawn the same way
        self.parent2 = np.full(u, -1, dtype=np.int64)
        m = idx[self.relation[idx] == 3]
        if len(m):
            self.parent2[m] = np.searchsorted(cum, rng.random(len(m)) * cum[m - 1], side="right")
            same = self.parent2[m] == self.parent[m]
            self.parent2[m[same]] = -1

        # task and architecture: drawn for roots, mostly inherited by children
        task = _categorical(rng, u, np.array([c for _, c in TASKS]))
        mtype = _categorical(rng, u, np.array([c for _, c in MODEL_TYPES]))
        inherit_t = rng.random(u) < 0.8
        inherit_m = rng.random(u) < 0.95
        # parents precede children, so one pass in creation order resolves chains; vectorised by
        # repeating the assignment until it stops changing (depth of the lineage forest).
        for _ in range(64):
            ch = idx[inherit_t[idx]]
            new_t = task.copy()
            new_t[ch] = task[parent[ch]]
            cm = idx[inherit_m[idx]]
            new_m = mtype.copy()
            new_m[cm] = mtype[parent[cm]]
            if np.array_equal(new_t, task) and np.array_equal(new_m, mtype):
                break
            task, mtype = new_t, new_m
        self.task, self.mtype = task, mtype
        self.license = _categorical(rng, u, np.array([p for _, p in LICENSES]))

        # libraries: boolean matrix models x libraries
        self.lib_names = sorted({lib for combo, _ in LIBRARY_COMBOS for lib in combo} | {"safetensors"})
        li = {name: j for j, name in enumerate(self.lib_names)}
        combo = _categorical(rng, u, np.array([c for _, c in LIBRARY_COMBOS], dtype=float))
        combo_mat = np.zeros((len(LIBRARY_COMBOS), len(self.lib_names)), dtype=bool)
        for ci, (libs, _) in enumerate(LIBRARY_COMBOS):
            for lib in libs:
                combo_mat[ci, li[lib]] = True
        libs = combo_mat[combo]
        keep_p = np.array([KEEP_P.get(n_, KEEP_DEFAULT) for n_ in self.lib_names])
        keep = np.empty((u, len(self.lib_names)), dtype=bool)
        for j, p in enumerate(keep_p):  # column by column: no (u x libraries) float matrix in memory
            keep[:, j] = rng.random(u) < p
        # children: parent's libraries thinned by retention; children whose parent kept nothing
        # keep their own draw.  Chains resolve in creation order (same fixed point as above).
        for _ in range(64):
            inh = libs[parent[idx]] & keep[idx]
            has_any = inh.any(axis=1)
            new = libs.copy()
            new[idx[has_any]] = inh[has_any]
            if np.array_equal(new, libs):
                break
            libs = new
        st_from = int(dt.datetime.combine(SAFETENSORS_FROM, dt.time(), tzinfo=dt.UTC).timestamp() * 1e6)
        late = (self.created_us >= st_from) & libs.any(axis=1) & (rng.random(u) < SAFETENSORS_P)
        libs[late, li["safetensors"]] = True
        self.libs = libs

        # authors: Zipf(1) over n / models_per_author authors, in random order
        n_auth = max(1, round(u / FIT["models_per_author"]))
        w = 1.0 / np.arange(1, n_auth + 1)
        perm = rng.permutation(n_auth)
        self.author = perm[_categorical(rng, u, w)]
        # cards and their template pool
        self.has_card = rng.random(u) < FIT["p_card"]
        self.card_body = rng.integers(0, CARD_POOL, u)
        self.yaml = rng.random(u) < FIT["p_yaml"]
        self.trainer = (self.relation == 0) & self.libs[:, li["transformers"]] & (rng.random(u) < 0.6)
        # the world is held for the whole write: the narrowest index types that fit (same values)
        self.parent, self.parent2 = self.parent.astype(np.int32), self.parent2.astype(np.int32)
        self.task, self.mtype, self.license = (a.astype(np.int8) for a in (self.task, self.mtype, self.license))
        self.author, self.card_body = self.author.astype(np.int32), self.card_body.astype(np.int16)

    # -- per snapshot ---------------------------------------------------------
    def alive_masks(self) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        """(snapshot index, alive model indices in creation order, latent scores of all models)."""
        cfg = self.cfg
        rng = np.random.default_rng(self._drift_seed)
        alive = np.zeros(self.universe, dtype=bool)
        alive[: cfg.models] = True
        z = self.z0.copy()
        s_ = math.sqrt(1 - self.rho * self.rho)
        for i in range(cfg.snapshots):
            if i > 0:
                z = self.rho * z + s_ * rng.standard_normal(self.universe)
                # as many below-median old models disappear as new ones arrive
                cand = np.nonzero(alive & (z < 0))[0]
                gone = rng.choice(cand, size=min(self.new_per_step, len(cand)), replace=False)
                alive[gone] = False
                lo = cfg.models + (i - 1) * self.new_per_step
                alive[lo : lo + self.new_per_step] = True
            yield i, np.nonzero(alive)[0], z

    @cached_property
    def _all_ids(self) -> pa.Array:
        """Package ids of the whole universe (~180 MB at 3M models per snapshot), built in slices so the
        intermediate strings stay small; taking from it costs a quarter of building ids per chunk."""
        step = 500_000
        parts = [self._build_ids(np.arange(lo, min(lo + step, self.universe))) for lo in range(0, self.universe, step)]
        ids = pa.concat_arrays(parts)
        del parts
        pa.default_memory_pool().release_unused()
        return ids

    def package_ids(self, rows: np.ndarray) -> pa.Array:
        """Package ids of models ``rows``."""
        return self._all_ids.take(pa.array(rows))

    def _build_ids(self, rows: np.ndarray) -> pa.Array:
        return _join(
            self._authors(rows),
            "/",
            _MT_SHORT.take(pa.array(self.mtype[rows])),
            "-",
            _TASK_SHORT.take(pa.array(self.task[rows])),
            "-s",
            _int_strings(rows, 7),
        )

    def _authors(self, rows: np.ndarray) -> pa.Array:
        return _join(f"{MARKER}-u", _int_strings(self.author[rows], 6))

    def package_table(
        self, rows: np.ndarray, z: np.ndarray, snap: int, noise: np.ndarray, frac: np.ndarray, sha: pa.Array
    ) -> pa.Table:
        """Packages of ``rows``; ``noise``, ``frac``, ``sha`` are this chunk's slices of per-snapshot draws
        (drawn once per snapshot so the chunk size does not change the data)."""
        n = len(rows)
        d = downloads_quantile(special.ndtr(z[rows])).astype(np.int64)
        likes = np.floor(np.expm1(0.45 * np.log1p(d) + 0.8 * noise - 1.5)).clip(0).astype(np.int64)
        snap_us = int(dt.datetime.combine(self.dates[snap], dt.time(), tzinfo=dt.UTC).timestamp() * 1e6)
        created = self.created_us[rows]
        modified = created + ((snap_us - created) * frac**2).astype(np.int64)
        task_arr = pa.array([t for t, _ in TASKS], pa.string()).take(pa.array(self.task[rows]))
        mt_arr = pa.array([m for m, _ in MODEL_TYPES], pa.string()).take(pa.array(self.mtype[rows]))
        lic_arr = pa.array([lc for lc, _ in LICENSES], pa.string()).take(pa.array(self.license[rows]))
        pid = self.package_ids(rows)
        ts = pa.timestamp("us", tz="UTC")
        cols = {
            "snapshot_id": pa.nulls(n, pa.string()),
            "package_id": pid,
            "raw_id": pid,
            "rank": pa.nulls(n, pa.int64()),
            "downloads": pa.array(d),
            "downloads_window": _repeat("30d", n),
            "likes": pa.array(likes),
            "author": self._authors(rows),
            "created_at": pa.array(created, pa.int64()).cast(ts),
            "last_modified": pa.array(modified, pa.int64()).cast(ts),
            "task": task_arr,
            "license": lic_arr,
            "sha": sha,
            "model_type": mt_arr,
            "tags": self._tags(rows, task_arr, mt_arr, lic_arr),
            "parameters": pa.nulls(n, pa.int64()),
        }
        return pa.Table.from_arrays(list(cols.values()), schema=DATA_TABLES["packages"])

    def _tags(self, rows: np.ndarray, task: pa.Array, mtype: pa.Array, lic: pa.Array) -> pa.Array:
        n = len(rows)
        lib_m = self.libs[rows]
        parts_rows: list[np.ndarray] = []
        parts_vals: list[pa.Array] = []
        lib_names = pa.array(self.lib_names)
        rr, cc = np.nonzero(lib_m)
        parts_rows.append(rr)
        parts_vals.append(lib_names.take(pa.array(cc)))
        for arr, prefix in ((task, ""), (mtype, ""), (lic, "license:")):
            ok = np.asarray(arr.is_valid())
            sel = np.nonzero(ok)[0]
            parts_rows.append(sel)
            parts_vals.append(_join(prefix, arr.filter(pa.array(ok))) if prefix else arr.filter(pa.array(ok)))
        rel_names = pa.array([r_ for r_, _ in RELATIONS_P])
        for parents in (self.parent, self.parent2):
            par = parents[rows]
            sel = np.nonzero(par >= 0)[0]
            parts_rows.append(sel)
            parts_vals.append(
                _join(
                    "base_model:",
                    rel_names.take(pa.array(self.relation[rows[sel]])),
                    ":",
                    self.package_ids(par[sel]),
                )
            )
        parts_rows.append(np.arange(n))
        parts_vals.append(_repeat(MARKER, n))
        all_rows = np.concatenate(parts_rows)
        order = np.argsort(all_rows, kind="stable")
        values = pa.concat_arrays([v.cast(pa.string()) for v in parts_vals]).take(pa.array(order))
        offsets = np.zeros(n + 1, dtype=np.int32)
        np.cumsum(np.bincount(all_rows, minlength=n), out=offsets[1:])
        return pa.ListArray.from_arrays(pa.array(offsets), values)

    def library_table(self, rows: np.ndarray) -> pa.Table:
        rr, cc = np.nonzero(self.libs[rows])
        n = len(rr)
        return pa.Table.from_arrays(
            [
                pa.nulls(n, pa.string()),
                self.package_ids(rows[rr]),
                pa.array(self.lib_names).take(pa.array(cc)),
                _repeat("synthetic", n),
            ],
            schema=DATA_TABLES["package_libraries"],
        )

    def lineage_table(self, rows: np.ndarray, alive: np.ndarray) -> pa.Table:
        child_l, parent_l = [], []
        rel_l = []
        for par in (self.parent, self.parent2):
            p = par[rows]
            sel = p >= 0
            child_l.append(rows[sel])
            parent_l.append(p[sel])
            rel_l.append(self.relation[rows[sel]])
        child = np.concatenate(child_l)
        parent = np.concatenate(parent_l)
        order = np.lexsort((parent, child))
        child, parent, rel = child[order], parent[order], np.concatenate(rel_l)[order]
        n = len(child)
        ref = self.package_ids(parent)
        resolved = pc.if_else(pa.array(alive[parent]), ref, pa.nulls(n, pa.string()))
        return pa.Table.from_arrays(
            [
                pa.nulls(n, pa.string()),
                self.package_ids(child),
                ref,
                resolved,
                pa.array([r for r, _ in RELATIONS_P]).take(pa.array(rel)),
                _repeat("synthetic", n),
            ],
            schema=DATA_TABLES["lineage"],
        )

    @cached_property
    def _card_pool(self) -> dict[str, pa.Array]:
        return card_pool(self.cfg.seed)

    def card_table(self, rows: np.ndarray) -> pa.Table:
        rows = rows[self.has_card[rows]]
        n = len(rows)
        pid = self.package_ids(rows)
        pool = self._card_pool
        body = pool["body"].take(pa.array(self.card_body[rows]))
        body = pc.if_else(pa.array(self.trainer[rows]), pool["trainer"][0], body)
        lic = pa.array([lc for lc, _ in LICENSES], pa.string()).take(pa.array(self.license[rows]))
        par = self.parent[rows]
        has_par = par >= 0
        par_id = pc.if_else(
            pa.array(has_par),
            self.package_ids(np.where(has_par, par, 0)),
            pa.nulls(n, pa.string()),
        )
        empty = _repeat("", n)
        par2 = self.parent2[rows]
        has2 = par2 >= 0
        par2_id = pc.if_else(
            pa.array(has2),
            self.package_ids(np.where(has2, par2, 0)),
            pa.nulls(n, pa.string()),
        )
        base_single = pc.fill_null(_join("base_model: ", par_id, "\n"), "")
        base_list = _join("base_model:\n- ", par_id, "\n- ", par2_id, "\n")  # null unless a merge
        yaml = _join(
            "---\nlicense: ",
            pc.fill_null(lic, "unknown"),
            "\ntags:\n- synthetic\n",
            pc.coalesce(base_list, base_single),
            "---\n\n",
        )
        yaml = pc.if_else(pa.array(self.yaml[rows]), yaml, empty)
        trainer_sentence = pc.fill_null(
            _join(
                "This model is a fine-tuned version of [",
                par_id,
                "](https://huggingface.co/",
                par_id,
                ") on the None dataset.\n\n",
            ),
            "",
        )
        trainer_sentence = pc.if_else(pa.array(self.trainer[rows]), trainer_sentence, empty)
        text = _join(
            yaml,
            "# ",
            pid,
            "\n\n",
            "> SYNTHETIC model card generated by ptmscope synth (not a real model).\n\n",
            trainer_sentence,
            body,
        )
        shas = _hex(_sha256_rows(text)) if n else pa.array([], pa.string())
        return pa.Table.from_arrays(
            [pa.nulls(n, pa.string()), pid, text, shas, pa.array(np.zeros(n, dtype=bool))],
            schema=DATA_TABLES["cards"],
        )


CARD_POOL = 256
_WORDS = [
    "model",
    "fine-tuned",
    "dataset",
    "training",
    "evaluation",
    "accuracy",
    "loss",
    "batch",
    "learning",
    "rate",
    "epochs",
    "tokenizer",
    "transformer",
    "encoder",
    "decoder",
    "layers",
    "attention",
    "pretrained",
    "checkpoint",
    "inference",
    "pipeline",
    "labels",
    "benchmark",
    "results",
    "metrics",
    "validation",
    "split",
    "language",
    "english",
    "corpus",
    "vocabulary",
    "optimizer",
    "adam",
    "weights",
    "bias",
    "limitations",
    "intended",
    "use",
    "downstream",
    "task",
    "classification",
    "generation",
    "speech",
    "image",
]


def card_pool(seed: int) -> dict[str, pa.Array]:
    """256 card bodies with the dump's length quantiles and section mix, plus the Trainer template."""
    rng = np.random.default_rng([seed, 3])
    q = (np.arange(CARD_POOL) + 0.5) / CARD_POOL
    qs, vs = zip(*FIT["card_len_quantiles"], strict=False)
    lengths = np.exp(np.interp(q, qs, np.log(vs))).astype(int)  # log-linear between the dump's quantiles
    rng.shuffle(lengths)
    words = np.array(_WORDS)
    bodies = []
    for target in lengths:
        secs = [name for name, p in SECTIONS if rng.random() < p] or ["Model description"]
        per = max(20, int(target) // len(secs))
        parts = []
        for name in secs:
            nw = max(3, per // 8)
            text = " ".join(words[rng.integers(0, len(words), nw)])
            parts.append(f"## {name}\n\n{text[:per].capitalize()}.\n")
        bodies.append("\n".join(parts)[: int(target) + 200])
    trainer = "\n".join(
        f"## {name}\n\nMore information needed\n"
        if name not in ("Training hyperparameters", "Framework versions")
        else f"## {name}\n\n- learning_rate: 2e-05\n- train_batch_size: 16\n- num_epochs: 3\n"
        if name == "Training hyperparameters"
        else f"## {name}\n\n- Transformers 4.30.2\n- Pytorch 2.0.1\n"
        for name in TRAINER_SECTIONS
    )
    return {"body": pa.array(bodies, pa.string()), "trainer": pa.array([trainer], pa.string())}


# ---------------------------------------------------------------------------
# npm / PyPI top lists
# ---------------------------------------------------------------------------


def top_list_tables(cfg: SynthConfig, registry: str) -> Iterator[tuple[int, pa.Table]]:
    """(snapshot index, packages table) of a ranked top list with low churn."""
    from .aliases import normalise_id

    size = cfg.top_list_size
    u = 4 * size
    rng = np.random.default_rng([cfg.seed, 10 if registry == "npm" else 11])
    target = cfg.npm_remained if registry == "npm" else cfg.pypi_remained
    rho = solve_rho(target, min(cfg.turnover_k, size) / u)  # the target holds at K (<= list size)
    z = rng.standard_normal(u)
    idx = _int_strings(np.arange(u), 5)
    if registry == "npm":
        raw = _join(f"{MARKER}-pkg-", idx)
        window = "last-month"
    else:
        # PyPI names as published (mixed case, _ and .) so PEP 503 normalisation matters
        style = rng.integers(0, 3, u)
        variants = [_join(f"{MARKER}-pkg-", idx), _join("Synthetic_Pkg_", idx), _join("synthetic.pkg.", idx)]
        raw = pc.case_when(
            pc.make_struct(pa.array(style == 0), pa.array(style == 1)), variants[0], variants[1], variants[2]
        )
        window = "30d"
    norm = pa.array([normalise_id(registry, x) for x in raw.to_pylist()], pa.string())
    s_ = math.sqrt(1 - rho * rho)
    for i in range(cfg.snapshots):
        if i > 0:
            z = rho * z + s_ * rng.standard_normal(u)
        order = np.argsort(-z, kind="stable")[:size]
        # rank-size slope about -1 (top-pypi-packages): downloads ~ 5e4 * (size / rank)
        pareto = special.ndtr(-z[order]) * u / size  # tail probability scaled to the list
        downloads = np.floor(5e4 / np.maximum(pareto, 1e-9)).astype(np.int64)
        n = size
        r = pa.array(order)
        t = pa.Table.from_arrays(
            [
                pa.nulls(n, pa.string()),
                norm.take(r),
                raw.take(r),
                pa.array(np.arange(1, n + 1, dtype=np.int64)),
                pa.array(downloads),
                _repeat(window, n),
                pa.nulls(n, pa.int64()),
                pa.nulls(n, pa.string()),
                pa.nulls(n, pa.timestamp("us", tz="UTC")),
                pa.nulls(n, pa.timestamp("us", tz="UTC")),
                pa.nulls(n, pa.string()),
                pa.nulls(n, pa.string()),
                pa.nulls(n, pa.string()),
                pa.nulls(n, pa.string()),
                pa.nulls(n, pa.list_(pa.string())),
                pa.nulls(n, pa.int64()),
            ],
            schema=DATA_TABLES["packages"],
        )
        yield i, t


# ---------------------------------------------------------------------------
# Snapshots and writers
# ---------------------------------------------------------------------------


def _snapshot(cfg: SynthConfig, registry: str, index: int, rows: int, extra: str = "") -> Snapshot:
    taken = cfg.dates()[index]
    sha = cfg.sha256(registry, index)
    notes = (
        f"SYNTHETIC data generated by ptmscope synth (seed={cfg.seed}, models={cfg.models}, "
        f"snapshot {index + 1} of {cfg.snapshots}); not a real registry listing.{extra}"
    )
    return Snapshot(
        snapshot_id=make_snapshot_id(registry, taken, sha),
        registry=registry,
        taken_at=taken,
        source_format=SOURCE_FORMAT,
        source_file=f"synthetic://{registry}/seed-{cfg.seed}/models-{cfg.models}/snapshot-{index + 1}",
        source_sha256=sha,
        row_count=rows,
        importer_version=f"synth-{GENERATOR_VERSION}",
        notes=notes,
        synthetic=True,
        manifest=json.dumps({"generator": GENERATOR_VERSION, "config": cfg.to_dict()}, sort_keys=True),
    )


TableChunks = dict[str, list[pa.Table]]
Progress = Callable[[str], None]
# One snapshot's tables, each a lazy stream of Arrow chunks, in writing order.
TableStreams = list[tuple[str, Iterator[pa.Table]]]


def _hub_streams(
    cfg: SynthConfig, world: HubWorld, i: int, rows: np.ndarray, z: np.ndarray, want_cards: bool
) -> TableStreams:
    """The tables of Hub snapshot ``i``; per-snapshot random draws are made here, once, so chunks never
    change the data."""
    alive = np.zeros(world.universe, dtype=bool)
    alive[rows] = True
    rng = np.random.default_rng([cfg.seed, 4, i])
    noise, frac = rng.standard_normal(len(rows)), rng.random(len(rows))
    sha_raw = np.frombuffer(rng.bytes(len(rows) * 20), dtype=np.uint8).reshape(len(rows), 20)
    step = cfg.chunk_rows

    def packages() -> Iterator[pa.Table]:
        for lo in range(0, len(rows), step):
            sl = slice(lo, lo + step)
            yield world.package_table(rows[sl], z, i, noise[sl], frac[sl], _hex(sha_raw[sl]))

    def libraries() -> Iterator[pa.Table]:
        for lo in range(0, len(rows), step):
            yield world.library_table(rows[lo : lo + step])

    def lineage() -> Iterator[pa.Table]:
        for lo in range(0, len(rows), step):
            yield world.lineage_table(rows[lo : lo + step], alive)

    def cards() -> Iterator[pa.Table]:
        cstep = max(1000, min(step, 50_000))
        for lo in range(0, len(rows), cstep):
            yield world.card_table(rows[lo : lo + cstep])

    out: TableStreams = [("packages", packages()), ("package_libraries", libraries()), ("lineage", lineage())]
    if want_cards:
        out.append(("cards", cards()))
    return out


def _iter_snapshot_streams(cfg: SynthConfig) -> Iterator[tuple[Snapshot, TableStreams]]:
    """Each snapshot with its tables as lazy streams of chunks (nothing is generated until read)."""
    if "hf" in cfg.registries:
        world = HubWorld(cfg)
        for i, rows, z in world.alive_masks():
            want_cards = cfg.cards == "all" or (cfg.cards == "last" and i == cfg.snapshots - 1)
            extra = (
                f" Turnover target: {cfg.hf_remained:.0%} of the top-{min(cfg.turnover_k, cfg.models // 5)} "
                "remain per step."
            )
            yield _snapshot(cfg, "hf", i, len(rows), extra), _hub_streams(cfg, world, i, rows, z, want_cards)
    for reg in ("npm", "pypi"):
        if reg in cfg.registries:
            for i, t in top_list_tables(cfg, reg):
                yield _snapshot(cfg, reg, i, t.num_rows), [("packages", iter([t]))]


def _iter_snapshot_chunks(cfg: SynthConfig) -> Iterator[tuple[Snapshot, Iterator[tuple[str, pa.Table]]]]:
    """Each snapshot with a lazy iterator of (table name, chunk), table after table."""
    for snap, streams in _iter_snapshot_streams(cfg):
        yield snap, ((name, t) for name, chunks in streams for t in chunks)


def generate(cfg: SynthConfig = SMALL) -> Iterator[SnapshotBatch]:
    """In-memory batches, one per snapshot (for small worlds; use :func:`write_store` for big ones)."""
    for snap, chunks in _iter_snapshot_chunks(cfg):
        parts: TableChunks = {}
        for name, t in chunks:
            parts.setdefault(name, []).append(t)
        tables = {name: pa.concat_tables(ts).combine_chunks() for name, ts in parts.items()}
        for name, t in tables.items():
            tables[name] = t.set_column(0, "snapshot_id", pa.array([snap.snapshot_id] * t.num_rows, pa.string()))
        yield SnapshotBatch(snapshot=snap, tables=tables)


@dataclass(frozen=True)
class SynthResult:
    snapshot_id: str
    registry: str
    taken_at: dt.date
    rows: int
    created: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "snapshot_id": self.snapshot_id,
            "registry": self.registry,
            "taken_at": self.taken_at.isoformat(),
            "rows": self.rows,
            "created": self.created,
        }


def _ahead(items: Iterator[_T], depth: int) -> Generator[_T, None, None]:
    """``items`` produced in a thread, up to ``depth`` ahead of the reader: numpy and Arrow release the GIL, so
    the next chunk is built on one core while DuckDB converts and compresses the last one on the other."""
    q: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: tuple[bool, Any]) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        try:
            for x in items:
                if not put((False, x)):
                    return
            put((True, None))
        except BaseException as exc:  # handed to the reader, raised there
            put((True, exc))

    worker = threading.Thread(target=run, name="ptmscope-synth", daemon=True)
    worker.start()
    try:
        while True:
            done, x = q.get()
            if done:
                if x is not None:
                    raise x
                return
            yield x
    finally:
        stop.set()
        worker.join()


# What the writer's generator thread hands over: ("snapshot", Snapshot, skipped, table names),
# ("chunk", table name, chunk, None) or ("end", table name, None, None).
_Event = tuple[str, Any, Any, Any]


def _write_events(cfg: SynthConfig, skip: Callable[[Snapshot], bool]) -> Iterator[_Event]:
    """The world as a flat sequence of events, in writing order; a skipped snapshot's tables are never built."""
    for snap, streams in _iter_snapshot_streams(cfg):
        skipped = skip(snap)
        yield ("snapshot", snap, skipped, [name for name, _ in streams])
        if skipped:
            continue
        for name, chunks in streams:
            for t in chunks:
                yield ("chunk", name, t, None)
            yield ("end", name, None, None)


def _table_chunks(events: Iterator[_Event]) -> Iterator[pa.Table]:
    """The chunks of the current table, up to its end marker."""
    for ev in events:
        if ev[0] == "end":
            return
        yield ev[2]


def write_store(store: Any, cfg: SynthConfig = SMALL, progress: Progress | None = None) -> list[SynthResult]:
    """Write every synthetic snapshot into ``store`` (a Store or a path), chunk by chunk.

    One transaction per snapshot; a snapshot already in the store (same
    configuration) is skipped, so re-running is a no-op.  Each table of a
    snapshot is one INSERT that DuckDB pulls from a lazy Arrow stream; a
    thread builds the chunks (at most :data:`AHEAD` ahead) while DuckDB
    converts and compresses the ones before, so only a few chunks are in
    Python's memory (:meth:`~ptmscope.store.Store.bulk_writes` also caps
    DuckDB's buffer pool).
    """
    from .store import Store

    own = not isinstance(store, Store)
    st = Store(store) if own else store
    have = {(s.registry, s.source_sha256, s.source_format, s.taken_at) for s in st.snapshots(include_incomplete=True)}
    out: list[SynthResult] = []

    def skip(s: Snapshot) -> bool:
        return (s.registry, s.source_sha256, s.source_format, s.taken_at) in have

    try:
        with st.bulk_writes():
            events = _ahead(_write_events(cfg, skip), AHEAD)
            try:
                for ev in events:
                    _, snap, skipped, names = ev
                    if skipped:
                        out.append(SynthResult(snap.snapshot_id, snap.registry, snap.taken_at, snap.row_count, False))
                        continue
                    # the commit writes the card text of the last row group: the pool must hold it then too
                    wide = st.wide_rows() if "cards" in names else nullcontext()
                    with wide, st.transaction():
                        st.insert_snapshot(snap)
                        for name in names:
                            st.append_stream(name, _table_chunks(events), snap.snapshot_id)
                    out.append(SynthResult(snap.snapshot_id, snap.registry, snap.taken_at, snap.row_count, True))
                    if progress:
                        progress(f"{snap.snapshot_id}: {snap.row_count:,} {snap.registry} packages (synthetic)")
            finally:
                events.close()
    finally:
        if own:
            st.close()
    return out


def write_files(out_dir: str | Path, cfg: SynthConfig = SMALL, progress: Progress | None = None) -> list[Path]:
    """Write the snapshots in the publishers' own formats, for the importers.

    Hub: ``hf/<date>/model_infos.jsonl.gz`` (Hub API ``ModelInfo`` records)
    and ``model_cards.jsonl.gz``; PyPI: ``pypi/<date>.json.gz``
    (top-pypi-packages shape); npm: ``npm/<date>/counts.json`` (download-counts
    shape).  A ``SYNTHETIC.json`` manifest says what this is.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for snap, chunks in _iter_snapshot_chunks(cfg):
        date = snap.taken_at.isoformat()
        if snap.registry == "hf":
            d = out / "hf" / date
            d.mkdir(parents=True, exist_ok=True)
            p_info, p_cards = d / "model_infos.jsonl.gz", d / "model_cards.jsonl.gz"
            with (
                gzip.open(p_info, "wt", encoding="utf-8", compresslevel=3) as fi,
                gzip.open(p_cards, "wt", encoding="utf-8", compresslevel=3) as fc,
            ):
                libs_by_id: dict[str, str | None] = {}
                for name, t in chunks:
                    if name == "package_libraries":
                        continue
                    if name == "packages":
                        for rec in t.to_pylist():
                            lib = next(
                                (
                                    x
                                    for x in (rec["tags"] or [])
                                    if x
                                    in (
                                        "transformers",
                                        "sentence-transformers",
                                        "spacy",
                                        "espnet",
                                        "keras",
                                        "adapter-transformers",
                                        "stanza",
                                        "flair",
                                        "speechbrain",
                                        "timm",
                                    )
                                ),
                                None,
                            )
                            libs_by_id[rec["package_id"]] = lib
                            fi.write(
                                json.dumps(
                                    {
                                        "modelId": rec["package_id"],
                                        "sha": rec["sha"],
                                        "lastModified": rec["last_modified"].strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                                        "createdAt": rec["created_at"].strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                                        "tags": rec["tags"],
                                        "pipeline_tag": rec["task"],
                                        "config": {"model_type": rec["model_type"]} if rec["model_type"] else None,
                                        "private": False,
                                        "downloads": rec["downloads"],
                                        "likes": rec["likes"],
                                        "library_name": lib,
                                        "author": rec["author"],
                                    },
                                    sort_keys=True,
                                )
                                + "\n"
                            )
                    elif name == "cards":
                        for rec in t.to_pylist():
                            fc.write(
                                json.dumps(
                                    {"modelId": rec["package_id"], "readme_missing": False, "readme": rec["text"]},
                                    sort_keys=True,
                                )
                                + "\n"
                            )
            written += [p_info, p_cards]
        else:
            t = next(tb for name, tb in chunks if name == "packages")
            if snap.registry == "pypi":
                p = out / "pypi" / f"top-pypi-packages-{date}.json.gz"
                p.parent.mkdir(parents=True, exist_ok=True)
                rows = [
                    {"download_count": d, "project": r}
                    for r, d in zip(t.column("raw_id").to_pylist(), t.column("downloads").to_pylist(), strict=False)
                ]
                with gzip.open(p, "wt", encoding="utf-8") as f:
                    json.dump({"last_update": f"{date} 00:00:00", "rows": rows}, f)
            else:
                p = out / "npm" / date / "counts.json"
                p.parent.mkdir(parents=True, exist_ok=True)
                p.write_text(
                    json.dumps(
                        dict(zip(t.column("raw_id").to_pylist(), t.column("downloads").to_pylist(), strict=False))
                    )
                )
            written.append(p)
        if progress:
            progress(f"{snap.registry} {date}: written (synthetic)")
    manifest = out / "SYNTHETIC.json"
    manifest.write_text(
        json.dumps(
            {
                "synthetic": True,
                "note": "SYNTHETIC data generated by ptmscope synth; not real registry data.",
                "generator": GENERATOR_VERSION,
                "config": cfg.to_dict(),
                "files": [str(p.relative_to(out)) for p in written],
            },
            indent=2,
            sort_keys=True,
        )
    )
    return [*written, manifest]
