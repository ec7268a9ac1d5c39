"""SES delivery callbacks from a hostile sender: no field, whatever its type, length or content,
makes `POST /v1/ses-events/{token}` answer 5xx; an event that is not valid blacklists nothing
and is counted `invalid`; and a flood of distinct events cannot crowd the memory store out of
the keys that guard sends."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sesrelay.adapters.state_memory import EVICTABLE_PREFIXES, MemoryStateStore
from sesrelay.clock import Deadline, ManualClock
from sesrelay.config.model import RelayConfig, SesEventsConfig
from sesrelay.http.routes.ses_events import KEY_PREFIX
from sesrelay.runtime import Runtime
from sesrelay.settings import Settings
from sesrelay.wiring import build_services

TOKEN = "h" * 32
CONTEXT = {"request_id": "ses-events-input", "time_limit_in_ms": 3000}
HARD_BOUNCE = {
    "event": "bounce",
    "eventid": 3,
    "email": "hank@example.org",
    "bulkId": "<0100018c-bounce@example.com>",
    "timestamp": 1764468000,
    "reason": "550 5.1.1 <hank@example.org>: user unknown",
    "bounceType": "hard_bounce",
    "taskId": 42,
}
HOSTILE_VALUES: list[Any] = [
    None,
    True,
    -1,
    2**64,
    10**4000,
    1.5,
    1e308,
    "",
    "x" * 100_000,
    "\ud800",  # a lone surrogate: valid JSON, not encodable as UTF-8
    "a\x00b\r\nc",
    "９",  # a full-width digit, which int() would take
    [],
    ["hank@example.org"],
    {"a": {"b": [1]}},
]
FIELDS = ["event", "eventid", "email", "bulkId", "bulkid", "timestamp", "reason", "bounceType"]
FIELDS += ["taskId", "link", "subject", "from", "templateId"]


class FakeSes:
    def __init__(self) -> None:
        self.blacklisted: list[str] = []

    def call(self, action: str, params: dict[str, Any], deadline: Deadline) -> dict[str, Any]:
        assert action == "CreateCustomBlacklist"
        self.blacklisted.extend(params["Emails"])
        return {"RequestId": "req-1"}


def make_runtime(ses: FakeSes, store: MemoryStateStore | None = None) -> Runtime:
    clock = ManualClock()
    config = RelayConfig(
        ses_events=SesEventsConfig.model_validate(
            {"token_env": "TOKEN", "blacklist_on": ["hard_bounce", "spamreport", "dropped"]}
        )
    )
    services = build_services(
        Settings(environ={"TOKEN": TOKEN}),
        clock=clock,
        ses=ses,
        state=store or MemoryStateStore(clock),
        config=config,
    )
    return Runtime(services)


def post(runtime: Runtime, body: str) -> tuple[int, dict[str, Any]]:
    event = {
        "httpMethod": "POST",
        "path": f"/v1/ses-events/{TOKEN}",
        "headers": {"content-type": "application/json"},
        "queryString": {},
        "body": body,
    }
    reply = runtime.handle(event, CONTEXT)
    data: dict[str, Any] = json.loads(reply["body"])
    return reply["statusCode"], data


@pytest.mark.parametrize("field", FIELDS)
def test_no_value_of_any_field_makes_a_5xx_or_blacklists_a_non_address(field: str) -> None:
    ses = FakeSes()
    runtime = make_runtime(ses)
    for value in HOSTILE_VALUES:
        status, body = post(runtime, json.dumps({**HARD_BOUNCE, field: value}))
        assert status == 200, (field, value, body)
        assert body["received"] == 1
        if body["invalid"]:  # then its errors name the field, and nothing else was done
            assert body["blacklisted"] == 0
            assert any(e["field"].startswith(f"0.{field}") for e in body["errors"]), body
    assert set(ses.blacklisted) <= {"hank@example.org"}


def test_fields_the_relay_does_not_read_never_cost_a_bounce() -> None:
    ses = FakeSes()
    runtime = make_runtime(ses)
    noise = {"subject": {"nested": ["x"]}, "from": 10**4000, "templateId": "x" * 10_000}
    status, body = post(runtime, json.dumps({**HARD_BOUNCE, **noise}))
    assert (status, body["invalid"], body["blacklisted"]) == (200, 0, 1)
    assert ses.blacklisted == ["hank@example.org"]


def test_a_lone_surrogate_in_the_reason_is_logged_not_a_5xx(
    capsys: pytest.CaptureFixture[str],
) -> None:
    runtime = make_runtime(FakeSes())
    capsys.readouterr()
    status, body = post(runtime, json.dumps({**HARD_BOUNCE, "reason": "550 \ud800 gone"}))
    assert (status, body["invalid"], body["blacklisted"]) == (200, 0, 1)
    captured = capsys.readouterr()
    assert "Logging error" not in captured.err
    [line] = [json.loads(x) for x in captured.out.splitlines() if '"ses_event"' in x]
    assert line["reason"] == "550 ? gone"


JSON_LEAVES = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=40)
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=10,
)
EVENTS = st.dictionaries(st.sampled_from(FIELDS), JSON_VALUES, max_size=len(FIELDS))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=st.lists(EVENTS | JSON_VALUES, max_size=4))
def test_any_json_delivery_is_answered_200_and_blacklists_only_addresses(
    events: list[Any],
) -> None:
    ses = FakeSes()
    status, body = post(make_runtime(ses), json.dumps(events))
    assert status == 200, body
    assert body["received"] == len(events)
    assert 0 <= body["invalid"] <= len(events)
    assert body["blacklisted"] <= len(events) - body["invalid"]
    for address in ses.blacklisted:
        local, _, domain = address.rpartition("@")
        assert local
        assert "." in domain
        assert address.isascii()
        assert address.isprintable()


def test_callback_dedupe_keys_are_the_ones_the_memory_store_may_evict() -> None:
    assert KEY_PREFIX.startswith(EVICTABLE_PREFIXES)


def test_a_flood_of_distinct_events_keeps_the_store_bounded_and_send_claims_alive() -> None:
    clock = ManualClock()
    store = MemoryStateStore(clock, max_keys=100)
    assert store.claim("idem:scope:key", "held", 3600) is None  # a send's idempotency claim
    runtime = make_runtime(FakeSes(), store)
    flood = [{**HARD_BOUNCE, "event": "open", "timestamp": i} for i in range(500)]
    for start in range(0, len(flood), 50):
        status, body = post(runtime, json.dumps(flood[start : start + 50]))
        assert (status, body["invalid"]) == (200, 0)
    assert len(store._data) <= 100
    assert store.get("idem:scope:key") is not None
    assert store.claim("idem:scope:other", "held", 3600) is None  # new sends are not refused


def test_a_reason_of_any_type_does_not_cost_the_event() -> None:
    from sesrelay.http.routes.ses_events import SesEvent

    for reason in (550, ["mailbox", "full"], {"code": 550}, True):
        event = SesEvent.model_validate(
            {"event": "bounce", "email": "a@example.org", "reason": reason}
        )
        assert isinstance(event.reason, str)
