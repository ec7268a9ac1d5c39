"""Timer ticks (DESIGN A3): `Message` names a job or carries an inline action; one send per tick.

The tick's dedupe key is `timer:<TriggerName>:<Time>`, because SCF retries async invocations up to
twice. Retryable failures raise (SCF retries); others return a failure summary.
"""

from __future__ import annotations

import json
from typing import Any

from sesrelay import sending
from sesrelay.clock import Deadline
from sesrelay.errors import FieldError, InvalidInput, MalformedRequest, RelayError, SesError
from sesrelay.events import parse_timer_event
from sesrelay.wiring import Services

#: How long a finished tick is remembered: far beyond SCF's retry window (6 h by default).
DONE_TTL_SECONDS = 7 * 24 * 3600
CLAIM_MARGIN_SECONDS = 5.0
MAX_MESSAGE_BYTES = 4096


class RetryLater(Exception):
    """Raised so SCF marks the invocation failed and retries it (async retry policy)."""


def _failure(code: str, message: str, errors: list[FieldError] | None = None) -> dict[str, Any]:
    return {
        "ok": False,
        "error": {"code": code, "message": message, "errors": [e.as_dict() for e in errors or []]},
    }


def resolve_message(message: str, services: Services) -> tuple[str, object, str]:
    """Message -> (action, raw params, label). Raises InvalidInput/MalformedRequest."""
    if len(message.encode("utf-8")) > MAX_MESSAGE_BYTES:
        raise InvalidInput([FieldError("Message", "must be at most 4 KB (SCF timer limit)")])
    try:
        data = json.loads(message) if message.strip() else None
    except json.JSONDecodeError:
        raise MalformedRequest(
            'Message is not JSON; use {"job": "<name>"} or {"action": ..., "params": {...}}'
        ) from None
    if not isinstance(data, dict):
        raise MalformedRequest(
            'Message must be a JSON object: {"job": "<name>"} or {"action": ..., "params": {...}}'
        )
    if "job" in data:
        raise InvalidInput([FieldError("Message.job", "unknown job: no jobs are configured")])
    action = data.get("action")
    if action not in sending.SEND_VALIDATORS:
        raise InvalidInput(
            [FieldError("Message.action", f"must be one of {', '.join(sending.SEND_VALIDATORS)}")]
        )
    unknown = sorted(set(data) - {"action", "params"})
    if unknown:
        raise InvalidInput([FieldError(f"Message.{k}", "unknown field") for k in unknown])
    return str(action), data.get("params"), f"inline:{action}"


def handle_timer(
    event: dict[str, Any], services: Services, deadline: Deadline, fields: dict[str, Any]
) -> dict[str, Any]:
    try:
        tick = parse_timer_event(event)
        fields["trigger_name"] = tick.TriggerName
        action, raw, label = resolve_message(tick.Message, services)
        fields["job"] = label
        params = sending.validate(
            action, raw, clock=services.clock, allow_simple=services.settings.allow_simple
        )
        sending.check_senders(params, services.settings.allowed_senders)
    except RelayError as error:
        fields["status"] = error.code
        errors = error.errors if isinstance(error, InvalidInput) else None
        return _failure(error.code, error.message, errors)

    key = f"timer:{tick.TriggerName}:{tick.Time}"
    store = services.state
    claim = json.dumps({"state": "in_progress"})
    existing = store.claim(key, claim, deadline.remaining() + CLAIM_MARGIN_SECONDS)
    if existing is not None:
        state = json.loads(existing.value).get("state")
        if state == "in_progress":
            fields["status"] = "in_progress"
            raise RetryLater(f"tick {key} is being handled by another invocation")
        fields["status"] = "duplicate"
        return {"ok": True, "status": "duplicate", "tick": key, "first_outcome": state}
    try:
        result = services.ses.call(action, params.to_ses(), deadline)
    except SesError as error:
        fields["code"] = error.code
        fields["ses_request_id"] = error.request_id
        if error.retryable:
            store.delete(key)
            fields["status"] = "retry"
            raise RetryLater(f"SES {error.code}: {error.message}") from None
        outcome = "outcome_unknown" if error.outcome_unknown else "failed"
        store.put(key, json.dumps({"state": outcome, "code": error.code}), DONE_TTL_SECONDS)
        fields["status"] = outcome
        reply = _failure(error.code, error.message)
        reply["error"]["outcome"] = error.outcome.value
        return reply
    except RelayError as error:  # e.g. credentials missing: SES was not called
        store.delete(key)
        fields["status"] = error.code
        return _failure(error.code, error.message)
    store.put(key, json.dumps({"state": "sent"}), DONE_TTL_SECONDS)
    fields["status"] = "sent"
    fields["ses_request_id"] = result.get("RequestId")
    return {"ok": True, "status": "sent", "tick": key, "result": result}
