"""The send pipeline on fakes: a recording SES gateway, the memory state store and a manual clock.

What every entry point relies on: bad input is refused before any key is claimed or SES is
called; the SES outcome falls in exactly one class; each guard keeps or frees its key by that
class; and the send's fields land in the invocation's log.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from sesrelay.adapters.state_memory import MemoryStateStore
from sesrelay.clock import Deadline, ManualClock
from sesrelay.errors import InvalidInput, Outcome, RelayError, SesError
from sesrelay.events import HttpResponse
from sesrelay.gateway import UnconfiguredGateway
from sesrelay.sending.idempotency import IdempotencyGuard, IdempotencyKeyReused
from sesrelay.sending.once import SendOnce
from sesrelay.sending.outcome import IdempotencyInProgress, SendKind, SendOutcome
from sesrelay.sending.pipeline import Pipeline, SenderNotAllowed, SendRequest
from sesrelay.settings import Settings
from sesrelay.state import StateRecord, StateStoreError
from sesrelay.wiring import Services, build_services

VALID: dict[str, Any] = {
    "FromEmailAddress": "Example Team <noreply@example.com>",
    "Destination": ["ana@example.org"],
    "Subject": "Welcome",
    "Template": {"TemplateID": 100001, "TemplateData": {"name": "Ana"}},
}
KEY = "timer:weekly:2026-01-05T01:00:00Z"

Answer = tuple[str, Any]


class FakeSes:
    """An SES gateway that records each call and raises the queued faults first."""

    def __init__(self, *faults: Exception) -> None:
        self.faults = list(faults)
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def call(self, action: str, params: dict[str, Any], deadline: Deadline) -> dict[str, Any]:
        self.calls.append((action, params))
        if self.faults:
            raise self.faults.pop(0)
        n = len(self.calls)
        return {"RequestId": f"req-{n}", "MessageId": f"msg-{n}"}


class RecordingStore(MemoryStateStore):
    """The memory store, noting every key a guard tried to claim and counting its writes."""

    def __init__(self, clock: ManualClock) -> None:
        super().__init__(clock)
        self.claims: list[str] = []
        self.writes = 0

    def claim(self, key: str, value: str, ttl_seconds: float) -> StateRecord | None:
        self.claims.append(key)
        self.writes += 1
        return super().claim(key, value, ttl_seconds)

    def compare_and_set(
        self, key: str, expected_version: int, value: str, ttl_seconds: float
    ) -> StateRecord | None:
        self.writes += 1
        return super().compare_and_set(key, expected_version, value, ttl_seconds)


def ses_error(outcome: Outcome, code: str = "InternalError") -> SesError:
    return SesError(code, "injected", request_id="ses-req-9", outcome=outcome, action="SendEmail")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def store(clock: ManualClock) -> RecordingStore:
    return RecordingStore(clock)


def services_with(
    ses: Any, store: MemoryStateStore, clock: ManualClock, allowed: list[str] | None = None
) -> Services:
    settings = Settings(environ={}, allowed_senders=allowed or [])
    return build_services(settings, clock=clock, ses=ses, state=store)


def answer(outcome: SendOutcome) -> Answer:
    return ("answered", outcome)


def once() -> SendOnce[Answer]:
    return SendOnce(
        KEY, remember_seconds=3600, duplicate=lambda first: ("duplicate", first), busy="busy tick"
    )


def send(
    services: Services,
    params: object = VALID,
    *,
    guard: SendOnce[Answer] | None = None,
    log: dict[str, Any] | None = None,
) -> Answer:
    request = SendRequest("SendEmail", params, entry="timer:inline:SendEmail")
    deadline = Deadline(services.clock, 10)
    return Pipeline(services).send(request, deadline, {} if log is None else log, answer, guard)


def outcome_of(answered: Answer) -> SendOutcome:
    assert answered[0] == "answered", answered
    result = answered[1]
    assert isinstance(result, SendOutcome)
    return result


# -- refused before anything happens -----------------------------------------------------------


def test_invalid_params_are_refused_with_field_errors_before_any_claim_or_call(
    clock: ManualClock, store: RecordingStore
) -> None:
    ses = FakeSes()
    log: dict[str, Any] = {}
    params = {**VALID, "Destination": ["not-an-address"], "Subject": ""}

    outcome = outcome_of(send(services_with(ses, store, clock), params, guard=once(), log=log))

    assert outcome.kind is SendKind.REFUSED
    assert isinstance(outcome.error, InvalidInput)
    assert {e.field for e in outcome.error.errors} >= {"Destination.0", "Subject"}
    assert ses.calls == []
    assert store.claims == []
    assert (log["outcome"], log["code"]) == ("refused", "validation_error")


@pytest.mark.parametrize(
    ("allowed", "params", "named"),
    [
        (["@example.net"], VALID, "FromEmailAddress"),
        (["noreply@example.com"], {**VALID, "HeaderFrom": "news@example.com"}, "HeaderFrom"),
    ],
    ids=["from", "header-from"],
)
def test_a_sender_outside_the_allowed_list_is_refused_before_any_claim_or_call(
    allowed: list[str],
    params: dict[str, Any],
    named: str,
    clock: ManualClock,
    store: RecordingStore,
) -> None:
    ses = FakeSes()
    outcome = outcome_of(send(services_with(ses, store, clock, allowed), params, guard=once()))
    assert outcome.kind is SendKind.REFUSED
    assert isinstance(outcome.error, SenderNotAllowed)
    assert named in outcome.error.message
    assert ses.calls == []
    assert store.claims == []


def test_an_allowed_header_from_in_the_alias_form_is_sent(
    clock: ManualClock, store: RecordingStore
) -> None:
    ses = FakeSes()
    params = {**VALID, "HeaderFrom": "Example Team <noreply@example.com>"}
    services = services_with(ses, store, clock, ["noreply@example.com"])
    assert outcome_of(send(services, params)).kind is SendKind.SENT
    assert len(ses.calls) == 1


# -- the SES call and its outcome classes ----------------------------------------------------


def test_success_is_sent_with_ses_result_and_logged(
    clock: ManualClock, store: RecordingStore
) -> None:
    ses = FakeSes()
    log: dict[str, Any] = {}
    outcome = outcome_of(send(services_with(ses, store, clock), log=log))

    assert outcome.kind is SendKind.SENT
    assert outcome.result == {"RequestId": "req-1", "MessageId": "msg-1"}
    [(action, params)] = ses.calls
    assert action == "SendEmail"
    assert params["Destination"] == ["ana@example.org"]
    assert log == {
        "entry": "timer:inline:SendEmail",
        "action": "SendEmail",
        "from": "n***@example.com",
        "ses_request_id": "req-1",
        "outcome": "sent",
    }


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (ses_error(Outcome.RETRYABLE, "RequestLimitExceeded"), SendKind.RETRY_LATER),
        (ses_error(Outcome.OUTCOME_UNKNOWN, "ClientNetworkError"), SendKind.OUTCOME_UNKNOWN),
        (ses_error(Outcome.FINAL, "FailedOperation.EmailAddrInBlacklist"), SendKind.REFUSED),
    ],
    ids=["retryable", "outcome-unknown", "final"],
)
def test_each_ses_failure_has_its_one_outcome_class(
    error: SesError, kind: SendKind, clock: ManualClock, store: RecordingStore
) -> None:
    log: dict[str, Any] = {}
    outcome = outcome_of(send(services_with(FakeSes(error), store, clock), log=log))
    assert outcome.kind is kind
    assert outcome.error is error
    assert log["outcome"] == kind.value
    assert log["code"] == error.code
    assert log["ses_request_id"] == "ses-req-9"


def test_missing_credentials_are_refused_not_retried(
    clock: ManualClock, store: RecordingStore
) -> None:
    outcome = outcome_of(send(services_with(UnconfiguredGateway(), store, clock)))
    assert outcome.kind is SendKind.REFUSED
    assert outcome.failure.code == "ses_not_configured"


def test_a_bug_in_the_gateway_is_not_turned_into_an_outcome(
    clock: ManualClock, store: RecordingStore
) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        send(services_with(FakeSes(RuntimeError("boom")), store, clock))


def test_without_a_guard_the_state_store_is_never_touched(clock: ManualClock) -> None:
    closed = MemoryStateStore(clock)
    closed.close()  # any use would raise StateStoreError
    outcome = outcome_of(send(services_with(FakeSes(), closed, clock)))
    assert outcome.kind is SendKind.SENT


# -- the send-once guard around the call ------------------------------------------------------


def test_once_sent_then_a_redelivery_is_a_duplicate_without_a_call(
    clock: ManualClock, store: RecordingStore
) -> None:
    ses = FakeSes()
    services = services_with(ses, store, clock)
    assert outcome_of(send(services, guard=once())).kind is SendKind.SENT
    assert send(services, guard=once()) == ("duplicate", "sent")
    assert len(ses.calls) == 1


def test_once_outcome_unknown_keeps_the_key_and_a_retry_never_calls_ses_again(
    clock: ManualClock, store: RecordingStore
) -> None:
    ses = FakeSes(ses_error(Outcome.OUTCOME_UNKNOWN, "ClientNetworkError"))
    services = services_with(ses, store, clock)
    assert outcome_of(send(services, guard=once())).kind is SendKind.OUTCOME_UNKNOWN
    assert send(services, guard=once()) == ("duplicate", "outcome_unknown")
    assert len(ses.calls) == 1


@pytest.mark.parametrize(
    "error",
    [
        ses_error(Outcome.RETRYABLE, "RequestLimitExceeded"),
        ses_error(Outcome.FINAL, "InvalidParameterValue.TemplateNotMatchData"),
        RelayError("no credentials", code="ses_not_configured"),
    ],
    ids=["retryable", "final", "not-configured"],
)
def test_once_a_failure_ses_did_not_act_on_frees_the_key(
    error: RelayError, clock: ManualClock, store: RecordingStore
) -> None:
    ses = FakeSes(error)
    services = services_with(ses, store, clock)
    assert outcome_of(send(services, guard=once())).kind is not SendKind.SENT
    assert outcome_of(send(services, guard=once())).kind is SendKind.SENT
    assert len(ses.calls) == 2


def test_once_a_tick_still_running_elsewhere_is_retry_later_without_a_call(
    clock: ManualClock, store: RecordingStore
) -> None:
    assert store.claim(KEY, json.dumps({"state": "in_progress"}), 60) is None
    ses = FakeSes()
    outcome = outcome_of(send(services_with(ses, store, clock), guard=once()))
    assert outcome.kind is SendKind.RETRY_LATER
    assert isinstance(outcome.error, IdempotencyInProgress)
    assert outcome.error.message == "busy tick"
    assert ses.calls == []


def test_once_with_the_state_store_down_is_retry_later_and_sends_nothing(
    clock: ManualClock,
) -> None:
    closed = MemoryStateStore(clock)
    closed.close()
    ses = FakeSes()
    log: dict[str, Any] = {}
    outcome = outcome_of(send(services_with(ses, closed, clock), guard=once(), log=log))
    assert outcome.kind is SendKind.RETRY_LATER
    assert isinstance(outcome.error, StateStoreError)
    assert log["code"] == "state_store_unavailable"
    assert ses.calls == []


# -- both guards: their claim is the "calling SES" record, written before the call -------------


class WatchingSes(FakeSes):
    """Notes what each claimed key says, and how many writes were made, when SES is called."""

    def __init__(self, store: RecordingStore) -> None:
        super().__init__()
        self.store = store
        self.seen: list[str] = []
        self.writes_before: list[int] = []

    def call(self, action: str, params: dict[str, Any], deadline: Deadline) -> dict[str, Any]:
        self.writes_before.append(self.store.writes)
        for key in self.store.claims:
            record = self.store.get(key)
            if record is not None:
                self.seen.append(json.loads(record.value)["state"])
        return super().call(action, params, deadline)


class KilledSes(FakeSes):
    """The process dies while SES is being called: nothing after the call runs."""

    def call(self, action: str, params: dict[str, Any], deadline: Deadline) -> dict[str, Any]:
        super().call(action, params, deadline)
        raise SystemExit("killed")


@pytest.mark.parametrize("guarded", ["once", "idempotency-key"])
def test_each_guard_records_calling_ses_in_its_one_write_before_the_call(
    guarded: str, clock: ManualClock, store: RecordingStore
) -> None:
    ses = WatchingSes(store)
    services = services_with(ses, store, clock)
    if guarded == "once":
        send(services, guard=once())
    else:
        http_send(services)
    assert ses.seen == ["calling"]
    assert ses.writes_before == [1]  # the claim: one store round trip before SES
    assert store.writes == 2  # then how the send ended


@pytest.mark.parametrize("guarded", ["once", "idempotency-key"])
def test_a_send_killed_mid_call_is_outcome_unknown_once_its_lease_is_over_and_never_resent(
    guarded: str, clock: ManualClock, store: RecordingStore
) -> None:
    def attempt(ses: FakeSes) -> Any:
        services = services_with(ses, store, clock)
        return send(services, guard=once()) if guarded == "once" else http_send(services)

    with pytest.raises(SystemExit):
        attempt(KilledSes())
    clock.advance(60)
    ses = FakeSes()
    if guarded == "once":
        assert attempt(ses) == ("duplicate", "outcome_unknown")
    else:
        reply = attempt(ses)
        assert (reply.status, reply.body) == (503, "upstream_outcome_unknown")
        assert reply.headers["idempotent-replayed"] == "true"
    assert ses.calls == []


# -- the Idempotency-Key guard around the call -------------------------------------------------


def http_answer(outcome: SendOutcome) -> HttpResponse:
    if outcome.kind is SendKind.SENT:
        return HttpResponse(202, json.dumps(outcome.result))
    return HttpResponse(409 if outcome.kind is SendKind.REFUSED else 503, outcome.failure.code)


def http_send(
    services: Services, params: object = VALID, fingerprint: str = "fp-1"
) -> HttpResponse:
    guard = IdempotencyGuard(scope="tenant:SendEmail", key="order-1", fingerprint=fingerprint)
    request = SendRequest("SendEmail", params, entry="http")
    deadline = Deadline(services.clock, 10)
    return Pipeline(services).send(request, deadline, {}, http_answer, guard)


def test_idempotency_replays_the_first_answer_without_a_second_call(
    clock: ManualClock, store: RecordingStore
) -> None:
    ses = FakeSes()
    services = services_with(ses, store, clock)
    first = http_send(services)
    again = http_send(services)
    assert first.status == 202
    assert (again.status, again.body) == (first.status, first.body)
    assert again.headers["idempotent-replayed"] == "true"
    assert len(ses.calls) == 1


def test_idempotency_key_reused_with_another_body_is_refused(
    clock: ManualClock, store: RecordingStore
) -> None:
    ses = FakeSes()
    services = services_with(ses, store, clock)
    http_send(services)
    reused = http_send(services, fingerprint="fp-2")
    assert (reused.status, reused.body) == (409, IdempotencyKeyReused.code)
    assert len(ses.calls) == 1


def test_idempotency_outcome_unknown_keeps_the_key_and_replays(
    clock: ManualClock, store: RecordingStore
) -> None:
    ses = FakeSes(ses_error(Outcome.OUTCOME_UNKNOWN, "ClientNetworkError"))
    services = services_with(ses, store, clock)
    first = http_send(services)
    again = http_send(services)
    assert again.headers["idempotent-replayed"] == "true"
    assert again.body == first.body == "ClientNetworkError"
    assert len(ses.calls) == 1


def test_idempotency_a_final_refusal_frees_the_key(
    clock: ManualClock, store: RecordingStore
) -> None:
    ses = FakeSes(ses_error(Outcome.FINAL, "FailedOperation.EmailAddrInBlacklist"))
    services = services_with(ses, store, clock)
    assert http_send(services).status == 409
    fixed = http_send(services, fingerprint="fp-fixed")  # another body may take the freed key
    assert fixed.status == 202
    assert "idempotent-replayed" not in fixed.headers
    assert len(ses.calls) == 2


def test_idempotency_invalid_params_claim_no_key(clock: ManualClock, store: RecordingStore) -> None:
    ses = FakeSes()
    services = services_with(ses, store, clock)
    refused = http_send(services, {**VALID, "Subject": ""}, fingerprint="fp-bad")
    assert (refused.status, refused.body) == (409, "validation_error")
    assert store.claims == []
    assert http_send(services).status == 202  # the key is still free for a good request
