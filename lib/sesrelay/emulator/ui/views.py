"""The JSON the inbox page reads (`control` serves it under `/_emulator/`), and the mail parts it
shows (`pages`).

| route | answer |
|---|---|
| `GET /_emulator/inbox?q=&version=` | the newest `MAX_LISTED` mails first, as summaries |
| `GET /_emulator/inbox/<id>` | one mail, exactly as `/_emulator/outbox` lists it |
| `GET /_emulator/tasks` | BatchSendEmail tasks, as ListSendTasks answers them |
| `GET /_emulator/receivers` | recipient groups (ListReceivers), each with its first rows |
| `GET /_emulator/templates` | templates (ListEmailTemplates), their content decoded |

A mail's id is its place in the outbox (0 the oldest); a reset empties the outbox and the ids
start again. `version` changes whenever a mail arrives or one of its delivery callbacks settles:
a poll that sends back the version it last saw gets `{"changed": false}` and nothing else.
`q` keeps the mails whose recipient or subject contains it, ignoring case.

Tasks, groups and templates are read through SES's own List/Get actions, so the page shows what
a client of SES would see, in SES's field names.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from datetime import timezone
from typing import Any

from sesrelay.emulator.callbacks import PENDING
from sesrelay.emulator.core import EmulatorCore
from sesrelay.emulator.protocol import ApiError
from sesrelay.emulator.ses.render import variables
from sesrelay.emulator.ses.service import SesService
from sesrelay.emulator.ses.store import Mail

#: mails in one inbox answer (newest first); `matched` says how many there are in all
MAX_LISTED = 500
#: tasks, groups and templates listed, at most (SES pages by 100)
MAX_ITEMS = 1000
#: rows shown per recipient group (its `Count` says how many it holds)
MAX_MEMBERS = 100
_PAGE = 100


class ViewError(Exception):
    """What to answer instead: an HTTP status and a message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def ses_of(core: EmulatorCore) -> SesService:
    """The emulated SES of this emulator; ViewError 404 when it runs none."""
    service = core.services.get("ses")
    if not isinstance(service, SesService):
        raise ViewError(404, "this emulator runs no SES")
    return service


def _version(outbox: list[Mail]) -> str:
    settled = sum(1 for mail in outbox for d in mail.events if d.status != PENDING)
    last = outbox[-1].message_id if outbox else "-"
    return f"{len(outbox)}.{settled}.{last}"


def _summary(n: int, mail: Mail) -> dict[str, Any]:
    return {
        "id": n,
        "sent_at": mail.sent_at.astimezone(timezone.utc).isoformat(),
        "from": mail.from_address,
        "to": mail.to,
        "subject": mail.subject,
        "message_id": mail.message_id,
        "task_id": mail.task_id,
        "action": mail.action,
        "template_id": mail.template_id,
        "attachments": len(mail.attachments),
        "events": [{"event": d.payload.get("event"), "status": d.status} for d in mail.events],
    }


def inbox(core: EmulatorCore, query: Mapping[str, str]) -> dict[str, Any]:
    """`GET /_emulator/inbox`: summaries, newest first, or `changed: false` for the same version."""
    with core.lock:
        outbox = ses_of(core).state.outbox
        version = _version(outbox)
        if query.get("version") == version:
            return {"version": version, "changed": False}
        needle = (query.get("q") or "").strip().lower()
        matched = [
            (n, mail)
            for n, mail in enumerate(outbox)
            if needle in mail.to.lower() or needle in mail.subject.lower()
        ]
        newest = [_summary(n, mail) for n, mail in reversed(matched[-MAX_LISTED:])]
        return {
            "version": version,
            "changed": True,
            "total": len(outbox),
            "matched": len(matched),
            "mails": newest,
        }


def find_mail(core: EmulatorCore, mail_id: str) -> Mail:
    """The outbox entry `mail_id` (its place, as text); ViewError 404 naming what exists."""
    outbox = ses_of(core).state.outbox
    if not mail_id.isdigit() or not 0 <= int(mail_id) < len(outbox):
        raise ViewError(
            404,
            f"no mail {mail_id[:40]!r}: ids are 0 to {len(outbox) - 1} (a reset empties the outbox)"
            if outbox
            else "no mail: the outbox is empty",
        )
    return outbox[int(mail_id)]


def mail(core: EmulatorCore, mail_id: str) -> dict[str, Any]:
    """`GET /_emulator/inbox/<id>`: {"id", "mail", "downloads"}: the mail as `/_emulator/outbox`
    has it, and whether its attachments can be downloaded (their content was kept)."""
    with core.lock:
        found = find_mail(core, mail_id)
        return {"id": int(mail_id), "mail": found.as_dict(), "downloads": _kept(found) is not None}


def _kept(found: Mail) -> list[bytes] | None:
    """The attachments' content, in the order of `attachments`, when the SES emulator keeps it
    (as `attachment_data`); None when it keeps only what SES reports, names and sizes."""
    if not found.attachments:
        return []
    contents = getattr(found, "attachment_data", None)
    if not isinstance(contents, list) or len(contents) != len(found.attachments):
        return None
    if not all(isinstance(c, bytes) for c in contents):
        return None
    return contents


def attachment(core: EmulatorCore, mail_id: str, index: str) -> tuple[str, bytes]:
    """(file name, content) of a mail's attachment; ViewError 404 when it does not exist or its
    content was not kept."""
    with core.lock:
        found = find_mail(core, mail_id)
        items = found.attachments
        if not index.isdigit() or not 0 <= int(index) < len(items):
            raise ViewError(404, f"mail {mail_id} has {len(items)} attachment(s)")
        name = str(items[int(index)].get("file_name", f"attachment-{index}"))
        contents = _kept(found)
        if contents is None:
            raise ViewError(
                404, f"the emulator kept the name and size of {name!r}, not its content"
            )
        return name, contents[int(index)]


def _call(ses: SesService, action: str, **params: Any) -> dict[str, Any]:
    """Run an SES action as a client's call would, without the wire; ViewError on an API error."""
    act = ses.actions()[action]
    try:
        return act.handler(act.params.model_validate(params))
    except ApiError as err:
        raise ViewError(500, f"{action}: {err.code}: {err.message}") from None


def _listed(ses: SesService, action: str, key: str, **params: Any) -> list[dict[str, Any]]:
    """Every item a paged List action answers, up to MAX_ITEMS."""
    items: list[dict[str, Any]] = []
    while len(items) < MAX_ITEMS:
        batch = _call(ses, action, Offset=len(items), Limit=_PAGE, **params)[key]
        items += batch
        if len(batch) < _PAGE:
            break
    return items[:MAX_ITEMS]


def tasks(core: EmulatorCore) -> dict[str, Any]:
    """`GET /_emulator/tasks`: {"tasks": ListSendTasks' Data, newest first}."""
    with core.lock:
        return {"tasks": _listed(ses_of(core), "ListSendTasks", "Data")}


def receivers(core: EmulatorCore) -> dict[str, Any]:
    """`GET /_emulator/receivers`: ListReceivers' Data, each with `Members`, its first rows as
    ListReceiverDetails answers them."""
    with core.lock:
        ses = ses_of(core)
        groups = _listed(ses, "ListReceivers", "Data")
        for group in groups:
            rows = _call(
                ses, "ListReceiverDetails", ReceiverId=group["ReceiverId"], Offset=0, Limit=_PAGE
            )
            group["Members"] = rows["Data"][:MAX_MEMBERS]
        return {"receivers": groups}


def _decoded(text: str | None) -> str:
    if not text:
        return ""
    try:
        return base64.b64decode(text, validate=True).decode("utf-8", errors="replace")
    except (binascii.Error, ValueError):
        return ""


def templates(core: EmulatorCore) -> dict[str, Any]:
    """`GET /_emulator/templates`: ListEmailTemplates' metadata, each with its `Html` and `Text`
    (decoded from GetEmailTemplate) and the `Variables` they use."""
    with core.lock:
        ses = ses_of(core)
        listed = _listed(ses, "ListEmailTemplates", "TemplatesMetadata")
        for meta in listed:
            content = _call(ses, "GetEmailTemplate", TemplateID=meta["TemplateID"])
            parts = content.get("TemplateContent") or {}
            meta["Html"] = _decoded(parts.get("Html"))
            meta["Text"] = _decoded(parts.get("Text"))
            meta["Variables"] = sorted(variables(meta["Html"], meta["Text"]))
        return {"templates": listed}
