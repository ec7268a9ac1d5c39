"""OpenAPI description of the record routes: `GET /v1/emails/{MessageId}` and
`GET /v1/batch-tasks/{TaskId}` (http/routes/records.py), as pydantic models for the document."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from sesrelay.ses.fields import UINT64_MAX


class RecordEvent(BaseModel):
    """One delivery callback SES sent for the mail (POST /v1/ses-events/{token})."""

    model_config = ConfigDict(extra="forbid")

    event: str = Field(description="delivered, open, click, bounce, dropped, deferred, ...")
    timestamp: int | None = Field(description="when it happened, unix seconds (SES's clock)")
    email: str = Field(description="the recipient")
    reason: str | None = None
    bounce_type: str | None = Field(None, description="bounce only: soft_bounce or hard_bounce")
    link: str | None = Field(None, description="click only: the link")


class LookupFailure(BaseModel):
    """What SES could not tell; the record is answered all the same."""

    Code: str = Field(
        description="an SES error code verbatim, one of the relay's codes (rate_limited, "
        "deadline_exceeded, ses_not_configured, ...), status_date_unknown, or task_not_listed"
    )
    Message: str


class _RecordBase(BaseModel):
    CreatedAt: str = Field(description="when the relay recorded the send (ISO 8601, UTC)")
    Entry: str = Field(
        description="the entry point: http, webhook:<source>, timer:<job>, direct, "
        "campaign:<CampaignId>"
    )
    Key: str | None = Field(description="the API key's name; null where no key was involved")
    IdempotencyKey: str | None
    From: str = Field(description="the sender's address (FromEmailAddress without a display name)")
    TemplateID: int | None
    RecipientCount: int | None


class EmailRecord(_RecordBase):
    """GET /v1/emails/{MessageId}."""

    MessageId: str
    Recipients: list[str] = Field(description="Destination, Cc and Bcc as sent")
    Events: list[RecordEvent] = Field(description="delivery events so far, oldest first")
    LastEvent: str | None = Field(description="the `event` of the latest one; null if none")
    Status: list[dict[str, Any]] | None = Field(
        description="only while no event arrived: SES GetSendEmailStatus's EmailStatusList "
        "for this MessageId (one item per recipient); null when Events is not empty or SES "
        "could not be asked (see StatusError)"
    )
    StatusError: LookupFailure | None = Field(
        description="why Status is null although no event arrived; null otherwise"
    )


class BatchTaskRecord(_RecordBase):
    """GET /v1/batch-tasks/{TaskId}."""

    TaskId: int
    ReceiverId: int | None = Field(description="the task's recipient group")
    Task: dict[str, Any] | None = Field(
        description="the task as SES ListSendTasks lists it (TaskStatus, RequestCount, "
        "SendCount, ...); null if SES did not list it or could not be asked (see TaskError)"
    )
    TaskError: LookupFailure | None = Field(description="why Task is null; null otherwise")
    EventCounts: dict[str, int] = Field(
        description="delivery events of the task's mails so far, counted per event kind"
    )


#: What a MessageId may not hold: C0/C1 controls, line separators, bidirectional overrides.
NO_CONTROLS = "^[^\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069]+$"
MODELS: list[type[BaseModel]] = [EmailRecord, BatchTaskRecord, RecordEvent, LookupFailure]

_READ_DENIED = "403: the key lacks the read action (api_keys.<name>.actions)"
_SCOPE = (
    "Needs an API key with the `read` action. A key sees the records of its own sends; a key "
    "with `read_all` sees every record. A record of another key is answered 404 like an "
    "unknown id. Records are kept SESRELAY_RECORD_RETENTION_DAYS (default 30) days."
)


def _ok(name: str, description: str) -> dict[str, Any]:
    schema = {"$ref": f"#/components/schemas/{name}"}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def record_paths(problem_responses: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """The two record paths; openapi.py passes its `_problem_responses`."""
    errors = problem_responses(401, 403, 404, 422, 503)
    email_id = {
        "name": "MessageId",
        "in": "path",
        "required": True,
        "description": "a MessageId POST /v1/emails answered",
        "schema": {
            "type": "string",
            "minLength": 1,
            "maxLength": 256,
            "pattern": NO_CONTROLS,
        },
    }
    task_id = {
        "name": "TaskId",
        "in": "path",
        "required": True,
        "description": "a TaskId POST /v1/batch-tasks (or a campaign) answered",
        "schema": {"type": "integer", "minimum": 1, "maximum": UINT64_MAX},
    }
    return {
        "/v1/emails/{MessageId}": {
            "get": {
                "summary": "A sent mail's record, its delivery events and (until the first "
                "event) its SES status",
                "description": _SCOPE + " " + _READ_DENIED + ".",
                "security": [{"bearer": []}],
                "parameters": [email_id],
                "responses": {"200": _ok("EmailRecord", "the record"), **errors},
            }
        },
        "/v1/batch-tasks/{TaskId}": {
            "get": {
                "summary": "A batch task's record, its SES task and its event counts",
                "description": _SCOPE + " SES ListSendTasks has no TaskId filter: the newest "
                "1000 tasks (of the task's group) are searched. " + _READ_DENIED + ".",
                "security": [{"bearer": []}],
                "parameters": [task_id],
                "responses": {"200": _ok("BatchTaskRecord", "the record"), **errors},
            }
        },
    }
