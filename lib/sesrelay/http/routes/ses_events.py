"""`POST /v1/ses-events/{token}`: Tencent SES delivery callbacks, authenticated by an unguessable
path token (compared in constant time); each event is validated, deduplicated, logged, and
per `blacklist_on` its recipient added to the SES custom blacklist.

An invalid event (not an object, no valid `email`, a field of the wrong type or size) changes
nothing and is counted in the reply's `invalid`, with its field errors, while the rest of the
delivery is processed and answered 200: SES may retry a callback answered non-2xx, and one that
can never become valid would be retried for ever. Only a body with no events at all (not JSON,
or a JSON scalar) is refused, 400 or 422.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
)

from sesrelay import jsontext
from sesrelay.errors import FieldError, InvalidInput, MalformedRequest, RelayError, SesError
from sesrelay.events import HttpResponse
from sesrelay.http.auth import Unauthorized
from sesrelay.http.problems import json_response
from sesrelay.http.router import (
    JSON_TYPES,
    Call,
    NotFound,
    Route,
    check_body_size,
    media_type,
    route,
)
from sesrelay.logs import LOGGER_NAME, mask_addresses, mask_email
from sesrelay.records import DeliveryEvent
from sesrelay.ses.addresses import EmailAddress
from sesrelay.ses.rules import has_control_chars, has_lone_surrogate, rule_error

log = logging.getLogger(LOGGER_NAME)

EVENT_TTL_SECONDS = 30 * 24 * 3600
#: Dedupe keys start with this; the memory store may forget them first when it is full, since a
#: forgotten one only lets a repeated callback be logged and blacklisted again.
KEY_PREFIX = "sesevent:"
DEFAULT_TOKEN_ENV = "SESRELAY_SES_EVENTS_TOKEN"  # noqa: S105 - a variable name, not a secret
#: eventid of the callback doc: 1 delivered ... 8 deferred.
EVENT_IDS = {
    1: "delivered",
    2: "dropped",
    3: "bounce",
    4: "open",
    5: "click",
    6: "spamreport",
    7: "unsubscribe",
    8: "deferred",
}
KNOWN_EVENTS = frozenset({*EVENT_IDS.values(), "processed"})
#: Field errors of invalid events returned in the reply (and logged); the count covers all.
MAX_REPORTED_ERRORS = 20
MAX_REASON_LOGGED = 200


def _check_text(value: str) -> str:
    # Identifiers end up in the log; a lone surrogate (valid in JSON, not in UTF-8) would make
    # the log line unwritable, and Tencent's identifiers never hold control characters.
    if has_control_chars(value) or has_lone_surrogate(value):
        raise rule_error("text", "must not contain control characters or lone surrogates")
    return value


def _as_text(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return str(value)[:MAX_REASON_LOGGED]


Id = Annotated[str, Field(max_length=256), AfterValidator(_check_text)]
Name = Annotated[str, Field(max_length=64), AfterValidator(_check_text)]
Link = Annotated[str, Field(max_length=8192), AfterValidator(_check_text)]
#: Tencent's integers (timestamps, ids) fit in 64 bits; anything larger is not one of them.
Count = Annotated[int, Field(ge=0, le=2**63 - 1)]


class SesEvent(BaseModel):
    """One callback: only the fields the relay reads, each checked; other fields (`from`,
    `subject`, `templateId`, `useragent`, ...) are ignored whatever they hold, so a malformed one
    cannot cost a bounce. Strings that are numbers pass as integers (the doc says str/int)."""

    # Built on first use: a cold start for any other route does not pay for it.
    model_config = ConfigDict(extra="ignore", populate_by_name=True, defer_build=True)

    event: Name | None = None
    eventid: Count | None = None
    email: EmailAddress
    bulkId: Id | None = Field(None, alias="bulkId")
    bulkid: Id | None = None
    timestamp: Count | None = None
    # Free text, only logged (truncated and masked there): whatever type it arrives as, it must
    # not cost the event, so it is taken as text.
    reason: Annotated[str | None, BeforeValidator(_as_text)] = None
    bounceType: Name | None = None
    taskId: Count | None = None
    link: Link | None = None

    @property
    def kind(self) -> str:
        if self.event:
            return self.event.lower()
        return EVENT_IDS.get(self.eventid or 0, "unknown")

    @property
    def message_id(self) -> str | None:
        return self.bulkId or self.bulkid

    @property
    def blacklist_reason(self) -> str | None:
        """Which `blacklist_on` switch this event matches, if any."""
        bounce = (self.bounceType or "").lower()
        if self.kind == "bounce" and bounce in ("hard_bounce", "hard"):
            return "hard_bounce"
        if self.kind == "bounce" and bounce in ("soft_bounce", "soft"):
            return "soft_bounce"
        if self.kind in ("spamreport", "dropped"):
            return self.kind
        return None

    def delivery_event(self) -> DeliveryEvent:
        """The event as its send record keeps it."""
        return DeliveryEvent(
            event=self.kind if self.kind in KNOWN_EVENTS else "unknown",
            timestamp=self.timestamp,
            email=self.email,
            reason=(self.reason or "")[:MAX_REASON_LOGGED] or None,
            bounce_type=self.bounceType or None,  # Tencent sends "" where a field does not apply
            link=self.link or None,
        )

    def dedupe_key(self) -> str:
        raw = f"{self.message_id}|{self.email.lower()}|{self.kind}|{self.timestamp}|{self.link}"
        return KEY_PREFIX + hashlib.sha256(raw.encode()).hexdigest()


def _check_token(call: Call) -> list[str]:
    config = call.services.config.ses_events
    token_env = config.token_env if config else DEFAULT_TOKEN_ENV
    expected = call.services.settings.secret(token_env)
    if expected is None:
        raise NotFound("SES event callbacks are not enabled (no token configured)")
    given = call.request.path_params["token"]
    if not hmac.compare_digest(
        hashlib.sha256(given.encode()).digest(), hashlib.sha256(expected.encode()).digest()
    ):
        raise Unauthorized("wrong callback token")
    return list(config.blacklist_on) if config else []


def parse_events(body: bytes) -> tuple[list[SesEvent], int, list[FieldError]]:
    """The valid events, how many items were invalid, and their field errors (`index.field`).

    Raises only for a body that holds no events at all: not JSON, or a JSON scalar."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedRequest("the callback body is not JSON") from None
    data = jsontext.parse(text, "the callback body", lone_surrogates_ok=True)
    if not isinstance(data, (dict, list)):
        raise InvalidInput(
            [FieldError("", "the body must be one event (a JSON object) or an array of events")]
        )
    events: list[SesEvent] = []
    errors: list[FieldError] = []
    invalid = 0
    for index, item in enumerate(data if isinstance(data, list) else [data]):
        try:
            events.append(SesEvent.model_validate(item))
        except ValidationError as exc:
            invalid += 1
            for err in exc.errors(include_input=False, include_url=False):
                where = ".".join(str(p) for p in err["loc"])
                errors.append(FieldError(f"{index}.{where}".rstrip("."), err["msg"]))
    return events, invalid, errors


def ses_events(call: Call) -> HttpResponse:
    blacklist_on = _check_token(call)
    check_body_size(call.request)
    media_type(call.request, JSON_TYPES, missing="application/json")  # Tencent documents none
    events, invalid, errors = parse_events(call.request.body)
    store = call.services.state
    counts = {"received": len(events) + invalid, "duplicates": 0, "blacklisted": 0}
    records = call.services.records
    for event in events:
        # Attached first (idempotently): a failure here answers 503 before the event is marked
        # seen, so SES's retry attaches it.
        if event.message_id:
            records.add_event(event.message_id, event.delivery_event())
        first = store.claim(event.dedupe_key(), "1", EVENT_TTL_SECONDS) is None
        if first and event.taskId:  # a SendEmail's callbacks say taskId 0
            records.count_task_event(str(event.taskId), event.kind)
        fields: dict[str, Any] = {
            "event": event.kind if event.kind in KNOWN_EVENTS else "unknown",
            "email": mask_email(event.email),
            "message_id": event.message_id,
            "task_id": event.taskId,
            "bounce_type": event.bounceType,
            "reason": _loggable(event.reason),
            "duplicate": not first,
        }
        if first and event.blacklist_reason in blacklist_on:
            fields["blacklisted"] = _blacklist(call, event.email)
            counts["blacklisted"] += int(fields["blacklisted"])
        counts["duplicates"] += int(not first)
        log.info("ses_event", extra={"fields": {k: v for k, v in fields.items() if v is not None}})
    reply: dict[str, Any] = {"status": "ok", **counts, "invalid": invalid}
    if invalid:
        reported = [error.as_dict() for error in errors[:MAX_REPORTED_ERRORS]]
        log.warning("ses_event invalid", extra={"fields": {"invalid": invalid, "errors": reported}})
        reply["errors"] = reported
    return json_response(200, reply)


def _loggable(reason: str | None) -> str | None:
    """SMTP's reply text, cut short, addresses masked (the log line replaces lone surrogates)."""
    return mask_addresses((reason or "")[:MAX_REASON_LOGGED]) or None


def _blacklist(call: Call, email: str) -> bool:
    try:
        call.services.ses.call("CreateCustomBlacklist", {"Emails": [email]}, call.deadline)
    except (SesError, RelayError) as error:
        log.warning("custom blacklist failed", extra={"fields": {"code": error.code}})
        return False
    return True


ROUTES: tuple[Route, ...] = (route("POST", "/v1/ses-events/{token}", ses_events, auth=False),)
