"""Pydantic models of the SES query actions behind the HTTP API: ListSendTasks, GetSendEmailStatus.

Their integers also accept plain decimal text, because they usually come from a query string.
"""

# No `from __future__ import annotations` here: pydantic would eval every field annotation
# string when the class is created, a cost each cold start would pay for nothing.

from typing import Annotated, ClassVar

from pydantic import AfterValidator, BeforeValidator, Field, Strict

from sesrelay.ses.addresses import EmailAddress
from sesrelay.ses.fields import TASK_TYPES, UINT64_MAX, HeaderText, SesDate, int_choice
from sesrelay.ses.validation import SesRequest, parse_request


def query_int(value: object) -> object:
    """Query-string integers arrive as text: accept plain decimal digits, nothing looser."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 19:
        return int(value)
    return value


QueryOffset = Annotated[int, Strict(), Field(ge=0), BeforeValidator(query_int)]
QueryLimit = Annotated[int, Strict(), Field(ge=1, le=100), BeforeValidator(query_int)]
QueryId = Annotated[int, Strict(), Field(ge=1, le=UINT64_MAX), BeforeValidator(query_int)]
TASK_STATUSES = {1: "pending", 5: "sending", 6: "paused for today", 7: "error", 10: "done"}

TaskStatusFilter = Annotated[
    int,
    Strict(),
    AfterValidator(int_choice(TASK_STATUSES)),
    Field(json_schema_extra={"enum": list(TASK_STATUSES)}),
    BeforeValidator(query_int),
]
TaskTypeFilter = Annotated[
    int,
    Strict(),
    AfterValidator(int_choice(TASK_TYPES)),
    Field(json_schema_extra={"enum": list(TASK_TYPES)}),
    BeforeValidator(query_int),
]

_OFFSET = "Rows to skip, from 0."
_LIMIT = "Rows to return, 1 to 100 (SES limit)."


class ListSendTasksParams(SesRequest):
    """ListSendTasks: a page of batch send tasks, optionally filtered."""

    ses_name: ClassVar[str] = "ListSendTasks"

    Offset: QueryOffset = Field(0, description=_OFFSET)
    Limit: QueryLimit = Field(20, description=_LIMIT)
    Status: TaskStatusFilter | None = Field(
        None,
        description="1 pending, 5 sending, 6 paused for today, 7 error, 10 done; omit for all.",
    )
    ReceiverId: QueryId | None = Field(None, description="Only tasks of this recipient list.")
    TaskType: TaskTypeFilter | None = Field(
        None, description="1 immediate, 2 scheduled, 3 recurring; omit for all."
    )


class GetSendEmailStatusParams(SesRequest):
    """GetSendEmailStatus: delivery status of the mails sent on one day."""

    ses_name: ClassVar[str] = "GetSendEmailStatus"

    RequestDate: SesDate = Field(description="The day the mails were sent (one day, no ranges).")
    Offset: QueryOffset = Field(0, description=_OFFSET)
    Limit: QueryLimit = Field(20, description=_LIMIT)
    MessageId: HeaderText | None = Field(None, description="A MessageId returned by SendEmail.")
    ToEmailAddress: EmailAddress | None = Field(None, description="Only mails to this address.")


def validate_list_send_tasks(data: object) -> ListSendTasksParams:
    """ListSendTasks parameters from a dict or raw JSON; InvalidInput lists every problem."""
    return parse_request(ListSendTasksParams, data)


def validate_get_send_email_status(data: object) -> GetSendEmailStatusParams:
    """GetSendEmailStatus parameters from a dict or raw JSON; raises InvalidInput on any problem."""
    return parse_request(GetSendEmailStatusParams, data)
