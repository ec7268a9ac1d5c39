"""What reaches a mail header besides the header fields: the Subject's `{{var}}` values, which SES
takes from TemplateData, and the SMTP headers SES builds from the request (From, To, ...), which
SmtpHeaders must not set. Both read the raw input, as cross-field rules.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from sesrelay.ses.rules import CONTROL_CHARS_RULE, has_control_chars
from sesrelay.ses.validation import CrossFieldError

# How SES marks a variable: `{{name}}`, spaces inside the braces allowed. Left uncompiled: most
# Subjects have no "{{" and never reach it, so no cold start pays for compiling it.
_VARIABLE_PATTERN = r"\{\{\s*([^{}\s]+)\s*\}\}"

SUBJECT_VALUE_RULE = f"is used in the Subject (a mail header), so it {CONTROL_CHARS_RULE}"

#: Headers SES writes from the request's own fields (case-insensitive), and the field to use.
#: Set again through SmtpHeaders they would add recipients, or a sender no allowlist checked.
RESERVED_HEADERS = {
    "from": "FromEmailAddress (or HeaderFrom)",
    "sender": "FromEmailAddress",
    "reply-to": "ReplyToAddresses",
    "to": "Destination",
    "cc": "Cc",
    "bcc": "Bcc",
    "return-path": "FromEmailAddress (SES sets the bounce address itself)",
}


def subject_variables(subject: str) -> tuple[str, ...]:
    """The variable names a Subject uses, in order of first use."""
    if "{{" not in subject:
        return ()
    return tuple(dict.fromkeys(re.findall(_VARIABLE_PATTERN, subject)))


def breaks_a_header(value: object) -> bool:
    """Whether a template value would break or disguise the header it is rendered into."""
    return isinstance(value, str) and has_control_chars(value)


def _loose_object(value: object) -> Mapping[Any, Any]:
    """The JSON object `value` holds, or {} (its own field rule reports anything else)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):
            return {}
    return value if isinstance(value, dict) else {}


def subject_value_errors(data: Mapping[str, Any]) -> list[CrossFieldError]:
    """Template.TemplateData.<var> for each Subject variable whose value would break the header.

    The Subject's own characters are its field rule; this is the same rule for what SES puts in
    place of its `{{var}}`.
    """
    subject, template = data.get("Subject"), data.get("Template")
    if not isinstance(subject, str) or not isinstance(template, dict):
        return []
    names = subject_variables(subject)
    if not names:
        return []
    values = _loose_object(template.get("TemplateData"))
    return [
        CrossFieldError(("Template", "TemplateData", name), SUBJECT_VALUE_RULE)
        for name in names
        if breaks_a_header(values.get(name))
    ]


def reserved_header_errors(data: Mapping[str, Any]) -> list[CrossFieldError]:
    """SmtpHeaders.<Name> for each header that SES builds from the request's own fields."""
    headers = _loose_object(data.get("SmtpHeaders"))
    return [
        CrossFieldError(
            ("SmtpHeaders", name),
            f"must not be set in SmtpHeaders: SES writes this header from the request; use "
            f"{RESERVED_HEADERS[name.lower()]} instead",
        )
        for name in headers
        if isinstance(name, str) and name.lower() in RESERVED_HEADERS
    ]
