"""The Idempotency-Key protocol through the HTTP API (docs/http-api.md "Idempotency-Key"), on a
MemoryStateStore, against the emulator: replays, reuse, in-progress, freed and kept keys, scopes."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from sesrelay.adapters.state_memory import MemoryStateStore
from sesrelay.clock import ManualClock, SystemClock
from sesrelay.emulator import EmulatorServer
from sesrelay.runtime import Runtime
from sesrelay.state import StateRecord, StateStoreError

MakeRuntime = Callable[..., Runtime]
MakeEvent = Callable[..., dict[str, Any]]
MakeContext = Callable[..., dict[str, Any]]
ProblemOf = Callable[[dict[str, Any], int, str], dict[str, Any]]

SOURCES = ["http", "apigw"]
REPLAYED = "idempotent-replayed"


@pytest.fixture(params=SOURCES)
def source(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


def keyed(
    event: MakeEvent, name: str, key: str, *, body: Any = None, api_key: str = "sr_test_key"
) -> dict[str, Any]:
    headers = {"idempotency-key": key, "authorization": f"Bearer {api_key}"}
    if body is None:
        return event(name, headers=headers)
    return event(name, headers=headers, body=body)


def params_of(event: MakeEvent, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(event(name)["body"])
    return data


def without_replayed(headers: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k != REPLAYED}


# -- replay ---------------------------------------------------------------------------------


def test_same_key_and_body_replays_the_first_answer_and_sends_once(
    source: str,
    make_runtime: MakeRuntime,
    event: MakeEvent,
    scf_context: MakeContext,
    emulator: EmulatorServer,
) -> None:
    runtime = make_runtime()
    sample = keyed(event, f"{source}_post-emails", "order-1001")

    first = runtime.handle(sample, scf_context("req-1"))
    second = runtime.handle(sample, scf_context("req-2"))

    assert first["statusCode"] == 202, first
    assert REPLAYED not in first["headers"]
    assert second["statusCode"] == first["statusCode"]
    assert second["body"] == first["body"]
    assert second["headers"][REPLAYED] == "true"
    assert without_replayed(second["headers"]) == first["headers"]
    assert set(second) == set(first)
    assert len(emulator.outbox()) == 1
    assert emulator.call_counts()["SendEmail"] == 1


def test_batch_task_replay_creates_no_second_task(
    source: str,
    make_runtime: MakeRuntime,
    event: MakeEvent,
    scf_context: MakeContext,
    emulator: EmulatorServer,
) -> None:
    runtime = make_runtime()
    sample = keyed(event, f"{source}_post-batch-tasks", "campaign-2026-03")
    first = runtime.handle(sample, scf_context())
    second = runtime.handle(sample, scf_context())
    assert first["statusCode"] == 202
    assert second["headers"][REPLAYED] == "true"
    assert second["body"] == first["body"]
    assert len(emulator.outbox()) == 3
    assert emulator.call_counts()["BatchSendEmail"] == 1


def test_replay_answers_in_the_shape_of_the_repeat(
    make_runtime: MakeRuntime, event: MakeEvent, scf_context: MakeContext, emulator: EmulatorServer
) -> None:
    """The same request through the function URL, then through API Gateway: one send."""
    runtime = make_runtime()
    first = runtime.handle(keyed(event, "http_post-emails", "order-shape"), scf_context())
    second = runtime.handle(keyed(event, "apigw_post-emails", "order-shape"), scf_context())
    assert "isBase64Encoded" not in first
    assert second["isBase64Encoded"] is False
    assert second["headers"][REPLAYED] == "true"
    assert second["body"] == first["body"]
    assert len(emulator.outbox()) == 1


def test_the_same_json_written_differently_is_the_same_body(
    source: str, make_runtime: MakeRuntime, event: MakeEvent, emulator: EmulatorServer
) -> None:
    runtime = make_runtime()
    params = params_of(event, f"{source}_post-emails")
    compact = json.dumps(params, separators=(",", ":"))
    reordered = json.dumps(dict(reversed(list(params.items()))), indent=4)
    first = runtime.handle(keyed(event, f"{source}_post-emails", "fmt-1", body=compact), {})
    second = runtime.handle(keyed(event, f"{source}_post-emails", "fmt-1", body=reordered), {})
    assert first["statusCode"] == 202
    assert second["headers"][REPLAYED] == "true"
    assert len(emulator.outbox()) == 1


def test_a_key_of_256_printable_characters_is_accepted(
    source: str, make_runtime: MakeRuntime, event: MakeEvent, emulator: EmulatorServer
) -> None:
    key = ("a-Z_0.9~ !#$%&'()*+,/:;<=>?@[]^`{|}" * 8)[:256]
    assert len(key) == 256
    runtime = make_runtime()
    first = runtime.handle(keyed(event, f"{source}_post-emails", key), {})
    second = runtime.handle(keyed(event, f"{source}_post-emails", key), {})
    assert first["statusCode"] == 202, first
    assert second["headers"][REPLAYED] == "true"
    assert len(emulator.outbox()) == 1


def test_replays_last_24_hours(
    make_runtime: MakeRuntime, event: MakeEvent, emulator: EmulatorServer
) -> None:
    store_clock = ManualClock(SystemClock().now())
    runtime = make_runtime(state=MemoryStateStore(store_clock))
    sample = keyed(event, "http_post-emails", "order-ttl")

    assert runtime.handle(sample, {})["statusCode"] == 202
    store_clock.advance(timedelta(hours=23, minutes=59).total_seconds())
    assert runtime.handle(sample, {})["headers"][REPLAYED] == "true"
    assert len(emulator.outbox()) == 1

    store_clock.advance(timedelta(minutes=2).total_seconds())
    later = runtime.handle(sample, {})
    assert later["statusCode"] == 202
    assert REPLAYED not in later["headers"]
    assert len(emulator.outbox()) == 2


# -- reuse and concurrency -----------------------------------------------------------------


def test_same_key_with_another_body_is_409_idempotency_key_reused(
    source: str,
    make_runtime: MakeRuntime,
    event: MakeEvent,
    scf_context: MakeContext,
    problem: ProblemOf,
    emulator: EmulatorServer,
) -> None:
    runtime = make_runtime()
    first = runtime.handle(keyed(event, f"{source}_post-emails", "order-77"), scf_context())
    assert first["statusCode"] == 202

    changed = params_of(event, f"{source}_post-emails")
    changed["Destination"] = ["ben@example.org"]
    reply = runtime.handle(
        keyed(event, f"{source}_post-emails", "order-77", body=changed), scf_context("req-reuse")
    )
    body = problem(reply, 409, "idempotency_key_reused")
    assert body["request_id"] == "req-reuse"
    assert REPLAYED not in reply["headers"]
    assert "ben@example.org" not in reply["body"]
    assert [m["to"] for m in emulator.outbox()] == ["ana@example.org"]
    assert emulator.call_counts()["SendEmail"] == 1


def test_same_key_while_the_first_runs_is_409_in_progress_with_retry_after(
    source: str,
    make_runtime: MakeRuntime,
    event: MakeEvent,
    scf_context: MakeContext,
    problem: ProblemOf,
    emulator: EmulatorServer,
) -> None:
    runtime = make_runtime()
    sample = keyed(event, f"{source}_post-emails", "order-slow")
    emulator.inject_fault("SendEmail", "delay", seconds=0.6)
    results: list[dict[str, Any]] = []
    worker = threading.Thread(target=lambda: results.append(runtime.handle(sample, {})))
    worker.start()
    try:
        give_up = time.monotonic() + 5
        while emulator.call_counts().get("SendEmail", 0) == 0 and time.monotonic() < give_up:
            time.sleep(0.01)
        assert emulator.call_counts().get("SendEmail", 0) == 1  # the first is at SES now
        reply = runtime.handle(sample, scf_context("req-second"))
    finally:
        worker.join(timeout=10)
    problem(reply, 409, "idempotency_in_progress")
    assert int(reply["headers"]["retry-after"]) >= 1

    [first] = results
    assert first["statusCode"] == 202, first
    third = runtime.handle(sample, {})
    assert third["headers"][REPLAYED] == "true"
    assert third["body"] == first["body"]
    assert len(emulator.outbox()) == 1


# -- freed and kept keys ------------------------------------------------------------------


def test_a_final_ses_refusal_frees_the_key(
    source: str,
    make_runtime: MakeRuntime,
    event: MakeEvent,
    scf_context: MakeContext,
    problem: ProblemOf,
    emulator: EmulatorServer,
) -> None:
    runtime = make_runtime()
    name = f"{source}_post-batch-tasks"
    wrong = {**params_of(event, name), "ReceiverId": 999999}

    refused = runtime.handle(keyed(event, name, "batch-fix-me", body=wrong), scf_context())
    problem(refused, 409, "OperationDenied.ReceiverNotExist")
    # The same request again really runs again (SES refuses again): nothing was stored.
    again = runtime.handle(keyed(event, name, "batch-fix-me", body=wrong), scf_context())
    problem(again, 409, "OperationDenied.ReceiverNotExist")
    assert REPLAYED not in again["headers"]
    assert emulator.call_counts()["BatchSendEmail"] == 2

    # The corrected request (another body) may use the same key: the key was freed.
    fixed = runtime.handle(keyed(event, name, "batch-fix-me"), scf_context())
    assert fixed["statusCode"] == 202, fixed
    assert REPLAYED not in fixed["headers"]
    assert len(emulator.outbox()) == 3
    # ...and from now on the key belongs to the corrected request.
    replay = runtime.handle(keyed(event, name, "batch-fix-me"), scf_context())
    assert replay["headers"][REPLAYED] == "true"
    reused = runtime.handle(keyed(event, name, "batch-fix-me", body=wrong), scf_context())
    problem(reused, 409, "idempotency_key_reused")
    assert emulator.call_counts()["BatchSendEmail"] == 3


def test_a_retryable_failure_frees_the_key(
    source: str,
    make_runtime: MakeRuntime,
    event: MakeEvent,
    problem: ProblemOf,
    emulator: EmulatorServer,
) -> None:
    runtime = make_runtime()
    sample = keyed(event, f"{source}_post-emails", "order-throttled")
    emulator.inject_fault("SendEmail", "error", count=3, code="RequestLimitExceeded")
    problem(runtime.handle(sample, {}), 429, "RequestLimitExceeded")
    assert emulator.outbox() == []

    retry = runtime.handle(sample, {})
    assert retry["statusCode"] == 202, retry
    assert REPLAYED not in retry["headers"]
    assert len(emulator.outbox()) == 1


def test_validation_errors_never_claim_the_key(
    source: str,
    make_runtime: MakeRuntime,
    event: MakeEvent,
    problem: ProblemOf,
    emulator: EmulatorServer,
) -> None:
    runtime = make_runtime()
    name = f"{source}_post-emails"
    invalid = {**params_of(event, name), "Subject": ""}
    problem(
        runtime.handle(keyed(event, name, "order-422", body=invalid), {}), 422, "validation_error"
    )
    ok = runtime.handle(keyed(event, name, "order-422"), {})
    assert ok["statusCode"] == 202, ok
    assert len(emulator.outbox()) == 1


def test_an_ambiguous_failure_keeps_the_key_and_never_sends_twice(
    source: str,
    make_runtime: MakeRuntime,
    event: MakeEvent,
    scf_context: MakeContext,
    problem: ProblemOf,
    emulator: EmulatorServer,
) -> None:
    runtime = make_runtime()
    sample = keyed(event, f"{source}_post-batch-tasks", "batch-lost-reply")
    emulator.inject_fault("BatchSendEmail", "drop_after")

    first = runtime.handle(sample, scf_context("req-a"))
    problem(first, 502, "upstream_outcome_unknown")
    assert len(emulator.outbox()) == 3  # SES did act: the reply was lost on the way back
    assert emulator.call_counts()["BatchSendEmail"] == 1

    retry = runtime.handle(sample, scf_context("req-b"))
    assert retry["statusCode"] == 502
    assert retry["headers"][REPLAYED] == "true"
    assert retry["body"] == first["body"]
    assert len(emulator.outbox()) == 3
    assert emulator.call_counts()["BatchSendEmail"] == 1

    # A different body under the kept key is still refused, not sent.
    changed = {**params_of(event, f"{source}_post-batch-tasks"), "Subject": "Second try"}
    reused = runtime.handle(
        keyed(event, f"{source}_post-batch-tasks", "batch-lost-reply", body=changed), {}
    )
    problem(reused, 409, "idempotency_key_reused")
    assert emulator.call_counts()["BatchSendEmail"] == 1


def test_an_ambiguous_failure_without_a_key_is_still_502(
    source: str,
    make_runtime: MakeRuntime,
    event: MakeEvent,
    problem: ProblemOf,
    emulator: EmulatorServer,
) -> None:
    emulator.inject_fault("SendEmail", "drop_after")
    problem(
        make_runtime().handle(event(f"{source}_post-emails"), {}), 502, "upstream_outcome_unknown"
    )
    assert len(emulator.outbox()) == 1
    assert emulator.call_counts()["SendEmail"] == 1


class _ForgetfulStore(MemoryStateStore):
    """A store that claims fine but fails to record the answer (Redis gone mid-invocation)."""

    def put(self, key: str, value: str, ttl_seconds: float) -> StateRecord:
        raise StateStoreError("state store unreachable while recording the answer")


def test_a_send_that_happened_is_never_reported_as_retryable(
    source: str, make_runtime: MakeRuntime, event: MakeEvent, emulator: EmulatorServer
) -> None:
    """SES accepted the mail; only recording the answer failed. A 503 + Retry-After would invite
    the client to send again (the claim expires in seconds): the caller must get the 202."""
    runtime = make_runtime(state=_ForgetfulStore(SystemClock()))
    reply = runtime.handle(keyed(event, f"{source}_post-emails", "order-store-down"), {})
    [mail] = emulator.outbox()
    assert reply["statusCode"] == 202, reply
    assert json.loads(reply["body"])["MessageId"] == mail["message_id"]


# -- scopes ---------------------------------------------------------------------------------


def test_keys_are_scoped_per_api_key(
    source: str, make_runtime: MakeRuntime, event: MakeEvent, emulator: EmulatorServer
) -> None:
    other_key = "sr_second_tenant_key"
    runtime = make_runtime(
        api_key_sha256=[
            hashlib.sha256(b"sr_test_key").hexdigest(),
            hashlib.sha256(other_key.encode()).hexdigest(),
        ]
    )
    name = f"{source}_post-emails"
    first = runtime.handle(keyed(event, name, "shared-key-1"), {})
    second = runtime.handle(keyed(event, name, "shared-key-1", api_key=other_key), {})
    assert first["statusCode"] == 202
    assert second["statusCode"] == 202
    assert REPLAYED not in second["headers"]
    assert first["body"] != second["body"]
    assert len(emulator.outbox()) == 2
    # Each tenant still gets its own replay.
    again = runtime.handle(keyed(event, name, "shared-key-1", api_key=other_key), {})
    assert again["headers"][REPLAYED] == "true"
    assert again["body"] == second["body"]
    assert len(emulator.outbox()) == 2


def test_keys_are_scoped_per_route(
    source: str, make_runtime: MakeRuntime, event: MakeEvent, emulator: EmulatorServer
) -> None:
    runtime = make_runtime()
    one = runtime.handle(keyed(event, f"{source}_post-emails", "same-key-both-routes"), {})
    two = runtime.handle(keyed(event, f"{source}_post-batch-tasks", "same-key-both-routes"), {})
    assert one["statusCode"] == 202
    assert two["statusCode"] == 202, two
    assert REPLAYED not in two["headers"]
    assert len(emulator.outbox()) == 4
