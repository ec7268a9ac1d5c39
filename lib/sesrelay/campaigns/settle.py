"""The half of the campaign runner that reads: the campaign's record, saved after every change,
and the writes whose outcome is unknown settled from SES's own lists (ListReceivers, ListSendTasks).

`runner.Runner` adds the writes. Settling never repeats a write: it adopts what SES holds, clears
the intent once SES certainly did not act, or reports what it cannot explain.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sesrelay.campaigns.model import Campaign, Shard, group_prefix
from sesrelay.campaigns.reconcile import (
    Listing,
    Verdict,
    group_verdict,
    task_verdict,
    upload_verdict,
)
from sesrelay.campaigns.store import CampaignStore
from sesrelay.clock import Deadline
from sesrelay.errors import RelayError, SesError, public_message
from sesrelay.gateway import SesGateway
from sesrelay.receivers import TooManyReceivers, iter_receivers
from sesrelay.sending.bookkeeping import batch_record, save_record
from sesrelay.wiring import Services

#: How long an ambiguous write may take to show in SES's lists before its absence counts as
#: "did not happen" (SES documents no consistency window; uploads are processed asynchronously).
SETTLE_SECONDS = 30.0

OnChange = Callable[[Campaign], None]


def list_groups(ses: SesGateway, prefix: str, deadline: Deadline) -> dict[str, Listing]:
    """Every recipient group whose name starts with `prefix`: one ListReceivers per 100."""
    found: dict[str, Listing] = {}
    for item in iter_receivers(ses, deadline, keyword=prefix):
        name = str(item.get("ReceiversName") or "")
        if name.startswith(prefix):  # KeyWord is a fuzzy match: keep exact prefixes only
            status, count = item.get("ReceiversStatus"), item.get("Count")
            found[name] = (int(item["ReceiverId"]), int(status or 0), int(count or 0))
    return found


class Settler:
    """One campaign's record while an invocation drives it, and what SES's lists say about it."""

    def __init__(
        self,
        services: Services,
        store: CampaignStore,
        camp: Campaign,
        deadline: Deadline,
        reserve: float = 0.0,
        on_change: OnChange | None = None,
    ) -> None:
        # Every call goes through the one SES gateway, whose rate limiter (SESRELAY_SES_RATE)
        # paces campaigns and sends alike.
        self.ses = services.ses
        self.services = services
        self.clock, self.store, self.camp = services.clock, store, camp
        self.deadline, self.reserve, self.on_change = deadline, reserve, on_change
        self.seen: dict[str, Listing] = {}
        self.stopped = False

    # -- bookkeeping ------------------------------------------------------------------------------

    def _left(self) -> float:
        return self.deadline.remaining() - self.reserve

    def _now(self) -> float:
        return self.clock.now().timestamp()

    def _save(self) -> None:
        self.camp.updated_at = self.clock.now().isoformat(timespec="seconds")
        self.store.save(self.camp)
        if self.on_change is not None:
            self.on_change(self.camp)

    def _finish(
        self, state: str, shard: Shard | None = None, error: dict[str, Any] | None = None
    ) -> None:
        if shard is not None:
            shard.state, shard.intent = state, None
        if error is not None:
            self.camp.errors.append(error)
        self.camp.state = state
        self._save()
        self.store.remove_pending(self.camp.id)
        self.stopped = True

    def _note(self, error: RelayError, shard: Shard | None, step: str) -> dict[str, Any]:
        self.camp.last_error = {
            "Code": error.code,
            "Message": public_message(error),
            "Step": step,
            "Shard": shard.index if shard else None,
            "Outcome": error.outcome.value if isinstance(error, SesError) else None,
            "At": self.clock.now().isoformat(timespec="seconds"),
        }
        return self.camp.last_error

    def _unconfirmed(self, shard: Shard, step: str, message: str) -> None:
        error = {"Code": "unconfirmed", "Message": message, "Shard": shard.index, "Step": step}
        self._finish("unconfirmed", shard, error)

    def _sent(self, shard: Shard, task_id: int) -> None:
        shard.task_id, shard.intent = task_id, None
        shard.state = "sent" if self.camp.batch.get("TaskType", 1) == 1 else "scheduled"
        self._save()
        record = batch_record(
            task_id,
            self.camp.batch,
            entry=f"campaign:{self.camp.id}",
            key=self.camp.key,
            receiver_id=shard.receiver_id,
            recipient_count=sum(shard.chunk_rows),
            now=self.clock.now(),
        )
        save_record(self.services.records, record, {})

    # -- settling ---------------------------------------------------------------------------------

    def _reconcile_upload(self, shard: Shard) -> bool:
        """Settle a create or upload whose outcome is unknown; True once settled."""
        intent = shard.intent
        assert intent is not None
        listing = self.seen.get(shard.name)
        settled = self._now() - intent.at >= SETTLE_SECONDS
        if intent.step == "create":
            if listing is None and not settled:
                return False
            if listing is not None:  # created after all: adopt it
                shard.receiver_id, shard.status, shard.count = listing
                shard.state = "uploading"
            shard.intent = None  # else: never created, so creating it again is safe
            self._save()
            return True
        rows = shard.chunk_rows[intent.chunk]
        status, count = (listing[1], listing[2]) if listing else (None, 0)
        verdict = upload_verdict(
            count_before=intent.count_before, rows=rows, status=status, count=count, settled=settled
        )
        if verdict is Verdict.WAIT:
            return False
        if verdict is Verdict.MISMATCH:
            listed = "is not listed" if status is None else f"holds {count} addresses"
            self._unconfirmed(
                shard,
                "upload",
                f"upload {intent.chunk + 1} of {len(shard.chunks)} had no reply and the group "
                f"{listed}; expected {intent.count_before} (not uploaded) or "
                f"{intent.count_before + rows} (uploaded)",
            )
            return True
        if verdict is Verdict.LANDED:
            shard.uploaded, shard.uploaded_at = intent.chunk + 1, self._now()
        shard.status, shard.count, shard.intent = status or 0, count, None
        self._save()
        return True

    def _reconcile_send(self, shard: Shard) -> bool:
        """Find the task of a BatchSendEmail whose reply was lost; True once settled."""
        intent = shard.intent
        assert intent is not None
        settled = self._now() - intent.at >= SETTLE_SECONDS
        if intent.checked and not settled:
            return False  # looked once already: wait for the settle time before looking again
        query = {"Offset": 0, "Limit": 100, "ReceiverId": shard.receiver_id}
        try:
            tasks = self.ses.call("ListSendTasks", query, self.deadline).get("Data") or []
        except SesError as error:
            self._note(error, shard, "send")
            self.stopped = True
            return False
        verdict = task_verdict(tasks=len(tasks), settled=settled)
        if verdict is Verdict.LANDED:
            self._sent(shard, int(tasks[0]["TaskId"]))
        elif verdict is Verdict.MISMATCH:
            self._unconfirmed(shard, "send", f"SES lists {len(tasks)} tasks for this group")
        else:
            intent.checked = True
            if verdict is Verdict.ABSENT:
                shard.intent = None  # SES has no task for the group: sending is safe
            self._save()
        return verdict is not Verdict.WAIT

    def _poll(self) -> None:
        """Refresh every group of the campaign: one ListReceivers per 100 groups."""
        try:
            seen = list_groups(self.ses, group_prefix(self.camp.id), self.deadline)
        except (SesError, TooManyReceivers) as error:  # the next invocation polls again
            self._note(error, None, "poll")
            self.stopped = True
            return
        self.seen, changed = seen, False
        for shard in self.camp.shards:
            listing = seen.get(shard.name)
            if shard.intent is not None or shard.receiver_id is None:
                continue  # an intent is settled by its own rules
            recent = self._now() - shard.uploaded_at < SETTLE_SECONDS
            if listing is None or listing[0] != shard.receiver_id:
                if shard.uploaded and not recent:
                    self._unconfirmed(shard, "upload", "the recipient group is no longer listed")
                    return
                continue  # a new group may take a moment to be listed
            expected = sum(shard.chunk_rows[: shard.uploaded])
            last = shard.chunk_rows[shard.uploaded - 1] if shard.uploaded else 0
            _, status, count = listing
            verdict = group_verdict(
                expected=expected, last_rows=last, status=status, count=count, recent=recent
            )
            if verdict is Verdict.MISMATCH:
                message = f"the group holds {count} addresses; sesrelay uploaded {expected}"
                self._unconfirmed(shard, "upload", message)
                return
            before = (shard.status, shard.count)
            if verdict is Verdict.LANDED:
                shard.status, shard.count = status, count
            else:
                shard.status = 2  # SES is (or is about to be) processing an upload
            changed |= before != (shard.status, shard.count)
        if changed:
            self._save()
