"""The clock port: wall time, a monotonic timer and sleep, injected everywhere time matters.

Tests use ManualClock so nothing waits for real time; production uses SystemClock.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Protocol

#: SES takes BeginTime as "YYYY-MM-DD hh:mm:ss" with no zone; Tencent Cloud's consoles and
#: examples use China Standard Time, so the relay and the emulator both read it as UTC+8.
SES_TIMEZONE = timezone(timedelta(hours=8), name="UTC+08:00")


class Clock(Protocol):
    def now(self) -> datetime:
        """Current time, timezone-aware (UTC)."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back; only differences mean anything."""
        ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class ManualClock:
    """A clock that moves only when told to (or when someone sleeps on it)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 5, 1, 0, 0, tzinfo=timezone.utc)
        if self._now.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start")
        self._mono = 1000.0
        self._lock = threading.Lock()
        self.slept: list[float] = []

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def monotonic(self) -> float:
        with self._lock:
            return self._mono

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.advance(max(seconds, 0.0))

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += timedelta(seconds=seconds)
            self._mono += seconds


class Deadline:
    """The time left in one invocation, measured on a clock.

    SCF gives Python no remaining-time helper, so the deadline comes from the context's
    `time_limit_in_ms` at the start of the invocation.
    """

    def __init__(self, clock: Clock, seconds: float) -> None:
        self._clock = clock
        self._end = clock.monotonic() + seconds

    @classmethod
    def from_context(
        cls, clock: Clock, context: object, default_seconds: float = 30.0, margin: float = 0.5
    ) -> Deadline:
        limit_ms: object = None
        if isinstance(context, dict):
            limit_ms = context.get("time_limit_in_ms")
        seconds = default_seconds
        if isinstance(limit_ms, (int, float)) and not isinstance(limit_ms, bool) and limit_ms > 0:
            seconds = float(limit_ms) / 1000.0
        return cls(clock, max(seconds - margin, 0.1))

    def remaining(self) -> float:
        return max(self._end - self._clock.monotonic(), 0.0)

    def expired(self) -> bool:
        return self.remaining() <= 0.0
