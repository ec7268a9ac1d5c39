"""One error hierarchy for the whole relay: what went wrong, for which field, and who can fix it.

Every error carries a stable machine-readable `code`: either one of ours (`validation_error`, ...)
or an SES error code verbatim (`InvalidParameterValue.SubjectLengthError`, ...).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any


@dataclass(frozen=True)
class FieldError:
    """One rejected field: `field` is a dotted path (`Template.TemplateData`, `Destination.3`)."""

    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


class RelayError(Exception):
    """Base of every error the relay reports to a caller."""

    code: str = "internal_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message}


class RetryLater(Exception):
    """Raised out of `main_handler` so SCF marks the async invocation failed and retries it.

    Not a RelayError: it is never answered to a caller, it is the answer (a timer tick whose
    send SES did not take, or a state store that is down, is worth SCF's retry)."""


class InvalidInput(RelayError):
    """The caller's input broke a documented rule; nothing was sent."""

    code = "validation_error"

    def __init__(self, errors: list[FieldError], message: str | None = None) -> None:
        self.errors = list(errors)
        if message is None:
            fields = ", ".join(e.field for e in self.errors[:5])
            more = f" (and {len(self.errors) - 5} more)" if len(self.errors) > 5 else ""
            message = f"{len(self.errors)} invalid field(s): {fields}{more}"
        super().__init__(message)

    def as_dict(self) -> dict[str, Any]:
        return {**super().as_dict(), "errors": [e.as_dict() for e in self.errors]}


class MalformedRequest(RelayError):
    """The request could not be read at all (not JSON, not UTF-8, unknown event shape)."""

    code = "malformed_request"


class Outcome(str, Enum):
    """What a failed SES call means for the mail (reference/ses.md 2.4)."""

    RETRYABLE = "retryable"  # SES certainly did not act: safe to try again
    OUTCOME_UNKNOWN = "outcome_unknown"  # SES may have sent: never resend blindly
    FINAL = "final"  # SES refused; retrying the same request cannot help


class SesError(RelayError):
    """A failed SES call, with SES's own code, message and request id."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        request_id: str | None = None,
        outcome: Outcome = Outcome.FINAL,
        action: str = "",
        attempts: int = 1,
    ) -> None:
        super().__init__(message, code=code)
        self.request_id = request_id
        self.outcome = outcome
        self.action = action
        self.attempts = attempts

    @property
    def retryable(self) -> bool:
        return self.outcome is Outcome.RETRYABLE

    @property
    def outcome_unknown(self) -> bool:
        return self.outcome is Outcome.OUTCOME_UNKNOWN

    def as_dict(self) -> dict[str, Any]:
        data = super().as_dict()
        data["ses_request_id"] = self.request_id
        data["outcome"] = self.outcome.value
        return data


@dataclass
class SendFailure:
    """A summary of a failure that is returned, not raised (for async triggers)."""

    code: str
    message: str
    errors: list[FieldError] = field(default_factory=list)
