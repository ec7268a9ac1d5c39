"""SES account state: senders from the seed; templates, lists, tasks, outbox and blacklist.

Plain data guarded by the core's lock; the ses_* modules hold the rules that change it.
"""

from __future__ import annotations

import json
import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from sesrelay.clock import SES_TIMEZONE
from sesrelay.emulator.callbacks import Delivery
from sesrelay.emulator.protocol import ApiError
from sesrelay.emulator.ses.addresses import normalize
from sesrelay.emulator.ses.seed import Scalar, Seed, SeedMember
from sesrelay.emulator.timeline import BusinessClock

LOCAL_FORMAT = "%Y-%m-%d %H:%M:%S"  # how SES writes times (CreateTime, BeginTime), in UTC+8


def local_text(when: datetime) -> str:
    return when.astimezone(SES_TIMEZONE).strftime(LOCAL_FORMAT)


def local_date(when: datetime) -> date:
    return when.astimezone(SES_TIMEZONE).date()


def parse_local(text: str) -> datetime | None:
    """A "YYYY-MM-DD hh:mm:ss" SES time, read in UTC+8; None when malformed."""
    try:
        local = datetime.strptime(text, LOCAL_FORMAT).replace(tzinfo=SES_TIMEZONE)
    except ValueError:
        return None
    return local.astimezone(timezone.utc)


def parse_day(text: str) -> date | None:
    try:
        return datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        return None


@dataclass
class Row:
    """One uploaded address of a recipient list (SES keeps duplicates as separate rows)."""

    email_id: int
    email: str
    data: dict[str, Scalar] | None
    raw_data: str
    created_at: datetime
    valid: bool = True
    reason: str = ""


@dataclass
class Group:
    """A recipient list; status 1 empty, 2 uploading until `upload_done_at`, 3 complete."""

    id: int
    name: str
    desc: str
    created_at: datetime
    rows: list[Row] = field(default_factory=list)
    status: int = 1
    upload_done_at: datetime | None = None

    def data_keys(self) -> frozenset[str] | None:
        """Variable names of the first row; later rows must match (TemplateDataInconsistent)."""
        if not self.rows:
            return None
        first = self.rows[0].data
        return frozenset(first) if first is not None else frozenset()


@dataclass
class Task:
    """A BatchSendEmail task; TaskStatus 1 pending, 5 sending (recurring), 7 error, 10 done."""

    id: int
    from_address: str
    receiver_id: int
    receivers_name: str
    subject: str
    task_type: int
    template_id: int | None
    template_data: str | None
    simple: dict[str, Any] | None
    reply_to: str | None
    unsubscribe: str | None
    ad_location: int | None
    timed_param: dict[str, Any] | None
    cycle_param: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime
    next_run: datetime | None
    interval: timedelta | None = None
    status: int = 1
    request_count: int = 0
    send_count: int = 0
    err_msg: str = ""


#: TemplateStatus as SES reports it
TEMPLATE_APPROVED, TEMPLATE_UNDER_REVIEW, TEMPLATE_REJECTED = 0, 1, 2


@dataclass
class Template:
    """An email template of the account; `review_due` is when a review the API started ends
    (approved), None for a template no API call submitted (a seeded one keeps its status)."""

    id: int
    name: str
    status: int
    review_reason: str
    html: str
    text: str
    created_at: datetime
    review_due: datetime | None = None

    def approved_at(self, when: datetime) -> bool:
        """Approved at `when`: already, or by a review that had ended by then."""
        due = self.review_due
        if self.status == TEMPLATE_UNDER_REVIEW and due is not None:
            return due <= when
        return self.status == TEMPLATE_APPROVED


@dataclass
class BlackEntry:
    id: int
    email: str
    created_at: datetime
    expire_date: date | None

    def active(self, now: datetime) -> bool:
        # Still blocked on the ExpireDate itself (UTC+8); no date means permanent
        # (UpdateCustomBlackList doc: "empty means permanently valid").
        return self.expire_date is None or local_date(now) <= self.expire_date


@dataclass
class Mail:
    """One outbox entry: what one recipient received."""

    message_id: str
    task_id: int | None
    action: str
    from_address: str
    to: str
    cc: list[str]
    bcc: list[str]
    reply_to: str | None
    subject: str
    html: str
    text: str
    template_id: int | None
    template_data: dict[str, Scalar]
    attachments: list[dict[str, Any]]
    unsubscribe: str | None
    sent_at: datetime
    #: the mailbox simulator's events for this mail and what became of their callbacks
    events: list[Delivery] = field(default_factory=list)
    #: the attachments' decoded content, in the order of `attachments` (the inbox page's
    #: downloads); not in `as_dict`, so the outbox JSON stays small
    attachment_data: list[bytes] = field(default_factory=list, repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "task_id": self.task_id,
            "action": self.action,
            "from": self.from_address,
            "to": self.to,
            "cc": list(self.cc),
            "bcc": list(self.bcc),
            "reply_to": self.reply_to,
            "subject": self.subject,
            "html": self.html,
            "text": self.text,
            "template_id": self.template_id,
            "template_data": dict(self.template_data),
            "attachments": [dict(a) for a in self.attachments],
            "unsubscribe": self.unsubscribe,
            "sent_at": self.sent_at.astimezone(timezone.utc).isoformat(),
            "events": [
                {"event": d.payload["event"], "timestamp": d.payload["timestamp"], **d.as_dict()}
                for d in self.events
            ],
        }


class SesState:
    """Everything SES remembers; `reset()` returns it to the seed."""

    def __init__(self, seed: Seed, clock: BusinessClock, upload_seconds: float) -> None:
        self.seed = seed
        self.clock = clock
        self.upload_seconds = upload_seconds
        self.senders = {normalize(s.address): s for s in seed.senders}
        self.domains = {d.lower() for d in seed.verified_domains}
        self.platform_blacklist = {normalize(a) for a in seed.blacklist}
        #: called with each mail as it enters the outbox (the service plays the simulator there)
        self.on_record: Callable[[Mail], None] | None = None
        self.reset()

    def reset(self) -> None:
        self.templates: dict[int, Template] = {
            t.id: Template(t.id, t.name, t.status, t.review_reason, t.html, t.text, t.created_at)
            for t in self.seed.templates
        }
        self.next_template_id = max([100000, *self.templates]) + 1
        self.groups: dict[int, Group] = {}
        self.tasks: dict[int, Task] = {}
        self.outbox: list[Mail] = []
        self.custom_blacklist: dict[int, BlackEntry] = {}
        self._next_email_id = 1
        for seeded in self.seed.receivers:
            group = Group(seeded.id, seeded.name, seeded.desc, seeded.created_at)
            for member in seeded.members:
                m = member if isinstance(member, SeedMember) else SeedMember(email=member)
                group.rows.append(self.new_row(m.email, m.template_data, "", seeded.created_at))
            group.status = 3 if group.rows else 1
            self.groups[group.id] = group
        for n, entry in enumerate(self.seed.custom_blacklist, start=1):
            self.custom_blacklist[n] = BlackEntry(n, entry.email, self.now(), entry.expire_date)
        self.next_receiver_id = max([200000, *self.groups]) + 1
        self.next_task_id = 300001
        self.next_black_id = len(self.custom_blacklist) + 1

    def now(self) -> datetime:
        return self.clock.now()

    def record(self, mail: Mail) -> None:
        """Put one recipient's mail in the outbox, and tell `on_record`."""
        self.outbox.append(mail)
        if self.on_record is not None:
            self.on_record(mail)

    def new_row(
        self, email: str, data: dict[str, Scalar] | None, raw: str, created_at: datetime
    ) -> Row:
        row = Row(
            self._next_email_id, email, data, raw or (json.dumps(data) if data else ""), created_at
        )
        self._next_email_id += 1
        return row

    def message_id(self, when: datetime) -> str:
        """`qcloudses-30-<appId>-date-<UTC+8 yyyymmddhhmmss>-<random>`, the documented shape."""
        stamp = when.astimezone(SES_TIMEZONE).strftime("%Y%m%d%H%M%S")
        alphabet = string.ascii_letters + string.digits
        tail = "".join(secrets.choice(alphabet) for _ in range(12))
        return f"qcloudses-30-{self.seed.app_id}-date-{stamp}-{tail}"

    def blacklisted(self, address: str) -> bool:
        key = normalize(address)
        if key in self.platform_blacklist:
            return True
        now = self.now()
        return any(
            normalize(e.email) == key and e.active(now) for e in self.custom_blacklist.values()
        )


MAX_PAGE = 100  # every SES List*/Get* action caps Limit at 100 (FailedOperation.InvalidLimit)


def page(items: list[Any], offset: int, limit: int) -> list[Any]:
    if limit > MAX_PAGE:
        raise ApiError("FailedOperation.InvalidLimit", f"Limit must not exceed {MAX_PAGE}.")
    return items[offset : offset + limit]
