"""State stores that fail on cue, for the guards' tests: the memory store, with compare_and_set
following a script of failures (before writing, or after writing with the reply lost)."""

from __future__ import annotations

from sesrelay.adapters.state_memory import MemoryStateStore
from sesrelay.clock import ManualClock
from sesrelay.state import StateRecord, StateStoreError


class ScriptedStore(MemoryStateStore):
    """compare_and_set follows a script, one word per call, then works: `fail` raises before
    writing, `lost` writes and then raises (the reply was lost), `ok` works."""

    def __init__(self, clock: ManualClock, *script: str) -> None:
        super().__init__(clock)
        self.script = list(script)

    def compare_and_set(
        self, key: str, expected_version: int, value: str, ttl_seconds: float
    ) -> StateRecord | None:
        step = self.script.pop(0) if self.script else "ok"
        if step == "fail":
            raise StateStoreError("gone")
        written = super().compare_and_set(key, expected_version, value, ttl_seconds)
        if step == "lost":
            raise StateStoreError("gone after writing")
        return written
