"""SendEmail parameters, with every rule SES documents for them; field names are Tencent's.

Also the content rules BatchSendEmail shares (Subject, Template or Simple, the validation context).
"""

# No `from __future__ import annotations` here: pydantic would eval every field annotation
# string when the class is created, a cost each cold start would pay for nothing.

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, Strict, ValidationInfo

from sesrelay.ses.addresses import EmailAddress, Sender
from sesrelay.ses.data_types import (
    UNSUBSCRIBE_HELP,
    Attachment,
    Simple,
    Template,
    TriggerTypeValue,
    UnsubscribeCode,
)
from sesrelay.ses.fields import (
    MAX_ATTACHMENT_BYTES,
    HeaderText,
    SmtpHeadersText,
    check_not_blank,
    decoded_size,
)
from sesrelay.ses.headers import reserved_header_errors, subject_value_errors
from sesrelay.ses.rules import CONTEXT_ALLOW_SIMPLE, CONTEXT_NOW, check_no_controls, rule_error
from sesrelay.ses.validation import CrossFieldError, SesRequest, parse_request

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
    AfterValidator(check_not_blank),
    Field(description="Subject, 1 to 100 characters, not blank; may use template variables."),
]
Recipients50 = Annotated[list[EmailAddress], Field(max_length=50), AfterValidator(_none_if_empty)]
Recipients20 = Annotated[list[EmailAddress], Field(max_length=20), AfterValidator(_none_if_empty)]


# An alias: in the class body, the field `Template` would hide the type of the same name.
_Template = Template

FROM_HELP = (
    "Sender: a verified address, or 'Alias <address>' with exactly one space before '<' "
    "and no ':' in the alias."
)
TEMPLATE_HELP = "Template content; required unless Simple is given (SES MissingEmailContent)."
SIMPLE_HELP = "Deprecated: only for specially approved accounts (SESRELAY_ALLOW_SIMPLE=true)."
SimpleContent = Annotated[Simple | None, BeforeValidator(_simple_allowed)]


def template_errors(data: Mapping[str, Any]) -> list[CrossFieldError]:
    """Content is given; the Subject's template values are header-safe."""
    if data.get("Template") is None and data.get("Simple") is None:
        return [
            CrossFieldError(
                ("Template",),
                "is required unless Simple is given (SES FailedOperation.MissingEmailContent)",
            )
        ]
    return subject_value_errors(data)


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

    FromEmailAddress: Sender = Field(
        description=FROM_HELP, examples=["Example <noreply@example.com>"]
    )
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
    Template: _Template | None = Field(None, description=TEMPLATE_HELP)
    Simple: SimpleContent = Field(None, description=SIMPLE_HELP)
    Attachments: (
        Annotated[list[Attachment], Field(max_length=10), AfterValidator(_none_if_empty)] | None
    ) = Field(None, description="At most 10 attachments, at most 4 MB decoded in total.")
    Unsubscribe: UnsubscribeCode | None = Field(None, description=UNSUBSCRIBE_HELP)
    TriggerType: TriggerTypeValue | None = Field(
        None, description="0 non-triggered (marketing, default), 1 triggered (codes, receipts)."
    )
    SmtpMessageId: HeaderText | None = Field(None, description="Message-Id header of the mail.")
    SmtpHeaders: SmtpHeadersText | None = Field(
        None,
        description="Extra SMTP headers: a JSON object (or its text) of name -> value; not From, "
        "Sender, Reply-To, To, Cc, Bcc or Return-Path, which SES writes from the other fields.",
    )
    HeaderFrom: Sender | None = Field(
        None, description="From header; its domain should match FromEmailAddress."
    )

    @classmethod
    def cross_field_errors(
        cls, data: Mapping[str, Any], context: Mapping[str, Any]
    ) -> list[CrossFieldError]:
        errors = template_errors(data) + reserved_header_errors(data)
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


def validation_context(now: datetime, allow_simple: bool) -> dict[str, object]:
    """What a send action's rules read besides the input: the time now, the Simple approval."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")
    return {CONTEXT_NOW: now, CONTEXT_ALLOW_SIMPLE: allow_simple}


def validate_send_email(
    data: object, *, now: datetime, allow_simple: bool = False
) -> SendEmailParams:
    """SendEmail parameters from a dict or raw JSON; raises InvalidInput listing every problem."""
    return parse_request(SendEmailParams, data, validation_context(now, allow_simple))
