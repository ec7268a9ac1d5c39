"""Send-once per key (timer ticks, webhook deliveries) on its own, over the memory state store and
a manual clock: duplicates, kept and freed keys, and every step of the key's record (claimed as
"calling SES", settled, freed), including runs that vanish and holders that outlive their lease."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from sesrelay.adapters.state_memory import MemoryStateStore
from sesrelay.clock import Deadline, ManualClock
from sesrelay.errors import Outcome, RelayError, SesError
from sesrelay.sending.keyrecord import CALLING, Found, Hold, KeyRecord
from sesrelay.sending.once import CLAIM_MARGIN_SECONDS, SendOnce
from sesrelay.sending.outcome import IdempotencyInProgress, SendKind, SendOutcome
from sesrelay.state import StateRecord, StateStoreError
from tests.fake_stores import ScriptedStore

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
    return guard.run(store, clock, Deadline(clock, 10), execute, answer)


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
    assert run(store, clock, send) == ("answered", "sent")
    assert send.runs == 2


def test_a_relay_error_before_ses_frees_the_key(
    store: MemoryStateStore, clock: ManualClock
) -> None:
    refused = SendOutcome(SendKind.REFUSED, error=RelayError("no keys", code="ses_not_configured"))
    send = Sender(refused)
    run(store, clock, send)
    assert run(store, clock, send) == ("answered", "sent")


def state_of(store: MemoryStateStore) -> str:
    record = store.get(KEY)
    assert record is not None
    return str(json.loads(record.value)["state"])


def test_the_key_reads_calling_ses_while_ses_is_called(
    store: MemoryStateStore, clock: ManualClock
) -> None:
    seen: list[str] = []

    def execute() -> SendOutcome:
        seen.append(state_of(store))
        return SendOutcome(SendKind.SENT, result={"RequestId": "r1"})

    run(store, clock, execute)
    assert seen == ["calling"]
    assert state_of(store) == "sent"


def test_a_run_that_died_calling_ses_is_in_progress_then_outcome_unknown_for_good(
    store: MemoryStateStore, clock: ManualClock
) -> None:
    def crash() -> SendOutcome:
        raise RuntimeError("instance died mid-send")

    with pytest.raises(RuntimeError):
        run(store, clock, crash)
    send = Sender()
    with pytest.raises(IdempotencyInProgress, match="this delivery is being handled"):
        run(store, clock, send)
    clock.advance(10 + CLAIM_MARGIN_SECONDS)  # its lease is over: the holder is gone
    assert run(store, clock, send) == ("duplicate", "outcome_unknown")
    clock.advance(REMEMBER - 60)
    assert run(store, clock, send) == ("duplicate", "outcome_unknown")
    assert send.runs == 0
    record = store.get(KEY)
    assert record is not None
    assert json.loads(record.value) == {
        "state": "outcome_unknown",
        "code": "upstream_outcome_unknown",
    }


def test_a_claim_that_never_reached_ses_runs_again_once_its_lease_is_over(
    store: MemoryStateStore, clock: ManualClock
) -> None:
    # "claimed", not "calling SES": a campaign's claim, or one an earlier release left.
    assert isinstance(KeyRecord(store, clock, KEY, REMEMBER).acquire({}, 10), Hold)
    send = Sender()
    with pytest.raises(IdempotencyInProgress):
        run(store, clock, send)
    clock.advance(10)
    assert run(store, clock, send) == ("answered", "sent")
    assert run(store, clock, send) == ("duplicate", "sent")
    assert send.runs == 1


@pytest.mark.parametrize("step", ["fail", "lost"])
def test_the_store_failing_at_the_claim_sends_nothing_and_frees_the_key(
    clock: ManualClock, step: str
) -> None:
    store = ScriptedStore(clock, step)
    send = Sender()
    with pytest.raises(StateStoreError):
        run(store, clock, send)
    assert send.runs == 0
    # The failed run freed its claim, whether or not the write happened: no "maybe sent".
    assert run(store, clock, send) == ("answered", "sent")
    assert run(store, clock, send) == ("duplicate", "sent")
    assert send.runs == 1


def test_a_claim_the_store_wrote_but_could_not_free_is_outcome_unknown_never_a_send(
    clock: ManualClock,
) -> None:
    """It says "calling SES", so once its lease is over it cannot be told from a run that died
    mid-call: a needless "unknown" rather than a risk of sending twice."""
    store = ScriptedStore(clock, "lost", "fail")  # the claim's reply lost, then freeing it fails
    send = Sender()
    with pytest.raises(StateStoreError):
        run(store, clock, send)
    with pytest.raises(IdempotencyInProgress):
        run(store, clock, send)
    clock.advance(10 + CLAIM_MARGIN_SECONDS)
    assert run(store, clock, send) == ("duplicate", "outcome_unknown")
    assert send.runs == 0


def test_a_send_writes_the_key_once_before_ses_is_called(clock: ManualClock) -> None:
    store = ScriptedStore(clock)
    writes: list[int] = []

    def execute() -> SendOutcome:
        writes.append(store.writes)
        return SendOutcome(SendKind.SENT, result={"RequestId": "r1"})

    assert run(store, clock, execute) == ("answered", "sent")
    assert writes == [1]  # the claim is the "calling SES" record
    assert store.writes == 2  # then how it ended


class PausingStore(MemoryStateStore):
    """The run pauses right after its claim (a frozen instance) until its lease is over, while
    `meanwhile` (if given) runs."""

    def __init__(self, clock: ManualClock) -> None:
        super().__init__(clock)
        self.manual = clock
        self.pauses = True
        self.meanwhile: Callable[[], object] | None = None

    def claim(self, key: str, value: str, ttl_seconds: float) -> StateRecord | None:
        taken = super().claim(key, value, ttl_seconds)
        if taken is None and self.pauses:  # only the paused run's own claim
            self.pauses = False
            self.manual.advance(10 + CLAIM_MARGIN_SECONDS)
            if self.meanwhile is not None:
                self.meanwhile()
        return taken


def test_a_holder_whose_lease_ran_out_does_not_call_ses_and_frees_the_key(
    clock: ManualClock,
) -> None:
    store = PausingStore(clock)
    send = Sender()
    with pytest.raises(IdempotencyInProgress):
        run(store, clock, send)
    assert send.runs == 0
    assert state_of(store) == "free"  # nothing sent: the next run sends
    assert run(store, clock, send) == ("answered", "sent")
    assert send.runs == 1


def test_a_late_holder_leaves_alone_what_another_run_recorded_meanwhile(
    clock: ManualClock,
) -> None:
    """Its claim said "calling SES" and its lease was over: another run read it as outcome
    unknown. The late holder then neither calls SES nor frees the key."""
    send = Sender()
    meanwhile: list[Reply] = []
    paused = PausingStore(clock)
    paused.meanwhile = lambda: meanwhile.append(run(paused, clock, send))
    with pytest.raises(IdempotencyInProgress):
        run(paused, clock, send)
    assert meanwhile == [("duplicate", "outcome_unknown")]
    assert state_of(paused) == "outcome_unknown"
    assert run(paused, clock, send) == ("duplicate", "outcome_unknown")
    assert send.runs == 0


def test_a_stale_holder_cannot_overwrite_a_newer_claim(
    store: MemoryStateStore, clock: ManualClock
) -> None:
    record = KeyRecord(store, clock, KEY, REMEMBER)
    stale = record.acquire({}, 10)
    assert isinstance(stale, Hold)
    clock.advance(10)
    newer = record.acquire({}, 10)
    assert isinstance(newer, Hold)
    assert newer.version > stale.version
    assert not record.settle(stale.version, {"state": "sent"})
    assert not record.free(stale.version)
    # ...nor once the newer run freed the key and a third took it: versions only go up.
    assert record.free(newer.version)
    third = record.acquire({}, 10)
    assert isinstance(third, Hold)
    assert not record.settle(stale.version, {"state": "sent"})
    assert not record.free(stale.version)
    current = store.get(KEY)
    assert current is not None
    assert json.loads(current.value)["token"] == third.token


def test_a_calling_claim_is_never_taken_over_and_its_stale_holder_cannot_overwrite_the_unknown(
    store: MemoryStateStore, clock: ManualClock
) -> None:
    record = KeyRecord(store, clock, KEY, REMEMBER)
    stale = record.acquire({}, 10, CALLING)
    assert isinstance(stale, Hold)
    clock.advance(10)
    found = record.acquire({}, 10, CALLING)
    assert isinstance(found, Found)  # SES may have sent: nobody claims it again
    assert found.lost
    assert run(store, clock, Sender()) == ("duplicate", "outcome_unknown")
    assert not record.settle(stale.version, {"state": "sent"})
    assert not record.free(stale.version)
    assert state_of(store) == "outcome_unknown"


@pytest.mark.parametrize(
    "kind",
    [SendKind.SENT, SendKind.OUTCOME_UNKNOWN, SendKind.RETRY_LATER, SendKind.REFUSED],
)
def test_a_store_failure_after_ses_answered_never_changes_the_answer(
    clock: ManualClock, kind: SendKind
) -> None:
    """Reporting the store failure instead (retry later) would invite a retry that sends twice.
    The key keeps saying "calling SES": in progress during the lease, then outcome unknown."""
    store = ScriptedStore(clock, "ok", "fail")  # claims, then cannot record how the send ended
    send = Sender() if kind is SendKind.SENT else Sender(failure(kind))
    assert run(store, clock, send) == ("answered", kind.value)
    with pytest.raises(IdempotencyInProgress):
        run(store, clock, send)
    clock.advance(10 + CLAIM_MARGIN_SECONDS)
    assert run(store, clock, send) == ("duplicate", "outcome_unknown")
    assert send.runs == 1


def test_the_state_store_down_raises_before_anything_is_sent(clock: ManualClock) -> None:
    store = MemoryStateStore(clock)
    store.close()
    send = Sender()
    with pytest.raises(StateStoreError):
        run(store, clock, send)
    assert send.runs == 0
