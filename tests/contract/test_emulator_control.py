"""The `/_emulator/*` endpoints over real HTTP, and `serve_forever` as a separate process."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from sesrelay.clock import ManualClock
from sesrelay.emulator import EmulatorServer
from sesrelay.emulator.rawclient import call

START = datetime(2026, 1, 5, 1, 0, 0, tzinfo=timezone.utc)
LIB = str(Path(__file__).resolve().parents[2] / "lib")
SAMPLE = {
    "FromEmailAddress": "noreply@example.com",
    "ReceiverId": 200001,
    "Template": {"TemplateData": '{"name":"123"}', "TemplateID": 100001},
    "Subject": "Email subject",
    "TaskType": 1,
}


@pytest.fixture
def srv() -> Iterator[EmulatorServer]:
    with EmulatorServer(clock=ManualClock(START)) as server:
        yield server


def http(
    srv: EmulatorServer, method: str, path: str, payload: object = None
) -> tuple[int, dict[str, str], Any]:
    data = None if payload is None else json.dumps(payload).encode()
    req = urllib.request.Request(srv.url + path, data=data, method=method)
    try:
        with urllib.request.urlopen(req) as resp:
            return resp.status, dict(resp.headers), json.loads(resp.read())
    except urllib.error.HTTPError as err:
        with err:
            return err.code, dict(err.headers), json.loads(err.read())


def test_clock_get_advance_and_set(srv: EmulatorServer) -> None:
    assert http(srv, "GET", "/_emulator/clock")[2] == {"now": "2026-01-05T01:00:00+00:00"}
    assert http(srv, "POST", "/_emulator/clock", {"advance_seconds": 90})[2] == {
        "now": "2026-01-05T01:01:30+00:00"
    }
    assert http(srv, "POST", "/_emulator/clock", {"set": "2026-02-01T08:00:00+08:00"})[2] == {
        "now": "2026-02-01T00:00:00+00:00"
    }
    assert http(srv, "POST", "/_emulator/clock", {"set": "2026-02-02T00:00:00Z"})[2] == {
        "now": "2026-02-02T00:00:00+00:00"
    }
    assert srv.now() == datetime(2026, 2, 2, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "payload",
    [
        {"advance_seconds": -1},
        {"advance_seconds": "10"},
        {"set": "2026-02-01T08:00:00"},
        {"set": "yesterday"},
        {"advance_seconds": 1, "set": "2026-02-01T08:00:00Z"},
        [1],
    ],
)
def test_bad_clock_requests(srv: EmulatorServer, payload: object) -> None:
    status, headers, body = http(srv, "POST", "/_emulator/clock", payload)
    assert status == 400
    assert headers["Content-Type"] == "application/json"
    assert body["error"]


def test_advancing_the_clock_over_http_runs_due_tasks(srv: EmulatorServer) -> None:
    timed = {**SAMPLE, "TaskType": 2, "TimedParam": {"BeginTime": "2026-01-05 09:30:00"}}
    task_id = call(srv.endpoint, "BatchSendEmail", timed).json()["Response"]["TaskId"]
    assert http(srv, "GET", "/_emulator/outbox")[2] == {"count": 0, "messages": []}
    http(srv, "POST", "/_emulator/clock", {"advance_seconds": 1800})
    status, _, body = http(srv, "GET", f"/_emulator/outbox?task_id={task_id}")
    assert status == 200
    assert body["count"] == 3
    assert body["messages"][0]["sent_at"] == "2026-01-05T01:30:00+00:00"


def test_outbox_filters(srv: EmulatorServer) -> None:
    task_id = call(srv.endpoint, "BatchSendEmail", SAMPLE).json()["Response"]["TaskId"]
    mail = {**{k: SAMPLE[k] for k in ("FromEmailAddress", "Template")}, "Subject": "Hi"}
    reply = call(srv.endpoint, "SendEmail", {**mail, "Destination": ["ben@example.org"]})
    message_id = reply.json()["Response"]["MessageId"]
    assert http(srv, "GET", "/_emulator/outbox")[2]["count"] == 4
    by_to = http(srv, "GET", "/_emulator/outbox?to=ben%40example.org")[2]
    assert [m["action"] for m in by_to["messages"]] == ["BatchSendEmail", "SendEmail"]
    by_task = http(srv, "GET", f"/_emulator/outbox?task_id={task_id}&to=ben@example.org")[2]
    assert by_task["count"] == 1
    by_id = http(srv, "GET", f"/_emulator/outbox?message_id={message_id}")[2]
    assert [m["to"] for m in by_id["messages"]] == ["ben@example.org"]
    assert http(srv, "GET", "/_emulator/outbox?task_id=abc")[0] == 400
    assert srv.outbox(to="ben@example.org", task_id=task_id) == by_task["messages"]


def test_reset_returns_to_the_seed(srv: EmulatorServer) -> None:
    call(srv.endpoint, "BatchSendEmail", SAMPLE)
    call(srv.endpoint, "CreateReceiver", {"ReceiversName": "temp"})
    call(srv.endpoint, "DeleteReceiver", {"ReceiverId": 200001})
    srv.inject_fault("SendEmail", "drop_before")
    srv.advance(3600)
    status, _, body = http(srv, "POST", "/_emulator/reset")
    assert (status, body) == (200, {"reset": True, "now": "2026-01-05T01:00:00+00:00"})
    assert srv.outbox() == []
    assert srv.faults() == []
    assert srv.call_counts() == {}
    lists = call(srv.endpoint, "ListReceivers", {"Offset": 0, "Limit": 10}).json()["Response"]
    assert [d["ReceiversName"] for d in lists["Data"]] == ["demo-customers"]
    assert call(srv.endpoint, "BatchSendEmail", SAMPLE).json()["Response"]["TaskId"] == 300001


def test_call_counts_over_http(srv: EmulatorServer) -> None:
    call(srv.endpoint, "ListEmailAddress", {})
    call(srv.endpoint, "ListEmailAddress", {}, secret_key="wrong")
    assert http(srv, "GET", "/_emulator/calls")[2] == {"calls": {"ListEmailAddress": 2}}


def test_wrong_method_and_unknown_endpoint(srv: EmulatorServer) -> None:
    status, headers, body = http(srv, "GET", "/_emulator/reset")
    assert (status, headers["Allow"]) == (405, "POST")
    assert body["error"]
    assert http(srv, "GET", "/_emulator/nothing")[0] == 404


def test_endpoint_properties() -> None:
    srv = EmulatorServer()
    with pytest.raises(RuntimeError):
        _ = srv.port
    with srv:
        assert srv.port > 0
        assert srv.endpoint == f"127.0.0.1:{srv.port}"
        assert srv.url == f"http://127.0.0.1:{srv.port}"
    srv.stop()  # stopping twice is harmless


@pytest.mark.parametrize(
    ("code", "stop_signal"),
    [
        ("from sesrelay.emulator import serve_forever; serve_forever('127.0.0.1', 0)", "SIGTERM"),
        ("from sesrelay.emulator import serve_forever; serve_forever('127.0.0.1', 0)", "SIGINT"),
        ("import runpy; runpy.run_module('sesrelay.emulator', run_name='__main__')", "SIGTERM"),
    ],
)
def test_serve_forever_prints_the_listening_line_and_stops_on_a_signal(
    code: str, stop_signal: str
) -> None:
    env = {**os.environ, "PYTHONPATH": LIB}
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.fullmatch(r"listening on http://127\.0\.0\.1:(\d+)\n", line)
        assert match, line
        port = int(match.group(1))
        assert port > 0
        url = f"http://127.0.0.1:{port}/_emulator/clock"
        with urllib.request.urlopen(url, timeout=5) as resp:
            assert "now" in json.loads(resp.read())
        proc.send_signal(getattr(signal, stop_signal))
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0
    # After the listening line only the inbox line, then nothing: a clean stop prints no more.
    assert out in ("", f"inbox: http://127.0.0.1:{port}/_emulator/ui\n")
    assert err == ""
