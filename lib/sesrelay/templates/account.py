"""The SES account's templates as `sesrelay templates sync` reads and writes them: one SES call
per method, through the gateway port (the official SDK, against SES or the emulator)."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from sesrelay.clock import Clock, Deadline
from sesrelay.errors import RelayError
from sesrelay.gateway import SesGateway
from sesrelay.template_names import TooManyTemplates, iter_templates
from sesrelay.templates.folder import TemplateFile

#: Time for one SES call, retries included.
CALL_SECONDS = 30.0
#: TemplateStatus as SES reports it; anything else is unavailable.
APPROVED, UNDER_REVIEW, REJECTED = 0, 1, 2


@dataclass(frozen=True)
class AccountTemplate:
    """One template of the account, as ListEmailTemplates describes it."""

    template_id: int
    name: str
    status: int
    review_reason: str = ""

    def status_text(self) -> str:
        """`approved`, `under review`, `rejected: why` or `unavailable (status N)`."""
        if self.status == APPROVED:
            return "approved"
        if self.status == UNDER_REVIEW:
            return "under review"
        if self.status == REJECTED:
            reason = " ".join(self.review_reason.split())[:200]
            return f"rejected: {reason}" if reason else "rejected"
        return f"unavailable (TemplateStatus {self.status})"


class Account:
    """The SES calls of a sync: list, read content, create, update, delete."""

    def __init__(self, ses: SesGateway, clock: Clock) -> None:
        self._ses, self._clock = ses, clock

    def _call(self, action: str, params: dict[str, Any]) -> dict[str, Any]:
        return self._ses.call(action, params, Deadline(self._clock, CALL_SECONDS))

    def templates(self) -> list[AccountTemplate]:
        """Every template of the account (ListEmailTemplates, page after page), by TemplateID."""
        try:
            listed = list(iter_templates(self._ses, Deadline(self._clock, CALL_SECONDS)))
        except TooManyTemplates as exc:
            raise RelayError(str(exc), code="too_many_templates") from None
        found = []
        for item in listed:
            template_id, status = item.get("TemplateID"), item.get("TemplateStatus")
            if not isinstance(template_id, int) or not isinstance(status, int):
                continue
            reason = item.get("ReviewReason")
            found.append(
                AccountTemplate(
                    template_id,
                    str(item.get("TemplateName") or ""),
                    status,
                    reason if isinstance(reason, str) else "",
                )
            )
        return sorted(found, key=lambda t: t.template_id)

    def content(self, template_id: int) -> tuple[str, str]:
        """(html, text) of a template (GetEmailTemplate), decoded; an absent part is ""."""
        reply = self._call("GetEmailTemplate", {"TemplateID": template_id})
        parts = reply.get("TemplateContent") or {}
        return _decoded(parts.get("Html")), _decoded(parts.get("Text"))

    def create(self, template: TemplateFile) -> int:
        """CreateEmailTemplate; the new TemplateID."""
        reply = self._call(
            "CreateEmailTemplate",
            {"TemplateName": template.name, "TemplateContent": content_of(template)},
        )
        return int(reply["TemplateID"])

    def update(self, template_id: int, template: TemplateFile) -> None:
        """UpdateEmailTemplate: the name and the whole content (a part left out is removed)."""
        self._call(
            "UpdateEmailTemplate",
            {
                "TemplateID": template_id,
                "TemplateName": template.name,
                "TemplateContent": content_of(template),
            },
        )

    def delete(self, template_id: int) -> None:
        """DeleteEmailTemplate."""
        self._call("DeleteEmailTemplate", {"TemplateID": template_id})


def content_of(template: TemplateFile) -> dict[str, str]:
    """TemplateContent for SES: the parts the file has, base64 of their UTF-8."""
    parts = {"Html": template.html, "Text": template.text}
    return {
        key: base64.b64encode(value.encode("utf-8")).decode("ascii")
        for key, value in parts.items()
        if value
    }


def _decoded(value: object) -> str:
    if not isinstance(value, str) or not value:
        return ""
    try:
        return base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        # Not what this folder would have sent: shown as different, so an update rewrites it.
        return "\0undecodable"
