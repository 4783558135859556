"""HTTP to the Hub: huggingface_hub's shared client and headers, our retry policy, request counts.

We do not use ``HfApi.list_models`` / ``http_backoff`` directly: ``list_models``
hides the pagination cursor (the ``Link: <...>; rel="next"`` URL) that a
resumable crawl must persist, and ``http_backoff`` sleeps with ``time.sleep``
(not injectable) without jitter.  Everything else is huggingface_hub's:
``get_session()`` (the shared ``httpx2.Client``, which also enforces
``HF_HUB_OFFLINE``), ``build_hf_headers()`` (user agent; the token from
``HF_TOKEN`` or the saved login, never logged or stored by us) and
``hf_raise_for_status()`` for the server's error messages.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

import httpx2
from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled
from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status

from .. import __version__
from ..errors import PtmscopeError
from .retry import RETRY_STATUS, Clock, RetryPolicy, quota_exhausted_wait, retry_after_seconds

TRANSIENT_ERRORS = (httpx2.TimeoutException, httpx2.NetworkError, httpx2.RemoteProtocolError)


class CrawlError(PtmscopeError):
    """The crawl stopped; committed pages are kept and ``ptmscope crawl hf`` resumes."""


class RequestFailed(CrawlError):
    def __init__(self, url: str, message: str, *, status: int | None = None) -> None:
        self.url = url
        self.status = status
        super().__init__(message)


@dataclass
class RequestStats:
    list_requests: int = 0
    card_requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    waited_s: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **kw: float) -> None:
        with self._lock:
            for k, v in kw.items():
                setattr(self, k, getattr(self, k) + v)

    def to_dict(self) -> dict[str, Any]:
        return {
            "list_requests": self.list_requests,
            "card_requests": self.card_requests,
            "retries": self.retries,
            "rate_limited": self.rate_limited,
            "waited_s": round(self.waited_s, 3),
        }


def same_origin(a: str, b: str) -> bool:
    pa, pb = urlsplit(a), urlsplit(b)
    return (pa.scheme, pa.hostname, pa.port) == (pb.scheme, pb.hostname, pb.port)


class HubHTTP:
    """GET with retries against one Hub endpoint."""

    def __init__(
        self,
        endpoint: str,
        *,
        policy: RetryPolicy | None = None,
        clock: Clock | None = None,
        seed: int | None = None,
        token: str | bool | None = None,
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.policy = policy or RetryPolicy()
        self.clock = clock or Clock()
        self.rng = random.Random(seed)
        self._rng_lock = threading.Lock()
        self.stats = RequestStats()
        self._headers = build_hf_headers(token=token, library_name="ptmscope", library_version=__version__)
        self._not_before = 0.0  # monotonic time before which no request is sent (quota exhausted)
        self._nb_lock = threading.Lock()

    @property
    def authenticated(self) -> bool:
        return "authorization" in {k.lower() for k in self._headers}

    def _headers_for(self, url: str) -> dict[str, str]:
        if same_origin(url, self.endpoint):
            return self._headers
        # never send the token to another host (a CDN redirect target or a hostile Link header)
        return {k: v for k, v in self._headers.items() if k.lower() != "authorization"}

    def _respect_quota(self) -> None:
        with self._nb_lock:
            wait = self._not_before - self.clock.monotonic()
        if wait > 0:
            self.stats.add(waited_s=wait)
            self.clock.wait(wait)

    def _backoff(self, retry: int) -> float:
        with self._rng_lock:
            return self.policy.backoff(retry, self.rng)

    def get(self, url: str, *, kind: str, what: str, ok_status: tuple[int, ...] = ()) -> httpx2.Response:
        """GET ``url`` with retries; ``what`` names the resource in error messages (e.g. the page cursor).

        Returns the response for 2xx and for statuses in ``ok_status``; raises
        :class:`RequestFailed` otherwise, after retrying the retryable ones.
        """
        pol = self.policy
        last = ""
        for attempt in range(pol.max_retries + 1):
            self._respect_quota()
            self.stats.add(**{f"{kind}_requests": 1})
            delay: float
            try:
                r = get_session().get(url, headers=self._headers_for(url), timeout=pol.timeout)
            except OfflineModeIsEnabled as exc:
                raise RequestFailed(url, f"{what}: {exc}") from exc
            except TRANSIENT_ERRORS as exc:
                last = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                delay = self._backoff(attempt)
            except httpx2.HTTPError as exc:
                raise RequestFailed(url, f"{what}: {type(exc).__name__}: {exc}") from exc
            else:
                if r.status_code < 300 or r.status_code in ok_status:
                    wait = quota_exhausted_wait(r.headers)
                    if wait:
                        with self._nb_lock:
                            self._not_before = max(self._not_before, self.clock.monotonic() + wait)
                    return r
                if r.status_code not in RETRY_STATUS:
                    try:
                        hf_raise_for_status(r)
                        msg = f"HTTP {r.status_code}"
                    except HfHubHTTPError as exc:
                        msg = str(exc).splitlines()[0]
                    raise RequestFailed(url, f"{what}: {msg}", status=r.status_code)
                last = f"HTTP {r.status_code}"
                if r.status_code == 429:
                    self.stats.add(rate_limited=1)
                    asked = retry_after_seconds(r.headers)
                    if asked is not None and asked > pol.max_retry_after:
                        raise RequestFailed(
                            url,
                            f"{what}: rate limited; the Hub asks to wait {asked:.0f} s (more than "
                            f"--max-retry-after {pol.max_retry_after:.0f} s). Progress is saved: run the same "
                            "command again later to resume",
                            status=429,
                        )
                    delay = asked if asked is not None else self._backoff(attempt)
                else:
                    delay = self._backoff(attempt)
            if attempt == pol.max_retries:
                break
            self.stats.add(retries=1, waited_s=delay)
            self.clock.wait(delay)
        raise RequestFailed(url, f"{what}: giving up after {pol.max_retries + 1} attempts (last: {last})")

    def readme_url(self, repo_id: str, revision: str) -> str:
        return f"{self.endpoint}/{quote(repo_id, safe='/')}/resolve/{quote(revision, safe='')}/README.md"
