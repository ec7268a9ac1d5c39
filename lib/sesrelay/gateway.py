"""The SES gateway port: the one boundary every send crosses.

Adapters: `adapters/ses_sdk.py` (the official SDK, against real SES or the emulator). Domain code
sees only this protocol and the typed `SesError` it raises.
"""

from __future__ import annotations

from typing import Any, Protocol

from sesrelay.clock import Deadline

#: Actions that make SES send mail, the ones every entry point (HTTP, timer, direct invocation,
#: webhook, config job) accepts, in the order messages name them. A failure after the request
#: left us may have sent the mail.
SEND_ACTIONS = ("SendEmail", "BatchSendEmail")

#: Sends, and the actions that change SES state without sending; like sends, never blindly
#: retried after an ambiguous failure (SES does not deduplicate recipient uploads).
WRITE_ACTIONS = frozenset(
    {
        *SEND_ACTIONS,
        "CreateReceiver",
        "CreateReceiverDetail",
        "CreateReceiverDetailWithData",
        "DeleteReceiver",
        "CreateEmailTemplate",
        "UpdateEmailTemplate",
        "DeleteEmailTemplate",
        "CreateCustomBlacklist",
        "DeleteCustomBlackList",
        "UpdateCustomBlackList",
    }
)


class SesGateway(Protocol):
    def call(self, action: str, params: dict[str, Any], deadline: Deadline) -> dict[str, Any]:
        """Run one SES action; return its Response fields (RequestId included).

        Raises `sesrelay.errors.SesError` classified as retryable (SES did not act and the
        retries ran out), outcome_unknown (SES may have acted) or final (SES refused).
        """
        ...


class UnconfiguredGateway:
    """Stands in when no Tencent credentials are set: every call explains what to configure."""

    def call(self, action: str, params: dict[str, Any], deadline: Deadline) -> dict[str, Any]:
        from sesrelay.errors import RelayError

        raise RelayError(
            "no Tencent Cloud credentials: bind an execution role to the function "
            "(TENCENTCLOUD_SECRETID/SECRETKEY/SESSIONTOKEN) or set TENCENTCLOUD_SECRET_ID and "
            "TENCENTCLOUD_SECRET_KEY; locally, `sesrelay serve` starts the emulator instead",
            code="ses_not_configured",
        )
