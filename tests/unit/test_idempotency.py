"""The Idempotency-Key protocol on its own, over the memory state store and a manual clock:
replays, reuse, in-progress, freed and kept keys, expiry, scopes, key syntax, and a send whose
claim (its "calling SES" record) failed, outlived its lease, or whose run vanished mid-call."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from sesrelay.adapters.state_memory import MemoryStateStore
from sesrelay.clock import Deadline, ManualClock
from sesrelay.errors import RelayError
from sesrelay.events import HttpResponse
from sesrelay.sending.idempotency import (
    CLAIM_MARGIN_SECONDS,
    REPLAY_TTL_SECONDS,
    Idempotency,
    IdempotencyGuard,
    IdempotencyKeyReused,
    InvalidIdempotencyKey,
    check_key,
    fingerprint,
    key_hash,
)
from sesrelay.sending.outcome import IdempotencyInProgress, SendKind, SendOutcome
from sesrelay.state import StateRecord, StateStoreError
from tests.fake_stores import ScriptedStore

Action = Callable[[], HttpResponse]


class Counter:
    """An action that answers 202 with its run number (or `status` when told)."""

    def __init__(self, status: int = 202) -> None:
        self.runs = 0
        self.status = status

    def __call__(self) -> HttpResponse:
        self.runs += 1
        return HttpResponse(self.status, json.dumps({"run": self.runs}), {"x-run": "yes"})


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def store(clock: ManualClock) -> MemoryStateStore:
    return MemoryStateStore(clock)


def run(
    store: MemoryStateStore,
    clock: ManualClock,
    action: Action,
    *,
    fp: str = "fp-1",
    scope: str = "tenant:SendEmail",
    keep: Callable[[HttpResponse], bool] = lambda r: r.status < 300,
) -> HttpResponse:
    return Idempotency(store, clock).run(
        scope=scope,
        key="order-1",
        fingerprint=fp,
        deadline=Deadline(clock, 10),
        action=action,
        keep=keep,
    )


def test_the_first_answer_is_replayed_for_24_hours_with_the_replayed_header(
    store: MemoryStateStore, clock: ManualClock
) -> None:
    action = Counter()
    first = run(store, clock, action)
    clock.advance(REPLAY_TTL_SECONDS - 1)
    again = run(store, clock, action)
    assert action.runs == 1
    assert (again.status, again.body) == (first.status, first.body)
    assert again.headers == {**first.headers, "idempotent-replayed": "true"}
    assert "idempotent-replayed" not in first.headers

    clock.advance(2)
    later = run(store, clock, action)
    assert action.runs == 2
    assert "idempotent-replayed" not in later.headers


def test_another_body_under_the_same_key_is_refused(
    store: MemoryStateStore, clock: ManualClock
) -> None:
    action = Counter()
    run(store, clock, action)
    with pytest.raises(IdempotencyKeyReused):
        run(store, clock, action, fp="fp-other")
    assert action.runs == 1


def test_a_repeat_while_the_first_runs_is_in_progress(
    store: MemoryStateStore, clock: ManualClock
) -> None:
    seen: list[Exception] = []

    def first() -> HttpResponse:
        try:
            run(store, clock, Counter())
        except IdempotencyInProgress as error:
            seen.append(error)
        return HttpResponse(202, "{}")

    run(store, clock, first)
    assert len(seen) == 1


def test_a_key_is_scoped(store: MemoryStateStore, clock: ManualClock) -> None:
    action = Counter()
    run(store, clock, action, scope="tenant-a:SendEmail")
    run(store, clock, action, scope="tenant-b:SendEmail")
    assert action.runs == 2


def test_an_answer_not_kept_frees_the_key_for_another_body(
    store: MemoryStateStore, clock: ManualClock
) -> None:
    refused = Counter(status=422)
    assert run(store, clock, refused).status == 422
    fixed = Counter()
    assert run(store, clock, fixed, fp="fp-fixed").status == 202
    assert fixed.runs == 1


def test_a_relay_error_frees_the_key_and_is_raised(
    store: MemoryStateStore, clock: ManualClock
) -> None:
    def failing() -> HttpResponse:
        raise RelayError("no credentials", code="ses_not_configured")

    with pytest.raises(RelayError, match="no credentials"):
        run(store, clock, failing)
    action = Counter()
    run(store, clock, action)
    assert action.runs == 1


def test_a_crashed_campaign_run_blocks_the_key_only_until_its_claim_expires(
    store: MemoryStateStore, clock: ManualClock
) -> None:
    def crash() -> HttpResponse:
        raise RuntimeError("instance died")

    with pytest.raises(RuntimeError):
        run(store, clock, crash)
    with pytest.raises(IdempotencyInProgress):
        run(store, clock, Counter())
    clock.advance(10 + CLAIM_MARGIN_SECONDS)
    assert run(store, clock, Counter()).status == 202


class ForgetfulStore(MemoryStateStore):
    """Claims fine, then cannot record the answer (Redis gone mid-invocation)."""

    def compare_and_set(
        self, key: str, expected_version: int, value: str, ttl_seconds: float
    ) -> StateRecord | None:
        raise StateStoreError("gone")


def test_an_answer_that_cannot_be_recorded_is_still_given(clock: ManualClock) -> None:
    store = ForgetfulStore(clock)
    assert run(store, clock, Counter()).status == 202


@pytest.mark.parametrize(
    ("kind", "kept"),
    [
        (SendKind.SENT, True),
        (SendKind.OUTCOME_UNKNOWN, True),
        (SendKind.REFUSED, False),
        (SendKind.RETRY_LATER, False),
    ],
)
def test_the_guard_keeps_the_key_exactly_when_ses_acted_or_may_have(
    kind: SendKind, kept: bool, store: MemoryStateStore, clock: ManualClock
) -> None:
    outcome = SendOutcome(kind, error=None if kind is SendKind.SENT else RelayError("x"))
    executed: list[SendKind] = []

    def execute() -> SendOutcome:
        executed.append(kind)
        return outcome

    def answer(o: SendOutcome) -> HttpResponse:
        return HttpResponse(202 if o.kind is SendKind.SENT else 502, o.kind.value)

    guard = IdempotencyGuard(scope="t:SendEmail", key="k", fingerprint="fp")
    first = guard.run(store, clock, Deadline(clock, 10), execute, answer)
    again = guard.run(store, clock, Deadline(clock, 10), execute, answer)
    assert first.body == kind.value
    assert ("idempotent-replayed" in again.headers) is kept
    assert len(executed) == (1 if kept else 2)


# -- a send's key: claimed as "calling SES" -> its answer ----------------------------------------


def problem_answer(outcome: SendOutcome) -> HttpResponse:
    if outcome.kind is SendKind.SENT:
        return HttpResponse(202, json.dumps(outcome.result))
    return HttpResponse(502, json.dumps({"code": outcome.failure.code}))


class Sends:
    """An `execute` that counts its calls and sends, or dies mid-call when told."""

    def __init__(self, *, dies: bool = False) -> None:
        self.calls = 0
        self.dies = dies

    def __call__(self) -> SendOutcome:
        self.calls += 1
        if self.dies:
            raise RuntimeError("instance killed while SES was being called")
        return SendOutcome(SendKind.SENT, result={"MessageId": f"m{self.calls}"})


def send(
    store: MemoryStateStore, clock: ManualClock, execute: Sends, fp: str = "fp"
) -> HttpResponse:
    guard = IdempotencyGuard(scope="t:SendEmail", key="k", fingerprint=fp)
    return guard.run(store, clock, Deadline(clock, 10), execute, problem_answer)


def test_a_send_that_died_calling_ses_is_in_progress_then_a_replayed_502_for_24_hours(
    store: MemoryStateStore, clock: ManualClock
) -> None:
    with pytest.raises(RuntimeError):
        send(store, clock, Sends(dies=True))
    retry = Sends()
    with pytest.raises(IdempotencyInProgress):
        send(store, clock, retry)
    clock.advance(10 + CLAIM_MARGIN_SECONDS)  # the lease is over: the holder is gone
    first = send(store, clock, retry)
    assert first.status == 502
    assert json.loads(first.body) == {"code": "upstream_outcome_unknown"}
    assert first.headers["idempotent-replayed"] == "true"
    clock.advance(REPLAY_TTL_SECONDS - 60)
    again = send(store, clock, retry)
    assert (again.status, again.body, again.headers) == (first.status, first.body, first.headers)
    with pytest.raises(IdempotencyKeyReused):
        send(store, clock, retry, fp="another body")
    assert retry.calls == 0


def test_a_claim_the_store_wrote_but_could_not_free_is_a_replayed_502_never_a_send(
    clock: ManualClock,
) -> None:
    """It says "calling SES", so once its lease is over it cannot be told from a send that died
    mid-call: a needless "unknown" rather than a risk of sending twice."""
    store = ScriptedStore(clock, "lost", "fail")  # the claim's reply lost, then freeing it fails
    first = Sends()
    with pytest.raises(StateStoreError):
        send(store, clock, first)
    retry = Sends()
    with pytest.raises(IdempotencyInProgress):
        send(store, clock, retry)
    clock.advance(10 + CLAIM_MARGIN_SECONDS)
    reply = send(store, clock, retry)
    assert (reply.status, json.loads(reply.body)) == (502, {"code": "upstream_outcome_unknown"})
    assert first.calls + retry.calls == 0


@pytest.mark.parametrize("step", ["fail", "lost"])
def test_the_store_failing_at_the_claim_sends_nothing_and_frees_the_key(
    clock: ManualClock, step: str
) -> None:
    store = ScriptedStore(clock, step)
    first = Sends()
    with pytest.raises(StateStoreError):
        send(store, clock, first)
    assert first.calls == 0
    retry = Sends()
    reply = send(store, clock, retry)  # at once: the failed run freed its claim
    assert reply.status == 202
    assert "idempotent-replayed" not in reply.headers
    assert send(store, clock, retry).headers["idempotent-replayed"] == "true"
    assert retry.calls == 1


class PausingStore(MemoryStateStore):
    """The first request pauses right after its claim (a frozen instance) until its lease is
    over."""

    def __init__(self, clock: ManualClock) -> None:
        super().__init__(clock)
        self.manual = clock
        self.pauses = True

    def claim(self, key: str, value: str, ttl_seconds: float) -> StateRecord | None:
        taken = super().claim(key, value, ttl_seconds)
        if taken is None and self.pauses:
            self.pauses = False
            self.manual.advance(10 + CLAIM_MARGIN_SECONDS)
        return taken


def test_a_send_whose_lease_ran_out_before_the_call_does_not_call_ses_and_frees_the_key(
    clock: ManualClock,
) -> None:
    store = PausingStore(clock)
    late = Sends()
    with pytest.raises(IdempotencyInProgress):
        send(store, clock, late)
    assert late.calls == 0
    retry = Sends()
    reply = send(store, clock, retry)  # a new run, not "outcome unknown": SES was not called
    assert reply.status == 202
    assert "idempotent-replayed" not in reply.headers
    assert retry.calls == 1


def test_an_answer_that_cannot_be_recorded_leaves_outcome_unknown_not_a_second_send(
    clock: ManualClock,
) -> None:
    store = ScriptedStore(clock, "ok", "fail")  # claimed as calling SES; the answer not recorded
    first = Sends()
    assert send(store, clock, first).status == 202  # what SES said, not the store's failure
    clock.advance(10 + CLAIM_MARGIN_SECONDS)
    assert send(store, clock, first).status == 502
    assert first.calls == 1


def test_keys_of_1_to_256_printable_characters_are_accepted() -> None:
    assert check_key("a") == "a"
    key = ("a-Z_0.9~ !#$%&'()*+,/:;<=>?@[]^`{|}" * 8)[:256]
    assert check_key(key) == key


@pytest.mark.parametrize("key", ["", "x" * 257, "tab\there", "line\nbreak", "café"])
def test_other_keys_are_refused(key: str) -> None:
    with pytest.raises(InvalidIdempotencyKey):
        check_key(key)


def test_the_fingerprint_ignores_json_formatting_but_not_content() -> None:
    a = fingerprint("POST", "/v1/emails", {"a": 1, "b": [1, 2]})
    assert a == fingerprint("POST", "/v1/emails", {"b": [1, 2], "a": 1})
    assert a != fingerprint("POST", "/v1/emails", {"a": 1, "b": [2, 1]})
    assert a != fingerprint("POST", "/v1/batch-tasks", {"a": 1, "b": [1, 2]})


def test_the_key_hash_hides_the_key() -> None:
    digest = key_hash("order-7f3a9c-raw-key")
    assert len(digest) == 16
    assert "order" not in digest
