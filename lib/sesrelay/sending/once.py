"""Send at most once per key (a timer tick, a webhook delivery): the send pipeline's guard for
triggers that deliver the same event again (SCF retries, vendors' redeliveries).

The claim lives as long as the invocation may run; afterwards the key remembers how the first
run ended ("sent" or "outcome_unknown"). Failures SES certainly did not act on free the key;
ambiguous ones keep it, so a retry of the same tick or delivery never sends a second mail.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Generic, TypeVar

from sesrelay.clock import Deadline
from sesrelay.logs import log
from sesrelay.sending.outcome import (
    KEEPS_KEY,
    Execute,
    IdempotencyInProgress,
    SendKind,
    SendOutcome,
)
from sesrelay.state import StateStore, StateStoreError

CLAIM_MARGIN_SECONDS = 5.0
IN_PROGRESS = "in_progress"

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
        deadline: Deadline,
        execute: Execute,
        answer: Callable[[SendOutcome], R],
    ) -> R:
        claim = json.dumps({"state": IN_PROGRESS})
        existing = store.claim(self.key, claim, deadline.remaining() + CLAIM_MARGIN_SECONDS)
        if existing is not None:
            first = str(json.loads(existing.value).get("state"))
            if first == IN_PROGRESS:
                raise IdempotencyInProgress(self.busy)
            return self.duplicate(first)
        outcome = execute()
        self._record(store, outcome)
        return answer(outcome)

    def _record(self, store: StateStore, outcome: SendOutcome) -> None:
        """Remember how the run ended. SES has answered by now, so a store failure here must not
        change the answer: reporting it as retry-later would invite a retry that sends again.
        The claim then keeps blocking the key until it expires."""
        try:
            if outcome.kind in KEEPS_KEY:
                record = {"state": outcome.kind.value}
                if outcome.kind is SendKind.OUTCOME_UNKNOWN:
                    record["code"] = outcome.failure.code
                store.put(self.key, json.dumps(record), self.remember_seconds)
            else:  # SES surely did not act: the next delivery may send
                store.delete(self.key)
        except StateStoreError:
            log.error(
                "could not record how a send ended",
                extra={
                    "fields": {"code": "state_store_unavailable", "outcome": outcome.kind.value}
                },
            )
