"""The unsigned `/_emulator/*` endpoints: faults, clock, reset, call counts, event callbacks,
what the inbox page reads (inbox, tasks, receivers, templates: `ui/views`), services' own.

Plain JSON over HTTP so any tool (curl, urllib, another language's tests) can drive the emulator.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sesrelay.emulator.core import EmulatorCore
from sesrelay.emulator.faults import FaultSpecError, make_fault
from sesrelay.emulator.timeline import parse_iso
from sesrelay.emulator.ui import views

PREFIX = "/_emulator"
_ROUTES = {
    "/_emulator/faults": ("GET", "POST", "DELETE"),
    "/_emulator/clock": ("GET", "POST"),
    "/_emulator/reset": ("POST",),
    "/_emulator/calls": ("GET",),
    "/_emulator/callbacks": ("GET", "POST"),
    "/_emulator/callbacks/flush": ("POST",),
    "/_emulator/inbox": ("GET",),
    "/_emulator/tasks": ("GET",),
    "/_emulator/receivers": ("GET",),
    "/_emulator/templates": ("GET",),
}
_MAIL = "/_emulator/inbox/"
_VIEWS = {
    "/_emulator/tasks": views.tasks,
    "/_emulator/receivers": views.receivers,
    "/_emulator/templates": views.templates,
}
#: how long `POST /_emulator/callbacks/flush` may wait, at most and by default
MAX_FLUSH_SECONDS = 60.0
DEFAULT_FLUSH_SECONDS = 5.0


class ControlError(Exception):
    def __init__(self, status: int, message: str, allow: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.status, self.message, self.allow = status, message, allow


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body or b"{}")
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ControlError(400, "the body must be JSON") from None
    if not isinstance(data, dict):
        raise ControlError(400, "the body must be a JSON object")
    return data


def _clock(core: EmulatorCore, method: str, body: bytes) -> dict[str, Any]:
    if method == "POST":
        spec = _json_object(body)
        try:
            if set(spec) == {"advance_seconds"}:
                seconds = spec["advance_seconds"]
                if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
                    raise ValueError("advance_seconds must be a number")
                core.clock.advance(float(seconds))
            elif set(spec) == {"set"} and isinstance(spec["set"], str):
                core.clock.set(parse_iso(spec["set"]))
            else:
                raise ValueError('send {"advance_seconds": N} or {"set": "ISO-8601 time"}')
        except ValueError as exc:
            raise ControlError(400, str(exc)) from None
        core.tick()  # moving the clock runs whatever became due
    return {"now": core.clock.now().isoformat()}


def _faults(core: EmulatorCore, method: str, body: bytes) -> dict[str, Any]:
    if method == "POST":
        try:
            core.faults.add(make_fault(_json_object(body)))
        except FaultSpecError as exc:
            raise ControlError(400, str(exc)) from None
    elif method == "DELETE":
        core.faults.clear()
    return {"faults": core.faults.pending()}


def _callbacks(core: EmulatorCore, method: str, body: bytes) -> dict[str, Any]:
    if method == "POST":
        spec = _json_object(body)
        if set(spec) != {"url"}:
            raise ControlError(400, 'send {"url": "http://..."}; null or "" turns callbacks off')
        try:
            core.callbacks.set_url(spec["url"])
        except ValueError as exc:
            raise ControlError(400, str(exc)) from None
    core.tick()  # tasks that came due post their events now
    return core.callbacks.status()


def _flush(core: EmulatorCore, body: bytes) -> dict[str, Any]:
    """Wait, outside the core's lock, until every queued callback is sent or given up."""
    spec = _json_object(body)
    timeout = spec.get("timeout", DEFAULT_FLUSH_SECONDS)
    if (
        set(spec) - {"timeout"}
        or isinstance(timeout, bool)
        or not isinstance(timeout, (int, float))
    ):
        raise ControlError(400, 'send {} or {"timeout": seconds}')
    if not 0 <= timeout <= MAX_FLUSH_SECONDS:
        raise ControlError(400, f"timeout must be from 0 to {MAX_FLUSH_SECONDS:g} seconds")
    core.tick()
    drained = core.callbacks.wait(float(timeout))
    return {**core.callbacks.status(), "drained": drained}


def _view(core: EmulatorCore, method: str, path: str, query: Mapping[str, str]) -> dict[str, Any]:
    """The JSON the inbox page reads (`ui/views`)."""
    if path.startswith(_MAIL) and method != "GET":
        raise ControlError(405, f"{path} accepts GET", ("GET",))
    core.tick()  # tasks that came due have sent their mail
    try:
        if path == "/_emulator/inbox":
            return views.inbox(core, query)
        if path.startswith(_MAIL):
            return views.mail(core, path.removeprefix(_MAIL))
        return _VIEWS[path](core)
    except views.ViewError as err:
        raise ControlError(err.status, err.message) from None


def handle(
    core: EmulatorCore, method: str, path: str, query: Mapping[str, str], body: bytes
) -> tuple[int, Any, tuple[str, ...]]:
    """(status, JSON payload, methods for an Allow header) for one `/_emulator/...` request."""
    path = path.rstrip("/") or "/"
    try:
        allowed = _ROUTES.get(path)
        if allowed is not None and method not in allowed:
            raise ControlError(405, f"{path} accepts {', '.join(allowed)}", allowed)
        if path == "/_emulator/faults":
            return 200, _faults(core, method, body), ()
        if path == "/_emulator/clock":
            return 200, _clock(core, method, body), ()
        if path == "/_emulator/reset":
            core.reset()
            return 200, {"reset": True, "now": core.clock.now().isoformat()}, ()
        if path == "/_emulator/calls":
            return 200, {"calls": core.call_counts(query.get("service") or None)}, ()
        if path == "/_emulator/callbacks":
            return 200, _callbacks(core, method, body), ()
        if path == "/_emulator/callbacks/flush":
            return 200, _flush(core, body), ()
        if path == "/_emulator/inbox" or path in _VIEWS or path.startswith(_MAIL):
            return 200, _view(core, method, path, query), ()
        core.tick()  # lazily due tasks and uploads show up in what services report
        with core.lock:
            for service in core.services.values():
                answer = service.control(method, path, query, body)
                if answer is not None:
                    return answer[0], answer[1], ()
        raise ControlError(404, f"no emulator endpoint {path}")
    except ControlError as err:
        return err.status, {"error": err.message}, err.allow
