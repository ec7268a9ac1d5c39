"""Named, scoped API keys (`api_keys:` in sesrelay.yaml) over the HTTP API, against the SES
emulator: outside its senders or actions a key gets 403 scope_denied, over its daily quota 429
quota_exceeded with Retry-After to the next UTC+8 day; its name (never the key) is logged and
recorded; keys of SESRELAY_API_KEY_SHA256 stay unrestricted."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from sesrelay.clock import ManualClock
from sesrelay.emulator import EmulatorServer
from sesrelay.runtime import Runtime

MakeRuntime = Callable[..., Runtime]
MakeEvent = Callable[..., dict[str, Any]]
ProblemOf = Callable[[dict[str, Any], int, str], dict[str, Any]]

BILLING_KEY = "sr_billing_key_0001"
READER_KEY = "sr_reader_key_0001"
ENV_KEY = "sr_from_a_variable_01"
CAMPAIGN_KEY = "sr_campaign_key_0001"
#: 2026-12-01 14:00 UTC is 22:00 in UTC+8: two hours before Tencent's day ends.
NOW = datetime(2026, 12, 1, 14, 0, tzinfo=timezone.utc)
CONTEXT = {"request_id": "scf-keys-test", "time_limit_in_ms": 10_000}


def sha(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    path = tmp_path / "sesrelay.yaml"
    path.write_text(
        f"""
api_keys:
  billing:
    sha256: "{sha(BILLING_KEY)}"
    senders: ["news@example.com"]
    actions: [SendEmail]
    quota_per_day: 2
  reader:
    sha256: "{sha(READER_KEY)}"
    actions: [read]
  from-env:
    sha256_env: READER_DIGEST
    actions: [SendEmail]
  campaigner:
    sha256: "{sha(CAMPAIGN_KEY)}"
    actions: [campaigns]
    quota_per_day: 1
""",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def runtime(make_runtime: MakeRuntime, config_path: Path, clock: ManualClock) -> Runtime:
    return make_runtime(
        config_path=config_path, clock=clock, environ={"READER_DIGEST": sha(ENV_KEY)}
    )


def send(
    runtime: Runtime,
    event: MakeEvent,
    key: str,
    sender: str = "News <news@example.com>",
    route: str = "http_post-emails",
    idempotency_key: str | None = None,
) -> dict[str, Any]:
    sample = event(route, headers={"authorization": f"Bearer {key}"})
    body = json.loads(sample["body"])
    body["FromEmailAddress"] = sender
    sample = event(route, body=body, headers={"authorization": f"Bearer {key}"})
    if idempotency_key:
        sample["headers"]["idempotency-key"] = idempotency_key
    reply: dict[str, Any] = runtime.handle(sample, CONTEXT)
    return reply


def test_a_key_sends_only_from_its_senders(
    runtime: Runtime, event: MakeEvent, problem: ProblemOf, emulator: EmulatorServer
) -> None:
    body = problem(
        send(runtime, event, BILLING_KEY, sender="noreply@example.com"), 403, "scope_denied"
    )
    assert "billing" in body["detail"]
    assert "news@example.com" in body["detail"]
    assert BILLING_KEY not in json.dumps(body)
    assert emulator.outbox() == []
    assert send(runtime, event, BILLING_KEY)["statusCode"] == 202
    assert len(emulator.outbox()) == 1


@pytest.mark.parametrize(
    "route",
    [
        "http_post-batch-tasks",
        "http_post-campaigns",
        "http_get-batch-tasks",
        "http_get-email-status",
    ],
)
def test_a_key_uses_only_its_actions(
    route: str,
    runtime: Runtime,
    event: MakeEvent,
    problem: ProblemOf,
    nothing_sent: Callable[[], None],
) -> None:
    sample = event(route, headers={"authorization": f"Bearer {BILLING_KEY}"})
    sample["headers"]["idempotency-key"] = "scoped-1"
    body = problem(runtime.handle(sample, CONTEXT), 403, "scope_denied")
    assert "may use: SendEmail" in body["detail"]
    nothing_sent()


def test_a_read_only_key_cannot_send(
    runtime: Runtime, event: MakeEvent, problem: ProblemOf, nothing_sent: Callable[[], None]
) -> None:
    problem(send(runtime, event, READER_KEY), 403, "scope_denied")
    nothing_sent()


def test_over_its_quota_a_key_gets_429_until_the_next_utc8_day(
    runtime: Runtime,
    event: MakeEvent,
    problem: ProblemOf,
    emulator: EmulatorServer,
    clock: ManualClock,
) -> None:
    assert send(runtime, event, BILLING_KEY, idempotency_key="a")["statusCode"] == 202
    # A replay answers from the stored reply: it takes nothing from the quota.
    assert send(runtime, event, BILLING_KEY, idempotency_key="a")["statusCode"] == 202
    assert send(runtime, event, BILLING_KEY, idempotency_key="b")["statusCode"] == 202
    reply = send(runtime, event, BILLING_KEY, idempotency_key="c")
    body = problem(reply, 429, "quota_exceeded")
    assert reply["headers"]["retry-after"] == str(2 * 3600)
    assert "quota of 2" in body["detail"]
    assert len(emulator.outbox()) == 2
    # Another key is not affected; the next day (00:00 UTC+8) the key sends again.
    assert send(runtime, event, "sr_test_key")["statusCode"] == 202
    clock.advance(2 * 3600)
    assert send(runtime, event, BILLING_KEY, idempotency_key="c")["statusCode"] == 202


def test_a_send_ses_refuses_gives_its_quota_unit_back(
    runtime: Runtime, event: MakeEvent, emulator: EmulatorServer
) -> None:
    emulator.inject_fault("SendEmail", kind="error", code="FailedOperation.FrequencyLimit")
    assert send(runtime, event, BILLING_KEY)["statusCode"] == 422  # refused: nothing sent
    assert send(runtime, event, BILLING_KEY)["statusCode"] == 202
    assert send(runtime, event, BILLING_KEY)["statusCode"] == 202
    assert len(emulator.outbox()) == 2


def test_a_key_whose_digest_is_in_a_variable_works(
    runtime: Runtime, event: MakeEvent, emulator: EmulatorServer
) -> None:
    assert send(runtime, event, ENV_KEY)["statusCode"] == 202
    assert len(emulator.outbox()) == 1


def test_the_log_and_the_record_name_the_key_never_the_key_itself(
    runtime: Runtime, event: MakeEvent, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    reply = send(runtime, event, BILLING_KEY, idempotency_key="order-17")
    message_id = json.loads(reply["body"])["MessageId"]
    out = capsys.readouterr().out
    [line] = [json.loads(x) for x in out.splitlines() if x.startswith("{")]
    assert line["key"] == "billing"
    assert BILLING_KEY not in out
    record = runtime.services.records.get("email", message_id)
    assert record is not None
    assert (record.key, record.entry, record.idempotency_key) == ("billing", "http", "order-17")
    assert record.sender == "news@example.com"
    assert record.recipients == ["ana@example.org"]


def test_keys_of_the_environment_variable_stay_unrestricted(
    runtime: Runtime, event: MakeEvent, emulator: EmulatorServer
) -> None:
    reply = send(runtime, event, "sr_test_key", sender="noreply@example.com")
    assert reply["statusCode"] == 202
    sample = event("http_get-batch-tasks")
    assert runtime.handle(sample, CONTEXT)["statusCode"] == 200


def test_a_campaign_is_one_send_of_the_quota(
    runtime: Runtime, event: MakeEvent, problem: ProblemOf, emulator: EmulatorServer
) -> None:
    def campaign(idempotency_key: str) -> dict[str, Any]:
        sample = event("http_post-campaigns", headers={"authorization": f"Bearer {CAMPAIGN_KEY}"})
        sample["headers"]["idempotency-key"] = idempotency_key
        reply: dict[str, Any] = runtime.handle(sample, CONTEXT)
        return reply

    first = campaign("c1")
    assert first["statusCode"] == 202, first
    assert campaign("c1")["body"] == first["body"]  # a replay takes no unit
    problem(campaign("c2"), 429, "quota_exceeded")
    assert emulator.call_counts().get("CreateReceiver", 0) == 1  # the second created nothing
