"""The SES routes: `POST /v1/emails` (SendEmail), `POST /v1/batch-tasks` (BatchSendEmail), and the
query routes `GET /v1/batch-tasks` (ListSendTasks) and `GET /v1/email-status`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sesrelay.events import HttpResponse
from sesrelay.http.problems import error_response, json_response
from sesrelay.http.query_params import batch_task_query, email_status_query
from sesrelay.http.router import Call, Handler, Route, read_json_object, route
from sesrelay.sending.idempotency import IdempotencyGuard, check_key, fingerprint, key_hash
from sesrelay.sending.outcome import SendKind, SendOutcome
from sesrelay.sending.pipeline import Pipeline, SendRequest


def _send_route(action: str, result_fields: tuple[str, ...]) -> Handler:
    def handler(call: Call) -> HttpResponse:
        request = call.request
        scope = call.require(action)  # 403 before the body is even read
        raw_key = request.header("idempotency-key")
        key = check_key(raw_key) if raw_key is not None else None
        body = read_json_object(request)

        def answer(outcome: SendOutcome) -> HttpResponse:
            if outcome.kind is SendKind.SENT:
                result = outcome.result
                return json_response(202, {name: result.get(name) for name in result_fields})
            return error_response(outcome.failure, request.request_id)

        guard = None
        if key is not None:
            call.log["idempotency_key_hash"] = key_hash(key)
            guard = IdempotencyGuard(
                scope=f"{call.principal[:16]}:{action}",
                key=key,
                fingerprint=fingerprint(request.method, request.path, body),
            )
        send = SendRequest(action, body, entry="http", key=scope, idempotency_key=key)
        return Pipeline(call.services).send(send, call.deadline, call.log, answer, guard)

    return handler


def _query_route(
    action: str, query_params: Callable[[Mapping[str, str]], dict[str, Any]]
) -> Handler:
    def handler(call: Call) -> HttpResponse:
        call.require("read_all")  # SES's lists show every key's sends
        params = query_params(call.request.query)
        result = call.services.ses.call(action, params, call.deadline)
        call.log["ses_request_id"] = result.get("RequestId")
        return json_response(200, result)

    return handler


ROUTES: tuple[Route, ...] = (
    route("POST", "/v1/emails", _send_route("SendEmail", ("MessageId", "RequestId"))),
    route("POST", "/v1/batch-tasks", _send_route("BatchSendEmail", ("TaskId", "RequestId"))),
    route("GET", "/v1/batch-tasks", _query_route("ListSendTasks", batch_task_query)),
    route("GET", "/v1/email-status", _query_route("GetSendEmailStatus", email_status_query)),
)
