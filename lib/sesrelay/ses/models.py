"""Pydantic models of the SES SendEmail and BatchSendEmail parameters, with every documented rule.

Field names are Tencent's (SDK models.py); each rule's source is reference/ses.md section 1.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, Strict, ValidationInfo

from sesrelay.ses.data_types import (
    UNSUBSCRIBE_HELP,
    AdLocationValue,
    Attachment,
    CycleEmailParam,
    Simple,
    TaskTypeValue,
    Template,
    TimedEmailParam,
    TriggerTypeValue,
    UnsubscribeCode,
)
from sesrelay.ses.fields import (
    CONTEXT_ALLOW_SIMPLE,
    CONTEXT_NOW,
    MAX_ATTACHMENT_BYTES,
    TASK_TYPES,
    EmailAddress,
    HeaderText,
    PositiveId,
    Sender,
    SmtpHeadersText,
    check_no_controls,
    decoded_size,
    refuse,
    rule_error,
)
from sesrelay.ses.query_models import (
    GetSendEmailStatusParams,
    ListSendTasksParams,
    validate_get_send_email_status,
    validate_list_send_tasks,
)
from sesrelay.ses.validation import CrossFieldError, SesRequest, parse_request

__all__ = [
    "Attachment",
    "BatchSendEmailParams",
    "CycleEmailParam",
    "GetSendEmailStatusParams",
    "ListSendTasksParams",
    "SendEmailParams",
    "Simple",
    "Template",
    "TimedEmailParam",
    "validate_batch_send_email",
    "validate_get_send_email_status",
    "validate_list_send_tasks",
    "validate_send_email",
]

SIMPLE_REFUSED = (
    "is only for accounts that Tencent Cloud specially approved for Simple (deprecated) content; "
    "send a Template instead, or, if your account has that approval, enable it with "
    "SESRELAY_ALLOW_SIMPLE=true"
)


def _none_if_empty(value: list[Any]) -> list[Any] | None:
    return value or None  # an empty list means "none": it is left out of the SES request


def _simple_allowed(value: object, info: ValidationInfo) -> object:
    if value is not None and (info.context or {}).get(CONTEXT_ALLOW_SIMPLE) is not True:
        raise rule_error("simple_not_allowed", SIMPLE_REFUSED)
    return value


SubjectText = Annotated[
    str,
    Strict(),
    Field(min_length=1, max_length=100),
    AfterValidator(check_no_controls),
    Field(description="Subject, 1 to 100 characters; may use template variables."),
]
Recipients50 = Annotated[list[EmailAddress], Field(max_length=50), AfterValidator(_none_if_empty)]
Recipients20 = Annotated[list[EmailAddress], Field(max_length=20), AfterValidator(_none_if_empty)]


# Aliases: a field named like its type ("Template: Template") cannot be resolved by pydantic.
_Template = Template
_Simple = Simple
_Attachment = Attachment
_TimedEmailParam = TimedEmailParam
_CycleEmailParam = CycleEmailParam

_FROM = (
    "Sender: a verified address, or 'Alias <address>' with exactly one space before '<' "
    "and no ':' in the alias."
)
_TEMPLATE = "Template content; required unless Simple is given (SES MissingEmailContent)."
_SIMPLE = "Deprecated: only for specially approved accounts (SESRELAY_ALLOW_SIMPLE=true)."
_SIMPLE_FIELD = Annotated[_Simple | None, BeforeValidator(_simple_allowed)]


def _template_errors(data: Mapping[str, Any]) -> list[CrossFieldError]:
    if data.get("Template") is None and data.get("Simple") is None:
        return [
            CrossFieldError(
                ("Template",),
                "is required unless Simple is given (SES FailedOperation.MissingEmailContent)",
            )
        ]
    return []


class SendEmailParams(SesRequest):
    """SendEmail: one message to at most 50 To, 20 Cc and 20 Bcc addresses."""

    ses_name: ClassVar[str] = "SendEmail"
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "FromEmailAddress": "Example <noreply@mail.example.com>",
                    "Destination": ["user@example.com"],
                    "Subject": "Your verification code",
                    "Template": {"TemplateID": 100091, "TemplateData": '{"code":"1234"}'},
                    "TriggerType": 1,
                }
            ]
        }
    )

    FromEmailAddress: Sender = Field(description=_FROM, examples=["Example <noreply@example.com>"])
    Destination: Recipients50 | None = Field(
        None,
        description="To addresses, at most 50; each recipient sees the whole list. At least one "
        "of Destination, Cc and Bcc is required.",
    )
    Cc: Recipients20 | None = Field(None, description="Cc addresses, at most 20.")
    Bcc: Recipients20 | None = Field(
        None, description="Bcc addresses, at most 20, none of them also in Destination."
    )
    Subject: SubjectText
    ReplyToAddresses: EmailAddress | None = Field(
        None, description="One Reply-To address (a single string despite the plural name)."
    )
    Template: _Template | None = Field(None, description=_TEMPLATE)
    Simple: _SIMPLE_FIELD = Field(None, description=_SIMPLE)
    Attachments: (
        Annotated[list[_Attachment], Field(max_length=10), AfterValidator(_none_if_empty)] | None
    ) = Field(None, description="At most 10 attachments, at most 4 MB decoded in total.")
    Unsubscribe: UnsubscribeCode | None = Field(None, description=UNSUBSCRIBE_HELP)
    TriggerType: TriggerTypeValue | None = Field(
        None, description="0 non-triggered (marketing, default), 1 triggered (codes, receipts)."
    )
    SmtpMessageId: HeaderText | None = Field(None, description="Message-Id header of the mail.")
    SmtpHeaders: SmtpHeadersText | None = Field(
        None, description="Extra SMTP headers: a JSON object (or its text) of name -> value."
    )
    HeaderFrom: Sender | None = Field(
        None, description="From header; its domain should match FromEmailAddress."
    )

    @classmethod
    def cross_field_errors(
        cls, data: Mapping[str, Any], context: Mapping[str, Any]
    ) -> list[CrossFieldError]:
        errors = _template_errors(data)
        if all(data.get(name) in (None, [], ()) for name in ("Destination", "Cc", "Bcc")):
            errors.append(
                CrossFieldError(
                    ("Destination",),
                    "at least one of Destination, Cc or Bcc must list a recipient (SES rule)",
                )
            )
        to, bcc = data.get("Destination"), data.get("Bcc")
        if isinstance(to, (list, tuple)) and isinstance(bcc, (list, tuple)):
            seen = {address.lower() for address in to if isinstance(address, str)}
            errors += [
                CrossFieldError(("Bcc", index), "must not also be in Destination (SES rule)")
                for index, address in enumerate(bcc)
                if isinstance(address, str) and address.lower() in seen
            ]
        attachments = data.get("Attachments")
        if isinstance(attachments, (list, tuple)):
            contents = [item.get("Content") for item in attachments if isinstance(item, dict)]
            total = sum(decoded_size(text) for text in contents if isinstance(text, str))
            if total > MAX_ATTACHMENT_BYTES:
                errors.append(
                    CrossFieldError(("Attachments",), "must total at most 4 MB decoded (SES limit)")
                )
        return errors


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

    FromEmailAddress: Sender = Field(description=_FROM, examples=["Example <noreply@example.com>"])
    ReceiverId: PositiveId = Field(description="ID of the recipient list.", examples=[123])
    Subject: SubjectText
    TaskType: TaskTypeValue = Field(
        description="1 immediate, 2 scheduled (needs TimedParam), 3 recurring (needs CycleParam)."
    )
    ReplyToAddresses: EmailAddress | None = Field(None, description="One Reply-To address.")
    Template: _Template | None = Field(None, description=_TEMPLATE)
    Simple: _SIMPLE_FIELD = Field(None, description=_SIMPLE)
    Attachments: Annotated[
        None,
        BeforeValidator(
            refuse("attachments", "are not supported by SES for BatchSendEmail; use SendEmail")
        ),
    ] = Field(None, description="Not supported by SES for BatchSendEmail; always refused.")
    CycleParam: _CycleEmailParam | None = Field(
        None, description="Required for TaskType 3, refused otherwise."
    )
    TimedParam: _TimedEmailParam | None = Field(
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
        errors = _template_errors(data)
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


def _context(now: datetime, allow_simple: bool) -> dict[str, object]:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")
    return {CONTEXT_NOW: now, CONTEXT_ALLOW_SIMPLE: allow_simple}


def validate_send_email(
    data: object, *, now: datetime, allow_simple: bool = False
) -> SendEmailParams:
    """SendEmail parameters from a dict or raw JSON; raises InvalidInput listing every problem."""
    return parse_request(SendEmailParams, data, _context(now, allow_simple))


def validate_batch_send_email(
    data: object, *, now: datetime, allow_simple: bool = False
) -> BatchSendEmailParams:
    """BatchSendEmail parameters from a dict or raw JSON; InvalidInput lists every problem."""
    return parse_request(BatchSendEmailParams, data, _context(now, allow_simple))
