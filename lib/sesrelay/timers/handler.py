"""Timer ticks: `Message` names a job or carries an inline action; one send per tick.

The tick's dedupe key is `timer:<TriggerName>:<Time>`, because SCF retries async invocations up to
twice. A send the same tick may still get through later (SES throttling, no rate-limit permit, the
state store down, the tick still running elsewhere) raises RetryLater, so SCF retries it; any other
failure returns a summary.
"""

from __future__ import annotations

from typing import Any

from sesrelay import jsontext
from sesrelay.clock import Deadline
from sesrelay.errors import (
    FieldError,
    InvalidInput,
    MalformedRequest,
    RelayError,
    RetryLater,
    SesError,
)
from sesrelay.events import MAX_TIMER_MESSAGE_BYTES, TimerEvent, parse_timer_event
from sesrelay.gateway import SEND_ACTIONS
from sesrelay.sending.once import SendOnce
from sesrelay.sending.outcome import IdempotencyInProgress, SendKind, SendOutcome
from sesrelay.sending.pipeline import Pipeline, SendRequest, logged_failure
from sesrelay.template_names import TEMPLATE_GONE
from sesrelay.wiring import Services

#: How long a finished tick is remembered: far beyond SCF's retry window (6 h by default).
DONE_TTL_SECONDS = 7 * 24 * 3600
#: SES's answer to a ReceiverId that no longer exists: the group was deleted or recreated.
RECEIVER_GONE = "OperationDenied.ReceiverNotExist"


def _failure(code: str, message: str, errors: list[FieldError] | None = None) -> dict[str, Any]:
    return {
        "ok": False,
        "error": {"code": code, "message": message, "errors": [e.as_dict() for e in errors or []]},
    }


def parse_message(message: str) -> dict[str, Any]:
    if len(message.encode("utf-8")) > MAX_TIMER_MESSAGE_BYTES:
        raise InvalidInput([FieldError("Message", "must be at most 4 KB (SCF timer limit)")])
    data = jsontext.parse(message, "Message") if message.strip() else None
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
        from sesrelay.timers.jobs import parse_tick_time, resolve_job

        unknown = sorted(set(data) - {"job"})
        if unknown:
            raise InvalidInput([FieldError(f"Message.{k}", "unknown field") for k in unknown])
        name = str(data["job"])
        action, params = resolve_job(
            name,
            services.config,
            parse_tick_time(tick.Time),
            services.ses,
            deadline,
            services.receivers,
            services.templates,
        )
        return action, params, f"job:{name}"
    inline_action = data.get("action")
    if inline_action not in SEND_ACTIONS:
        raise InvalidInput(
            [FieldError("Message.action", f"must be one of {', '.join(SEND_ACTIONS)}")]
        )
    unknown = sorted(set(data) - {"action", "params"})
    if unknown:
        raise InvalidInput([FieldError(f"Message.{k}", "unknown field") for k in unknown])
    return str(inline_action), data.get("params"), f"inline:{inline_action}"


class TickReply:
    """A send's outcome as the tick's summary and its log `status`; RetryLater where SCF's
    retry of the same tick may succeed."""

    def __init__(self, services: Services, fields: dict[str, Any], key: str = "") -> None:
        self.services = services
        self.fields = fields
        self.key = key

    def outcome(self, outcome: SendOutcome) -> dict[str, Any]:
        if outcome.kind is SendKind.SENT:
            self.fields["status"] = "sent"
            return {"ok": True, "status": "sent", "tick": self.key, "result": outcome.result}
        error = outcome.failure
        if isinstance(error, SesError):
            return self._ses_failure(error)
        if outcome.kind is SendKind.RETRY_LATER:
            if isinstance(error, IdempotencyInProgress):
                self.fields["status"] = "in_progress"
                raise RetryLater(error.message)
            self.fields["status"] = error.code
            raise RetryLater(f"state store unavailable: {error.message}")
        self.fields["status"] = error.code
        errors = error.errors if isinstance(error, InvalidInput) else None
        return _failure(error.code, error.message, errors)

    def duplicate(self, first_outcome: str) -> dict[str, Any]:
        self.fields["status"] = "duplicate"
        return {"ok": True, "status": "duplicate", "tick": self.key, "first_outcome": first_outcome}

    def _ses_failure(self, error: SesError) -> dict[str, Any]:
        if error.code == RECEIVER_GONE:
            self.services.receivers.clear()  # look the group names up again next time
        if error.code in TEMPLATE_GONE:
            self.services.templates.clear()  # and the template names
        self.fields["code"] = error.code
        self.fields["ses_request_id"] = error.request_id
        if error.retryable:
            self.fields["status"] = "retry"
            raise RetryLater(f"SES {error.code}: {error.message}") from None
        self.fields["status"] = error.outcome.value
        reply = _failure(error.code, error.message)
        reply["error"]["outcome"] = error.outcome.value
        return reply


def handle_timer(
    event: dict[str, Any], services: Services, deadline: Deadline, fields: dict[str, Any]
) -> dict[str, Any]:
    reply = TickReply(services, fields)
    try:
        tick = parse_timer_event(event)
        fields["trigger_name"] = tick.TriggerName
        data = parse_message(tick.Message)
        if _is_finisher(data, services):
            return _finish_campaigns(services, deadline, reply)
        action, raw, label = resolve_message(data, tick, services, deadline)
    except RelayError as error:  # SES was not asked to send: e.g. an unknown job
        return reply.outcome(logged_failure(error, fields))
    fields["job"] = label
    reply.key = f"timer:{tick.TriggerName}:{tick.Time}"
    guard = SendOnce(
        reply.key,
        remember_seconds=DONE_TTL_SECONDS,
        duplicate=reply.duplicate,
        busy=f"tick {reply.key} is being handled by another invocation",
    )
    request = SendRequest(action, raw, entry="timer:" + label.removeprefix("job:"))
    return Pipeline(services).send(request, deadline, fields, reply.outcome, guard)


def _is_finisher(data: dict[str, Any], services: Services) -> bool:
    """A job whose action is FinishCampaigns (sesrelay.yaml's `campaigns-finisher`)."""
    from sesrelay.config.model import FINISH_CAMPAIGNS

    job = services.config.jobs.get(str(data.get("job"))) if "job" in data else None
    return job is not None and job.action == FINISH_CAMPAIGNS


def _finish_campaigns(services: Services, deadline: Deadline, reply: TickReply) -> dict[str, Any]:
    from sesrelay.campaigns.service import finish_pending

    reply.fields["job"] = "job:FinishCampaigns"
    try:
        summary = finish_pending(services, deadline)
    except SesError as error:
        return reply.outcome(logged_failure(error, reply.fields))
    reply.fields["status"] = "finished"
    return {"ok": True, "status": "finished", **summary}
