"""SES CreateEmailTemplate, UpdateEmailTemplate and DeleteEmailTemplate, with Tencent's review.

A created or updated template is under review (TemplateStatus 1) until the emulator clock passes
the seed's `template_review_seconds` (600 by default), when it is approved (0); until then
SendEmail answers `FailedOperation.InvalidTemplateID` and BatchSendEmail
`OperationDenied.TemplateStatusError` for it. `POST /_emulator/templates/approve` and
`/_emulator/templates/reject` end a review at once, as Tencent's reviewer would.

Rules Tencent does not publish, and what the emulator takes:
- Updating a template under review is accepted and starts its review again: the action's
  documented codes have none for a template's status, and "after an update the template is
  reviewed again" is all the API page says.
- Names may repeat (there is no "repeated template name" code, as there is for recipient lists);
  a name is 1 to `MAX_NAME_LENGTH` characters without control characters.
- Content is at most `MAX_CONTENT_BYTES` (Html and Text decoded), the size of a whole mail.
- DeleteEmailTemplate refuses (`OperationDenied`) a template that a scheduled or recurring
  BatchSendEmail task will still send with.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sesrelay.emulator.protocol import ApiError
from sesrelay.emulator.ses import params as p
from sesrelay.emulator.ses.render import decode_text
from sesrelay.emulator.ses.store import (
    TEMPLATE_APPROVED,
    TEMPLATE_REJECTED,
    TEMPLATE_UNDER_REVIEW,
    SesState,
    Template,
)

MAX_NAME_LENGTH = 64
MAX_CONTENT_BYTES = 4 * 1024 * 1024  # the FAQ caps a whole mail at 4 MB
CONTROL_PREFIX = "/_emulator/templates"


def _name(raw: str, empty_code: str) -> str:
    name = raw.strip()
    if not name:
        raise ApiError(empty_code, "TemplateName must not be empty.")
    if len(name) > MAX_NAME_LENGTH or any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise ApiError(
            "InvalidParameterValue.TemplateNameIllegal",
            f"TemplateName must be 1-{MAX_NAME_LENGTH} characters without control characters.",
        )
    return name


def _content(content: p.TemplateContent, too_large_code: str) -> tuple[str, str]:
    """(html, text) decoded from TemplateContent's base64 parts."""
    parts = []
    for field, raw in (("Html", content.Html), ("Text", content.Text)):
        decoded = decode_text(raw) if raw else ""
        if decoded is None:
            raise ApiError(
                "InvalidParameterValue.TemplateContentIsWrong",
                f"TemplateContent.{field} must be base64 of UTF-8 text.",
            )
        parts.append(decoded)
    html, text = parts
    if not (html or text):
        raise ApiError(
            "InvalidParameterValue.TemplateContentIsNULL",
            "TemplateContent needs Html or Text (base64, not empty).",
        )
    if len(html.encode("utf-8")) + len(text.encode("utf-8")) > MAX_CONTENT_BYTES:
        raise ApiError(too_large_code, "TemplateContent is over 4 MiB (Html and Text decoded).")
    return html, text


def _review_due(state: SesState, now: datetime) -> datetime:
    return now + timedelta(seconds=state.seed.template_review_seconds)


def create_email_template(state: SesState, req: p.CreateEmailTemplate) -> dict[str, Any]:
    name = _name(req.TemplateName, "InvalidParameterValue.TemplateNameIllegal")
    html, text = _content(req.TemplateContent, "FailedOperation.TemplateContentToolarge")
    if len(state.templates) >= state.seed.max_templates:
        raise ApiError(
            "FailedOperation.ExceedTemplateLimit",
            f"The account holds {state.seed.max_templates} templates, its maximum.",
        )
    now = state.now()
    template = Template(
        state.next_template_id, name, TEMPLATE_UNDER_REVIEW, "", html, text, now,
        review_due=_review_due(state, now),
    )  # fmt: skip
    state.templates[template.id] = template
    state.next_template_id += 1
    return {"TemplateID": template.id}


def update_email_template(state: SesState, req: p.UpdateEmailTemplate) -> dict[str, Any]:
    template = state.templates.get(req.TemplateID)
    if template is None:
        raise ApiError("InvalidParameterValue.TemplateNotExist", "The template does not exist.")
    name = _name(req.TemplateName, "InvalidParameterValue.TemplateNameIsNULL")
    # TemplateContentToolarge is documented for CreateEmailTemplate only: the common code here.
    html, text = _content(req.TemplateContent, "InvalidParameterValue")
    template.name, template.html, template.text = name, html, text
    template.status, template.review_reason = TEMPLATE_UNDER_REVIEW, ""
    template.review_due = _review_due(state, state.now())
    return {}


def delete_email_template(state: SesState, req: p.DeleteEmailTemplate) -> dict[str, Any]:
    if req.TemplateID not in state.templates:
        # TemplateNotExist is documented for GetEmailTemplate and UpdateEmailTemplate only.
        raise ApiError("InvalidParameterValue", "The template does not exist.")
    waiting = sorted(
        t.id
        for t in state.tasks.values()
        if t.template_id == req.TemplateID and t.next_run is not None
    )
    if waiting:
        raise ApiError(
            "OperationDenied",
            f"BatchSendEmail task(s) {', '.join(map(str, waiting))} will still send with it.",
        )
    del state.templates[req.TemplateID]
    return {}


def finish_reviews(state: SesState, now: datetime) -> None:
    """Approve every template whose review time has passed."""
    for template in state.templates.values():
        due = template.review_due
        if template.status == TEMPLATE_UNDER_REVIEW and due is not None and due <= now:
            template.status, template.review_due = TEMPLATE_APPROVED, None


# -- /_emulator/templates -----------------------------------------------------------------------


def _describe(template: Template) -> dict[str, Any]:
    return {
        "TemplateID": template.id,
        "TemplateName": template.name,
        "TemplateStatus": template.status,
        "ReviewReason": template.review_reason,
    }


def _spec(body: bytes, keys: set[str]) -> dict[str, Any]:
    try:
        spec = json.loads(body or b"{}")
    except (UnicodeDecodeError, json.JSONDecodeError):
        spec = None
    if not isinstance(spec, dict) or not set(spec) <= keys or not spec:
        raise ValueError
    return spec


def _review(state: SesState, path: str, body: bytes) -> tuple[int, Any]:
    """approve: {"TemplateID": n} or {"all": true}; reject: {"TemplateID": n, "ReviewReason"}."""
    approve = path.endswith("/approve")
    usage = (
        'send {"TemplateID": n} or {"all": true}'
        if approve
        else 'send {"TemplateID": n, "ReviewReason": "why"}'
    )
    try:
        spec = _spec(body, {"TemplateID", "all"} if approve else {"TemplateID", "ReviewReason"})
    except ValueError:
        return 400, {"error": usage}
    reason = spec.get("ReviewReason", "")
    if approve and spec == {"all": True}:
        chosen = [t for t in state.templates.values() if t.status == TEMPLATE_UNDER_REVIEW]
    else:
        wanted = spec.get("TemplateID")
        if isinstance(wanted, bool) or not isinstance(wanted, int) or not isinstance(reason, str):
            return 400, {"error": usage}
        if wanted not in state.templates:
            return 404, {"error": f"no template {wanted}"}
        chosen = [state.templates[wanted]]
    for template in chosen:
        template.review_due = None
        if approve:
            template.status, template.review_reason = TEMPLATE_APPROVED, ""
        else:
            template.status, template.review_reason = TEMPLATE_REJECTED, reason
    return 200, {"templates": [_describe(t) for t in chosen]}


def control(state: SesState, method: str, path: str, body: bytes) -> tuple[int, Any] | None:
    """`POST /_emulator/templates/approve` and `/_emulator/templates/reject`; None for other
    paths. (`GET /_emulator/templates`, the inbox page's view, lists the templates.)"""
    if path not in (f"{CONTROL_PREFIX}/approve", f"{CONTROL_PREFIX}/reject"):
        return None
    if method != "POST":
        return 405, {"error": f"{path} accepts POST"}
    return _review(state, path, body)
