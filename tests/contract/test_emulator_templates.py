"""CreateEmailTemplate, UpdateEmailTemplate and DeleteEmailTemplate through the official SDK, with
Tencent's review: under review until the emulator clock passes the review time or a control
call approves (or rejects) the template, and no send with it meanwhile."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from tencentcloud.common.exception.tencent_cloud_sdk_exception import (
    TencentCloudSDKException,
)

from sesrelay.clock import ManualClock
from sesrelay.emulator import EmulatorServer
from sesrelay.emulator.ses.seed import DEFAULT_SEED
from tests.ses_sdk import call, code, ses_sdk_client

START = datetime(2026, 1, 5, 1, 0, 0, tzinfo=timezone.utc)  # 09:00 in UTC+8
REVIEW = 600  # the default seed's template_review_seconds
SEED = json.loads(
    (Path(__file__).resolve().parents[2] / "lib/sesrelay/emulator/ses" / DEFAULT_SEED).read_text()
)
UNDER_REVIEW, APPROVED, REJECTED = 1, 0, 2


def b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def content(html: str | None = None, text: str | None = None) -> dict[str, str]:
    parts = {"Html": html, "Text": text}
    return {k: b64(v) for k, v in parts.items() if v is not None}


def start(tmp_path: Path, **seed: Any) -> EmulatorServer:
    path = tmp_path / "seed.json"
    path.write_text(json.dumps({**SEED, **seed}), encoding="utf-8")
    return EmulatorServer(clock=ManualClock(START), seed_path=path).start()


@pytest.fixture
def srv() -> Iterator[EmulatorServer]:
    with EmulatorServer(clock=ManualClock(START)) as server:
        yield server


def client_for(srv: EmulatorServer) -> Any:
    return ses_sdk_client(srv.endpoint)


@pytest.fixture
def ses(srv: EmulatorServer) -> Iterator[Any]:
    client = client_for(srv)
    yield client
    client.request.conn._session.close()  # the SDK never closes its requests.Session


def present(fields: dict[str, Any]) -> dict[str, Any]:
    """The fields SES returned (the SDK's JSON lists absent ones as null)."""
    return {k: v for k, v in fields.items() if v is not None}


def create(client: Any, name: str = "receipt", html: str = "<p>Paid {{amount}}</p>") -> int:
    answer = call(
        client, "CreateEmailTemplate", {"TemplateName": name, "TemplateContent": content(html)}
    )
    template_id: int = answer["TemplateID"]
    return template_id


def listed(client: Any) -> dict[int, dict[str, Any]]:
    reply = call(client, "ListEmailTemplates", {"Offset": 0, "Limit": 100})
    return {t["TemplateID"]: t for t in reply["TemplatesMetadata"]}


def status(client: Any, template_id: int) -> int:
    value: int = call(client, "GetEmailTemplate", {"TemplateID": template_id})["TemplateStatus"]
    return value


def send(client: Any, template_id: int) -> dict[str, Any]:
    return call(
        client,
        "SendEmail",
        {
            "FromEmailAddress": "noreply@example.com",
            "Destination": ["dana@example.org"],
            "Subject": "Receipt",
            "Template": {"TemplateID": template_id, "TemplateData": '{"amount": "12 EUR"}'},
        },
    )


def control(srv: EmulatorServer, method: str, path: str, payload: object = None) -> tuple[int, Any]:
    data = None if payload is None else json.dumps(payload).encode()
    req = urllib.request.Request(srv.url + path, data=data, method=method)
    try:
        with urllib.request.urlopen(req) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        with err:
            return err.code, json.loads(err.read())


# -- create and the review -------------------------------------------------------------------------


def test_a_created_template_is_under_review_and_cannot_send(srv: EmulatorServer, ses: Any) -> None:
    template_id = create(ses)
    assert template_id == 100004  # after the seed's 100001..100003
    meta = listed(ses)[template_id]
    assert (meta["TemplateName"], meta["TemplateStatus"]) == ("receipt", UNDER_REVIEW)
    assert meta["CreatedTimestamp"] == int(START.timestamp())
    got = call(ses, "GetEmailTemplate", {"TemplateID": template_id})
    assert present(got["TemplateContent"]) == {"Html": b64("<p>Paid {{amount}}</p>")}
    with pytest.raises(TencentCloudSDKException) as info:
        send(ses, template_id)
    assert info.value.code == "FailedOperation.InvalidTemplateID"
    batch = {
        "FromEmailAddress": "noreply@example.com",
        "ReceiverId": 200001,
        "Subject": "Receipt",
        "TaskType": 1,
        "Template": {"TemplateID": template_id, "TemplateData": '{"amount": "1"}'},
    }
    assert code(ses, "BatchSendEmail", batch) == "OperationDenied.TemplateStatusError"
    assert srv.outbox() == []


def test_the_review_ends_when_the_emulator_clock_passes_the_review_time(
    srv: EmulatorServer, ses: Any
) -> None:
    template_id = create(ses)
    srv.advance(REVIEW - 1)
    assert status(ses, template_id) == UNDER_REVIEW
    srv.advance(1)
    assert status(ses, template_id) == APPROVED
    assert send(ses, template_id)["MessageId"]
    (mail,) = srv.outbox()
    assert mail["html"] == "<p>Paid 12 EUR</p>"


def test_the_seed_sets_the_review_time_and_a_seeded_review_never_ends_by_itself(
    tmp_path: Path,
) -> None:
    srv = start(tmp_path, template_review_seconds=60)
    client = client_for(srv)
    try:
        template_id = create(client)
        srv.advance(60)
        assert status(client, template_id) == APPROVED
        srv.advance(86400 * 30)
        assert status(client, 100003) == UNDER_REVIEW  # seeded as under review: it stays so
    finally:
        client.request.conn._session.close()
        srv.stop()


def test_approve_and_reject_control_calls_end_a_review_at_once(
    srv: EmulatorServer, ses: Any
) -> None:
    first, second, third = create(ses, "a"), create(ses, "b"), create(ses, "c")
    answer = control(srv, "POST", "/_emulator/templates/approve", {"TemplateID": first})
    assert answer[0] == 200
    assert [t["TemplateStatus"] for t in answer[1]["templates"]] == [APPROVED]
    assert status(ses, first) == APPROVED
    assert send(ses, first)["MessageId"]
    rejected = control(
        srv, "POST", "/_emulator/templates/reject", {"TemplateID": second, "ReviewReason": "ads"}
    )
    assert rejected[0] == 200
    meta = listed(ses)[second]
    assert (meta["TemplateStatus"], meta["ReviewReason"]) == (REJECTED, "ads")
    srv.advance(REVIEW)  # a rejected template is not approved by the clock
    assert status(ses, second) == REJECTED
    everything = control(srv, "POST", "/_emulator/templates/approve", {"all": True})
    assert {t["TemplateID"] for t in everything[1]["templates"]} == {100003}  # third: by time
    assert status(ses, third) == APPROVED
    assert {t: m["TemplateStatus"] for t, m in listed(ses).items()} == {
        100001: APPROVED, 100002: APPROVED, 100003: APPROVED,
        first: APPROVED, second: REJECTED, third: APPROVED,
    }  # fmt: skip


def test_control_calls_say_what_is_wrong(srv: EmulatorServer) -> None:
    assert control(srv, "POST", "/_emulator/templates/approve", {"TemplateID": 9})[0] == 404
    for bad in ({}, {"TemplateID": "100003"}, {"all": False}, {"TemplateID": 1, "x": 1}):
        status_code, body = control(srv, "POST", "/_emulator/templates/approve", bad)
        assert status_code == 400, bad
        assert "TemplateID" in body["error"]
    assert control(srv, "GET", "/_emulator/templates/approve")[0] == 405
    assert control(srv, "GET", "/_emulator/templates/reject")[0] == 405
    reject = control(srv, "POST", "/_emulator/templates/reject", {"TemplateID": 100003, "x": 1})
    assert reject[0] == 400
    assert "ReviewReason" in reject[1]["error"]


# -- update -----------------------------------------------------------------------------------


def test_an_update_replaces_name_and_content_and_starts_a_new_review(
    srv: EmulatorServer, ses: Any
) -> None:
    assert status(ses, 100001) == APPROVED
    params = {
        "TemplateID": 100001,
        "TemplateName": "hello",
        "TemplateContent": content("<b>Hi</b>"),
    }
    assert set(call(ses, "UpdateEmailTemplate", params)) == {"RequestId"}
    got = call(ses, "GetEmailTemplate", {"TemplateID": 100001})
    # Only Html was sent: the text part is gone, as the whole TemplateContent is replaced.
    assert (got["TemplateName"], present(got["TemplateContent"])) == (
        "hello",
        {"Html": b64("<b>Hi</b>")},
    )
    assert got["TemplateStatus"] == UNDER_REVIEW
    with pytest.raises(TencentCloudSDKException):
        send(ses, 100001)
    srv.advance(REVIEW)
    assert status(ses, 100001) == APPROVED


def test_updating_a_template_under_review_is_accepted_and_restarts_the_review(
    srv: EmulatorServer, ses: Any
) -> None:
    template_id = create(ses)
    srv.advance(REVIEW / 2)
    update = {
        "TemplateID": template_id,
        "TemplateName": "receipt",
        "TemplateContent": content(text="t"),
    }
    call(ses, "UpdateEmailTemplate", update)
    srv.advance(REVIEW / 2)
    assert status(ses, template_id) == UNDER_REVIEW  # the first review's end does not count
    srv.advance(REVIEW / 2)
    assert status(ses, template_id) == APPROVED


def test_a_scheduled_task_whose_template_went_back_to_review_fails_when_it_runs(
    srv: EmulatorServer, ses: Any
) -> None:
    params = {
        "FromEmailAddress": "noreply@example.com",
        "ReceiverId": 200001,
        "Subject": "Hi",
        "TaskType": 2,
        "TimedParam": {"BeginTime": "2026-01-05 09:05:00"},  # 5 minutes from now (UTC+8)
        "Template": {"TemplateID": 100001, "TemplateData": '{"name": "you"}'},
    }
    first = call(ses, "BatchSendEmail", params)["TaskId"]
    later = call(
        ses, "BatchSendEmail", {**params, "TimedParam": {"BeginTime": "2026-01-05 09:15:00"}}
    )
    update = {"TemplateID": 100001, "TemplateName": "welcome", "TemplateContent": content("x")}
    call(ses, "UpdateEmailTemplate", update)  # under review until 09:10
    srv.advance(3600)  # one jump: each task still sees the template as it was at its own time
    rows = {t["TaskId"]: t for t in call(ses, "ListSendTasks", {"Offset": 0, "Limit": 10})["Data"]}
    assert (rows[first]["TaskStatus"], rows[first]["SendCount"]) == (7, 0)
    assert "not approved" in rows[first]["ErrMsg"]
    assert (rows[later["TaskId"]]["TaskStatus"], rows[later["TaskId"]]["SendCount"]) == (10, 3)
    assert {m["task_id"] for m in srv.outbox()} == {later["TaskId"]}


# -- delete -----------------------------------------------------------------------------------


def test_delete_removes_a_template_even_under_review(srv: EmulatorServer, ses: Any) -> None:
    assert call(ses, "DeleteEmailTemplate", {"TemplateID": 100003})["RequestId"]
    assert 100003 not in listed(ses)
    assert code(ses, "GetEmailTemplate", {"TemplateID": 100003}) == (
        "InvalidParameterValue.TemplateNotExist"
    )
    assert code(ses, "DeleteEmailTemplate", {"TemplateID": 100003}) == "InvalidParameterValue"


def test_delete_refuses_a_template_a_scheduled_task_still_sends_with(
    srv: EmulatorServer, ses: Any
) -> None:
    params = {
        "FromEmailAddress": "noreply@example.com",
        "ReceiverId": 200001,
        "Subject": "Hi",
        "TaskType": 2,
        "TimedParam": {"BeginTime": "2026-01-05 10:00:00"},
        "Template": {"TemplateID": 100001, "TemplateData": '{"name": "you"}'},
    }
    task = call(ses, "BatchSendEmail", params)["TaskId"]
    with pytest.raises(TencentCloudSDKException) as info:
        call(ses, "DeleteEmailTemplate", {"TemplateID": 100001})
    assert info.value.code == "OperationDenied"
    assert str(task) in info.value.message
    srv.advance(3600)  # the task ran
    assert len(srv.outbox()) == 3
    call(ses, "DeleteEmailTemplate", {"TemplateID": 100001})
    assert 100001 not in listed(ses)


# -- limits, names, the seed ------------------------------------------------------------------


def test_names_and_content_limits(srv: EmulatorServer, ses: Any) -> None:
    def create_code(name: str, parts: dict[str, str]) -> str:
        return code(ses, "CreateEmailTemplate", {"TemplateName": name, "TemplateContent": parts})

    illegal = "InvalidParameterValue.TemplateNameIllegal"
    assert create_code("x" * 65, content("a")) == illegal
    assert create_code("line\nbreak", content("a")) == illegal
    wrong = "InvalidParameterValue.TemplateContentIsWrong"
    assert create_code("ok", {"Html": "not base64!"}) == wrong
    assert create_code("ok", {"Text": base64.b64encode(b"\xff").decode()}) == wrong  # not UTF-8
    assert create_code("ok", content("", "")) == "InvalidParameterValue.TemplateContentIsNULL"
    half = "x" * (2 * 1024 * 1024 + 1)
    assert create_code("ok", content(half, half)) == "FailedOperation.TemplateContentToolarge"
    # A name may repeat (Tencent has no code for a repeated template name) and be 64 characters.
    assert create(ses, "welcome") != create(ses, "welcome")
    assert create(ses, "é" * 64)
    assert [t["TemplateName"] for t in listed(ses).values()].count("welcome") == 3


def test_the_template_limit_comes_from_the_seed(tmp_path: Path) -> None:
    srv = start(tmp_path, max_templates=4)
    client = client_for(srv)
    try:
        create(client)
        assert code(
            client, "CreateEmailTemplate", {"TemplateName": "x", "TemplateContent": content("a")}
        ) == ("FailedOperation.ExceedTemplateLimit")
        call(client, "DeleteEmailTemplate", {"TemplateID": 100003})
        assert create(client) == 100005
    finally:
        client.request.conn._session.close()
        srv.stop()


def test_an_empty_seed_is_an_account_without_templates(tmp_path: Path) -> None:
    srv = start(tmp_path, templates=[])
    client = client_for(srv)
    try:
        assert call(client, "ListEmailTemplates", {"Offset": 0, "Limit": 10})["TotalCount"] == 0
        assert create(client) == 100001
    finally:
        client.request.conn._session.close()
        srv.stop()


def test_reset_returns_the_templates_to_the_seed(srv: EmulatorServer, ses: Any) -> None:
    create(ses)
    call(ses, "DeleteEmailTemplate", {"TemplateID": 100002})
    call(
        ses,
        "UpdateEmailTemplate",
        {"TemplateID": 100001, "TemplateName": "x", "TemplateContent": content("x")},
    )
    srv.reset()
    assert {t: (m["TemplateName"], m["TemplateStatus"]) for t, m in listed(ses).items()} == {
        100001: ("welcome", 0),
        100002: ("weekly-digest", 0),
        100003: ("pending-review", 1),
    }
    assert create(ses) == 100004
