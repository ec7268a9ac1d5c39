"""The SDK gateway against the emulator over loopback: results, error typing, and retry safety."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from sesrelay.adapters.ses_sdk import SdkSesGateway
from sesrelay.clock import Deadline, ManualClock, SystemClock
from sesrelay.emulator import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, EmulatorServer
from sesrelay.errors import Outcome, SesError
from tests.polling import wait_until

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


def make_gateway(
    emu: EmulatorServer, clock: Any = None, *, key: str = DEFAULT_SECRET_KEY, **kw: Any
) -> SdkSesGateway:
    return SdkSesGateway(
        secret_id=DEFAULT_SECRET_ID,
        secret_key=key,
        session_token=kw.pop("session_token", None),
        region="ap-singapore",
        endpoint=emu.url,
        clock=clock or ManualClock(),
        **kw,
    )


def deadline(clock: Any, seconds: float = 30.0) -> Deadline:
    return Deadline(clock, seconds)


def test_send_returns_message_id_and_request_id(emu: EmulatorServer) -> None:
    clock = ManualClock()
    result = make_gateway(emu, clock).call("SendEmail", SEND, deadline(clock))
    assert result["MessageId"].startswith("qcloudses-")
    assert result["RequestId"]
    [mail] = emu.outbox(message_id=result["MessageId"])
    assert mail["subject"] == "Welcome, Ana"


def test_session_token_is_sent_and_accepted(emu: EmulatorServer) -> None:
    clock = ManualClock()
    gateway = make_gateway(emu, clock, session_token="role-token")
    assert gateway.call("SendEmail", SEND, deadline(clock))["MessageId"]


def test_one_client_is_reused_per_thread(emu: EmulatorServer) -> None:
    clock = ManualClock()
    gateway = make_gateway(emu, clock)
    gateway.call("ListEmailAddress", {}, deadline(clock))
    first = gateway._client()
    gateway.call("ListEmailAddress", {}, deadline(clock))
    assert gateway._client() is first


@pytest.mark.parametrize(
    "code",
    [
        "RequestLimitExceeded",
        "RequestLimitExceeded.UinLimitExceeded",
        "RequestLimitExceeded.GlobalRegionUinLimitExceeded",
        "FailedOperation.ServiceNotAvailable",
    ],
)
def test_retryable_fault_is_retried_and_the_mail_is_sent_once(
    emu: EmulatorServer, code: str
) -> None:
    clock = ManualClock()
    emu.inject_fault("SendEmail", "error", count=2, code=code)
    result = make_gateway(emu, clock, max_attempts=3).call("SendEmail", SEND, deadline(clock))
    assert result["MessageId"]
    assert emu.call_counts()["SendEmail"] == 3
    assert len(emu.outbox(to="ana@example.org")) == 1
    assert len(clock.slept) == 2  # backed off between attempts, on the injected clock


def test_backoff_is_exponential_with_full_jitter(emu: EmulatorServer) -> None:
    clock = ManualClock()
    emu.inject_fault("SendEmail", "error", count=4, code="RequestLimitExceeded")
    gateway = make_gateway(emu, clock, max_attempts=5, base_backoff=0.5, max_backoff=10)
    gateway.call("SendEmail", SEND, deadline(clock))
    caps = [0.5, 1.0, 2.0, 4.0]
    assert len(clock.slept) == 4
    assert all(0 <= pause <= cap for pause, cap in zip(clock.slept, caps, strict=True))


def test_retryable_fault_that_persists_is_reported_retryable(emu: EmulatorServer) -> None:
    clock = ManualClock()
    emu.inject_fault("SendEmail", "error", count=5, code="RequestLimitExceeded")
    with pytest.raises(SesError) as caught:
        make_gateway(emu, clock, max_attempts=3).call("SendEmail", SEND, deadline(clock))
    assert caught.value.code == "RequestLimitExceeded"
    assert caught.value.outcome is Outcome.RETRYABLE
    assert caught.value.attempts == 3
    assert caught.value.request_id
    assert emu.outbox() == []


def test_retries_stop_at_the_deadline(emu: EmulatorServer) -> None:
    clock = ManualClock()
    emu.inject_fault("SendEmail", "error", count=50, code="RequestLimitExceeded")
    gateway = make_gateway(emu, clock, max_attempts=50, base_backoff=1.0, max_backoff=1.0)
    with pytest.raises(SesError) as caught:
        gateway.call("SendEmail", SEND, deadline(clock, seconds=3.0))
    assert caught.value.retryable
    assert sum(clock.slept) <= 3.0
    assert emu.call_counts()["SendEmail"] < 50


@pytest.mark.parametrize(
    ("kind", "extra", "sent"),
    [
        ("drop_after", {}, True),  # SES acted, the reply was lost
        ("drop_before", {}, False),  # indistinguishable for the client: still ambiguous
        ("http_status", {"status": 500}, False),
        ("http_status", {"status": 502}, False),
        ("error", {"code": "InternalError"}, False),
    ],
)
def test_ambiguous_send_failure_is_not_retried(
    emu: EmulatorServer, kind: str, extra: dict[str, Any], sent: bool
) -> None:
    clock = ManualClock()
    emu.inject_fault("SendEmail", kind, count=1, **extra)
    with pytest.raises(SesError) as caught:
        make_gateway(emu, clock, max_attempts=5).call("SendEmail", SEND, deadline(clock))
    assert caught.value.outcome is Outcome.OUTCOME_UNKNOWN
    assert caught.value.attempts == 1
    assert emu.call_counts()["SendEmail"] == 1
    assert len(emu.outbox()) == (1 if sent else 0)


def test_read_timeout_is_outcome_unknown_and_the_mail_was_sent(emu: EmulatorServer) -> None:
    clock = SystemClock()
    emu.inject_fault("SendEmail", "delay", count=1, seconds=2.0)
    gateway = make_gateway(emu, clock, timeout=0.3, max_attempts=5)
    with pytest.raises(SesError) as caught:
        gateway.call("SendEmail", SEND, deadline(clock))
    # The gateway gave up on its own timeout: the emulator still holds the request, unsent.
    assert emu.call_counts()["SendEmail"] == 1
    assert emu.outbox() == []
    assert caught.value.code == "ClientNetworkError"
    assert caught.value.outcome is Outcome.OUTCOME_UNKNOWN
    # ...and SES acts anyway once its delay is over, which is why the outcome is unknown.
    assert wait_until(lambda: len(emu.outbox()) == 1, timeout=10), emu.outbox()
    assert emu.call_counts()["SendEmail"] == 1  # never retried


def test_call_timeout_is_bounded_by_the_invocation_deadline(emu: EmulatorServer) -> None:
    clock = SystemClock()
    emu.inject_fault("ListSendTasks", "delay", count=3, seconds=1.5)
    gateway = make_gateway(emu, clock, timeout=30, max_attempts=3)
    # With the 30 s timeout, the delayed reply (a success, 1.5 s later) would be awaited: the
    # error proves the attempt was cut at the deadline, and no retry started after it.
    with pytest.raises(SesError) as caught:
        gateway.call("ListSendTasks", {"Offset": 0, "Limit": 10}, Deadline(clock, 0.4))
    assert caught.value.retryable
    assert emu.call_counts()["ListSendTasks"] == 1


def test_read_only_action_is_retried_after_a_server_error(emu: EmulatorServer) -> None:
    clock = ManualClock()
    emu.inject_fault("ListSendTasks", "http_status", count=1, status=503)
    result = make_gateway(emu, clock).call(
        "ListSendTasks", {"Offset": 0, "Limit": 10}, deadline(clock)
    )
    assert "TotalCount" in result
    assert emu.call_counts()["ListSendTasks"] == 2


def test_final_error_is_not_retried(emu: EmulatorServer) -> None:
    clock = ManualClock()
    params = {**SEND, "Destination": ["blocked@example.org"]}
    with pytest.raises(SesError) as caught:
        make_gateway(emu, clock).call("SendEmail", params, deadline(clock))
    assert caught.value.code == "FailedOperation.EmailAddrInBlacklist"
    assert caught.value.outcome is Outcome.FINAL
    assert emu.call_counts()["SendEmail"] == 1


def test_wrong_secret_is_a_final_auth_failure(emu: EmulatorServer) -> None:
    clock = ManualClock()
    with pytest.raises(SesError) as caught:
        make_gateway(emu, clock, key="not-the-key").call("SendEmail", SEND, deadline(clock))
    assert caught.value.code == "AuthFailure.SignatureFailure"
    assert caught.value.outcome is Outcome.FINAL
    assert "not-the-key" not in str(caught.value)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_connection_refused_is_retryable_and_retried() -> None:
    clock = ManualClock()
    gateway = SdkSesGateway(
        secret_id=DEFAULT_SECRET_ID,
        secret_key=DEFAULT_SECRET_KEY,
        session_token=None,
        region="ap-singapore",
        endpoint=f"http://127.0.0.1:{_closed_port()}",
        clock=clock,
        max_attempts=3,
    )
    with pytest.raises(SesError) as caught:
        gateway.call("SendEmail", SEND, deadline(clock))
    assert caught.value.code == "ClientNetworkError"
    assert caught.value.outcome is Outcome.RETRYABLE
    assert caught.value.attempts == 3
    # In words that name no host, port or library: it reaches answers and campaign LastError.
    assert caught.value.message == "the connection to SES was refused"


def test_no_time_left_means_no_call(emu: EmulatorServer) -> None:
    clock = ManualClock()
    with pytest.raises(SesError) as caught:
        make_gateway(emu, clock).call("SendEmail", SEND, Deadline(clock, 0.0))
    assert caught.value.code == "deadline_exceeded"
    assert caught.value.retryable
    assert emu.call_counts().get("SendEmail", 0) == 0
