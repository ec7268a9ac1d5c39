"""SES SendEmail (one triggered mail to up to 50+20+20 recipients) and GetSendEmailStatus.

SendEmail puts one outbox entry per Destination, Cc and Bcc recipient, all with the same MessageId.
"""

from __future__ import annotations

import json
from typing import Any

from sesrelay.emulator.protocol import ApiError
from sesrelay.emulator.ses import params as p
from sesrelay.emulator.ses.addresses import is_address, normalize, parse_sender
from sesrelay.emulator.ses.render import Scalar, decode_base64, decode_text, render
from sesrelay.emulator.ses.rules import (
    check_subject,
    check_unsubscribe,
    is_verified_sender,
    require_variables,
    sender_address,
    template_data,
    template_variables,
)
from sesrelay.emulator.ses.store import (
    TEMPLATE_APPROVED,
    Mail,
    SesState,
    local_date,
    page,
    parse_day,
)

MAX_DESTINATION = 50
MAX_CC = 20
MAX_BCC = 20
MAX_ATTACHMENTS = 10
MAX_ATTACHMENT_BYTES = 4 * 1024 * 1024  # raw total; the FAQ caps a whole mail at 4 MB
MAX_FILE_NAME = 255
# GetSendEmailStatus's doc says 30 days; the text of its NotSupportDate error says 90.
STATUS_RETENTION_DAYS = 30


def _recipients(req: p.SendEmail) -> tuple[list[str], list[str], list[str]]:
    dest, cc, bcc = list(req.Destination or []), list(req.Cc or []), list(req.Bcc or [])
    if not (dest or cc or bcc):
        raise ApiError(
            "InvalidParameterValue.EmailAddressIsNULL", "Give at least one of Destination, Cc, Bcc."
        )
    for name, items, limit in (
        ("Destination", dest, MAX_DESTINATION),
        ("Cc", cc, MAX_CC),
        ("Bcc", bcc, MAX_BCC),
    ):
        if len(items) > limit:
            raise ApiError("FailedOperation.TooManyRecipients", f"{name} takes at most {limit}.")
        for n, address in enumerate(items):
            if not address.strip():
                raise ApiError("InvalidParameterValue.EmailAddressIsNULL", f"{name}.{n} is empty.")
            if not is_address(address):
                raise ApiError("FailedOperation.IncorrectEmail", f"{name}.{n} is not an address.")
    if {normalize(a) for a in bcc} & {normalize(a) for a in dest}:
        # No code is documented for this; RepeatEmailAddress means "sender already created".
        raise ApiError("InvalidParameterValue", "Bcc must not repeat a Destination address.")
    return dest, cc, bcc


def _content(state: SesState, req: p.SendEmail) -> tuple[str, str, str, dict[str, Scalar]]:
    """(subject, html, text, data) rendered for every recipient of this SendEmail."""
    if req.Simple is not None and not state.seed.allow_simple:
        raise ApiError(
            "FailedOperation.WithOutPermission",
            "This account may only send with templates (Simple needs a special permission).",
        )
    if req.Template is not None:
        template = state.templates.get(req.Template.TemplateID)
        if template is None or template.status != TEMPLATE_APPROVED:
            raise ApiError(
                "FailedOperation.InvalidTemplateID", "The template is missing or not approved."
            )
        if not req.Template.TemplateData:
            raise ApiError("FailedOperation.MissingEmailContent", "Template.TemplateData is empty.")
        data = template_data(req.Template.TemplateData, "FailedOperation.WrongContentJson")
        # TemplateNotMatchData is documented for BatchSendEmail only: the common code here.
        needed = template_variables(template, req.Subject)
        require_variables(needed, set(data), "InvalidParameterValue")
        return (
            render(req.Subject, data),
            render(template.html, data),
            render(template.text, data),
            data,
        )
    if req.Simple is None or not (req.Simple.Html or req.Simple.Text):
        raise ApiError("FailedOperation.MissingEmailContent", "Give Template (or Simple).")
    html = decode_text(req.Simple.Html) if req.Simple.Html else ""
    text = decode_text(req.Simple.Text) if req.Simple.Text else ""
    if html is None or text is None:
        raise ApiError(
            "InvalidParameterValue.EmailContentIsWrong", "Simple.Html/Text must be base64."
        )
    return req.Subject, html, text, {}


def _attachments(req: p.SendEmail) -> tuple[list[dict[str, Any]], list[bytes]]:
    """What SES reports of each attachment (name, size), and their decoded content."""
    items = req.Attachments or []
    if len(items) > MAX_ATTACHMENTS:
        raise ApiError(
            "FailedOperation.TooManyAttachments", f"At most {MAX_ATTACHMENTS} attachments."
        )
    out: list[dict[str, Any]] = []
    raws: list[bytes] = []
    total = 0
    for n, item in enumerate(items):
        if not item.FileName.strip() or len(item.FileName) > MAX_FILE_NAME:
            raise ApiError(
                "FailedOperation.InvalidAttachName", f"Attachments.{n}.FileName is invalid."
            )
        if item.FileURL:
            raise ApiError("UnsupportedOperation", "Attachment FileURL is not open; send Content.")
        raw = decode_base64(item.Content or "")
        if raw is None or not raw:
            raise ApiError(
                "InvalidParameterValue.AttachContentIsWrong",
                f"Attachments.{n}.Content must be non-empty base64.",
            )
        total += len(raw)
        out.append({"file_name": item.FileName, "size": len(raw)})
        raws.append(raw)
    if total > MAX_ATTACHMENT_BYTES:
        raise ApiError("FailedOperation.AttachContentToolarge", "Attachments exceed 4 MB in total.")
    return out, raws


def _check_headers(req: p.SendEmail) -> None:
    if req.TriggerType is not None and req.TriggerType not in (0, 1):
        raise ApiError("InvalidParameterValue", "TriggerType must be 0 or 1.")
    if req.ReplyToAddresses and not is_address(req.ReplyToAddresses):
        raise ApiError("FailedOperation.IncorrectEmail", "ReplyToAddresses is not an address.")
    if req.SmtpHeaders:
        try:
            headers = json.loads(req.SmtpHeaders)
        except json.JSONDecodeError:
            headers = None
        if not isinstance(headers, dict):
            raise ApiError("InvalidParameterValue", "SmtpHeaders must be a JSON object string.")


def send_email(state: SesState, req: p.SendEmail) -> dict[str, Any]:
    address = sender_address(req.FromEmailAddress, "FailedOperation.IncorrectSender")
    if not is_verified_sender(state, address):
        raise ApiError(
            "FailedOperation.NotAuthenticatedSender",
            "The sender address or its domain is not verified.",
        )
    check_subject(req.Subject, "InvalidParameterValue")  # SubjectLengthError: batch only
    dest, cc, bcc = _recipients(req)
    blocked = [a for a in dest + cc + bcc if state.blacklisted(a)]
    if blocked:
        raise ApiError(
            "FailedOperation.EmailAddrInBlacklist",
            f"{len(blocked)} recipient address(es) are in the blacklist.",
        )
    subject, html, text, data = _content(state, req)
    attachments, attachment_data = _attachments(req)
    check_unsubscribe(req.Unsubscribe)
    _check_headers(req)

    now = state.now()
    message_id = state.message_id(now)
    for to in dest + cc + bcc:
        state.record(
            Mail(
                message_id=message_id,
                task_id=None,
                action="SendEmail",
                from_address=req.FromEmailAddress,
                to=to,
                cc=cc,
                bcc=bcc,
                reply_to=req.ReplyToAddresses,
                subject=subject,
                html=html,
                text=text,
                template_id=req.Template.TemplateID if req.Template else None,
                template_data=data,
                attachments=attachments,
                unsubscribe=req.Unsubscribe,
                sent_at=now,
                attachment_data=attachment_data,
            )
        )
    return {"MessageId": message_id}


def _status(mail: Mail) -> dict[str, Any]:
    parsed = parse_sender(mail.from_address)
    sent = int(mail.sent_at.timestamp())
    return {
        "MessageId": mail.message_id,
        "ToEmailAddress": mail.to,
        "FromEmailAddress": parsed[1] if parsed else mail.from_address,
        "SendStatus": 0,  # accepted by Tencent
        "DeliverStatus": 1,  # delivered: the emulator has no mailbox provider to refuse it
        "DeliverMessage": "",
        "RequestTime": sent,
        "DeliverTime": sent,
        "UserOpened": False,
        "UserClicked": False,
        "UserUnsubscribed": False,
        "UserComplainted": False,
        "UserComplained": False,
    }


def get_send_email_status(state: SesState, req: p.GetSendEmailStatus) -> dict[str, Any]:
    day = parse_day(req.RequestDate)
    if day is None:
        raise ApiError("InvalidParameterValue.WrongDate", "RequestDate must be YYYY-MM-DD.")
    today = local_date(state.now())
    if day > today or (today - day).days > STATUS_RETENTION_DAYS:
        raise ApiError(
            "FailedOperation.NotSupportDate",
            f"RequestDate must be within the last {STATUS_RETENTION_DAYS} days.",
        )
    to = normalize(req.ToEmailAddress or "")
    found = [
        m
        for m in state.outbox
        if local_date(m.sent_at) == day
        and (not req.MessageId or m.message_id == req.MessageId)
        and (not to or normalize(m.to) == to)
    ]
    return {"EmailStatusList": [_status(m) for m in page(found, req.Offset, req.Limit)]}
