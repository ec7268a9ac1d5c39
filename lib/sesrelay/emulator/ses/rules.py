"""SES rules shared by SendEmail and BatchSendEmail: sender, subject, unsubscribe, template data."""

from __future__ import annotations

from sesrelay.emulator.protocol import ApiError
from sesrelay.emulator.ses.addresses import domain_of, normalize, parse_sender
from sesrelay.emulator.ses.render import Scalar, parse_template_data, variables
from sesrelay.emulator.ses.store import SesState, Template

SUBJECT_MAX = 100  # InvalidParameterValue.SubjectLengthError: "subject length must be 1-100"
#: Tencent documents these codes for BatchSendEmail only; SendEmail answers the common code.
SUBJECT_LENGTH_ERROR = "InvalidParameterValue.SubjectLengthError"
TEMPLATE_NOT_MATCH_DATA = "InvalidParameterValue.TemplateNotMatchData"
UNSUBSCRIBE_VALUES = frozenset(str(n) for n in range(13))  # "0" none, "1" zh-CN ... "12" vi


def sender_address(text: str, bad_format_code: str) -> str:
    """The bare address in FromEmailAddress (`addr` or `Alias <addr>`), else `bad_format_code`."""
    parsed = parse_sender(text)
    if parsed is None:
        raise ApiError(
            bad_format_code,
            "FromEmailAddress must be `address` or `Alias <address>` (one space before <).",
        )
    return parsed[1]


def is_verified_sender(state: SesState, address: str) -> bool:
    """A sender created in the console (ListEmailAddress) on a verified domain."""
    return normalize(address) in state.senders and domain_of(address) in state.domains


def check_subject(subject: str, code: str) -> None:
    """Subject is 1 to SUBJECT_MAX characters, else `code`."""
    if not 1 <= len(subject) <= SUBJECT_MAX:
        raise ApiError(code, f"Subject must be 1-{SUBJECT_MAX} characters.")


def check_unsubscribe(value: str | None) -> None:
    if value is not None and value not in UNSUBSCRIBE_VALUES:
        raise ApiError("InvalidParameterValue", 'Unsubscribe must be a string from "0" to "12".')


def template_variables(template: Template, subject: str) -> set[str]:
    """Variables a send must fill: the template's and any the request's Subject uses."""
    return variables(template.html, template.text, subject)


def template_data(raw: str, bad_json_code: str) -> dict[str, Scalar]:
    data = parse_template_data(raw)
    if data is None:
        raise ApiError(bad_json_code, "TemplateData must be a JSON string of a flat object.")
    return data


def require_variables(needed: set[str], provided: set[str] | frozenset[str], code: str) -> None:
    """Every variable in `needed` has a value in `provided`, else `code` naming the missing."""
    missing = sorted(needed - set(provided))
    if missing:
        raise ApiError(
            code, f"TemplateData does not provide the template variable(s): {', '.join(missing)}."
        )
