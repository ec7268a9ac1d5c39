"""The emulator posts SES's delivery callbacks: the mailbox simulator's events for every mail sent
through the official SDK, to a real HTTP receiver on loopback, asynchronously and in order."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from sesrelay.clock import ManualClock
from sesrelay.emulator import EmulatorServer
from sesrelay.http.routes.ses_events import parse_events
from tests.ses_sdk import call, ses_sdk_client

START = datetime(2026, 1, 5, 1, 0, 0, tzinfo=timezone.utc)  # 09:00 in UTC+8
T0 = int(START.timestamp())
SIM = "simulator.sesrelay.test"
ROOT = Path(__file__).resolve().parents[2]
WELCOME = {"TemplateID": 100001, "TemplateData": '{"name": "Dana"}'}
BASE = {"FromEmailAddress": "Example <noreply@example.com>", "Subject": "Hi", "Template": WELCOME}
#: a mail whose HTML holds a link: what a click event reports
LINKED = {
    "TemplateID": 100001,
    "TemplateData": json.dumps({"name": '<a href="https://example.com/go">Dana</a>'}),
}
FIELDS = {
    "event", "email", "link", "bulkId", "timestamp", "reason", "bounceType", "username", "from",
    "fromDomain", "templateId", "useragent", "subject", "messageId", "sentTimestamp", "eventid",
    "taskId",
}  # fmt: skip
#: local part -> [(event, eventid)]
SEQUENCES = {
    "delivered": [("delivered", 1)],
    "bounce": [("bounce", 3)],
    "soft-bounce": [("bounce", 3)],
    "spamreport": [("delivered", 1), ("spamreport", 6)],
    "open": [("delivered", 1), ("open", 4)],
    "click": [("delivered", 1), ("open", 4), ("click", 5)],
    "deferred": [("deferred", 8)],
    "dropped": [("dropped", 2)],
    "unsubscribe": [("delivered", 1), ("unsubscribe", 7)],
}


class Receiver:
    """A loopback HTTP server that records every POST; answers `statuses` in turn, then 200,
    and holds each reply until `gate` is set."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, str, bytes]] = []
        self.statuses: list[int] = []
        self.gate = threading.Event()
        self.gate.set()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                owner.gate.wait(10)
                owner.posts.append((self.path, self.headers["Content-Type"], body))
                status = owner.statuses.pop(0) if owner.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1/ses-events/tok"
        threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True).start()

    @property
    def events(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, _, body in self.posts]

    def close(self) -> None:
        self.gate.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver()
    yield rec
    rec.close()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def srv(clock: ManualClock, receiver: Receiver) -> Iterator[EmulatorServer]:
    with EmulatorServer(clock=clock, callback_url=receiver.url) as server:
        yield server


def client_for(endpoint: str) -> Any:
    return ses_sdk_client(endpoint)


@pytest.fixture
def ses(srv: EmulatorServer) -> Iterator[Any]:
    client = client_for(srv.endpoint)
    yield client
    client.request.conn._session.close()  # the SDK never closes its requests.Session


def send(client: Any, *to: str, **extra: Any) -> str:
    return str(call(client, "SendEmail", {**BASE, "Destination": list(to), **extra})["MessageId"])


def control(srv: EmulatorServer, method: str, path: str, payload: object = None) -> Any:
    data = None if payload is None else json.dumps(payload).encode()
    req = urllib.request.Request(srv.url + path, data=data, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        with err:
            return err.code, json.loads(err.read())


@pytest.mark.parametrize("local", sorted(SEQUENCES))
def test_each_simulator_address_posts_its_event_sequence(
    srv: EmulatorServer, ses: Any, receiver: Receiver, local: str
) -> None:
    address = f"{local}@{SIM}"
    message_id = send(ses, address, Template=LINKED)
    assert srv.wait_callbacks(10)
    events = receiver.events
    assert [(e["event"], e["eventid"]) for e in events] == SEQUENCES[local]
    assert {e["email"] for e in events} == {address}
    assert {e["bulkId"] for e in events} == {message_id}
    assert [e["timestamp"] for e in events] == [T0 + n for n in range(len(events))]
    for event in events:
        assert set(event) == FIELDS
        assert event["sentTimestamp"] == T0
        assert (event["from"], event["fromDomain"]) == ("noreply@example.com", "example.com")
        assert (event["username"], event["templateId"], event["taskId"]) == (
            "1300000000",
            100001,
            0,
        )
        assert event["subject"] == "Hi"
    bounce_types = [e["bounceType"] for e in events if e["event"] == "bounce"]
    assert bounce_types == {"bounce": ["hard_bounce"], "soft-bounce": ["soft_bounce"]}.get(
        local, []
    )
    links = {"click": "https://example.com/go", "unsubscribe": f"https://{SIM}/unsubscribe"}
    assert [e["link"] for e in events][-1] == links.get(local, "")  # click: the mail's first link
    if local == "click":
        assert events[1]["useragent"] == events[2]["useragent"] != ""
    if local in ("bounce", "soft-bounce", "deferred", "dropped"):
        assert events[0]["reason"]
    # every post is one JSON object the relay's callback route takes without complaint
    assert {(path, ctype) for path, ctype, _ in receiver.posts} == {
        ("/v1/ses-events/tok", "application/json")
    }
    for _, _, body in receiver.posts:
        parsed, invalid, errors = parse_events(body)
        assert (len(parsed), invalid, errors) == (1, 0, [])
    (mail,) = srv.outbox()
    assert [(e["event"], e["status"], e["attempts"]) for e in mail["events"]] == [
        (name, "sent", 1) for name, _ in SEQUENCES[local]
    ]
    assert srv.callback_status() == {
        "url": receiver.url, "sent": len(events), "failed": 0, "pending": 0, "last_error": None
    }  # fmt: skip


def test_other_addresses_are_delivered_and_labels_keep_the_behaviour(
    srv: EmulatorServer, ses: Any, receiver: Receiver
) -> None:
    message_id = send(ses, "dana@example.org", f"nobody@{SIM}", f"BOUNCE+ana@{SIM.upper()}")
    assert srv.wait_callbacks(10)
    assert [(e["email"], e["event"], e["bounceType"]) for e in receiver.events] == [
        ("dana@example.org", "delivered", ""),
        (f"nobody@{SIM}", "delivered", ""),
        (f"BOUNCE+ana@{SIM.upper()}", "bounce", "hard_bounce"),
    ]
    assert {e["bulkId"] for e in receiver.events} == {message_id}


def test_a_non_ascii_subject_is_mime_encoded(
    srv: EmulatorServer, ses: Any, receiver: Receiver
) -> None:
    send(ses, "dana@example.org", Subject="你好, Dana")
    assert srv.wait_callbacks(10)
    (event,) = receiver.events
    assert event["subject"] == "=?utf-8?b?5L2g5aW9LCBEYW5h?="


def test_every_recipient_of_one_send_gets_its_own_sequence_in_order(
    srv: EmulatorServer, ses: Any, receiver: Receiver
) -> None:
    send(ses, f"click@{SIM}", Cc=[f"bounce@{SIM}"], Bcc=[f"open@{SIM}"])
    assert srv.wait_callbacks(10)
    assert [(e["email"].split("@")[0], e["event"]) for e in receiver.events] == [
        ("click", "delivered"),
        ("click", "open"),
        ("click", "click"),
        ("bounce", "bounce"),
        ("open", "delivered"),
        ("open", "open"),
    ]


def test_a_hard_bounce_does_not_blacklist_by_itself(
    srv: EmulatorServer, ses: Any, receiver: Receiver
) -> None:
    send(ses, f"bounce@{SIM}")
    assert srv.wait_callbacks(10)
    listed = call(ses, "ListCustomBlacklist", {"Offset": 0, "Limit": 10, "Status": 2})
    assert listed["TotalCount"] == 0
    send(ses, f"bounce@{SIM}")  # SES still accepts it; the receiver decides to blacklist


def new_simulator_list(ses: Any, srv: EmulatorServer, locals_: list[str]) -> int:
    receiver_id = int(call(ses, "CreateReceiver", {"ReceiversName": "sim"})["ReceiverId"])
    emails = [f"{local}@{SIM}" for local in locals_]
    call(ses, "CreateReceiverDetail", {"ReceiverId": receiver_id, "Emails": emails})
    srv.advance(1)  # the upload completes
    return receiver_id


def batch(ses: Any, receiver_id: int, **extra: Any) -> int:
    params = {
        "FromEmailAddress": "noreply@example.com",
        "ReceiverId": receiver_id,
        "Template": {"TemplateID": 100001, "TemplateData": '{"name": "all"}'},
        "Subject": "Batch",
        "TaskType": 1,
        **extra,
    }
    return int(call(ses, "BatchSendEmail", params)["TaskId"])


def test_batch_events_carry_the_task_id_and_each_mails_message_id(
    srv: EmulatorServer, ses: Any, receiver: Receiver
) -> None:
    task_id = batch(ses, new_simulator_list(ses, srv, ["open", "dropped"]))
    assert srv.wait_callbacks(10)
    ids = {m["to"]: m["message_id"] for m in srv.outbox(task_id=task_id)}
    assert len(set(ids.values())) == 2
    assert [(e["email"], e["event"], e["bulkId"], e["taskId"]) for e in receiver.events] == [
        (f"open@{SIM}", "delivered", ids[f"open@{SIM}"], task_id),
        (f"open@{SIM}", "open", ids[f"open@{SIM}"], task_id),
        (f"dropped@{SIM}", "dropped", ids[f"dropped@{SIM}"], task_id),
    ]


def test_a_scheduled_task_posts_only_when_the_clock_passes_its_time(
    srv: EmulatorServer, ses: Any, receiver: Receiver, clock: ManualClock
) -> None:
    receiver_id = new_simulator_list(ses, srv, ["click"])
    timed = {"BeginTime": "2026-01-05 10:00:00"}  # an hour after START, UTC+8
    task_id = batch(ses, receiver_id, TaskType=2, TimedParam=timed)
    assert srv.wait_callbacks(10)
    clock.advance(3598)
    assert srv.wait_callbacks(10)
    assert receiver.events == []
    clock.advance(2)
    assert srv.wait_callbacks(10)  # it runs the task that came due, then waits for its posts
    due = T0 + 3600  # the task's own time, not the clock's
    assert [(e["event"], e["timestamp"], e["taskId"]) for e in receiver.events] == [
        ("delivered", due, task_id),
        ("open", due + 1, task_id),
        ("click", due + 2, task_id),
    ]


def test_the_send_reply_does_not_wait_for_the_callbacks(
    srv: EmulatorServer, ses: Any, receiver: Receiver
) -> None:
    receiver.gate.clear()  # the receiver holds every reply
    send(ses, f"open@{SIM}")
    assert srv.callback_status()["pending"] == 2
    assert [e["status"] for e in srv.outbox()[0]["events"]] == ["pending", "pending"]
    assert not srv.wait_callbacks(0.05)
    receiver.gate.set()
    assert srv.wait_callbacks(10)
    assert [e["event"] for e in receiver.events] == ["delivered", "open"]


def test_a_refused_post_is_retried_then_given_up_and_counted(
    srv: EmulatorServer, ses: Any, receiver: Receiver
) -> None:
    receiver.statuses = [500, 503]  # the third attempt gets 200
    send(ses, f"delivered@{SIM}")
    assert srv.wait_callbacks(10)
    assert [e["event"] for e in receiver.events] == ["delivered"] * 3
    assert srv.outbox()[0]["events"][0] | {"payload": None} == {
        "event": "delivered", "timestamp": T0, "status": "sent", "attempts": 3, "error": None,
        "payload": None,
    }  # fmt: skip
    receiver.statuses = [500] * 3
    send(ses, f"delivered@{SIM}")
    assert srv.wait_callbacks(10)
    last = srv.outbox()[1]["events"][0]
    assert (last["status"], last["attempts"], last["error"]) == ("failed", 3, "HTTP 500")
    status = srv.callback_status()
    assert (status["sent"], status["failed"], status["last_error"]) == (1, 1, "HTTP 500")


def test_an_unreachable_url_breaks_neither_sends_nor_the_emulator(
    srv: EmulatorServer, ses: Any
) -> None:
    with socket.socket() as unused:  # bound, never listening: connections are refused
        unused.bind(("127.0.0.1", 0))
        srv.set_callback_url(f"http://127.0.0.1:{unused.getsockname()[1]}/cb")
        first = send(ses, f"click@{SIM}")
        second = send(ses, "dana@example.org")
        assert first != second
        assert srv.wait_callbacks(20)
    status = srv.callback_status()
    assert (status["sent"], status["failed"], status["pending"]) == (0, 4, 0)
    assert "ConnectionRefusedError" in status["last_error"]
    assert {e["status"] for m in srv.outbox() for e in m["events"]} == {"failed"}
    assert call(ses, "ListEmailAddress", {})["EmailSenders"]


def test_the_control_call_sets_and_clears_the_url(
    srv: EmulatorServer, ses: Any, receiver: Receiver
) -> None:
    assert control(srv, "POST", "/_emulator/callbacks", {"url": None})[1]["url"] is None
    send(ses, "dana@example.org")
    assert control(srv, "POST", "/_emulator/callbacks/flush", {})[1]["drained"] is True
    assert receiver.events == []
    assert srv.outbox()[0]["events"][0]["status"] == "skipped"

    status, body = control(srv, "POST", "/_emulator/callbacks", {"url": receiver.url})
    assert (status, body["url"], body["pending"]) == (200, receiver.url, 0)
    send(ses, f"open@{SIM}")
    status, body = control(srv, "POST", "/_emulator/callbacks/flush", {"timeout": 10})
    assert (status, body["drained"], body["sent"], body["pending"]) == (200, True, 2, 0)
    assert [e["event"] for e in receiver.events] == ["delivered", "open"]
    assert control(srv, "GET", "/_emulator/callbacks")[1]["sent"] == 2

    control(srv, "POST", "/_emulator/reset")  # keeps the URL, clears the counters
    assert control(srv, "GET", "/_emulator/callbacks")[1] == {
        "url": receiver.url, "sent": 0, "failed": 0, "pending": 0, "last_error": None
    }  # fmt: skip
    assert control(srv, "POST", "/_emulator/callbacks", {"url": ""})[1]["url"] is None


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"url": "ftp://127.0.0.1/x"}, "must start with http:// or https://"),
        ({"url": "127.0.0.1:8080/x"}, "must start with http:// or https://"),
        ({"url": "http:///x"}, "names no host"),
        ({"url": "http://127.0.0.1:99999/"}, "port"),
        ({"url": "http://a b/"}, "spaces"),
        ({"url": 5}, "must be a string"),
        ({"address": "http://x/"}, '{"url": "http://..."}'),
    ],
)
def test_the_control_call_refuses_a_bad_url(
    srv: EmulatorServer, receiver: Receiver, payload: object, message: str
) -> None:
    status, body = control(srv, "POST", "/_emulator/callbacks", payload)
    assert status == 400
    assert message in body["error"]
    assert srv.callback_status()["url"] == receiver.url  # unchanged


def test_a_bad_url_is_refused_at_construction() -> None:
    with pytest.raises(ValueError, match="http:// or https://"):
        EmulatorServer(callback_url="file:///etc/passwd")


def test_the_cli_flag_posts_to_the_url(receiver: Receiver) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "lib")}
    cmd = [sys.executable, "-m", "sesrelay", "emulator", "--port", "0"]
    proc = subprocess.Popen(
        [*cmd, "--callback-url", receiver.url],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=ROOT,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.fullmatch(r"listening on http://(127\.0\.0\.1:\d+)\n", line)
        assert match, line
        client = client_for(match.group(1))
        message_id = send(client, f"soft-bounce@{SIM}")
        client.request.conn._session.close()
        flush = urllib.request.Request(
            f"http://{match.group(1)}/_emulator/callbacks/flush", data=b"{}", method="POST"
        )
        with urllib.request.urlopen(flush, timeout=10) as resp:
            assert json.loads(resp.read())["drained"] is True
    finally:
        proc.terminate()
        proc.communicate(timeout=10)
    assert [(e["event"], e["bounceType"], e["bulkId"]) for e in receiver.events] == [
        ("bounce", "soft_bounce", message_id)
    ]
    bad = subprocess.run(
        [*cmd, "--callback-url", "ftp://127.0.0.1/x"],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=60,
    )  # fmt: skip
    assert bad.returncode != 0
    assert "--callback-url: the callback url must start with http:// or https://" in bad.stderr
