"""The HTTP layer of `sesrelay serve` in-process, with a fake function: framing, keep-alive,
request bodies (Content-Length, chunked, limits), deadlines for slow clients, and the errors the
server answers itself (problem+json, no version banner, never the request line)."""

from __future__ import annotations

import base64
import contextlib
import http.client
import itertools
import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from sesrelay.cli.serve_deadlines import Deadlines
from sesrelay.cli.serve_http import LocalServer

PROBLEM_FIELDS = {"type", "title", "status", "detail", "code", "request_id"}
#: Short deadlines, so a slow client is cut off within a second instead of a minute.
QUICK = Deadlines(head=0.8, body=0.8, idle=0.8, write=5.0)


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


@contextlib.contextmanager
def serving(deadlines: Deadlines | None = None) -> Iterator[tuple[LocalServer, FakeFunction]]:
    fake = FakeFunction()
    server = LocalServer("127.0.0.1", 0, fake, deadlines)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server, fake
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def local() -> Iterator[tuple[LocalServer, FakeFunction]]:
    with serving() as served:
        yield served


@pytest.fixture
def quick() -> Iterator[tuple[LocalServer, FakeFunction]]:
    with serving(QUICK) as served:
        yield served


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
            assert resp.getheader("Server") is None  # no version banner
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
        ([("Content-Length", "9" * 5000)], 413),  # int() of it would raise: over the limit
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


# -- slow clients: deadlines for the head, the body and an idle connection -----------------------


def read_until_closed(conn: socket.socket, pieces: Iterator[bytes], every: float) -> bytes:
    """Everything the server sends until it closes the connection. While it says nothing, one of
    `pieces` goes out every `every` s (a client trickling its request); gives up after 5 s."""
    conn.settimeout(every)
    received = b""
    give_up = time.monotonic() + 5.0
    while time.monotonic() < give_up:
        try:
            chunk = conn.recv(65536)
        except TimeoutError:
            if not received and (piece := next(pieces, None)) is not None:
                conn.sendall(piece)
            continue
        except ConnectionResetError:  # closed with our last bytes unread: what came first stays
            return received
        if not chunk:
            return received
        received += chunk
    raise AssertionError(f"the connection is still open after 5 s; received {received!r}")


def parse_answer(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    assert status_line.startswith("HTTP/1.1 "), raw[:200]
    return int(status_line.split()[1]), headers, body


def assert_408(raw: bytes, detail: str) -> None:
    status, headers, body = parse_answer(raw)
    assert status == 408
    assert headers["content-type"] == "application/problem+json"
    assert headers["connection"] == "close"
    problem = json.loads(body)
    assert set(problem) == PROBLEM_FIELDS
    assert (problem["code"], problem["detail"]) == ("request_timeout", detail)


def test_a_client_trickling_its_headers_is_cut_off_at_the_head_deadline(
    quick: tuple[LocalServer, FakeFunction],
) -> None:
    server, fake = quick
    lines = (b"X-Line-%d: 1\r\n" % n for n in itertools.count())  # never the blank line
    with socket.create_connection(("127.0.0.1", server.server_address[1])) as conn:
        started = time.monotonic()
        conn.sendall(b"GET /v1/health HTTP/1.1\r\n")
        raw = read_until_closed(conn, lines, every=0.1)  # a fresh line every 0.1 s
        elapsed = time.monotonic() - started
    assert_408(raw, "the request line and headers did not arrive within 0.8 s")
    assert QUICK.head - 0.05 <= elapsed < QUICK.head + 2.0  # at the deadline, not the 5 s give-up
    assert fake.events == []


def test_a_client_trickling_its_body_is_cut_off_at_the_body_deadline(
    quick: tuple[LocalServer, FakeFunction],
) -> None:
    server, fake = quick
    with socket.create_connection(("127.0.0.1", server.server_address[1])) as conn:
        conn.sendall(b"POST /v1/emails HTTP/1.1\r\nContent-Length: 100\r\n\r\n")
        started = time.monotonic()
        raw = read_until_closed(conn, itertools.repeat(b"{"), every=0.1)
        elapsed = time.monotonic() - started
    assert_408(raw, "the body did not arrive within 0.8 s")
    assert QUICK.body - 0.05 <= elapsed < QUICK.body + 2.0
    assert fake.events == []


def test_a_body_cut_short_by_the_client_never_reaches_the_function(
    local: tuple[LocalServer, FakeFunction],
) -> None:
    server, fake = local
    with socket.create_connection(("127.0.0.1", server.server_address[1])) as conn:
        conn.sendall(b"POST /v1/emails HTTP/1.1\r\nContent-Length: 10\r\n\r\n{}")
        conn.shutdown(socket.SHUT_WR)
        status, _, body = parse_answer(read_until_closed(conn, iter(()), every=5.0))
    assert status == 400
    assert json.loads(body)["code"] == "malformed_request"
    assert fake.events == []


def _ask(conn: socket.socket, path: str) -> int:
    """One GET on an open connection; the status, with the whole answer read."""
    conn.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    reader = http.client.HTTPResponse(conn)
    reader.begin()
    reader.read()
    return reader.status


def test_an_idle_keep_alive_connection_is_closed_without_an_answer(
    quick: tuple[LocalServer, FakeFunction],
) -> None:
    server, fake = quick
    fake.reply = {"statusCode": 200, "body": "ok"}
    with socket.create_connection(("127.0.0.1", server.server_address[1]), timeout=5) as conn:
        assert _ask(conn, "/a") == 200
        started = time.monotonic()
        assert conn.recv(1) == b""  # closed: no 408 a client could take for its next answer
        assert time.monotonic() - started < QUICK.idle + 2.0


def test_a_later_request_has_the_head_deadline_from_its_first_byte() -> None:
    with serving(Deadlines(head=0.5, idle=5.0)) as (server, fake):
        fake.reply = {"statusCode": 200, "body": "ok"}
        with socket.create_connection(("127.0.0.1", server.server_address[1]), timeout=5) as conn:
            assert _ask(conn, "/a") == 200
            conn.settimeout(1.0)  # twice the head deadline: idling is not a slow request
            with pytest.raises(TimeoutError):
                conn.recv(1)
            conn.settimeout(5)
            assert _ask(conn, "/b") == 200
    assert [event["path"] for event in fake.events] == ["/a", "/b"]


# -- what http.server refuses itself -------------------------------------------------------------

SECRET = "sr_secret_in_the_request_line"


@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [
        (f"GET /v1/x?k={SECRET} HTTP/1.1 extra\r\n\r\n", 400, "malformed_request"),
        (f"GET /{SECRET} HTTP/1.x\r\n\r\n", 400, "malformed_request"),
        (f"GET /{SECRET}\r\n\r\n", 400, "malformed_request"),  # HTTP/0.9
        (f"GET\xa0/{SECRET}\r\n\r\n", 400, "malformed_request"),  # 0.9 to http.server too
        (f"{SECRET}\r\n\r\n", 400, "malformed_request"),
        (f"GET /{SECRET} HTTP/2.0\r\n\r\n", 505, "http_version_not_supported"),
        (f"GET /{'a' * 65536}{SECRET} HTTP/1.1\r\n\r\n", 414, "uri_too_long"),
        (f"GET /{SECRET} HTTP/1.1\r\nX: {'a' * 65536}\r\n\r\n", 431, "header_fields_too_large"),
        (
            f"GET /{SECRET} HTTP/1.1\r\n" + "".join(f"X-{n}: 1\r\n" for n in range(101)) + "\r\n",
            431,
            "header_fields_too_large",
        ),
    ],
)
def test_http_servers_own_refusals_are_problem_json_without_banner_or_request_line(
    local: tuple[LocalServer, FakeFunction], raw: str, status: int, code: str
) -> None:
    server, fake = local
    with socket.create_connection(("127.0.0.1", server.server_address[1]), timeout=5) as conn:
        conn.sendall(raw.encode("latin-1"))
        answer = read_until_closed(conn, iter(()), every=5.0)
    got, headers, body = parse_answer(answer)
    assert got == status
    assert headers["content-type"] == "application/problem+json"
    assert headers["connection"] == "close"
    assert "server" not in headers
    problem = json.loads(body)
    assert set(problem) == PROBLEM_FIELDS
    assert (problem["status"], problem["code"]) == (status, code)
    assert SECRET.encode() not in answer
    assert fake.events == []
