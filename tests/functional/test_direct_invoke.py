"""main_handler on direct-invoke events (events/direct_*.json) against the emulator."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sesrelay.clock import ManualClock, SystemClock
from sesrelay.emulator import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, EmulatorServer
from sesrelay.runtime import Runtime
from sesrelay.settings import Settings
from sesrelay.wiring import build_services

EVENTS = Path(__file__).resolve().parents[2] / "events"
CONTEXT = {"request_id": "test-request", "time_limit_in_ms": 10000}


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return data


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer(port=0, rate_limit=None) as server:
        yield server


@pytest.fixture
def runtime(emulator: EmulatorServer) -> Runtime:
    emulator.reset()
    settings = Settings(
        ses_endpoint=emulator.url, secret_id=DEFAULT_SECRET_ID, secret_key=DEFAULT_SECRET_KEY
    )
    return Runtime(build_services(settings, clock=SystemClock()))


def test_seed_example_is_refused_naming_every_contradiction(
    runtime: Runtime, emulator: EmulatorServer
) -> None:
    reply = runtime.handle(load("direct_batch-send-email-invalid.json"), CONTEXT)
    assert reply["ok"] is False
    assert reply["error"]["code"] == "validation_error"
    fields = {error["field"] for error in reply["error"]["errors"]}
    assert {"Attachments", "Simple", "TimedParam", "CycleParam"} <= fields
    assert emulator.call_counts().get("BatchSendEmail", 0) == 0
    assert emulator.outbox() == []


def test_fixed_seed_example_creates_a_task_and_mails_the_group(
    runtime: Runtime, emulator: EmulatorServer
) -> None:
    reply = runtime.handle(load("direct_batch-send-email.json"), CONTEXT)
    assert reply["ok"] is True, reply
    task_id = reply["result"]["TaskId"]
    assert isinstance(task_id, int)
    mails = emulator.outbox(task_id=task_id)
    assert sorted(m["to"] for m in mails) == [
        "ana@example.org",
        "ben@example.org",
        "chen@example.org",
    ]
    assert all(m["subject"] == "Email subject" for m in mails)
    assert all("123" in m["html"] for m in mails)


def test_send_email_event(runtime: Runtime, emulator: EmulatorServer) -> None:
    reply = runtime.handle(load("direct_send-email.json"), CONTEXT)
    assert reply["ok"] is True, reply
    [mail] = emulator.outbox(message_id=reply["result"]["MessageId"])
    assert mail["to"] == "ana@example.org"
    assert mail["subject"] == "Welcome, Ana"


def test_ses_refusal_is_reported_with_the_ses_code(runtime: Runtime) -> None:
    event = load("direct_send-email.json")
    event["params"]["Destination"] = ["blocked@example.org"]
    reply = runtime.handle(event, CONTEXT)
    assert reply["ok"] is False
    assert reply["error"]["code"] == "FailedOperation.EmailAddrInBlacklist"
    assert reply["error"]["ses_request_id"]
    assert reply["error"]["outcome"] == "final"


def test_ambiguous_failure_says_outcome_unknown(runtime: Runtime, emulator: EmulatorServer) -> None:
    emulator.inject_fault("SendEmail", "drop_after")
    reply = runtime.handle(load("direct_send-email.json"), CONTEXT)
    assert reply["ok"] is False
    assert reply["error"]["outcome"] == "outcome_unknown"
    assert len(emulator.outbox()) == 1


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ({"action": "Delete", "params": {}}, "action"),
        ({"action": "SendEmail", "params": {}, "extra": 1}, "extra"),
        ({"action": "SendEmail", "params": []}, ""),
        ({"action": "SendEmail", "params": "not json"}, ""),
    ],
)
def test_bad_direct_events_get_a_field_error_and_send_nothing(
    runtime: Runtime, emulator: EmulatorServer, event: dict[str, Any], field: str
) -> None:
    reply = runtime.handle(event, CONTEXT)
    assert reply["ok"] is False
    assert reply["error"]["code"] == "validation_error"
    assert reply["error"]["errors"]
    if field:
        assert field in {e["field"] for e in reply["error"]["errors"]}
    assert emulator.call_counts().get("SendEmail", 0) == 0


@pytest.mark.parametrize("event", [None, [], "x", 3, {"foo": "bar"}, {"Type": "Unknown"}])
def test_unknown_event_shapes_get_a_clear_error(runtime: Runtime, event: Any) -> None:
    reply = runtime.handle(event, CONTEXT)
    assert reply["ok"] is False
    assert reply["error"]["code"] == "unsupported_event"
    assert "function URL" in reply["error"]["message"]


def test_without_credentials_the_error_says_what_to_configure() -> None:
    runtime = Runtime(build_services(Settings(), clock=ManualClock()))
    reply = runtime.handle(load("direct_send-email.json"), CONTEXT)
    assert reply["error"]["code"] == "ses_not_configured"
    assert "TENCENTCLOUD_SECRETID" in reply["error"]["message"]


def test_bad_environment_is_reported_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SESRELAY_API_KEY_SHA256", "secret-in-clear")
    reply = Runtime().handle(load("direct_send-email.json"), CONTEXT)
    assert reply["error"]["code"] == "configuration_error"
    assert "secret-in-clear" not in json.dumps(reply)
