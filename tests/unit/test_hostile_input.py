"""No input makes the function answer 500: JSON nested past any real payload, numbers of more
digits than Python converts, and the like, sent to every route and event kind that reads JSON,
are refused with the 4xx problem (or failure summary) that names them, and nothing is sent."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest

from sesrelay.adapters.state_memory import MemoryStateStore
from sesrelay.clock import Deadline, ManualClock
from sesrelay.jsontext import MAX_DEPTH, nests_deeper, parse
from sesrelay.runtime import Runtime
from sesrelay.settings import Settings
from sesrelay.wiring import build_services

API_KEY = "sr_test_hostile"
TOKEN = "t" * 32
GITHUB_SECRET = "hostile-github-secret"
DEEP_ARRAY = "[" * 100_000 + "]" * 100_000
DEEP_OBJECT = '{"a":' * 100_000 + "1" + "}" * 100_000
JUST_TOO_DEEP = '{"a":' * MAX_DEPTH + "[1]" + "}" * MAX_DEPTH
HUGE_NUMBER = '{"Subject": ' + "9" * 5000 + "}"
BODIES = {
    "deep array": DEEP_ARRAY,
    "deep object": DEEP_OBJECT,
    "just too deep": JUST_TOO_DEEP,
    "huge number": HUGE_NUMBER,
}
CONTEXT = {"request_id": "hostile", "time_limit_in_ms": 3000}


class FakeSes:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def call(self, action: str, params: dict[str, Any], deadline: Deadline) -> dict[str, Any]:
        self.calls.append(action)
        return {"RequestId": "req-1", "MessageId": "msg-1", "TaskId": 1}


@pytest.fixture
def ses() -> FakeSes:
    return FakeSes()


@pytest.fixture
def runtime(ses: FakeSes) -> Runtime:
    clock = ManualClock()
    environ = {"SESRELAY_SES_EVENTS_TOKEN": TOKEN, "GITHUB_WEBHOOK_SECRET": GITHUB_SECRET}
    settings = Settings(
        environ=environ, api_key_sha256=[hashlib.sha256(API_KEY.encode()).hexdigest()]
    )
    return Runtime(build_services(settings, clock=clock, ses=ses, state=MemoryStateStore(clock)))


def http(path: str, body: str, **headers: str) -> dict[str, Any]:
    base = {"authorization": f"Bearer {API_KEY}", "content-type": "application/json"}
    return {
        "httpMethod": "POST",
        "path": path,
        "headers": {**base, **headers},
        "queryString": {},
        "body": body,
    }


def github(body: str) -> dict[str, Any]:
    digest = hmac.new(GITHUB_SECRET.encode(), body.encode(), hashlib.sha256).hexdigest()
    return http(
        "/v1/webhooks/github-releases",
        body,
        **{
            "x-hub-signature-256": f"sha256={digest}",
            "x-github-event": "release",
            "x-github-delivery": hashlib.sha256(body.encode()).hexdigest()[:36],
        },
    )


@pytest.mark.parametrize("body", BODIES.values(), ids=BODIES.keys())
@pytest.mark.parametrize(
    "path",
    ["/v1/emails", "/v1/batch-tasks", "/v1/campaigns", f"/v1/ses-events/{TOKEN}"],
)
def test_a_json_body_past_the_limits_is_400_malformed_request(
    runtime: Runtime, ses: FakeSes, path: str, body: str
) -> None:
    reply = runtime.handle(http(path, body, **{"idempotency-key": "k-1"}), CONTEXT)
    problem = json.loads(reply["body"])
    assert (reply["statusCode"], problem["code"]) == (400, "malformed_request")
    assert "deeper than 64 levels" in problem["detail"] or "4300 digits" in problem["detail"]
    assert ses.calls == []


@pytest.mark.parametrize("body", BODIES.values(), ids=BODIES.keys())
def test_a_signed_webhook_delivery_past_the_limits_is_answered_not_crashed(
    runtime: Runtime, ses: FakeSes, body: str
) -> None:
    # The mapping sees such a body as text, which matches no release: acknowledged, not sent.
    reply = runtime.handle(github(body), CONTEXT)
    assert reply["statusCode"] < 500
    assert ses.calls == []


@pytest.mark.parametrize("name", ["limit", "offset"])
def test_a_query_integer_of_thousands_of_digits_is_422_naming_it(
    runtime: Runtime, name: str
) -> None:
    event = http("/v1/batch-tasks", "")
    event.update(httpMethod="GET", queryString={name: "9" * 5000})
    reply = runtime.handle(event, CONTEXT)
    problem = json.loads(reply["body"])
    assert reply["statusCode"] == 422
    assert problem["errors"] == [{"field": name, "message": "must have at most 20 digits"}]


def test_a_timer_message_nested_past_the_limit_is_a_malformed_summary(
    runtime: Runtime, ses: FakeSes
) -> None:
    message = '{"job":' * 500 + "1" + "}" * 500  # under SCF's 4 KB, far past any job
    tick = {"Type": "Timer", "TriggerName": "t", "Time": "2026-01-05T01:00:00Z"}
    reply = runtime.handle({**tick, "Message": message}, CONTEXT)
    assert reply["ok"] is False
    assert reply["error"]["code"] == "malformed_request"
    assert "Message nests" in reply["error"]["message"]
    assert ses.calls == []


def test_template_data_nested_past_pythons_parser_is_a_field_error(
    runtime: Runtime, ses: FakeSes
) -> None:
    params = {
        "FromEmailAddress": "noreply@example.com",
        "Destination": ["ana@example.org"],
        "Subject": "Hi",
        "Template": {"TemplateID": 1, "TemplateData": "[" * 100_000 + "]" * 100_000},
    }
    reply = runtime.handle({"action": "SendEmail", "params": params}, CONTEXT)
    assert reply["ok"] is False
    assert [e["field"] for e in reply["error"]["errors"]] == ["Template.TemplateData"]
    assert ses.calls == []


def test_the_reader_accepts_what_real_payloads_nest_and_counts_depth_exactly() -> None:
    at_limit = '{"a":' * (MAX_DEPTH - 1) + "[1]" + "}" * (MAX_DEPTH - 1)
    assert not nests_deeper(parse(at_limit), MAX_DEPTH)
    assert nests_deeper(json.loads(JUST_TOO_DEEP), MAX_DEPTH)
    assert parse('{"n": 123456789012345678901234567890}') == {"n": 123456789012345678901234567890}


# -- found by review: lone surrogates, signs, long names ----------------------------------------

LONE_SURROGATE_BODY = '{"FromEmailAddress": "a\\ud800@example.com", "Subject": "x"}'


@pytest.mark.parametrize("path", ["/v1/emails", "/v1/batch-tasks", "/v1/campaigns"])
def test_a_lone_surrogate_anywhere_in_a_keyed_body_is_400_not_500(
    runtime: Runtime, ses: FakeSes, path: str
) -> None:
    reply = runtime.handle(http(path, LONE_SURROGATE_BODY, **{"idempotency-key": "k-2"}), CONTEXT)
    problem = json.loads(reply["body"])
    assert (reply["statusCode"], problem["code"]) == (400, "malformed_request")
    assert "lone surrogate" in problem["detail"]
    assert ses.calls == []


@pytest.mark.parametrize("value", ["--5", "-", "+5", "5-"])
def test_a_query_integer_with_a_stray_sign_is_422(runtime: Runtime, value: str) -> None:
    event = http("/v1/batch-tasks", "")
    event.update(httpMethod="GET", queryString={"limit": value})
    reply = runtime.handle(event, CONTEXT)
    assert reply["statusCode"] == 422
    assert json.loads(reply["body"])["errors"] == [
        {"field": "limit", "message": "must be an integer"}
    ]


def test_a_timer_event_with_an_absurd_trigger_name_is_a_malformed_summary(
    runtime: Runtime, ses: FakeSes
) -> None:
    message = json.dumps({"action": "SendEmail", "params": {}})
    tick = {"Type": "Timer", "TriggerName": "t" * 5000, "Time": "2026-01-05T01:00:00Z"}
    reply = runtime.handle({**tick, "Message": message}, CONTEXT)
    assert reply["ok"] is False
    assert reply["error"]["code"] != "internal_error"
    assert ses.calls == []
