"""The Idempotency-Key protocol of HTTP requests, over the StateStore port.

First request runs; a repeat with the same key and body within 24 h replays the stored answer
(with `Idempotent-Replayed: true`); another body -> 409 idempotency_key_reused; still running ->
409 idempotency_in_progress. Failures SES certainly did not act on free the key; ambiguous ones
keep it (the 502 is replayed). `IdempotencyGuard` is this protocol as the send pipeline's guard.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import secrets
from collections.abc import Callable
from typing import Any

from sesrelay.clock import Deadline
from sesrelay.errors import RelayError
from sesrelay.events import HttpResponse
from sesrelay.logs import log
from sesrelay.sending.outcome import KEEPS_KEY, Execute, IdempotencyInProgress, SendOutcome
from sesrelay.state import StateStore, StateStoreError

REPLAY_TTL_SECONDS = 24 * 3600
MAX_KEY_LENGTH = 256
#: The in-progress claim lives as long as the invocation may run, plus this margin, so a
#: crashed instance never blocks a key for long.
CLAIM_MARGIN_SECONDS = 2.0
REPLAYED_HEADER = "idempotent-replayed"


class InvalidIdempotencyKey(RelayError):
    code = "invalid_idempotency_key"


class IdempotencyKeyReused(RelayError):
    code = "idempotency_key_reused"


#: Claim tokens tell this instance's claim from another's: a random prefix drawn once per
#: process, then a counter (an os.urandom call per request costs more than the rest of it).
_TOKEN_PREFIX = secrets.token_hex(6)
_TOKEN_COUNTER = itertools.count()


def _claim_token() -> str:
    return f"{_TOKEN_PREFIX}-{os.getpid()}-{next(_TOKEN_COUNTER)}"


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
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


class Idempotency:
    def __init__(self, store: StateStore) -> None:
        self._store = store

    def run(
        self,
        *,
        scope: str,
        key: str,
        fingerprint: str,
        deadline: Deadline,
        action: Callable[[], HttpResponse],
        keep: Callable[[HttpResponse], bool],
    ) -> HttpResponse:
        """Run `action` at most once per (scope, key). `keep` says whether an answer is final
        (stored and replayed) or frees the key (SES certainly did not act)."""
        store_key = f"idem:{scope}:{hashlib.sha256(key.encode()).hexdigest()}"
        token = _claim_token()
        claim = {"state": "in_progress", "fp": fingerprint, "token": token}
        ttl = deadline.remaining() + CLAIM_MARGIN_SECONDS
        existing = self._store.claim(store_key, json.dumps(claim), ttl)
        if existing is not None:
            return self._answer_existing(existing.value, fingerprint)
        try:
            response = action()
        except RelayError:
            self._release(store_key, token)
            raise
        try:
            if keep(response):
                record = {
                    "state": "done",
                    "fp": fingerprint,
                    "status": response.status,
                    "headers": response.headers,
                    "body": response.body,
                }
                self._store.put(store_key, json.dumps(record), REPLAY_TTL_SECONDS)
            else:
                self._release(store_key, token)
        except StateStoreError:
            # SES has answered; reporting a store failure now would invite a retry that sends
            # twice. Answer what SES said; the claim still blocks the key until it expires.
            log.error(
                "could not record the idempotent answer",
                extra={"fields": {"code": "state_store_unavailable"}},
            )
        return response

    def _release(self, store_key: str, token: str) -> None:
        current = self._store.get(store_key)
        if current is not None and json.loads(current.value).get("token") == token:
            self._store.delete(store_key, expected_version=current.version)

    @staticmethod
    def _answer_existing(raw: str, fp: str) -> HttpResponse:
        record = json.loads(raw)
        if record.get("fp") != fp:
            raise IdempotencyKeyReused(
                "this Idempotency-Key was already used with a different request body; "
                "use a new key for a different request"
            )
        if record.get("state") != "done":
            raise IdempotencyInProgress(
                "a request with this Idempotency-Key is still in progress; retry shortly"
            )
        headers = dict(record.get("headers") or {})
        headers[REPLAYED_HEADER] = "true"
        return HttpResponse(int(record["status"]), str(record["body"]), headers)


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
        deadline: Deadline,
        execute: Execute,
        answer: Callable[[SendOutcome], HttpResponse],
    ) -> HttpResponse:
        kept: list[bool] = []

        def action() -> HttpResponse:
            outcome = execute()
            kept.append(outcome.kind in KEEPS_KEY)
            return answer(outcome)

        return Idempotency(store).run(
            scope=self.scope,
            key=self.key,
            fingerprint=self.fingerprint,
            deadline=deadline,
            action=action,
            keep=lambda _response: kept[-1],
        )
