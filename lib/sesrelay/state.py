"""The state-store port: a small key-value store with TTLs, atomic claims and versioned writes.

Idempotency keys, timer-tick dedupe, webhook dedupe and campaign state all live behind it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from sesrelay.errors import RelayError

#: Keys this long are a caller bug (an unhashed body used as a key), not a real key.
MAX_KEY_LENGTH = 1024


@dataclass(frozen=True)
class StateRecord:
    """One live entry of the store."""

    value: str  # opaque JSON text chosen by the caller
    version: int  # increments on each successful write of the key (1 on creation)


class StateStoreError(RelayError):
    """The backend failed (unreachable, timed out, locked for too long).

    The operation may or may not have been applied: a claim that raises must be treated as
    "maybe held", never as "free". Messages never contain credentials.
    """

    code = "state_store_unavailable"


class StateStore(Protocol):
    """Expired records are invisible everywhere: `get` returns None and `claim` succeeds over them.

    A key that expires and is created again starts over at version 1, so a holder that outlived
    its TTL can match the new record's version; callers that need to tell owners apart put a
    token in the value and size TTLs to outlive the work they guard.
    """

    def claim(self, key: str, value: str, ttl_seconds: float) -> StateRecord | None:
        """Atomically create `key` if absent (or expired). Returns None when this caller created it,
        else the existing record (the caller lost the race)."""
        ...

    def get(self, key: str) -> StateRecord | None: ...

    def put(self, key: str, value: str, ttl_seconds: float) -> StateRecord:
        """Unconditional upsert with a new TTL; the version goes up by one (1 if it was absent)."""
        ...

    def compare_and_set(
        self, key: str, expected_version: int, value: str, ttl_seconds: float
    ) -> StateRecord | None:
        """Write only if the current version equals expected_version; returns the new record or
        None if it changed/vanished."""
        ...

    def delete(self, key: str, expected_version: int | None = None) -> bool:
        """True if deleted; with expected_version, only if the live version matches."""
        ...

    def close(self) -> None:
        """Release connections; idempotent. Any later call raises StateStoreError."""
        ...


#: Attempts of one `update_json` before the store is called too busy.
UPDATE_ATTEMPTS = 64


def update_json(
    store: StateStore, key: str, change: Callable[[Any], Any], ttl_seconds: float
) -> bool:
    """Read-modify-write the JSON value at `key`: `change` gets the current value (None when the
    key is absent) and returns the new one, or None to leave it. Written by `claim` when absent
    and `compare_and_set` otherwise, retried while other writers win; True once written, False
    when `change` left it. StateStoreError when others kept winning for UPDATE_ATTEMPTS tries."""
    for _ in range(UPDATE_ATTEMPTS):
        current = store.get(key)
        value = change(json.loads(current.value) if current else None)
        if value is None:
            return False
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        if current is None:
            if store.claim(key, text, ttl_seconds) is None:
                return True
        elif store.compare_and_set(key, current.version, text, ttl_seconds) is not None:
            return True
    raise StateStoreError(f"the state store is too busy to update {key.partition(':')[0]}")


def check_ttl(ttl_seconds: float) -> float:
    """Return the TTL as a float, or raise ValueError unless it is a finite number above zero."""
    if isinstance(ttl_seconds, bool) or not isinstance(ttl_seconds, (int, float)):
        raise ValueError(f"ttl_seconds must be a number, got {type(ttl_seconds).__name__}")
    ttl = float(ttl_seconds)
    if not math.isfinite(ttl) or ttl <= 0:
        raise ValueError(f"ttl_seconds must be a finite number > 0, got {ttl_seconds!r}")
    return ttl


def check_key(key: str) -> str:
    """Return the key, or raise ValueError if it is empty or absurdly long."""
    if not isinstance(key, str) or not key:
        raise ValueError("state key must be a non-empty string")
    if len(key) > MAX_KEY_LENGTH:
        raise ValueError(f"state key is {len(key)} characters; the limit is {MAX_KEY_LENGTH}")
    return key
