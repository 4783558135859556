"""Maintenance categories of commit messages: corrective, adaptive, perfective, other.

Swanson's (1976) maintenance categories, as Castaño et al. (MSR 2024; the ESEM'24
paper's reference [14]) applied them to Hugging Face commit messages, plus
``other`` for messages that state no maintenance at all:

corrective
    the message says a fault is fixed or undone: "fix", "bug", "error", "wrong",
    "incorrect"/"correct", "missing", "broken", "typo", "revert", "restore",
    "switch back", "properly".
adaptive
    the message says the repository is adapted to its environment without
    changing what the model does: another serialization format or framework
    (safetensors, ONNX, OpenVINO, Core ML, TorchScript, TFLite, GGUF/GGML,
    TF/Flax/PyTorch weights), a conversion or export, a library or toolchain
    version ("for transformers>=4.29", "spacy pipeline to 3.4.0", "for torch
    1.6.0"), "in TF format", compatibility, sharding, migration.
perfective
    the message says the model or its documentation is improved or extended:
    training progress and further training ("Training in progress, step 500",
    "More training", "End of training", "Epoch 30"), updated, new, better or
    versioned weights ("Update pytorch_model.bin", "model improved", "Add model
    1.7.0", "version 2"), tuning (not "fine-tuned", which names the model),
    quantisation for efficiency (int8, fp16), new functions or features,
    refactoring, renaming, cleanup, docs, config and tokenizer changes.
other
    the creation or first upload of a repository ("initial commit", "add
    model", "First version of ...") and messages with no stated intent (a bare
    file upload such as "Upload pytorch_model.bin with git-lfs", a name,
    "commit", merges).

The rules are applied in this order and the first that matches decides:
corrective, creation (other; read in the subject line only, so "Add init for
..." in a PR body does not make a feature commit a creation), bare file upload
(other), adaptive, perfective, and ``other`` when nothing matches.  They read the message only (lower-cased,
"Co-authored-by:" trailers dropped).  :func:`normalise_message` is the
normalisation the hand-labelled sample was drawn with.

Validation (``tests/data/commit_message_hand_labels.csv``, labelled by reading
the messages before these rules were written): see docs/maintenance.md.

Bias of the bundled data: ``safetensors-history`` holds only commits that
touched a weight file, so README-only, config-only and code-only commits --
the bulk of documentation (perfective) and many corrective commits -- are
missing, while format conversions (the safetensors bot: adaptive) and
training-checkpoint pushes (perfective) are over-represented.  Full histories
(``ptmscope crawl --commits``) do not have this bias.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, get_args

MaintenanceCategory = Literal["perfective", "corrective", "adaptive", "other"]
CATEGORIES: tuple[str, ...] = get_args(MaintenanceCategory)
VERSION = "1"

_COAUTHOR = re.compile(r"(?im)^\s*(?:co-authored-by|signed-off-by):.*$")
_HEX = re.compile(r"\b[0-9a-f]{7,40}\b")
_PR = re.compile(r"\(#\d+\)")
_MAX_CHARS = 2000  # a message's intent is in its first lines

_CORRECTIVE = re.compile(
    r"\bfix(?:e[sd]|ing|es)?\b|\bhotfix|\bbug(?:s|fix)?\b|\berrors?\b|\bwrong\b|\bincorrect|\bcorrect(?:ed|ion|ly|s)?\b"
    r"|\bmissing\b|\bbroken\b|\btypos?\b|\brevert(?:s|ed|ing)?\b|\brestor(?:e|ed|es|ing)\b|\bswitch(?:ed)? back\b"
    r"|\broll(?:ed)? ?back\b|\bproperly\b|\bcrash|\bfaulty\b|\bissues?\b|\bproblems?\b"
)
_CREATION = re.compile(
    r"\binit\b|\binitial\b|\binital\b|\bfirst\b|^start\b|\bstart (?:distill|training|pretraining)|\bcreate\b"
    r"|\bimport\b|^:tada:|\bmy first\b|\boriginal\b.*\bcommit\b|\bmerge branch\b"
)
_FILE = r"[\w./()-]+\.(?:bin|pt|pth|ckpt|h5|hdf5|pkl|pickle|safetensors|onnx|model|ts|pb|msgpack|json|npz|gguf)"
_BARE_UPLOAD = re.compile(
    rf"^(?:upload(?:ed|ing)?|add(?:ed|ing)?|push(?:ed|ing)?|commit(?:ted|ting)?|submit(?:ted)?|save[ds]?)"
    rf" (?:new )?{_FILE}(?: with (?:git-lfs|huggingface_hub))?(?: \(#n\))?(?: - .*)?$"
)
_ADAPTIVE = re.compile(
    r"safetensors|\bonnx\b|openvino|\bcore ?ml\b|torch ?script|\btflite\b|\bgguf\b|\bggml\b|\bcoreml\b"
    r"|\b(?:tf|tensorflow|flax|jax|pt|pytorch|keras|torch)(?: 2\.0)? (?:weights|models?|checkpoints?|versions?|files?"
    r"|ckpt)\b|\b(?:pt|pytorch) and (?:tf|tensorflow)\b|\b(?:tf|tensorflow) and (?:flax|pytorch|pt)\b"
    r"|\bconver(?:t|ted|ting|sion)\b|\bexport(?:ed|ing)?\b"
    r"|\bfor (?:transformers|torch|pytorch|tensorflow|tf|flair|spacy|keras|jax|diffusers|sentence[- ]transformers"
    r"|transformers\.js|optimum)\b|\bpipeline to \d|\bcompatib|\bshard(?:s|ed|ing)?\b|\bmigrat"
    r"|\bofficial .*\bcode\b|\bcan be loaded\b|\bloadable\b"
    r"|\b(?:tf|tensorflow|pytorch|torch|flax|jax|keras|h5) format\b"
)
_PERFECTIVE = re.compile(
    r"\btrain(?:s|ed|ing)?\b|\bre-?train|\bepochs?\b|\bsteps?\b|\bupdat(?:e|ed|es|ing)\b|\bimprov|\bbetter\b|\bbest\b"
    r"|\bnew (?:version|lm|data|weights|model weights|models?|accoustic|acoustic|checkpoints?)\b"
    r"|\bversion\b|\bv\d+\b|\brelease v?\d|\bmodel v?\d+(?:\.\d+)+\b|\b(?:second|third|fourth|\d+(?:nd|rd|th)) version"
    r"|(?<!fine-)(?<!fine )\btun(?:e|ed|ing)\b|\bhyper-?param|\brefactor|\brenam|\bclean|\bsimplif"
    r"|\bremov(?:e|ed|es|ing)\b|\bdelet"
    r"|\bmov(?:e|ed|es|ing)\b|\breplac|\bchang(?:e|ed|es|ing)\b|\bmodif|\bdocs?\b|\bdocumentation\b|\breadme\b"
    r"|\bmodel card\b|\bmore\b|\bcontinu|\bkeep training|\bfurther\b|\blonger\b"
    r"|\badd(?:ed|ing)? (?:more|extra|additional)\b"
    r"|\bextend|\benhanc|\boptimi[sz]|\bsupport\b|\binclud(?:e|ed|es|ing)\b|\baugment|\bcomplete[d]?\b|\bdistill"
    r"|\bmodel at \d|\b\d+k steps\b|은닉층|학습"
    r"|\badd(?:ed|ing|s)? (?:an? )?(?:function|feature|method|option)s?\b|\bint8\b|\bquanti[sz]|\bfp16\b"
)


def normalise_message(message: str) -> str:
    """The message as classified: trailers dropped, hashes and PR numbers masked, spaces collapsed."""
    m = _COAUTHOR.sub("", message[:_MAX_CHARS])
    m = _HEX.sub("<hash>", m)
    m = _PR.sub("(#n)", m)
    return " ".join(m.split())


@dataclass(frozen=True)
class Classification:
    category: str
    rule: str  # which rule decided ("corrective", "creation", "bare upload", "adaptive", "perfective", "default")
    evidence: str | None  # the matched words


def classify(message: str | None) -> Classification:
    """The maintenance category of one commit message (see the module docstring for the rules)."""
    if not message or not isinstance(message, str):
        return Classification("other", "default", None)
    text = normalise_message(message).lower()
    subject = normalise_message(message.strip().split("\n", 1)[0]).lower()  # creation: the subject line only
    if not text:
        return Classification("other", "default", None)
    for rule, pattern, category in (
        ("corrective", _CORRECTIVE, "corrective"),
        ("creation", _CREATION, "other"),
        ("bare upload", _BARE_UPLOAD, "other"),
        ("adaptive", _ADAPTIVE, "adaptive"),
        ("perfective", _PERFECTIVE, "perfective"),
    ):
        m = pattern.search(subject if rule == "creation" else text)
        if m:
            return Classification(category, rule, m.group(0))
    return Classification("other", "default", None)


def classify_many(messages: Iterable[str | None]) -> list[str]:
    """Categories of many messages, in order."""
    return [classify(m).category for m in messages]


@dataclass(frozen=True)
class ClassMetrics:
    category: str
    precision: float
    recall: float
    f1: float
    support: int  # true members
    predicted: int


@dataclass(frozen=True)
class Agreement:
    """Classifier against reference labels: per-class P/R/F1, macro F1, accuracy and confusion matrix."""

    n: int
    accuracy: float
    macro_f1: float
    per_class: tuple[ClassMetrics, ...]
    confusion: dict[str, dict[str, int]]  # reference label -> predicted label -> count

    def to_dict(self) -> dict[str, object]:
        return {
            "n": self.n,
            "accuracy": round(self.accuracy, 4),
            "macro_f1": round(self.macro_f1, 4),
            "per_class": [
                {
                    "category": c.category,
                    "precision": round(c.precision, 4),
                    "recall": round(c.recall, 4),
                    "f1": round(c.f1, 4),
                    "support": c.support,
                    "predicted": c.predicted,
                }
                for c in self.per_class
            ],
            "confusion": self.confusion,
        }


def agreement(reference: Sequence[str], predicted: Sequence[str], weights: Sequence[int] | None = None) -> Agreement:
    """Per-class precision/recall/F1 (and their macro mean) of ``predicted`` against ``reference``.

    ``weights`` counts each item that many times (e.g. the commits sharing one message).
    """
    if len(reference) != len(predicted):
        raise ValueError("reference and predicted differ in length")
    w = list(weights) if weights is not None else [1] * len(reference)
    confusion = {r: dict.fromkeys(CATEGORIES, 0) for r in CATEGORIES}
    for r, p, k in zip(reference, predicted, w, strict=True):
        confusion[r][p] += k
    per_class = []
    for c in CATEGORIES:
        tp = confusion[c][c]
        support = sum(confusion[c].values())
        pred = sum(confusion[r][c] for r in CATEGORIES)
        prec = tp / pred if pred else 0.0
        rec = tp / support if support else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        per_class.append(ClassMetrics(c, prec, rec, f1, support, pred))
    n = sum(w)
    acc = sum(confusion[c][c] for c in CATEGORIES) / n if n else 0.0
    present = [m for m in per_class if m.support]
    macro = sum(m.f1 for m in present) / len(present) if present else 0.0
    return Agreement(n, acc, macro, tuple(per_class), confusion)


def shares(categories: Iterable[str]) -> dict[str, float]:
    """Share of each category (0 for those absent)."""
    counts = Counter(categories)
    total = sum(counts.values())
    return {c: (counts[c] / total if total else 0.0) for c in CATEGORIES}
