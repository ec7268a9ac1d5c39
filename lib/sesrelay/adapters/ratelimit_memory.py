"""In-process RateLimiter: one warm instance (`memory://` and `sqlite://` state URLs) and the fake
that the contract suite runs beside the Redis limiter."""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field

from sesrelay.clock import Clock, Deadline
from sesrelay.ratelimit import HOLD_MARGIN_SECONDS, Permit, RateLimit, RateLimited


@dataclass
class _Key:
    last_slot: float | None = None
    #: permit id -> the moment it leaves the window (provisional until it is answered)
    window: dict[int, float] = field(default_factory=dict)


class MemoryRateLimiter:
    """The same two rules as the Redis script (ratelimit.RateLimit), behind one lock, on the
    clock's monotonic time. Slots are reserved, so callers queue instead of polling."""

    def __init__(self, rate: RateLimit, clock: Clock) -> None:
        self.rate = rate
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: dict[str, _Key] = {}
        self._ids = itertools.count(1)

    def __repr__(self) -> str:
        return f"MemoryRateLimiter({self.rate.limit}/{self.rate.period:g}s)"

    def acquire(self, key: str, deadline: Deadline) -> Permit:
        if not key:
            raise ValueError("rate-limit key must be a non-empty string")
        while True:
            granted, wait, permit = self._try(key, deadline.remaining())
            if not granted and wait > deadline.remaining():
                raise RateLimited(key, wait)
            if wait > 0:
                self._clock.sleep(wait)
            if permit is not None:
                return permit
            # The window is full at our slot: look again when its oldest permit leaves it.

    def close(self) -> None:
        """Nothing to release; permits stay, so closing never opens a burst."""

    def _try(self, key: str, max_wait: float) -> tuple[bool, float, Permit | None]:
        rate = self.rate
        with self._lock:
            now = self._clock.monotonic()
            state = self._keys.setdefault(key, _Key())
            state.window = {pid: end for pid, end in state.window.items() if end > now}
            slot = now if state.last_slot is None else max(now, state.last_slot + rate.interval)
            if slot - now > max_wait:
                return False, slot - now, None
            alive = sorted(end for end in state.window.values() if end > slot)
            if len(alive) >= rate.limit:
                # In-flight permits leave at least a period after their answer: look again then,
                # or when the oldest answered one leaves, but not before our own slot.
                frees = max(min(alive[0], now + rate.period), slot)
                return False, max(frees - now, 1e-3), None
            state.last_slot = slot
            pid = next(self._ids)
            state.window[pid] = now + max_wait + rate.period + HOLD_MARGIN_SECONDS
        return True, slot - now, Permit(lambda: self._answered(state, pid))

    def _answered(self, state: _Key, pid: int) -> None:
        with self._lock:
            end = self._clock.monotonic() + self.rate.period
            if pid in state.window and end < state.window[pid]:
                state.window[pid] = end
