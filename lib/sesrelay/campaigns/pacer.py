"""Client-side pacing of SES calls: at most SES's per-action rate (20 requests/s) leaves us.

A sliding one-second window per action, the strictest reading of "20 requests per second"; the
waits run on the injected clock. Other instances share the account limit: their overflow is
SES's RequestLimitExceeded, which the gateway retries.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

from sesrelay.clock import Clock, Deadline
from sesrelay.gateway import SesGateway

SES_RATE_PER_ACTION = 20  # reference/ses.md 1: "20 requests per second for this API"
#: Added to the window: our send time and SES's receive time differ by network jitter.
WINDOW_SECONDS = 1.05


class Pacer:
    def __init__(
        self, clock: Clock, limit: int = SES_RATE_PER_ACTION, window: float = WINDOW_SECONDS
    ) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("limit must be >= 1 and window > 0")
        self._clock = clock
        self._limit = limit
        self._window = window
        self._sent: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def wait(self, key: str) -> float:
        """Block until a call of `key` fits in the window; return the seconds waited."""
        with self._lock:
            now = self._clock.monotonic()
            sent = self._sent.setdefault(key, deque())
            while sent and now - sent[0] >= self._window:
                sent.popleft()
            delay = 0.0
            if len(sent) >= self._limit:
                # the slot frees when the oldest call of the window leaves it
                delay = self._window - (now - sent[-self._limit])
            sent.append(now + delay)  # reserve the slot before sleeping (other threads)
        if delay > 0:
            self._clock.sleep(delay)
        return delay


class PacedGateway:
    """An SesGateway that waits for its pacer before each call."""

    def __init__(self, inner: SesGateway, pacer: Pacer) -> None:
        self._inner = inner
        self._pacer = pacer
        self.waited = 0.0  # seconds spent waiting, for reports

    def call(self, action: str, params: dict[str, Any], deadline: Deadline) -> dict[str, Any]:
        self.waited += self._pacer.wait(action)
        return self._inner.call(action, params, deadline)
