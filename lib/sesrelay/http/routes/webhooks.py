"""`POST /v1/webhooks/{source}`: verify a SaaS delivery's signature over the raw body, filter and
map it with JMESPath (sesrelay.yaml), deduplicate by delivery id, and send once."""

from __future__ import annotations

import hashlib
from typing import Any

from sesrelay.errors import FieldError, InvalidInput, RelayError, SesError
from sesrelay.events import MAX_BODY_BYTES, HttpResponse
from sesrelay.http.problems import error_response, json_response
from sesrelay.http.router import Call, NotFound, PayloadTooLarge, Route, route
from sesrelay.logs import mask_email
from sesrelay.sending import pipeline as sending
from sesrelay.sending.idempotency import IdempotencyInProgress
from sesrelay.sending.once import send_once

#: A delivery id is remembered long past any vendor's retry schedule (Stripe: 3 days).
DELIVERY_TTL_SECONDS = 7 * 24 * 3600


class WebhookNotConfigured(RelayError):
    code = "configuration_error"


def _source(call: Call, name: str) -> Any:
    source = call.services.config.webhooks.get(name)
    if source is None:
        raise NotFound(f"no webhook source named {name[:64]!r} in sesrelay.yaml")
    return source


def _mapping(call: Call, name: str, source: Any) -> Any:
    from sesrelay.webhooks.mapping import compile_mapping

    cache = call.services.cache.setdefault("webhook_mappings", {})
    if name not in cache:
        cache[name] = compile_mapping(source)
    return cache[name]


def _prefixed(name: str, error: InvalidInput) -> InvalidInput:
    return InvalidInput(
        [FieldError(e.field, e.message) for e in error.errors],
        message=f"webhook source {name}: the mapped send is invalid ({error.message})",
    )


def webhook(call: Call) -> HttpResponse:
    from sesrelay.webhooks.mapping import delivery_document

    services = call.services
    request = call.request
    name = request.path_params["source"]
    source = _source(call, name)
    call.log["source"] = name
    delivery = _verify(call, name, source)
    call.log["delivery_hash"] = hashlib.sha256(delivery.encode()).hexdigest()[:16]
    doc = delivery_document(
        request.headers, request.query, request.body, request.header("content-type") or ""
    )
    mapping = _mapping(call, name, source)
    if not mapping.matches(doc):
        call.log["outcome"] = "ignored"
        return json_response(202, {"status": "ignored"})
    try:
        action, raw = mapping.render(doc)
        params = sending.validate(
            action, raw, clock=services.clock, allow_simple=services.settings.allow_simple
        )
    except InvalidInput as error:
        call.log["outcome"] = "invalid_mapping"
        raise _prefixed(name, error) from None
    sending.check_senders(params, services.settings.allowed_senders)
    call.log["from"] = mask_email(sending.sender_address(params.FromEmailAddress))
    key = f"webhook:{name}:{hashlib.sha256(delivery.encode()).hexdigest()}"
    try:
        once = send_once(
            services.state,
            key,
            deadline=call.deadline,
            remember_seconds=DELIVERY_TTL_SECONDS,
            send=lambda: services.ses.call(action, params.to_ses(), call.deadline),
        )
    except SesError as error:
        call.log["ses_request_id"] = error.request_id
        if error.outcome_unknown:  # the key is kept: the vendor's retry gets "duplicate"
            return error_response(error, request.request_id)
        raise
    if once.status == "in_progress":
        raise IdempotencyInProgress("this delivery is being handled; retry shortly")
    if once.status == "duplicate":
        call.log["outcome"] = "duplicate"
        return json_response(200, {"status": "duplicate"})
    result = once.result or {}
    call.log["outcome"] = "sent"
    call.log["ses_request_id"] = result.get("RequestId")
    ids = {k: result[k] for k in ("MessageId", "TaskId", "RequestId") if k in result}
    return json_response(202, {"status": "sent", **ids})


def _verify(call: Call, name: str, source: Any) -> str:
    """The delivery id once the signature holds (a body hash where the scheme has no id)."""
    from sesrelay.webhooks import verify

    services = call.services
    request = call.request
    if len(request.body) > MAX_BODY_BYTES:
        raise PayloadTooLarge("the body is over 6 MB")
    secrets = [v for env in source.secret_env if (v := services.settings.secret(env))]
    if not secrets:
        raise WebhookNotConfigured(
            f"webhook source {name}: none of its secret variables is set "
            f"({', '.join(source.secret_env)})"
        )
    options = source.hmac.to_options() if source.hmac else None
    try:
        verified = verify(
            source.scheme,
            headers=request.headers,
            body=request.body,
            secrets=secrets,
            now=int(services.clock.now().timestamp()),
            tolerance_seconds=source.tolerance_seconds,
            options=options,
        )
    except ValueError as exc:  # an unusable secret or option: ours to fix, not the sender's
        raise WebhookNotConfigured(
            f"webhook source {name}: {exc} (check {', '.join(source.secret_env)})"
        ) from None
    return verified.delivery_id or "sha256:" + hashlib.sha256(request.body).hexdigest()


ROUTES: tuple[Route, ...] = (route("POST", "/v1/webhooks/{source}", webhook, auth=False),)
