"""Every route of the HTTP API, in both event shapes (function URL and API Gateway), against the
SES emulator: through `Runtime.handle` and through the real `handler.main_handler`."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from typing import Any

import pytest

import handler
from sesrelay.clock import SES_TIMEZONE
from sesrelay.emulator import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, EmulatorServer
from sesrelay.runtime import Runtime

MakeRuntime = Callable[..., Runtime]
MakeEvent = Callable[..., dict[str, Any]]
MakeContext = Callable[..., dict[str, Any]]
ProblemOf = Callable[[dict[str, Any], int, str], dict[str, Any]]

SOURCES = ["http", "apigw"]
API_KEY = "sr_test_key"
API_KEY_SHA256 = hashlib.sha256(API_KEY.encode()).hexdigest()
GROUP = ["ana@example.org", "ben@example.org", "chen@example.org"]


def json_reply(reply: dict[str, Any], status: int, source: str) -> Any:
    """Check the SCF reply envelope of `source` and return the decoded JSON body."""
    expected_keys = {"statusCode", "headers", "body"}
    if source == "apigw":
        expected_keys.add("isBase64Encoded")
        assert reply["isBase64Encoded"] is False
    assert set(reply) == expected_keys, reply
    assert reply["statusCode"] == status, reply
    assert reply["headers"]["content-type"] == "application/json"
    assert isinstance(reply["body"], str)
    return json.loads(reply["body"])


def ses_today(emulator: EmulatorServer) -> str:
    """The emulator files mail under UTC+8 days, as SES does."""
    return emulator.now().astimezone(SES_TIMEZONE).date().isoformat()


# -- the routes, in both shapes ---------------------------------------------------------------


@pytest.mark.parametrize("source", SOURCES)
def test_post_emails_sends_one_rendered_mail(
    source: str,
    make_runtime: MakeRuntime,
    event: MakeEvent,
    scf_context: MakeContext,
    emulator: EmulatorServer,
) -> None:
    reply = make_runtime().handle(event(f"{source}_post-emails"), scf_context())

    body = json_reply(reply, 202, source)
    assert set(body) == {"MessageId", "RequestId"}
    assert body["MessageId"].startswith("qcloudses-")
    assert body["RequestId"]
    [mail] = emulator.outbox()
    assert mail["message_id"] == body["MessageId"]
    assert mail["to"] == "ana@example.org"
    assert mail["from"] == "Example Team <noreply@example.com>"
    assert mail["subject"] == "Welcome, Ana"
    assert mail["html"] == "<p>Hello Ana, welcome aboard.</p>"
    assert mail["text"] == "Hello Ana, welcome aboard."


@pytest.mark.parametrize("source", SOURCES)
def test_post_batch_tasks_mails_every_group_member(
    source: str,
    make_runtime: MakeRuntime,
    event: MakeEvent,
    scf_context: MakeContext,
    emulator: EmulatorServer,
) -> None:
    reply = make_runtime().handle(event(f"{source}_post-batch-tasks"), scf_context())

    body = json_reply(reply, 202, source)
    assert set(body) == {"TaskId", "RequestId"}
    assert isinstance(body["TaskId"], int)
    mails = emulator.outbox(task_id=body["TaskId"])
    assert sorted(m["to"] for m in mails) == GROUP
    assert all(m["subject"] == "Email subject" for m in mails)
    assert all(m["html"] == "<p>Hello 123, welcome aboard.</p>" for m in mails)
    assert emulator.outbox() == mails
    assert emulator.call_counts()["BatchSendEmail"] == 1


@pytest.mark.parametrize("source", SOURCES)
def test_get_batch_tasks_lists_the_task_with_every_filter(
    source: str,
    make_runtime: MakeRuntime,
    event: MakeEvent,
    scf_context: MakeContext,
) -> None:
    runtime = make_runtime()
    created = json.loads(runtime.handle(event(f"{source}_post-batch-tasks"), scf_context())["body"])

    # The sample event filters by offset, limit, status (10 done), receiver_id and task_type.
    sample = event(f"{source}_get-batch-tasks")
    assert set(sample["queryString"]) == {"offset", "limit", "status", "receiver_id", "task_type"}
    body = json_reply(runtime.handle(sample, scf_context()), 200, source)
    assert body["RequestId"]
    assert body["TotalCount"] == 1
    [task] = body["Data"]
    assert task["TaskId"] == created["TaskId"]
    assert task["ReceiverId"] == 200001
    assert task["TaskType"] == 1
    assert task["TaskStatus"] == 10

    # Each filter really reaches SES: one that excludes the task gives an empty page.
    for name, value in [("status", "1"), ("receiver_id", "999999"), ("task_type", "2")]:
        query = {**sample["queryString"], name: value}
        page = json_reply(
            runtime.handle(event(f"{source}_get-batch-tasks", query=query), {}), 200, source
        )
        assert page["Data"] == [], (name, page)
    query = {**sample["queryString"], "offset": "1", "limit": "1"}
    page = json_reply(
        runtime.handle(event(f"{source}_get-batch-tasks", query=query), {}), 200, source
    )
    assert page["Data"] == []
    assert page["TotalCount"] == 1


@pytest.mark.parametrize("source", SOURCES)
def test_get_email_status_lists_the_sent_mail(
    source: str,
    make_runtime: MakeRuntime,
    event: MakeEvent,
    scf_context: MakeContext,
    emulator: EmulatorServer,
) -> None:
    runtime = make_runtime()
    sent = json.loads(runtime.handle(event(f"{source}_post-emails"), scf_context())["body"])

    sample = event(f"{source}_get-email-status")
    query = {**sample["queryString"], "date": ses_today(emulator), "message_id": sent["MessageId"]}
    reply = runtime.handle(event(f"{source}_get-email-status", query=query), scf_context())

    body = json_reply(reply, 200, source)
    assert body["RequestId"]
    [status] = body["EmailStatusList"]
    assert status["MessageId"] == sent["MessageId"]
    assert status["ToEmailAddress"] == "ana@example.org"
    assert status["FromEmailAddress"] == "noreply@example.com"

    by_recipient = {"date": ses_today(emulator), "to": "ana@example.org"}
    body = json_reply(
        runtime.handle(event(f"{source}_get-email-status", query=by_recipient), {}), 200, source
    )
    assert [s["MessageId"] for s in body["EmailStatusList"]] == [sent["MessageId"]]


@pytest.mark.parametrize("source", SOURCES)
def test_health_needs_no_key(
    source: str, make_runtime: MakeRuntime, event: MakeEvent, scf_context: MakeContext
) -> None:
    sample = event(f"{source}_get-health")
    assert "authorization" not in sample["headers"]

    body = json_reply(make_runtime().handle(sample, scf_context()), 200, source)
    assert body["status"] == "ok"
    assert isinstance(body["version"], str)
    # Even with no keys configured at all, liveness answers.
    body = json_reply(make_runtime(api_key_sha256=[]).handle(sample, {}), 200, source)
    assert body["status"] == "ok"


@pytest.mark.parametrize("source", SOURCES)
def test_openapi_needs_no_key(
    source: str, make_runtime: MakeRuntime, event: MakeEvent, scf_context: MakeContext
) -> None:
    sample = event(f"{source}_get-openapi")
    assert "authorization" not in sample["headers"]

    body = json_reply(make_runtime().handle(sample, scf_context()), 200, source)
    assert body["openapi"].startswith("3.1")
    assert "/v1/emails" in body["paths"]
    body = json_reply(make_runtime(api_key_sha256=[]).handle(sample, {}), 200, source)
    assert body["openapi"].startswith("3.1")


# -- reading the request: header case, base64 bodies, both query fields -------------------------


@pytest.mark.parametrize("source", SOURCES)
def test_header_names_are_case_insensitive(
    source: str,
    make_runtime: MakeRuntime,
    event: MakeEvent,
    scf_context: MakeContext,
    emulator: EmulatorServer,
) -> None:
    headers = {
        "AUTHORIZATION": f"bearer {API_KEY}",
        "Content-Type": "Application/JSON; charset=UTF-8",
        "Idempotency-KEY": "case-test-1",
        "X-Scf-Remote-Addr": "198.51.100.44",
    }
    runtime = make_runtime()
    first = runtime.handle(event(f"{source}_post-emails", replace_headers=headers), scf_context())
    assert json_reply(first, 202, source)["MessageId"]
    # The mixed-case Idempotency-Key header was honoured: a repeat is a replay.
    second = runtime.handle(event(f"{source}_post-emails", replace_headers=headers), scf_context())
    assert second["statusCode"] == 202
    assert second["headers"].get("idempotent-replayed") == "true"
    assert second["body"] == first["body"]
    assert len(emulator.outbox()) == 1


@pytest.mark.parametrize("source", SOURCES)
def test_base64_bodies_are_decoded(
    source: str,
    make_runtime: MakeRuntime,
    event: MakeEvent,
    scf_context: MakeContext,
    emulator: EmulatorServer,
) -> None:
    params = json.loads(event(f"{source}_post-emails")["body"])
    params["Template"]["TemplateData"] = {"name": "Zoë 张"}
    raw = json.dumps(params, ensure_ascii=False).encode("utf-8")
    sample = event(f"{source}_post-emails", raw_body=raw)
    assert sample["isBase64Encoded"] is True
    assert base64.b64decode(sample["body"]) == raw

    body = json_reply(make_runtime().handle(sample, scf_context()), 202, source)
    [mail] = emulator.outbox(message_id=body["MessageId"])
    assert mail["subject"] == "Welcome, Zoë 张"


def test_api_gateway_query_string_parameters_are_read_without_query_string(
    make_runtime: MakeRuntime, event: MakeEvent, scf_context: MakeContext
) -> None:
    sample = event("apigw_get-batch-tasks", query={"limit": "abc"})
    del sample["queryString"]
    reply = make_runtime().handle(sample, scf_context())
    assert reply["statusCode"] == 422
    assert [e["field"] for e in json.loads(reply["body"])["errors"]] == ["limit"]


# -- shapes that are not HTTP at all --------------------------------------------------------


@pytest.mark.parametrize(
    "shape",
    [
        {},
        {"foo": "bar"},
        {"Type": "Cron", "TriggerName": "x"},
        {"headers": {"content-type": "application/json"}, "body": "{}", "path": "/v1/emails"},
        {"Records": [{"cos": {}}]},
    ],
)
def test_unknown_event_shapes_get_an_error_naming_the_accepted_shapes(
    shape: dict[str, Any],
    make_runtime: MakeRuntime,
    scf_context: MakeContext,
    nothing_sent: Callable[[], None],
) -> None:
    reply = make_runtime().handle(shape, scf_context())
    assert reply["ok"] is False
    assert reply["error"]["code"] == "unsupported_event"
    message = reply["error"]["message"]
    for accepted in ("function URL", "httpMethod", "API Gateway", "requestContext", "Timer"):
        assert accepted in message
    assert "action" in message
    assert "Traceback" not in json.dumps(reply)
    nothing_sent()


@pytest.mark.parametrize(
    "broken",
    [
        {"httpMethod": "POST", "path": "/v1/emails", "headers": "not a dict", "body": "{}"},
        {"httpMethod": "", "path": "/v1/emails", "headers": {}},
        {"httpMethod": "POST", "path": "/v1/emails", "headers": {}, "body": 42},
        {"requestContext": {}, "path": "/v1/health"},
    ],
)
def test_unreadable_http_events_get_a_problem_not_a_traceback(
    broken: dict[str, Any],
    make_runtime: MakeRuntime,
    scf_context: MakeContext,
    problem: ProblemOf,
    nothing_sent: Callable[[], None],
) -> None:
    reply = make_runtime().handle(broken, scf_context("req-broken"))
    body = problem(reply, 400, "malformed_request")
    assert body["request_id"] == "req-broken"
    nothing_sent()


# -- the real entry point -------------------------------------------------------------------


@pytest.fixture
def handler_env(monkeypatch: pytest.MonkeyPatch, emulator: EmulatorServer) -> None:
    """What an SCF function on the emulator would have; a fresh warm instance."""
    monkeypatch.setenv("SESRELAY_SES_ENDPOINT", emulator.url)
    monkeypatch.setenv("TENCENTCLOUD_SECRET_ID", DEFAULT_SECRET_ID)
    monkeypatch.setenv("TENCENTCLOUD_SECRET_KEY", DEFAULT_SECRET_KEY)
    monkeypatch.setenv("SESRELAY_API_KEY_SHA256", API_KEY_SHA256)
    monkeypatch.setenv("SESRELAY_STATE_URL", "memory://")
    monkeypatch.setenv("SESRELAY_ALLOWED_SENDERS", "@example.com")
    monkeypatch.setattr(handler, "_runtime", Runtime())


@pytest.mark.usefixtures("handler_env")
@pytest.mark.parametrize("source", SOURCES)
def test_every_route_through_main_handler(
    source: str, event: MakeEvent, scf_context: MakeContext, emulator: EmulatorServer
) -> None:
    sent = json_reply(
        handler.main_handler(event(f"{source}_post-emails"), scf_context()), 202, source
    )
    task = json_reply(
        handler.main_handler(event(f"{source}_post-batch-tasks"), scf_context()), 202, source
    )
    assert len(emulator.outbox(task_id=task["TaskId"])) == 3
    assert len(emulator.outbox(message_id=sent["MessageId"])) == 1

    listed = json_reply(
        handler.main_handler(event(f"{source}_get-batch-tasks"), scf_context()), 200, source
    )
    assert [t["TaskId"] for t in listed["Data"]] == [task["TaskId"]]

    query = {"date": ses_today(emulator), "message_id": sent["MessageId"]}
    status = json_reply(
        handler.main_handler(event(f"{source}_get-email-status", query=query), scf_context()),
        200,
        source,
    )
    assert [s["MessageId"] for s in status["EmailStatusList"]] == [sent["MessageId"]]

    health = json_reply(
        handler.main_handler(event(f"{source}_get-health"), scf_context()), 200, source
    )
    assert health["status"] == "ok"
    document = json_reply(
        handler.main_handler(event(f"{source}_get-openapi"), scf_context()), 200, source
    )
    assert document["openapi"].startswith("3.1")

    wrong = handler.main_handler(
        event(f"{source}_post-emails", headers={"authorization": "Bearer nope"}), scf_context()
    )
    assert wrong["statusCode"] == 401
    assert len(emulator.outbox()) == 4


# -- logs -----------------------------------------------------------------------------------

RAW_IDEMPOTENCY_KEY = "order-7f3a9c-raw-key"
REDIS_PASSWORD = "redis-pa55word-secret"


def _log_lines(text: str) -> list[dict[str, Any]]:
    lines = [line for line in text.splitlines() if line.strip()]
    return [json.loads(line) for line in lines]


@pytest.mark.usefixtures("handler_env")
def test_one_json_log_line_per_invocation_without_secrets_or_recipients(
    capsys: pytest.CaptureFixture[str],
    event: MakeEvent,
    scf_context: MakeContext,
) -> None:
    capsys.readouterr()  # drop anything printed while the fixtures set up
    post = event("http_post-emails", headers={"idempotency-key": RAW_IDEMPOTENCY_KEY})
    replies = [
        handler.main_handler(post, scf_context("req-log-1")),
        handler.main_handler(event("apigw_post-batch-tasks"), scf_context("req-log-2")),
        handler.main_handler(event("http_get-batch-tasks"), scf_context("req-log-3")),
        handler.main_handler(
            event("apigw_post-emails", headers={"authorization": "Bearer wrong"}),
            scf_context("req-log-4"),
        ),
        handler.main_handler(event("http_get-health"), scf_context("req-log-5")),
    ]
    assert [r["statusCode"] for r in replies] == [202, 202, 200, 401, 200]
    captured = capsys.readouterr()

    lines = _log_lines(captured.out)
    assert [line["request_id"] for line in lines] == [f"req-log-{n}" for n in range(1, 6)]
    assert [line["trigger"] for line in lines] == ["http", "apigw", "http", "apigw", "http"]
    assert [line["route"] for line in lines] == [
        "POST /v1/emails",
        "POST /v1/batch-tasks",
        "GET /v1/batch-tasks",
        "POST /v1/emails",
        "GET /v1/health",
    ]
    assert [line["status"] for line in lines] == [202, 202, 200, 401, 200]
    for line in lines:
        assert isinstance(line["latency_ms"], (int, float))
        assert line["latency_ms"] >= 0
    sent_ids = [json.loads(r["body"])["RequestId"] for r in replies[:2]]
    assert [line.get("ses_request_id") for line in lines[:3]] == [
        *sent_ids,
        json.loads(replies[2]["body"])["RequestId"],
    ]
    assert isinstance(lines[0]["idempotency_key_hash"], str)
    assert lines[0]["idempotency_key_hash"]
    assert all("idempotency_key_hash" not in line for line in lines[1:])
    assert lines[0]["from"] == "n***@example.com"
    assert lines[1]["from"] == "n***@example.com"
    assert lines[3]["code"] == "unauthorized"

    everything = captured.out + captured.err
    for secret in (DEFAULT_SECRET_KEY, API_KEY, "Bearer wrong", RAW_IDEMPOTENCY_KEY):
        assert secret not in everything
    for address in [*GROUP, "noreply@example.com"]:
        assert address not in everything


def test_state_url_password_never_reaches_logs_or_replies(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    emulator: EmulatorServer,
    event: MakeEvent,
    scf_context: MakeContext,
    nothing_sent: Callable[[], None],
) -> None:
    """A Redis URL with a password, on a port where nothing listens: the send is refused with
    503 state_store_unavailable and the password appears nowhere."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    monkeypatch.setenv("SESRELAY_SES_ENDPOINT", emulator.url)
    monkeypatch.setenv("TENCENTCLOUD_SECRET_ID", DEFAULT_SECRET_ID)
    monkeypatch.setenv("TENCENTCLOUD_SECRET_KEY", DEFAULT_SECRET_KEY)
    monkeypatch.setenv("SESRELAY_API_KEY_SHA256", API_KEY_SHA256)
    monkeypatch.setenv("SESRELAY_STATE_URL", f"redis://:{REDIS_PASSWORD}@127.0.0.1:{closed_port}/0")
    monkeypatch.setattr(handler, "_runtime", Runtime())
    capsys.readouterr()

    reply = handler.main_handler(
        event("http_post-emails", headers={"idempotency-key": RAW_IDEMPOTENCY_KEY}),
        scf_context("req-redis"),
    )

    assert reply["statusCode"] == 503
    body = json.loads(reply["body"])
    assert body["code"] == "state_store_unavailable"
    assert str(closed_port) not in body["detail"]  # no internal host or port in the answer
    assert reply["headers"]["retry-after"]
    captured = capsys.readouterr()
    [line] = [entry for entry in _log_lines(captured.out) if entry.get("message") == "invocation"]
    assert line["status"] == 503
    assert line["code"] == "state_store_unavailable"
    assert str(closed_port) in line["detail"]  # the operator's log says which store
    everything = captured.out + captured.err + json.dumps(reply)
    for secret in (REDIS_PASSWORD, DEFAULT_SECRET_KEY, API_KEY, RAW_IDEMPOTENCY_KEY):
        assert secret not in everything
    assert "ana@example.org" not in everything
    nothing_sent()
