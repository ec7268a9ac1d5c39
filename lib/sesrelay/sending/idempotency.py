"""The Idempotency-Key protocol of HTTP requests, over the StateStore port.

First request runs; a repeat with the same key and body within 24 h replays the stored answer
(with `Idempotent-Replayed: true`); another body -> 409 idempotency_key_reused; still running ->
409 idempotency_in_progress. Failures SES certainly did not act on free the key; ambiguous ones,
and a run that vanished while calling SES, keep it (the 502 is replayed).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from sesrelay.clock import Clock, Deadline
from sesrelay.errors import RelayError
from sesrelay.events import HttpResponse
from sesrelay.logs import log
from sesrelay.sending.keyrecord import CALLING, CLAIMED, Found, Hold, KeyRecord
from sesrelay.sending.outcome import (
    KEEPS_KEY,
    Execute,
    IdempotencyInProgress,
    SendOutcome,
    lost_run,
)
from sesrelay.state import StateStore, StateStoreError

REPLAY_TTL_SECONDS = 24 * 3600
MAX_KEY_LENGTH = 256
#: A claim's lease: as long as the invocation may run, plus this margin. A run that vanished
#: before calling SES blocks its key only that long.
CLAIM_MARGIN_SECONDS = 2.0
REPLAYED_HEADER = "idempotent-replayed"


class InvalidIdempotencyKey(RelayError):
    code = "invalid_idempotency_key"


class IdempotencyKeyReused(RelayError):
    code = "idempotency_key_reused"


IN_PROGRESS = "a request with this Idempotency-Key is still in progress; retry shortly"
LOST = (
    "an earlier request with this Idempotency-Key stopped while SES was being called, so SES "
    "may or may not have sent; check GET /v1/email-status before sending again under a new key"
)
#: Reading the key again after another request changed it first; more means heavy contention.
_ATTEMPTS = 3


def check_key(key: str) -> str:
    if not key:
        raise InvalidIdempotencyKey("Idempotency-Key must not be empty")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidIdempotencyKey(f"Idempotency-Key must be at most {MAX_KEY_LENGTH} characters")
    if not (key.isascii() and key.isprintable()):  # printable ASCII: 0x20-0x7E
        raise InvalidIdempotencyKey(
            "Idempotency-Key must contain only printable ASCII characters (no control characters)"
        )
    return key


def key_hash(key: str) -> str:
    """What logs and store keys carry instead of the key itself."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def fingerprint(method: str, path: str, payload: Any) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    # surrogatepass: the same bytes as before for any valid text, and no crash on a lone one
    data = f"{method} {path}\n{canonical}".encode("utf-8", "surrogatepass")
    return hashlib.sha256(data).hexdigest()


class Idempotency:
    """The protocol over one state store, leases judged on `clock`."""

    def __init__(self, store: StateStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    def run(
        self,
        *,
        scope: str,
        key: str,
        fingerprint: str,
        deadline: Deadline,
        action: Callable[[], HttpResponse],
        keep: Callable[[HttpResponse], bool],
        lost: Callable[[], HttpResponse] | None = None,
    ) -> HttpResponse:
        """Run `action` at most once per (scope, key). `keep` says whether an answer is final
        (stored and replayed) or frees the key (SES certainly did not act).

        With `lost`, `action` is one SES send: the claim itself records "calling SES" (one write;
        nothing runs between it and the call), and a request that finds that run gone (lease
        over, no answer recorded) answers `lost()`, kept and replayed like any answer; the
        action never runs again. Without it (a campaign, which records its own intents), a
        vanished run leaves a claim that lapses with its lease, and the next request runs the
        action again.
        """
        store_key = f"idem:{scope}:{hashlib.sha256(key.encode()).hexdigest()}"
        record = KeyRecord(self._store, self._clock, store_key, REPLAY_TTL_SECONDS)
        lease = deadline.remaining() + CLAIM_MARGIN_SECONDS
        state = CLAIMED if lost is None else CALLING
        for _ in range(_ATTEMPTS):
            got = record.acquire({"fp": fingerprint}, lease, state)
            if isinstance(got, Hold):
                return self._run(record, got, fingerprint, action, keep, intent=lost is not None)
            _check_found(got, fingerprint)
            if not got.lost or lost is None:
                return _replay(got)
            response = lost()
            log.warning(
                "an earlier run stopped while calling SES: its outcome is unknown",
                extra={"fields": {"code": "upstream_outcome_unknown"}},
            )
            if _record(record, got.version, _done(fingerprint, response)):
                return _replayed(response)
        raise IdempotencyInProgress(IN_PROGRESS)

    @staticmethod
    def _run(
        record: KeyRecord,
        hold: Hold,
        fingerprint: str,
        action: Callable[[], HttpResponse],
        keep: Callable[[HttpResponse], bool],
        *,
        intent: bool,
    ) -> HttpResponse:
        if intent and not record.may_call(hold):  # its lease ran out before the call
            raise IdempotencyInProgress(IN_PROGRESS)
        try:
            response = action()
        except RelayError:
            record.release(hold)
            raise
        _record(record, hold.version, _done(fingerprint, response) if keep(response) else None)
        return response


def _record(record: KeyRecord, version: int, answer: dict[str, Any] | None) -> bool:
    """Record how a run ended: its answer, or None to free the key. SES has answered by now; a
    store failure here must not change the answer, since reporting it would invite a retry that
    sends twice. The key then keeps what it said before ("calling SES" reads as outcome unknown
    once its lease is over)."""
    try:
        written = record.free(version) if answer is None else record.settle(version, answer)
    except StateStoreError:
        log.error(
            "could not record the idempotent answer",
            extra={"fields": {"code": "state_store_unavailable"}},
        )
        return True
    if not written:  # only when this run's lease ran out and another request settled the key
        log.warning(
            "the Idempotency-Key was settled by another request meanwhile",
            extra={"fields": {"code": "idempotency_in_progress"}},
        )
    return written


def _done(fingerprint: str, response: HttpResponse) -> dict[str, Any]:
    return {
        "state": "done",
        "fp": fingerprint,
        "status": response.status,
        "headers": response.headers,
        "body": response.body,
    }


def _check_found(found: Found, fp: str) -> None:
    """Raise unless the record holds an answer (or a lost run) of this very request."""
    if found.reclaimable:  # freed, but others took it first each time we tried
        raise IdempotencyInProgress(IN_PROGRESS)
    if found.fields.get("fp") != fp:
        raise IdempotencyKeyReused(
            "this Idempotency-Key was already used with a different request body; "
            "use a new key for a different request"
        )
    if found.held:
        raise IdempotencyInProgress(IN_PROGRESS)


def _replay(found: Found) -> HttpResponse:
    fields = found.fields
    if fields.get("state") != "done":
        raise IdempotencyInProgress(IN_PROGRESS)
    return _replayed(
        HttpResponse(int(fields["status"]), str(fields["body"]), dict(fields.get("headers") or {}))
    )


def _replayed(response: HttpResponse) -> HttpResponse:
    headers = dict(response.headers)
    headers[REPLAYED_HEADER] = "true"
    return HttpResponse(response.status, response.body, headers)


class IdempotencyGuard:
    """The send pipeline's guard for an HTTP send with an Idempotency-Key: the stored answer is
    the HTTP reply, kept when SES acted or may have (KEEPS_KEY), so a repeat replays it."""

    def __init__(self, *, scope: str, key: str, fingerprint: str) -> None:
        self.scope = scope
        self.key = key
        self.fingerprint = fingerprint

    def run(
        self,
        store: StateStore,
        clock: Clock,
        deadline: Deadline,
        execute: Execute,
        answer: Callable[[SendOutcome], HttpResponse],
    ) -> HttpResponse:
        kept: list[bool] = []

        def action() -> HttpResponse:
            outcome = execute()
            kept.append(outcome.kind in KEEPS_KEY)
            return answer(outcome)

        return Idempotency(store, clock).run(
            scope=self.scope,
            key=self.key,
            fingerprint=self.fingerprint,
            deadline=deadline,
            action=action,
            keep=lambda _response: kept[-1],
            lost=lambda: answer(lost_run(LOST)),
        )
