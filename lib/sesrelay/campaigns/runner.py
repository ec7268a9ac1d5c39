"""The campaign state machine: create groups, upload chunks, wait for SES, create batch tasks.

Every SES write sits between a saved intent and its saved outcome. An intent found later means
"SES may have done it": it is settled from SES's lists (settle.py), never by repeating.
"""

from __future__ import annotations

from typing import Any

from sesrelay.campaigns.model import ACTIVE_STATES, Campaign, Intent, Shard
from sesrelay.campaigns.rows import template_data_text
from sesrelay.campaigns.settle import Settler
from sesrelay.campaigns.store import CampaignConflict, CampaignRowsMissing
from sesrelay.errors import RelayError, SesError
from sesrelay.sending.outcome import SendKind, failed

POLL_FIRST_SECONDS = 0.25  # small uploads finish at once in the emulator; SES takes longer
POLL_MAX_SECONDS = 5.0
WRITE_RESERVE_SECONDS = 1.0  # no SES write starts with less time left (it could be cut short)
REPEAT_NAME = "InvalidParameterValue.RepeatReceiverName"
RECEIVER_BUSY = "OperationDenied.ReceiverIsOperating"  # refused (not done): the list is uploading


class _Stop(Exception):
    """Out of time for another write: the campaign waits for the next invocation."""


class Runner(Settler):
    """Drives one campaign until it is final, waits on SES, or runs out of time."""

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

    def _write(self, shard: Shard, step: str, action: str, params: dict[str, Any]) -> Any:
        """One SES write between a saved intent and its outcome; None unless it succeeded."""
        if self._left() < WRITE_RESERVE_SECONDS:
            raise _Stop
        shard.intent = Intent(step, self._now(), shard.uploaded, shard.count)
        self._save()
        try:
            return self.ses.call(action, params, self.deadline)
        except RelayError as error:
            # The outcome classes of every send (sending.outcome), applied to each write.
            kind = failed(error).kind
            entry = self._note(error, shard, step)
            if kind is SendKind.OUTCOME_UNKNOWN or error.code == REPEAT_NAME:
                self._save()  # the intent stays, to be settled from SES's lists
            elif error.code == RECEIVER_BUSY:
                shard.intent, shard.status = None, 2
                self._save()
            elif kind is SendKind.RETRY_LATER or not isinstance(error, SesError):
                # SES did not act (throttled, or never called: no credentials): a later
                # invocation tries again
                shard.intent, self.stopped = None, True
                self._save()
            else:
                self._finish("failed", shard, entry)
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
        del rows  # the request holds what it needs: 20,000 rows need not be held twice
        if self._write(shard, "upload", action, params) is not None:
            shard.uploaded, shard.status, shard.intent = shard.uploaded + 1, 2, None
            shard.uploaded_at = self._now()
            self._save()

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
