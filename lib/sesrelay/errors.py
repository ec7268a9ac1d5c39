"""One error hierarchy for the whole relay: what went wrong, for which field, and who can fix it.

Every error carries a stable machine-readable `code`: either one of ours (`validation_error`, ...)
or an SES error code verbatim (`InvalidParameterValue.SubjectLengthError`, ...).
"""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True)
class ConfigProblem:
    """One problem of the config file: `path` is dotted (`jobs.weekly-digest.params.Subject`),
    empty for the file as a whole."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class ConfigError(RelayError):
    """The config file cannot be used; `problems` says every reason. Defined here, beside the
    other errors, because both the config models and the webhook mappings they feed raise it."""

    code = "config_error"

    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = list(problems)
        shown = "; ".join(str(problem) for problem in self.problems[:3])
        more = f" (and {len(self.problems) - 3} more)" if len(self.problems) > 3 else ""
        super().__init__(f"invalid sesrelay config: {shown}{more}")

    def as_dict(self) -> dict[str, Any]:
        errors = [{"field": p.path, "message": p.message} for p in self.problems]
        return {**super().as_dict(), "errors": errors}


class Outcome(str, Enum):
    """What a failed SES call means for the mail: did SES act, and may it be tried again?"""

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


#: Errors whose message describes our infrastructure (a store's host and port), not the caller's
#: request: answers and campaign records carry this text; the message itself goes to the log.
INTERNAL_MESSAGES = {
    "state_store_unavailable": "the state store (SQLite/Redis) is unreachable; retry",
}


def public_message(error: RelayError) -> str:
    """What a caller may be told about `error`."""
    return INTERNAL_MESSAGES.get(error.code, error.message)
