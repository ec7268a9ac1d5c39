"""SES's 20 requests/s per action, held by the relay: bursts through `Runtime.handle` against the
emulator with its rate limit on never reach SES above the limit.

A request that cannot get a slot before its deadline is not sent: HTTP answers 429 `rate_limited`
with Retry-After, a timer tick raises RetryLater (SCF retries it), a direct invocation reports it.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from sesrelay.adapters.state_url import open_state_store
from sesrelay.clock import SystemClock
from sesrelay.emulator import EmulatorServer
from sesrelay.errors import RetryLater
from sesrelay.runtime import Runtime
from tests.functional.conftest import load_event

SES_LIMIT = 20
MakeRuntime = Callable[..., Runtime]


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorServer]:
    """This module's emulator enforces SES's limit (the shared one turns it off)."""
    with EmulatorServer(port=0, rate_limit=SES_LIMIT) as server:
        yield server


def ctx(time_limit_ms: int = 10_000) -> dict[str, Any]:
    return {"request_id": "rate-test", "time_limit_in_ms": time_limit_ms}


def email_event(index: int, tag: str) -> dict[str, Any]:
    body = {
        "FromEmailAddress": "noreply@example.com",
        "Destination": [f"rate-{index:04d}@example.org"],
        "Subject": "Welcome, {{name}}",
        "Template": {"TemplateID": 100001, "TemplateData": {"name": f"n{index}"}},
    }
    return load_event(
        "http_post-emails", body=body, headers={"idempotency-key": f"{tag}-{index:04d}"}
    )


def burst(
    runtimes: list[Runtime], count: int, tag: str, time_limit_ms: int = 10_000, threads: int = 20
) -> list[dict[str, Any]]:
    """`count` requests from `threads` threads at once, spread over the runtimes (instances)."""
    barrier = threading.Barrier(threads)

    def one(index: int) -> dict[str, Any]:
        if index < threads:
            barrier.wait(timeout=10)
        runtime = runtimes[index % len(runtimes)]
        reply: dict[str, Any] = runtime.handle(email_event(index, tag), ctx(time_limit_ms))
        return reply

    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(one, range(count)))


def answers(replies: list[dict[str, Any]]) -> Counter[str]:
    def label(reply: dict[str, Any]) -> str:
        status = reply["statusCode"]
        return str(status) if status < 300 else f"{status} {json.loads(reply['body'])['code']}"

    return Counter(label(reply) for reply in replies)


def assert_ses_never_refused(emulator: EmulatorServer, sent: int) -> None:
    assert emulator.rate_limited_counts() == {}
    assert emulator.call_counts().get("SendEmail", 0) == sent
    assert len(emulator.outbox()) == sent


def test_a_burst_of_sixty_from_one_instance_all_sent_none_refused_by_ses(
    make_runtime: MakeRuntime, emulator: EmulatorServer
) -> None:
    replies = burst([make_runtime()], 60, "burst60")
    assert answers(replies) == {"202": 60}
    assert_ses_never_refused(emulator, 60)
    assert len({m["to"] for m in emulator.outbox()}) == 60


def test_requests_whose_slot_is_past_their_deadline_get_429_and_nothing_is_sent(
    make_runtime: MakeRuntime, emulator: EmulatorServer, problem: Callable[..., Any]
) -> None:
    runtime = make_runtime()
    # 1 s of SCF time is ~0.5 s of deadline: about 8 slots at 19/s; the rest cannot wait.
    replies = burst([runtime], 30, "short", time_limit_ms=1000)
    counts = answers(replies)
    assert set(counts) == {"202", "429 rate_limited"}, counts
    assert_ses_never_refused(emulator, counts["202"])
    refused = [i for i, reply in enumerate(replies) if reply["statusCode"] == 429]
    body = problem(replies[refused[0]], 429, "rate_limited")
    # Retry-After is the limiter's own wait, rounded up to whole seconds, as the detail says.
    wait = replies[refused[0]]["headers"]["retry-after"]
    assert wait.isdigit()
    assert int(wait) >= 1
    assert f"retry after {wait} s" in body["detail"]
    # Nothing was sent, so the Idempotency-Key is free: the client's retry sends.
    retry = runtime.handle(email_event(refused[0], "short"), ctx())
    assert retry["statusCode"] == 202, retry
    assert "idempotent-replayed" not in retry["headers"]
    assert_ses_never_refused(emulator, counts["202"] + 1)


@pytest.mark.redis
def test_instances_sharing_redis_share_one_budget(
    make_runtime: MakeRuntime, emulator: EmulatorServer, redis_server: str
) -> None:
    instances = [
        make_runtime(state_url=redis_server, state=open_state_store(redis_server, SystemClock()))
        for _ in range(3)
    ]
    replies = burst(instances, 45, "fleet")
    assert answers(replies) == {"202": 45}
    assert_ses_never_refused(emulator, 45)


def test_without_a_shared_limit_a_burst_is_refused_by_ses(
    make_runtime: MakeRuntime, emulator: EmulatorServer
) -> None:
    """What the limiter prevents; also checks that the emulator counts its refusals."""
    replies = burst([make_runtime(ses_rate=0)], 40, "unlimited")
    refused = emulator.rate_limited_counts().get("SendEmail", 0)
    assert refused > 0
    assert refused == emulator.call_counts()["SendEmail"] - len(emulator.outbox())
    # Some callers get SES's refusal back (429 RequestLimitExceeded once the gateway's retries
    # run out); the relay itself never fails with 500.
    assert all(reply["statusCode"] != 500 for reply in replies)


def test_two_instances_with_their_own_limiters_overrun_ses(
    make_runtime: MakeRuntime, emulator: EmulatorServer
) -> None:
    """memory:// limits one instance: a fleet needs the Redis limiter."""
    burst([make_runtime(), make_runtime()], 50, "two-memory")
    assert emulator.rate_limited_counts().get("SendEmail", 0) > 0


def test_a_timer_tick_without_a_slot_raises_for_scf_to_retry_then_sends_once(
    make_runtime: MakeRuntime, emulator: EmulatorServer
) -> None:
    runtime = make_runtime(ses_rate=2)  # a permit every 0.53 s
    first = load_event("timer_inline-send-email")
    assert runtime.handle(first, ctx())["status"] == "sent"
    second = {**first, "Time": "2026-11-30T01:01:00Z"}
    with pytest.raises(RetryLater):
        runtime.handle(second, ctx(time_limit_ms=600))  # 0.1 s left: the slot is 0.53 s away
    assert emulator.call_counts()["SendEmail"] == 1
    retried = runtime.handle(second, ctx())  # SCF's retry: the tick was not marked as sent
    assert retried["status"] == "sent", retried
    assert runtime.handle(second, ctx())["status"] == "duplicate"
    assert_ses_never_refused(emulator, 2)


def test_a_direct_invocation_without_a_slot_reports_rate_limited(
    make_runtime: MakeRuntime, emulator: EmulatorServer
) -> None:
    runtime = make_runtime(ses_rate=1)
    event = load_event("direct_send-email")
    assert runtime.handle(event, ctx())["ok"] is True
    reply = runtime.handle(event, ctx(time_limit_ms=600))
    assert reply["ok"] is False
    assert (reply["error"]["code"], reply["error"]["outcome"]) == ("rate_limited", "retryable")
    assert_ses_never_refused(emulator, 1)
