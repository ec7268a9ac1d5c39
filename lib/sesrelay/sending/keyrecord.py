"""One guarded key's record in the state store. A send's guard (IdempotencyGuard, SendOnce) claims
it as "calling SES", then records how the call ended, or frees it when SES surely did not act; a
run that vanished mid-call reads as outcome unknown, never free. Campaigns claim it as "claimed"."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import secrets
from dataclasses import dataclass
from typing import Any

from sesrelay.clock import Clock
from sesrelay.state import StateRecord, StateStore, StateStoreError

#: A run holds the key until its lease ends and calls SES only through intents it records
#: itself (a campaign): once the lease is over, the next run may take the key over.
CLAIMED = "claimed"
#: A send's claim: its run calls SES right away (after at most the wait for a rate-limit permit),
#: so SES may have sent even if the run vanished; once the lease is over: outcome unknown.
CALLING = "calling"
FREE = "free"  # SES surely did not act on the last run: the next one may send
#: Claims written before leases were recorded: held until their own short TTL lapses.
_LEGACY_HELD = "in_progress"
_HELD = frozenset({CLAIMED, CALLING, _LEGACY_HELD})
_ACQUIRE_ATTEMPTS = 3
#: How long a freed key is kept as FREE: longer than any invocation may run (SCF stops an event
#: function at its timeout, 900 s at most), so no earlier holder can still be writing when the
#: key vanishes and its versions start over at 1. Shorter than the remember time, so failed
#: sends do not fill the store for a day.
FREE_TTL_SECONDS = 3600.0

#: Tokens tell one run's claim from another's: a random prefix drawn once per process, then a
#: counter (an os.urandom call per request costs more than the rest of the claim).
_TOKEN_PREFIX = secrets.token_hex(6)
_TOKEN_COUNTER = itertools.count()


def _token() -> str:
    return f"{_TOKEN_PREFIX}-{os.getpid()}-{next(_TOKEN_COUNTER)}"


@dataclass(frozen=True)
class Found:
    """The record another run left under the key."""

    fields: dict[str, Any]
    version: int
    #: The holder's lease has ended (by the clock of the run that read it).
    lapsed: bool

    @property
    def state(self) -> str:
        return str(self.fields.get("state"))

    @property
    def held(self) -> bool:
        """Another run has the key and may still be working on it."""
        return self.state in _HELD and not self.lost and not self.reclaimable

    @property
    def lost(self) -> bool:
        """Its run vanished after recording that it was calling SES: SES may have sent."""
        return self.state == CALLING and self.lapsed

    @property
    def reclaimable(self) -> bool:
        """Provably never reached SES: freed, or claimed with the lease over."""
        return self.state == FREE or (self.state == CLAIMED and self.lapsed)


@dataclass(frozen=True)
class Hold:
    """This run's claim: its token, the version it wrote and when its lease ends (POSIX
    seconds). The guard's next write is the last (settle or free), on this version."""

    token: str
    version: int
    lease_until: float


class KeyRecord:
    """The record of one key. Every record lives `remember_seconds`, held ones too (the lease is
    inside), and a freed one FREE_TTL_SECONDS, so the key never vanishes while a run may hold
    it: versions only go up, and a compare_and_set on a run's version fails once any other run
    wrote the key."""

    def __init__(self, store: StateStore, clock: Clock, key: str, remember_seconds: float) -> None:
        self._store = store
        self._clock = clock
        self.key = key
        self._remember = remember_seconds

    def acquire(
        self, fields: dict[str, Any], lease_seconds: float, state: str = CLAIMED
    ) -> Hold | Found:
        """Claim the key in `state` (CALLING for a send) for `lease_seconds`, taking over a record
        that provably never reached SES; otherwise the record that holds or settled it. Raises
        StateStoreError, after freeing the claim if the failed write happened and the store
        still answers: nothing was sent, so the key must not read "maybe sent"."""
        token = _token()
        lease_until = self._now() + lease_seconds
        value = {**fields, "state": state, "token": token, "lease_until": lease_until}
        text = json.dumps(value)
        found = None
        try:
            for _ in range(_ACQUIRE_ATTEMPTS):
                existing = self._store.claim(self.key, text, self._remember)
                if existing is None:
                    return Hold(token, 1, lease_until)
                found = self._read(existing)
                if not found.reclaimable:
                    return found
                taken = self._store.compare_and_set(
                    self.key, existing.version, text, self._remember
                )
                if taken is not None:
                    return Hold(token, taken.version, lease_until)
        except StateStoreError:
            self._drop(token)
            raise
        assert found is not None
        return found  # other runs keep taking it first: one of them holds it

    def may_call(self, hold: Hold) -> bool:
        """Whether this run may call SES now: not once its lease is over (a frozen instance woke
        up late), since another run may have read its claim as outcome unknown meanwhile. Then
        the key is freed, unless another run wrote it since: SES was never called. No write
        while the lease lasts."""
        if self._now() < hold.lease_until:
            return True
        self.release(hold)
        return False

    def settle(self, version: int, value: dict[str, Any]) -> bool:
        """Replace the record at `version` (this run's, or a lost run's) with how the run ended.
        False when another run wrote the key first. Raises StateStoreError."""
        text = json.dumps(value)
        return self._store.compare_and_set(self.key, version, text, self._remember) is not None

    def free(self, version: int) -> bool:
        """SES surely did not act: the next run may send. False as for `settle`."""
        text = json.dumps({"state": FREE})
        ttl = min(self._remember, FREE_TTL_SECONDS)
        return self._store.compare_and_set(self.key, version, text, ttl) is not None

    def release(self, hold: Hold) -> None:
        """Free the key this run claimed and never took to SES, unless another run wrote it since.
        Best effort: a store that is down keeps the claim ("claimed" lapses with its lease;
        "calling" reads as outcome unknown then: a needless "unknown", never a second send)."""
        with contextlib.suppress(StateStoreError):
            self.free(hold.version)

    def _drop(self, token: str) -> None:
        """Free the key if it holds the claim `token` wrote: after a claim whose write may or may
        not have happened, so its version is unknown. Best effort, as for `release`."""
        try:
            current = self._store.get(self.key)
            if current is None:
                return
            fields = json.loads(current.value)
            if fields.get("token") == token and fields.get("state") in _HELD:
                self.free(current.version)
        except StateStoreError:
            pass

    def _read(self, record: StateRecord) -> Found:
        fields = json.loads(record.value)
        if not isinstance(fields, dict):
            fields = {}
        until = fields.get("lease_until")
        lapsed = isinstance(until, (int, float)) and self._now() >= until
        return Found(fields, record.version, lapsed)

    def _now(self) -> float:
        # The injected clock, never time.time(): leases are compared on the same clock the
        # tests move, and on one wall clock across the instances sharing a store.
        return self._clock.now().timestamp()
