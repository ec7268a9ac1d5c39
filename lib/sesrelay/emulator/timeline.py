"""The emulator's business clock: an injected Clock (or real time) plus an adjustable offset.

Scheduled tasks, upload completion and MessageId dates follow it; request signatures do not
(they are checked against real time so that moving this clock never breaks authentication).
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

from sesrelay.clock import Clock, SystemClock


class BusinessClock:
    def __init__(self, base: Clock | None = None) -> None:
        self._base: Clock = base if base is not None else SystemClock()
        self._offset = timedelta()
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            offset = self._offset
        return self._base.now().astimezone(timezone.utc) + offset

    def advance(self, seconds: float) -> datetime:
        if seconds < 0:
            raise ValueError("the clock only moves forward; use set to go elsewhere")
        with self._lock:
            self._offset += timedelta(seconds=seconds)
        return self.now()

    def set(self, when: datetime) -> datetime:
        if when.tzinfo is None:
            raise ValueError("the time must carry a UTC offset")
        with self._lock:
            self._offset = when - self._base.now()
        return self.now()

    def reset(self) -> None:
        with self._lock:
            self._offset = timedelta()


def parse_iso(text: str) -> datetime:
    """ISO-8601 with an offset; `Z` is accepted (fromisoformat learnt it only in 3.11)."""
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    when = datetime.fromisoformat(text)
    if when.tzinfo is None:
        raise ValueError("the time must carry a UTC offset, e.g. 2026-01-05T09:00:00+08:00")
    return when
