"""One send, four entry points: `POST /v1/emails`, a signed webhook delivery whose mapping passes
the body through, an inline timer action and a direct invocation, through `Runtime.handle`
against the SES emulator. The same parameters and the same SES fault must give the same field
errors and the same outcome class (sent, refused, retry later, outcome unknown) everywhere:
each entry point only says it in its own shape.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from sesrelay.adapters.state_memory import MemoryStateStore
from sesrelay.clock import SystemClock
from sesrelay.config.model import load_config
from sesrelay.emulator import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, EmulatorServer
from sesrelay.errors import RetryLater
from sesrelay.runtime import Runtime
from sesrelay.settings import Settings
from sesrelay.wiring import build_services
from tests.functional.conftest import API_KEY_SHA256, load_event

SECRET = "parity-secret"
CONTEXT = {"request_id": "scf-parity", "time_limit_in_ms": 10_000}
VALID: dict[str, Any] = {
    "FromEmailAddress": "Example <noreply@example.com>",
    "Destination": ["ana@example.org"],
    "Subject": "Welcome",
    "Template": {"TemplateID": 100001, "TemplateData": {"name": "Ana"}},
}
#: A source whose mapping hands the delivery's JSON body to SES field by field, unchanged.
SOURCE = {
    "scheme": "github",
    "secret_env": ["PARITY_WEBHOOK_SECRET"],
    "send": {"action": "SendEmail", **{name: f"body.{name}" for name in VALID}},
}


@dataclass(frozen=True)
class Seen:
    """What one entry point said, reduced to what they must agree on."""

    outcome: str  # sent, refused, retry_later, outcome_unknown
    code: str | None = None  # our code, or SES's verbatim for an SES failure
    errors: frozenset[tuple[str, str]] = frozenset()  # (field, message)


def _errors(items: list[dict[str, str]] | None) -> frozenset[tuple[str, str]]:
    return frozenset((item["field"], item["message"]) for item in items or [])


def _from_problem(reply: dict[str, Any]) -> Seen:
    status = int(reply["statusCode"])
    body = json.loads(reply["body"])
    if status == 202:
        return Seen("sent")
    if body["code"] == "upstream_outcome_unknown":
        outcome = "outcome_unknown"
    elif status in (429, 503):
        outcome = "retry_later"
    else:
        outcome = "refused"
    return Seen(outcome, body.get("ses_code") or body["code"], _errors(body.get("errors")))


class Entries:
    """Delivers the same params through each entry point of one warm instance."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.count = 0

    def _next(self) -> int:
        self.count += 1
        return self.count

    def http(self, params: dict[str, Any]) -> Seen:
        return _from_problem(
            self.runtime.handle(load_event("http_post-emails", body=params), CONTEXT)
        )

    def webhook(self, params: dict[str, Any]) -> Seen:
        body = json.dumps(params)
        signature = hmac.new(SECRET.encode(), body.encode(), hashlib.sha256).hexdigest()
        headers: dict[str, str | None] = {
            "x-github-delivery": f"parity-delivery-{self._next():04d}",
            "x-hub-signature-256": f"sha256={signature}",
            "content-type": "application/json",
        }
        event = load_event(
            "webhook_github_release-published",
            body=body,
            headers=headers,
            path="/v1/webhooks/parity",
        )
        return _from_problem(self.runtime.handle(event, CONTEXT))

    def timer(self, params: dict[str, Any]) -> Seen:
        event = load_event("timer_inline-send-email")
        event["TriggerName"] = f"parity-{self._next():04d}"
        event["Message"] = json.dumps({"action": "SendEmail", "params": params})
        try:
            reply = self.runtime.handle(event, CONTEXT)
        except RetryLater as exc:  # what SCF logs before retrying: "SES <code>: <message>"
            return Seen("retry_later", str(exc).removeprefix("SES ").partition(":")[0])
        if reply["ok"]:
            return Seen(str(reply["status"]))
        error = reply["error"]
        outcome = "outcome_unknown" if error.get("outcome") == "outcome_unknown" else "refused"
        return Seen(outcome, error["code"], _errors(error["errors"]))

    def direct(self, params: dict[str, Any]) -> Seen:
        reply = self.runtime.handle({"action": "SendEmail", "params": params}, CONTEXT)
        if reply["ok"]:
            return Seen("sent")
        error = reply["error"]
        outcome = {"retryable": "retry_later", "outcome_unknown": "outcome_unknown"}.get(
            error.get("outcome", ""), "refused"
        )
        return Seen(outcome, error["code"], _errors(error["errors"]))


ENTRY_POINTS = ("http", "webhook", "timer", "direct")


@pytest.fixture
def entries(emulator: EmulatorServer, tmp_path: Path) -> Entries:
    path = tmp_path / "sesrelay.yaml"
    path.write_text(json.dumps({"version": 1, "webhooks": {"parity": SOURCE}}), "utf-8")
    settings = Settings(
        environ={"PARITY_WEBHOOK_SECRET": SECRET},
        ses_endpoint=emulator.url,
        secret_id=DEFAULT_SECRET_ID,
        secret_key=DEFAULT_SECRET_KEY,
        api_key_sha256=[API_KEY_SHA256],
        allowed_senders=["@example.com"],
        ses_rate=0,  # only the injected faults throttle
    )
    clock = SystemClock()
    services = build_services(
        settings, clock=clock, state=MemoryStateStore(clock), config=load_config(path)
    )
    return Entries(Runtime(services))


def through_every_entry(
    entries: Entries, params: dict[str, Any], fault: Callable[[], None] | None = None
) -> dict[str, Seen]:
    seen: dict[str, Seen] = {}
    for name in ENTRY_POINTS:
        if fault is not None:
            fault()
        seen[name] = getattr(entries, name)(params)
    return seen


def test_valid_params_are_sent_by_every_entry_point(
    entries: Entries, emulator: EmulatorServer
) -> None:
    seen = through_every_entry(entries, VALID)
    assert seen == {name: Seen("sent") for name in ENTRY_POINTS}
    assert [mail["to"] for mail in emulator.outbox()] == ["ana@example.org"] * 4


@pytest.mark.parametrize(
    ("params", "code", "fields"),
    [
        pytest.param(
            {**VALID, "Destination": ["not-an-address"]},
            "validation_error",
            {"Destination.0"},
            id="bad-recipient",
        ),
        pytest.param(
            {
                **VALID,
                "Subject": "x" * 101,
                "Template": {"TemplateID": "abc", "TemplateData": {"name": "Ana"}},
            },
            "validation_error",
            {"Subject", "Template.TemplateID"},
            id="two-fields",
        ),
        pytest.param(
            {**VALID, "FromEmailAddress": "someone@example.net"},
            "sender_not_allowed",
            set(),
            id="sender-not-allowed",
        ),
    ],
)
def test_the_same_bad_params_get_the_same_refusal_everywhere(
    params: dict[str, Any],
    code: str,
    fields: set[str],
    entries: Entries,
    nothing_sent: Callable[[], None],
) -> None:
    seen = through_every_entry(entries, params)
    first = seen["http"]
    assert first.outcome == "refused"
    assert first.code == code
    assert {field for field, _ in first.errors} >= fields
    assert seen == dict.fromkeys(ENTRY_POINTS, first), seen
    nothing_sent()


@dataclass(frozen=True)
class Fault:
    kind: str
    count: int = 1
    code: str = ""

    def inject(self, emulator: EmulatorServer) -> None:
        emulator.clear_faults()
        extra = {"code": self.code, "message": "injected by the parity test"} if self.code else {}
        emulator.inject_fault("SendEmail", self.kind, self.count, **extra)


@pytest.mark.parametrize(
    ("fault", "outcome", "code", "mails"),
    [
        pytest.param(
            Fault("error", code="InvalidParameterValue.TemplateNotMatchData"),
            "refused",
            "InvalidParameterValue.TemplateNotMatchData",
            0,
            id="final",
        ),
        pytest.param(
            Fault("error", count=10, code="RequestLimitExceeded"),
            "retry_later",
            "RequestLimitExceeded",
            0,
            id="throttled-past-the-retries",
        ),
        pytest.param(Fault("drop_after"), "outcome_unknown", None, 4, id="reply-lost"),
    ],
)
def test_the_same_ses_fault_gets_the_same_outcome_class_everywhere(
    fault: Fault,
    outcome: str,
    code: str | None,
    mails: int,
    entries: Entries,
    emulator: EmulatorServer,
) -> None:
    seen = through_every_entry(entries, VALID, lambda: fault.inject(emulator))
    assert {name: s.outcome for name, s in seen.items()} == dict.fromkeys(ENTRY_POINTS, outcome)
    if code is not None:
        assert {s.code for s in seen.values()} == {code}
    else:  # the ambiguous failure's code is the network error the SDK reported
        assert len({s.code for s in seen.values()}) == 1, seen
    assert len(emulator.outbox()) == mails
