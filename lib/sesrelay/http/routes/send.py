"""The SES routes: `POST /v1/emails` (SendEmail), `POST /v1/batch-tasks` (BatchSendEmail), and the
query routes `GET /v1/batch-tasks` (ListSendTasks) and `GET /v1/email-status`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sesrelay.errors import Outcome, SesError
from sesrelay.events import HttpResponse
from sesrelay.http.problems import error_response, json_response
from sesrelay.http.query_params import batch_task_query, email_status_query
from sesrelay.http.router import Call, Handler, Route, read_json_object, route
from sesrelay.logs import mask_email
from sesrelay.sending import pipeline as sending
from sesrelay.sending.idempotency import Idempotency, check_key, fingerprint, key_hash


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


ROUTES: tuple[Route, ...] = (
    route("POST", "/v1/emails", _send_route("SendEmail", ("MessageId", "RequestId"))),
    route("POST", "/v1/batch-tasks", _send_route("BatchSendEmail", ("TaskId", "RequestId"))),
    route("GET", "/v1/batch-tasks", _query_route("ListSendTasks", batch_task_query)),
    route("GET", "/v1/email-status", _query_route("GetSendEmailStatus", email_status_query)),
)
