"""BatchSendEmail parameters: a template mail to a recipient list, now, at a set time or recurring.

Field names are Tencent's; the content rules (Subject, Template or Simple) are SendEmail's.
"""

# No `from __future__ import annotations` here: pydantic would eval every field annotation
# string when the class is created, a cost each cold start would pay for nothing.

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, ClassVar

from pydantic import BeforeValidator, ConfigDict, Field

from sesrelay.ses.addresses import EmailAddress, Sender
from sesrelay.ses.data_types import (
    UNSUBSCRIBE_HELP,
    AdLocationValue,
    CycleEmailParam,
    TaskTypeValue,
    Template,
    TimedEmailParam,
    UnsubscribeCode,
)
from sesrelay.ses.fields import TASK_TYPES, PositiveId, refuse
from sesrelay.ses.send_email import (
    FROM_HELP,
    SIMPLE_HELP,
    TEMPLATE_HELP,
    SimpleContent,
    SubjectText,
    template_errors,
    validation_context,
)
from sesrelay.ses.validation import CrossFieldError, SesRequest, parse_request

# An alias: in the class body, the field `Template` would hide the type of the same name.
_Template = Template


class BatchSendEmailParams(SesRequest):
    """BatchSendEmail: a template mail to a recipient list, now, at a set time or recurring."""

    ses_name: ClassVar[str] = "BatchSendEmail"
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "FromEmailAddress": "abc@bbc.com",
                    "ReplyToAddresses": "abc@bbc.com",
                    "ReceiverId": 123,
                    "Template": {"TemplateData": '{"name":"123"}', "TemplateID": 1},
                    "Subject": "Email subject",
                    "TaskType": 1,
                    "ADLocation": 0,
                }
            ]
        }
    )

    FromEmailAddress: Sender = Field(
        description=FROM_HELP, examples=["Example <noreply@example.com>"]
    )
    ReceiverId: PositiveId = Field(description="ID of the recipient list.", examples=[123])
    Subject: SubjectText
    TaskType: TaskTypeValue = Field(
        description="1 immediate, 2 scheduled (needs TimedParam), 3 recurring (needs CycleParam)."
    )
    ReplyToAddresses: EmailAddress | None = Field(None, description="One Reply-To address.")
    Template: _Template | None = Field(None, description=TEMPLATE_HELP)
    Simple: SimpleContent = Field(None, description=SIMPLE_HELP)
    Attachments: Annotated[
        None,
        BeforeValidator(
            refuse("attachments", "are not supported by SES for BatchSendEmail; use SendEmail")
        ),
    ] = Field(None, description="Not supported by SES for BatchSendEmail; always refused.")
    CycleParam: CycleEmailParam | None = Field(
        None, description="Required for TaskType 3, refused otherwise."
    )
    TimedParam: TimedEmailParam | None = Field(
        None, description="Required for TaskType 2, refused otherwise."
    )
    Unsubscribe: UnsubscribeCode | None = Field(None, description=UNSUBSCRIBE_HELP)
    ADLocation: AdLocationValue | None = Field(
        None, description="Ad tag: 0 none, 1 before the subject, 2 after the subject."
    )

    @classmethod
    def cross_field_errors(
        cls, data: Mapping[str, Any], context: Mapping[str, Any]
    ) -> list[CrossFieldError]:
        errors = template_errors(data)
        task_type = data.get("TaskType")
        if type(task_type) is not int or task_type not in TASK_TYPES:
            return errors  # TaskType's own error says what is wrong
        named = f"{task_type} ({TASK_TYPES[task_type]})"
        for field, wanted, code in (
            ("TimedParam", 2, "TimedParamNecessary"),
            ("CycleParam", 3, "CycleParamNecessary"),
        ):
            given = data.get(field) is not None
            if task_type == wanted and not given:
                message = f"is required when TaskType is {named} (SES MissingParameter.{code})"
                errors.append(CrossFieldError((field,), message))
            elif task_type != wanted and given:
                message = (
                    f"must not be given with TaskType {named}: {field} belongs to TaskType "
                    f"{wanted} ({TASK_TYPES[wanted]})"
                )
                errors.append(CrossFieldError((field,), message, supersedes=True))
        return errors


def validate_batch_send_email(
    data: object, *, now: datetime, allow_simple: bool = False
) -> BatchSendEmailParams:
    """BatchSendEmail parameters from a dict or raw JSON; InvalidInput lists every problem."""
    return parse_request(BatchSendEmailParams, data, validation_context(now, allow_simple))
