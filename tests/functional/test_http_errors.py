"""Every error class of the table of docs/http-api.md, through `Runtime.handle` (and
`main_handler` for the environment), in both event shapes: its status, its `code`, a
problem+json body without a traceback, and nothing sent."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from typing import Any

import pytest

import handler
from sesrelay.adapters.state_memory import MemoryStateStore
from sesrelay.clock import Clock, Deadline, SystemClock
from sesrelay.emulator import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, EmulatorServer
from sesrelay.errors import RetryLater
from sesrelay.http.problems import CODES
from sesrelay.runtime import Runtime
from sesrelay.state import StateRecord

MakeRuntime = Callable[..., Runtime]
MakeEvent = Callable[..., dict[str, Any]]
MakeContext = Callable[..., dict[str, Any]]
ProblemOf = Callable[[dict[str, Any], int, str], dict[str, Any]]
Check = Callable[[], None]

SOURCES = ["http", "apigw"]
SEND_ROUTES = ["post-emails", "post-batch-tasks"]
AUTH_ROUTES = ["post-emails", "post-batch-tasks", "get-batch-tasks", "get-email-status"]
RID = "req-error-0001"
SIX_MB = 6 * 1024 * 1024


@pytest.fixture(params=SOURCES)
def source(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


def call(runtime: Runtime, event: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    reply: dict[str, Any] = runtime.handle(event, context)
    return reply


def body_of(event: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(event["body"])
    return data


def fields_of(problem_body: dict[str, Any]) -> list[str]:
    return [error["field"] for error in problem_body["errors"]]


def reply_text(problem_body: dict[str, Any]) -> str:
    return json.dumps(problem_body)


# -- 400 malformed_request ---------------------------------------------------------------------


@pytest.mark.parametrize("route", SEND_ROUTES)
@pytest.mark.parametrize("text", ["{not json", "{'a': 1}", "FromEmailAddress=x&Subject=y", ""])
def test_body_that_is_not_json_is_400(
    source: str,
    route: str,
    text: str,
    make_runtime: MakeRuntime,
    event: MakeEvent,
    scf_context: MakeContext,
    problem: ProblemOf,
    nothing_sent: Check,
) -> None:
    reply = call(make_runtime(), event(f"{source}_{route}", body=text), scf_context(RID))
    body = problem(reply, 400, "malformed_request")
    assert body["request_id"] == RID
    assert "errors" not in body
    nothing_sent()


def test_body_that_is_not_utf8_is_400(
    source: str,
    make_runtime: MakeRuntime,
    event: MakeEvent,
    scf_context: MakeContext,
    problem: ProblemOf,
    nothing_sent: Check,
) -> None:
    raw = b'{"FromEmailAddress": "noreply@example.com", "Subject": "caf\xe9 \xff\xfe"}'
    reply = call(make_runtime(), event(f"{source}_post-emails", raw_body=raw), scf_context(RID))
    body = problem(reply, 400, "malformed_request")
    assert "UTF-8" in body["detail"]
    nothing_sent()


@pytest.mark.parametrize("garbage", ["%%% not base64 %%%", "eyJhIjo", "e30=}{"])
def test_base64_garbage_is_400(
    source: str,
    garbage: str,
    make_runtime: MakeRuntime,
    event: MakeEvent,
    scf_context: MakeContext,
    problem: ProblemOf,
    nothing_sent: Check,
) -> None:
    reply = call(
        make_runtime(), event(f"{source}_post-emails", base64_body=garbage), scf_context(RID)
    )
    body = problem(reply, 400, "malformed_request")
    assert "base64" in body["detail"]
    assert body["request_id"] == RID
    if source == "apigw":
        assert reply["isBase64Encoded"] is False
    nothing_sent()


# -- 422 validation_error ---------------------------------------------------------------------


@pytest.mark.parametrize("route", SEND_ROUTES)
@pytest.mark.parametrize("text", ["[]", '[{"Subject": "x"}]', '"text"', "42", "null", "true"])
def test_json_that_is_not_an_object_is_422(
    source: str,
    route: str,
    text: str,
    make_runtime: MakeRuntime,
    event: MakeEvent,
    scf_context: MakeContext,
    problem: ProblemOf,
    nothing_sent: Check,
) -> None:
    reply = call(make_runtime(), event(f"{source}_{route}", body=text), scf_context(RID))
    body = problem(reply, 422, "validation_error")
    assert "object" in body["errors"][0]["message"]
    nothing_sent()


@pytest.mark.parametrize(
    ("route", "change", "field"),
    [
        ("post-emails", {"Destination": "ana@example.org"}, "Destination"),
        ("post-emails", {"Subject": 42}, "Subject"),
        ("post-emails", {"Template": {"TemplateID": "abc", "TemplateData": "{}"}}, "Template"),
        ("post-emails", {"Template": "100001"}, "Template"),
        ("post-emails", {"TriggerType": "1"}, "TriggerType"),
        ("post-batch-tasks", {"ReceiverId": "200001x"}, "ReceiverId"),
        ("post-batch-tasks", {"TaskType": "now"}, "TaskType"),
        ("post-batch-tasks", {"ADLocation": [0]}, "ADLocation"),
    ],
)
def test_wrong_types_are_422_naming_the_field(
    source: str,
    route: str,
    change: dict[str, Any],
    field: str,
    make_runtime: MakeRuntime,
    event: MakeEvent,
    scf_context: MakeContext,
    problem: ProblemOf,
    nothing_sent: Check,
) -> None:
    params = {**body_of(event(f"{source}_{route}")), **change}
    reply = call(make_runtime(), event(f"{source}_{route}", body=params), scf_context(RID))
    body = problem(reply, 422, "validation_error")
    assert any(f == field or f.startswith(field + ".") for f in fields_of(body)), body
    nothing_sent()


@pytest.mark.parametrize("route", SEND_ROUTES)
def test_unknown_fields_are_422_naming_each_one(
    source: str,
    route: str,
    make_runtime: MakeRuntime,
    event: MakeEvent,
    scf_context: MakeContext,
    problem: ProblemOf,
    nothing_sent: Check,
) -> None:
    params = body_of(event(f"{source}_{route}"))
    params["subject"] = params.pop("Subject")
    params["Priority"] = "high"
    params["Subjet"] = "typo"
    reply = call(make_runtime(), event(f"{source}_{route}", body=params), scf_context(RID))
    body = problem(reply, 422, "validation_error")
    errors = {e["field"]: e["message"] for e in body["errors"]}
    assert {"subject", "Priority", "Subjet"} <= set(errors)
    assert "did you mean 'Subject'" in errors["subject"]  # names are case-sensitive
    assert "unknown field" in errors["Priority"]
    nothing_sent()


def test_validation_errors_never_echo_the_input_or_the_recipients(
    source: str,
    make_runtime: MakeRuntime,
    event: MakeEvent,
    scf_context: MakeContext,
    problem: ProblemOf,
    nothing_sent: Check,
) -> None:
    params = body_of(event(f"{source}_post-emails"))
    params["Destination"] = ["ana@example.org", "ben@example.org", "not-an-address-QX7"]
    params["Bcc"] = ["ana@example.org"]
    params["Subject"] = "line one\nline two SECRET-SUBJECT"
    reply = call(make_runtime(), event(f"{source}_post-emails", body=params), scf_context(RID))
    body = problem(reply, 422, "validation_error")
    assert {"Destination.2", "Bcc.0", "Subject"} <= set(fields_of(body))
    for echoed in ("ana@example.org", "ben@example.org", "not-an-address-QX7", "SECRET-SUBJECT"):
        assert echoed not in reply["body"]
    nothing_sent()


# -- 413, 415 ---------------------------------------------------------------------------------


@pytest.mark.parametrize("route", SEND_ROUTES)
def test_body_over_6_mb_is_413(
    source: str,
    route: str,
    make_runtime: MakeRuntime,
    event: MakeEvent,
    scf_context: MakeContext,
    problem: ProblemOf,
    nothing_sent: Check,
) -> None:
    params = body_of(event(f"{source}_{route}"))
    params["Subject"] = "x" * SIX_MB
    reply = call(make_runtime(), event(f"{source}_{route}", body=params), scf_context(RID))
    body = problem(reply, 413, "payload_too_large")
    assert len(reply["body"]) < 2000  # the body is not echoed
    assert body["request_id"] == RID
    nothing_sent()


def test_base64_body_over_6_mb_decoded_is_413(
    source: str,
    make_runtime: MakeRuntime,
    event: MakeEvent,
    scf_context: MakeContext,
    problem: ProblemOf,
    nothing_sent: Check,
) -> None:
    raw = b'{"Subject": "' + b"y" * SIX_MB + b'"}'
    reply = call(make_runtime(), event(f"{source}_post-emails", raw_body=raw), scf_context(RID))
    problem(reply, 413, "payload_too_large")
    nothing_sent()


@pytest.mark.parametrize("route", SEND_ROUTES)
@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
def test_content_type_that_is_not_json_is_415(
    source: str,
    route: str,
    content_type: str,
    make_runtime: MakeRuntime,
    event: MakeEvent,
    scf_context: MakeContext,
    problem: ProblemOf,
    nothing_sent: Check,
) -> None:
    sample = event(f"{source}_{route}", headers={"content-type": content_type})
    reply = call(make_runtime(), sample, scf_context(RID))
    body = problem(reply, 415, "unsupported_media_type")
    assert "application/json" in body["detail"]
    nothing_sent()


@pytest.mark.parametrize("route", SEND_ROUTES)
def test_a_body_without_content_type_is_415_naming_the_type_to_send(
    source: str,
    route: str,
    make_runtime: MakeRuntime,
    event: MakeEvent,
    scf_context: MakeContext,
    problem: ProblemOf,
    nothing_sent: Check,
) -> None:
    """One rule for every route: the Content-Type says how the body is read; none is refused."""
    sample = event(f"{source}_{route}", headers={"content-type": None})
    assert "content-type" not in {name.lower() for name in sample["headers"]}
    reply = call(make_runtime(), sample, scf_context(RID))
    body = problem(reply, 415, "unsupported_media_type")
    assert "no Content-Type" in body["detail"]
    assert "application/json" in body["detail"]
    nothing_sent()


@pytest.mark.parametrize(
    "content_type", ["application/json; charset=utf-8", "application/vnd.x+json"]
)
def test_json_media_types_with_parameters_or_a_json_suffix_are_read(
    source: str,
    content_type: str,
    make_runtime: MakeRuntime,
    event: MakeEvent,
    scf_context: MakeContext,
) -> None:
    sample = event(f"{source}_post-emails", headers={"content-type": content_type})
    reply = call(make_runtime(), sample, scf_context(RID))
    assert reply["statusCode"] == 202, reply


# -- 401, 503 auth_not_configured ---------------------------------------------------------------


@pytest.mark.parametrize("route", AUTH_ROUTES)
@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer ", "Basic c3JfdGVzdF9rZXk6", "sr_test_key", "Bearer wrong_key"],
)
def test_missing_or_wrong_key_is_401(
    source: str,
    route: str,
    authorization: str | None,
    make_runtime: MakeRuntime,
    event: MakeEvent,
    scf_context: MakeContext,
    problem: ProblemOf,
    nothing_sent: Check,
    emulator: EmulatorServer,
) -> None:
    sample = event(f"{source}_{route}", headers={"authorization": authorization})
    reply = call(make_runtime(), sample, scf_context(RID))
    body = problem(reply, 401, "unauthorized")
    assert body["request_id"] == RID
    assert "sr_test_key" not in reply["body"]
    assert "wrong_key" not in reply["body"]
    nothing_sent()
    assert emulator.call_counts() == {}  # not even the read-only routes reached SES


@pytest.mark.parametrize("route", AUTH_ROUTES)
def test_no_keys_configured_is_503_auth_not_configured(
    source: str,
    route: str,
    make_runtime: MakeRuntime,
    event: MakeEvent,
    scf_context: MakeContext,
    problem: ProblemOf,
    nothing_sent: Check,
    emulator: EmulatorServer,
) -> None:
    reply = call(make_runtime(api_key_sha256=[]), event(f"{source}_{route}"), scf_context(RID))
    body = problem(reply, 503, "auth_not_configured")
    assert "SESRELAY_API_KEY_SHA256" in body["detail"]
    nothing_sent()
    assert emulator.call_counts() == {}


# -- 404, 405 ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("route", "method", "allow"),
    [
        ("post-emails", "GET", "POST"),
        ("post-emails", "DELETE", "POST"),
        ("post-batch-tasks", "PUT", "GET, POST"),
        ("get-batch-tasks", "PATCH", "GET, POST"),
        ("get-email-status", "POST", "GET"),
        ("get-health", "POST", "GET"),
        ("get-openapi", "DELETE", "GET"),
    ],
)
def test_wrong_method_is_405_with_allow(
    source: str,
    route: str,
    method: str,
    allow: str,
    make_runtime: MakeRuntime,
    event: MakeEvent,
    scf_context: MakeContext,
    problem: ProblemOf,
    nothing_sent: Check,
) -> None:
    reply = call(make_runtime(), event(f"{source}_{route}", method=method), scf_context(RID))
    problem(reply, 405, "method_not_allowed")
    assert reply["headers"]["allow"] == allow
    nothing_sent()


@pytest.mark.parametrize(
    "path", ["/", "/v1", "/v1/nope", "/v1/emails/123/events", "/v2/emails", "/v1/Emails"]
)
def test_unknown_path_is_404(
    source: str,
    path: str,
    make_runtime: MakeRuntime,
    event: MakeEvent,
    scf_context: MakeContext,
    problem: ProblemOf,
    nothing_sent: Check,
) -> None:
    reply = call(make_runtime(), event(f"{source}_post-emails", path=path), scf_context(RID))
    body = problem(reply, 404, "not_found")
    assert body["request_id"] == RID
    nothing_sent()


# -- 400 invalid_idempotency_key ----------------------------------------------------------------


@pytest.mark.parametrize("route", SEND_ROUTES)
@pytest.mark.parametrize(
    "key", ["", "k" * 257, "abc\x01def", "line\nbreak", "tab\tkey", "del\x7f", "clé-ünïcode"]
)
def test_bad_idempotency_key_is_400(
    source: str,
    route: str,
    key: str,
    make_runtime: MakeRuntime,
    event: MakeEvent,
    scf_context: MakeContext,
    problem: ProblemOf,
    nothing_sent: Check,
) -> None:
    sample = event(f"{source}_{route}", headers={"idempotency-key": key})
    reply = call(make_runtime(), sample, scf_context(RID))
    body = problem(reply, 400, "invalid_idempotency_key")
    assert "Idempotency-Key" in body["detail"]
    if key:
        assert key not in reply["body"]
    nothing_sent()


# -- 422 on query strings -------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        {"date": "2026-02-30"},
        {"date": "yesterday"},
        {"date": "2026/03/01"},
        {"date": "2026-3-1"},
        {"date": ""},
        {"message_id": "qcloudses-30-x"},
    ],
)
def test_date_that_is_not_a_date_is_422_naming_date(
    source: str,
    query: dict[str, str],
    make_runtime: MakeRuntime,
    event: MakeEvent,
    scf_context: MakeContext,
    problem: ProblemOf,
    emulator: EmulatorServer,
) -> None:
    sample = event(f"{source}_get-email-status", query=query)
    body = problem(call(make_runtime(), sample, scf_context(RID)), 422, "validation_error")
    assert fields_of(body) == ["date"]
    assert emulator.call_counts() == {}


@pytest.mark.parametrize("to", ["not-an-address", "ana@", "a b@example.org"])
def test_bad_recipient_filter_is_422_naming_to(
    source: str,
    to: str,
    make_runtime: MakeRuntime,
    event: MakeEvent,
    scf_context: MakeContext,
    problem: ProblemOf,
    emulator: EmulatorServer,
) -> None:
    sample = event(f"{source}_get-email-status", query={"date": "2026-03-02", "to": to})
    body = problem(call(make_runtime(), sample, scf_context(RID)), 422, "validation_error")
    assert fields_of(body) == ["to"]
    assert to not in reply_text(body)
    assert emulator.call_counts() == {}


@pytest.mark.parametrize("route", ["get-batch-tasks", "get-email-status"])
@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("limit", "ten"),
        ("limit", "1.5"),
        ("limit", ""),
        ("limit", "0"),
        ("limit", "101"),
        ("offset", "-1"),
        ("offset", "0x10"),
    ],
)
def test_bad_paging_is_422_naming_the_parameter(
    source: str,
    route: str,
    name: str,
    value: str,
    make_runtime: MakeRuntime,
    event: MakeEvent,
    scf_context: MakeContext,
    problem: ProblemOf,
    emulator: EmulatorServer,
) -> None:
    query = {**event(f"{source}_{route}")["queryString"], name: value}
    sample = event(f"{source}_{route}", query=query)
    body = problem(call(make_runtime(), sample, scf_context(RID)), 422, "validation_error")
    assert fields_of(body) == [name]
    assert emulator.call_counts() == {}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"status": "3"}, "status"),
        ({"task_type": "4"}, "task_type"),
        ({"receiver_id": "abc"}, "receiver_id"),
        ({"receiver_id": "0"}, "receiver_id"),
        ({"page": "2"}, "page"),
    ],
)
def test_bad_batch_task_filters_are_422_naming_the_parameter(
    source: str,
    query: dict[str, str],
    field: str,
    make_runtime: MakeRuntime,
    event: MakeEvent,
    scf_context: MakeContext,
    problem: ProblemOf,
    emulator: EmulatorServer,
) -> None:
    sample = event(f"{source}_get-batch-tasks", query=query)
    body = problem(call(make_runtime(), sample, scf_context(RID)), 422, "validation_error")
    assert fields_of(body) == [field]
    assert emulator.call_counts() == {}


# -- 403 sender_not_allowed ---------------------------------------------------------------------


@pytest.mark.parametrize("route", SEND_ROUTES)
@pytest.mark.parametrize(
    "allowed", [["@example.net"], ["news@example.com"], ["noreply@example.com.evil.org"]]
)
def test_sender_outside_allowed_senders_is_403(
    source: str,
    route: str,
    allowed: list[str],
    make_runtime: MakeRuntime,
    event: MakeEvent,
    scf_context: MakeContext,
    problem: ProblemOf,
    nothing_sent: Check,
) -> None:
    runtime = make_runtime(allowed_senders=allowed)
    body = problem(
        call(runtime, event(f"{source}_{route}"), scf_context(RID)), 403, "sender_not_allowed"
    )
    assert "FromEmailAddress" in body["detail"]
    assert "noreply@example.com" not in body["detail"]
    nothing_sent()


def test_header_from_outside_allowed_senders_is_403(
    source: str,
    make_runtime: MakeRuntime,
    event: MakeEvent,
    scf_context: MakeContext,
    problem: ProblemOf,
    nothing_sent: Check,
    emulator: EmulatorServer,
) -> None:
    runtime = make_runtime(allowed_senders=["noreply@example.com"])
    params = {**body_of(event(f"{source}_post-emails")), "HeaderFrom": "news@example.com"}
    reply = call(runtime, event(f"{source}_post-emails", body=params), scf_context(RID))
    body = problem(reply, 403, "sender_not_allowed")
    assert "HeaderFrom" in body["detail"]
    nothing_sent()

    # The same request with an allowed HeaderFrom goes through (the alias form included).
    params["HeaderFrom"] = "Example Team <noreply@example.com>"
    reply = call(runtime, event(f"{source}_post-emails", body=params), scf_context(RID))
    assert reply["statusCode"] == 202, reply
    assert len(emulator.outbox()) == 1


# -- SES refusals: the code verbatim ------------------------------------------------------------


def test_unknown_receiver_is_409_with_the_ses_code(
    source: str,
    make_runtime: MakeRuntime,
    event: MakeEvent,
    scf_context: MakeContext,
    problem: ProblemOf,
    emulator: EmulatorServer,
) -> None:
    params = {**body_of(event(f"{source}_post-batch-tasks")), "ReceiverId": 999999}
    reply = call(make_runtime(), event(f"{source}_post-batch-tasks", body=params), scf_context(RID))
    body = problem(reply, 409, "OperationDenied.ReceiverNotExist")
    assert body["request_id"] == RID
    assert emulator.outbox() == []


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (
            {"Template": {"TemplateID": 100001, "TemplateData": {"nom": "Ana"}}},
            "InvalidParameterValue",
        ),
        ({"Destination": ["blocked@example.org"]}, "FailedOperation.EmailAddrInBlacklist"),
        ({"FromEmailAddress": "team@unverified.example"}, "FailedOperation.NotAuthenticatedSender"),
        (
            {"Template": {"TemplateID": 100003, "TemplateData": {"name": "Ana"}}},
            "FailedOperation.InvalidTemplateID",
        ),
    ],
)
def test_content_refused_by_ses_is_422_with_the_ses_code(
    source: str,
    change: dict[str, Any],
    code: str,
    make_runtime: MakeRuntime,
    event: MakeEvent,
    scf_context: MakeContext,
    problem: ProblemOf,
    emulator: EmulatorServer,
) -> None:
    params = {**body_of(event(f"{source}_post-emails")), **change}
    reply = call(make_runtime(), event(f"{source}_post-emails", body=params), scf_context(RID))
    problem(reply, 422, code)
    assert "blocked@example.org" not in reply["body"]
    assert emulator.outbox() == []
    assert emulator.call_counts()["SendEmail"] == 1  # a final refusal is not retried


@pytest.mark.parametrize("route", SEND_ROUTES)
def test_persistent_throttling_is_429_with_retry_after(
    source: str,
    route: str,
    make_runtime: MakeRuntime,
    event: MakeEvent,
    scf_context: MakeContext,
    problem: ProblemOf,
    emulator: EmulatorServer,
) -> None:
    action = "SendEmail" if route == "post-emails" else "BatchSendEmail"
    emulator.inject_fault(action, "error", count=50, code="RequestLimitExceeded")
    reply = call(make_runtime(), event(f"{source}_{route}"), scf_context(RID))
    problem(reply, 429, "RequestLimitExceeded")
    assert int(reply["headers"]["retry-after"]) >= 1
    assert emulator.outbox() == []
    assert emulator.call_counts()[action] == 3  # SESRELAY_SES_MAX_ATTEMPTS, then give up


def test_throttling_that_clears_within_the_retries_succeeds(
    source: str, make_runtime: MakeRuntime, event: MakeEvent, emulator: EmulatorServer
) -> None:
    emulator.inject_fault("SendEmail", "error", count=1, code="RequestLimitExceeded")
    reply = call(make_runtime(), event(f"{source}_post-emails"), {})
    assert reply["statusCode"] == 202, reply
    assert len(emulator.outbox()) == 1


def test_ses_service_not_available_is_503_with_retry_after(
    source: str,
    make_runtime: MakeRuntime,
    event: MakeEvent,
    scf_context: MakeContext,
    problem: ProblemOf,
    emulator: EmulatorServer,
) -> None:
    emulator.inject_fault(
        "SendEmail", "error", count=50, code="FailedOperation.ServiceNotAvailable"
    )
    reply = call(make_runtime(), event(f"{source}_post-emails"), scf_context(RID))
    problem(reply, 503, "FailedOperation.ServiceNotAvailable")
    assert reply["headers"]["retry-after"]
    assert emulator.outbox() == []


def test_ses_temporary_block_is_429_with_a_ten_minute_retry_after(
    source: str,
    make_runtime: MakeRuntime,
    event: MakeEvent,
    scf_context: MakeContext,
    problem: ProblemOf,
    emulator: EmulatorServer,
) -> None:
    emulator.inject_fault("SendEmail", "error", count=50, code="FailedOperation.TemporaryBlocked")
    reply = call(make_runtime(), event(f"{source}_post-emails"), scf_context(RID))
    problem(reply, 429, "FailedOperation.TemporaryBlocked")
    assert reply["headers"]["retry-after"] == "600"  # SES lifts the block after ~10 minutes
    assert emulator.outbox() == []
    assert emulator.call_counts()["SendEmail"] == 1  # not retried within the invocation


def test_ses_temporary_block_makes_a_timer_tick_raise_for_scf_to_retry(
    make_runtime: MakeRuntime, event: MakeEvent, emulator: EmulatorServer
) -> None:
    tick = event("timer_inline-send-email")
    emulator.inject_fault("SendEmail", "error", count=1, code="FailedOperation.TemporaryBlocked")
    runtime = make_runtime()
    with pytest.raises(RetryLater):
        runtime.handle(tick, {"request_id": RID, "time_limit_in_ms": 10_000})
    assert emulator.call_counts()["SendEmail"] == 1
    assert runtime.handle(tick, {})["status"] == "sent"  # SCF's retry, once the block lifted
    assert len(emulator.outbox()) == 1


def test_ses_connection_refused_is_503_with_retry_after(
    source: str,
    make_runtime: MakeRuntime,
    event: MakeEvent,
    scf_context: MakeContext,
    nothing_sent: Check,
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    reply = call(
        make_runtime(ses_endpoint=closed), event(f"{source}_post-emails"), scf_context(RID)
    )
    assert reply["statusCode"] == 503
    assert reply["headers"]["content-type"] == "application/problem+json"
    assert reply["headers"]["retry-after"]
    assert "Traceback" not in reply["body"]
    nothing_sent()


@pytest.mark.parametrize("route", AUTH_ROUTES)
def test_wrong_secret_key_is_502_auth_failure(
    source: str,
    route: str,
    make_runtime: MakeRuntime,
    event: MakeEvent,
    scf_context: MakeContext,
    problem: ProblemOf,
    emulator: EmulatorServer,
) -> None:
    wrong = "not-the-emulator-secret-key-1234"
    sample = event(f"{source}_{route}")
    if route == "get-email-status":
        sample = event(f"{source}_{route}", query={"date": "2026-03-02"})
    reply = call(make_runtime(secret_key=wrong), sample, scf_context(RID))
    assert reply["statusCode"] == 502, reply
    body = json.loads(reply["body"])
    assert body["code"].startswith("AuthFailure"), body
    problem(reply, 502, body["code"])
    assert wrong not in reply["body"]
    assert DEFAULT_SECRET_ID not in reply["body"]
    assert emulator.outbox() == []


@pytest.mark.parametrize("route", SEND_ROUTES)
@pytest.mark.parametrize(
    ("kind", "options"),
    [
        ("error", {"code": "InternalError"}),
        ("error", {"code": "InternalError.UnknownError"}),
        ("http_status", {"status": 500}),
        ("http_status", {"status": 503}),
        ("drop_before", {}),
    ],
)
def test_ambiguous_ses_failure_is_502_upstream_outcome_unknown(
    source: str,
    route: str,
    kind: str,
    options: dict[str, Any],
    make_runtime: MakeRuntime,
    event: MakeEvent,
    scf_context: MakeContext,
    problem: ProblemOf,
    emulator: EmulatorServer,
) -> None:
    action = "SendEmail" if route == "post-emails" else "BatchSendEmail"
    emulator.inject_fault(action, kind, count=5, **options)
    reply = call(make_runtime(), event(f"{source}_{route}"), scf_context(RID))
    problem(reply, 502, "upstream_outcome_unknown")
    assert emulator.outbox() == []  # the faults fired before SES acted...
    assert emulator.call_counts()[action] == 1  # ...but a send is never retried blindly


def test_internal_error_on_a_read_is_retried_then_502(
    source: str,
    make_runtime: MakeRuntime,
    event: MakeEvent,
    scf_context: MakeContext,
    problem: ProblemOf,
    emulator: EmulatorServer,
) -> None:
    emulator.inject_fault("ListSendTasks", "error", count=50, code="InternalError")
    reply = call(make_runtime(), event(f"{source}_get-batch-tasks"), scf_context(RID))
    problem(reply, 502, "InternalError")
    assert emulator.call_counts()["ListSendTasks"] == 3


def test_unclassified_ses_error_is_502_upstream_error(
    source: str,
    make_runtime: MakeRuntime,
    event: MakeEvent,
    scf_context: MakeContext,
    problem: ProblemOf,
    emulator: EmulatorServer,
) -> None:
    """docs/http-api.md: `upstream_error` 502, "SES answered with an error sesrelay does not
    classify"."""
    emulator.inject_fault("SendEmail", "error", count=1, code="UnsupportedOperation.Weird")
    reply = call(make_runtime(), event(f"{source}_post-emails"), scf_context(RID))
    body = problem(reply, 502, "upstream_error")
    assert body.get("ses_code") == "UnsupportedOperation.Weird"
    assert emulator.outbox() == []


# -- 503: what the function itself lacks ----------------------------------------------------------


@pytest.mark.parametrize("route", AUTH_ROUTES)
def test_no_credentials_is_503_ses_not_configured(
    source: str,
    route: str,
    make_runtime: MakeRuntime,
    event: MakeEvent,
    scf_context: MakeContext,
    problem: ProblemOf,
    nothing_sent: Check,
    emulator: EmulatorServer,
) -> None:
    sample = event(f"{source}_{route}")
    if route == "get-email-status":
        sample = event(f"{source}_{route}", query={"date": "2026-03-02"})
    runtime = make_runtime(secret_id=None, secret_key=None)
    body = problem(call(runtime, sample, scf_context(RID)), 503, "ses_not_configured")
    assert "TENCENTCLOUD_SECRETID" in body["detail"]
    nothing_sent()
    assert emulator.call_counts() == {}


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SESRELAY_API_KEY_SHA256", "sr_test_key"),  # a key in clear instead of its digest
        ("SESRELAY_SES_TIMEOUT", "whenever-you-like"),
        ("SESRELAY_SES_MAX_ATTEMPTS", "-7"),
    ],
)
def test_invalid_environment_is_503_configuration_error_through_main_handler(
    source: str,
    variable: str,
    value: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    emulator: EmulatorServer,
    event: MakeEvent,
    scf_context: MakeContext,
    problem: ProblemOf,
    nothing_sent: Check,
) -> None:
    monkeypatch.setenv("SESRELAY_SES_ENDPOINT", emulator.url)
    monkeypatch.setenv("TENCENTCLOUD_SECRET_ID", DEFAULT_SECRET_ID)
    monkeypatch.setenv("TENCENTCLOUD_SECRET_KEY", DEFAULT_SECRET_KEY)
    monkeypatch.setenv("SESRELAY_API_KEY_SHA256", "0" * 64)
    monkeypatch.setenv("SESRELAY_STATE_URL", "memory://")
    monkeypatch.setenv(variable, value)
    monkeypatch.setattr(handler, "_runtime", Runtime())
    capsys.readouterr()

    reply = handler.main_handler(event(f"{source}_post-emails"), scf_context(RID))

    body = problem(reply, 503, "configuration_error")
    assert variable in body["detail"]
    assert value not in reply["body"]
    assert DEFAULT_SECRET_KEY not in reply["body"]
    if source == "apigw":
        assert reply["isBase64Encoded"] is False
    captured = capsys.readouterr()
    assert DEFAULT_SECRET_KEY not in captured.out + captured.err
    nothing_sent()


def test_unknown_region_without_endpoint_is_503_configuration_error(
    source: str,
    monkeypatch: pytest.MonkeyPatch,
    event: MakeEvent,
    scf_context: MakeContext,
    problem: ProblemOf,
) -> None:
    monkeypatch.setenv("SESRELAY_SES_REGION", "mars-north-1")
    monkeypatch.setenv("TENCENTCLOUD_SECRETID", DEFAULT_SECRET_ID)
    monkeypatch.setenv("TENCENTCLOUD_SECRETKEY", DEFAULT_SECRET_KEY)
    monkeypatch.setenv("SESRELAY_API_KEY_SHA256", "0" * 64)
    monkeypatch.setattr(handler, "_runtime", Runtime())
    reply = handler.main_handler(event(f"{source}_post-emails"), scf_context(RID))
    body = problem(reply, 503, "configuration_error")
    assert "SESRELAY_SES_REGION" in body["detail"]


def test_configuration_error_reply_carries_the_request_id(
    source: str,
    monkeypatch: pytest.MonkeyPatch,
    event: MakeEvent,
    scf_context: MakeContext,
    problem: ProblemOf,
) -> None:
    """Every problem body has `request_id`; the SCF context has one to give."""
    monkeypatch.setenv("SESRELAY_API_KEY_SHA256", "sr_test_key")
    monkeypatch.setattr(handler, "_runtime", Runtime())
    reply = handler.main_handler(event(f"{source}_post-emails"), scf_context(RID))
    body = problem(reply, 503, "configuration_error")
    assert body["request_id"] == RID


def test_configuration_error_invocation_is_logged_as_one_line(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    event: MakeEvent,
    scf_context: MakeContext,
) -> None:
    """docs/deploy.md "Logs": one JSON line per invocation with request id, trigger, status and
    code."""
    monkeypatch.setenv("SESRELAY_API_KEY_SHA256", "sr_test_key")
    monkeypatch.setattr(handler, "_runtime", Runtime())
    capsys.readouterr()
    handler.main_handler(event("http_post-emails"), scf_context(RID))
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    [line] = lines
    assert line["request_id"] == RID
    assert line["trigger"] == "http"
    assert line["status"] == 503
    assert line["code"] == "configuration_error"
    assert "sr_test_key" not in json.dumps(line)


class _ClosedStore(MemoryStateStore):
    """A store whose backend is gone: every call raises StateStoreError."""

    def __init__(self) -> None:
        super().__init__(SystemClock())
        self.close()


def test_unreachable_state_store_is_503_and_sends_nothing(
    source: str,
    make_runtime: MakeRuntime,
    event: MakeEvent,
    scf_context: MakeContext,
    problem: ProblemOf,
    nothing_sent: Check,
) -> None:
    sample = event(f"{source}_post-emails", headers={"idempotency-key": "order-1"})
    reply = call(make_runtime(state=_ClosedStore()), sample, scf_context(RID))
    problem(reply, 503, "state_store_unavailable")
    assert reply["headers"]["retry-after"]
    nothing_sent()


class _SlowClaimStore(MemoryStateStore):
    """A state store whose claim takes `delay` seconds, like a Redis under load."""

    def __init__(self, clock: Clock, delay: float) -> None:
        super().__init__(clock)
        self.delay = delay

    def claim(self, key: str, value: str, ttl_seconds: float) -> StateRecord | None:
        time.sleep(self.delay)
        return super().claim(key, value, ttl_seconds)


def test_invocation_out_of_time_before_ses_is_503_deadline_exceeded(
    source: str,
    make_runtime: MakeRuntime,
    event: MakeEvent,
    scf_context: MakeContext,
    problem: ProblemOf,
    nothing_sent: Check,
) -> None:
    store = _SlowClaimStore(SystemClock(), delay=0.15)
    runtime = make_runtime(state=store)
    sample = event(f"{source}_post-emails", headers={"idempotency-key": "order-late"})
    # 100 ms to run (the smallest deadline the runtime grants): the claim eats it all.
    reply = call(runtime, sample, scf_context(RID, time_limit_ms=100))
    problem(reply, 503, "deadline_exceeded")
    assert reply["headers"]["retry-after"]
    nothing_sent()

    # SES never saw it, so the key is free: the retry with time to spare sends.
    store.delay = 0.0
    retry = call(runtime, sample, scf_context(RID))
    assert retry["statusCode"] == 202, retry
    assert "idempotent-replayed" not in retry["headers"]


class _ExplodingGateway:
    """An SES gateway with a bug: it raises something no error class covers."""

    def call(self, action: str, params: dict[str, Any], deadline: Deadline) -> dict[str, Any]:
        raise RuntimeError("boom: secret-internal-state sr_live_0000")


@pytest.mark.parametrize("route", AUTH_ROUTES)
def test_a_bug_is_500_internal_error_without_details(
    source: str,
    route: str,
    make_runtime: MakeRuntime,
    event: MakeEvent,
    scf_context: MakeContext,
    problem: ProblemOf,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sample = event(f"{source}_{route}")
    if route == "get-email-status":
        sample = event(f"{source}_{route}", query={"date": "2026-03-02"})
    reply = call(make_runtime(ses=_ExplodingGateway()), sample, scf_context(RID))
    body = problem(reply, 500, "internal_error")
    assert body["request_id"] == RID
    assert "boom" not in reply["body"]
    assert "secret-internal-state" not in reply["body"]
    # The function log has the details.
    assert "RuntimeError" in capsys.readouterr().out


# -- the table itself -------------------------------------------------------------------------


def test_the_codes_exercised_here_keep_their_status() -> None:
    """Guards this file against a row of problems.CODES being renamed or remapped under it."""
    exercised = {
        "malformed_request": 400,
        "invalid_idempotency_key": 400,
        "unauthorized": 401,
        "sender_not_allowed": 403,
        "not_found": 404,
        "method_not_allowed": 405,
        "idempotency_key_reused": 409,  # test_idempotency_http.py
        "idempotency_in_progress": 409,  # test_idempotency_http.py
        "payload_too_large": 413,
        "unsupported_media_type": 415,
        "validation_error": 422,
        "internal_error": 500,
        "upstream_outcome_unknown": 502,
        "upstream_error": 502,
        "configuration_error": 503,
        "ses_not_configured": 503,
        "auth_not_configured": 503,
        "state_store_unavailable": 503,
        "deadline_exceeded": 503,
    }
    assert {code: CODES[code][0] for code in exercised if code in CODES} == exercised
