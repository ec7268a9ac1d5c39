"""HTTP routes of campaigns: POST /v1/campaigns and GET /v1/campaigns/{id}.

POST validates everything first (nothing is stored for a refused body), asks SES whether it
would take the sender and the template (campaigns.preflight: two reads, no write), then starts
the campaign under its Idempotency-Key and drives it as far as the invocation's deadline allows.
The campaign's id comes from the key and the body, so a retry after a crash finds it instead of
starting another. Rows in errors[] are `Recipients.<n>`, n 0-based; InvalidRows says
`RecipientIndex`, the same n.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

from sesrelay.errors import FieldError, InvalidInput, RelayError, SesError
from sesrelay.events import HttpRequest, HttpResponse
from sesrelay.gateway import UnconfiguredGateway
from sesrelay.http.problems import json_response, problem
from sesrelay.http.router import (
    JSON_TYPES,
    Call,
    NotFound,
    Route,
    check_body_size,
    media_type,
    read_json_object,
    route,
)
from sesrelay.logs import mask_email
from sesrelay.sending.idempotency import Idempotency, InvalidIdempotencyKey, check_key, key_hash
from sesrelay.sending.pipeline import check_sender
from sesrelay.sending.quota import Quotas
from sesrelay.ses.addresses import sender_address

if TYPE_CHECKING:
    from sesrelay.campaigns.body import CampaignBody
    from sesrelay.campaigns.model import CampaignSpec
    from sesrelay.campaigns.rows import RowValidator

#: Time kept back from the invocation to store the state and answer after driving the campaign.
REPLY_RESERVE_SECONDS = 1.0
#: A missing template variable is reported on this field, and the message names both sources.
_VARIABLES_FIELD = "Template.TemplateData"
_VARIABLES_TEXT = "neither Template.TemplateData (the defaults) nor the recipients' TemplateData"


def _recipient_errors(items: object) -> list[FieldError]:
    if items is None:
        return [FieldError("Recipients", "is required: a list of {Email, TemplateData} objects")]
    if not isinstance(items, list):
        return [FieldError("Recipients", "must be a list (JSON array) of recipient objects")]
    if not items:
        return [FieldError("Recipients", "must list at least one recipient")]
    return []


def _read_body(request: HttpRequest) -> CampaignBody:
    """The body, its recipients left in the text when it reads the simple way (a 6 MB list
    parsed whole would take about eight times its size); otherwise read_json_object's verdict."""
    from sesrelay.campaigns.body import CampaignBody, scan

    try:  # the checks read_json_object makes first; when one fails, it says so below
        check_body_size(request)
        media_type(request, JSON_TYPES)
        text = request.body.decode("utf-8")
    except (RelayError, UnicodeDecodeError):
        text = ""
    scanned = scan(text) if text else None
    if scanned is None:
        return CampaignBody.of(read_json_object(request))
    request.body = b""  # the text holds it now: up to 6 MB need not be held twice
    return scanned


def _row_problems(validator: RowValidator) -> list[dict[str, str]]:
    return [
        FieldError(
            f"Recipients.{p.index}" + (f".{p.field}" if p.field else ""), p.message
        ).as_dict()
        for p in validator.problems
    ]


def _preflight(call: Call, spec: CampaignSpec, validator: RowValidator) -> list[FieldError]:
    """What SES would refuse the campaign for (sender, template, variables), or SesError."""
    from sesrelay.campaigns.preflight import DataSource, check

    source = DataSource(_VARIABLES_FIELD, _VARIABLES_TEXT)
    provided = validator.keys if validator.valid else None
    return check(call.services.ses, spec, provided, source, call.deadline)


def _refused_by_ses(errors: list[FieldError], request_id: str | None) -> HttpResponse:
    """422 when SES would refuse the campaign: nothing is created, every reason is listed."""
    fields = ", ".join(dict.fromkeys(e.field for e in errors))
    detail = f"SES would refuse this campaign ({fields}); nothing was created or sent"
    return problem(
        422,
        "validation_error",
        detail,
        request_id=request_id,
        errors=[e.as_dict() for e in errors],
    )


def _rows_refused(
    validator: RowValidator,
    checked: list[FieldError],
    *,
    has_rows: bool,
    request_id: str | None,
) -> HttpResponse:
    """422 for a strict campaign with invalid rows, or one with no valid row left; what SES
    would refuse besides (`checked`) comes first in errors[]."""
    counts = {name.capitalize(): value for name, value in validator.counts().items()}
    shown = len(validator.problems)
    detail = (
        f"{validator.invalid} of {validator.received} recipients are invalid"
        + (f" (the first {shown} are listed)" if shown < validator.invalid else "")
        + ("; nothing was sent" if has_rows else "; no valid recipient is left")
        + ('. Send "Validation": "permissive" to skip them' if has_rows else "")
        + (f"; SES would also refuse {len(checked)} field(s)" if checked else "")
    )
    rows = _row_problems(validator) or [FieldError("Recipients", detail).as_dict()]
    return problem(
        422,
        "validation_error",
        detail,
        request_id=request_id,
        errors=[e.as_dict() for e in checked] + rows,
        extra={"counts": counts},
    )


def create_campaign(call: Call) -> HttpResponse:
    # imported here: the campaign modules cost a cold start nothing until a campaign comes in
    from sesrelay.campaigns.body import RecipientArray
    from sesrelay.campaigns.model import parse_spec
    from sesrelay.campaigns.rows import RowValidator, json_recipients
    from sesrelay.campaigns.store import keyed_campaign_id

    services, request = call.services, call.request
    api_key = call.require("campaigns")
    raw_key = request.header("idempotency-key")
    if raw_key is None:
        # SES deduplicates nothing: a retried POST without a key could send the campaign twice
        raise InvalidIdempotencyKey(
            "POST /v1/campaigns requires an Idempotency-Key header (1-256 printable characters), "
            "so that a retry cannot start a second campaign"
        )
    key = check_key(raw_key)
    body = _read_body(request)
    items = body.recipients
    recipient_errors = [] if isinstance(items, RecipientArray) else _recipient_errors(items)
    try:
        spec = parse_spec(body.fields, now=services.clock.now())
    except InvalidInput as error:
        raise InvalidInput(error.errors + recipient_errors) from None
    if recipient_errors:
        raise InvalidInput(recipient_errors)
    check_sender(spec.FromEmailAddress, services.settings.allowed_senders)
    api_key.require_sender(spec.FromEmailAddress)
    call.log["from"] = mask_email(sender_address(spec.FromEmailAddress))
    if isinstance(services.ses, UnconfiguredGateway):
        services.ses.call("ListReceivers", {}, call.deadline)  # raises ses_not_configured

    # Validated once to answer now, and again as the rows are staged: the rows are never all
    # held at once (the same input gives the same rows, counts and problems).
    validator = RowValidator(spec.defaults(), subject=spec.Subject)
    deque(validator.validate(json_recipients(body.items())), maxlen=0)
    validator.forget_addresses()
    if (validator.invalid and spec.Validation == "strict") or not validator.valid:
        call.log["code"] = "validation_error"
        try:
            checked = _preflight(call, spec, validator)  # every problem in one answer
        except SesError:
            checked = []  # SES cannot say now; the rows' problems are answer enough
        has_rows = validator.valid > 0
        return _rows_refused(validator, checked, has_rows=has_rows, request_id=request.request_id)

    scope = f"{call.principal[:16]}:campaigns"
    body_fingerprint = body.fingerprint(request.method, request.path)
    campaign_id = keyed_campaign_id(scope, key, body_fingerprint)
    call.log["idempotency_key_hash"] = key_hash(key)
    return Idempotency(services.state, services.clock).run(
        scope=scope,
        key=key,
        fingerprint=body_fingerprint,
        deadline=call.deadline,
        action=lambda: _start(call, campaign_id, spec, validator, body),
        keep=lambda response: response.status < 300,
    )


def _start(
    call: Call, campaign_id: str, spec: CampaignSpec, validator: RowValidator, body: CampaignBody
) -> HttpResponse:
    """Start the campaign, or drive on the one a first attempt of this request started (its
    claim lapsed when it died): the id is the same, so there is never a second campaign."""
    from sesrelay.campaigns.model import campaign_view
    from sesrelay.campaigns.rows import RowValidator, json_recipients
    from sesrelay.campaigns.service import CampaignBuilder, resume

    services = call.services
    camp = resume(services, campaign_id, call.deadline, reserve=REPLY_RESERVE_SECONDS)
    if camp is None:
        # Checked here, under the key: a retry of a started campaign answers it, unchecked.
        # An SesError (SES unreachable, throttled) frees the key and answers 429/502/503.
        refused = _preflight(call, spec, validator)
        if refused:
            call.log["code"] = "validation_error"
            return _refused_by_ses(refused, call.request.request_id)
        key = call.require("campaigns")
        if key.quota_per_day:  # a campaign is one send of the key's daily quota (429 if none)
            Quotas(services.state, services.clock).take(key.name, key.quota_per_day)
        staging = RowValidator(spec.defaults(), subject=spec.Subject)
        builder = CampaignBuilder(
            services,
            spec,
            staging,
            campaign_id=campaign_id,
            key_name=key.name,
        )
        builder.stage(staging.validate(json_recipients(body.items())))
        staging.forget_addresses()
        camp = builder.launch(call.deadline, reserve=REPLY_RESERVE_SECONDS)
    call.log["campaign_id"] = camp.id
    call.log["campaign_state"] = camp.state
    headers = {"location": f"/v1/campaigns/{camp.id}"}
    return json_response(202, campaign_view(camp), headers)


def get_campaign(call: Call) -> HttpResponse:
    from sesrelay.campaigns.model import campaign_view
    from sesrelay.campaigns.store import CampaignStore, is_campaign_id

    call.require("campaigns")
    campaign_id = call.request.path_params.get("campaign_id", "")
    camp = None
    if is_campaign_id(campaign_id):
        camp = CampaignStore(call.services.state).load(campaign_id)
    if camp is None:
        raise NotFound("no such campaign (ids look like cmp_ and 16 hex digits)")
    call.log["campaign_id"] = camp.id
    payload: dict[str, Any] = campaign_view(camp)
    return json_response(200, payload)


ROUTES: tuple[Route, ...] = (
    route("POST", "/v1/campaigns", create_campaign),
    route("GET", "/v1/campaigns/{campaign_id}", get_campaign),
)
