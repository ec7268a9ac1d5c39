"""Timer ticks through `Runtime.handle`, fed `events/timer_*.json`, against the SES emulator, with
SQLite state as on one SCF instance.

SCF retries a failed async invocation up to twice, so the same tick may arrive three times: it
must send once. Retryable SES failures raise `RetryLater` (SCF retries);
failures a retry cannot fix return a summary and do not raise.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from sesrelay.adapters.state_url import open_state_store
from sesrelay.clock import ManualClock
from sesrelay.config.model import RelayConfig, load_config, read_config_data
from sesrelay.emulator import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, EmulatorServer
from sesrelay.errors import RetryLater
from sesrelay.runtime import Runtime
from sesrelay.settings import Settings
from sesrelay.state import StateStore
from sesrelay.wiring import build_services

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
CONTEXT = {"request_id": "scf-timer-test", "time_limit_in_ms": 10_000}
NOW = datetime(2026, 11, 30, 1, 0, 2, tzinfo=timezone.utc)  # two seconds after the samples' tick
MAX_ATTEMPTS = 3  # SESRELAY_SES_MAX_ATTEMPTS of these tests (the default)
GROUP = ["ana@example.org", "ben@example.org", "chen@example.org"]  # seed group 200001

#: sample -> (SES action, recipients, subject as mailed)
SAMPLES = {
    "weekly-digest": ("BatchSendEmail", GROUP, "Your digest for 2026-W49"),
    "welcome-ana": ("SendEmail", ["ana@example.org"], "Welcome, Ana"),
    "inline-send-email": ("SendEmail", ["ben@example.org"], "Your weekly reminder"),
    "inline-batch-send-email": ("BatchSendEmail", GROUP, "News for our customers"),
}

Event = dict[str, Any]


def tick(name: str, **changes: str) -> Event:
    event: Event = json.loads((EVENTS / f"timer_{name}.json").read_text(encoding="utf-8"))
    event.update(changes)
    return event


def inline(action: str, params: dict[str, Any], trigger: str = "inline-test") -> Event:
    message = json.dumps({"action": action, "params": params})
    return tick("inline-send-email", TriggerName=trigger, Message=message)


def sends(emulator: EmulatorServer) -> int:
    counts = emulator.call_counts()
    return counts.get("SendEmail", 0) + counts.get("BatchSendEmail", 0)


def timer_lines(out: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("trigger") == "timer"]


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> RelayConfig:
    """The shipped jobs, plus two that fail only when they run."""
    data = read_config_data(ROOT / "sesrelay.yaml")
    assert isinstance(data, dict)
    jobs = dict(data["jobs"])
    jobs["digest-for-a-missing-group"] = {**jobs["weekly-digest"], "receiver_group": "no-such"}
    jobs["subject-too-long"] = {
        "action": "SendEmail",
        "params": {
            "FromEmailAddress": "noreply@example.com",
            "Destination": ["ana@example.org"],
            "Subject": "Digest " + "x" * 100,
            "Template": {"TemplateID": 100001, "TemplateData": {"name": "Ana"}},
        },
    }
    path = tmp_path_factory.mktemp("config") / "sesrelay.yaml"
    path.write_text(json.dumps({"jobs": jobs}, indent=2), encoding="utf-8")  # JSON is YAML
    return load_config(path)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def state(tmp_path: Path, clock: ManualClock) -> Iterator[StateStore]:
    store = open_state_store(f"sqlite:///{tmp_path}/state.sqlite3", clock)
    yield store
    store.close()


@pytest.fixture
def make_runtime(
    emulator: EmulatorServer, config: RelayConfig, clock: ManualClock, state: StateStore
) -> Callable[[], Runtime]:
    """A new warm instance on the same state each call (an SCF retry may land on another)."""

    def make() -> Runtime:
        settings = Settings(
            environ={},
            ses_endpoint=emulator.url,
            secret_id=DEFAULT_SECRET_ID,
            secret_key=DEFAULT_SECRET_KEY,
            ses_max_attempts=MAX_ATTEMPTS,
        )
        return Runtime(build_services(settings, clock=clock, state=state, config=config))

    return make


@pytest.fixture
def runtime(make_runtime: Callable[[], Runtime]) -> Runtime:
    return make_runtime()


# --- at most once per tick -------------------------------------------------------------------


@pytest.mark.parametrize("name", list(SAMPLES))
def test_a_tick_delivered_three_times_sends_once(
    name: str,
    runtime: Runtime,
    emulator: EmulatorServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    action, recipients, subject = SAMPLES[name]
    event = tick(name)
    key = f"timer:{event['TriggerName']}:{event['Time']}"
    capsys.readouterr()

    replies = [runtime.handle(copy.deepcopy(event), CONTEXT) for _ in range(3)]

    assert replies[0]["ok"] is True, replies[0]
    assert replies[0]["status"] == "sent"
    assert replies[0]["tick"] == key
    for reply in replies[1:]:
        assert reply == {"ok": True, "status": "duplicate", "tick": key, "first_outcome": "sent"}
    assert emulator.call_counts().get(action, 0) == 1
    assert sends(emulator) == 1
    mails = emulator.outbox()
    assert sorted(m["to"] for m in mails) == recipients
    assert {m["subject"] for m in mails} == {subject}
    statuses = [line["status"] for line in timer_lines(capsys.readouterr().out)]
    assert statuses == ["sent", "duplicate", "duplicate"]


def test_the_weekly_digest_renders_the_tick_in_utc_plus_8(
    runtime: Runtime, emulator: EmulatorServer
) -> None:
    # 2026-11-29T16:30Z is Monday 2026-11-30 00:30 in Asia/Shanghai, the zone of SCF cron.
    reply = runtime.handle(tick("weekly-digest", Time="2026-11-29T16:30:00Z"), CONTEXT)
    assert reply["status"] == "sent", reply
    [mail, *_] = emulator.outbox()
    assert mail["subject"] == "Your digest for 2026-W49"
    assert mail["template_data"] == {"week": "2026-W49", "date": "2026-11-30"}


def test_two_ticks_of_one_trigger_each_send(runtime: Runtime, emulator: EmulatorServer) -> None:
    first = runtime.handle(tick("welcome-ana"), CONTEXT)
    next_week = runtime.handle(tick("welcome-ana", Time="2026-12-07T01:00:00Z"), CONTEXT)
    assert (first["status"], next_week["status"]) == ("sent", "sent")
    assert sends(emulator) == 2


def test_lower_case_timer_type_is_accepted(runtime: Runtime, emulator: EmulatorServer) -> None:
    reply = runtime.handle(tick("welcome-ana", Type="timer"), CONTEXT)
    assert reply["status"] == "sent", reply
    assert sends(emulator) == 1


def test_a_tick_still_being_handled_elsewhere_raises_so_scf_retries(
    runtime: Runtime, state: StateStore, emulator: EmulatorServer
) -> None:
    event = tick("welcome-ana")
    key = f"timer:{event['TriggerName']}:{event['Time']}"
    assert state.claim(key, json.dumps({"state": "in_progress"}), 60) is None
    with pytest.raises(RetryLater):
        runtime.handle(event, CONTEXT)
    assert sends(emulator) == 0


# --- retryable, final and ambiguous failures -------------------------------------------------


@pytest.mark.parametrize("name", ["weekly-digest", "inline-send-email"])
def test_throttled_tick_raises_then_its_retry_sends_once(
    name: str, make_runtime: Callable[[], Runtime], emulator: EmulatorServer
) -> None:
    action, recipients, _subject = SAMPLES[name]
    # More throttling replies than the gateway's attempts: it gives up, the tick must raise.
    emulator.inject_fault(action, "error", MAX_ATTEMPTS + 2, code="RequestLimitExceeded")
    event = tick(name)

    with pytest.raises(RetryLater):
        make_runtime().handle(copy.deepcopy(event), CONTEXT)
    assert emulator.call_counts()[action] == MAX_ATTEMPTS
    assert emulator.outbox() == []

    # SCF's retry (same event, maybe another instance): two throttles left, then it goes through.
    retry = make_runtime().handle(copy.deepcopy(event), CONTEXT)
    assert retry["ok"] is True, retry
    assert retry["status"] == "sent"
    third = make_runtime().handle(copy.deepcopy(event), CONTEXT)
    assert third["status"] == "duplicate"
    assert third["first_outcome"] == "sent"
    assert emulator.call_counts()[action] == MAX_ATTEMPTS + 3
    assert sorted(m["to"] for m in emulator.outbox()) == recipients


def test_service_not_available_is_retryable_too(runtime: Runtime, emulator: EmulatorServer) -> None:
    emulator.inject_fault(
        "SendEmail", "error", MAX_ATTEMPTS, code="FailedOperation.ServiceNotAvailable"
    )
    with pytest.raises(RetryLater):
        runtime.handle(tick("welcome-ana"), CONTEXT)
    assert runtime.handle(tick("welcome-ana"), CONTEXT)["status"] == "sent"
    assert len(emulator.outbox()) == 1


VALID_SEND = {
    "FromEmailAddress": "noreply@example.com",
    "Destination": ["ana@example.org"],
    "Subject": "Hello",
    "Template": {"TemplateID": 100001, "TemplateData": {"name": "Ana"}},
}


@pytest.mark.parametrize(
    ("event", "code", "field"),
    [
        pytest.param(
            tick("weekly-digest", Message='{"job":"no-such-job"}'),
            "validation_error",
            "Message.job",
            id="unknown-job",
        ),
        pytest.param(
            tick("weekly-digest", TriggerName="t1", Message='{"job":"subject-too-long"}'),
            "validation_error",
            "Subject",
            id="job-params-invalid",
        ),
        pytest.param(
            inline("SendEmail", {**VALID_SEND, "Destination": ["not-an-address"]}),
            "validation_error",
            "Destination.0",
            id="inline-params-invalid",
        ),
        pytest.param(
            inline("DeleteEverything", VALID_SEND),
            "validation_error",
            "Message.action",
            id="inline-unknown-action",
        ),
        pytest.param(
            tick("weekly-digest", Message='{"job":"digest-for-a-missing-group"}'),
            "validation_error",
            "jobs.digest-for-a-missing-group.receiver_group",
            id="missing-recipient-group",
        ),
        pytest.param(
            tick("weekly-digest", Message=json.dumps({"job": "x" * 5000})),
            "validation_error",
            "Message",
            id="message-over-4kb",
        ),
        pytest.param(
            tick("weekly-digest", Message="weekly-digest"),
            "malformed_request",
            None,
            id="message-not-json",
        ),
    ],
)
def test_failure_a_retry_cannot_fix_returns_a_summary_without_raising(
    event: Event,
    code: str,
    field: str | None,
    runtime: Runtime,
    emulator: EmulatorServer,
) -> None:
    reply = runtime.handle(copy.deepcopy(event), CONTEXT)
    assert reply["ok"] is False, reply
    assert reply["error"]["code"] == code
    if field is not None:
        assert field in {e["field"] for e in reply["error"]["errors"]}, reply
    assert sends(emulator) == 0
    assert emulator.outbox() == []


def test_receiver_not_exist_returns_the_ses_code_without_raising(
    runtime: Runtime, emulator: EmulatorServer
) -> None:
    params = json.loads(tick("inline-batch-send-email")["Message"])["params"]
    params["ReceiverId"] = 999999
    reply = runtime.handle(inline("BatchSendEmail", params), CONTEXT)
    assert reply["ok"] is False, reply
    assert reply["error"]["code"] == "OperationDenied.ReceiverNotExist"
    assert reply["error"]["outcome"] == "final"
    assert emulator.outbox() == []


def test_ambiguous_failure_is_outcome_unknown_and_never_sent_again(
    runtime: Runtime, emulator: EmulatorServer
) -> None:
    emulator.inject_fault("SendEmail", "drop_after")  # SES sends, the reply is lost
    event = tick("welcome-ana")
    first = runtime.handle(copy.deepcopy(event), CONTEXT)
    assert first["ok"] is False, first
    assert first["error"]["outcome"] == "outcome_unknown"
    again = runtime.handle(copy.deepcopy(event), CONTEXT)
    assert again["ok"] is True
    assert again["status"] == "duplicate"
    assert again["first_outcome"] == "outcome_unknown"
    assert emulator.call_counts()["SendEmail"] == 1
    assert [m["to"] for m in emulator.outbox()] == ["ana@example.org"]
