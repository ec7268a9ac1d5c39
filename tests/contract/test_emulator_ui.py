"""What the emulator's inbox page reads and serves, over real HTTP: the JSON under `/_emulator/`
(inbox, one mail, tasks, receivers, templates), the page and its files, each mail's HTML as a
sandboxed document, attachment downloads, and the banners that name the page's URL. The page
itself, in a browser, is tested in tests/browser."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from sesrelay.clock import ManualClock
from sesrelay.emulator import EmulatorServer
from sesrelay.emulator.rawclient import call
from sesrelay.emulator.ui import views
from tests.callback_gate import gated_callbacks
from tests.e2e.test_serve import start_serve, stop

START = datetime(2026, 1, 5, 1, 0, 0, tzinfo=timezone.utc)
LIB = str(Path(__file__).resolve().parents[2] / "lib")
WELCOME = {"TemplateID": 100001, "TemplateData": '{"name": "Ana"}'}
MAIL = {"FromEmailAddress": "noreply@example.com", "Subject": "Hi {{name}}", "Template": WELCOME}
BATCH = {
    "FromEmailAddress": "noreply@example.com",
    "ReceiverId": 200001,
    "Template": {"TemplateData": '{"name": "friend"}', "TemplateID": 100001},
    "Subject": "Welcome, {{name}}",
    "TaskType": 1,
}


@pytest.fixture
def srv() -> Iterator[EmulatorServer]:
    with EmulatorServer(clock=ManualClock(START), rate_limit=None) as server:
        yield server


def get(srv: EmulatorServer, path: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(
        srv.url + path, method=method, data=b"" if method != "GET" else None
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        with err:
            return err.code, dict(err.headers), err.read()


def get_json(srv: EmulatorServer, path: str) -> Any:
    status, headers, body = get(srv, path)
    assert (status, headers["Content-Type"]) == (200, "application/json"), body
    return json.loads(body)


def send(srv: EmulatorServer, to: str, subject: str = "Hi {{name}}", **extra: Any) -> str:
    params = {**MAIL, "Destination": [to], "Subject": subject, **extra}
    reply = call(srv.endpoint, "SendEmail", params).json()["Response"]
    assert "MessageId" in reply, reply
    return str(reply["MessageId"])


# -- GET /_emulator/inbox ---------------------------------------------------------------------


def test_the_inbox_lists_mail_newest_first_as_summaries(srv: EmulatorServer) -> None:
    first = send(srv, "ana@example.org")
    task = call(srv.endpoint, "BatchSendEmail", BATCH).json()["Response"]["TaskId"]
    inbox = get_json(srv, "/_emulator/inbox")
    assert (inbox["changed"], inbox["total"], inbox["matched"]) == (True, 4, 4)
    assert [m["id"] for m in inbox["mails"]] == [3, 2, 1, 0]
    assert [m["task_id"] for m in inbox["mails"]] == [task, task, task, None]
    assert inbox["mails"][-1] == {
        "id": 0,
        "sent_at": "2026-01-05T01:00:00+00:00",
        "from": "noreply@example.com",
        "to": "ana@example.org",
        "subject": "Hi Ana",
        "message_id": first,
        "task_id": None,
        "action": "SendEmail",
        "template_id": 100001,
        "attachments": 0,
        "events": [{"event": "delivered", "status": "skipped"}],
    }


def test_the_inbox_searches_recipient_and_subject_ignoring_case(srv: EmulatorServer) -> None:
    send(srv, "ana@example.org", "Invoice {{name}}")
    send(srv, "ben@example.org", "Welcome {{name}}")
    send(srv, "Carla@Example.org", "Welcome back {{name}}")

    def found(q: str) -> list[str]:
        inbox = get_json(srv, f"/_emulator/inbox?q={quote(q)}")
        assert inbox["total"] == 3
        assert inbox["matched"] == len(inbox["mails"])
        return [m["to"] for m in inbox["mails"]]

    assert found("BEN@") == ["ben@example.org"]
    assert found("welcome") == ["Carla@Example.org", "ben@example.org"]
    assert found("carla@example") == ["Carla@Example.org"]
    assert found("invoice ana") == ["ana@example.org"]
    assert found("nobody") == []
    assert found("") == ["Carla@Example.org", "ben@example.org", "ana@example.org"]


def test_the_inbox_lists_at_most_the_newest_500(srv: EmulatorServer) -> None:
    for n in range(views.MAX_LISTED // 50 + 1):  # 50 recipients per SendEmail
        params = {**MAIL, "Destination": [f"r{n}-{k}@example.org" for k in range(50)]}
        call(srv.endpoint, "SendEmail", params)
    inbox = get_json(srv, "/_emulator/inbox")
    assert (inbox["total"], inbox["matched"], len(inbox["mails"])) == (550, 550, 500)
    assert inbox["mails"][0]["id"] == 549
    assert inbox["mails"][-1]["id"] == 50


def test_the_version_changes_with_new_mail_settled_callbacks_and_resets(
    srv: EmulatorServer,
) -> None:
    with gated_callbacks(srv) as receiver:
        empty = get_json(srv, "/_emulator/inbox")["version"]
        assert get_json(srv, f"/_emulator/inbox?version={empty}") == {
            "version": empty,
            "changed": False,
        }
        send(srv, "delivered@simulator.sesrelay.test")
        posting = get_json(srv, f"/_emulator/inbox?version={empty}")
        assert posting["changed"] is True
        assert posting["mails"][0]["events"] == [{"event": "delivered", "status": "pending"}]
        assert get_json(srv, f"/_emulator/inbox?version={posting['version']}")["changed"] is False

        receiver.gate.set()
        assert srv.wait_callbacks(5)
        posted = get_json(srv, f"/_emulator/inbox?version={posting['version']}")
        assert posted["changed"] is True
        assert posted["mails"][0]["events"] == [{"event": "delivered", "status": "sent"}]
    srv.reset()
    after = get_json(srv, f"/_emulator/inbox?version={posted['version']}")
    assert (after["changed"], after["total"], after["mails"]) == (True, 0, [])


# -- GET /_emulator/inbox/<id> ----------------------------------------------------------------


def test_one_mail_is_the_outbox_entry(srv: EmulatorServer) -> None:
    send(srv, "ana@example.org")
    send(srv, "ben@example.org")
    assert get_json(srv, "/_emulator/inbox/1") == {
        "id": 1,
        "mail": srv.outbox()[1],
        "downloads": True,  # no attachments: all (none) of them can be downloaded
    }
    assert get_json(srv, "/_emulator/inbox/1/")["mail"]["to"] == "ben@example.org"


@pytest.mark.parametrize(
    ("path", "status", "error"),
    [
        ("/_emulator/inbox/2", 404, "no mail '2': ids are 0 to 1 (a reset empties the outbox)"),
        ("/_emulator/inbox/-1", 404, "no mail '-1': ids are 0 to 1 (a reset empties the outbox)"),
        ("/_emulator/inbox/abc", 404, "no mail 'abc': ids are 0 to 1 (a reset empties the outbox)"),
        ("/_emulator/inbox/nothing/else", 404, "no mail 'nothing/else': ids are 0 to 1 (a reset"),
    ],
)
def test_a_missing_mail_is_404_naming_the_ids(
    srv: EmulatorServer, path: str, status: int, error: str
) -> None:
    send(srv, "ana@example.org")
    send(srv, "ben@example.org")
    got, _, body = get(srv, path)
    assert got == status
    assert json.loads(body)["error"].startswith(error)


def test_an_empty_outbox_says_so(srv: EmulatorServer) -> None:
    status, _, body = get(srv, "/_emulator/inbox/0")
    assert (status, json.loads(body)) == (404, {"error": "no mail: the outbox is empty"})


@pytest.mark.parametrize(
    "path",
    ["/_emulator/inbox", "/_emulator/inbox/0", "/_emulator/tasks", "/_emulator/receivers"],
)
def test_the_views_accept_only_get(srv: EmulatorServer, path: str) -> None:
    status, headers, body = get(srv, path, method="POST")
    assert (status, headers["Allow"]) == (405, "GET")
    assert json.loads(body) == {"error": f"{path} accepts GET"}


# -- tasks, receivers, templates: as SES's own List/Get actions answer ----------------------------


def test_tasks_are_listed_as_list_send_tasks_answers(srv: EmulatorServer) -> None:
    assert get_json(srv, "/_emulator/tasks") == {"tasks": []}
    first = call(srv.endpoint, "BatchSendEmail", BATCH).json()["Response"]["TaskId"]
    second = call(srv.endpoint, "BatchSendEmail", BATCH).json()["Response"]["TaskId"]
    tasks = get_json(srv, "/_emulator/tasks")["tasks"]
    listed = call(srv.endpoint, "ListSendTasks", {"Offset": 0, "Limit": 100}).json()["Response"]
    assert tasks == listed["Data"]
    assert [t["TaskId"] for t in tasks] == [second, first]
    assert (tasks[0]["TaskStatus"], tasks[0]["SendCount"]) == (10, 3)


def test_receivers_are_listed_with_their_rows(srv: EmulatorServer) -> None:
    new = call(srv.endpoint, "CreateReceiver", {"ReceiversName": "vip"}).json()["Response"]
    rows = [{"Email": "dora@example.org", "TemplateData": '{"name": "Dora"}'}]
    call(
        srv.endpoint,
        "CreateReceiverDetailWithData",
        {"ReceiverId": new["ReceiverId"], "Datas": rows},
    )
    groups = get_json(srv, "/_emulator/receivers")["receivers"]
    assert [(g["ReceiversName"], g["Count"]) for g in groups] == [("vip", 1), ("demo-customers", 3)]
    assert [m["Email"] for m in groups[1]["Members"]] == [
        "ana@example.org",
        "ben@example.org",
        "chen@example.org",
    ]
    assert groups[0]["Members"][0]["TemplateData"] == '{"name": "Dora"}'


def test_templates_are_listed_with_their_content_and_variables(srv: EmulatorServer) -> None:
    templates = {t["TemplateID"]: t for t in get_json(srv, "/_emulator/templates")["templates"]}
    welcome = templates[100001]
    assert welcome["TemplateName"] == "welcome"
    assert welcome["TemplateStatus"] == 0
    assert welcome["Html"] == "<p>Hello {{name}}, welcome aboard.</p>"
    assert welcome["Text"] == "Hello {{name}}, welcome aboard."
    assert welcome["Variables"] == ["name"]
    assert templates[100002]["Variables"] == ["date", "week"]


# -- the page, its files, a mail's HTML, attachments ----------------------------------------------


def test_the_page_and_its_files_are_served_with_a_strict_policy(srv: EmulatorServer) -> None:
    for path, kind in [
        ("/_emulator/ui", "text/html; charset=utf-8"),
        ("/_emulator/ui/", "text/html; charset=utf-8"),
        ("/_emulator/ui/inbox.js", "text/javascript; charset=utf-8"),
        ("/_emulator/ui/inbox.css", "text/css; charset=utf-8"),
    ]:
        status, headers, body = get(srv, path)
        assert (status, headers["Content-Type"]) == (200, kind), path
        assert headers["Content-Security-Policy"].startswith(
            "default-src 'none'; script-src 'self'"
        )
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert body
    page = get(srv, "/_emulator/ui")[2].decode()
    assert '<script src="/_emulator/ui/inbox.js" defer></script>' in page
    assert '<iframe id="m-html" sandbox=""' in page
    assert "http://" not in page  # nothing from elsewhere: it works offline
    assert "https://" not in page
    script = get(srv, "/_emulator/ui/inbox.js")[2].decode()
    assert "innerHTML" not in script
    assert "eval(" not in script


def test_a_mails_html_is_served_sandboxed(srv: EmulatorServer) -> None:
    hostile = '{"name": "<script>alert(1)</script>"}'
    send(srv, "ana@example.org", Template={"TemplateID": 100001, "TemplateData": hostile})
    status, headers, body = get(srv, "/_emulator/ui/mail/0.html")
    assert status == 200
    assert body.decode() == "<p>Hello <script>alert(1)</script>, welcome aboard.</p>"
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    policy = [part.strip() for part in headers["Content-Security-Policy"].split(";")]
    assert {"sandbox", "default-src 'none'", "img-src data:"} <= set(policy)
    assert not [p for p in policy if p.startswith("script-src")]
    assert get(srv, "/_emulator/ui/mail/1.html")[0] == 404


def test_attachments_are_named_with_their_size_and_downloads_say_what_was_kept(
    srv: EmulatorServer,
) -> None:
    files = [{"FileName": "report 1.txt", "Content": "aGVsbG8="}]  # "hello"
    send(srv, "ana@example.org", Attachments=files)
    one = get_json(srv, "/_emulator/inbox/0")
    assert one["mail"]["attachments"] == [{"file_name": "report 1.txt", "size": 5}]
    assert get_json(srv, "/_emulator/inbox")["mails"][0]["attachments"] == 1
    status, headers, body = get(srv, "/_emulator/ui/mail/0/attachments/0")
    assert one["downloads"] is (status == 200)
    if status == 200:  # the SES emulator keeps attachment content
        assert body == b"hello"
        assert headers["Content-Disposition"] == (
            "attachment; filename=\"report 1.txt\"; filename*=UTF-8''report%201.txt"
        )
    else:
        assert json.loads(body) == {
            "error": "the emulator kept the name and size of 'report 1.txt', not its content"
        }
    status, _, body = get(srv, "/_emulator/ui/mail/0/attachments/1")
    assert (status, json.loads(body)) == (404, {"error": "mail 0 has 1 attachment(s)"})


def test_kept_attachment_content_downloads_under_its_name(srv: EmulatorServer) -> None:
    files = [
        {"FileName": "résumé 1.pdf", "Content": "JVBERi0="},
        {"FileName": "b", "Content": "eA=="},
    ]
    send(srv, "ana@example.org", Attachments=files)
    # What the inbox reads when the SES emulator keeps the content beside the names and sizes.
    setattr(srv.ses.state.outbox[0], "attachment_data", [b"%PDF-", b"x"])  # noqa: B010
    assert get_json(srv, "/_emulator/inbox/0")["downloads"] is True
    status, headers, body = get(srv, "/_emulator/ui/mail/0/attachments/0")
    assert (status, body) == (200, b"%PDF-")
    assert headers["Content-Type"] == "application/octet-stream"
    assert headers["Content-Disposition"] == (
        "attachment; filename=\"r_sum_ 1.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9%201.pdf"
    )
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert get(srv, "/_emulator/ui/mail/0/attachments/1")[2] == b"x"


def test_unknown_pages_and_other_methods(srv: EmulatorServer) -> None:
    status, _, body = get(srv, "/_emulator/ui/nothing")
    assert status == 404
    assert json.loads(body) == {
        "error": "no inbox page '/_emulator/ui/nothing'; the inbox is at /_emulator/ui"
    }
    status, headers, _ = get(srv, "/_emulator/ui", method="POST")
    assert (status, headers["Allow"]) == (405, "GET")


# -- the banners ------------------------------------------------------------------------------


def test_sesrelay_emulator_names_the_inbox_after_the_listening_line() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "sesrelay", "emulator", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={"PYTHONPATH": LIB, "PATH": "/usr/bin:/bin"},
    )
    try:
        assert proc.stdout is not None
        listening = proc.stdout.readline().strip()
        inbox = proc.stdout.readline().strip()
        assert listening.startswith("listening on http://127.0.0.1:"), listening
        assert inbox == f"inbox: {listening.removeprefix('listening on ')}/_emulator/ui"
        url = inbox.removeprefix("inbox: ")
        with urllib.request.urlopen(url, timeout=5) as resp:
            assert b"<title>Inbox" in resp.read()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()


def test_sesrelay_serve_names_the_embedded_emulators_inbox(tmp_path: Path) -> None:
    served = start_serve(tmp_path)
    try:
        emulator = served.field("SES: embedded emulator at")
        assert served.field("inbox:") == f"{emulator}/_emulator/ui"
        outbox = served.banner.index(f"outbox: {emulator}/_emulator/outbox")
        assert served.banner[outbox + 1] == f"inbox: {emulator}/_emulator/ui"
        with urllib.request.urlopen(served.field("inbox:"), timeout=5) as resp:
            assert resp.headers["Content-Type"] == "text/html; charset=utf-8"
    finally:
        stop(served)
