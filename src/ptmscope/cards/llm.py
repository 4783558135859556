"""The LLM scorer: the paper's method on any OpenAI-compatible chat endpoint.

What is sent, per card (one chat completion, temperature 0):

1. a **system message**, :data:`SYSTEM_MESSAGE` ("You are a helpful assistant.", the
   default system prompt of OpenAI's chat API; the paper prints no system message, so
   ptmscope uses the most neutral one and lets the caller replace it);
2. a **user message**: :data:`PROMPT`, the paper's Listing 1 exactly as printed (its
   line breaks, blank lines and the typographic apostrophe in "model’s" included),
   then a blank line, then the card text (cut at ``max_card_chars``).

A test compares :data:`PROMPT` with Listing 1 as extracted from the paper's text at
test time, and checks the request body a fake endpoint receives.

The answer is parsed leniently (:func:`parse_answer`): code fences, prose around the
JSON, ``"true"``/``"false"``/``"yes"`` strings and numbered or spaced key names are
accepted; a missing key counts as absent; an answer with no recognisable key is
recorded as *unscored*, never a crash.

* The API key is read from an environment variable (``api_key_env``, default
  ``OPENAI_API_KEY``) and sent only in the ``Authorization`` header; it is
  never printed, logged, cached or put in an error message.
* Answers are cached on disk, one JSON file per (card sha256, model, prompt) under
  ``cache_dir``, the prompt being the sha256 of the system message and Listing 1;
  an answer to another prompt or system message is never reused.  Only answers that parsed are
  cached, so unscored cards are retried on the next run.
* At most ``concurrency`` requests are in flight; a request that fails with a
  connection error, HTTP 429 or 5xx is retried up to ``retries`` times with
  exponential backoff (honouring a short ``Retry-After``); other HTTP errors
  (400, 404 ...) are not retried.
* An endpoint that is down is not hammered card after card: HTTP 401/403
  (the key) stops the run at once, and ``max_consecutive_failures`` cards in
  a row without any answer stop it too, with :class:`EndpointError`.
  Batches already stored are kept, so the next run resumes.

Differences from the paper: the paper used ChatGPT-4 through OpenAI's API;
the endpoint and model are the user's choice here, so results depend on them.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ParameterError, PtmscopeError
from .base import SECTIONS, CardScore
from .parse import MAX_CARD_CHARS, clean_text, looks_binary

VERSION = "2"  # v2: Listing 1 with its line breaks, and a system message

#: The paper's Listing 1 ("ChatGPT-4 prompt for evaluating model cards"), exactly as printed.
PROMPT = (
    "You will receive a model card and are expected to analyze it for the following details:\n"
    "\n"
    "1. Model description: A description of the model itself\n"
    "2. Limitations: Any limitations of the model\n"
    "3. How to use: Instructions on how to use the model downstream\n"
    "4. Training: Details of the training process or data\n"
    "5. Evaluation: Reports on the model\u2019s performance evaluation\n"
    "\n"
    "Please respond with a JSON object indicating whether each of these points is present with true/false.\n"
    "\n"
    "Here is the model card to evaluate:"
)

#: The system message sent before the prompt (the paper prints none; this is OpenAI's default one).
SYSTEM_MESSAGE = "You are a helpful assistant."

DEFAULT_KEY_ENV = "OPENAI_API_KEY"


class EndpointError(PtmscopeError):
    """The endpoint refused the key or failed on many cards in a row: stop, do not record every card as unscored."""


DEFAULT_MODEL = "gpt-4"

# normalised key (letters only) -> item
_KEY_NAMES: dict[str, str] = {}
for _item, _names in {
    "description": ("modeldescription", "description", "model", "modeldetails"),
    "limitations": ("limitations", "limitation", "limitationsandbias", "limits"),
    "how_to_use": ("howtouse", "usage", "use", "uses", "intendeduse", "instructions"),
    "training": ("training", "trainingdetails", "trainingprocess", "trainingdata"),
    "evaluation": ("evaluation", "eval", "evaluationresults", "performance", "performanceevaluation"),
}.items():
    for _n in _names:
        _KEY_NAMES[_n] = _item

_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)```", re.S)
_TRUE = {"true", "yes", "present", "1", "y"}
_FALSE = {"false", "no", "absent", "0", "n", "none", "null", "notpresent"}
_KV = re.compile(r"""["']?([A-Za-z0-9 ._\-]{2,40}?)["']?\s*[:=]\s*["']?(true|false|yes|no)\b""", re.I)


def _norm_key(k: str) -> str:
    return re.sub(r"[^a-z]", "", k.lower())


def _truth(v: Any) -> bool | None:
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)) and v in (0, 1):
        return bool(v)
    if isinstance(v, str):
        t = _norm_key(v) if not v.strip().isdigit() else v.strip()
        if t in _TRUE:
            return True
        if t in _FALSE:
            return False
        return None
    if isinstance(v, dict):  # {"present": true, "evidence": ...}
        for k in ("present", "value", "answer"):
            if k in v:
                return _truth(v[k])
    return None


def _first_json_object(text: str) -> Any:
    """The first balanced {...} in ``text`` that parses as JSON, else None."""
    start = text.find("{")
    while 0 <= start < len(text):
        depth, in_str, esc = 0, False, False
        for i in range(start, min(len(text), start + 100_000)):
            ch = text[i]
            if in_str:
                if esc:
                    esc = False
                elif ch == "\\":
                    esc = True
                elif ch == '"':
                    in_str = False
            elif ch == '"':
                in_str = True
            elif ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
                if depth == 0:
                    try:
                        return json.loads(text[start : i + 1])
                    except json.JSONDecodeError:
                        break
        start = text.find("{", start + 1)
    return None


def parse_answer(content: object) -> CardScore:
    """The five booleans from a model's answer; unscored when nothing is recognisable."""
    if not isinstance(content, str) or not content.strip():
        return CardScore.unscored("empty answer")
    text = content.strip()
    m = _FENCE.search(text)
    if m:
        text = m.group(1)
    obj = _first_json_object(text)
    flags: dict[str, bool] = {}
    if isinstance(obj, dict):
        # one level of nesting: {"results": {...}}
        if not any(_norm_key(k).lstrip("0123456789") in _KEY_NAMES for k in obj) and len(obj) == 1:
            inner = next(iter(obj.values()))
            if isinstance(inner, dict):
                obj = inner
        for k, v in obj.items():
            item = _KEY_NAMES.get(_norm_key(str(k)))
            val = _truth(v)
            if item is not None and val is not None and item not in flags:
                flags[item] = val
    if not flags:  # not JSON: look for "key: true" pairs
        for km in _KV.finditer(text):
            item = _KEY_NAMES.get(_norm_key(km.group(1)))
            if item is not None and item not in flags:
                flags[item] = km.group(2).lower() in ("true", "yes")
    if not flags:
        return CardScore.unscored("answer had no recognisable item")
    missing = [s for s in SECTIONS if s not in flags]
    note = f"absent from answer: {', '.join(missing)}" if missing else None
    return CardScore.from_flags(flags, {s: "llm answer" for s in SECTIONS}, note=note)


def card_message(text: str, max_chars: int) -> str:
    """The user message: Listing 1, a blank line, the card."""
    return f"{PROMPT}\n\n{text[:max_chars]}"


def chat_messages(text: str, max_chars: int, system: str = SYSTEM_MESSAGE) -> list[dict[str, str]]:
    """The messages of one request: the system message, then Listing 1 with the card."""
    return [{"role": "system", "content": system}, {"role": "user", "content": card_message(text, max_chars)}]


@dataclass(frozen=True)
class LLMStats:
    requests: int
    cache_hits: int
    retries: int
    failures: int


class LLMScorer:
    """Scores cards with an OpenAI-compatible ``/chat/completions`` endpoint."""

    name = "llm"

    def __init__(
        self,
        *,
        endpoint: str | None = None,
        model: str = DEFAULT_MODEL,
        api_key_env: str = DEFAULT_KEY_ENV,
        cache_dir: str | os.PathLike[str] | None = None,
        concurrency: int = 4,
        retries: int = 3,
        backoff: float = 1.0,
        timeout: float = 60.0,
        max_card_chars: int = 60_000,
        max_consecutive_failures: int = 10,
        system_message: str = SYSTEM_MESSAGE,
    ) -> None:
        if not endpoint:
            raise ParameterError(
                "endpoint", "the llm scorer needs an OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1"
            )
        if not re.match(r"^https?://", endpoint):
            raise ParameterError("endpoint", f"{endpoint!r} must start with http:// or https://")
        if concurrency < 1:
            raise ParameterError("concurrency", f"must be >= 1, not {concurrency}")
        if retries < 0:
            raise ParameterError("retries", f"must be >= 0, not {retries}")
        url = endpoint.rstrip("/")
        self.url = url if url.endswith("/chat/completions") else url + "/chat/completions"
        self.model = model
        self.api_key_env = api_key_env
        self.cache_dir = Path(cache_dir) if cache_dir else Path(".ptmscope-cache") / "llm"
        self.concurrency = concurrency
        self.retries = retries
        self.backoff = backoff
        self.timeout = timeout
        self.max_card_chars = min(max_card_chars, MAX_CARD_CHARS)
        self.max_consecutive_failures = max(1, max_consecutive_failures)
        self.system_message = system_message
        self._prompt_sha = hashlib.sha256(f"{system_message}\x00{PROMPT}".encode()).hexdigest()
        self._consecutive_failures = 0
        self._stopped: str | None = None
        self._lock = threading.Lock()
        self._requests = self._hits = self._retries = self._failures = 0
        # a local endpoint is never sent through an HTTP proxy from the environment
        host = urllib.parse.urlsplit(self.url).hostname or ""
        local = host in ("127.0.0.1", "localhost", "::1")
        self._opener = (
            urllib.request.build_opener(urllib.request.ProxyHandler({})) if local else urllib.request.build_opener()
        )

    def __repr__(self) -> str:  # never shows the key
        return f"LLMScorer(url={self.url!r}, model={self.model!r}, api_key_env={self.api_key_env!r})"

    @property
    def key(self) -> str:
        """``llm-<model>-v2``; a non-default system message adds a short hash of it."""
        custom = self.system_message != SYSTEM_MESSAGE
        return f"llm-{self.model}-v{VERSION}" + (f"-s{self._prompt_sha[:8]}" if custom else "")

    @property
    def stats(self) -> LLMStats:
        return LLMStats(self._requests, self._hits, self._retries, self._failures)

    # -- cache ---------------------------------------------------------------
    def _cache_path(self, text: str) -> Path:
        sha = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
        model = hashlib.sha256(f"{self.model}\x00{self._prompt_sha}".encode()).hexdigest()[:16]
        return self.cache_dir / model / sha[:2] / f"{sha}.json"

    def _cache_get(self, path: Path) -> str | None:
        try:
            rec = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if (
            isinstance(rec, dict)
            and rec.get("model") == self.model
            and rec.get("prompt_sha256") == self._prompt_sha
            and isinstance(rec.get("content"), str)
        ):
            return rec["content"]
        return None

    def _cache_put(self, path: Path, content: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{threading.get_ident()}")
        tmp.write_text(
            json.dumps(
                {"model": self.model, "content": content, "prompt_version": VERSION, "prompt_sha256": self._prompt_sha}
            ),
            encoding="utf-8",
        )
        os.replace(tmp, path)

    # -- HTTP ------------------------------------------------------------------
    def _post(self, messages: list[dict[str, str]]) -> str:
        """The answer's content string; raises PtmscopeError after the retries."""
        body = json.dumps({"model": self.model, "temperature": 0, "messages": messages}).encode("utf-8")
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        key = os.environ.get(self.api_key_env)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        last = "no attempt"
        for attempt in range(self.retries + 1):
            if attempt:
                with self._lock:
                    self._retries += 1
            req = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
            wait = self.backoff * (2**attempt)
            try:
                with self._lock:
                    self._requests += 1
                with self._opener.open(req, timeout=self.timeout) as resp:
                    raw = resp.read(10_000_000)
                payload = json.loads(raw.decode("utf-8", "replace"))
                content = payload["choices"][0]["message"]["content"]
                if not isinstance(content, str):
                    raise ValueError("content is not a string")
                return content
            except urllib.error.HTTPError as exc:
                last = f"HTTP {exc.code}"
                if exc.code in (401, 403):  # the key, not the card: every other card would fail the same way
                    hint = f"${self.api_key_env} is not set" if not key else f"check the key in ${self.api_key_env}"
                    raise EndpointError(
                        f"{self.url}: HTTP {exc.code}, the endpoint refused the request ({hint})"
                    ) from exc
                if exc.code != 429 and exc.code < 500:
                    break  # a client error will not get better
                ra = exc.headers.get("Retry-After") if exc.headers else None
                if ra and ra.strip().isdigit():
                    wait = min(float(ra), 30.0)
            except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
                last = f"connection error ({type(exc).__name__})"
            except (ValueError, KeyError, IndexError, TypeError):
                last = "response is not a chat completion"
                break
            if attempt < self.retries:
                time.sleep(wait)
        raise PtmscopeError(f"{self.url}: {last}")

    # -- scoring ---------------------------------------------------------------
    def score(self, text: str | None) -> CardScore:
        if text is None:
            return CardScore.empty("no card")
        if looks_binary(text if isinstance(text, str) else ""):  # as the other scorers: never paid for
            return CardScore.empty("binary-looking card")
        card = clean_text(text)
        if not card.strip():
            return CardScore.empty("empty card")
        path = self._cache_path(card)
        cached = self._cache_get(path)
        if cached is not None:
            with self._lock:
                self._hits += 1
            return parse_answer(cached)
        if self._stopped is not None:  # another card already found the endpoint down
            raise EndpointError(self._stopped)
        try:
            content = self._post(chat_messages(card, self.max_card_chars, self.system_message))
        except EndpointError as exc:
            self._stopped = str(exc)
            raise
        except PtmscopeError as exc:
            reason = str(exc).split(": ", 1)[-1]
            with self._lock:
                self._failures += 1
                self._consecutive_failures += 1
                down = self._consecutive_failures >= self.max_consecutive_failures
            if down:
                self._stopped = (
                    f"{self.url}: no answer for {self.max_consecutive_failures} cards in a row (last: {reason}); "
                    "stopped (scores stored so far are kept; run again to resume)"
                )
                raise EndpointError(self._stopped) from None
            return CardScore.unscored(f"endpoint failed: {reason}")
        with self._lock:
            self._consecutive_failures = 0
        result = parse_answer(content)
        if result.scored:
            self._cache_put(path, content)
        return result

    def score_many(self, texts: Sequence[str | None]) -> list[CardScore]:
        if self.concurrency == 1 or len(texts) <= 1:
            return [self.score(t) for t in texts]
        pool = ThreadPoolExecutor(max_workers=self.concurrency)
        try:
            return list(pool.map(self.score, texts))
        finally:  # after an EndpointError, cards still queued are never sent
            pool.shutdown(wait=True, cancel_futures=True)
