"""The SDK gateway's before-attempt hook: the rate limiter sees every request that leaves for SES,
retries included, and a refusal sends nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from sesrelay.adapters.ratelimit_memory import MemoryRateLimiter
from sesrelay.adapters.ses_sdk import SdkSesGateway
from sesrelay.clock import Deadline, ManualClock
from sesrelay.emulator import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, EmulatorServer
from sesrelay.errors import Outcome, SesError
from sesrelay.ratelimit import RateLimit, RateLimited, SesThrottle

SEND: dict[str, Any] = {
    "FromEmailAddress": "noreply@example.com",
    "Destination": ["ana@example.org"],
    "Subject": "Welcome, {{name}}",
    "Template": {"TemplateID": 100001, "TemplateData": '{"name": "Ana"}'},
}


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer(port=0, rate_limit=None) as server:
        yield server


@pytest.fixture
def emu(emulator: EmulatorServer) -> EmulatorServer:
    emulator.reset()
    return emulator


def gateway(emu: EmulatorServer, clock: ManualClock, hook: Any) -> SdkSesGateway:
    return SdkSesGateway(
        secret_id=DEFAULT_SECRET_ID,
        secret_key=DEFAULT_SECRET_KEY,
        session_token=None,
        region="ap-singapore",
        endpoint=emu.url,
        clock=clock,
        max_attempts=3,
        before_attempt=hook,
    )


def test_the_hook_runs_around_every_attempt(emu: EmulatorServer) -> None:
    clock = ManualClock()
    seen: list[str] = []
    emu.inject_fault("SendEmail", "error", count=2, code="FailedOperation.ServiceNotAvailable")

    def hook(action: str, deadline: Deadline) -> Callable[[], None]:
        seen.append(f"before {action} ({emu.call_counts().get(action, 0)} calls so far)")
        return lambda: seen.append(f"over ({emu.call_counts()[action]} calls)")

    result = gateway(emu, clock, hook).call("SendEmail", SEND, Deadline(clock, 30))
    assert result["MessageId"]
    assert seen == [
        "before SendEmail (0 calls so far)",
        "over (1 calls)",
        "before SendEmail (1 calls so far)",
        "over (2 calls)",
        "before SendEmail (2 calls so far)",
        "over (3 calls)",
    ]


def test_an_attempt_that_fails_is_over_too(emu: EmulatorServer) -> None:
    clock = ManualClock()
    over: list[str] = []
    emu.inject_fault("SendEmail", "error", count=1, code="InvalidParameterValue")
    with pytest.raises(SesError):
        gateway(emu, clock, lambda action, deadline: lambda: over.append(action)).call(
            "SendEmail", SEND, Deadline(clock, 30)
        )
    assert over == ["SendEmail"]


def test_a_refused_slot_sends_nothing_and_is_not_retried(emu: EmulatorServer) -> None:
    clock = ManualClock()
    limiter = MemoryRateLimiter(RateLimit(1, headroom=0.0), clock)
    throttle = SesThrottle(limiter, "emu", clock)
    ses = gateway(emu, clock, throttle)
    ses.call("SendEmail", SEND, Deadline(clock, 30))
    with pytest.raises(RateLimited) as caught:
        ses.call("SendEmail", SEND, Deadline(clock, 0.5))
    error = caught.value
    assert (error.code, error.outcome, error.action) == (
        "rate_limited",
        Outcome.RETRYABLE,
        "SendEmail",
    )
    assert emu.call_counts()["SendEmail"] == 1
    assert len(emu.outbox()) == 1


def test_a_caller_with_time_left_waits_for_its_slot_then_sends(emu: EmulatorServer) -> None:
    clock = ManualClock()
    throttle = SesThrottle(MemoryRateLimiter(RateLimit(1, headroom=0.0), clock), "emu", clock)
    ses = gateway(emu, clock, throttle)
    ses.call("SendEmail", SEND, Deadline(clock, 30))
    ses.call("SendEmail", SEND, Deadline(clock, 2))  # waits 1 s on the manual clock, then sends
    assert clock.slept == [1.0]
    assert emu.call_counts()["SendEmail"] == 2
