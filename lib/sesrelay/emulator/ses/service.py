"""The emulated SES product: its actions, time-driven state and outbox, plugged into the core."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sesrelay.emulator.protocol import Action, Params
from sesrelay.emulator.ses import batch as ses_batch
from sesrelay.emulator.ses import catalog as ses_catalog
from sesrelay.emulator.ses import params as p
from sesrelay.emulator.ses import receivers as ses_receivers
from sesrelay.emulator.ses import send as ses_send
from sesrelay.emulator.ses.addresses import normalize
from sesrelay.emulator.ses.seed import Seed
from sesrelay.emulator.ses.store import SesState
from sesrelay.emulator.timeline import BusinessClock

VERSION = "2020-10-02"
#: The regions SES serves: the China site's ap-guangzhou and ap-hongkong, and the international
#: site's ap-singapore.
REGIONS = frozenset({"ap-guangzhou", "ap-hongkong", "ap-singapore"})

_SEND_PARAMS = dict.fromkeys(
    ("FromEmailAddress", "ReceiverId", "Subject", "TaskType"), "MissingParameter.SendParamNecessary"
)
_RECEIVER_ID = {"ReceiverId": "MissingParameter.ReceiverIdNecessary"}
_EMAILS = {"Emails": "MissingParameter.EmailsNecessary"}


class SesService:
    name = "ses"
    version = VERSION
    regions = REGIONS

    def __init__(self, seed: Seed, clock: BusinessClock, upload_seconds: float = 1.0) -> None:
        if upload_seconds < 0:
            raise ValueError("upload_seconds must not be negative")
        self.state = SesState(seed, clock, upload_seconds)
        self._actions = self._build_actions()

    def _bind(
        self,
        params: type[Params],
        fn: Callable[[SesState, Any], dict[str, Any]],
        missing: Mapping[str, str] | None = None,
    ) -> Action:
        state = self.state
        return Action(params, lambda req: fn(state, req), dict(missing or {}))

    def _build_actions(self) -> dict[str, Action]:
        b = self._bind
        return {
            "SendEmail": b(p.SendEmail, ses_send.send_email),
            "GetSendEmailStatus": b(p.GetSendEmailStatus, ses_send.get_send_email_status),
            "BatchSendEmail": b(p.BatchSendEmail, ses_batch.batch_send_email, _SEND_PARAMS),
            "ListSendTasks": b(p.ListSendTasks, ses_batch.list_send_tasks),
            "CreateReceiver": b(p.CreateReceiver, ses_receivers.create_receiver),
            "CreateReceiverDetail": b(
                p.CreateReceiverDetail,
                ses_receivers.create_receiver_detail,
                {**_RECEIVER_ID, **_EMAILS},
            ),
            "CreateReceiverDetailWithData": b(
                p.CreateReceiverDetailWithData,
                ses_receivers.create_receiver_detail_with_data,
                {**_RECEIVER_ID, "Datas": "MissingParameter.EmailsNecessary"},
            ),
            "ListReceivers": b(p.ListReceivers, ses_receivers.list_receivers),
            "ListReceiverDetails": b(
                p.ListReceiverDetails, ses_receivers.list_receiver_details, _RECEIVER_ID
            ),
            "DeleteReceiver": b(p.DeleteReceiver, ses_receivers.delete_receiver, _RECEIVER_ID),
            "ListEmailTemplates": b(p.ListEmailTemplates, ses_catalog.list_email_templates),
            "GetEmailTemplate": b(p.GetEmailTemplate, ses_catalog.get_email_template),
            "ListEmailAddress": b(p.ListEmailAddress, ses_catalog.list_email_address),
            "CreateCustomBlacklist": b(
                p.CreateCustomBlacklist, ses_catalog.create_custom_blacklist, _EMAILS
            ),
            "ListCustomBlacklist": b(p.ListCustomBlacklist, ses_catalog.list_custom_blacklist),
            "DeleteCustomBlackList": b(
                p.DeleteCustomBlackList, ses_catalog.delete_custom_blacklist, _EMAILS
            ),
            "UpdateCustomBlackList": b(
                p.UpdateCustomBlackList, ses_catalog.update_custom_blacklist
            ),
        }

    # -- the Service protocol -------------------------------------------------------------------

    def actions(self) -> Mapping[str, Action]:
        return self._actions

    def tick(self, now: datetime) -> None:
        ses_receivers.complete_uploads(self.state, now)
        ses_batch.run_due_tasks(self.state, now)

    def reset(self) -> None:
        self.state.reset()

    def control(
        self, method: str, path: str, query: Mapping[str, str], body: bytes
    ) -> tuple[int, Any] | None:
        if path != "/_emulator/outbox":
            return None
        if method != "GET":
            return 405, {"error": "use GET"}
        task_id: int | None = None
        if query.get("task_id"):
            if not query["task_id"].isdigit():
                return 400, {"error": "task_id must be an integer"}
            task_id = int(query["task_id"])
        messages = self.outbox(query.get("to") or None, task_id, query.get("message_id") or None)
        return 200, {"count": len(messages), "messages": messages}

    # -- inspection -------------------------------------------------------------------------------

    def outbox(
        self, to: str | None = None, task_id: int | None = None, message_id: str | None = None
    ) -> list[dict[str, Any]]:
        """Sent mail, oldest first; filters combine (recipient compared case-insensitively)."""
        return [
            m.as_dict()
            for m in self.state.outbox
            if (to is None or normalize(m.to) == normalize(to))
            and (task_id is None or m.task_id == task_id)
            and (message_id is None or m.message_id == message_id)
        ]
