"""Send records and their delivery events, kept in the state store for a retention time.

Every accepted send is recorded under its MessageId (SendEmail) or TaskId (BatchSendEmail, a
campaign's tasks): when, which entry point, which API key (its name, never the key), the
Idempotency-Key, the sender, the template id, and the recipients. Tencent's delivery callbacks
are attached under the same id, kept apart from the record: they may arrive before it (on
another instance, or before a slow instance wrote it), and are joined when the record is read.

Keys: `record:email:<MessageId>`, `record:task:<TaskId>` (the record), `record-events:<id>` (a
mail's events, deduplicated, in time order, at most `MAX_EVENTS`), `record-counts:<TaskId>` (a
batch task's events counted per kind). Every write renews nothing else: each key lives for the
retention from its own last write.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from sesrelay.clock import Clock
from sesrelay.state import StateStore, update_json

DEFAULT_RETENTION_DAYS = 30
#: A mail's events kept at most (a mail to 50 recipients, each opened and clicked a few times).
MAX_EVENTS = 500

EMAIL = "email"
TASK = "task"


@dataclass(frozen=True)
class SendRecord:
    """One accepted send, as `GET /v1/emails/{id}` and `GET /v1/batch-tasks/{id}` show it."""

    kind: str  # EMAIL or TASK
    id: str  # the MessageId or the TaskId (as text)
    created: str  # ISO 8601, UTC
    entry: str  # http, webhook:<source>, timer:<job>, direct, campaign:<id>
    key: str | None  # the API key's name; None where no key was involved
    idempotency_key: str | None
    sender: str
    template_id: int | None
    recipient_count: int | None
    recipients: list[str] = field(default_factory=list)
    receiver_id: int | None = None  # a batch task's recipient group

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, text: str) -> SendRecord:
        data = json.loads(text)
        return cls(**{name: data.get(name) for name in cls.__dataclass_fields__})


@dataclass(frozen=True)
class DeliveryEvent:
    """One delivery callback, reduced to what a reader needs."""

    event: str
    timestamp: int | None
    email: str
    reason: str | None = None
    bounce_type: str | None = None
    link: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {name: value for name, value in asdict(self).items() if value is not None}

    def same_as(self, other: dict[str, Any]) -> bool:
        mine = self.as_dict()
        return all(other.get(k) == mine.get(k) for k in ("event", "timestamp", "email", "link"))


class RecordBook:
    """Records, events and task counts over one state store."""

    def __init__(self, state: StateStore, clock: Clock, retention_days: float) -> None:
        self._state = state
        self._clock = clock
        self.retention_seconds = retention_days * 86400

    def save(self, record: SendRecord) -> None:
        """Write (or overwrite) a record; it lives for the retention from now."""
        body = json.dumps(record.as_dict(), separators=(",", ":"), ensure_ascii=False)
        self._state.put(f"record:{record.kind}:{record.id}", body, self.retention_seconds)

    def get(self, kind: str, record_id: str) -> SendRecord | None:
        found = self._state.get(f"record:{kind}:{record_id}")
        return SendRecord.from_json(found.value) if found else None

    def add_event(self, message_id: str, event: DeliveryEvent) -> bool:
        """Attach an event to a mail; False when the same event was already there."""
        added = False

        def change(events: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
            nonlocal added
            if any(event.same_as(seen) for seen in events):
                return None
            added = True
            kept = sorted([*events, event.as_dict()], key=_event_order)
            return kept[-MAX_EVENTS:]

        self._update(f"record-events:{message_id}", change, [])
        return added

    def events(self, message_id: str) -> list[dict[str, Any]]:
        """A mail's events in time order (an event without a timestamp sorts first)."""
        found = self._state.get(f"record-events:{message_id}")
        events: list[dict[str, Any]] = json.loads(found.value) if found else []
        return events

    def count_task_event(self, task_id: str, kind: str) -> None:
        """Count one (first-seen) event of a batch task under its kind."""

        def change(counts: dict[str, int]) -> dict[str, int]:
            return {**counts, kind: counts.get(kind, 0) + 1}

        self._update(f"record-counts:{task_id}", change, {})

    def task_counts(self, task_id: str) -> dict[str, int]:
        found = self._state.get(f"record-counts:{task_id}")
        counts: dict[str, int] = json.loads(found.value) if found else {}
        return counts

    def _update(self, key: str, change: Callable[[Any], Any], empty: Any) -> None:
        """Apply `change` to the stored JSON value (`empty` when absent); None leaves it."""

        def apply(current: Any) -> Any:
            return change(empty if current is None else current)

        update_json(self._state, key, apply, self.retention_seconds)


def _event_order(event: dict[str, Any]) -> tuple[int, int]:
    """Time order; at the same second, the order a mail lives through (delivered before open)."""
    order = ("processed", "deferred", "delivered", "open", "click")
    name = str(event.get("event"))
    rank = order.index(name) if name in order else len(order)
    return (int(event.get("timestamp") or 0), rank)
