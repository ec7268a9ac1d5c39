"""Injected faults: the next N calls of an action fail: error, HTTP status, delay or drop.

`drop_before` / `drop_after` let tests tell "SES never saw it" from "SES sent it but the reply was
lost", the two cases a sender has to handle differently (retry safely vs. check first).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

KINDS = ("error", "http_status", "delay", "drop_before", "drop_after")
_MAX_DELAY_SECONDS = 600.0


class FaultSpecError(ValueError):
    """A fault request that names an unknown kind or misses the kind's own field."""


@dataclass
class Fault:
    action: str
    kind: str
    remaining: int
    code: str = ""
    message: str = ""
    status: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"action": self.action, "kind": self.kind, "count": self.remaining}
        if self.kind == "error":
            out.update(code=self.code, message=self.message)
        elif self.kind == "http_status":
            out["status"] = self.status
        elif self.kind == "delay":
            out["seconds"] = self.seconds
        return out


def make_fault(spec: dict[str, Any]) -> Fault:
    """Build a Fault from the JSON of `POST /_emulator/faults`; FaultSpecError if invalid."""
    action, kind, count = spec.get("action"), spec.get("kind"), spec.get("count", 1)
    if not isinstance(action, str) or not action:
        raise FaultSpecError("`action` must be an action name such as SendEmail")
    if kind not in KINDS:
        raise FaultSpecError(f"`kind` must be one of {', '.join(KINDS)}")
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise FaultSpecError("`count` must be a positive integer")
    allowed = {"action", "kind", "count"} | {
        "error": {"code", "message"},
        "http_status": {"status"},
        "delay": {"seconds"},
    }.get(kind, set())
    unknown = sorted(set(spec) - allowed)
    if unknown:
        raise FaultSpecError(f"unknown field(s) for kind {kind}: {', '.join(unknown)}")
    fault = Fault(action=action, kind=kind, remaining=count)
    if kind == "error":
        code, message = spec.get("code"), spec.get("message", "injected fault")
        if not isinstance(code, str) or not code or not isinstance(message, str):
            raise FaultSpecError("kind error needs `code` (and optionally `message`) as strings")
        fault.code, fault.message = code, message
    elif kind == "http_status":
        status = spec.get("status")
        if isinstance(status, bool) or not isinstance(status, int) or not 300 <= status <= 599:
            raise FaultSpecError("kind http_status needs `status` between 300 and 599")
        fault.status = status
    elif kind == "delay":
        seconds = spec.get("seconds")
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
            raise FaultSpecError("kind delay needs `seconds` as a number")
        if not 0 <= seconds <= _MAX_DELAY_SECONDS:
            raise FaultSpecError(f"`seconds` must be between 0 and {_MAX_DELAY_SECONDS:g}")
        fault.seconds = float(seconds)
    return fault


class FaultBook:
    """Pending faults, consumed first-in first-out per action; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[Fault] = []

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._pending.append(fault)

    def take(self, action: str) -> Fault | None:
        """Consume one use of the oldest fault for `action`; a copy with count 1, or None."""
        with self._lock:
            for fault in self._pending:
                if fault.action == action:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._pending.remove(fault)
                    return Fault(**{**vars(fault), "remaining": 1})
        return None

    def pending(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.as_dict() for f in self._pending]

    def clear(self) -> None:
        with self._lock:
            self._pending.clear()
