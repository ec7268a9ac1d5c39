"""The campaign state machine: create groups, upload chunks, wait for SES, create batch tasks.

Every SES write sits between a saved intent and its saved outcome. An intent found later means
"SES may have done it": it is settled by the rules of campaign_reconcile, never by repeating.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sesrelay.campaigns.model import ACTIVE_STATES, Campaign, Intent, Shard
from sesrelay.campaigns.pacer import PacedGateway, Pacer
from sesrelay.campaigns.reconcile import (
    Listing,
    Verdict,
    group_verdict,
    list_groups,
    task_verdict,
    upload_verdict,
)
from sesrelay.campaigns.rows import template_data_text
from sesrelay.campaigns.store import CampaignConflict, CampaignRowsMissing, CampaignStore
from sesrelay.clock import Deadline
from sesrelay.errors import RelayError, SesError
from sesrelay.wiring import Services

POLL_FIRST_SECONDS = 0.25  # small uploads finish at once in the emulator; SES takes longer
POLL_MAX_SECONDS = 5.0
#: How long an ambiguous write may take to show in SES's lists before its absence counts as
#: "did not happen" (SES documents no consistency window; uploads are processed asynchronously).
SETTLE_SECONDS = 30.0
WRITE_RESERVE_SECONDS = 1.0  # no SES write starts with less time left (it could be cut short)
REPEAT_NAME = "InvalidParameterValue.RepeatReceiverName"
RECEIVER_BUSY = "OperationDenied.ReceiverIsOperating"  # refused (not done): the list is uploading

OnChange = Callable[[Campaign], None]


class _Stop(Exception):
    """Out of time for another write: the campaign waits for the next invocation."""


def group_name(campaign_id: str, index: int) -> str:
    # Deterministic, so a CreateReceiver whose reply was lost is found again by name.
    return f"sr-{campaign_id}-{index}"


class Runner:
    """Drives one campaign until it is final, waits on SES, or runs out of time."""

    def __init__(
        self,
        services: Services,
        store: CampaignStore,
        camp: Campaign,
        deadline: Deadline,
        reserve: float = 0.0,
        on_change: OnChange | None = None,
    ) -> None:
        # one pacer per warm instance: consecutive invocations share SES's per-second budget
        pacer = services.cache.setdefault("ses_pacer", Pacer(services.clock))
        self.ses = PacedGateway(services.ses, pacer)
        self.clock, self.store, self.camp = services.clock, store, camp
        self.deadline, self.reserve, self.on_change = deadline, reserve, on_change
        self.seen: dict[str, Listing] = {}
        self.stopped = False

    def run(self) -> Campaign:
        camp = self.camp
        try:
            if camp.state == "uploading" and any(s.receiver_id or s.intent for s in camp.shards):
                self._poll()  # resuming: learn what SES holds now
            delay = POLL_FIRST_SECONDS
            while not self.stopped and camp.state in ACTIVE_STATES:
                if self._step():
                    delay = POLL_FIRST_SECONDS
                if self.stopped or camp.state not in ACTIVE_STATES:
                    break
                if self._left() < delay + WRITE_RESERVE_SECONDS:
                    break
                self.clock.sleep(delay)
                delay = min(delay * 1.5, POLL_MAX_SECONDS)
                if camp.state == "uploading":
                    self._poll()
        except (_Stop, CampaignConflict):
            pass  # out of time, or another invocation took over
        return camp

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
            "Message": error.message,
            "Step": step,
            "Shard": shard.index if shard else None,
            "Outcome": error.outcome.value if isinstance(error, SesError) else None,
            "At": self.clock.now().isoformat(timespec="seconds"),
        }
        return self.camp.last_error

    def _unconfirmed(self, shard: Shard, step: str, message: str) -> None:
        error = {"Code": "unconfirmed", "Message": message, "Shard": shard.index, "Step": step}
        self._finish("unconfirmed", shard, error)

    def _write(self, shard: Shard, step: str, action: str, params: dict[str, Any]) -> Any:
        """One SES write between a saved intent and its outcome; None unless it succeeded."""
        if self._left() < WRITE_RESERVE_SECONDS:
            raise _Stop
        shard.intent = Intent(step, self._now(), shard.uploaded, shard.count)
        self._save()
        try:
            return self.ses.call(action, params, self.deadline)
        except SesError as error:
            entry = self._note(error, shard, step)
            if error.code == REPEAT_NAME or error.outcome_unknown:
                self._save()  # the intent stays, to be settled from SES's lists
            elif error.code == RECEIVER_BUSY:
                shard.intent, shard.status = None, 2
                self._save()
            elif error.retryable:  # SES did not act: a later invocation tries again
                shard.intent, self.stopped = None, True
                self._save()
            else:
                self._finish("failed", shard, entry)
        except RelayError as error:  # e.g. no credentials: SES was not called
            shard.intent, self.stopped = None, True
            self._note(error, shard, step)
            self._save()
        return None

    # -- the steps --------------------------------------------------------------------------------

    def _step(self) -> bool:
        """Do everything SES allows right now; True if anything was written or settled."""
        camp, acted = self.camp, False
        if camp.state == "uploading":
            for shard in camp.shards:
                acted |= self._advance_upload(shard)
                if self.stopped:
                    return acted
            if all(s.upload_done for s in camp.shards):
                for shard in camp.shards:
                    shard.state = "uploaded"
                camp.state, acted = "sending", True
                self._save()
        if camp.state == "sending":
            for shard in camp.shards:
                acted |= self._advance_send(shard)
                if self.stopped:
                    return acted
            if all(s.task_id is not None for s in camp.shards):
                self._finish("sent" if camp.batch.get("TaskType", 1) == 1 else "scheduled")
        return acted

    def _advance_upload(self, shard: Shard) -> bool:
        acted = False
        if shard.intent is not None:
            acted = self._reconcile_upload(shard)
            if not acted or self.stopped:
                return acted
        if shard.receiver_id is None:
            desc = f"sesrelay {self.camp.id} shard {shard.index + 1} of {len(self.camp.shards)}"
            params = {"ReceiversName": shard.name, "Desc": desc}
            result, acted = self._write(shard, "create", "CreateReceiver", params), True
            if result is None:
                return acted
            shard.receiver_id, shard.status, shard.count = int(result["ReceiverId"]), 1, 0
            shard.intent, shard.state = None, "uploading"
            self._save()
        if shard.uploaded < len(shard.chunks) and shard.status in (1, 3):
            self._upload(shard)
            acted = True
        return acted

    def _upload(self, shard: Shard) -> None:
        try:
            rows = [
                row
                for number in shard.chunks[shard.uploaded]
                for row in self.store.get_block(self.camp.id, number)
            ]
        except CampaignRowsMissing as error:
            self._finish("failed", shard, self._note(error, shard, "upload"))
            return
        params: dict[str, Any] = {"ReceiverId": shard.receiver_id}
        if self.camp.with_data:
            action = "CreateReceiverDetailWithData"
            params["Datas"] = [{"Email": e, "TemplateData": template_data_text(d)} for e, d in rows]
        else:
            action, params["Emails"] = "CreateReceiverDetail", [email for email, _ in rows]
        if self._write(shard, "upload", action, params) is not None:
            shard.uploaded, shard.status, shard.intent = shard.uploaded + 1, 2, None
            shard.uploaded_at = self._now()
            self._save()

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

    def _advance_send(self, shard: Shard) -> bool:
        if shard.task_id is not None:
            return False
        if shard.intent is not None:
            return self._reconcile_send(shard)
        params = {**self.camp.batch, "ReceiverId": shard.receiver_id}
        result = self._write(shard, "send", "BatchSendEmail", params)
        if result is not None:
            self._sent(shard, int(result["TaskId"]))
        return True

    def _sent(self, shard: Shard, task_id: int) -> None:
        shard.task_id, shard.intent = task_id, None
        shard.state = "sent" if self.camp.batch.get("TaskType", 1) == 1 else "scheduled"
        self._save()

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
            seen = list_groups(self.ses, group_name(self.camp.id, 0)[:-1], self.deadline)
        except SesError as error:
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
