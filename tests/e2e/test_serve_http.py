"""The HTTP layer of `sesrelay serve` in-process, with a fake function: framing, keep-alive,
request bodies (Content-Length, chunked, limits) and the errors the server answers itself."""

from __future__ import annotations

import base64
import http.client
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from sesrelay.cli.serve_http import LocalServer


def fetch(
    url: str, method: str = "GET", body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, {k.lower(): v for k, v in err.headers.items()}, err.read()


class FakeFunction:
    def __init__(self, reply: Any = None, error: Exception | None = None) -> None:
        self.reply = reply
        self.error = error
        self.events: list[dict[str, Any]] = []

    def __call__(self, event: dict[str, Any], context: dict[str, Any]) -> Any:
        self.events.append(event)
        if self.error is not None:
            raise self.error
        return self.reply


@pytest.fixture
def local() -> Iterator[tuple[LocalServer, FakeFunction]]:
    fake = FakeFunction()
    server = LocalServer("127.0.0.1", 0, fake)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server, fake
    finally:
        server.shutdown()
        server.server_close()


def test_keep_alive_serves_several_requests_on_one_connection(
    local: tuple[LocalServer, FakeFunction],
) -> None:
    server, fake = local
    fake.reply = {"statusCode": 200, "headers": {"set-cookie": ["a=1", "b=2"]}, "body": "ok"}
    conn = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=10)
    try:
        for n in range(2):
            conn.request("POST", f"/x?n={n}&n=z", body=b"\xff\x00", headers={"X-A": "1"})
            resp = conn.getresponse()
            assert resp.status == 200
            assert resp.getheader("Content-Length") == "2"
            assert resp.headers.get_all("set-cookie") == ["a=1", "b=2"]
            assert resp.read() == b"ok"
    finally:
        conn.close()
    event = fake.events[-1]
    assert event["path"] == "/x"
    assert event["queryString"] == {"n": ["1", "z"]}
    assert event["headers"]["x-a"] == "1"
    assert event["headers"]["x-scf-remote-addr"] == "127.0.0.1"
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\xff\x00"


def test_a_reply_without_statuscode_is_200_json(local: tuple[LocalServer, FakeFunction]) -> None:
    server, fake = local
    fake.reply = {"ok": False, "error": {"code": "unsupported_event"}}
    status, headers, body = fetch(f"{server.url}/anything")
    assert status == 200
    assert headers["content-type"] == "application/json"
    assert json.loads(body) == fake.reply


def test_a_failing_function_is_500_without_internals(
    local: tuple[LocalServer, FakeFunction], capfd: pytest.CaptureFixture[str]
) -> None:
    server, fake = local
    fake.error = RuntimeError("secret-ish internals")
    status, headers, body = fetch(f"{server.url}/v1/health")
    assert status == 500
    assert headers["content-type"] == "application/problem+json"
    problem = json.loads(body)
    assert problem["code"] == "internal_error"
    assert {"type", "title", "status", "detail", "request_id"} <= set(problem)
    assert b"secret-ish" not in body
    assert b"Traceback" not in body
    assert "secret-ish internals" in capfd.readouterr().err  # logged for the operator


def test_a_malformed_integrated_reply_is_500(local: tuple[LocalServer, FakeFunction]) -> None:
    server, fake = local
    fake.reply = {"statusCode": 200, "body": {"not": "a string"}}
    status, _, body = fetch(f"{server.url}/")
    assert status == 500
    assert json.loads(body)["code"] == "internal_error"


def test_bad_lengths_are_refused(local: tuple[LocalServer, FakeFunction]) -> None:
    server, fake = local
    port = server.server_address[1]
    for headers, expected in [
        ([("Content-Length", "abc")], 400),
        ([("Content-Length", "-1")], 400),
        ([("Content-Length", "+5")], 400),
        ([("Content-Length", "5_0")], 400),
        ([("Content-Length", "1"), ("Content-Length", "2")], 400),
    ]:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            conn.putrequest("POST", "/")
            for name, value in headers:
                conn.putheader(name, value)
            conn.endheaders()
            resp = conn.getresponse()
            assert resp.status == expected, headers
            assert resp.getheader("Connection") == "close"
            assert resp.getheader("Content-Type") == "application/problem+json"
            resp.read()
        finally:
            conn.close()
    assert fake.events == []


def _post_chunked(port: int, raw: bytes) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.putrequest("POST", "/v1/x")
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        conn.send(raw)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def test_a_chunked_body_reaches_the_function_whole(local: tuple[LocalServer, FakeFunction]) -> None:
    server, fake = local
    fake.reply = {"statusCode": 200, "body": "ok"}
    status, _ = _post_chunked(
        server.server_address[1], b'3\r\n{"a\r\n5;ext=1\r\n": 1}\r\n0\r\n\r\n'
    )
    assert status == 200
    assert [event["body"] for event in fake.events] == ['{"a": 1}']


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"zz\r\nabc\r\n0\r\n\r\n", 400),  # not a hex size
        (b"3\r\nabcXY0\r\n\r\n", 400),  # the chunk does not end where its size says
        (b"600001\r\n", 413),  # over 6 MB announced: refused before reading it
    ],
)
def test_bad_chunked_bodies_are_refused(
    local: tuple[LocalServer, FakeFunction], raw: bytes, expected: int
) -> None:
    server, fake = local
    status, body = _post_chunked(server.server_address[1], raw)
    assert status == expected
    assert json.loads(body)["status"] == expected
    assert fake.events == []


def test_no_content_length_means_an_empty_body(local: tuple[LocalServer, FakeFunction]) -> None:
    server, fake = local
    fake.reply = {"statusCode": 204, "body": ""}
    status, headers, body = fetch(f"{server.url}/v1/x", "DELETE")
    assert status == 204
    assert body == b""
    assert "content-length" not in headers
    assert fake.events[0]["body"] == ""
    assert fake.events[0]["httpMethod"] == "DELETE"
