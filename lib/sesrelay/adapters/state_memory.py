"""In-process StateStore: the fake for unit tests and the `memory://` store for one warm instance.

The contract suite runs it beside the SQLite and Redis stores, so it cannot drift from them.
"""

from __future__ import annotations

import threading

from sesrelay.clock import Clock
from sesrelay.state import StateRecord, StateStoreError, check_key, check_ttl

#: Never sweep for expired entries more often than once per this many writes.
_MIN_SWEEP_INTERVAL = 64


class MemoryStateStore:
    """A dict behind one lock; expiry is judged on the injected clock's wall time."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        # key -> (value, version, expires_at as a POSIX timestamp)
        self._data: dict[str, tuple[str, int, float]] = {}
        self._writes_until_sweep = _MIN_SWEEP_INTERVAL
        self._closed = False

    def __repr__(self) -> str:
        return "MemoryStateStore()"

    def claim(self, key: str, value: str, ttl_seconds: float) -> StateRecord | None:
        check_key(key)
        ttl = check_ttl(ttl_seconds)
        with self._lock:
            now = self._now()
            current = self._live(key, now)
            if current is not None:
                return current
            self._write(key, value, 1, now, ttl)
            return None

    def get(self, key: str) -> StateRecord | None:
        check_key(key)
        with self._lock:
            return self._live(key, self._now())

    def put(self, key: str, value: str, ttl_seconds: float) -> StateRecord:
        check_key(key)
        ttl = check_ttl(ttl_seconds)
        with self._lock:
            now = self._now()
            current = self._live(key, now)
            version = 1 if current is None else current.version + 1
            self._write(key, value, version, now, ttl)
            return StateRecord(value, version)

    def compare_and_set(
        self, key: str, expected_version: int, value: str, ttl_seconds: float
    ) -> StateRecord | None:
        check_key(key)
        ttl = check_ttl(ttl_seconds)
        with self._lock:
            now = self._now()
            current = self._live(key, now)
            if current is None or current.version != expected_version:
                return None
            self._write(key, value, current.version + 1, now, ttl)
            return StateRecord(value, current.version + 1)

    def delete(self, key: str, expected_version: int | None = None) -> bool:
        check_key(key)
        with self._lock:
            current = self._live(key, self._now())
            if current is None:
                return False
            if expected_version is not None and current.version != expected_version:
                return False
            del self._data[key]
            return True

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._data.clear()

    # -- internals (the lock is held) -------------------------------------------------------

    def _now(self) -> float:
        # Checked under the lock on every call so the fake fails like the real stores do.
        if self._closed:
            raise StateStoreError("memory state store is closed")
        return self._clock.now().timestamp()

    def _live(self, key: str, now: float) -> StateRecord | None:
        entry = self._data.get(key)
        if entry is None:
            return None
        value, version, expires_at = entry
        if expires_at <= now:
            del self._data[key]
            return None
        return StateRecord(value, version)

    def _write(self, key: str, value: str, version: int, now: float, ttl: float) -> None:
        self._data[key] = (value, version, now + ttl)
        self._writes_until_sweep -= 1
        if self._writes_until_sweep <= 0:
            # The next sweep waits for as many writes as entries survive this one: memory stays
            # bounded at O(1) amortised cost per write, with no timer thread (SCF freezes
            # instances between invocations).
            for stale in [k for k, (_, _, exp) in self._data.items() if exp <= now]:
                del self._data[stale]
            self._writes_until_sweep = max(_MIN_SWEEP_INTERVAL, len(self._data))
