"""`GET /v1/emails/{MessageId}` and `GET /v1/batch-tasks/{TaskId}`: a send's record, read back.

A record (`sesrelay.records`) is what the relay kept of an accepted send: when, which entry
point, which API key (its name), the Idempotency-Key, the sender, the template and the
recipients, for SESRELAY_RECORD_RETENTION_DAYS. The reply joins the delivery events SES called
back with (`POST /v1/ses-events/{token}`), and asks SES for what it knows:

- a mail with no event yet: GetSendEmailStatus for its MessageId, on the day SES stamped into
  the MessageId (`-date-<UTC+8 yyyymmddhhmmss>-`), else the UTC+8 day of the record;
- a batch task: ListSendTasks, which has no TaskId filter, so it is paged (newest first, only
  the task's recipient group when the record names it) for at most `MAX_TASK_PAGES` pages.

Those SES reads never fail the request: the record is answered 200 either way, and what SES
could not tell is in `StatusError` / `TaskError` (`{"Code", "Message"}`; the code is SES's, one
of the relay's, or `task_not_listed`).

The key must have the `read` action. A key sees its own records; a key with `read_all` sees
every record, those of timers, webhooks and direct invocations (made without a key) included.
A record the key may not see is answered exactly as an unknown id (404), so nobody learns that
it exists. The recipients are shown (the reader is a key the deployment trusts with them) but
never logged.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from sesrelay.clock import SES_TIMEZONE
from sesrelay.errors import FieldError, InvalidInput, RelayError, public_message
from sesrelay.events import HttpResponse
from sesrelay.http.problems import json_response
from sesrelay.http.router import Call, NotFound, Route, route
from sesrelay.records import EMAIL, TASK, SendRecord
from sesrelay.ses.fields import UINT64_MAX
from sesrelay.ses.rules import has_control_chars, has_lone_surrogate

#: A MessageId longer than this is none of SES's (the callbacks' ids are held to the same bound).
MAX_MESSAGE_ID_CHARS = 256
#: GetSendEmailStatus rows asked for: one page holds a mail's every recipient (50 + 20 + 20).
STATUS_LIMIT = 100
#: ListSendTasks pages of `TASK_PAGE` tasks read before a task is called not listed.
MAX_TASK_PAGES = 10
TASK_PAGE = 100
#: Where SES writes the sending day into a MessageId (qcloudses-30-<appId>-date-<stamp>-<tail>).
_MESSAGE_DATE = re.compile(r"-date-(\d{4})(\d{2})(\d{2})\d{6}-")


def _unseen(what: str, call: Call) -> NotFound:
    """One answer for unknown, expired and another key's records: existence is not revealed."""
    days = call.services.settings.record_retention_days
    return NotFound(
        f"no send record with this {what} for this API key (unknown, older than the "
        f"{days:g}-day retention, or sent with another key)"
    )


def _record(call: Call, kind: str, record_id: str, what: str) -> SendRecord:
    record = call.services.records.get(kind, record_id)
    if record is None or call.key is None or not call.key.sees(record.key):
        raise _unseen(what, call)
    return record


def message_id_param(value: str) -> str:
    """The MessageId path parameter, or 422 naming it."""
    if not value or len(value) > MAX_MESSAGE_ID_CHARS:
        rule = f"must be 1-{MAX_MESSAGE_ID_CHARS} characters"
    elif has_control_chars(value) or has_lone_surrogate(value):
        rule = "must not contain control characters"
    else:
        return value
    raise InvalidInput([FieldError("MessageId", rule + " (a MessageId SendEmail returned)")])


def task_id_param(value: str) -> str:
    """The TaskId path parameter as canonical decimal text, or 422 naming it."""
    text = value
    if text.isascii() and text.isdigit() and len(text) <= 20 and 1 <= int(text) <= UINT64_MAX:
        return str(int(text))
    raise InvalidInput(
        [FieldError("TaskId", "must be a positive integer (a TaskId BatchSendEmail returned)")]
    )


def _failure(error: RelayError) -> dict[str, str]:
    return {"Code": error.code, "Message": public_message(error)}


def status_date(record: SendRecord) -> str | None:
    """The UTC+8 day GetSendEmailStatus files the mail under (YYYY-MM-DD), None if unknown."""
    stamped = _MESSAGE_DATE.search(record.id)
    if stamped:
        return "-".join(stamped.groups())
    try:
        created = datetime.fromisoformat(record.created.replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        return None
    if created.tzinfo is None:
        created = created.replace(tzinfo=timezone.utc)
    return created.astimezone(SES_TIMEZONE).date().isoformat()


def _email_status(call: Call, record: SendRecord) -> tuple[Any, dict[str, str] | None]:
    """(EmailStatusList, None), or (None, what went wrong)."""
    day = status_date(record)
    if day is None:
        message = "the record's sending day is unknown, so SES cannot be asked"
        return None, {"Code": "status_date_unknown", "Message": message}
    params = {"RequestDate": day, "Offset": 0, "Limit": STATUS_LIMIT, "MessageId": record.id}
    try:
        result = call.services.ses.call("GetSendEmailStatus", params, call.deadline)
    except RelayError as error:
        call.log["lookup_code"] = error.code
        return None, _failure(error)
    call.log["ses_request_id"] = result.get("RequestId")
    return result.get("EmailStatusList") or [], None


def get_email(call: Call) -> HttpResponse:
    """GET /v1/emails/{MessageId}: the record, its events, and SES's status until an event."""
    call.require("read")
    message_id = message_id_param(call.request.path_params.get("MessageId", ""))
    record = _record(call, EMAIL, message_id, "MessageId")
    call.log["message_id"] = message_id
    # Tencent sends "" for the fields an event kind does not have (link of a delivery, ...).
    events = [
        {name: value for name, value in item.items() if value not in (None, "")}
        for item in call.services.records.events(message_id)
    ]
    status, status_error = (None, None) if events else _email_status(call, record)
    return json_response(
        200,
        {
            "MessageId": record.id,
            "CreatedAt": record.created,
            "Entry": record.entry,
            "Key": record.key,
            "IdempotencyKey": record.idempotency_key,
            "From": record.sender,
            "TemplateID": record.template_id,
            "RecipientCount": record.recipient_count,
            "Recipients": list(record.recipients or []),
            "Events": events,
            "LastEvent": events[-1].get("event") if events else None,
            "Status": status,
            "StatusError": status_error,
        },
    )


def _list_tasks(call: Call, record: SendRecord) -> tuple[Any, dict[str, str] | None]:
    """(the ListSendTasks item, None), or (None, why it is not there)."""
    params: dict[str, Any] = {"Limit": TASK_PAGE}
    if record.receiver_id:
        params["ReceiverId"] = record.receiver_id
    for page in range(MAX_TASK_PAGES):
        params["Offset"] = page * TASK_PAGE
        try:
            result = call.services.ses.call("ListSendTasks", dict(params), call.deadline)
        except RelayError as error:
            call.log["lookup_code"] = error.code
            return None, _failure(error)
        call.log["ses_request_id"] = result.get("RequestId")
        data = result.get("Data") or []
        for item in data:
            if isinstance(item, dict) and str(item.get("TaskId")) == record.id:
                return item, None
        total = result.get("TotalCount")
        seen = params["Offset"] + len(data)
        if len(data) < TASK_PAGE or (isinstance(total, int) and seen >= total):
            message = f"SES's ListSendTasks does not list task {record.id}"
            return None, {"Code": "task_not_listed", "Message": message}
    searched = MAX_TASK_PAGES * TASK_PAGE
    message = (
        f"task {record.id} is not among the newest {searched} tasks ListSendTasks lists "
        "(it has no TaskId filter; GET /v1/batch-tasks?offset=... pages further)"
    )
    return None, {"Code": "task_not_listed", "Message": message}


def get_batch_task(call: Call) -> HttpResponse:
    """GET /v1/batch-tasks/{TaskId}: the record, SES's task and the events counted per kind."""
    call.require("read")
    task_id = task_id_param(call.request.path_params.get("TaskId", ""))
    record = _record(call, TASK, task_id, "TaskId")
    call.log["task_id"] = task_id
    counts = call.services.records.task_counts(task_id)
    task, task_error = _list_tasks(call, record)
    return json_response(
        200,
        {
            "TaskId": int(record.id),
            "CreatedAt": record.created,
            "Entry": record.entry,
            "Key": record.key,
            "IdempotencyKey": record.idempotency_key,
            "From": record.sender,
            "TemplateID": record.template_id,
            "RecipientCount": record.recipient_count,
            "ReceiverId": record.receiver_id,
            "Task": task,
            "TaskError": task_error,
            "EventCounts": counts,
        },
    )


ROUTES: tuple[Route, ...] = (
    route("GET", "/v1/emails/{MessageId}", get_email),
    route("GET", "/v1/batch-tasks/{TaskId}", get_batch_task),
)
