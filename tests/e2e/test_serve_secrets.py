"""No credential reaches a log line of `sesrelay serve`: not the SES callback token (a path
segment), not an API key a client put in a query string, not in the function's JSON log on
stdout nor in serve's own access log on stderr, whatever the request and its answer."""

from __future__ import annotations

import json
import secrets
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from tests.e2e.test_serve import Served, fetch, start_serve, stop

TOKEN = "tok-" + secrets.token_hex(16)
EVENT = {"event": "delivered", "email": "ana@example.org", "bulkId": "m-1", "timestamp": 1}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    started = start_serve(tmp_path_factory.mktemp("secrets"), SESRELAY_SES_EVENTS_TOKEN=TOKEN)
    try:
        yield started
    finally:
        stop(started)


def raw_request(base: str, request_line: str) -> None:
    """A request line http.client would refuse to send; waits until serve closes the connection."""
    parts = urlsplit(base)
    with socket.create_connection((parts.hostname or "", parts.port or 80), timeout=10) as conn:
        conn.sendall(f"{request_line}\r\nHost: x\r\n\r\n".encode())
        while conn.recv(65536):
            pass


def test_neither_the_callback_token_nor_an_api_key_is_ever_logged(served: Served) -> None:
    key = served.field("API key (generated for this run):")
    auth = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    events = f"{served.base}/v1/ses-events/{TOKEN}"
    answers = [
        fetch(events, "POST", json.dumps([EVENT]).encode(), auth)[0],
        fetch(events + "/extra", "POST", b"[]", auth)[0],  # 404
        fetch(events, "PUT", b"[]", auth)[0],  # 405
        fetch(f"{served.base}/v1/ses-events/{TOKEN}x", "POST", b"[]", auth)[0],  # wrong token
        fetch(f"{served.base}/v1/batch-tasks?api_key={key}&limit=1", "GET", None, auth)[0],
        fetch(f"{served.base}/v1/health?token={TOKEN}")[0],
    ]
    assert answers == [200, 404, 405, 401, 422, 200]
    # A line http.server refuses itself (its error log quotes the line as received).
    raw_request(served.base, f"GET /v1/ses-events/{TOKEN}?k={key} HTTP/1.1 extra")
    # The function's log lines arrive on stdout asynchronously: wait until all are in.
    stop(served)
    logs = "\n".join(served.stdout[len(served.banner) :]) + "\n" + served.stderr()
    assert logs.count("\n") >= 7, logs  # every request left a line somewhere
    assert TOKEN not in logs
    assert key not in logs
    assert "-  400" in served.stderr()  # http.server refused the line: status only, no line
    assert "POST /v1/ses-events/*** 200" in served.stderr()  # the access log says which route
