"""The rate-limiter port: SES allows 20 requests/s per action for the whole account, so every
request that leaves for SES (sends, campaigns, lookups alike) first takes a permit here.

Adapters: `adapters/ratelimit_memory.py` (one instance) and `adapters/ratelimit_redis.py` (fleet).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from sesrelay.clock import Clock, Deadline
from sesrelay.errors import Outcome, SesError

#: Leave the SDK this much of the invocation after waiting for a permit: a permit granted with no
#: time left to use it would be wasted, and the caller would get 503 deadline_exceeded, not 429.
CALL_RESERVE_SECONDS = 0.1

#: A permit whose caller never says it was answered (the instance died mid-call) stays in the
#: window until its deadline, plus one period, plus this much for a reply still on its way.
HOLD_MARGIN_SECONDS = 1.0


@dataclass(frozen=True)
class RateLimit:
    """At most `limit` requests in any window of `period` seconds (SES: 20 per 1 s per action).

    Two rules hold it, so that delays between a permit and SES cannot break it:

    - spacing: permits of a key are `interval` apart, at `1 - headroom` of the limit (19/s for
      20/s), so traffic is smooth and, when delays are small, the window rule never binds;
    - window: a permit counts from its slot until one period after its caller was answered (or,
      if the caller never says so, after its deadline). A request reaches SES between those two
      moments, so if `limit + 1` requests reached SES within one period, all of their permits
      would have been counted at once - which the limiter never allows.
    """

    limit: int
    period: float = 1.0
    headroom: float = 0.05

    def __post_init__(self) -> None:
        if isinstance(self.limit, bool) or not isinstance(self.limit, int) or self.limit < 1:
            raise ValueError(f"rate limit must be a whole number >= 1, got {self.limit!r}")
        if not (math.isfinite(self.period) and self.period > 0):
            raise ValueError(
                f"rate-limit period must be a number of seconds > 0, got {self.period}"
            )
        if not (0 <= self.headroom < 1):
            raise ValueError(f"rate-limit headroom must be in [0, 1), got {self.headroom}")

    @property
    def interval(self) -> float:
        """Seconds between two permits of one key."""
        return self.period / (self.limit * (1 - self.headroom))


class RateLimited(SesError):
    """No permit before the deadline; nothing was sent and no permit was taken.

    An SesError on purpose: it is raised inside `SesGateway.call`, whose contract is a classified
    SesError, and RETRYABLE means exactly what it means for SES's own RequestLimitExceeded (SES did
    not act; try again later): HTTP answers 429 with Retry-After, timers raise for SCF's retry,
    idempotency and send-once keys are freed.
    """

    def __init__(self, key: str, retry_after: float, *, action: str = "") -> None:
        self.retry_after = max(retry_after, 0.0)
        super().__init__(
            "rate_limited",
            f"SES allows a limited rate per action; the next permit for {key!r} is "
            f"{self.retry_after:.2f} s away, beyond this invocation's deadline: retry after "
            f"{max(1, math.ceil(self.retry_after))} s",
            outcome=Outcome.RETRYABLE,
            action=action,
            attempts=0,
        )


class RateLimiterUnavailable(SesError):
    """The limiter's backend failed. Fail closed: nothing is sent without a permit (retryable)."""

    def __init__(self, message: str) -> None:
        super().__init__("state_store_unavailable", message, outcome=Outcome.RETRYABLE, attempts=0)


class Permit:
    """One request's place in the window; `answered()` once SES replied or the attempt failed."""

    def __init__(self, release: Callable[[], None]) -> None:
        self._release: Callable[[], None] | None = release
        self._lock = threading.Lock()

    def answered(self) -> None:
        """The request left the window one period from now. Idempotent; never raises (it runs
        after SES acted, where an exception would turn a sent mail into a reported failure)."""
        with self._lock:
            release, self._release = self._release, None
        if release is not None:
            release()


class RateLimiter(Protocol):
    """Grants permits under one RateLimit per key."""

    def acquire(self, key: str, deadline: Deadline) -> Permit:
        """Wait (on the injected clock) for a permit of `key` and return it at its slot.

        Raises RateLimited, taking nothing, when no permit can start before the deadline;
        RateLimiterUnavailable when the backend fails.
        """
        ...

    def close(self) -> None:
        """Release connections; idempotent."""
        ...


def ses_key(scope: str, action: str) -> str:
    """`ses:<scope>:<action>`: one budget per SES action and per account (see SesThrottle)."""
    return f"ses:{scope}:{action}"


class SesThrottle:
    """The SES gateway's before-attempt hook: one permit per request that leaves for SES.

    A hook rather than a decorator around `SesGateway.call`, because the SDK gateway retries
    inside `call`: every attempt reaches SES and counts against its limit. The hook returns the
    callback the gateway runs when the attempt is over.

    `scope` names the account's budget. The SES endpoint host is used (wiring.py): SCF execution
    roles hand out temporary SecretIds that change between instances, so a SecretId hash would
    split one account's budget; a host shared by two accounts only makes them share a budget
    (safe). Separate accounts sharing one Redis get separate budgets with `?prefix=` on the URL.
    """

    def __init__(
        self,
        limiter: RateLimiter,
        scope: str,
        clock: Clock,
        *,
        reserve_seconds: float = CALL_RESERVE_SECONDS,
    ) -> None:
        self.limiter = limiter
        self.scope = scope
        self._clock = clock
        self._reserve = reserve_seconds

    def __call__(self, action: str, deadline: Deadline) -> Callable[[], None]:
        budget = Deadline(self._clock, max(deadline.remaining() - self._reserve, 0.0))
        try:
            permit = self.limiter.acquire(ses_key(self.scope, action), budget)
        except SesError as error:
            error.action = action
            raise
        return permit.answered
