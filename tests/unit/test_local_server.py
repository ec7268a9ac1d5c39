"""`sesrelay serve` translations: an HTTP request -> a function-URL event, a reply -> HTTP."""

from __future__ import annotations

import base64
import json
import shlex
import uuid

import pytest

from sesrelay.cli.function_url import (
    HttpReply,
    http_reply,
    invocation_context,
    problem_reply,
    request_event,
)
from sesrelay.cli.serve_banner import demo_curl


def test_a_json_post_becomes_a_function_url_event() -> None:
    event = request_event(
        "POST",
        "/v1/batch-tasks?dry=1",
        [("Content-Type", "application/json"), ("X-Custom", "a")],
        b'{"a": "\xc3\xa9"}',
        "127.0.0.1",
    )
    assert event == {
        "httpMethod": "POST",
        "path": "/v1/batch-tasks",
        "headers": {
            "content-type": "application/json",
            "x-custom": "a",
            "x-scf-remote-addr": "127.0.0.1",
        },
        "queryString": {"dry": "1"},
        "body": '{"a": "é"}',
    }


def test_repeated_query_parameters_become_lists_and_blanks_are_kept() -> None:
    event = request_event(
        "GET", "/v1/batch-tasks?status=1&status=10&limit=5&empty=", [], b"", "::1"
    )
    assert event["queryString"] == {"status": ["1", "10"], "limit": "5", "empty": ""}
    assert event["path"] == "/v1/batch-tasks"
    assert event["body"] == ""
    assert "isBase64Encoded" not in event


def test_header_names_are_lower_cased_and_repeats_folded() -> None:
    event = request_event(
        "get", "/", [("Accept", "text/html"), ("ACCEPT", "application/json")], b"", "10.0.0.2"
    )
    assert event["httpMethod"] == "GET"
    assert event["headers"]["accept"] == "text/html, application/json"


def test_the_client_cannot_spoof_the_remote_address() -> None:
    event = request_event("GET", "/", [("X-SCF-Remote-Addr", "203.0.113.9")], b"", "127.0.0.1")
    assert event["headers"]["x-scf-remote-addr"] == "127.0.0.1"


def test_a_body_that_is_not_utf8_travels_as_base64() -> None:
    raw = b"\xff\xfe\x00binary"
    event = request_event("POST", "/v1/webhooks/x", [], raw, "127.0.0.1")
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == raw


def test_the_context_looks_like_scf() -> None:
    context = invocation_context()
    assert uuid.UUID(context["request_id"]).version == 4
    assert context["time_limit_in_ms"] == 30000
    assert context["memory_limit_in_mb"] == 128
    assert context["function_name"] == "sesrelay-local"
    assert invocation_context()["request_id"] != context["request_id"]


def test_an_integrated_reply_keeps_status_headers_and_body() -> None:
    reply = http_reply(
        {
            "statusCode": 202,
            "headers": {"content-type": "application/json"},
            "body": '{"TaskId": 1}',
        }
    )
    assert reply == HttpReply(202, [("content-type", "application/json")], b'{"TaskId": 1}')


def test_a_list_valued_header_is_repeated() -> None:
    reply = http_reply({"statusCode": 200, "headers": {"set-cookie": ["a=1", "b=2"]}, "body": ""})
    assert reply.headers == [("set-cookie", "a=1"), ("set-cookie", "b=2")]


def test_framing_headers_from_the_function_are_dropped() -> None:
    reply = http_reply(
        {
            "statusCode": 200,
            "headers": {"Content-Length": "999", "Connection": "close", "x-ok": 1},
            "body": "hi",
        }
    )
    assert reply.headers == [("x-ok", "1")]


def test_a_base64_reply_is_decoded() -> None:
    raw = bytes(range(256))
    reply = http_reply(
        {"statusCode": 200, "body": base64.b64encode(raw).decode(), "isBase64Encoded": True}
    )
    assert reply.body == raw


def test_isbase64encoded_false_keeps_the_text() -> None:
    reply = http_reply({"statusCode": 200, "body": "aGk=", "isBase64Encoded": False})
    assert reply.body == b"aGk="


def test_a_reply_without_statuscode_is_200_json_of_the_whole_value() -> None:
    value = {"ok": True, "result": {"TaskId": 7, "note": "é"}}
    reply = http_reply(value)
    assert reply.status == 200
    assert reply.headers == [("Content-Type", "application/json")]
    assert json.loads(reply.body) == value
    assert http_reply(None).body == b"null"


@pytest.mark.parametrize(
    "bad",
    [
        {"statusCode": "200", "body": ""},
        {"statusCode": True, "body": ""},
        {"statusCode": 99, "body": ""},
        {"statusCode": 200, "body": {"not": "a string"}},
        {"statusCode": 200, "headers": ["x"], "body": ""},
        {"statusCode": 200, "body": "***", "isBase64Encoded": True},
    ],
)
def test_a_malformed_integrated_reply_is_an_error(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"\S"):
        http_reply(bad)


def test_problem_replies_are_problem_json_without_internals() -> None:
    reply = problem_reply(500, "internal_error", "internal error", "rid-1")
    assert reply.status == 500
    assert ("content-type", "application/problem+json") in reply.headers
    body = json.loads(reply.body)
    assert body["code"] == "internal_error"
    assert body["status"] == 500
    assert body["request_id"] == "rid-1"
    assert {"type", "title", "detail"} <= set(body)


def test_the_demo_curl_is_one_well_quoted_shell_line() -> None:
    line = demo_curl("http://127.0.0.1:8123", "sr_dev_abc")
    words = shlex.split(line)
    assert words[:5] == ["curl", "-sS", "-X", "POST", "http://127.0.0.1:8123/v1/batch-tasks"]
    assert "Authorization: Bearer sr_dev_abc" in words
    body = json.loads(words[words.index("-d") + 1])
    assert body["ReceiverId"] == 200001
    assert body["Template"]["TemplateID"] == 100001
    assert json.loads(body["Template"]["TemplateData"]) == {"name": "friend"}
    key = next(w for w in words if w.startswith("Idempotency-Key: "))
    assert key.startswith("Idempotency-Key: demo-")
    assert '-d \'{"FromEmailAddress": ' in line  # single-quoted JSON, as documented
