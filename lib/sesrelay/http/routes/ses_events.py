"""`POST /v1/ses-events/{token}`: Tencent SES delivery callbacks (delivered, bounce,
open, click, spamreport, deferred, dropped, unsubscribe; each names its `bulkId` = MessageId).

Callbacks are unsigned, so an unguessable path token (from the environment) authenticates them,
compared in constant time. Events are parsed, deduplicated, logged, and optionally add hard
bounces and spam reports to the SES custom blacklist.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sesrelay import jsontext
from sesrelay.errors import FieldError, InvalidInput, MalformedRequest, RelayError, SesError
from sesrelay.events import HttpResponse
from sesrelay.http.auth import Unauthorized
from sesrelay.http.problems import json_response
from sesrelay.http.router import Call, NotFound, Route, route
from sesrelay.logs import LOGGER_NAME, mask_addresses, mask_email

log = logging.getLogger(LOGGER_NAME)

EVENT_TTL_SECONDS = 30 * 24 * 3600
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


class SesEvent(BaseModel):
    """One callback. Vendor envelope: unknown fields ignored, types lenient (doc says str/int)."""

    # Built on first use: a cold start for any other route does not pay for it.
    model_config = ConfigDict(extra="ignore", populate_by_name=True, defer_build=True)

    event: str | None = None
    eventid: int | None = None
    email: str = ""
    bulkId: str | None = Field(None, alias="bulkId")
    bulkid: str | None = None
    timestamp: int | None = None
    reason: str | None = None
    bounceType: str | None = None
    username: str | None = None
    from_: str | None = Field(None, alias="from")
    fromDomain: str | None = None
    templateId: int | None = None
    subject: str | None = None
    messageId: str | None = None
    sentTimestamp: int | None = None
    taskId: int | None = None
    link: str | None = None
    useragent: str | None = None

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

    def dedupe_key(self) -> str:
        raw = f"{self.message_id}|{self.email.lower()}|{self.kind}|{self.timestamp}|{self.link}"
        return hashlib.sha256(raw.encode()).hexdigest()


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


def parse_events(body: bytes) -> list[SesEvent]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedRequest("the callback body is not JSON") from None
    data = jsontext.parse(text, "the callback body")
    items = data if isinstance(data, list) else [data]
    events = []
    errors: list[FieldError] = []
    for index, item in enumerate(items):
        try:
            events.append(SesEvent.model_validate(item))
        except ValidationError as exc:
            for err in exc.errors(include_input=False):
                where = ".".join(str(p) for p in err["loc"])
                errors.append(FieldError(f"{index}.{where}".rstrip("."), err["msg"]))
    if errors:
        raise InvalidInput(errors)
    return events


def ses_events(call: Call) -> HttpResponse:
    blacklist_on = _check_token(call)
    events = parse_events(call.request.body)
    store = call.services.state
    counts = {"received": len(events), "duplicates": 0, "blacklisted": 0}
    for event in events:
        first = store.claim(f"sesevent:{event.dedupe_key()}", "1", EVENT_TTL_SECONDS) is None
        fields: dict[str, Any] = {
            "event": event.kind if event.kind in KNOWN_EVENTS else "unknown",
            "email": mask_email(event.email),
            "message_id": event.message_id,
            "task_id": event.taskId,
            "bounce_type": event.bounceType,
            "reason": mask_addresses((event.reason or "")[:200]) or None,
            "duplicate": not first,
        }
        if first and event.blacklist_reason in blacklist_on and event.email:
            fields["blacklisted"] = _blacklist(call, event.email)
            counts["blacklisted"] += int(fields["blacklisted"])
        counts["duplicates"] += int(not first)
        log.info("ses_event", extra={"fields": {k: v for k, v in fields.items() if v is not None}})
    return json_response(200, {"status": "ok", **counts})


def _blacklist(call: Call, email: str) -> bool:
    try:
        call.services.ses.call("CreateCustomBlacklist", {"Emails": [email]}, call.deadline)
    except (SesError, RelayError) as error:
        log.warning("custom blacklist failed", extra={"fields": {"code": error.code}})
        return False
    return True


ROUTES: tuple[Route, ...] = (route("POST", "/v1/ses-events/{token}", ses_events, auth=False),)
