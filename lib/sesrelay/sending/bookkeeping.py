"""What the pipeline writes down around one send, besides the log line: the key's quota unit
(taken before SES is called, given back when nothing was sent) and the send record (saved
once SES accepted the send).

Bookkeeping never changes a send's outcome: a record that cannot be saved after SES accepted
the send is logged (`record_error`) and the caller still hears "sent".
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from sesrelay.errors import RelayError
from sesrelay.logs import LOGGER_NAME
from sesrelay.records import EMAIL, TASK, RecordBook, SendRecord
from sesrelay.ses.addresses import sender_address

if TYPE_CHECKING:
    from sesrelay.keys import KeyScope

log = logging.getLogger(LOGGER_NAME)


def check_scope(key: KeyScope | None, action: str, params: Any) -> None:
    """ScopeDenied unless the request's key may call `action` from this sender (and, for
    SendEmail, with this visible HeaderFrom)."""
    if key is None:
        return
    key.require(action)
    key.require_sender(params.FromEmailAddress)
    header_from = getattr(params, "HeaderFrom", None)
    if header_from:
        key.require_sender(header_from, "HeaderFrom")


def send_record(
    request: Any, params: Any, result: dict[str, Any], now: datetime
) -> SendRecord | None:
    """The record of an accepted send (`request` a pipeline SendRequest, `params` its validated
    SES parameters); None when SES's reply carries no id to file it under."""
    template = getattr(params, "Template", None)
    common: dict[str, Any] = {
        "created": now.astimezone(timezone.utc).isoformat(timespec="seconds"),
        "entry": request.entry,
        "key": request.key.name if request.key else None,
        "idempotency_key": request.idempotency_key,
        "sender": sender_address(params.FromEmailAddress),
        "template_id": template.TemplateID if template is not None else None,
    }
    if request.action == "SendEmail" and result.get("MessageId"):
        recipients = [
            *(getattr(params, "Destination", None) or []),
            *(getattr(params, "Cc", None) or []),
            *(getattr(params, "Bcc", None) or []),
        ]
        return SendRecord(
            kind=EMAIL,
            id=str(result["MessageId"]),
            recipient_count=len(recipients),
            recipients=[str(address) for address in recipients],
            **common,
        )
    if request.action == "BatchSendEmail" and result.get("TaskId") is not None:
        return SendRecord(
            kind=TASK,
            id=str(result["TaskId"]),
            recipient_count=None,
            receiver_id=getattr(params, "ReceiverId", None),
            **common,
        )
    return None


def save_record(records: RecordBook, record: SendRecord | None, fields: dict[str, Any]) -> None:
    """Save the record; a store failure is logged into the invocation's fields, not raised."""
    if record is None:
        return
    try:
        records.save(record)
    except RelayError as error:
        fields["record_error"] = error.code
        log.warning("send record not saved", extra={"fields": {"code": error.code}})


def batch_record(
    task_id: int,
    batch: dict[str, Any],
    *,
    entry: str,
    key: str | None,
    receiver_id: int | None,
    recipient_count: int | None,
    now: datetime,
) -> SendRecord:
    """The record of a batch task made outside the pipeline (a campaign's shard), from the
    BatchSendEmail parameters it was created with."""
    template = batch.get("Template") or {}
    template_id = template.get("TemplateID") if isinstance(template, dict) else None
    return SendRecord(
        kind=TASK,
        id=str(task_id),
        created=now.astimezone(timezone.utc).isoformat(timespec="seconds"),
        entry=entry,
        key=key,
        idempotency_key=None,
        sender=sender_address(str(batch.get("FromEmailAddress", ""))),
        template_id=template_id if isinstance(template_id, int) else None,
        recipient_count=recipient_count,
        receiver_id=receiver_id,
    )
