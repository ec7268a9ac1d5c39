"""Per-action request rate limit: a sliding one-second window on real monotonic time.

Real time, not the business clock: SES throttles wall-clock bursts (by default 20 requests/s
per API), and advancing the emulator's clock must not refill the window.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

WINDOW_SECONDS = 1.0


class RateLimiter:
    """At most `limit` accepted requests per key in any window; refused ones don't count."""

    def __init__(self, limit: int | None, monotonic: Callable[[], float] = time.monotonic) -> None:
        if limit is not None and limit < 1:
            raise ValueError("rate_limit must be a positive integer or None")
        self._limit = limit
        self._monotonic = monotonic
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        if self._limit is None:
            return True
        now = self._monotonic()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and now - hits[0] >= WINDOW_SECONDS:
                hits.popleft()
            if len(hits) >= self._limit:
                return False
            hits.append(now)
            return True

    def clear(self) -> None:
        with self._lock:
            self._hits.clear()
