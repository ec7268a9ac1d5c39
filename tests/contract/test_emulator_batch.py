"""BatchSendEmail tasks (immediate, scheduled, recurring) and ListSendTasks, through the SDK."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest

from sesrelay.clock import ManualClock
from sesrelay.emulator import EmulatorServer
from tests.ses_sdk import call, code, ses_sdk_client

TEMPLATE_NOT_MATCH = "InvalidParameterValue.TemplateNotMatchData"
START = datetime(2026, 1, 5, 1, 0, 0, tzinfo=timezone.utc)  # 09:00 in UTC+8
DEMO = ["ana@example.org", "ben@example.org", "chen@example.org"]
# The request from the issue, verbatim.
SAMPLE = {
    "FromEmailAddress": "noreply@example.com",
    "ReplyToAddresses": "noreply@example.com",
    "ReceiverId": 200001,
    "Template": {"TemplateData": '{"name":"123"}', "TemplateID": 100001},
    "Subject": "Email subject",
    "TaskType": 1,
    "ADLocation": 0,
}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def srv(clock: ManualClock) -> Iterator[EmulatorServer]:
    with EmulatorServer(clock=clock) as server:
        yield server


@pytest.fixture
def ses(srv: EmulatorServer) -> Iterator[Any]:
    client = ses_sdk_client(srv.endpoint)
    yield client
    client.request.conn._session.close()  # the SDK never closes its requests.Session


def tasks(client: Any, **filters: Any) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = call(
        client, "ListSendTasks", {"Offset": 0, "Limit": 100, **filters}
    )["Data"]
    return data


def new_list(client: Any, srv: EmulatorServer, rows: list[dict[str, Any]] | None = None) -> int:
    receiver_id = int(call(client, "CreateReceiver", {"ReceiversName": "data-list"})["ReceiverId"])
    if rows is not None:
        datas = [{"Email": r["email"], "TemplateData": json.dumps(r["data"])} for r in rows]
        call(client, "CreateReceiverDetailWithData", {"ReceiverId": receiver_id, "Datas": datas})
        srv.advance(1)  # the upload completes after upload_seconds of business time
    return receiver_id


def test_issue_sample_sends_to_every_member(srv: EmulatorServer, ses: Any) -> None:
    task_id = call(ses, "BatchSendEmail", SAMPLE)["TaskId"]
    mail = srv.outbox(task_id=task_id)
    assert [m["to"] for m in mail] == DEMO
    assert {m["subject"] for m in mail} == {"Email subject"}
    assert {m["html"] for m in mail} == {"<p>Hello 123, welcome aboard.</p>"}
    assert mail[0]["action"] == "BatchSendEmail"
    assert mail[0]["reply_to"] == "noreply@example.com"
    assert mail[0]["template_data"] == {"name": "123"}
    assert len({m["message_id"] for m in mail}) == 3
    (task,) = tasks(ses)
    assert task | {"CreateTime": None, "UpdateTime": None} == {
        "TaskId": task_id,
        "FromEmailAddress": "noreply@example.com",
        "ReceiverId": 200001,
        "TaskStatus": 10,
        "TaskType": 1,
        "RequestCount": 3,
        "SendCount": 3,
        "CacheCount": 0,
        "CreateTime": None,
        "UpdateTime": None,
        "Subject": "Email subject",
        "Template": {"TemplateID": 100001, "TemplateData": '{"name":"123"}'},
        "CycleParam": None,
        "TimedParam": None,
        "ErrMsg": "",
        "ReceiversName": "demo-customers",
    }
    assert task["CreateTime"] == "2026-01-05 09:00:00"


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        # IncorrectSender and WithOutPermission are documented for SendEmail only
        ({"FromEmailAddress": "Team<noreply@example.com>"}, "InvalidParameterValue"),
        ({"FromEmailAddress": "else@example.com"}, "OperationDenied.SendAddressStatusError"),
        ({"Subject": "x" * 101}, "InvalidParameterValue.SubjectLengthError"),
        ({"Subject": None}, "MissingParameter.SendParamNecessary"),
        ({"ReceiverId": None}, "MissingParameter.SendParamNecessary"),
        ({"FromEmailAddress": None}, "MissingParameter.SendParamNecessary"),
        ({"TaskType": 4}, "InvalidParameterValue"),
        ({"TaskType": 2}, "MissingParameter.TimedParamNecessary"),
        ({"TaskType": 3}, "MissingParameter.CycleParamNecessary"),
        (
            {"TaskType": 2, "TimedParam": {"BeginTime": "2026-01-05 08:59:59"}},
            "InvalidParameterValue.BeginTimeBeforeNow",
        ),
        (
            {"TaskType": 3, "CycleParam": {"BeginTime": "2026-01-04 10:00:00", "IntervalTime": 1}},
            "InvalidParameterValue.BeginTimeBeforeNow",
        ),
        (
            {"TaskType": 2, "TimedParam": {"BeginTime": "2026-01-05T10:00:00"}},
            "InvalidParameterValue",
        ),
        (
            {"TaskType": 3, "CycleParam": {"BeginTime": "2026-01-05 10:00:00", "IntervalTime": 0}},
            "InvalidParameterValue",
        ),
        ({"ReceiverId": 999}, "OperationDenied.ReceiverNotExist"),
        (
            {"Template": {"TemplateID": 100003, "TemplateData": "{}"}},
            "OperationDenied.TemplateStatusError",
        ),
        (
            {"Template": {"TemplateID": 9, "TemplateData": "{}"}},
            "OperationDenied.TemplateStatusError",
        ),
        (
            {"Template": {"TemplateID": 100001, "TemplateData": "name"}},
            "InvalidParameterValue.TemplateDataError",
        ),
        (
            {"Template": {"TemplateID": 100001, "TemplateData": "{}"}},
            "InvalidParameterValue.TemplateNotMatchData",
        ),
        ({"Template": {"TemplateID": 100001, "TemplateData": ""}}, TEMPLATE_NOT_MATCH),
        ({"Template": {"TemplateID": 100001}}, "MissingParameter"),  # TemplateData is required
        ({"Template": None}, "MissingParameter.SendParamNecessary"),
        ({"Simple": {"Html": "aGk="}}, "FailedOperation"),
        ({"Attachments": [{"FileName": "a.txt", "Content": "aGk="}]}, "UnsupportedOperation"),
        ({"Unsubscribe": "99"}, "InvalidParameterValue"),
        ({"ADLocation": 3}, "InvalidParameterValue"),
    ],
)
def test_batch_send_email_errors(
    srv: EmulatorServer, ses: Any, override: dict[str, Any], expected: str
) -> None:
    assert code(ses, "BatchSendEmail", {**SAMPLE, **override}) == expected
    assert srv.outbox() == []
    assert tasks(ses) == []


def test_list_must_be_uploaded_and_not_empty(srv: EmulatorServer, ses: Any) -> None:
    receiver_id = new_list(ses, srv)
    params = {**SAMPLE, "ReceiverId": receiver_id}
    assert code(ses, "BatchSendEmail", params) == "OperationDenied.ReceiverStatusError"
    call(ses, "CreateReceiverDetail", {"ReceiverId": receiver_id, "Emails": ["x@example.org"]})
    assert code(ses, "BatchSendEmail", params) == "OperationDenied.ReceiverStatusError"  # uploading
    srv.advance(1)
    call(ses, "BatchSendEmail", params)
    assert [m["to"] for m in srv.outbox()] == ["x@example.org"]


def test_per_recipient_data_overrides_request_data(srv: EmulatorServer, ses: Any) -> None:
    rows = [
        {"email": "ana@example.org", "data": {"week": 1}},
        {"email": "ben@example.org", "data": {"week": 2}},
        {"email": "ana@example.org", "data": {"week": 3}},  # SES keeps duplicates
    ]
    receiver_id = new_list(ses, srv, rows)
    template = {"TemplateID": 100002, "TemplateData": json.dumps({"week": 0, "date": "Sunday"})}
    params = {**SAMPLE, "ReceiverId": receiver_id, "Template": template, "Subject": "W{{week}}"}
    call(ses, "BatchSendEmail", params)
    assert [(m["to"], m["subject"]) for m in srv.outbox()] == [
        ("ana@example.org", "W1"),
        ("ben@example.org", "W2"),
        ("ana@example.org", "W3"),
    ]
    assert srv.outbox()[1]["text"] == "Week 2: everything that happened up to Sunday."
    # the list's own data may be the only data; the template's other variable is then missing
    no_date = {**params, "Template": {"TemplateID": 100002, "TemplateData": "{}"}}
    assert code(ses, "BatchSendEmail", no_date) == "InvalidParameterValue.TemplateNotMatchData"


def test_blacklisted_members_are_skipped(srv: EmulatorServer, ses: Any) -> None:
    call(ses, "CreateCustomBlacklist", {"Emails": ["ben@example.org"]})
    call(ses, "BatchSendEmail", SAMPLE)
    assert [m["to"] for m in srv.outbox()] == ["ana@example.org", "chen@example.org"]
    (task,) = tasks(ses)
    assert (task["RequestCount"], task["SendCount"]) == (3, 2)


def test_scheduled_task_sends_when_the_clock_passes(
    srv: EmulatorServer, ses: Any, clock: ManualClock
) -> None:
    timed = {"BeginTime": "2026-01-05 10:00:00"}  # one hour after START, UTC+8
    task_id = call(ses, "BatchSendEmail", {**SAMPLE, "TaskType": 2, "TimedParam": timed})["TaskId"]
    assert srv.outbox() == []
    assert tasks(ses)[0]["TaskStatus"] == 1
    assert tasks(ses)[0]["TimedParam"] == timed
    clock.advance(3599)
    assert srv.outbox() == []
    clock.advance(1)  # the emulator notices on the next request or inspection
    assert tasks(ses, TaskType=2)[0]["TaskStatus"] == 10
    mail = srv.outbox(task_id=task_id)
    assert [m["to"] for m in mail] == DEMO
    assert {m["sent_at"] for m in mail} == {"2026-01-05T02:00:00+00:00"}


def test_recurring_task_repeats_every_interval(srv: EmulatorServer, ses: Any) -> None:
    cycle = {"BeginTime": "2026-01-05 10:00:00", "IntervalTime": 24}
    params = {**SAMPLE, "TaskType": 3, "CycleParam": cycle}
    task_id = call(ses, "BatchSendEmail", params)["TaskId"]
    srv.advance(3600)
    assert len(srv.outbox(task_id=task_id)) == 3
    assert tasks(ses)[0]["TaskStatus"] == 5
    srv.advance(24 * 3600 - 1)
    assert len(srv.outbox(task_id=task_id)) == 3
    srv.advance(1 + 48 * 3600)  # catches up every missed run, each stamped with its own time
    mail = srv.outbox(task_id=task_id, to="ana@example.org")
    assert [m["sent_at"][:13] for m in mail] == [
        "2026-01-05T02",
        "2026-01-06T02",
        "2026-01-07T02",
        "2026-01-08T02",
    ]
    (task,) = tasks(ses, Status=5)
    assert (task["RequestCount"], task["SendCount"]) == (12, 12)
    assert task["CycleParam"] == {**cycle, "TermCycle": None}


def test_recurring_task_with_term_cycle_runs_once(srv: EmulatorServer, ses: Any) -> None:
    cycle = {"BeginTime": "2026-01-05 09:00:00", "IntervalTime": 1, "TermCycle": 1}
    call(ses, "BatchSendEmail", {**SAMPLE, "TaskType": 3, "CycleParam": cycle})
    srv.advance(5 * 3600)
    assert len(srv.outbox()) == 3
    assert tasks(ses)[0]["TaskStatus"] == 10


@pytest.mark.parametrize("hours", [10**8, 3 * 10**10])
def test_a_recurrence_past_the_calendar_runs_once_and_the_emulator_keeps_working(
    srv: EmulatorServer, ses: Any, hours: int
) -> None:
    cycle = {"BeginTime": "2026-01-05 10:00:00", "IntervalTime": hours}
    task_id = call(ses, "BatchSendEmail", {**SAMPLE, "TaskType": 3, "CycleParam": cycle})["TaskId"]
    srv.advance(3600)
    assert len(srv.outbox(task_id=task_id)) == 3
    assert tasks(ses)[0]["TaskStatus"] == 10  # no date exists for a second run
    assert call(ses, "ListEmailAddress", {})["EmailSenders"]  # later calls still work


def test_deleting_the_list_fails_a_pending_task(srv: EmulatorServer, ses: Any) -> None:
    receiver_id = new_list(ses, srv, [{"email": "x@example.org", "data": {"name": "X"}}])
    timed = {"BeginTime": "2026-01-05 12:00:00"}
    params = {**SAMPLE, "ReceiverId": receiver_id, "TaskType": 2, "TimedParam": timed}
    call(ses, "BatchSendEmail", params)
    call(ses, "DeleteReceiver", {"ReceiverId": receiver_id})
    srv.advance(4 * 3600)
    (task,) = tasks(ses, Status=7)
    assert "deleted" in task["ErrMsg"]
    assert srv.outbox() == []


def test_list_send_tasks_filters_and_pages(srv: EmulatorServer, ses: Any) -> None:
    first = call(ses, "BatchSendEmail", SAMPLE)["TaskId"]
    timed = {"BeginTime": "2026-01-06 09:00:00"}
    second = call(ses, "BatchSendEmail", {**SAMPLE, "TaskType": 2, "TimedParam": timed})["TaskId"]
    assert [t["TaskId"] for t in tasks(ses)] == [second, first]  # newest first
    assert [t["TaskId"] for t in tasks(ses, Status=1)] == [second]
    assert [t["TaskId"] for t in tasks(ses, TaskType=1)] == [first]
    assert tasks(ses, ReceiverId=12345) == []
    page = call(ses, "ListSendTasks", {"Offset": 1, "Limit": 1})
    assert (page["TotalCount"], [t["TaskId"] for t in page["Data"]]) == (2, [first])
    assert code(ses, "ListSendTasks", {"Offset": 0, "Limit": 101}) == "FailedOperation.InvalidLimit"
