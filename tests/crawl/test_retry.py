"""The retry policy: server-requested waits and jittered, capped backoff."""

from __future__ import annotations

import datetime as dt
import random

from hypothesis import given
from hypothesis import strategies as st

from ptmscope.crawl.retry import RetryPolicy, quota_exhausted_wait, retry_after_seconds


def test_retry_after_seconds_and_http_date():
    assert retry_after_seconds({"Retry-After": "120"}) == 120.0
    now = dt.datetime(2025, 1, 1, 12, 0, 0, tzinfo=dt.UTC)
    assert retry_after_seconds({"retry-after": "Wed, 01 Jan 2025 12:00:30 GMT"}, now=now) == 30.0
    assert retry_after_seconds({"Retry-After": "Wed, 01 Jan 2025 11:00:00 GMT"}, now=now) == 0.0
    assert retry_after_seconds({"Retry-After": "soon"}) is None
    assert retry_after_seconds({}) is None


def test_ratelimit_header_counts_only_when_exhausted():
    assert retry_after_seconds({"RateLimit": '"api";r=0;t=55'}) == 55.0
    assert retry_after_seconds({"RateLimit": '"api";r=3;t=55'}) is None
    assert quota_exhausted_wait({"ratelimit": '"api";r=0;t=9'}) == 9.0
    assert quota_exhausted_wait({"ratelimit": '"api";r=1;t=9'}) is None
    # Retry-After wins over RateLimit
    assert retry_after_seconds({"Retry-After": "3", "RateLimit": '"api";r=0;t=55'}) == 3.0


@given(
    retry=st.integers(0, 40),
    base=st.floats(0.01, 10),
    cap=st.floats(0.1, 600),
    jitter=st.floats(0, 1),
    seed=st.integers(0, 2**32),
)
def test_backoff_is_capped_and_jittered_within_bounds(retry, base, cap, jitter, seed):
    p = RetryPolicy(base_delay=base, max_delay=cap, jitter=jitter)
    d = p.backoff(retry, random.Random(seed))
    full = min(cap, base * 2**retry)
    assert full * (1 - jitter) - 1e-9 <= d <= full + 1e-9


def test_backoff_grows_then_plateaus():
    p = RetryPolicy(base_delay=1, max_delay=8, jitter=0)
    assert [p.backoff(n, random.Random(0)) for n in range(6)] == [1, 2, 4, 8, 8, 8]


def test_token_goes_only_to_the_endpoint_origin():
    from ptmscope.crawl.http import HubHTTP

    h = HubHTTP("https://hub.example:8443", token="hf_secret")
    assert h.authenticated
    assert h._headers_for("https://hub.example:8443/api/models?cursor=x")["authorization"] == "Bearer hf_secret"
    for other in ("https://evil.example/api/models", "http://hub.example:8443/x", "https://hub.example/x"):
        assert "authorization" not in {k.lower() for k in h._headers_for(other)}
