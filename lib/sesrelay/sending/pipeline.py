"""The send use case shared by every entry point: validate, check the sender, call SES once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sesrelay.clock import Clock, Deadline
from sesrelay.errors import RelayError
from sesrelay.gateway import SesGateway
from sesrelay.ses.models import (
    BatchSendEmailParams,
    SendEmailParams,
    validate_batch_send_email,
    validate_send_email,
)

#: The send actions every entry point accepts, in the order messages name them.
SEND_ACTIONS = ("SendEmail", "BatchSendEmail")


class SenderNotAllowed(RelayError):
    code = "sender_not_allowed"


def sender_address(from_field: str) -> str:
    """`Team <noreply@example.com>` -> `noreply@example.com` (already validated syntax)."""
    if from_field.endswith(">") and "<" in from_field:
        return from_field[from_field.rindex("<") + 1 : -1].strip()
    return from_field.strip()


def check_sender(from_field: str, allowed: Sequence[str]) -> None:
    """Refuse a sender outside SESRELAY_ALLOWED_SENDERS (addresses or `@domain`s).

    An empty list leaves the choice to SES, which only sends from verified senders.
    """
    if not allowed:
        return
    address = sender_address(from_field).lower()
    domain = "@" + address.rpartition("@")[2]
    if any(entry.lower() in (address, domain) for entry in allowed):
        return
    raise SenderNotAllowed(
        "FromEmailAddress is not in SESRELAY_ALLOWED_SENDERS; "
        "use an allowed sender or ask the operator to add it"
    )


def check_senders(params: SendEmailParams | BatchSendEmailParams, allowed: Sequence[str]) -> None:
    """The envelope sender and, for SendEmail, the visible HeaderFrom must both be allowed."""
    check_sender(params.FromEmailAddress, allowed)
    header_from = getattr(params, "HeaderFrom", None)
    if header_from:
        try:
            check_sender(header_from, allowed)
        except SenderNotAllowed:
            raise SenderNotAllowed(
                "HeaderFrom is not in SESRELAY_ALLOWED_SENDERS; the visible sender must be "
                "allowed too"
            ) from None


def validate(
    action: str, raw: object, *, clock: Clock, allow_simple: bool
) -> SendEmailParams | BatchSendEmailParams:
    if action == "SendEmail":
        return validate_send_email(raw, now=clock.now(), allow_simple=allow_simple)
    return validate_batch_send_email(raw, now=clock.now(), allow_simple=allow_simple)


def send(
    ses: SesGateway,
    action: str,
    params: SendEmailParams | BatchSendEmailParams,
    *,
    allowed_senders: Sequence[str],
    deadline: Deadline,
) -> dict[str, Any]:
    check_senders(params, allowed_senders)
    return ses.call(action, params.to_ses(), deadline)
