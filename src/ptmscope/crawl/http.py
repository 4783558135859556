"""HTTP to the Hub: huggingface_hub's shared client and headers, our retry policy, request counts.

We do not use ``HfApi.list_models`` / ``http_backoff`` directly: ``list_models``
hides the pagination cursor (the ``Link: <...>; rel="next"`` URL) that a
resumable crawl must persist, and ``http_backoff`` sleeps with ``time.sleep``
(not injectable) without jitter.  Everything else is huggingface_hub's:
``get_session()`` (the shared ``httpx2.Client``, which also enforces
``HF_HUB_OFFLINE``), ``build_hf_headers()`` (user agent; the token from
``HF_TOKEN`` or the saved login, never logged or stored by us) and
``hf_raise_for_status()`` for the server's error messages.

Two guarantees are ours, on every request:

* **one deadline per attempt**: ``timeout`` bounds the whole attempt --
  connecting, waiting for the answer and reading the *whole* body.  httpx's
  own timeouts bound each socket operation only, so a server that trickles
  one byte every 50 ms would never trip them; we check the deadline as the
  bytes arrive and, when it passes, shut the connection's socket down so a
  read blocked on a silent server returns at once.  The attempt then counts
  as a timeout (retried like one).
* **one origin**: a request is only ever sent to the endpoint's own scheme,
  host and port.  Redirects are not followed by the client; we follow those
  that stay on the endpoint's origin and raise :class:`OffsiteURL` naming
  the target for any other, so neither the token nor a request ever leaves
  the endpoint and nothing from another host is stored.
"""

from __future__ import annotations

import contextlib
import random
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import httpx2
from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled
from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status

from .. import __version__
from ..errors import PtmscopeError
from .retry import RETRY_STATUS, Clock, RetryPolicy, quota_exhausted_wait, retry_after_seconds

TRANSIENT_ERRORS = (httpx2.TimeoutException, httpx2.NetworkError, httpx2.RemoteProtocolError)
REDIRECT_STATUS = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 10
MAX_BODY_BYTES = 1 << 30  # an answer larger than this (decoded) is refused: no Hub page or card is near it


class CrawlError(PtmscopeError):
    """The crawl stopped; committed pages are kept and ``ptmscope crawl hf`` resumes."""


class RequestFailed(CrawlError):
    def __init__(self, url: str, message: str, *, status: int | None = None) -> None:
        self.url = url
        self.status = status
        super().__init__(message)


class OffsiteURL(RequestFailed):
    """A redirect or a next-page link to another scheme, host or port: never followed."""


class _Deadline:
    """The end of one attempt: checked as bytes arrive; when it passes, the connection's socket is shut down."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds
        self.expired = False
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._h11 = False  # only an HTTP/1 connection carries this request alone: never shut a shared one
        self._finished = False
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def trace(self, event: str, info: dict[str, Any]) -> None:
        """httpcore's ``trace`` extension: learn the socket as soon as a new connection is made."""
        if event.startswith("http11."):
            with self._lock:
                self._h11 = True
        if event in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            self.watch(info.get("return_value"))

    def watch(self, stream: Any, http_version: str | None = None) -> None:
        sock = None
        with contextlib.suppress(Exception):
            sock = stream.get_extra_info("socket") if stream is not None else None
        if not isinstance(sock, socket.socket):
            return
        with self._lock:
            self._sock = sock
            if http_version is not None:
                self._h11 = http_version.startswith("HTTP/1")
            fire = self.expired and not self._finished and self._h11
        if fire:
            self._shutdown(sock)

    def check(self) -> None:
        if time.monotonic() >= self.end:
            self.expired = True
            raise httpx2.ReadTimeout(f"no complete answer within {self.seconds:g} s")

    def _fire(self) -> None:
        with self._lock:
            if self._finished:
                return
            self.expired = True
            sock = self._sock if self._h11 else None
        if sock is not None:
            self._shutdown(sock)

    @staticmethod
    def _shutdown(sock: socket.socket) -> None:
        # socket.socket.shutdown, not SSLSocket.shutdown: the reader thread still holds the TLS object
        with contextlib.suppress(OSError):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)

    def finish(self) -> None:
        with self._lock:
            self._finished = True
        self._timer.cancel()


@dataclass
class RequestStats:
    list_requests: int = 0
    card_requests: int = 0
    commit_requests: int = 0
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
            "commit_requests": self.commit_requests,
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
        # never send the token to another host (unreachable: _send refuses other origins first)
        return {k: v for k, v in self._headers.items() if k.lower() != "authorization"}

    def _send(self, url: str) -> httpx2.Response:
        """One attempt: GET ``url`` and read the whole body within the deadline; redirects are not followed."""
        if not same_origin(url, self.endpoint):
            raise OffsiteURL(url, f"{url}: not on the endpoint {self.endpoint}; not requested")
        client = get_session()
        deadline = _Deadline(self.policy.timeout)
        try:
            req = client.build_request(
                "GET", url, headers=self._headers_for(url), timeout=self.policy.timeout,
                extensions={"trace": deadline.trace},
            )  # fmt: skip
            chunks: list[bytes] = []
            size = 0
            try:
                r = client.send(req, stream=True, follow_redirects=False)
                try:
                    deadline.watch(r.extensions.get("network_stream"), r.http_version)
                    deadline.check()
                    for chunk in r.iter_bytes():
                        size += len(chunk)
                        if size > MAX_BODY_BYTES:
                            raise httpx2.DecodingError(f"answer larger than {MAX_BODY_BYTES} bytes; not read further")
                        chunks.append(chunk)
                        deadline.check()
                finally:
                    r.close()
            except httpx2.HTTPError as exc:
                if deadline.expired and not isinstance(exc, httpx2.TimeoutException):
                    raise httpx2.ReadTimeout(f"no complete answer within {self.policy.timeout:g} s") from None
                raise
        finally:
            deadline.finish()
        # the body is decoded already: the copy must not claim an encoding or a length of its own
        headers = [(k, v) for k, v in r.headers.multi_items() if k.lower() not in _BODY_HEADERS]
        return httpx2.Response(r.status_code, headers=headers, content=b"".join(chunks), request=req)

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
        if not same_origin(url, self.endpoint):
            raise OffsiteURL(url, f"{what}: {url} is not on the endpoint {self.endpoint}; not requested")
        pol = self.policy
        last = ""
        hops = 0
        attempt = 0
        while attempt <= pol.max_retries:
            self._respect_quota()
            self.stats.add(**{f"{kind}_requests": 1})
            delay: float
            try:
                r = self._send(url)
            except OfflineModeIsEnabled as exc:
                raise RequestFailed(url, f"{what}: {exc}") from exc
            except TRANSIENT_ERRORS as exc:
                last = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                delay = self._backoff(attempt)
            except httpx2.HTTPError as exc:
                raise RequestFailed(url, f"{what}: {type(exc).__name__}: {exc}") from exc
            else:
                if r.status_code in REDIRECT_STATUS and r.status_code not in ok_status:
                    target = urljoin(url, r.headers.get("location", ""))
                    if not r.headers.get("location") or hops >= MAX_REDIRECTS:
                        raise RequestFailed(url, f"{what}: HTTP {r.status_code}: redirect without a usable target")
                    if not same_origin(target, self.endpoint):
                        raise OffsiteURL(
                            target,
                            f"{what}: the server redirects to {target}, off the endpoint {self.endpoint}; "
                            "not followed (only the endpoint's own scheme, host and port are)",
                            status=r.status_code,
                        )
                    url, hops = target, hops + 1
                    continue
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
                            f"{what}: rate limited; the Hub asks to wait {asked:.0f} s (more than the "
                            f"max_retry_after limit of {pol.max_retry_after:.0f} s). Progress is saved: run the "
                            "same crawl again later to resume",
                            status=429,
                        )
                    delay = asked if asked is not None else self._backoff(attempt)
                else:
                    delay = self._backoff(attempt)
            if attempt == pol.max_retries:
                break
            attempt += 1
            self.stats.add(retries=1, waited_s=delay)
            self.clock.wait(delay)
        raise RequestFailed(url, f"{what}: giving up after {pol.max_retries + 1} attempts (last: {last})")

    def readme_url(self, repo_id: str, revision: str, repo_type: str = "model") -> str:
        prefix = "" if repo_type == "model" else f"/{repo_type}s"
        return f"{self.endpoint}{prefix}/{quote(repo_id, safe='/')}/resolve/{quote(revision, safe='')}/README.md"


_BODY_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})
