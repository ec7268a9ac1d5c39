"""What became of one send: the four outcome classes every entry point answers from, and the
guard interface (at most one send per key) that the pipeline wraps around the SES call."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol, TypeVar

from sesrelay.clock import Clock, Deadline
from sesrelay.errors import Outcome, RelayError, SesError
from sesrelay.state import StateStore, StateStoreError

R = TypeVar("R")


class SendKind(str, Enum):
    """Exactly one of these per send; its value is the `outcome` log field."""

    SENT = "sent"  # SES accepted the send
    REFUSED = "refused"  # nothing sent; the same request would be refused again
    RETRY_LATER = "retry_later"  # nothing sent; the same request may go through later
    OUTCOME_UNKNOWN = "outcome_unknown"  # SES may have sent: never send it again blindly


#: The kinds after which SES acted or may have: a guard keeps its key (a repeat never sends).
KEEPS_KEY = frozenset({SendKind.SENT, SendKind.OUTCOME_UNKNOWN})


class IdempotencyInProgress(RelayError):
    """A guard's key is held by a run still going (another invocation, or an SCF retry)."""

    code = "idempotency_in_progress"


class RunLost(RelayError):
    """An earlier run of the key stopped (killed, timed out) after it started its SES call and
    before it recorded SES's answer: SES may or may not have sent."""

    code = "upstream_outcome_unknown"


@dataclass(frozen=True)
class SendOutcome:
    kind: SendKind
    #: SES's reply (RequestId, MessageId or TaskId) when SENT; empty otherwise.
    result: dict[str, Any] = field(default_factory=dict)
    #: Why nothing was surely sent; None when SENT.
    error: RelayError | None = None

    @property
    def failure(self) -> RelayError:
        """The error of an outcome that is not SENT."""
        if self.error is None:
            raise ValueError("a sent outcome has no error")
        return self.error


_SES_KINDS = {
    Outcome.RETRYABLE: SendKind.RETRY_LATER,
    Outcome.OUTCOME_UNKNOWN: SendKind.OUTCOME_UNKNOWN,
    Outcome.FINAL: SendKind.REFUSED,
}


def failed(error: RelayError) -> SendOutcome:
    """The outcome class of a failure.

    An SES error brings its own (retryable, outcome unknown, final). Of the errors raised before
    SES was called, a state store that is down and a key held by a run still going may clear
    up: retry later. Everything else (invalid input, sender not allowed, no credentials, a key
    reused for another request) would fail the same way again: refused.
    """
    if isinstance(error, SesError):
        kind = _SES_KINDS[error.outcome]
    elif isinstance(error, (StateStoreError, IdempotencyInProgress)):
        kind = SendKind.RETRY_LATER
    else:
        kind = SendKind.REFUSED
    return SendOutcome(kind, error=error)


def lost_run(message: str) -> SendOutcome:
    """The outcome of a run found gone while it was calling SES."""
    return SendOutcome(SendKind.OUTCOME_UNKNOWN, error=RunLost(message))


Execute = Callable[[], SendOutcome]


class Guard(Protocol[R]):
    """At most one send per key: an HTTP Idempotency-Key, a timer tick, a webhook delivery.

    The pipeline calls `run` only for a valid request whose sender is allowed, so bad input never
    claims a key. `execute` is the SES call itself (the input is checked already) and returns
    its outcome (it raises no RelayError); `answer` turns an outcome into the entry point's reply.

    A guard either claims the key as "calling SES" (`sending/keyrecord.py`), runs `execute`
    once, keeps the key if the outcome is in KEEPS_KEY and frees it otherwise, then answers; or
    it answers from what an earlier run of the key left, without calling SES: that run's answer,
    or outcome unknown when the run vanished after it recorded "calling SES" (`lost_run`). It
    raises a RelayError when it cannot do either (IdempotencyInProgress, the state store down, a
    key reused for another request): the pipeline answers that as a failure outcome, and nothing
    was sent. Leases are judged on `clock`, the instance's injected clock.
    """

    def run(
        self,
        store: StateStore,
        clock: Clock,
        deadline: Deadline,
        execute: Execute,
        answer: Callable[[SendOutcome], R],
    ) -> R: ...
