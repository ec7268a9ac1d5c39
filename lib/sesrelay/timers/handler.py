"""Timer ticks (DESIGN A3): `Message` names a job or carries an inline action; one send per tick.

The tick's dedupe key is `timer:<TriggerName>:<Time>`, because SCF retries async invocations up to
twice. Retryable failures raise (SCF retries); others return a failure summary.
"""

from __future__ import annotations

import json
from typing import Any

from sesrelay.clock import Deadline
from sesrelay.errors import (
    FieldError,
    InvalidInput,
    MalformedRequest,
    RelayError,
    RetryLater,
    SesError,
)
from sesrelay.events import TimerEvent, parse_timer_event
from sesrelay.sending import pipeline as sending
from sesrelay.sending.once import send_once
from sesrelay.state import StateStoreError
from sesrelay.wiring import Services

#: How long a finished tick is remembered: far beyond SCF's retry window (6 h by default).
DONE_TTL_SECONDS = 7 * 24 * 3600
MAX_MESSAGE_BYTES = 4096


def _failure(code: str, message: str, errors: list[FieldError] | None = None) -> dict[str, Any]:
    return {
        "ok": False,
        "error": {"code": code, "message": message, "errors": [e.as_dict() for e in errors or []]},
    }


def parse_message(message: str) -> dict[str, Any]:
    if len(message.encode("utf-8")) > MAX_MESSAGE_BYTES:
        raise InvalidInput([FieldError("Message", "must be at most 4 KB (SCF timer limit)")])
    try:
        data = json.loads(message) if message.strip() else None
    except json.JSONDecodeError:
        data = None
    if not isinstance(data, dict):
        raise MalformedRequest(
            'Message must be a JSON object: {"job": "<name>"} or {"action": ..., "params": {...}}'
        )
    return data


def resolve_message(
    data: dict[str, Any], tick: TimerEvent, services: Services, deadline: Deadline
) -> tuple[str, object, str]:
    """Message -> (action, raw params, label). Raises InvalidInput/MalformedRequest/SesError."""
    if "job" in data:
        from sesrelay.timers.jobs import ReceiverCache, parse_tick_time, resolve_job

        unknown = sorted(set(data) - {"job"})
        if unknown:
            raise InvalidInput([FieldError(f"Message.{k}", "unknown field") for k in unknown])
        name = str(data["job"])
        cache = services.cache.setdefault("receivers", ReceiverCache())
        action, params = resolve_job(
            name, services.config, parse_tick_time(tick.Time), services.ses, deadline, cache
        )
        return action, params, f"job:{name}"
    inline_action = data.get("action")
    if inline_action not in sending.SEND_ACTIONS:
        raise InvalidInput(
            [FieldError("Message.action", f"must be one of {', '.join(sending.SEND_ACTIONS)}")]
        )
    unknown = sorted(set(data) - {"action", "params"})
    if unknown:
        raise InvalidInput([FieldError(f"Message.{k}", "unknown field") for k in unknown])
    return str(inline_action), data.get("params"), f"inline:{inline_action}"


def handle_timer(
    event: dict[str, Any], services: Services, deadline: Deadline, fields: dict[str, Any]
) -> dict[str, Any]:
    try:
        tick = parse_timer_event(event)
        fields["trigger_name"] = tick.TriggerName
        data = parse_message(tick.Message)
        if _is_finisher(data, services):
            return _finish_campaigns(services, deadline, fields)
        action, raw, label = resolve_message(data, tick, services, deadline)
        fields["job"] = label
        params = sending.validate(
            action, raw, clock=services.clock, allow_simple=services.settings.allow_simple
        )
        sending.check_senders(params, services.settings.allowed_senders)
    except SesError as error:  # the recipient-group lookup failed
        return _ses_failure(error, fields, services)
    except RelayError as error:
        fields["status"] = error.code
        errors = error.errors if isinstance(error, InvalidInput) else None
        return _failure(error.code, error.message, errors)

    key = f"timer:{tick.TriggerName}:{tick.Time}"
    try:
        once = send_once(
            services.state,
            key,
            deadline=deadline,
            remember_seconds=DONE_TTL_SECONDS,
            send=lambda: services.ses.call(action, params.to_ses(), deadline),
        )
    except StateStoreError as error:
        fields["status"] = error.code
        raise RetryLater(f"state store unavailable: {error.message}") from None
    except SesError as error:
        return _ses_failure(error, fields, services)
    except RelayError as error:  # e.g. credentials missing: SES was not called
        fields["status"] = error.code
        return _failure(error.code, error.message)
    if once.status == "in_progress":
        fields["status"] = "in_progress"
        raise RetryLater(f"tick {key} is being handled by another invocation")
    if once.status == "duplicate":
        fields["status"] = "duplicate"
        return {"ok": True, "status": "duplicate", "tick": key, "first_outcome": once.first_outcome}
    result = once.result or {}
    fields["status"] = "sent"
    fields["ses_request_id"] = result.get("RequestId")
    return {"ok": True, "status": "sent", "tick": key, "result": result}


def _ses_failure(error: SesError, fields: dict[str, Any], services: Services) -> dict[str, Any]:
    if error.code == "OperationDenied.ReceiverNotExist":
        services.cache.pop("receivers", None)  # a group was deleted: look names up again
    fields["code"] = error.code
    fields["ses_request_id"] = error.request_id
    if error.retryable:
        fields["status"] = "retry"
        raise RetryLater(f"SES {error.code}: {error.message}") from None
    fields["status"] = error.outcome.value
    reply = _failure(error.code, error.message)
    reply["error"]["outcome"] = error.outcome.value
    return reply


def _is_finisher(data: dict[str, Any], services: Services) -> bool:
    """A job whose action is FinishCampaigns (sesrelay.yaml's `campaigns-finisher`)."""
    from sesrelay.config.model import FINISH_CAMPAIGNS

    job = services.config.jobs.get(str(data.get("job"))) if "job" in data else None
    return job is not None and job.action == FINISH_CAMPAIGNS


def _finish_campaigns(
    services: Services, deadline: Deadline, fields: dict[str, Any]
) -> dict[str, Any]:
    from sesrelay.campaigns.service import finish_pending

    fields["job"] = "job:FinishCampaigns"
    try:
        summary = finish_pending(services, deadline)
    except SesError as error:
        return _ses_failure(error, fields, services)
    fields["status"] = "finished"
    return {"ok": True, "status": "finished", **summary}
