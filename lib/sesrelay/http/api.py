"""The HTTP API of DESIGN A2: routing, auth, body parsing, and the send/query routes.

Later routes (campaigns, webhooks, SES events) register in `ROUTES` the same way.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sesrelay.clock import Deadline
from sesrelay.errors import (
    FieldError,
    InvalidInput,
    MalformedRequest,
    Outcome,
    RelayError,
    SesError,
)
from sesrelay.events import MAX_BODY_BYTES, HttpRequest, HttpResponse
from sesrelay.http.auth import authenticate
from sesrelay.http.problems import json_response
from sesrelay.http.query_params import batch_task_query, email_status_query
from sesrelay.logs import mask_email
from sesrelay.sending import pipeline as sending
from sesrelay.sending.idempotency import Idempotency, check_key, fingerprint, key_hash
from sesrelay.wiring import Services


class NotFound(RelayError):
    code = "not_found"


class MethodNotAllowed(RelayError):
    code = "method_not_allowed"

    def __init__(self, message: str, allow: str) -> None:
        super().__init__(message)
        self.allow = allow


class PayloadTooLarge(RelayError):
    code = "payload_too_large"


class UnsupportedMediaType(RelayError):
    code = "unsupported_media_type"


@dataclass
class Call:
    """What a route handler gets: the request, the services and the per-invocation facts."""

    request: HttpRequest
    services: Services
    deadline: Deadline
    log: dict[str, Any] = field(default_factory=dict)
    principal: str = ""


Handler = Callable[[Call], HttpResponse]


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    handler: Handler
    auth: bool = True
    #: The template's segments, split once at registration (matching is on the hot path).
    segments: tuple[str, ...] = ()

    def match(self, parts: list[str]) -> dict[str, str] | None:
        if len(parts) != len(self.segments):
            return None
        params: dict[str, str] = {}
        for want, got in zip(self.segments, parts, strict=True):
            if want[:1] == "{":
                if not got:
                    return None
                params[want[1:-1]] = got
            elif want != got:
                return None
        return params


ROUTES: list[Route] = []


def route(method: str, template: str, *, auth: bool = True) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        segments = tuple(template.strip("/").split("/"))
        ROUTES.append(Route(method, template, handler, auth, segments))
        return handler

    return register


def _routes_of_length(segments: int) -> list[Route]:
    """Routes with that many path segments (matching runs on every request)."""
    index: dict[int, list[Route]] = _ROUTE_INDEX
    if len(index.get(-1, ())) != len(ROUTES):  # routes registered since: rebuild
        index.clear()
        index[-1] = list(ROUTES)
        for candidate in ROUTES:
            index.setdefault(len(candidate.segments), []).append(candidate)
    return index.get(segments, [])


_ROUTE_INDEX: dict[int, list[Route]] = {}


def handle_http(call: Call) -> HttpResponse:
    request = call.request
    parts = request.path.strip("/").split("/")
    matches = [(r, p) for r in _routes_of_length(len(parts)) if (p := r.match(parts)) is not None]
    if not matches:
        raise NotFound(f"no route for {request.path}; see GET /v1/openapi.json")
    for candidate, params in matches:
        if candidate.method == request.method:
            call.log["route"] = f"{candidate.method} {candidate.template}"
            request.path_params = params
            if candidate.auth:
                call.principal = authenticate(
                    request.header("authorization"), call.services.settings.api_key_sha256
                )
            return candidate.handler(call)
    allow = ", ".join(sorted({r.method for r, _ in matches}))
    raise MethodNotAllowed(f"{request.method} is not allowed on {request.path}", allow)


def read_json_object(request: HttpRequest) -> dict[str, Any]:
    """The body as a JSON object; 413/415/400/422 errors say exactly what is wrong."""
    if len(request.body) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"the body is {len(request.body)} bytes; the limit is 6 MB")
    content_type = (request.header("content-type") or "").split(";")[0].strip().lower()
    if content_type and content_type != "application/json" and not content_type.endswith("+json"):
        raise UnsupportedMediaType(
            f"Content-Type {content_type} is not JSON; send application/json"
        )
    if not request.body:
        raise MalformedRequest("the body is empty; send a JSON object")
    try:
        text = request.body.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedRequest("the body is not valid UTF-8") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MalformedRequest(
            f"the body is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    if not isinstance(data, dict):
        kind = "an array" if isinstance(data, list) else "a JSON scalar"
        raise InvalidInput([FieldError("", f"the body must be a JSON object, not {kind}")])
    return data


def keep_for_replay(response: HttpResponse) -> bool:
    """Successes and ambiguous failures hold the key; what SES surely did not act on frees it."""
    return response.status < 300 or '"upstream_outcome_unknown"' in response.body


def _send_route(action: str, result_fields: tuple[str, ...]) -> Handler:
    def handler(call: Call) -> HttpResponse:
        services = call.services
        raw_key = call.request.header("idempotency-key")
        key = check_key(raw_key) if raw_key is not None else None
        body = read_json_object(call.request)
        params = sending.validate(
            action, body, clock=services.clock, allow_simple=services.settings.allow_simple
        )
        sending.check_senders(params, services.settings.allowed_senders)
        call.log["from"] = mask_email(sending.sender_address(params.FromEmailAddress))

        def execute() -> HttpResponse:
            try:
                result = services.ses.call(action, params.to_ses(), call.deadline)
            except SesError as error:
                call.log["ses_request_id"] = error.request_id
                if error.outcome is Outcome.OUTCOME_UNKNOWN:
                    from sesrelay.http.problems import error_response

                    return error_response(error, call.request.request_id)
                raise
            call.log["ses_request_id"] = result.get("RequestId")
            return json_response(202, {name: result.get(name) for name in result_fields})

        if key is None:
            return execute()
        call.log["idempotency_key_hash"] = key_hash(key)
        return Idempotency(services.state, services.clock).run(
            scope=f"{call.principal[:16]}:{action}",
            key=key,
            fingerprint=fingerprint(call.request.method, call.request.path, body),
            deadline=call.deadline,
            action=execute,
            keep=keep_for_replay,
        )

    return handler


def _query_route(
    action: str, query_params: Callable[[Mapping[str, str]], dict[str, Any]]
) -> Handler:
    def handler(call: Call) -> HttpResponse:
        params = query_params(call.request.query)
        result = call.services.ses.call(action, params, call.deadline)
        call.log["ses_request_id"] = result.get("RequestId")
        return json_response(200, result)

    return handler


route("POST", "/v1/emails")(_send_route("SendEmail", ("MessageId", "RequestId")))
route("POST", "/v1/batch-tasks")(_send_route("BatchSendEmail", ("TaskId", "RequestId")))
route("GET", "/v1/batch-tasks")(_query_route("ListSendTasks", batch_task_query))
route("GET", "/v1/email-status")(_query_route("GetSendEmailStatus", email_status_query))


@route("GET", "/v1/health", auth=False)
def health(call: Call) -> HttpResponse:
    from sesrelay import __version__

    return json_response(200, {"status": "ok", "version": __version__})


@route("GET", "/v1/openapi.json", auth=False)
def openapi(call: Call) -> HttpResponse:
    from sesrelay.http.openapi import openapi_document

    return json_response(200, openapi_document())


# Route modules register themselves on import (they import this module for `route`).
from sesrelay.http.routes import campaigns as _campaign_routes  # noqa: E402, F401
from sesrelay.http.routes import ses_events as _ses_events  # noqa: E402, F401
from sesrelay.http.routes import webhooks as _webhook_routes  # noqa: E402, F401
