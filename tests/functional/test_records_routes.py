"""GET /v1/emails/{MessageId} and GET /v1/batch-tasks/{TaskId}: a send's record read back, with
its delivery events, and what SES says of it (GetSendEmailStatus, ListSendTasks on the emulator).

Records are written through the instance's RecordBook, as the send pipeline and the SES callback
route write them; the last test sends through POST /v1/emails and reads the record it left.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from sesrelay.adapters.state_url import open_state_store
from sesrelay.clock import Deadline, SystemClock
from sesrelay.emulator import EmulatorServer
from sesrelay.http.routes.records import (
    MAX_MESSAGE_ID_CHARS,
    MAX_TASK_PAGES,
    TASK_PAGE,
    status_date,
)
from sesrelay.records import EMAIL, TASK, DeliveryEvent, SendRecord
from sesrelay.runtime import Runtime
from tests.functional.conftest import API_KEY, API_KEY_SHA256

MakeRuntime = Callable[..., Runtime]
MakeEvent = Callable[..., dict[str, Any]]
Problem = Callable[[dict[str, Any], int, str], dict[str, Any]]

ENV_KEY = "SESRELAY_API_KEY_SHA256#1"  # the name of sr_test_key (unrestricted: read_all)
MESSAGE_ID = "qcloudses-30-1300000000-date-20260105090000-aBcDeF0123456789"
RECIPIENTS = ["ana@example.org", "ben@example.org"]
#: Named keys of sesrelay.yaml: key -> actions
SCOPED = {
    "billing": ["SendEmail", "read"],
    "marketing": ["SendEmail", "BatchSendEmail", "read"],
    "ops": ["read_all"],
    "sender": ["SendEmail"],
}


def secret_of(name: str) -> str:
    return f"sr_{name}_key"


@pytest.fixture
def scoped_config(tmp_path: Path) -> Path:
    lines = ["api_keys:"]
    for name, actions in SCOPED.items():
        digest = hashlib.sha256(secret_of(name).encode()).hexdigest()
        lines += [f"  {name}:", f'    sha256: "{digest}"', f"    actions: {json.dumps(actions)}"]
    path = tmp_path / "sesrelay.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def email_record(message_id: str = MESSAGE_ID, key: str | None = ENV_KEY) -> SendRecord:
    return SendRecord(
        kind=EMAIL,
        id=message_id,
        created="2026-01-05T01:00:00+00:00",
        entry="http",
        key=key,
        idempotency_key="order-1001",
        sender="noreply@example.com",
        template_id=100001,
        recipient_count=len(RECIPIENTS),
        recipients=list(RECIPIENTS),
    )


def task_record(task_id: int, key: str | None = ENV_KEY, receiver: int = 200001) -> SendRecord:
    return SendRecord(
        kind=TASK,
        id=str(task_id),
        created="2026-01-05T01:00:00+00:00",
        entry="http",
        key=key,
        idempotency_key=None,
        sender="noreply@example.com",
        template_id=100001,
        recipient_count=None,
        receiver_id=receiver,
    )


@pytest.fixture
def get(event: MakeEvent) -> Callable[..., dict[str, Any]]:
    """`get(runtime, path, key=API_KEY)` -> the SCF reply of an authenticated GET."""

    def call(runtime: Runtime, path: str, key: str | None = API_KEY) -> dict[str, Any]:
        auth = {"authorization": f"Bearer {key}" if key else None}
        request = event("http_get-batch-tasks", path=path, query={}, headers=auth)
        reply: dict[str, Any] = runtime.handle(request, {})
        return reply

    return call


def body_of(reply: dict[str, Any], status: int = 200) -> dict[str, Any]:
    assert reply["statusCode"] == status, reply
    assert reply["headers"]["content-type"] == "application/json"
    data: dict[str, Any] = json.loads(reply["body"])
    return data


def test_an_email_record_reads_back_with_its_events_in_time_order(
    make_runtime: MakeRuntime, get: Callable[..., dict[str, Any]], emulator: EmulatorServer
) -> None:
    runtime = make_runtime()
    book = runtime.services.records
    book.save(email_record())
    book.add_event(MESSAGE_ID, DeliveryEvent("open", 1767578500, "ana@example.org"))
    book.add_event(MESSAGE_ID, DeliveryEvent("delivered", 1767578410, "ana@example.org"))
    bounce = DeliveryEvent("bounce", 1767578420, "ben@example.org", "550 no such user", "hard")
    book.add_event(MESSAGE_ID, bounce)

    data = body_of(get(runtime, f"/v1/emails/{MESSAGE_ID}"))

    assert data == {
        "MessageId": MESSAGE_ID,
        "CreatedAt": "2026-01-05T01:00:00+00:00",
        "Entry": "http",
        "Key": ENV_KEY,
        "IdempotencyKey": "order-1001",
        "From": "noreply@example.com",
        "TemplateID": 100001,
        "RecipientCount": 2,
        "Recipients": RECIPIENTS,
        "Events": [
            {"event": "delivered", "timestamp": 1767578410, "email": "ana@example.org"},
            {
                "event": "bounce",
                "timestamp": 1767578420,
                "email": "ben@example.org",
                "reason": "550 no such user",
                "bounce_type": "hard",
            },
            {"event": "open", "timestamp": 1767578500, "email": "ana@example.org"},
        ],
        "LastEvent": "open",
        "Status": None,
        "StatusError": None,
    }
    assert "GetSendEmailStatus" not in emulator.call_counts()  # events answer: SES not asked


def test_events_that_arrive_before_the_record_are_joined_once_it_is_written(
    make_runtime: MakeRuntime, get: Callable[..., dict[str, Any]], problem: Problem
) -> None:
    """The callback may beat the record (another instance, a slow write): it is kept, and the
    record shows it once it exists."""
    runtime = make_runtime()
    book = runtime.services.records
    book.add_event(MESSAGE_ID, DeliveryEvent("delivered", 1767578410, "ana@example.org"))
    problem(get(runtime, f"/v1/emails/{MESSAGE_ID}"), 404, "not_found")

    book.save(email_record())
    data = body_of(get(runtime, f"/v1/emails/{MESSAGE_ID}"))
    assert [e["event"] for e in data["Events"]] == ["delivered"]
    assert data["LastEvent"] == "delivered"


def _send(runtime: Runtime, event: MakeEvent, to: list[str]) -> str:
    body = json.loads(event("http_post-emails")["body"])
    reply = runtime.handle(event("http_post-emails", body={**body, "Destination": to}), {})
    assert reply["statusCode"] == 202, reply
    message_id: str = json.loads(reply["body"])["MessageId"]
    return message_id


def test_without_an_event_the_status_comes_from_ses(
    make_runtime: MakeRuntime,
    event: MakeEvent,
    get: Callable[..., dict[str, Any]],
    emulator: EmulatorServer,
) -> None:
    runtime = make_runtime()
    message_id = _send(runtime, event, RECIPIENTS)
    # Recorded "2026-01-05": SES is asked for the day it stamped into the MessageId (today).
    runtime.services.records.save(email_record(message_id))

    data = body_of(get(runtime, f"/v1/emails/{message_id}"))

    assert data["Events"] == []
    assert data["LastEvent"] is None
    assert data["StatusError"] is None
    status = data["Status"]
    assert sorted(item["ToEmailAddress"] for item in status) == RECIPIENTS
    assert {item["MessageId"] for item in status} == {message_id}
    assert {item["SendStatus"] for item in status} == {0}
    assert emulator.call_counts()["GetSendEmailStatus"] == 1


@pytest.mark.parametrize(
    ("message_id", "created", "day"),
    [
        (MESSAGE_ID, "2026-01-06T10:00:00+00:00", "2026-01-05"),  # SES's stamp wins
        ("qcloudses-no-stamp", "2026-01-05T15:59:59+00:00", "2026-01-05"),
        ("qcloudses-no-stamp", "2026-01-05T16:00:00Z", "2026-01-06"),  # midnight UTC+8
        ("qcloudses-no-stamp", "not a time", None),
    ],
)
def test_the_status_day_is_the_ses_day_of_the_send(
    message_id: str, created: str, day: str | None
) -> None:
    record = SendRecord(**{**email_record(message_id).as_dict(), "created": created})
    assert status_date(record) == day


@pytest.mark.parametrize(
    ("settings", "fault", "code"),
    [
        ({}, "FailedOperation.NotSupportDate", "FailedOperation.NotSupportDate"),
        ({}, "AuthFailure.SecretIdNotFound", "AuthFailure.SecretIdNotFound"),
        ({"secret_id": None, "secret_key": None}, None, "ses_not_configured"),
    ],
)
def test_when_ses_cannot_tell_the_status_the_record_is_answered_and_says_why(
    make_runtime: MakeRuntime,
    get: Callable[..., dict[str, Any]],
    emulator: EmulatorServer,
    settings: dict[str, Any],
    fault: str | None,
    code: str,
) -> None:
    if fault:
        emulator.inject_fault("GetSendEmailStatus", "error", count=5, code=fault, message="no")
    runtime = make_runtime(**settings)
    runtime.services.records.save(email_record())

    data = body_of(get(runtime, f"/v1/emails/{MESSAGE_ID}"))

    assert data["MessageId"] == MESSAGE_ID
    assert data["Recipients"] == RECIPIENTS
    assert data["Status"] is None
    assert data["StatusError"]["Code"] == code
    assert data["StatusError"]["Message"]


def test_a_batch_task_record_shows_the_ses_task_and_its_event_counts(
    make_runtime: MakeRuntime, event: MakeEvent, get: Callable[..., dict[str, Any]]
) -> None:
    runtime = make_runtime()
    reply = runtime.handle(event("http_post-batch-tasks"), {})
    assert reply["statusCode"] == 202, reply
    task_id = json.loads(reply["body"])["TaskId"]
    book = runtime.services.records
    book.save(task_record(task_id))
    for kind in ("delivered", "delivered", "open", "bounce"):
        book.count_task_event(str(task_id), kind)

    data = body_of(get(runtime, f"/v1/batch-tasks/{task_id}"))

    assert data["TaskId"] == task_id
    assert data["Key"] == ENV_KEY
    assert data["ReceiverId"] == 200001
    assert data["Task"]["TaskId"] == task_id
    assert data["Task"]["FromEmailAddress"].endswith("noreply@example.com")
    assert data["TaskError"] is None
    assert data["EventCounts"] == {"delivered": 2, "open": 1, "bounce": 1}


def test_a_task_ses_does_not_list_is_answered_with_the_reason(
    make_runtime: MakeRuntime, get: Callable[..., dict[str, Any]], emulator: EmulatorServer
) -> None:
    runtime = make_runtime()
    runtime.services.records.save(task_record(987654))

    data = body_of(get(runtime, "/v1/batch-tasks/987654"))

    assert data["Task"] is None
    assert data["TaskError"]["Code"] == "task_not_listed"
    assert "987654" in data["TaskError"]["Message"]
    assert data["EventCounts"] == {}
    assert emulator.call_counts()["ListSendTasks"] == 1  # one short page: the list ended


class EndlessTasks:
    """An SES gateway whose ListSendTasks lists a million tasks, none of them the one asked for:
    the search must stop at its bound."""

    def __init__(self) -> None:
        self.offsets: list[int] = []

    def call(self, action: str, params: dict[str, Any], deadline: Deadline) -> dict[str, Any]:
        assert action == "ListSendTasks", action
        self.offsets.append(params["Offset"])
        first = 10**6 - params["Offset"]
        data = [{"TaskId": first - n} for n in range(params["Limit"])]
        return {"TotalCount": 10**6, "Data": data, "RequestId": "req-endless"}


def test_the_task_search_is_bounded_and_says_so(
    make_runtime: MakeRuntime, get: Callable[..., dict[str, Any]]
) -> None:
    ses = EndlessTasks()
    runtime = make_runtime(ses=ses)
    runtime.services.records.save(task_record(7))

    data = body_of(get(runtime, "/v1/batch-tasks/7"))

    assert ses.offsets == [page * TASK_PAGE for page in range(MAX_TASK_PAGES)]
    assert data["Task"] is None
    assert data["TaskError"]["Code"] == "task_not_listed"
    assert f"newest {MAX_TASK_PAGES * TASK_PAGE} tasks" in data["TaskError"]["Message"]


def test_an_ses_failure_of_the_task_lookup_still_answers_the_record(
    make_runtime: MakeRuntime, get: Callable[..., dict[str, Any]], emulator: EmulatorServer
) -> None:
    emulator.inject_fault(
        "ListSendTasks", "error", count=5, code="FailedOperation.InvalidLimit", message="no"
    )
    runtime = make_runtime()
    runtime.services.records.save(task_record(42))
    runtime.services.records.count_task_event("42", "delivered")

    data = body_of(get(runtime, "/v1/batch-tasks/42"))

    assert data["Task"] is None
    assert data["TaskError"]["Code"] == "FailedOperation.InvalidLimit"
    assert data["EventCounts"] == {"delivered": 1}


def test_unknown_ids_are_404(
    make_runtime: MakeRuntime, get: Callable[..., dict[str, Any]], problem: Problem
) -> None:
    runtime = make_runtime()
    problem(get(runtime, f"/v1/emails/{MESSAGE_ID}"), 404, "not_found")
    problem(get(runtime, "/v1/batch-tasks/42"), 404, "not_found")


def test_a_key_without_read_is_refused_403(
    make_runtime: MakeRuntime,
    get: Callable[..., dict[str, Any]],
    problem: Problem,
    scoped_config: Path,
) -> None:
    runtime = make_runtime(config_path=scoped_config)
    runtime.services.records.save(email_record(key="sender"))
    runtime.services.records.save(task_record(42, key="sender"))
    for path in (f"/v1/emails/{MESSAGE_ID}", "/v1/batch-tasks/42"):
        body = problem(get(runtime, path, secret_of("sender")), 403, "scope_denied")
        assert "read" in body["detail"]
        assert "ana@example.org" not in json.dumps(body)


def test_a_key_sees_its_own_records_and_read_all_sees_every_one(
    make_runtime: MakeRuntime,
    get: Callable[..., dict[str, Any]],
    problem: Problem,
    scoped_config: Path,
) -> None:
    runtime = make_runtime(config_path=scoped_config)
    book = runtime.services.records
    owners = {"billing": "qcloudses-billing", "marketing": "qcloudses-marketing", None: "timer"}
    for owner, message_id in owners.items():
        book.save(email_record(message_id, key=owner))
        book.add_event(message_id, DeliveryEvent("delivered", 1767578410, "ana@example.org"))
    book.save(task_record(42, key="marketing"))

    def visible(key: str) -> set[str]:
        seen = set()
        for message_id in owners.values():
            reply = get(runtime, f"/v1/emails/{message_id}", key)
            if reply["statusCode"] == 200:
                seen.add(message_id)
            else:
                problem(reply, 404, "not_found")
        return seen

    assert visible(secret_of("billing")) == {"qcloudses-billing"}
    assert visible(secret_of("marketing")) == {"qcloudses-marketing"}
    assert visible(secret_of("ops")) == set(owners.values())
    assert visible(API_KEY) == set(owners.values())
    assert body_of(get(runtime, "/v1/batch-tasks/42", secret_of("marketing")))["TaskId"] == 42
    problem(get(runtime, "/v1/batch-tasks/42", secret_of("billing")), 404, "not_found")


def test_another_keys_record_is_answered_exactly_like_an_unknown_one(
    make_runtime: MakeRuntime,
    get: Callable[..., dict[str, Any]],
    problem: Problem,
    scoped_config: Path,
) -> None:
    runtime = make_runtime(config_path=scoped_config)
    runtime.services.records.save(email_record("qcloudses-theirs", key="marketing"))
    runtime.services.records.save(task_record(42, key="marketing"))
    billing = secret_of("billing")

    for known, unknown in [
        ("/v1/emails/qcloudses-theirs", "/v1/emails/qcloudses-nobodys"),
        ("/v1/batch-tasks/42", "/v1/batch-tasks/43"),
    ]:
        hidden = get(runtime, known, billing)
        absent = get(runtime, unknown, billing)
        assert hidden["headers"] == absent["headers"]
        assert problem(hidden, 404, "not_found") == problem(absent, 404, "not_found")


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/v1/batch-tasks/0", "TaskId"),
        ("/v1/batch-tasks/-1", "TaskId"),
        ("/v1/batch-tasks/abc", "TaskId"),
        ("/v1/batch-tasks/1.5", "TaskId"),
        ("/v1/batch-tasks/ 42", "TaskId"),
        ("/v1/batch-tasks/18446744073709551616", "TaskId"),  # 2**64
        ("/v1/batch-tasks/" + "9" * 400, "TaskId"),
        ("/v1/emails/" + "q" * (MAX_MESSAGE_ID_CHARS + 1), "MessageId"),
        ("/v1/emails/qcloudses-\x01-1", "MessageId"),
        ("/v1/emails/qcloudses-\u202e-1", "MessageId"),
    ],
)
def test_malformed_ids_are_422_naming_the_path_parameter(
    make_runtime: MakeRuntime,
    get: Callable[..., dict[str, Any]],
    problem: Problem,
    path: str,
    field: str,
) -> None:
    body = problem(get(make_runtime(), path), 422, "validation_error")
    assert [e["field"] for e in body["errors"]] == [field]


def test_the_longest_message_id_is_looked_up(
    make_runtime: MakeRuntime, get: Callable[..., dict[str, Any]], problem: Problem
) -> None:
    longest = "q" * MAX_MESSAGE_ID_CHARS
    problem(get(make_runtime(), f"/v1/emails/{longest}"), 404, "not_found")


def test_recipients_are_answered_but_never_logged(
    make_runtime: MakeRuntime,
    get: Callable[..., dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    runtime = make_runtime()
    runtime.services.records.save(email_record())
    runtime.services.records.add_event(
        MESSAGE_ID, DeliveryEvent("delivered", 1767578410, "ana@example.org")
    )
    capsys.readouterr()

    reply = get(runtime, f"/v1/emails/{MESSAGE_ID}")

    assert body_of(reply)["Recipients"] == RECIPIENTS
    logged = capsys.readouterr()
    lines = [json.loads(line) for line in logged.out.splitlines() if line.strip()]
    assert [line["route"] for line in lines] == ["GET /v1/emails/{MessageId}"]
    assert lines[0]["message_id"] == MESSAGE_ID
    assert lines[0]["key"] == ENV_KEY
    for address in RECIPIENTS:
        assert address not in logged.out + logged.err


def test_a_sent_mail_is_read_back_and_its_record_holds_no_key(
    make_runtime: MakeRuntime,
    event: MakeEvent,
    get: Callable[..., dict[str, Any]],
    tmp_path: Path,
) -> None:
    """End to end: POST /v1/emails leaves the record GET /v1/emails/{MessageId} reads, in a
    real SQLite store that holds neither the API key nor its digest."""
    url = f"sqlite:///{tmp_path / 'state.sqlite3'}"
    runtime = make_runtime(state_url=url, state=open_state_store(url, SystemClock()))
    headers = {"idempotency-key": "order-2002"}
    sent = runtime.handle(event("http_post-emails", headers=headers), {})
    assert sent["statusCode"] == 202, sent
    message_id = json.loads(sent["body"])["MessageId"]
    before = datetime.now(timezone.utc)

    data = body_of(get(runtime, f"/v1/emails/{message_id}"))

    assert data["MessageId"] == message_id
    assert data["Key"] == ENV_KEY
    assert data["Entry"] == "http"
    assert data["IdempotencyKey"] == "order-2002"
    assert data["From"] == "noreply@example.com"
    assert data["TemplateID"] == 100001
    assert data["Recipients"] == ["ana@example.org"]
    assert data["RecipientCount"] == 1
    created = datetime.fromisoformat(data["CreatedAt"])
    assert abs((created - before).total_seconds()) < 60
    assert [item["ToEmailAddress"] for item in data["Status"]] == ["ana@example.org"]
    with sqlite3.connect(tmp_path / "state.sqlite3") as db:
        dump = "\n".join(db.iterdump())
        [(row, expires_at)] = db.execute(
            "SELECT value, expires_at FROM kv WHERE key = ?", (f"record:email:{message_id}",)
        ).fetchall()
    assert API_KEY not in dump
    assert API_KEY_SHA256[:16] not in row  # not even the prefix that scopes Idempotency-Keys
    kept_days = (expires_at - before.timestamp()) / 86400
    assert 29.9 < kept_days < 30.1  # SESRELAY_RECORD_RETENTION_DAYS' default


def test_a_delivery_callback_shows_up_in_the_record_of_the_mail_it_is_about(
    make_runtime: MakeRuntime,
    event: MakeEvent,
    get: Callable[..., dict[str, Any]],
    emulator: EmulatorServer,
) -> None:
    """End to end: POST /v1/emails, SES's `delivered` callback (the emulator's payload) through
    POST /v1/ses-events/{token}, then GET /v1/emails/{MessageId} shows it, and SES is no longer
    asked for the status."""
    token = "sesrelay-test-callback-token-0001"
    runtime = make_runtime(environ={"SESRELAY_SES_EVENTS_TOKEN": token})
    message_id = _send(runtime, event, ["ana@example.org"])
    [mail] = emulator.outbox(message_id=message_id)
    payload = mail["events"][0]["payload"]
    delivered = runtime.handle(event("ses-events_delivered", body=payload), {})
    assert delivered["statusCode"] == 200, delivered

    data = body_of(get(runtime, f"/v1/emails/{message_id}"))

    assert data["Events"] == [
        {"event": "delivered", "timestamp": payload["timestamp"], "email": "ana@example.org"}
    ]
    assert data["LastEvent"] == "delivered"
    assert data["Status"] is None
    assert "GetSendEmailStatus" not in emulator.call_counts()
