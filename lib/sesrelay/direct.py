"""Direct invocation: `{"action": "SendEmail" | "BatchSendEmail", "params": {...}}`, as sent by the
SCF Invoke API or another function. Replies `{"ok": true, "result"}` or `{"ok": false, "error"}`."""

from __future__ import annotations

from typing import Any

from sesrelay.clock import Deadline
from sesrelay.errors import FieldError, InvalidInput, RelayError, public_message
from sesrelay.gateway import SEND_ACTIONS
from sesrelay.sending.outcome import SendKind, SendOutcome
from sesrelay.sending.pipeline import Pipeline, SendRequest, logged_failure
from sesrelay.wiring import Services

ACTIONS = SEND_ACTIONS


def is_direct_event(event: dict[str, Any]) -> bool:
    return "action" in event and "params" in event


def handle_direct(
    event: dict[str, Any], services: Services, deadline: Deadline, log: dict[str, Any]
) -> dict[str, Any]:
    try:
        action = _action_of(event)
    except InvalidInput as error:
        return reply(logged_failure(error, log))
    request = SendRequest(action, event["params"], entry="direct")
    return Pipeline(services).send(request, deadline, log, reply)


def _action_of(event: dict[str, Any]) -> str:
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
    return action


def reply(outcome: SendOutcome) -> dict[str, Any]:
    if outcome.kind is SendKind.SENT:
        return {"ok": True, "result": outcome.result}
    return {"ok": False, "error": error_body(outcome.failure)}


def error_body(error: RelayError) -> dict[str, Any]:
    body: dict[str, Any] = {"code": error.code, "message": public_message(error), "errors": []}
    if isinstance(error, InvalidInput):
        body["errors"] = [e.as_dict() for e in error.errors]
    extra = error.as_dict()
    for key in ("ses_request_id", "outcome"):
        if key in extra:
            body[key] = extra[key]
    return body
