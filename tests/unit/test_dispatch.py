"""Event shape -> handling, on fakes: which trigger each shape is, the clear error an unknown
shape gets, and the one log line an invocation writes (with its send's fields)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sesrelay import logs
from sesrelay.adapters.state_memory import MemoryStateStore
from sesrelay.clock import Deadline, ManualClock
from sesrelay.dispatch import dispatch, event_kind, request_id_of
from sesrelay.settings import Settings
from sesrelay.wiring import Services, build_services

CONTEXT = {"request_id": "scf-unit-1", "time_limit_in_ms": 3000}
SEND = {
    "FromEmailAddress": "noreply@example.com",
    "Destination": ["ana@example.org"],
    "Subject": "Welcome",
    "Template": {"TemplateID": 100001, "TemplateData": {"name": "Ana"}},
}


class FakeSes:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def call(self, action: str, params: dict[str, Any], deadline: Deadline) -> dict[str, Any]:
        self.calls.append(action)
        return {"RequestId": "req-1", "MessageId": "msg-1"}


@pytest.fixture
def ses() -> FakeSes:
    return FakeSes()


@pytest.fixture
def services(ses: FakeSes) -> Services:
    clock = ManualClock()
    return build_services(Settings(environ={}), clock=clock, ses=ses, state=MemoryStateStore(clock))


def log_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    out = capsys.readouterr().out
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


@pytest.mark.parametrize(
    ("event", "kind"),
    [
        ({"httpMethod": "POST", "path": "/v1/emails"}, "http"),
        ({"httpMethod": "POST", "requestContext": {}, "path": "/v1/emails"}, "apigw"),
        ({"requestContext": {"requestId": "x"}}, "apigw"),
        ({"Type": "Timer", "TriggerName": "t", "Time": "2026-01-05T01:00:00Z"}, "timer"),
        ({"Type": "timer", "TriggerName": "t", "Time": "2026-01-05T01:00:00Z"}, "timer"),
        ({"action": "SendEmail", "params": {}}, "direct"),
        ({"action": "SendEmail"}, "unknown"),
        ({"Type": "Cron"}, "unknown"),
        ({}, "unknown"),
        ([], "unknown"),
        (None, "unknown"),
        ("text", "unknown"),
    ],
)
def test_event_kind_of_each_shape(event: object, kind: str) -> None:
    assert event_kind(event) == kind


def test_the_request_id_comes_from_the_context_only_when_it_has_one() -> None:
    assert request_id_of({"request_id": "abc"}) == "abc"
    assert request_id_of({"request_id": ""}) is None
    assert request_id_of({}) is None
    assert request_id_of(None) is None


@pytest.mark.parametrize("event", [{"Records": [{}]}, [], None, {"action": "SendEmail"}])
def test_an_unknown_shape_gets_an_error_naming_the_accepted_shapes_and_one_log_line(
    event: object, services: Services, ses: FakeSes, capsys: pytest.CaptureFixture[str]
) -> None:
    logs.configure()
    capsys.readouterr()
    reply = dispatch(event, CONTEXT, services)
    assert reply["ok"] is False
    assert reply["error"]["code"] == "unsupported_event"
    for shape in ("function URL", "API Gateway", "Timer", "action"):
        assert shape in reply["error"]["message"]
    assert ses.calls == []
    [line] = log_lines(capsys)
    assert (line["request_id"], line["trigger"]) == ("scf-unit-1", "unknown")
    assert line["status"] == "unsupported_event"
    assert line["latency_ms"] >= 0


def test_a_direct_send_logs_its_send_fields_on_the_invocation_line(
    services: Services, ses: FakeSes, capsys: pytest.CaptureFixture[str]
) -> None:
    logs.configure()
    capsys.readouterr()
    reply = dispatch({"action": "SendEmail", "params": SEND}, CONTEXT, services)
    assert reply == {"ok": True, "result": {"RequestId": "req-1", "MessageId": "msg-1"}}
    assert ses.calls == ["SendEmail"]
    [line] = log_lines(capsys)
    assert line["trigger"] == "direct"
    assert line["status"] == "ok"
    assert line["entry"] == "direct"
    assert line["action"] == "SendEmail"
    assert line["from"] == "n***@example.com"
    assert line["ses_request_id"] == "req-1"
    assert line["outcome"] == "sent"
    assert "noreply@example.com" not in json.dumps(line)


def test_a_refused_direct_send_logs_the_code_as_its_status(
    services: Services, ses: FakeSes, capsys: pytest.CaptureFixture[str]
) -> None:
    logs.configure()
    capsys.readouterr()
    reply = dispatch({"action": "SendEmail", "params": {**SEND, "Subject": ""}}, CONTEXT, services)
    assert reply["error"]["code"] == "validation_error"
    assert ses.calls == []
    [line] = log_lines(capsys)
    assert (line["status"], line["outcome"], line["code"]) == (
        "validation_error",
        "refused",
        "validation_error",
    )


def test_a_lone_surrogate_in_logged_text_does_not_lose_the_log_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    logs.configure()
    logs.invocation(request_id="r-1", trigger="http", detail="bad \ud800 text")
    [line] = log_lines(capsys)
    assert line["detail"] == "bad ? text"
