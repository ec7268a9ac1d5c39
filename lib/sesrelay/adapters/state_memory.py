"""In-process StateStore: the fake for unit tests and the `memory://` store for one warm instance.

The contract suite runs it beside the SQLite and Redis stores, so it cannot drift from them.
"""

from __future__ import annotations

import heapq
import math
import threading

from sesrelay.clock import Clock
from sesrelay.state import StateRecord, StateStoreError, check_key, check_ttl

#: Never sweep for expired entries more often than once per this many writes.
_MIN_SWEEP_INTERVAL = 64
#: Keys one instance holds at most: about 25 MB of SES callback dedupe keys (a send's stored
#: answer takes more), so a flood of distinct keys cannot exhaust the function's memory.
DEFAULT_MAX_KEYS = 100_000
#: Keys whose early loss repeats only harmless work, so they may be evicted while live: the SES
#: callback dedupe keys (a forgotten one lets a repeated callback be logged and blacklisted again).
#: Everything else guards a send or holds campaign state, and is never evicted while live.
EVICTABLE_PREFIXES = ("sesevent:",)


class MemoryStateStore:
    """A dict behind one lock; expiry is judged on the injected clock's wall time.

    It holds at most `max_keys` keys. A write that would add one more when it is full first drops
    the expired keys, then evicts the live keys of `evictable_prefixes` that expire soonest (a
    hundredth of `max_keys` at a time, so a flood pays for one scan per batch, not per write). If
    only other live keys are left, the write raises StateStoreError: callers answer "retry later"
    and send nothing, whereas evicting a live idempotency, tick or delivery claim could let the
    same mail be sent twice. Overwriting a key that exists never needs room, so a guard can always
    record the outcome of the send it claimed.
    """

    def __init__(
        self,
        clock: Clock,
        max_keys: int = DEFAULT_MAX_KEYS,
        evictable_prefixes: tuple[str, ...] = EVICTABLE_PREFIXES,
    ) -> None:
        if isinstance(max_keys, bool) or not isinstance(max_keys, int) or max_keys < 1:
            raise ValueError(f"max_keys must be a whole number >= 1, got {max_keys!r}")
        self._clock = clock
        self._lock = threading.Lock()
        # key -> (value, version, expires_at as a POSIX timestamp)
        self._data: dict[str, tuple[str, int, float]] = {}
        self._max_keys = max_keys
        self._evictable = evictable_prefixes
        self._evict_batch = max(1, max_keys // 100)
        # No entry expires before this (a lower bound): while it lies ahead, a full store skips
        # the scan for expired keys, which would find none.
        self._earliest_expiry = math.inf
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
        # `_live` ran first and dropped an expired `key`, so a key still here is a live one.
        if key not in self._data and len(self._data) >= self._max_keys:
            self._make_room(now)
        expires_at = now + ttl
        self._data[key] = (value, version, expires_at)
        self._earliest_expiry = min(self._earliest_expiry, expires_at)
        self._writes_until_sweep -= 1
        if self._writes_until_sweep <= 0:
            self._sweep(now)

    def _sweep(self, now: float) -> None:
        # The next sweep waits for as many writes as entries survive this one: memory stays
        # bounded at O(1) amortised cost per write, with no timer thread (SCF freezes instances
        # between invocations).
        for stale in [k for k, (_, _, exp) in self._data.items() if exp <= now]:
            del self._data[stale]
        self._earliest_expiry = min((exp for _, _, exp in self._data.values()), default=math.inf)
        self._writes_until_sweep = max(_MIN_SWEEP_INTERVAL, len(self._data))

    def _make_room(self, now: float) -> None:
        if self._earliest_expiry <= now:
            self._sweep(now)
            if len(self._data) < self._max_keys:
                return
        evictable = (
            (exp, k) for k, (_, _, exp) in self._data.items() if k.startswith(self._evictable)
        )
        victims = heapq.nsmallest(self._evict_batch, evictable)
        if not victims:
            raise StateStoreError(
                f"memory state store is full ({self._max_keys} live keys that guard sends or "
                "campaigns); retry once some expire, or use redis:// for more"
            )
        for _, k in victims:
            del self._data[k]
