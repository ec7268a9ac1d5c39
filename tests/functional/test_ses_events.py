"""`POST /v1/ses-events/{token}`: Tencent SES delivery callbacks
through `Runtime.handle`, fed `events/ses-events_*.json`, against the SES emulator.

Callbacks are unsigned; the path token is their only guard. Each event is logged as one JSON
line with the recipient masked, deduplicated, and (per `blacklist_on`) added to the SES custom
blacklist, which is read back through the official SDK (the gateway) from the emulator.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from sesrelay.adapters.state_memory import MemoryStateStore
from sesrelay.clock import Deadline, ManualClock
from sesrelay.config.model import RelayConfig, SesEventsConfig
from sesrelay.emulator import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, EmulatorServer
from sesrelay.errors import SesError
from sesrelay.runtime import Runtime
from sesrelay.settings import Settings
from sesrelay.wiring import build_services

EVENTS = Path(__file__).resolve().parents[2] / "events"
CONTEXT = {"request_id": "scf-ses-events-test", "time_limit_in_ms": 10_000}
TOKEN = "sesrelay-test-callback-token-0001"  # the token in the samples' paths
TOKEN_ENV = "SES_EVENTS_TOKEN"
NOW = datetime(2026, 11, 30, 2, 0, 0, tzinfo=timezone.utc)

#: sample -> (event kind logged, recipient, bounce type)
SAMPLES = {
    "delivered": ("delivered", "ana@example.org", None),
    "dropped": ("dropped", "dora@example.org", None),
    "bounce-hard": ("bounce", "hank@example.org", "hard_bounce"),
    "bounce-soft": ("bounce", "sofia@example.org", "soft_bounce"),
    "open": ("open", "ana@example.org", None),
    "click": ("click", "ana@example.org", None),
    "spamreport": ("spamreport", "sam@example.org", None),
    "unsubscribe": ("unsubscribe", "ursula@example.org", None),
    "deferred": ("deferred", "dave@example.org", None),
}
EVENT_IDS = {
    "delivered": 1,
    "dropped": 2,
    "bounce": 3,
    "open": 4,
    "click": 5,
    "spamreport": 6,
    "unsubscribe": 7,
    "deferred": 8,
}

Event = dict[str, Any]
Problem = Callable[[dict[str, Any], int, str], dict[str, Any]]


def masked(address: str) -> str:
    local, _, domain = address.partition("@")
    return f"{local[0]}***@{domain}"


def sample(name: str) -> Event:
    event: Event = json.loads((EVENTS / f"ses-events_{name}.json").read_text(encoding="utf-8"))
    return event


def payload(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(sample(name)["body"])
    return data


def body_of(reply: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(reply["body"])
    return data


def event_lines(out: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("message") == "ses_event"]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def make_runtime(emulator: EmulatorServer, clock: ManualClock) -> Callable[..., Runtime]:
    def make(
        blacklist_on: list[str] | None = None,
        environ: dict[str, str] | None = None,
        section: bool = True,
    ) -> Runtime:
        events = SesEventsConfig.model_validate(
            {"token_env": TOKEN_ENV, "blacklist_on": blacklist_on or []}
        )
        config = RelayConfig(ses_events=events if section else None)
        settings = Settings(
            environ={TOKEN_ENV: TOKEN} if environ is None else environ,
            ses_endpoint=emulator.url,
            secret_id=DEFAULT_SECRET_ID,
            secret_key=DEFAULT_SECRET_KEY,
        )
        services = build_services(
            settings, clock=clock, state=MemoryStateStore(clock), config=config
        )
        return Runtime(services)

    return make


def custom_blacklist(runtime: Runtime, clock: ManualClock) -> list[str]:
    """ListCustomBlacklist through the gateway, i.e. the official SDK, from the emulator."""
    reply = runtime.services.ses.call(
        "ListCustomBlacklist", {"Offset": 0, "Limit": 100, "Status": 2}, Deadline(clock, 10)
    )
    return sorted(str(entry["Email"]) for entry in reply.get("Data") or [])


# --- parsing and logging ---------------------------------------------------------------------


def test_every_event_type_of_the_callback_doc_has_a_sample() -> None:
    kinds = {payload(name)["event"] for name in SAMPLES}
    assert kinds == set(EVENT_IDS)
    bounces = {payload(name)["bounceType"] for name in ("bounce-hard", "bounce-soft")}
    assert bounces == {"hard_bounce", "soft_bounce"}
    for name in SAMPLES:
        event = sample(name)
        assert event["path"] == f"/v1/ses-events/{TOKEN}"
        assert event["headers"]["content-length"] == str(len(event["body"].encode()))
        assert payload(name)["eventid"] == EVENT_IDS[payload(name)["event"]]


@pytest.mark.parametrize("name", list(SAMPLES))
def test_each_event_type_is_parsed_and_logged_with_the_address_masked(
    name: str,
    make_runtime: Callable[..., Runtime],
    capsys: pytest.CaptureFixture[str],
) -> None:
    kind, address, bounce_type = SAMPLES[name]
    runtime = make_runtime()
    capsys.readouterr()

    reply = runtime.handle(sample(name), CONTEXT)

    assert reply["statusCode"] == 200, reply
    assert body_of(reply) == {
        "status": "ok",
        "received": 1,
        "duplicates": 0,
        "blacklisted": 0,
        "invalid": 0,
    }
    out = capsys.readouterr().out
    [line] = event_lines(out)
    assert line["event"] == kind
    assert line["email"] == masked(address)
    assert line["message_id"] == payload(name)["bulkId"]
    assert line["duplicate"] is False
    assert (line.get("bounce_type") or None) == bounce_type
    # Never the full address, anywhere: not in the event line (its `reason` included), not in
    # the invocation line, not in the reply.
    assert address not in out
    assert address not in reply["body"]


def test_callback_token_never_appears_in_the_log(
    make_runtime: Callable[..., Runtime], capsys: pytest.CaptureFixture[str]
) -> None:
    """The token is the callbacks' only credential; the function log must not carry it."""
    runtime = make_runtime()
    capsys.readouterr()
    reply = runtime.handle(sample("delivered"), CONTEXT)
    assert reply["statusCode"] == 200
    out = capsys.readouterr().out
    assert event_lines(out)
    assert TOKEN not in out


def test_a_json_array_of_events_is_accepted(
    make_runtime: Callable[..., Runtime], capsys: pytest.CaptureFixture[str]
) -> None:
    event = sample("delivered")
    event["body"] = json.dumps([payload(name) for name in SAMPLES])
    runtime = make_runtime()
    capsys.readouterr()
    reply = runtime.handle(event, CONTEXT)
    assert body_of(reply)["received"] == len(SAMPLES)
    lines = event_lines(capsys.readouterr().out)
    assert sorted(line["event"] for line in lines) == sorted(k for k, _, _ in SAMPLES.values())


def test_a_callback_without_content_type_is_read_as_json(
    make_runtime: Callable[..., Runtime],
) -> None:
    """Tencent documents no Content-Type for its callbacks: a missing one must not lose events."""
    event = sample("delivered")
    event["headers"] = {k: v for k, v in event["headers"].items() if k.lower() != "content-type"}
    reply = make_runtime().handle(event, CONTEXT)
    assert reply["statusCode"] == 200, reply
    assert body_of(reply)["received"] == 1


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_a_callback_with_a_type_that_is_not_json_is_415(
    content_type: str, make_runtime: Callable[..., Runtime], capsys: pytest.CaptureFixture[str]
) -> None:
    event = sample("delivered")
    event["headers"]["content-type"] = content_type
    runtime = make_runtime()
    capsys.readouterr()
    reply = runtime.handle(event, CONTEXT)
    assert reply["statusCode"] == 415, reply
    assert body_of(reply)["code"] == "unsupported_media_type"
    assert event_lines(capsys.readouterr().out) == []


# --- the token -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "token",
    [
        TOKEN[:-1] + "2",  # one character off
        TOKEN[:-1],  # a prefix
        TOKEN + "0",  # longer
        TOKEN.upper(),
        "x",
    ],
)
def test_wrong_token_is_401_and_nothing_is_recorded(
    token: str,
    make_runtime: Callable[..., Runtime],
    emulator: EmulatorServer,
    capsys: pytest.CaptureFixture[str],
    problem: Problem,
) -> None:
    runtime = make_runtime(blacklist_on=["hard_bounce"])
    event = sample("bounce-hard")
    event["path"] = f"/v1/ses-events/{token}"
    capsys.readouterr()
    reply = runtime.handle(event, CONTEXT)
    problem(reply, 401, "unauthorized")
    assert TOKEN not in reply["body"]
    assert event_lines(capsys.readouterr().out) == []
    assert emulator.call_counts().get("CreateCustomBlacklist", 0) == 0
    # The real token still works afterwards, and the event was not marked as seen.
    good = runtime.handle(sample("bounce-hard"), CONTEXT)
    assert body_of(good)["duplicates"] == 0


def test_unset_token_variable_is_404(
    make_runtime: Callable[..., Runtime], problem: Problem, capsys: pytest.CaptureFixture[str]
) -> None:
    runtime = make_runtime(environ={})
    capsys.readouterr()
    problem(runtime.handle(sample("delivered"), CONTEXT), 404, "not_found")
    assert event_lines(capsys.readouterr().out) == []


def test_blank_token_variable_is_404(
    make_runtime: Callable[..., Runtime], problem: Problem
) -> None:
    event = sample("delivered")
    event["path"] = "/v1/ses-events/%20"
    runtime = make_runtime(environ={TOKEN_ENV: " "})
    problem(runtime.handle(event, CONTEXT), 404, "not_found")


def test_without_a_ses_events_section_the_default_variable_unset_is_404(
    make_runtime: Callable[..., Runtime], problem: Problem
) -> None:
    runtime = make_runtime(environ={TOKEN_ENV: TOKEN}, section=False)
    problem(runtime.handle(sample("delivered"), CONTEXT), 404, "not_found")


# --- duplicates ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["delivered", "bounce-hard", "click"])
def test_the_same_event_posted_twice_is_reported_as_a_duplicate(
    name: str,
    make_runtime: Callable[..., Runtime],
    emulator: EmulatorServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    runtime = make_runtime(blacklist_on=["hard_bounce", "spamreport"])
    first = runtime.handle(sample(name), CONTEXT)
    capsys.readouterr()
    again = runtime.handle(copy.deepcopy(sample(name)), CONTEXT)
    assert body_of(first)["duplicates"] == 0
    assert body_of(again)["duplicates"] == 1
    assert body_of(again)["blacklisted"] == 0
    [line] = event_lines(capsys.readouterr().out)
    assert line["duplicate"] is True
    expected_calls = 1 if name == "bounce-hard" else 0
    assert emulator.call_counts().get("CreateCustomBlacklist", 0) == expected_calls


def test_a_later_event_of_the_same_mail_is_not_a_duplicate(
    make_runtime: Callable[..., Runtime],
) -> None:
    runtime = make_runtime()
    runtime.handle(sample("open"), CONTEXT)
    later = sample("open")
    data = json.loads(later["body"])
    data["timestamp"] += 600  # opened again ten minutes later
    later["body"] = json.dumps(data)
    assert body_of(runtime.handle(later, CONTEXT))["duplicates"] == 0


# --- the custom blacklist --------------------------------------------------------------------


def test_hard_bounce_and_spam_report_are_blacklisted_soft_bounce_is_not(
    make_runtime: Callable[..., Runtime], emulator: EmulatorServer, clock: ManualClock
) -> None:
    runtime = make_runtime(blacklist_on=["hard_bounce", "spamreport"])
    replies = {
        name: body_of(runtime.handle(sample(name), CONTEXT))
        for name in ("bounce-hard", "spamreport", "bounce-soft", "dropped", "delivered")
    }
    assert replies["bounce-hard"]["blacklisted"] == 1
    assert replies["spamreport"]["blacklisted"] == 1
    assert replies["bounce-soft"]["blacklisted"] == 0
    assert replies["dropped"]["blacklisted"] == 0
    assert replies["delivered"]["blacklisted"] == 0
    assert custom_blacklist(runtime, clock) == ["hank@example.org", "sam@example.org"]

    # And SES now refuses to mail them, while the soft-bounced address still receives mail.
    deadline = Deadline(clock, 10)
    params = {
        "FromEmailAddress": "noreply@example.com",
        "Subject": "Hello",
        "Template": {"TemplateID": 100001, "TemplateData": '{"name":"x"}'},
    }
    with pytest.raises(SesError) as refused:
        runtime.services.ses.call(
            "SendEmail", {**params, "Destination": ["hank@example.org"]}, deadline
        )
    assert refused.value.code == "FailedOperation.EmailAddrInBlacklist"
    runtime.services.ses.call(
        "SendEmail", {**params, "Destination": ["sofia@example.org"]}, deadline
    )
    assert [m["to"] for m in emulator.outbox()] == ["sofia@example.org"]


def test_with_blacklist_on_empty_nothing_is_blacklisted(
    make_runtime: Callable[..., Runtime], emulator: EmulatorServer, clock: ManualClock
) -> None:
    runtime = make_runtime(blacklist_on=[])
    for name in SAMPLES:
        assert body_of(runtime.handle(sample(name), CONTEXT))["blacklisted"] == 0
    assert emulator.call_counts().get("CreateCustomBlacklist", 0) == 0
    assert custom_blacklist(runtime, clock) == []


def test_blacklist_failure_is_logged_and_still_acknowledged(
    make_runtime: Callable[..., Runtime],
    emulator: EmulatorServer,
    clock: ManualClock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    runtime = make_runtime(blacklist_on=["hard_bounce"])
    emulator.inject_fault("CreateCustomBlacklist", "error", 1, code="FailedOperation")
    capsys.readouterr()
    reply = runtime.handle(sample("bounce-hard"), CONTEXT)
    assert reply["statusCode"] == 200
    assert body_of(reply)["blacklisted"] == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.startswith("{")]
    [warning] = [line for line in lines if line["level"] == "WARNING"]
    assert warning["code"] == "FailedOperation"
    assert custom_blacklist(runtime, clock) == []


# --- invalid events --------------------------------------------------------------------------


def hard_bounce_to(address: Any) -> Event:
    event = sample("bounce-hard")
    event["body"] = json.dumps({**payload("bounce-hard"), "email": address})
    return event


@pytest.mark.parametrize(
    "address",
    [
        "not an address",
        "hank@example.org\r\nBcc: all@example.org",  # a header injection attempt
        "a" * 300 + "@example.org",  # past the 254-character address limit
        "",
        None,
        ["hank@example.org"],
        {"address": "hank@example.org"},
    ],
    ids=["no-at", "crlf", "too-long", "empty", "null", "array", "object"],
)
def test_an_event_whose_email_is_not_an_address_is_counted_invalid_and_never_blacklisted(
    address: Any,
    make_runtime: Callable[..., Runtime],
    emulator: EmulatorServer,
    clock: ManualClock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    runtime = make_runtime(blacklist_on=["hard_bounce"])
    capsys.readouterr()
    reply = runtime.handle(hard_bounce_to(address), CONTEXT)
    # 200, not 4xx: SES may retry a callback it was refused, and this one never gets better.
    assert reply["statusCode"] == 200, reply
    body = body_of(reply)
    assert (body["received"], body["invalid"], body["blacklisted"]) == (1, 1, 0)
    assert [error["field"] for error in body["errors"]] == ["0.email"]
    assert emulator.call_counts().get("CreateCustomBlacklist", 0) == 0
    assert custom_blacklist(runtime, clock) == []
    out = capsys.readouterr().out
    assert event_lines(out) == []
    if isinstance(address, str) and address:
        assert address not in out  # no value is echoed, neither in the log nor in the reply
        assert address not in reply["body"]


def test_valid_events_of_a_delivery_are_processed_beside_an_invalid_one(
    make_runtime: Callable[..., Runtime], emulator: EmulatorServer, clock: ManualClock
) -> None:
    runtime = make_runtime(blacklist_on=["hard_bounce", "spamreport"])
    event = sample("bounce-hard")
    poisoned = {**payload("spamreport"), "email": "sam@example.org\nX: y", "taskId": "many"}
    event["body"] = json.dumps([payload("bounce-hard"), poisoned, "not an event"])
    reply = runtime.handle(event, CONTEXT)
    assert reply["statusCode"] == 200
    body = body_of(reply)
    assert {k: body[k] for k in ("received", "invalid", "blacklisted", "duplicates")} == {
        "received": 3,
        "invalid": 2,
        "blacklisted": 1,
        "duplicates": 0,
    }
    assert sorted(e["field"] for e in body["errors"]) == ["1.email", "1.taskId", "2"]
    assert custom_blacklist(runtime, clock) == ["hank@example.org"]
    # The same delivery again: still 200, the valid event now a duplicate, nothing blacklisted.
    again = body_of(runtime.handle(copy.deepcopy(event), CONTEXT))
    assert (again["duplicates"], again["invalid"], again["blacklisted"]) == (1, 2, 0)
    assert emulator.call_counts().get("CreateCustomBlacklist", 0) == 1


@pytest.mark.parametrize("body", ['"bounce"', "42", "null", "true"])
def test_a_body_that_is_neither_an_event_nor_an_array_is_422(
    body: str, make_runtime: Callable[..., Runtime], problem: Problem
) -> None:
    event = sample("delivered")
    event["body"] = body
    reply = make_runtime().handle(event, CONTEXT)
    data = problem(reply, 422, "validation_error")
    assert data["errors"][0]["message"].startswith("the body must be one event")


def test_an_empty_array_is_an_empty_delivery(make_runtime: Callable[..., Runtime]) -> None:
    event = sample("delivered")
    event["body"] = "[]"
    reply = make_runtime().handle(event, CONTEXT)
    assert reply["statusCode"] == 200
    assert body_of(reply)["received"] == 0
