"""Send at most once per key (a timer tick, a webhook delivery) through the StateStore.

The claim lives as long as the invocation may run; afterwards the key remembers the outcome.
Failures SES certainly did not act on free the key; ambiguous ones keep it, so a retry of the
same tick or delivery can never send a second mail.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from sesrelay.clock import Deadline
from sesrelay.errors import RelayError, SesError
from sesrelay.logs import log
from sesrelay.state import StateStore, StateStoreError

CLAIM_MARGIN_SECONDS = 5.0


@dataclass(frozen=True)
class Once:
    status: Literal["sent", "duplicate", "in_progress"]
    result: dict[str, Any] | None = None
    first_outcome: str | None = None


def send_once(
    store: StateStore,
    key: str,
    *,
    deadline: Deadline,
    remember_seconds: float,
    send: Callable[[], dict[str, Any]],
) -> Once:
    claim = json.dumps({"state": "in_progress"})
    existing = store.claim(key, claim, deadline.remaining() + CLAIM_MARGIN_SECONDS)
    if existing is not None:
        state = str(json.loads(existing.value).get("state"))
        if state == "in_progress":
            return Once("in_progress")
        return Once("duplicate", first_outcome=state)
    try:
        result = send()
    except SesError as error:
        if error.outcome_unknown:
            record = {"state": "outcome_unknown", "code": error.code}
            store.put(key, json.dumps(record), remember_seconds)
        else:
            store.delete(key)
        raise
    except RelayError:
        store.delete(key)
        raise
    try:
        store.put(key, json.dumps({"state": "sent"}), remember_seconds)
    except StateStoreError:
        # The mail is sent: say so. The claim keeps blocking redeliveries until it expires.
        log.error(
            "could not record a sent key", extra={"fields": {"code": "state_store_unavailable"}}
        )
    return Once("sent", result=result)
