"""When to retry a Hub request and how long to wait first.

* 429: wait what the server asks: ``Retry-After`` (seconds or an HTTP date),
  else the ``RateLimit: "api";r=0;t=N`` reset of the IETF draft the Hub
  sends, else the exponential backoff.  A wait longer than
  ``max_retry_after`` is not slept through: the crawl stops (resumable)
  and says when to come back.
* 408/500/502/503/504, timeouts, dropped connections, bodies cut short:
  capped exponential backoff with jitter, ``min(max_delay, base * 2**n)``
  scaled by a random factor in ``[1 - jitter, 1]`` ("equal jitter"), so many
  crawlers restarting together do not retry in lockstep.
* Anything else (400, 401, 404 ...) is not retried.

Sleeping goes through an injectable callable so tests run in milliseconds.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from huggingface_hub.utils import parse_ratelimit_headers

RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})

Sleep = Callable[[float], None]


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 8  # retries after the first attempt
    base_delay: float = 1.0  # seconds before the first retry
    max_delay: float = 60.0  # cap of the exponential backoff
    jitter: float = 0.5  # fraction of the delay that is random
    max_retry_after: float = 900.0  # longest server-requested wait we sleep through
    malformed_retries: int = 2  # re-fetches of a page whose body does not parse
    timeout: float = 60.0  # per-request timeout (connect + read), seconds

    def __post_init__(self) -> None:
        from ..errors import ParameterError

        for name in ("max_retries", "base_delay", "max_delay", "max_retry_after", "malformed_retries"):
            if getattr(self, name) < 0:
                raise ParameterError(name, f"must be >= 0, not {getattr(self, name)}")
        if not 0 <= self.jitter <= 1:
            raise ParameterError("jitter", f"must be between 0 and 1, not {self.jitter}")
        if self.timeout <= 0:
            raise ParameterError("timeout", f"must be > 0 seconds, not {self.timeout}")

    def backoff(self, retry: int, rng: random.Random) -> float:
        """Delay before retry number ``retry`` (0-based) after a 5xx or a timeout."""
        d = min(self.max_delay, self.base_delay * (2**retry))
        return d * (1.0 - self.jitter * rng.random())

    def to_dict(self) -> dict[str, float | int]:
        return {
            "max_retries": self.max_retries,
            "base_delay": self.base_delay,
            "max_delay": self.max_delay,
            "jitter": self.jitter,
            "max_retry_after": self.max_retry_after,
            "malformed_retries": self.malformed_retries,
            "timeout": self.timeout,
        }


def retry_after_seconds(headers: Mapping[str, str], now: dt.datetime | None = None) -> float | None:
    """Seconds the server asks us to wait, from ``Retry-After`` or ``RateLimit``; None if it does not say."""
    value = None
    for k, v in headers.items():
        if k.lower() == "retry-after":
            value = v.strip()
            break
    if value:
        if value.isdigit():
            return float(value)
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            when = None
        if when is not None:
            if when.tzinfo is None:
                when = when.replace(tzinfo=dt.UTC)
            now = now or dt.datetime.now(dt.UTC)
            return max(0.0, (when - now).total_seconds())
    info = parse_ratelimit_headers(headers)
    if info is not None and info.remaining == 0:
        return float(info.reset_in_seconds)
    return None


def quota_exhausted_wait(headers: Mapping[str, str]) -> float | None:
    """On a *successful* answer: seconds until the quota resets when none is left, else None."""
    info = parse_ratelimit_headers(headers)
    if info is not None and info.remaining == 0:
        return float(info.reset_in_seconds)
    return None


@dataclass
class Clock:
    """Injectable time: ``sleep`` and ``monotonic`` (tests pass a fake that records sleeps)."""

    sleep: Sleep = time.sleep
    monotonic: Callable[[], float] = time.monotonic
    slept: list[float] = field(default_factory=list)

    def wait(self, seconds: float) -> None:
        if seconds > 0:
            self.slept.append(seconds)
            self.sleep(seconds)
