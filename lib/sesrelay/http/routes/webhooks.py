"""`POST /v1/webhooks/{source}`: verify a SaaS delivery's signature over the raw body, filter and
map it with JMESPath (sesrelay.yaml), look a `Template.TemplateName` up as its TemplateID,
deduplicate by delivery id, and send once."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from sesrelay.errors import FieldError, InvalidInput, RelayError, SesError
from sesrelay.events import HttpResponse
from sesrelay.http.problems import error_response, json_response
from sesrelay.http.router import (
    FORM_TYPE,
    JSON_TYPES,
    Call,
    NotFound,
    Route,
    check_body_size,
    media_type,
    route,
)
from sesrelay.sending.once import SendOnce
from sesrelay.sending.outcome import SendKind, SendOutcome
from sesrelay.sending.pipeline import Pipeline, SendRequest, logged_failure
from sesrelay.template_names import TEMPLATE_GONE, resolve_template_name

if TYPE_CHECKING:
    from sesrelay.webhooks.mapping import CompiledMapping

#: A delivery id is remembered long past any vendor's retry schedule (Stripe: 3 days).
DELIVERY_TTL_SECONDS = 7 * 24 * 3600
#: Where a mapping names its template (the relay's stand-in for send.Template.TemplateID).
TEMPLATE_NAME_FIELD = "send.Template.TemplateName"


class WebhookNotConfigured(RelayError):
    code = "configuration_error"


def _source(call: Call, name: str) -> Any:
    source = call.services.config.webhooks.get(name)
    if source is None:
        raise NotFound(f"no webhook source named {name[:64]!r} in sesrelay.yaml")
    return source


def _mapping(call: Call, name: str, source: Any) -> CompiledMapping:
    from sesrelay.webhooks.mapping import compile_mapping

    mappings = call.services.webhook_mappings
    if name not in mappings:
        mappings[name] = compile_mapping(source)
    return mappings[name]


def _invalid_mapping(
    call: Call, name: str, error: InvalidInput, nulls: list[str] | None = None
) -> HttpResponse:
    """The mapped send is invalid: the source's mapping (or the delivery) is at fault, not SES."""
    prefixed = InvalidInput(
        explain_nulls(list(error.errors), nulls or []),
        message=f"webhook source {name}: the mapped send is invalid ({error.message})",
    )
    call.log["outcome"] = "invalid_mapping"
    call.log["code"] = prefixed.code
    return error_response(prefixed, call.request.request_id)


def explain_nulls(errors: list[FieldError], nulls: list[str]) -> list[FieldError]:
    """Each error about a field the mapping fills, with the mapped paths that came out null for
    this delivery (a missing `repository` reads as `send.Template.TemplateData.name`, not only as
    "Template.TemplateData: is required")."""
    explained = []
    for error in errors:
        prefix = f"send.{error.field}"
        traced = [path for path in nulls if path == prefix or path.startswith(prefix + ".")]
        if traced and error.field:
            shown = ", ".join(traced[:5])
            message = f"{error.message} ({shown} came out null for this delivery)"
            explained.append(FieldError(error.field, message))
        else:
            explained.append(error)
    return explained


class DeliveryReply:
    """A send's outcome as the webhook reply: 202 sent (with SES's ids), 200 duplicate, or the
    problem the HTTP API answers for the same failure."""

    def __init__(self, call: Call, name: str, nulls: list[str]) -> None:
        self.call = call
        self.name = name
        self.nulls = nulls

    def outcome(self, outcome: SendOutcome) -> HttpResponse:
        if outcome.kind is SendKind.SENT:
            result = outcome.result
            ids = {k: result[k] for k in ("MessageId", "TaskId", "RequestId") if k in result}
            return json_response(202, {"status": "sent", **ids})
        error = outcome.failure
        if isinstance(error, InvalidInput):
            return _invalid_mapping(self.call, self.name, error, self.nulls)
        if isinstance(error, SesError) and error.code in TEMPLATE_GONE:
            self.call.services.templates.clear()  # look the template names up again next time
        return error_response(error, self.call.request.request_id)

    def duplicate(self, first_outcome: str) -> HttpResponse:
        self.call.log["outcome"] = "duplicate"
        return json_response(200, {"status": "duplicate"})


def webhook(call: Call) -> HttpResponse:
    from sesrelay.webhooks.document import delivery_document

    request = call.request
    name = request.path_params["source"]
    source = _source(call, name)
    call.log["source"] = name
    delivery = _verify(call, name, source)
    delivery_sha = hashlib.sha256(delivery.encode()).hexdigest()
    call.log["delivery_hash"] = delivery_sha[:16]
    kind = media_type(request, (*JSON_TYPES, FORM_TYPE))
    doc = delivery_document(request.headers, request.query, request.body, kind)
    mapping = _mapping(call, name, source)
    if not mapping.matches(doc):
        call.log["outcome"] = "ignored"
        return json_response(202, {"status": "ignored"})
    try:
        action, raw, nulls = mapping.render_traced(doc)
        raw = _by_template_name(call, raw, nulls)
    except InvalidInput as error:
        return _invalid_mapping(call, name, error)
    except SesError as error:  # the template listing failed; nothing was sent
        logged_failure(error, call.log)
        return error_response(error, request.request_id)
    reply = DeliveryReply(call, name, nulls)
    guard = SendOnce(
        f"webhook:{name}:{delivery_sha}",
        remember_seconds=DELIVERY_TTL_SECONDS,
        duplicate=reply.duplicate,
        busy="this delivery is being handled; retry shortly",
    )
    send = SendRequest(action, raw, entry=f"webhook:{name}")
    return Pipeline(call.services).send(send, call.deadline, call.log, reply.outcome, guard)


def _by_template_name(call: Call, raw: dict[str, Any], nulls: list[str]) -> dict[str, Any]:
    """The mapped params with a `Template.TemplateName` replaced by its TemplateID
    (ListEmailTemplates, remembered per warm instance). InvalidInput names the mapping's field
    when the name came out null or names no usable template; SesError if the listing fails."""
    if TEMPLATE_NAME_FIELD in nulls:
        message = "came out null for this delivery, so there is no template to send with"
        raise InvalidInput([FieldError(TEMPLATE_NAME_FIELD, message)])
    services = call.services
    return resolve_template_name(
        raw, services.ses, call.deadline, services.templates, TEMPLATE_NAME_FIELD
    )


def _verify(call: Call, name: str, source: Any) -> str:
    """The delivery id once the signature holds (a body hash where the scheme has no id)."""
    from sesrelay.webhooks import verify

    services = call.services
    request = call.request
    check_body_size(request)
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
