"""SES actions on the account's catalogue: templates, sender addresses and the custom blacklist."""

from __future__ import annotations

import base64
from datetime import date
from typing import Any

from sesrelay.emulator.protocol import ApiError
from sesrelay.emulator.ses import params as p
from sesrelay.emulator.ses.addresses import MAX_ADDRESS_LENGTH, is_address, normalize
from sesrelay.emulator.ses.store import BlackEntry, SesState, local_text, page, parse_day


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def list_email_templates(state: SesState, req: p.ListEmailTemplates) -> dict[str, Any]:
    templates = sorted(state.templates.values(), key=lambda t: t.id)
    return {
        "TemplatesMetadata": [
            {
                "CreatedTimestamp": int(t.created_at.timestamp()),
                "TemplateName": t.name,
                "TemplateStatus": t.status,
                "TemplateID": t.id,
                "ReviewReason": t.review_reason,
            }
            for t in page(templates, req.Offset, req.Limit)
        ],
        "TotalCount": len(templates),
    }


def get_email_template(state: SesState, req: p.GetEmailTemplate) -> dict[str, Any]:
    template = state.templates.get(req.TemplateID)
    if template is None:
        raise ApiError("InvalidParameterValue.TemplateNotExist", "The template does not exist.")
    content = {}
    if template.html:
        content["Html"] = _b64(template.html)
    if template.text:
        content["Text"] = _b64(template.text)
    return {
        "TemplateContent": content,
        "TemplateStatus": template.status,
        "TemplateName": template.name,
    }


def list_email_address(state: SesState, req: p.ListEmailAddress) -> dict[str, Any]:
    return {
        "EmailSenders": [
            {
                "EmailAddress": s.address,
                "EmailSenderName": s.name,
                "CreatedTimestamp": int(s.created_at.timestamp()),
                "SmtpPwdType": 1 if s.smtp_password else 0,
            }
            for s in state.senders.values()
        ]
    }


def _expire_date(text: str | None) -> date | None:
    if not text:
        return None  # empty means permanent
    day = parse_day(text)
    if day is None:
        raise ApiError("InvalidParameterValue.WrongDate", "ExpireDate must be YYYY-MM-DD.")
    return day


def create_custom_blacklist(state: SesState, req: p.CreateCustomBlacklist) -> dict[str, Any]:
    if not req.Emails:
        raise ApiError("MissingParameter.EmailsNecessary", "Emails must not be empty.")
    expire = _expire_date(req.ExpireDate)
    known = {normalize(e.email) for e in state.custom_blacklist.values()}
    valid = too_long = repeat = invalid = 0
    for raw in req.Emails:
        email = raw.strip()
        if len(email) > MAX_ADDRESS_LENGTH:
            too_long += 1
        elif not is_address(email):
            invalid += 1
        elif normalize(email) in known:
            repeat += 1
        else:
            known.add(normalize(email))
            entry = BlackEntry(state.next_black_id, email, state.now(), expire)
            state.custom_blacklist[entry.id] = entry
            state.next_black_id += 1
            valid += 1
    return {
        "TotalCount": len(req.Emails),
        "ValidCount": valid,
        "TooLongCount": too_long,
        "RepeatCount": repeat,
        "InvalidCount": invalid,
    }


def list_custom_blacklist(state: SesState, req: p.ListCustomBlacklist) -> dict[str, Any]:
    if req.Status not in (0, 1, 2):
        raise ApiError(
            "InvalidParameterValue", "Status must be 0 (expired), 1 (active) or 2 (all)."
        )
    now = state.now()
    entries = [
        e
        for e in sorted(state.custom_blacklist.values(), key=lambda e: e.id, reverse=True)
        if (req.Status == 2 or int(e.active(now)) == req.Status)
        and (not req.Email or normalize(req.Email) in normalize(e.email))
    ]
    return {
        "TotalCount": len(entries),
        "Data": [
            {
                "Id": e.id,
                "Email": e.email,
                "CreateTime": local_text(e.created_at),
                "ExpireDate": e.expire_date.isoformat() if e.expire_date else "",
                "Status": int(e.active(now)),
            }
            for e in page(entries, req.Offset, req.Limit)
        ],
    }


def delete_custom_blacklist(state: SesState, req: p.DeleteCustomBlackList) -> dict[str, Any]:
    if not req.Emails:  # EmailsNecessary is not documented for this action
        raise ApiError("MissingParameter", "Emails must not be empty.")
    gone = {normalize(e) for e in req.Emails}
    for entry_id in [i for i, e in state.custom_blacklist.items() if normalize(e.email) in gone]:
        del state.custom_blacklist[entry_id]
    return {}


def update_custom_blacklist(state: SesState, req: p.UpdateCustomBlackList) -> dict[str, Any]:
    entry = state.custom_blacklist.get(req.Id)
    if entry is None:
        raise ApiError("ResourceNotFound", "No custom blacklist entry has this Id.")
    if not is_address(req.Email.strip()):
        raise ApiError("InvalidParameterValue.IllegalEmailAddress", "Email is not an address.")
    entry.email = req.Email.strip()
    entry.expire_date = _expire_date(req.ExpireDate)
    return {}
