"""Campaign persistence over the StateStore port: state record, row blocks, leases, pending list.

`campaign:<id>` is written only with compare_and_set; `campaign:<id>:block:<n>` holds up to
10,000 validated rows; `campaigns:pending` lists the campaigns the finisher still has to drive.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Callable

from sesrelay.campaigns.model import Campaign
from sesrelay.campaigns.rows import Row
from sesrelay.errors import RelayError
from sesrelay.state import StateStore

#: Long enough for a recurring campaign to be looked at after its first weeks; rows and state
#: expire together, well after SES has sent (ListSendTasks keeps the tasks anyway).
TTL_SECONDS = 30 * 24 * 3600
PENDING_KEY = "campaigns:pending"
_ID_RE = re.compile(r"cmp_[0-9a-f]{16}")
_CAS_ATTEMPTS = 20


class CampaignConflict(RelayError):
    """Another invocation changed the campaign meanwhile; this one must stop touching it."""

    code = "campaign_conflict"


class CampaignRowsMissing(RelayError):
    """A block of rows vanished (expired or deleted): the campaign cannot continue."""

    code = "campaign_rows_missing"


def new_campaign_id() -> str:
    """A campaign nobody can ask for again (the CLI's: it has no retry of the same request)."""
    return "cmp_" + secrets.token_hex(8)


def keyed_campaign_id(scope: str, key: str, fingerprint: str) -> str:
    """The campaign a keyed request starts. The same scope, Idempotency-Key and body always name
    the same campaign, so a retry after a crash finds the one the first attempt started (and a
    new body under an old key, once the key is forgotten, names a new one)."""
    digest = hashlib.sha256(f"{scope}\n{key}\n{fingerprint}".encode()).hexdigest()
    return "cmp_" + digest[:16]


def is_campaign_id(text: str) -> bool:
    return _ID_RE.fullmatch(text) is not None


class CampaignStore:
    def __init__(self, state: StateStore) -> None:
        self._state = state

    # -- the record ---------------------------------------------------------------------------

    def create(self, camp: Campaign) -> None:
        if self._state.claim(f"campaign:{camp.id}", camp.to_json(), TTL_SECONDS) is not None:
            raise CampaignConflict(f"campaign {camp.id} already exists")
        camp.version = 1

    def load(self, campaign_id: str) -> Campaign | None:
        record = self._state.get(f"campaign:{campaign_id}")
        return None if record is None else Campaign.from_json(record.value, record.version)

    def save(self, camp: Campaign) -> None:
        record = self._state.compare_and_set(
            f"campaign:{camp.id}", camp.version, camp.to_json(), TTL_SECONDS
        )
        if record is None:
            raise CampaignConflict(f"campaign {camp.id} was changed by another invocation")
        camp.version = record.version

    # -- rows -----------------------------------------------------------------------------------

    def put_block(self, campaign_id: str, number: int, rows: list[Row]) -> None:
        text = json.dumps(rows, ensure_ascii=False, separators=(",", ":"))
        self._state.put(f"campaign:{campaign_id}:block:{number}", text, TTL_SECONDS)

    def get_block(self, campaign_id: str, number: int) -> list[Row]:
        record = self._state.get(f"campaign:{campaign_id}:block:{number}")
        if record is None:
            raise CampaignRowsMissing(f"rows of campaign {campaign_id} (block {number}) expired")
        return [(email, data) for email, data in json.loads(record.value)]

    def delete_blocks(self, campaign_id: str, count: int) -> None:
        for number in range(count):
            self._state.delete(f"campaign:{campaign_id}:block:{number}")

    # -- who works on a campaign ----------------------------------------------------------------

    def lease(self, campaign_id: str, seconds: float) -> str | None:
        """A token if this invocation may drive the campaign for `seconds`, else None."""
        token = secrets.token_hex(8)
        taken = self._state.claim(f"campaign:{campaign_id}:lease", token, max(seconds, 1.0))
        return token if taken is None else None

    def release(self, campaign_id: str, token: str) -> None:
        key = f"campaign:{campaign_id}:lease"
        record = self._state.get(key)
        if record is not None and record.value == token:
            self._state.delete(key, expected_version=record.version)

    # -- the finisher's list --------------------------------------------------------------------

    def pending(self) -> list[str]:
        record = self._state.get(PENDING_KEY)
        return [] if record is None else list(json.loads(record.value))

    def add_pending(self, campaign_id: str) -> None:
        self._update_pending(lambda ids: ids if campaign_id in ids else [*ids, campaign_id])

    def remove_pending(self, campaign_id: str) -> None:
        self._update_pending(lambda ids: [i for i in ids if i != campaign_id])

    def _update_pending(self, change: Callable[[list[str]], list[str]]) -> None:
        for _ in range(_CAS_ATTEMPTS):
            record = self._state.get(PENDING_KEY)
            if record is None:
                wanted = change([])
                if (
                    not wanted
                    or self._state.claim(PENDING_KEY, json.dumps(wanted), TTL_SECONDS) is None
                ):
                    return
                continue  # someone created the index first: read it again
            current = list(json.loads(record.value))
            wanted = change(current)
            if wanted == current:
                return
            if self._state.compare_and_set(
                PENDING_KEY, record.version, json.dumps(wanted), TTL_SECONDS
            ):
                return
        raise CampaignConflict("the pending-campaign index is too contended; retry")
