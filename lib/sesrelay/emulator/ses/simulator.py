"""The mailbox simulator: which delivery events each recipient of a sent mail produces, shaped as
SES's delivery callbacks.

Any address at `simulator.sesrelay.test` behaves as its local part says (case-insensitive; a
`+label` suffix is ignored, so `bounce+ana@...` bounces too and stays a distinct recipient):

| local part | events, in order |
|---|---|
| `delivered` | delivered |
| `bounce` | bounce (`bounceType` `hard_bounce`) |
| `soft-bounce` | bounce (`bounceType` `soft_bounce`) |
| `spamreport` | delivered, spamreport |
| `open` | delivered, open |
| `click` | delivered, open, click |
| `deferred` | deferred (and nothing after it) |
| `dropped` | dropped |
| `unsubscribe` | delivered, unsubscribe |

Every other address, at that domain or any other, gets `delivered`. The first event is stamped
with the time the mail was sent (the emulator clock; a batch task's run time), each later one a
second after the one before. A bounce does not blacklist the address: as in SES, that is for the
receiver of the callbacks to do (the relay's `blacklist_on`).
"""

from __future__ import annotations

import re
from email.header import Header
from typing import Any

from sesrelay.emulator.ses.addresses import domain_of, parse_sender
from sesrelay.emulator.ses.store import Mail

SIMULATOR_DOMAIN = "simulator.sesrelay.test"
#: `eventid` of each event, as SES numbers them
EVENT_IDS = {
    "delivered": 1,
    "dropped": 2,
    "bounce": 3,
    "open": 4,
    "click": 5,
    "spamreport": 6,
    "unsubscribe": 7,
    "deferred": 8,
}
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) sesrelay-mailbox-simulator"
#: the link of a click when the mail's HTML has none, and of an unsubscribe
DEFAULT_CLICK_LINK = f"https://{SIMULATOR_DOMAIN}/click"
UNSUBSCRIBE_LINK = f"https://{SIMULATOR_DOMAIN}/unsubscribe"

_HARD = {
    "bounceType": "hard_bounce",
    "reason": "550 5.1.1 Recipient address rejected: User unknown (mailbox simulator)",
}
_SOFT = {"bounceType": "soft_bounce", "reason": "452 4.2.2 Mailbox full (mailbox simulator)"}
_DEFERRED = {"reason": "421 4.7.0 Try again later, closing connection. (mailbox simulator)"}
_DROPPED = {"reason": "the recipient is on the suppression list (mailbox simulator)"}
_Step = tuple[str, dict[str, str]]
_DELIVERED: _Step = ("delivered", {})
_OPEN: _Step = ("open", {})
SCENARIOS: dict[str, tuple[_Step, ...]] = {
    "delivered": (_DELIVERED,),
    "bounce": (("bounce", _HARD),),
    "soft-bounce": (("bounce", _SOFT),),
    "spamreport": (_DELIVERED, ("spamreport", {})),
    "open": (_DELIVERED, _OPEN),
    "click": (_DELIVERED, _OPEN, ("click", {})),
    "deferred": (("deferred", _DEFERRED),),
    "dropped": (("dropped", _DROPPED),),
    "unsubscribe": (_DELIVERED, ("unsubscribe", {"link": UNSUBSCRIBE_LINK})),
}
_HREF = re.compile(r"""href\s*=\s*["'](https?://[^"'\s]+)["']""", re.IGNORECASE)


def scenario(address: str) -> tuple[_Step, ...]:
    """The steps the simulator plays for one recipient address."""
    if domain_of(address) != SIMULATOR_DOMAIN:
        return SCENARIOS["delivered"]
    local = address.rpartition("@")[0].lower().partition("+")[0]
    return SCENARIOS.get(local, SCENARIOS["delivered"])


def _subject(subject: str) -> str:
    """As SES writes it in a callback: MIME-encoded (RFC 2047) when not plain ASCII, on one line
    (encoded words separated by a space)."""
    if subject.isascii():
        return subject
    return Header(subject, "utf-8").encode(linesep="")


def events_for(mail: Mail, app_id: int) -> list[dict[str, Any]]:
    """The callback payloads for one recipient's mail, in the order they happen.

    `bulkId` is the mail's MessageId: SendEmail's for every one of its recipients; for a
    BatchSendEmail task, the message id the emulator gives each recipient's mail (the outbox's
    `message_id`), with `taskId` the task's id (0 for SendEmail)."""
    sender = parse_sender(mail.from_address)
    from_address = sender[1] if sender else mail.from_address
    sent = int(mail.sent_at.timestamp())
    link = _HREF.search(mail.html)
    common: dict[str, Any] = {
        "email": mail.to,
        "link": "",
        "bulkId": mail.message_id,
        "reason": "",
        "bounceType": "",
        "username": str(app_id),
        "from": from_address,
        "fromDomain": domain_of(from_address),
        "templateId": mail.template_id or 0,
        "useragent": "",
        "subject": _subject(mail.subject),
        "messageId": "",
        "sentTimestamp": sent,
        "taskId": mail.task_id or 0,
    }
    payloads = []
    for n, (event, extra) in enumerate(scenario(mail.to)):
        payload = {"event": event, **common, **extra, "timestamp": sent + n}
        payload["eventid"] = EVENT_IDS[event]
        if event in ("open", "click"):
            payload["useragent"] = USER_AGENT
        if event == "click":
            payload["link"] = link.group(1) if link else DEFAULT_CLICK_LINK
        payloads.append(payload)
    return payloads
