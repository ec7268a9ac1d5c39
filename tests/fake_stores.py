"""State stores that fail on cue, for the guards' tests: the memory store, with its writes (claim
and compare_and_set) following a script of failures (before writing, or after writing with the
reply lost)."""

from __future__ import annotations

from sesrelay.adapters.state_memory import MemoryStateStore
from sesrelay.clock import ManualClock
from sesrelay.state import StateRecord, StateStoreError


class ScriptedStore(MemoryStateStore):
    """Each write (claim or compare_and_set) takes the next word of the script, then they work:
    `fail` raises before writing, `lost` writes and then raises (the reply was lost), `ok`
    works. `writes` counts the writes tried."""

    def __init__(self, clock: ManualClock, *script: str) -> None:
        super().__init__(clock)
        self.script = list(script)
        self.writes = 0

    def claim(self, key: str, value: str, ttl_seconds: float) -> StateRecord | None:
        step = self._next()
        existing = super().claim(key, value, ttl_seconds)
        return self._after(step, existing)

    def compare_and_set(
        self, key: str, expected_version: int, value: str, ttl_seconds: float
    ) -> StateRecord | None:
        step = self._next()
        written = super().compare_and_set(key, expected_version, value, ttl_seconds)
        return self._after(step, written)

    def _next(self) -> str:
        self.writes += 1
        step = self.script.pop(0) if self.script else "ok"
        if step == "fail":
            raise StateStoreError("gone")
        return step

    @staticmethod
    def _after(step: str, record: StateRecord | None) -> StateRecord | None:
        if step == "lost":
            raise StateStoreError("gone after writing")
        return record
