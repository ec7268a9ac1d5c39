"""SES data types and enumerations used inside the send actions (Template, Attachment, ...).

Names and fields follow Tencent's "Data Types" page (1084/39418) and the SDK's models.py.
"""

# No `from __future__ import annotations` here: pydantic would eval every field annotation
# string when the class is created, a cost each cold start would pay for nothing.

from typing import Annotated, ClassVar

from pydantic import AfterValidator, BeforeValidator, Field, Strict, model_validator
from typing_extensions import Self

from sesrelay.ses.fields import (
    TASK_TYPES,
    Base64Text,
    BeginTimeText,
    PositiveId,
    TemplateDataText,
    check_not_blank,
    int_choice,
    refuse,
)
from sesrelay.ses.rules import check_no_controls, rule_error
from sesrelay.ses.validation import SesModel


def _check_file_name(value: str) -> str:
    # A recipient's mail client joins the name to a folder: a path would save elsewhere.
    if "/" in value or "\\" in value:
        raise rule_error("file_name", "must be a file name only: no '/' or '\\' (no folders)")
    if not value.replace(".", "").strip():
        raise rule_error("file_name", "must be a file name, not '.' or '..' (not only dots)")
    return value


FileNameText = Annotated[
    str,
    Strict(),
    Field(min_length=1, max_length=255),
    AfterValidator(check_no_controls),
    AfterValidator(check_not_blank),
    AfterValidator(_check_file_name),
]
#: SES has no upper bound for the recurrence; over ten years is surely a mistake (and past what
#: a calendar date can hold for long), so the relay stops there.
MAX_INTERVAL_HOURS = 10 * 365 * 24
UNSUBSCRIBE_CODES = [str(code) for code in range(13)]


def _check_unsubscribe(value: str) -> str:
    if value not in UNSUBSCRIBE_CODES:
        raise rule_error("choice", 'must be one of the strings "0" (no link) to "12" (SES enum)')
    return value


UnsubscribeCode = Annotated[
    str,
    Strict(),
    AfterValidator(_check_unsubscribe),
    Field(json_schema_extra={"enum": UNSUBSCRIBE_CODES}),
]
UNSUBSCRIBE_HELP = (
    "Unsubscribe link language: 0 none, 1 zh-CN, 2 en, 3 zh-TW, 4 es, 5 fr, 6 de, 7 ja, "
    "8 ko, 9 ar, 10 th, 11 id, 12 vi."
)
TaskTypeValue = Annotated[
    int,
    Strict(),
    AfterValidator(int_choice(TASK_TYPES)),
    Field(json_schema_extra={"enum": [1, 2, 3]}),
]
TriggerTypeValue = Annotated[
    int,
    Strict(),
    AfterValidator(int_choice({0: "non-triggered", 1: "triggered"})),
    Field(json_schema_extra={"enum": [0, 1]}),
]
AdLocationValue = Annotated[
    int,
    Strict(),
    AfterValidator(int_choice({0: "no ad tag", 1: "before the subject", 2: "after the subject"})),
    Field(json_schema_extra={"enum": [0, 1, 2]}),
]
TermCycleValue = Annotated[
    int,
    Strict(),
    AfterValidator(int_choice({0: "no", 1: "end the cycle"})),
    Field(json_schema_extra={"enum": [0, 1]}),
]


class Template(SesModel):
    """Template-based content: an approved template and the values of its variables."""

    ses_name: ClassVar[str] = "Template"

    TemplateID: PositiveId = Field(description="ID of an approved SES template.", examples=[100091])
    TemplateData: TemplateDataText = Field(
        description="Template variables as a flat key-value JSON object, or its JSON text "
        "(always sent as JSON text). Values must be strings, numbers, booleans or null.",
        examples=['{"code":"1234"}', {"name": "Ada", "code": "1234"}],
    )


class Simple(SesModel):
    """Deprecated direct content, only for accounts that Tencent Cloud specially approved."""

    ses_name: ClassVar[str] = "Simple"

    Html: Base64Text | None = Field(None, description="Base64 of the HTML body (inline CSS only).")
    Text: Base64Text | None = Field(None, description="Base64 of the plain-text body.")

    @model_validator(mode="after")
    def _has_content(self) -> Self:
        if not self.Html and not self.Text:
            raise rule_error("simple_empty", "must give Html or Text (base64 of the body)")
        return self


class Attachment(SesModel):
    """One attachment, sent inline as base64 (SendEmail only)."""

    ses_name: ClassVar[str] = "Attachment"

    FileName: FileNameText = Field(
        description="File name, 1 to 255 characters, without '/' or '\\' and not only dots; "
        "SES refuses some file types.",
        examples=["invoice.pdf"],
    )
    Content: Annotated[Base64Text, Field(min_length=1)] = Field(
        description="Base64 of the file. Required here (FileURL is not available); all "
        "attachments together must stay within 4 MB decoded.",
    )
    FileURL: Annotated[
        None, BeforeValidator(refuse("file_url", "is not open (SES: 'not open, do not use')"))
    ] = Field(None, description="Not open in SES; always refused. Use Content.")


class TimedEmailParam(SesModel):
    """When a scheduled (TaskType 2) batch task starts."""

    ses_name: ClassVar[str] = "TimedEmailParam"

    BeginTime: BeginTimeText = Field(
        description="Start, 'YYYY-MM-DD hh:mm:ss' in UTC+8; must not be in the past."
    )


class CycleEmailParam(SesModel):
    """When a recurring (TaskType 3) batch task starts and how often it repeats."""

    ses_name: ClassVar[str] = "CycleEmailParam"

    BeginTime: BeginTimeText = Field(
        description="First run, 'YYYY-MM-DD hh:mm:ss' in UTC+8; must not be in the past."
    )
    IntervalTime: Annotated[int, Strict(), Field(ge=1, le=MAX_INTERVAL_HOURS)] = Field(
        description="Hours between runs, 1 to 87600 (ten years).", examples=[24]
    )
    TermCycle: TermCycleValue | None = Field(
        None, description="1 ends the cycle (for task updates), 0 keeps it."
    )
