"""The send use case every entry point calls: validate, check the sender, call SES once (under
the entry point's guard), classify the outcome and log it. Entry points only turn their input
into a `SendRequest` and the `SendOutcome` into their reply."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from sesrelay.clock import Clock, Deadline
from sesrelay.errors import FieldError, InvalidInput, RelayError, SesError
from sesrelay.gateway import SEND_ACTIONS, SesGateway
from sesrelay.keys import sender_matches
from sesrelay.logs import mask_email
from sesrelay.records import RecordBook
from sesrelay.sending.bookkeeping import check_scope, save_record, send_record
from sesrelay.sending.outcome import Guard, SendKind, SendOutcome, failed
from sesrelay.sending.quota import Quotas
from sesrelay.ses.addresses import sender_address
from sesrelay.ses.send_email import validate_send_email
from sesrelay.settings import Settings
from sesrelay.state import StateStore, StateStoreError

if TYPE_CHECKING:
    from sesrelay.keys import KeyScope
    from sesrelay.ses.batch_send_email import BatchSendEmailParams
    from sesrelay.ses.send_email import SendEmailParams

    Params = SendEmailParams | BatchSendEmailParams

R = TypeVar("R")


class SenderNotAllowed(RelayError):
    code = "sender_not_allowed"


def check_sender(from_field: str, allowed: Sequence[str]) -> None:
    """Refuse a sender outside SESRELAY_ALLOWED_SENDERS (addresses or `@domain`s).

    An empty list leaves the choice to SES, which only sends from verified senders.
    """
    if not allowed or sender_matches(from_field, allowed):
        return
    raise SenderNotAllowed(
        "FromEmailAddress is not in SESRELAY_ALLOWED_SENDERS; "
        "use an allowed sender or ask the operator to add it"
    )


def check_senders(params: Params, allowed: Sequence[str]) -> None:
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


@dataclass(frozen=True)
class SendRequest:
    """One send as an entry point asks for it, before anything is checked."""

    action: str  # SendEmail or BatchSendEmail
    raw_params: object  # the SES parameters as received (a JSON object, hopefully)
    #: Who asks, for the log: `http`, `webhook:<source>`, `timer:<job>`,
    #: `timer:inline:<action>`, `direct`.
    entry: str
    #: The API key that asked (HTTP routes): its scope is checked, its quota counted, its name
    #: recorded. None for entry points without a key (webhooks, timers, direct invocations).
    key: KeyScope | None = None
    #: The caller's Idempotency-Key, kept in the send record.
    idempotency_key: str | None = None


class SendServices(Protocol):
    """What the pipeline uses of a warm instance's services (`wiring.Services`). A protocol, not
    an import of wiring: the config checker uses this module's sender rules and wiring reads the
    config, so that import would close a cycle between the packages."""

    @property
    def settings(self) -> Settings: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def ses(self) -> SesGateway: ...

    @property
    def state(self) -> StateStore:
        """Opened on first use: only a guard, a quota and a send record touch it."""
        ...

    @property
    def records(self) -> RecordBook: ...


class Pipeline:
    """The send use case over one warm instance's services."""

    def __init__(self, services: SendServices) -> None:
        self._services = services

    def send(
        self,
        request: SendRequest,
        deadline: Deadline,
        log: dict[str, Any],
        answer: Callable[[SendOutcome], R],
        guard: Guard[R] | None = None,
    ) -> R:
        """Send once and answer the outcome, writing the send's fields into the invocation's
        `log` (entry, action, from, ses_request_id, outcome, code).

        Bad input is refused before the guard runs: it claims no key and sends nothing.
        """
        log["entry"] = request.entry
        log["action"] = request.action
        try:
            params = self.admit(request, log)
        except RelayError as error:
            return answer(logged_failure(error, log))

        def execute() -> SendOutcome:
            return self._counted(request, params, deadline, log)

        if guard is None:
            return answer(execute())
        try:
            services = self._services
            return guard.run(services.state, services.clock, deadline, execute, answer)
        except RelayError as error:  # the guard could neither run nor answer from the store
            return answer(logged_failure(error, log))

    def admit(self, request: SendRequest, log: dict[str, Any]) -> Params:
        """The validated parameters, once the sender is allowed; InvalidInput or
        SenderNotAllowed otherwise."""
        settings = self._services.settings
        params = validate(
            request.action,
            request.raw_params,
            now=self._services.clock.now(),
            allow_simple=settings.allow_simple,
        )
        log["from"] = mask_email(sender_address(params.FromEmailAddress))
        check_senders(params, settings.allowed_senders)
        check_scope(request.key, request.action, params)
        return params

    def _counted(
        self, request: SendRequest, params: Params, deadline: Deadline, log: dict[str, Any]
    ) -> SendOutcome:
        """The SES call within the key's quota, and the send record once SES accepted it."""
        services = self._services
        quotas, ticket = None, None
        if request.key is not None and request.key.quota_per_day:
            quotas = Quotas(services.state, services.clock)
            try:
                ticket = quotas.take(request.key.name, request.key.quota_per_day)
            except RelayError as error:
                return logged_failure(error, log)
        outcome = self._call_ses(request.action, params, deadline, log)
        if outcome.kind is SendKind.SENT:
            record = send_record(request, params, outcome.result, services.clock.now())
            save_record(services.records, record, log)
        elif (
            quotas is not None
            and ticket is not None
            and outcome.kind is not SendKind.OUTCOME_UNKNOWN
        ):
            with contextlib.suppress(RelayError):  # a lost unit only lowers the day's quota
                quotas.give_back(ticket)  # nothing was sent: the unit is the key's again
        return outcome

    def _call_ses(
        self, action: str, params: Params, deadline: Deadline, log: dict[str, Any]
    ) -> SendOutcome:
        """The send's one SES call. The SDK gateway takes a rate-limit permit (SESRELAY_SES_RATE)
        before each attempt it makes, retries included, so this is where a send waits for its
        permit, or is told rate_limited (retry later, nothing sent) when none comes in time."""
        try:
            result = self._services.ses.call(action, params.to_ses(), deadline)
        except RelayError as error:
            return logged_failure(error, log)
        log["ses_request_id"] = result.get("RequestId")
        log["outcome"] = SendKind.SENT.value
        return SendOutcome(SendKind.SENT, result=result)


def logged_failure(error: RelayError, log: dict[str, Any]) -> SendOutcome:
    """The outcome class of a failure, written into the invocation's log (`outcome`, `code`).
    Entry points use it too for input refused before a send request could be made."""
    outcome = failed(error)
    log["outcome"] = outcome.kind.value
    log["code"] = error.code
    if isinstance(error, SesError):
        log["ses_request_id"] = error.request_id
    elif isinstance(error, StateStoreError):
        log["detail"] = error.message  # which store failed, for the operator only
    return outcome


def validate(action: str, raw: object, *, now: datetime, allow_simple: bool) -> Params:
    """The parameters of a send action; InvalidInput lists every problem."""
    if action == "SendEmail":
        return validate_send_email(raw, now=now, allow_simple=allow_simple)
    if action == "BatchSendEmail":
        # Imported on first use: a function that only sends SendEmail never builds this model.
        from sesrelay.ses.batch_send_email import validate_batch_send_email

        return validate_batch_send_email(raw, now=now, allow_simple=allow_simple)
    raise InvalidInput([FieldError("action", f"must be one of {', '.join(SEND_ACTIONS)}")])
