"""SendEmail and GetSendEmailStatus on the emulator, driven by the official SDK."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from sesrelay.clock import ManualClock
from sesrelay.emulator import EmulatorServer, load_seed
from tests.ses_sdk import call, code, ses_sdk_client

# 09:00:00 on 2026-01-05 in UTC+8, the zone SES dates and MessageIds use
START = datetime(2026, 1, 5, 1, 0, 0, tzinfo=timezone.utc)
WELCOME = {"TemplateID": 100001, "TemplateData": '{"name": "Dana"}'}
BASE = {
    "FromEmailAddress": "noreply@example.com",
    "Subject": "Hello {{name}}",
    "Destination": ["dana@example.org"],
    "Template": WELCOME,
}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def srv(clock: ManualClock) -> Iterator[EmulatorServer]:
    with EmulatorServer(clock=clock) as server:
        yield server


def _client(srv: EmulatorServer) -> Any:
    return ses_sdk_client(srv.endpoint)


@pytest.fixture
def ses(srv: EmulatorServer) -> Iterator[Any]:
    client = _client(srv)
    yield client
    client.request.conn._session.close()  # the SDK never closes its requests.Session


def test_send_email_delivers_one_rendered_entry_per_recipient(
    srv: EmulatorServer, ses: Any
) -> None:
    attachment = {"FileName": "a.txt", "Content": base64.b64encode(b"hello").decode()}
    out = call(
        ses,
        "SendEmail",
        {
            **BASE,
            "FromEmailAddress": "Example Team <noreply@example.com>",
            "Destination": ["dana@example.org", "eve@example.org"],
            "Cc": ["carl@example.org"],
            "Bcc": ["bob@example.org"],
            "ReplyToAddresses": "help@example.com",
            "Attachments": [attachment],
            "Unsubscribe": "2",
            "TriggerType": 1,
        },
    )
    message_id = out["MessageId"]
    assert re.fullmatch(r"qcloudses-30-1300000000-date-20260105090000-[A-Za-z0-9]{12}", message_id)
    mail = srv.outbox()
    assert [m["to"] for m in mail] == [
        "dana@example.org",
        "eve@example.org",
        "carl@example.org",
        "bob@example.org",
    ]
    assert {m["message_id"] for m in mail} == {message_id}
    # No callback URL: the simulator's events are listed, not posted.
    assert [(e["event"], e["status"]) for e in mail[0].pop("events")] == [("delivered", "skipped")]
    assert mail[0] == {
        "message_id": message_id,
        "task_id": None,
        "action": "SendEmail",
        "from": "Example Team <noreply@example.com>",
        "to": "dana@example.org",
        "cc": ["carl@example.org"],
        "bcc": ["bob@example.org"],
        "reply_to": "help@example.com",
        "subject": "Hello Dana",
        "html": "<p>Hello Dana, welcome aboard.</p>",
        "text": "Hello Dana, welcome aboard.",
        "template_id": 100001,
        "template_data": {"name": "Dana"},
        "attachments": [{"file_name": "a.txt", "size": 5}],
        "unsubscribe": "2",
        "sent_at": "2026-01-05T01:00:00+00:00",
    }
    assert srv.outbox(to="CARL@example.org")[0]["cc"] == ["carl@example.org"]
    assert srv.outbox(message_id="nope") == []


def test_template_variables_render_numbers_and_extra_data(srv: EmulatorServer, ses: Any) -> None:
    data = {"week": 2, "date": "2026-01-11", "unused": True}
    call(
        ses,
        "SendEmail",
        {
            **BASE,
            "Subject": "Week {{week}}",
            "Template": {"TemplateID": 100002, "TemplateData": json.dumps(data)},
        },
    )
    (mail,) = srv.outbox()
    assert mail["subject"] == "Week 2"
    assert mail["text"] == "Week 2: everything that happened up to 2026-01-11."


def _many(n: int) -> list[str]:
    return [f"user{i}@example.org" for i in range(n)]


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ({"FromEmailAddress": "Team<noreply@example.com>"}, "FailedOperation.IncorrectSender"),
        ({"FromEmailAddress": "Te:am <noreply@example.com>"}, "FailedOperation.IncorrectSender"),
        ({"FromEmailAddress": "noreply"}, "FailedOperation.IncorrectSender"),
        ({"FromEmailAddress": "else@example.com"}, "FailedOperation.NotAuthenticatedSender"),
        ({"FromEmailAddress": "noreply@other.test"}, "FailedOperation.NotAuthenticatedSender"),
        # SubjectLengthError, TemplateNotMatchData and RepeatEmailAddress are not documented for
        # SendEmail: the common InvalidParameterValue (docs/emulator-error-codes.md)
        ({"Subject": ""}, "InvalidParameterValue"),
        ({"Subject": "x" * 101}, "InvalidParameterValue"),
        ({"Destination": _many(51)}, "FailedOperation.TooManyRecipients"),
        ({"Cc": _many(21)}, "FailedOperation.TooManyRecipients"),
        ({"Bcc": _many(21)}, "FailedOperation.TooManyRecipients"),
        ({"Destination": []}, "InvalidParameterValue.EmailAddressIsNULL"),
        ({"Destination": [""]}, "InvalidParameterValue.EmailAddressIsNULL"),
        ({"Destination": ["not-an-address"]}, "FailedOperation.IncorrectEmail"),
        ({"Bcc": ["dana@example.org"]}, "InvalidParameterValue"),
        ({"Cc": ["blocked@example.org"]}, "FailedOperation.EmailAddrInBlacklist"),
        ({"Template": None}, "FailedOperation.MissingEmailContent"),
        ({"Template": {"TemplateID": 100001}}, "MissingParameter"),  # TemplateData is required
        ({"Template": {**WELCOME, "TemplateData": ""}}, "FailedOperation.MissingEmailContent"),
        ({"Template": {**WELCOME, "TemplateID": 999}}, "FailedOperation.InvalidTemplateID"),
        ({"Template": {**WELCOME, "TemplateID": 100003}}, "FailedOperation.InvalidTemplateID"),
        (
            {"Template": {**WELCOME, "TemplateData": "name=Dana"}},
            "FailedOperation.WrongContentJson",
        ),
        ({"Template": {**WELCOME, "TemplateData": '["Dana"]'}}, "FailedOperation.WrongContentJson"),
        (
            {"Template": {**WELCOME, "TemplateData": '{"name": {"first": "D"}}'}},
            "FailedOperation.WrongContentJson",
        ),
        ({"Template": {**WELCOME, "TemplateData": '{"nom": "Dana"}'}}, "InvalidParameterValue"),
        ({"Subject": "Hi {{nickname}}"}, "InvalidParameterValue"),
        ({"Simple": {"Html": "PHA+aGk8L3A+"}}, "FailedOperation.WithOutPermission"),
        (
            {"Attachments": [{"FileName": f"{i}.txt", "Content": "aGk="} for i in range(11)]},
            "FailedOperation.TooManyAttachments",
        ),
        (
            {"Attachments": [{"FileName": "a.txt", "Content": "not base64!"}]},
            "InvalidParameterValue.AttachContentIsWrong",
        ),
        ({"Unsubscribe": "13"}, "InvalidParameterValue"),
        ({"TriggerType": 2}, "InvalidParameterValue"),
        ({"ReplyToAddresses": "nobody"}, "FailedOperation.IncorrectEmail"),
    ],
)
def test_send_email_errors(
    srv: EmulatorServer, ses: Any, override: dict[str, Any], expected: str
) -> None:
    params = {k: v for k, v in {**BASE, **override}.items() if v is not None}
    assert code(ses, "SendEmail", params) == expected
    assert srv.outbox() == []


def test_missing_required_field(ses: Any) -> None:
    assert code(ses, "SendEmail", {**BASE, "Subject": None}) == "MissingParameter"


def test_custom_blacklist_blocks_sending(ses: Any) -> None:
    call(ses, "CreateCustomBlacklist", {"Emails": ["dana@example.org"]})
    assert code(ses, "SendEmail", BASE) == "FailedOperation.EmailAddrInBlacklist"


def test_simple_content_with_permission(tmp_path: Path, clock: ManualClock) -> None:
    seed = load_seed().model_dump(mode="json") | {"allow_simple": True}
    (tmp_path / "seed.json").write_text(json.dumps(seed))
    with EmulatorServer(seed_path=tmp_path / "seed.json", clock=clock) as srv:
        client = _client(srv)
        html = base64.b64encode("<p>Grüße</p>".encode()).decode()
        params = {**BASE, "Template": None, "Simple": {"Html": html}}
        call(client, "SendEmail", {k: v for k, v in params.items() if v is not None})
        bad = {k: v for k, v in params.items() if v is not None} | {"Simple": {"Html": "%%"}}
        assert code(client, "SendEmail", bad) == "InvalidParameterValue.EmailContentIsWrong"
        client.request.conn._session.close()
        (mail,) = srv.outbox()
        assert (mail["html"], mail["text"], mail["template_id"]) == ("<p>Grüße</p>", "", None)


def _status(ses: Any, **params: Any) -> list[dict[str, Any]]:
    query = {"RequestDate": "2026-01-05", "Offset": 0, "Limit": 100, **params}
    result: list[dict[str, Any]] = call(ses, "GetSendEmailStatus", query)["EmailStatusList"]
    return result


def test_get_send_email_status_reads_the_outbox(
    srv: EmulatorServer, ses: Any, clock: ManualClock
) -> None:
    first = call(ses, "SendEmail", {**BASE, "Cc": ["carl@example.org"]})["MessageId"]
    clock.advance(60)
    second = call(ses, "SendEmail", BASE)["MessageId"]
    statuses = _status(ses)
    assert [(s["MessageId"], s["ToEmailAddress"]) for s in statuses] == [
        (first, "dana@example.org"),
        (first, "carl@example.org"),
        (second, "dana@example.org"),
    ]
    assert statuses[0] | {"MessageId": None} == {
        "MessageId": None,
        "ToEmailAddress": "dana@example.org",
        "FromEmailAddress": "noreply@example.com",
        "SendStatus": 0,
        "DeliverStatus": 1,
        "DeliverMessage": "",
        "RequestTime": int(START.timestamp()),
        "DeliverTime": int(START.timestamp()),
        "UserOpened": False,
        "UserClicked": False,
        "UserUnsubscribed": False,
        "UserComplainted": False,
        "UserComplained": False,
    }
    assert len(_status(ses, MessageId=second)) == 1
    assert len(_status(ses, ToEmailAddress="carl@example.org")) == 1
    assert len(_status(ses, Offset=1, Limit=1)) == 1
    assert _status(ses, RequestDate="2026-01-04") == []


def test_status_dates_are_utc_plus_8() -> None:
    with EmulatorServer(
        clock=ManualClock(datetime(2026, 1, 4, 17, 30, tzinfo=timezone.utc))
    ) as srv:
        client = _client(srv)
        call(client, "SendEmail", BASE)  # 01:30 on 2026-01-05 in UTC+8
        assert len(_status(client)) == 1
        assert _status(client, RequestDate="2026-01-04") == []
        client.request.conn._session.close()


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"RequestDate": "2026/01/05"}, "InvalidParameterValue.WrongDate"),
        ({"RequestDate": "2025-11-01"}, "FailedOperation.NotSupportDate"),
        ({"RequestDate": "2026-01-06"}, "FailedOperation.NotSupportDate"),
        ({"Limit": 101}, "FailedOperation.InvalidLimit"),
    ],
)
def test_get_send_email_status_errors(ses: Any, params: dict[str, Any], expected: str) -> None:
    query = {"RequestDate": "2026-01-05", "Offset": 0, "Limit": 10, **params}
    assert code(ses, "GetSendEmailStatus", query) == expected
