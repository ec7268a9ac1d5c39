"""One mapping from errors to HTTP: RFC 9457 `application/problem+json` bodies.

The table of codes lives here and in docs/http-api.md#error-codes; tests check they agree.
"""

from __future__ import annotations

import json
import math
from http import HTTPStatus
from typing import Any

from sesrelay.errors import (
    INTERNAL_MESSAGES,
    InvalidInput,
    Outcome,
    RelayError,
    SesError,
    public_message,
)
from sesrelay.events import HttpResponse

PROBLEM_TYPE = "application/problem+json"

#: Our own codes -> (status, meaning). SES codes are mapped by prefix in `ses_status`.
CODES: dict[str, tuple[int, str]] = {
    "malformed_request": (400, "the body is not JSON, not UTF-8, or not a JSON object"),
    "invalid_idempotency_key": (400, "Idempotency-Key must be 1-256 printable ASCII characters"),
    "unauthorized": (401, "missing or wrong API key (Authorization: Bearer <key>)"),
    "invalid_signature": (401, "the webhook signature or timestamp does not verify"),
    "sender_not_allowed": (403, "FromEmailAddress is outside SESRELAY_ALLOWED_SENDERS"),
    "scope_denied": (403, "the API key may not use this action or send from this sender"),
    "not_found": (404, "no such route, or no send record with this id that the API key may read"),
    "method_not_allowed": (405, "the route exists but not for this method; see Allow"),
    "idempotency_key_reused": (409, "the Idempotency-Key was used with a different body"),
    "idempotency_in_progress": (409, "a request with this Idempotency-Key is still running"),
    "payload_too_large": (413, "the body is over 6 MB (the SCF limit)"),
    "unsupported_media_type": (
        415,
        "the Content-Type is missing or not one the route reads (application/json; webhooks "
        "also application/x-www-form-urlencoded)",
    ),
    "validation_error": (422, "the body or query broke a documented rule; see errors[]"),
    "rate_limited": (
        429,
        "no SES permit (SESRELAY_SES_RATE per action) within the invocation's deadline; "
        "nothing was sent; see Retry-After",
    ),
    "quota_exceeded": (
        429,
        "the API key's daily quota (quota_per_day, days start 00:00 UTC+8) is used up; nothing "
        "was sent; see Retry-After",
    ),
    "internal_error": (500, "a bug in sesrelay; the function log has the details"),
    "upstream_outcome_unknown": (
        502,
        "SES may or may not have sent (timeout, 5xx, dropped reply); the key is kept, "
        "check GET /v1/email-status before sending again",
    ),
    "upstream_error": (502, "SES answered with an error sesrelay does not classify"),
    "configuration_error": (503, "the function's environment is invalid; see the log"),
    "config_error": (503, "sesrelay.yaml is invalid; `sesrelay config check` lists every problem"),
    "ses_not_configured": (503, "no Tencent Cloud credentials are configured"),
    "auth_not_configured": (503, "no API keys are configured, so nothing can be sent"),
    "state_store_unavailable": (503, INTERNAL_MESSAGES["state_store_unavailable"]),
    "deadline_exceeded": (503, "the invocation ran out of time before SES could be called"),
}

RETRY_AFTER_SECONDS = "1"

#: SES refusals that come with their own, longer wait: a temporary block lifts by itself after
#: about 10 minutes, and a caller told "1 s" would only hit it again.
SES_RETRY_AFTER = {"FailedOperation.TemporaryBlocked": "600"}


def ses_status(error: SesError) -> int:
    code = error.code
    if error.outcome is Outcome.OUTCOME_UNKNOWN:
        return 502
    if code.startswith(("RequestLimitExceeded", "LimitExceeded")) or code in SES_RETRY_AFTER:
        return 429
    if code in {"FailedOperation.ServiceNotAvailable", "ClientNetworkError"}:
        return 503
    if code.startswith(("InvalidParameter", "MissingParameter", "UnknownParameter")):
        return 422
    if code.startswith("FailedOperation"):
        return 422
    if code.startswith(("OperationDenied", "ResourceNotFound", "ResourceInUse")):
        return 409
    if code in CODES:
        return CODES[code][0]
    return 502  # AuthFailure.*, InternalError, ServerNetworkError, anything unknown


def problem(
    status: int,
    code: str,
    detail: str,
    *,
    request_id: str | None,
    errors: list[dict[str, str]] | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> HttpResponse:
    body: dict[str, Any] = {
        "type": f"urn:sesrelay:problem:{code}",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
        "request_id": request_id,
    }
    if errors is not None:
        body["errors"] = errors
    if extra:
        body.update(extra)
    out = {"content-type": PROBLEM_TYPE}
    out.update(headers or {})
    return HttpResponse(status, json.dumps(body, ensure_ascii=False), out)


def error_response(error: RelayError, request_id: str | None) -> HttpResponse:
    headers: dict[str, str] = {}
    errors = None
    extra: dict[str, Any] = {}
    code = error.code
    if isinstance(error, SesError):
        status = ses_status(error)
        extra = {"ses_code": error.code, "ses_request_id": error.request_id}
        if error.outcome is Outcome.OUTCOME_UNKNOWN:
            code = "upstream_outcome_unknown"
        elif status == 502 and not error.code.startswith(("AuthFailure", "InternalError")):
            code = "upstream_error"  # an SES code we do not classify; ses_code carries it
    else:
        status = CODES.get(code, (500, ""))[0]
    if isinstance(error, InvalidInput):
        errors = [e.as_dict() for e in error.errors]
    if status in (429, 503) or code == "idempotency_in_progress":
        # An error that knows its wait (the relay's rate limiter, SES's temporary block) says
        # so; others say 1 s.
        wait = getattr(error, "retry_after", None)
        if isinstance(wait, (int, float)) and wait > 0:
            headers["retry-after"] = str(max(1, math.ceil(wait)))
        elif isinstance(error, SesError) and error.code in SES_RETRY_AFTER:
            headers["retry-after"] = SES_RETRY_AFTER[error.code]
        else:
            headers["retry-after"] = RETRY_AFTER_SECONDS
    allow = getattr(error, "allow", None)
    if allow:
        headers["allow"] = allow
    return problem(
        status,
        code,
        public_message(error),
        request_id=request_id,
        errors=errors,
        extra=extra,
        headers=headers,
    )


def json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> HttpResponse:
    out = {"content-type": "application/json"}
    out.update(headers or {})
    return HttpResponse(status, json.dumps(payload, ensure_ascii=False), out)
