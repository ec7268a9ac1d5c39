"""Event shape -> handling, with one log line per invocation. Unknown shapes get a clear error,
never a traceback."""

from __future__ import annotations

import logging
from typing import Any

from sesrelay import logs
from sesrelay.clock import Deadline
from sesrelay.direct import handle_direct, is_direct_event
from sesrelay.errors import INTERNAL_MESSAGES, RelayError
from sesrelay.events import HttpResponse, parse_http_event
from sesrelay.http.problems import error_response, problem
from sesrelay.wiring import Services

ACCEPTED_SHAPES = (
    "a function URL event (httpMethod, no requestContext), "
    "an API Gateway event (requestContext), "
    'a timer event (Type "Timer"), '
    'or a direct invocation {"action": "SendEmail"|"BatchSendEmail", "params": {...}}'
)


def event_kind(event: object) -> str:
    if not isinstance(event, dict):
        return "unknown"
    if "requestContext" in event:
        return "apigw"
    if "httpMethod" in event:
        return "http"
    if str(event.get("Type", "")).lower() == "timer":
        return "timer"
    if is_direct_event(event):
        return "direct"
    return "unknown"


def request_id_of(context: object) -> str | None:
    if isinstance(context, dict):
        value = context.get("request_id")
        return str(value) if value else None
    return None


def dispatch(event: object, context: object, services: Services) -> dict[str, Any]:
    clock = services.clock
    started = clock.monotonic()
    deadline = Deadline.from_context(clock, context)
    kind = event_kind(event)
    fields: dict[str, Any] = {"request_id": request_id_of(context), "trigger": kind}
    try:
        if kind in ("http", "apigw"):
            assert isinstance(event, dict)
            response = handle_http_event(event, kind, services, deadline, fields)
            fields["status"] = response.status
            return response.to_scf(kind)
        if kind == "timer":
            assert isinstance(event, dict)
            from sesrelay.timers.handler import handle_timer

            return handle_timer(event, services, deadline, fields)
        if kind == "direct":
            assert isinstance(event, dict)
            reply = handle_direct(event, services, deadline, fields)
            fields["status"] = "ok" if reply.get("ok") else reply["error"]["code"]
            return reply
        fields["status"] = "unsupported_event"
        return {
            "ok": False,
            "error": {
                "code": "unsupported_event",
                "message": f"unrecognised event; accepted shapes: {ACCEPTED_SHAPES}",
                "errors": [],
            },
        }
    finally:
        fields["latency_ms"] = round((clock.monotonic() - started) * 1000, 1)
        logs.invocation(**fields)


def handle_http_event(
    event: dict[str, Any],
    kind: str,
    services: Services,
    deadline: Deadline,
    fields: dict[str, Any],
) -> HttpResponse:
    from sesrelay.http.app import handle_http
    from sesrelay.http.router import Call

    request_id = fields.get("request_id")
    try:
        request = parse_http_event(event, kind)
    except RelayError as error:
        fields["code"] = error.code
        return error_response(error, request_id)
    request_id = request_id or request.request_id
    fields["request_id"] = request_id
    request.request_id = request_id  # routes quote it in the problems they build
    fields["method"] = request.method
    # Not the raw path: a path parameter can be a credential (the SES callback token). The
    # matched route template is logged instead ("route").
    call = Call(request=request, services=services, deadline=deadline, log=fields)
    try:
        return handle_http(call)
    except RelayError as error:
        fields["code"] = error.code
        if error.code in INTERNAL_MESSAGES:
            fields["detail"] = error.message  # for the operator; the caller gets the fixed text
        return error_response(error, request_id)
    except Exception:
        # The route template, not the path: a path segment can be a credential.
        where = fields.get("route") or request.method
        logging.getLogger(logs.LOGGER_NAME).exception("unhandled error in %s", where)
        fields["code"] = "internal_error"
        return problem(
            500,
            "internal_error",
            "internal error; the function log has the details",
            request_id=request_id,
        )
