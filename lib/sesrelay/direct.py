"""Direct invocation: `{"action": "SendEmail" | "BatchSendEmail", "params": {...}}`, as sent by the
SCF Invoke API or another function. Replies `{"ok": true, "result"}` or `{"ok": false, "error"}`."""

from __future__ import annotations

from typing import Any

from sesrelay.clock import Deadline
from sesrelay.errors import FieldError, InvalidInput, RelayError
from sesrelay.sending import pipeline as sending
from sesrelay.wiring import Services

ACTIONS = sending.SEND_ACTIONS


def is_direct_event(event: dict[str, Any]) -> bool:
    return "action" in event and "params" in event


def handle_direct(event: dict[str, Any], services: Services, deadline: Deadline) -> dict[str, Any]:
    try:
        action = event.get("action")
        if not isinstance(action, str) or action not in ACTIONS:
            raise InvalidInput(
                [FieldError("action", f"must be one of {', '.join(ACTIONS)}")],
                message="unknown action",
            )
        unknown = sorted(set(event) - {"action", "params"})
        if unknown:
            raise InvalidInput(
                [
                    FieldError(name, "unknown field; a direct event has only action and params")
                    for name in unknown
                ]
            )
        params = sending.validate(
            action,
            event["params"],
            clock=services.clock,
            allow_simple=services.settings.allow_simple,
        )
        result = sending.send(
            services.ses,
            action,
            params,
            allowed_senders=services.settings.allowed_senders,
            deadline=deadline,
        )
    except RelayError as error:
        return {"ok": False, "error": error_body(error)}
    return {"ok": True, "result": result}


def error_body(error: RelayError) -> dict[str, Any]:
    body: dict[str, Any] = {"code": error.code, "message": error.message, "errors": []}
    if isinstance(error, InvalidInput):
        body["errors"] = [e.as_dict() for e in error.errors]
    extra = error.as_dict()
    for key in ("ses_request_id", "outcome"):
        if key in extra:
            body[key] = extra[key]
    return body
