"""Per-key daily send quotas: an atomic counter per key and UTC+8 day in the state store, so
every instance of the fleet shares it (exactly, on one Redis).

A send takes one unit before it calls SES and gives it back when nothing was sent (refused or
retry later); a send whose outcome is unknown keeps its unit, as SES may have sent it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sesrelay.clock import Clock
from sesrelay.errors import RelayError
from sesrelay.state import StateStore, update_json

#: Tencent's day: quotas reset at midnight China Standard Time, as SES's daily limits do.
CHINA = timezone(timedelta(hours=8))
#: A counter outlives its day, so a late give-back still finds it.
COUNTER_TTL_SECONDS = 2 * 86400


class QuotaExceeded(RelayError):
    code = "quota_exceeded"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class QuotaTicket:
    """One unit taken from a key's quota, to give back if nothing was sent."""

    key: str


def day_key(name: str, now: datetime) -> str:
    return f"quota:{name}:{now.astimezone(CHINA).date().isoformat()}"


def seconds_to_next_day(now: datetime) -> int:
    """Whole seconds (at least 1) until the next midnight UTC+8."""
    local = now.astimezone(CHINA)
    midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), CHINA)
    return max(1, int((midnight - local).total_seconds() + 0.999))


class Quotas:
    """Take and give back units of per-key daily quotas."""

    def __init__(self, state: StateStore, clock: Clock) -> None:
        self._state = state
        self._clock = clock

    def take(self, name: str, per_day: int) -> QuotaTicket:
        """One unit of `name`'s quota for today; QuotaExceeded when none is left."""
        now = self._clock.now()
        key = day_key(name, now)

        def one_more(used: int | None) -> int:
            if (used or 0) >= per_day:
                raise QuotaExceeded(
                    f"API key {name!r} has used its quota of {per_day} sends for today "
                    "(days start at 00:00 UTC+8); nothing was sent",
                    retry_after=seconds_to_next_day(now),
                )
            return (used or 0) + 1

        update_json(self._state, key, one_more, COUNTER_TTL_SECONDS)
        return QuotaTicket(key)

    def give_back(self, ticket: QuotaTicket) -> None:
        """Return a unit taken for a send that did not happen (never below 0)."""

        def one_less(used: int | None) -> int | None:
            return used - 1 if used else None

        update_json(self._state, ticket.key, one_less, COUNTER_TTL_SECONDS)

    def used(self, name: str) -> int:
        """Units of `name`'s quota taken today."""
        current = self._state.get(day_key(name, self._clock.now()))
        return int(json.loads(current.value)) if current else 0
