"""How the rate limiter is configured and what its refusal looks like to each kind of caller."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from sesrelay.adapters.ratelimit_memory import MemoryRateLimiter
from sesrelay.adapters.ratelimit_redis import RedisRateLimiter
from sesrelay.adapters.ratelimit_url import open_rate_limiter
from sesrelay.adapters.ses_sdk import SdkSesGateway
from sesrelay.clock import Deadline, ManualClock
from sesrelay.errors import Outcome
from sesrelay.http.problems import error_response
from sesrelay.ratelimit import (
    RateLimit,
    RateLimited,
    RateLimiterUnavailable,
    SesThrottle,
    ses_key,
)
from sesrelay.settings import Settings
from sesrelay.wiring import build_ses_gateway, build_ses_throttle

CREDENTIALS = {"secret_id": "AKIDexample", "secret_key": "secret-example"}
RATE = RateLimit(19)


@pytest.mark.parametrize(
    "url", ["memory://", "sqlite:///.sesrelay/state.sqlite3", "sqlite:////tmp/x.sqlite3"]
)
def test_one_instance_urls_get_an_in_process_limiter(url: str) -> None:
    limiter = open_rate_limiter(url, ManualClock(), RATE)
    assert isinstance(limiter, MemoryRateLimiter)
    assert limiter.rate == RATE


def test_redis_urls_get_the_fleet_limiter_under_the_url_prefix() -> None:
    url = "redis://:pw-123@10.0.0.5:6380/2?prefix=acct-a:"
    limiter = open_rate_limiter(url, ManualClock(), RateLimit(5))
    try:
        assert isinstance(limiter, RedisRateLimiter)
        assert repr(limiter) == (
            "RedisRateLimiter('redis://10.0.0.5:6380/2', 5/1s, prefix='acct-a:ratelimit:')"
        )
    finally:
        limiter.close()


@pytest.mark.parametrize("url", ["ftp://u:pw-123@h/x", "nothing", "redis://:pw-123@:0/0"])
def test_invalid_urls_are_refused_without_the_password(url: str) -> None:
    with pytest.raises(ValueError, match="state URL") as caught:
        open_rate_limiter(url, ManualClock(), RATE)
    assert "pw-123" not in str(caught.value)


def test_ses_rate_is_the_ses_limit_20_by_default_and_zero_turns_the_limiter_off() -> None:
    assert Settings(environ={}).ses_rate == 20
    assert Settings(environ={"SESRELAY_SES_RATE": "0"}).ses_rate == 0
    assert Settings(environ={"SESRELAY_SES_RATE": "100"}).ses_rate == 100
    for bad in ("-1", "2.5", "many"):
        with pytest.raises(ValidationError):
            Settings(environ={"SESRELAY_SES_RATE": bad})
    settings = Settings(environ={"SESRELAY_SES_RATE": "0"}, **CREDENTIALS)
    assert build_ses_throttle(settings, ManualClock(), "http://127.0.0.1:9") is None


def test_the_gateway_throttles_each_ses_host_with_the_state_url_limiter() -> None:
    settings = Settings(environ={}, state_url="memory://", **CREDENTIALS)
    throttle = build_ses_throttle(settings, ManualClock(), "ses.intl.tencentcloudapi.com")
    assert isinstance(throttle, SesThrottle)
    assert throttle.scope == "ses.intl.tencentcloudapi.com"
    assert isinstance(throttle.limiter, MemoryRateLimiter)
    assert throttle.limiter.rate == RateLimit(20)  # spaced at 19/s
    emulator = build_ses_throttle(settings, ManualClock(), "http://127.0.0.1:8025")
    assert emulator is not None
    assert emulator.scope == "127.0.0.1:8025"
    assert ses_key(emulator.scope, "SendEmail") == "ses:127.0.0.1:8025:SendEmail"
    assert isinstance(build_ses_gateway(settings, ManualClock()), SdkSesGateway)


def test_the_throttle_keeps_time_for_the_call_and_names_the_action() -> None:
    clock = ManualClock()
    limiter = MemoryRateLimiter(RateLimit(1, headroom=0.0), clock)
    throttle = SesThrottle(limiter, "host", clock, reserve_seconds=0.1)
    throttle("SendEmail", Deadline(clock, 5))()
    # The next slot is 1 s away: with 1.05 s left, waiting would leave under 0.1 s for SES.
    with pytest.raises(RateLimited) as caught:
        throttle("SendEmail", Deadline(clock, 1.05))
    assert caught.value.action == "SendEmail"
    assert "'ses:host:SendEmail'" in caught.value.message
    throttle("SendEmail", Deadline(clock, 1.2))
    assert clock.slept == [1.0]


def test_rate_limited_is_429_with_retry_after_over_http() -> None:
    error = RateLimited("ses:host:SendEmail", 2.4, action="SendEmail")
    response = error_response(error, "req-1")
    body = json.loads(response.body)
    assert response.status == 429
    assert response.headers["retry-after"] == "3"  # the limiter's 2.4 s wait, rounded up
    assert (body["code"], body["status"]) == ("rate_limited", 429)
    assert "retry after 3 s" in body["detail"]
    assert error.outcome is Outcome.RETRYABLE


def test_an_unavailable_limiter_is_503_with_retry_after() -> None:
    response = error_response(RateLimiterUnavailable("redis rate limiter down"), "req-2")
    body = json.loads(response.body)
    assert (response.status, body["code"]) == (503, "state_store_unavailable")
    assert response.headers["retry-after"] == "1"
