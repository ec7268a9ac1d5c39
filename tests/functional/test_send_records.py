"""Every entry point records what it sent, by MessageId or TaskId: direct invocations, timer
ticks, campaign tasks (HTTP and webhooks are covered with their routes); a send SES refused is
not recorded, and a state store that fails after SES accepted a send does not turn it into a
failure."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sesrelay.adapters.state_memory import MemoryStateStore
from sesrelay.clock import SystemClock
from sesrelay.emulator import EmulatorServer
from sesrelay.runtime import Runtime
from sesrelay.state import StateRecord, StateStoreError

MakeRuntime = Callable[..., Runtime]
MakeEvent = Callable[..., dict[str, Any]]
CONTEXT = {"request_id": "scf-records-test", "time_limit_in_ms": 20_000}


def test_a_direct_invocation_is_recorded_as_direct(
    make_runtime: MakeRuntime, event: MakeEvent
) -> None:
    runtime = make_runtime()
    reply = runtime.handle(event("direct_send-email"), CONTEXT)
    assert reply["ok"] is True, reply
    record = runtime.services.records.get("email", reply["result"]["MessageId"])
    assert record is not None
    assert (record.entry, record.key, record.sender) == ("direct", None, "noreply@example.com")
    assert (record.template_id, record.recipients) == (100001, ["ana@example.org"])


def test_an_inline_timer_send_is_recorded_with_its_entry(
    make_runtime: MakeRuntime, event: MakeEvent, emulator: EmulatorServer
) -> None:
    runtime = make_runtime()
    runtime.handle(event("timer_inline-send-email"), CONTEXT)
    [mail] = emulator.outbox()
    record = runtime.services.records.get("email", mail["message_id"])
    assert record is not None
    assert record.entry == "timer:inline:SendEmail"
    assert record.recipients == ["ben@example.org"]


def test_a_campaign_task_is_recorded_with_its_campaign_and_key(
    make_runtime: MakeRuntime, event: MakeEvent
) -> None:
    runtime = make_runtime()
    sample = event("http_post-campaigns")
    sample["headers"]["idempotency-key"] = "records-campaign-1"
    reply = runtime.handle(sample, CONTEXT)
    assert reply["statusCode"] == 202, reply
    campaign = json.loads(reply["body"])
    [task_id] = campaign["TaskIds"]
    record = runtime.services.records.get("task", str(task_id))
    assert record is not None
    assert record.entry == f"campaign:{campaign['CampaignId']}"
    assert record.key == "SESRELAY_API_KEY_SHA256#1"
    assert record.receiver_id is not None
    assert record.recipient_count == campaign["Counts"]["Valid"]


class WrittenKeys(MemoryStateStore):
    """The memory store, remembering every key it was asked to write."""

    def __init__(self) -> None:
        super().__init__(SystemClock())
        self.written: list[str] = []

    def put(self, key: str, value: str, ttl_seconds: float) -> StateRecord:
        self.written.append(key)
        return super().put(key, value, ttl_seconds)


def test_a_send_ses_refused_leaves_no_record(
    make_runtime: MakeRuntime, event: MakeEvent, emulator: EmulatorServer
) -> None:
    store = WrittenKeys()
    runtime = make_runtime(state=store)
    emulator.inject_fault("SendEmail", kind="error", code="FailedOperation.FrequencyLimit")
    assert runtime.handle(event("http_post-emails"), CONTEXT)["statusCode"] == 422
    assert not [key for key in store.written if key.startswith("record:")]
    assert runtime.handle(event("http_post-emails"), CONTEXT)["statusCode"] == 202
    assert [key for key in store.written if key.startswith("record:email:")]


class RecordsDown(MemoryStateStore):
    """A store whose writes of send records fail, as a Redis that went away mid-invocation."""

    def put(self, key: str, value: str, ttl_seconds: float) -> StateRecord:
        if key.startswith("record:"):
            raise StateStoreError("the state store is unreachable")
        return super().put(key, value, ttl_seconds)


def test_a_record_that_cannot_be_saved_does_not_undo_the_send(
    make_runtime: MakeRuntime,
    event: MakeEvent,
    emulator: EmulatorServer,
    capsys: Any,
) -> None:
    runtime = make_runtime(state=RecordsDown(SystemClock()))
    capsys.readouterr()
    reply = runtime.handle(event("http_post-emails"), CONTEXT)
    assert reply["statusCode"] == 202, reply
    assert len(emulator.outbox()) == 1
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.startswith("{")]
    [line] = [x for x in lines if x.get("message") == "invocation"]
    assert line["outcome"] == "sent"
    assert line["record_error"] == "state_store_unavailable"
