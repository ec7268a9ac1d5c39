"""The emulated SES product: its actions, time-driven state and outbox, plugged into the core."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sesrelay.emulator.callbacks import CallbackQueue
from sesrelay.emulator.protocol import Action, Params
from sesrelay.emulator.ses import batch as ses_batch
from sesrelay.emulator.ses import catalog as ses_catalog
from sesrelay.emulator.ses import codes
from sesrelay.emulator.ses import params as p
from sesrelay.emulator.ses import receivers as ses_receivers
from sesrelay.emulator.ses import send as ses_send
from sesrelay.emulator.ses import template_actions as ses_templates
from sesrelay.emulator.ses.addresses import normalize
from sesrelay.emulator.ses.seed import Seed
from sesrelay.emulator.ses.simulator import events_for
from sesrelay.emulator.ses.store import Mail, SesState
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
    """The SES product: its actions (each answering only the codes `codes` allows), its state."""

    name = "ses"
    version = VERSION
    regions = REGIONS
    #: read by the HTTP server before the body: SES caps requests below API 3.0's 10 MB
    max_body_bytes = codes.MAX_REQUEST_BYTES

    def __init__(
        self,
        seed: Seed,
        clock: BusinessClock,
        upload_seconds: float = 1.0,
        callbacks: CallbackQueue | None = None,
    ) -> None:
        if upload_seconds < 0:
            raise ValueError("upload_seconds must not be negative")
        self.state = SesState(seed, clock, upload_seconds)
        #: where the mailbox simulator's events are posted (no URL: they are only listed)
        self.callbacks = callbacks if callbacks is not None else CallbackQueue()
        self.state.on_record = self._simulate
        self._actions = self._build_actions()

    def _simulate(self, mail: Mail) -> None:
        """Play the mailbox simulator for a mail entering the outbox; queue its callbacks."""
        mail.events = self.callbacks.submit(events_for(mail, self.state.seed.app_id))

    def _bind(
        self,
        name: str,
        params: type[Params],
        fn: Callable[[SesState, Any], dict[str, Any]],
        missing: Mapping[str, str] | None = None,
    ) -> tuple[str, Action]:
        for code in (missing or {}).values():
            codes.check(name, code)
        state = self.state
        handler = codes.guard(name, lambda req: fn(state, req))
        return name, Action(params, handler, dict(missing or {}))

    def _build_actions(self) -> dict[str, Action]:
        """Sends, send tasks and recipient lists; then the catalogue's."""
        b = self._bind
        actions = dict(
            [
                b("SendEmail", p.SendEmail, ses_send.send_email),
                b("GetSendEmailStatus", p.GetSendEmailStatus, ses_send.get_send_email_status),
                b("BatchSendEmail", p.BatchSendEmail, ses_batch.batch_send_email, _SEND_PARAMS),
                b("ListSendTasks", p.ListSendTasks, ses_batch.list_send_tasks),
                b("CreateReceiver", p.CreateReceiver, ses_receivers.create_receiver),
                b(
                    "CreateReceiverDetail",
                    p.CreateReceiverDetail,
                    ses_receivers.create_receiver_detail,
                    {**_RECEIVER_ID, **_EMAILS},
                ),
                b(
                    "CreateReceiverDetailWithData",
                    p.CreateReceiverDetailWithData,
                    ses_receivers.create_receiver_detail_with_data,
                    {"Datas": "MissingParameter.EmailsNecessary"},
                ),
                b("ListReceivers", p.ListReceivers, ses_receivers.list_receivers),
                b(
                    "ListReceiverDetails",
                    p.ListReceiverDetails,
                    ses_receivers.list_receiver_details,
                ),
                b("DeleteReceiver", p.DeleteReceiver, ses_receivers.delete_receiver, _RECEIVER_ID),
            ]
        )
        actions.update(self._catalog_actions())
        return actions

    def _catalog_actions(self) -> dict[str, Action]:
        """Templates, sender addresses and the custom blacklist."""
        b = self._bind
        return dict(
            [
                b("ListEmailTemplates", p.ListEmailTemplates, ses_catalog.list_email_templates),
                b("GetEmailTemplate", p.GetEmailTemplate, ses_catalog.get_email_template),
                b(
                    "CreateEmailTemplate",
                    p.CreateEmailTemplate,
                    ses_templates.create_email_template,
                ),
                b(
                    "UpdateEmailTemplate",
                    p.UpdateEmailTemplate,
                    ses_templates.update_email_template,
                ),
                b(
                    "DeleteEmailTemplate",
                    p.DeleteEmailTemplate,
                    ses_templates.delete_email_template,
                ),
                b("ListEmailAddress", p.ListEmailAddress, ses_catalog.list_email_address),
                b(
                    "CreateCustomBlacklist",
                    p.CreateCustomBlacklist,
                    ses_catalog.create_custom_blacklist,
                    _EMAILS,
                ),
                b("ListCustomBlacklist", p.ListCustomBlacklist, ses_catalog.list_custom_blacklist),
                b(
                    "DeleteCustomBlackList",
                    p.DeleteCustomBlackList,
                    ses_catalog.delete_custom_blacklist,
                ),
                b(
                    "UpdateCustomBlackList",
                    p.UpdateCustomBlackList,
                    ses_catalog.update_custom_blacklist,
                ),
            ]
        )

    # -- the Service protocol -------------------------------------------------------------------

    def actions(self) -> Mapping[str, Action]:
        return self._actions

    def tick(self, now: datetime) -> None:
        ses_receivers.complete_uploads(self.state, now)
        # Tasks first: each run judges its template as it was at the run's own time.
        ses_batch.run_due_tasks(self.state, now)
        ses_templates.finish_reviews(self.state, now)

    def reset(self) -> None:
        self.state.reset()

    def control(
        self, method: str, path: str, query: Mapping[str, str], body: bytes
    ) -> tuple[int, Any] | None:
        if path != "/_emulator/outbox":
            return ses_templates.control(self.state, method, path, body)
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
