"""Send at most once per key (a timer tick, a webhook delivery): the send pipeline's guard for
triggers that deliver the same event again (SCF retries, vendors' redeliveries).

The claim itself records "calling SES" (one write before the call: nothing runs in between) and,
afterwards, how the run ended ("sent" or "outcome_unknown"). Failures SES certainly did not act
on free the key; ambiguous ones keep it, and so does a run that vanished while calling SES, so a
retry of the same tick or delivery never sends a second mail.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from sesrelay.clock import Clock, Deadline
from sesrelay.logs import log
from sesrelay.sending.keyrecord import CALLING, Hold, KeyRecord
from sesrelay.sending.outcome import (
    KEEPS_KEY,
    Execute,
    IdempotencyInProgress,
    RunLost,
    SendKind,
    SendOutcome,
)
from sesrelay.state import StateStore, StateStoreError

#: A claim's lease: as long as the invocation may run, plus this margin.
CLAIM_MARGIN_SECONDS = 5.0
#: Reading the key again after another run changed it first; more means heavy contention.
_ATTEMPTS = 3

R = TypeVar("R")


class SendOnce(Generic[R]):
    """`duplicate(first_outcome)` answers a key already done; a key whose first run is still
    going raises IdempotencyInProgress(`busy`)."""

    def __init__(
        self,
        key: str,
        *,
        remember_seconds: float,
        duplicate: Callable[[str], R],
        busy: str,
    ) -> None:
        self.key = key
        self.remember_seconds = remember_seconds
        self.duplicate = duplicate
        self.busy = busy

    def run(
        self,
        store: StateStore,
        clock: Clock,
        deadline: Deadline,
        execute: Execute,
        answer: Callable[[SendOutcome], R],
    ) -> R:
        record = KeyRecord(store, clock, self.key, self.remember_seconds)
        lease = deadline.remaining() + CLAIM_MARGIN_SECONDS
        for _ in range(_ATTEMPTS):
            got = record.acquire({}, lease, CALLING)
            if isinstance(got, Hold):
                return self._send(record, got, execute, answer)
            if got.held or got.reclaimable:
                raise IdempotencyInProgress(self.busy)
            if not got.lost:
                return self.duplicate(got.state)
            log.warning(
                "an earlier run stopped while calling SES: its outcome is unknown",
                extra={"fields": {"code": RunLost.code}},
            )
            unknown = {"state": SendKind.OUTCOME_UNKNOWN.value, "code": RunLost.code}
            if _record(record, got.version, unknown, SendKind.OUTCOME_UNKNOWN):
                return self.duplicate(SendKind.OUTCOME_UNKNOWN.value)
        raise IdempotencyInProgress(self.busy)

    def _send(
        self, record: KeyRecord, hold: Hold, execute: Execute, answer: Callable[[SendOutcome], R]
    ) -> R:
        if not record.may_call(hold):  # its lease ran out before the call: SES was not called
            raise IdempotencyInProgress(self.busy)
        outcome = execute()
        ended: dict[str, Any] | None = None  # SES surely did not act: the next one may send
        if outcome.kind in KEEPS_KEY:
            ended = {"state": outcome.kind.value}
            if outcome.kind is SendKind.OUTCOME_UNKNOWN:
                ended["code"] = outcome.failure.code
        _record(record, hold.version, ended, outcome.kind)
        return answer(outcome)


def _record(record: KeyRecord, version: int, ended: dict[str, Any] | None, kind: SendKind) -> bool:
    """Remember how a run ended (None: free the key). SES has answered by now, so a store
    failure here must not change the answer: reporting it as retry-later would invite a retry
    that sends again. The key then keeps "calling SES", read as outcome unknown once the lease
    is over."""
    try:
        written = record.free(version) if ended is None else record.settle(version, ended)
    except StateStoreError:
        log.error(
            "could not record how a send ended",
            extra={"fields": {"code": "state_store_unavailable", "outcome": kind.value}},
        )
        return True
    if not written:  # only when this run's lease ran out and another run settled the key
        log.warning(
            "the key was settled by another run meanwhile",
            extra={"fields": {"code": "idempotency_in_progress", "outcome": kind.value}},
        )
    return written
