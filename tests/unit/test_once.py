"""Send-once per key (timer ticks, webhook deliveries) on its own, over the memory state store and
a manual clock: duplicates, kept and freed keys, in-progress claims and their expiry."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from sesrelay.adapters.state_memory import MemoryStateStore
from sesrelay.clock import Deadline, ManualClock
from sesrelay.errors import Outcome, RelayError, SesError
from sesrelay.sending.once import CLAIM_MARGIN_SECONDS, SendOnce
from sesrelay.sending.outcome import IdempotencyInProgress, SendKind, SendOutcome
from sesrelay.state import StateRecord, StateStoreError

KEY = "webhook:github-releases:abc"
REMEMBER = 3600.0

Reply = tuple[str, str]


class Sender:
    """An `execute` that returns the queued outcomes, then SENT, counting its runs."""

    def __init__(self, *outcomes: SendOutcome) -> None:
        self.outcomes = list(outcomes)
        self.runs = 0

    def __call__(self) -> SendOutcome:
        self.runs += 1
        if self.outcomes:
            return self.outcomes.pop(0)
        return SendOutcome(SendKind.SENT, result={"RequestId": f"r{self.runs}"})


def failure(kind: SendKind, code: str = "InternalError") -> SendOutcome:
    outcome = {
        SendKind.OUTCOME_UNKNOWN: Outcome.OUTCOME_UNKNOWN,
        SendKind.RETRY_LATER: Outcome.RETRYABLE,
    }.get(kind, Outcome.FINAL)
    return SendOutcome(kind, error=SesError(code, "injected", outcome=outcome))


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def store(clock: ManualClock) -> MemoryStateStore:
    return MemoryStateStore(clock)


def answer(outcome: SendOutcome) -> Reply:
    return ("answered", outcome.kind.value)


def run(store: MemoryStateStore, clock: ManualClock, execute: Callable[[], SendOutcome]) -> Reply:
    guard: SendOnce[Reply] = SendOnce(
        KEY,
        remember_seconds=REMEMBER,
        duplicate=lambda first: ("duplicate", first),
        busy="this delivery is being handled",
    )
    return guard.run(store, Deadline(clock, 10), execute, answer)


def test_a_sent_key_answers_duplicate_until_it_is_forgotten(
    store: MemoryStateStore, clock: ManualClock
) -> None:
    send = Sender()
    assert run(store, clock, send) == ("answered", "sent")
    clock.advance(REMEMBER - 1)
    assert run(store, clock, send) == ("duplicate", "sent")
    assert send.runs == 1
    clock.advance(2)
    assert run(store, clock, send) == ("answered", "sent")
    assert send.runs == 2


def test_outcome_unknown_is_remembered_with_its_code_and_never_sent_again(
    store: MemoryStateStore, clock: ManualClock
) -> None:
    send = Sender(failure(SendKind.OUTCOME_UNKNOWN, "ClientNetworkError"))
    assert run(store, clock, send) == ("answered", "outcome_unknown")
    assert run(store, clock, send) == ("duplicate", "outcome_unknown")
    assert send.runs == 1
    record = store.get(KEY)
    assert record is not None
    assert json.loads(record.value) == {"state": "outcome_unknown", "code": "ClientNetworkError"}


@pytest.mark.parametrize("kind", [SendKind.REFUSED, SendKind.RETRY_LATER])
def test_a_failure_ses_did_not_act_on_frees_the_key(
    kind: SendKind, store: MemoryStateStore, clock: ManualClock
) -> None:
    send = Sender(failure(kind))
    assert run(store, clock, send) == ("answered", kind.value)
    assert store.get(KEY) is None
    assert run(store, clock, send) == ("answered", "sent")
    assert send.runs == 2


def test_a_relay_error_before_ses_frees_the_key(
    store: MemoryStateStore, clock: ManualClock
) -> None:
    refused = SendOutcome(SendKind.REFUSED, error=RelayError("no keys", code="ses_not_configured"))
    send = Sender(refused)
    run(store, clock, send)
    assert run(store, clock, send) == ("answered", "sent")


def test_a_key_still_claimed_is_in_progress_until_the_claim_expires(
    store: MemoryStateStore, clock: ManualClock
) -> None:
    def crash() -> SendOutcome:
        raise RuntimeError("instance died mid-send")

    with pytest.raises(RuntimeError):
        run(store, clock, crash)
    send = Sender()
    with pytest.raises(IdempotencyInProgress, match="this delivery is being handled"):
        run(store, clock, send)
    assert send.runs == 0
    clock.advance(10 + CLAIM_MARGIN_SECONDS)
    assert run(store, clock, send) == ("answered", "sent")


class ForgetfulStore(MemoryStateStore):
    """Claims fine, then cannot record (the backend went away after SES answered)."""

    def put(self, key: str, value: str, ttl_seconds: float) -> StateRecord:
        raise StateStoreError("gone")


def test_a_sent_mail_is_reported_sent_even_if_it_cannot_be_recorded(clock: ManualClock) -> None:
    store = ForgetfulStore(clock)
    send = Sender()
    assert run(store, clock, send) == ("answered", "sent")
    # ...and the claim still blocks a redelivery for as long as the invocation could run.
    with pytest.raises(IdempotencyInProgress):
        run(store, clock, send)
    assert send.runs == 1


class DeafStore(ForgetfulStore):
    """Cannot record nor free anything once SES has answered."""

    def delete(self, key: str, expected_version: int | None = None) -> bool:
        raise StateStoreError("gone")


@pytest.mark.parametrize("kind", [SendKind.OUTCOME_UNKNOWN, SendKind.RETRY_LATER, SendKind.REFUSED])
def test_a_store_failure_after_ses_answered_never_changes_the_answer(
    clock: ManualClock, kind: SendKind
) -> None:
    """Reporting the store failure instead (retry later) would invite a retry that sends twice."""
    store = DeafStore(clock)
    send = Sender(failure(kind))
    assert run(store, clock, send) == ("answered", kind.value)
    with pytest.raises(IdempotencyInProgress):  # the claim still holds the key
        run(store, clock, send)
    assert send.runs == 1


def test_the_state_store_down_raises_before_anything_is_sent(clock: ManualClock) -> None:
    store = MemoryStateStore(clock)
    store.close()
    send = Sender()
    with pytest.raises(StateStoreError):
        run(store, clock, send)
    assert send.runs == 0
