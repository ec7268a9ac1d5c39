"""What SES would refuse a campaign for, checked before its first write.

SES judges the sender and the template only at BatchSendEmail, the campaign's last write: by
then every group has been created and uploaded, and the campaign fails with groups left behind.
Two reads answer those questions first: ListEmailAddress (the account's sender addresses) and
GetEmailTemplate (does the template exist, is it approved, which `{{variables}}` does it use).
`check` reports every problem at once, by field. A read that fails (SES unreachable, throttled,
no permission) raises its SesError: a campaign that could not be checked is not started.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Collection
from dataclasses import dataclass

from sesrelay.campaigns.model import CampaignSpec
from sesrelay.clock import Deadline
from sesrelay.errors import FieldError, SesError
from sesrelay.gateway import SesGateway
from sesrelay.ses.addresses import sender_address
from sesrelay.ses.headers import subject_variables

#: TemplateStatus (GetEmailTemplate, ListEmailTemplates): SES sends only approved templates.
APPROVED = 0
_STATUS_TEXT = {1: "under review", 2: "rejected"}
#: What GetEmailTemplate answers for a TemplateID the account does not have.
_NO_SUCH_TEMPLATE = ("InvalidParameterValue.TemplateNotExist", "ResourceNotFound")
_SHOWN_NAMES = 10


@dataclass(frozen=True)
class Template:
    """The campaign's template as GetEmailTemplate describes it."""

    template_id: int
    name: str
    status: int  # TemplateStatus: 0 approved, 1 under review, 2 rejected, else unavailable
    variables: frozenset[str]  # the `{{names}}` its HTML and text use


@dataclass(frozen=True)
class Account:
    """What SES said: its sender addresses (lower case) and the template (None: no such id)."""

    senders: frozenset[str]
    template: Template | None


@dataclass(frozen=True)
class DataSource:
    """Where a campaign's variables come from, for the problem that names a missing one:
    `field` is the field reported, `text` completes "..., but <text> provides it"."""

    field: str
    text: str


def _decode(value: object) -> str:
    """Template content as GetEmailTemplate sends it (base64); '' when absent or unreadable."""
    if not isinstance(value, str) or not value:
        return ""
    try:
        return base64.b64decode(value, validate=False).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return ""


def read_account(ses: SesGateway, template_id: int, deadline: Deadline) -> Account:
    """The two reads: ListEmailAddress, then GetEmailTemplate. Raises SesError when either
    fails, except GetEmailTemplate's "no such template" (an answer, not a failure)."""
    listed = ses.call("ListEmailAddress", {}, deadline).get("EmailSenders") or []
    senders = frozenset(
        str(item.get("EmailAddress") or "").strip().lower()
        for item in listed
        if isinstance(item, dict)
    )
    try:
        found = ses.call("GetEmailTemplate", {"TemplateID": template_id}, deadline)
    except SesError as error:
        if error.code.startswith(_NO_SUCH_TEMPLATE):
            return Account(senders, None)
        raise
    content = found.get("TemplateContent") or {}
    texts = (_decode(content.get("Html")), _decode(content.get("Text")))
    status = found.get("TemplateStatus")
    template = Template(
        template_id=template_id,
        name=str(found.get("TemplateName") or "")[:64],
        status=status if isinstance(status, int) else -1,
        variables=frozenset(name for text in texts for name in subject_variables(text)),
    )
    return Account(senders, template)


def _braces(names: Collection[str]) -> str:
    shown = ["{{" + name[:40] + "}}" for name in sorted(names)[:_SHOWN_NAMES]]
    return ", ".join(shown) + (", ..." if len(names) > _SHOWN_NAMES else "")


def _missing(missing: list[str], provided: Collection[str], source: DataSource) -> FieldError:
    by_case = {name.lower(): name for name in provided}
    near = [by_case[name.lower()] for name in missing if name.lower() in by_case]
    text = f"the template and Subject use {_braces(missing)}, but {source.text} provides " + (
        "it" if len(missing) == 1 else "them"
    )
    if near:
        names = ", ".join(f'"{name[:40]}"' for name in near[:_SHOWN_NAMES])
        text += f" (there is {names}: variable names are case-sensitive)"
    text += "; SES would refuse the batch task (InvalidParameterValue.TemplateNotMatchData)"
    return FieldError(source.field, text)


def problems(
    spec: CampaignSpec, account: Account, provided: Collection[str] | None, source: DataSource
) -> list[FieldError]:
    """Everything SES would refuse the campaign for. `provided`: the variable names every row
    carries (defaults included), or None when no row is known to be valid (not checked then)."""
    found: list[FieldError] = []
    address = sender_address(spec.FromEmailAddress)
    if address.lower() not in account.senders:
        found.append(
            FieldError(
                "FromEmailAddress",
                f"{address} is not a sender address of this SES account (ListEmailAddress does "
                "not list it), so SES would refuse every batch task "
                "(OperationDenied.SendAddressStatusError); create and verify it in the SES "
                "console, or send from a listed one",
            )
        )
    template, template_id = account.template, spec.Template.TemplateID
    if template is None:
        found.append(
            FieldError(
                "Template.TemplateID",
                f"template {template_id} does not exist in this SES account (GetEmailTemplate)",
            )
        )
        return found
    if template.status != APPROVED:
        state = _STATUS_TEXT.get(template.status, "unavailable")
        found.append(
            FieldError(
                "Template.TemplateID",
                f'template {template_id} ("{template.name}") is not approved (TemplateStatus '
                f"{template.status}: {state}); SES sends only approved templates",
            )
        )
    if provided is not None:
        needed = template.variables | set(subject_variables(spec.Subject))
        missing = sorted(needed - set(provided))
        if missing:
            found.append(_missing(missing, provided, source))
    return found


def check(
    ses: SesGateway,
    spec: CampaignSpec,
    provided: Collection[str] | None,
    source: DataSource,
    deadline: Deadline,
) -> list[FieldError]:
    """Read the account (SesError if SES cannot answer), then list every problem found."""
    return problems(spec, read_account(ses, spec.Template.TemplateID, deadline), provided, source)
