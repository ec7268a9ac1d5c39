"""Text, time, JSON and number field types of SES action parameters, each a documented SES rule.

Every check raises a message naming the rule, never the rejected value. The address and sender
fields live in `addresses`, and are re-exported here for the modules that import them from here.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, Strict, ValidationInfo, WithJsonSchema

from sesrelay.clock import SES_TIMEZONE
from sesrelay.ses.addresses import (
    MAX_ADDRESS_CHARS,
    EmailAddress,
    Sender,
    is_email_address,
    sender_address,
)
from sesrelay.ses.rules import (
    CONTEXT_ALLOW_SIMPLE,
    CONTEXT_NOW,
    SURROGATE_RULE,
    check_no_controls,
    has_control_chars,
    has_lone_surrogate,
    rule_error,
)

__all__ = [
    "BEGIN_TIME_FORMAT",
    "CONTEXT_ALLOW_SIMPLE",
    "CONTEXT_NOW",
    "MAX_ADDRESS_CHARS",
    "MAX_ATTACHMENT_BYTES",
    "TASK_TYPES",
    "UINT64_MAX",
    "Base64Text",
    "BeginTimeText",
    "EmailAddress",
    "HeaderText",
    "PositiveId",
    "Sender",
    "SesDate",
    "SmtpHeadersText",
    "TemplateDataText",
    "check_base64",
    "check_begin_time",
    "check_date",
    "check_no_controls",
    "check_not_blank",
    "decoded_size",
    "int_choice",
    "is_email_address",
    "load_smtp_headers",
    "load_template_data",
    "parse_begin_time",
    "refuse",
    "rule_error",
    "sender_address",
]

MAX_ATTACHMENT_BYTES = 4 * 1024 * 1024  # SES: all attachments together, decoded
UINT64_MAX = 2**64 - 1  # TemplateID, ReceiverId are uint64 in the API spec
BEGIN_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
TASK_TYPES = {1: "immediate", 2: "scheduled", 3: "recurring"}

# Left uncompiled here: a plain SendEmail never checks a time, a date or SMTP headers, so these
# are compiled (and cached by `re`) on first use instead of on every cold start.
_BEGIN_TIME_PATTERN = r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}"
_DATE_PATTERN = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
_HEADER_NAME_PATTERN = r"[!-9;-~]+"  # RFC 5322 field-name: printable ASCII except ':'


def check_not_blank(value: str) -> str:
    if not value.strip():
        raise rule_error("blank", "must not be blank")
    return value


def decoded_size(value: str) -> int:
    """Bytes that a base64 text decodes to, computed from its length (no decoding)."""
    return len(value) // 4 * 3 - value[-2:].count("=")


def check_base64(value: str) -> str:
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise rule_error(
            "base64", "must be valid base64 (standard alphabet, '=' padding, no line breaks)"
        ) from None
    return value


def parse_begin_time(value: str) -> datetime:
    """A SES `YYYY-MM-DD hh:mm:ss` time as an aware datetime, read in SES_TIMEZONE (UTC+8)."""
    return datetime.strptime(value, BEGIN_TIME_FORMAT).replace(tzinfo=SES_TIMEZONE)


def check_begin_time(value: str, info: ValidationInfo) -> str:
    if not re.fullmatch(_BEGIN_TIME_PATTERN, value):
        raise rule_error(
            "begin_time_format", "must be formatted 'YYYY-MM-DD hh:mm:ss' (SES format)"
        )
    try:
        begin = parse_begin_time(value)
    except ValueError:
        raise rule_error(
            "begin_time_format", "must be a real date and time (YYYY-MM-DD hh:mm:ss)"
        ) from None
    now = (info.context or {}).get(CONTEXT_NOW)
    # Without an injected `now` (e.g. checking a stored job definition) only the format is checked.
    if isinstance(now, datetime) and begin < now:
        raise rule_error(
            "begin_time_past",
            "must not be before now (read as UTC+8; SES InvalidParameterValue.BeginTimeBeforeNow)",
        )
    return value


def check_date(value: str) -> str:
    if not re.fullmatch(_DATE_PATTERN, value):
        raise rule_error("date_format", "must be a date formatted 'YYYY-MM-DD'")
    try:
        date.fromisoformat(value)
    except ValueError:
        raise rule_error("date_format", "must be a real date (YYYY-MM-DD)") from None
    return value


def _reject_constant(name: str) -> Any:
    raise ValueError(name)  # NaN / Infinity are not JSON


class _RepeatedKey(Exception):
    """A JSON object names a key twice."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # The text is forwarded as given, and which copy SES reads is not defined: a check that saw
    # the last copy could pass a line break that SES takes from the first.
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise _RepeatedKey
    return obj


# One decoder for every call: `json.loads(text, parse_constant=...)` builds a new one each time,
# which was most of the cost of reading a TemplateData on every send.
_DECODER = json.JSONDecoder(parse_constant=_reject_constant, object_pairs_hook=_unique_keys)


def _json_object(value: object, what: str) -> tuple[dict[Any, Any], bool]:
    """(the object, whether it came as text); refuses anything but an object or its JSON text."""
    if isinstance(value, str):
        try:
            loaded = _DECODER.decode(value)
        except _RepeatedKey:
            raise rule_error("json_repeated_key", f"must be {what}, each key once") from None
        except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
            raise rule_error("json", f"must be {what}: the string is not valid JSON") from None
        if not isinstance(loaded, dict):
            raise rule_error("json_object", f"must be {what}, not another JSON value")
        return loaded, True
    if isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            raise rule_error("json_object", f"must be {what} with string keys")
        return value, False
    raise rule_error("json_object", f"must be {what} (a JSON object, or a string holding one)")


def _dump_compact(obj: dict[str, Any]) -> str:
    try:
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except ValueError:
        raise rule_error("json", "values must be finite numbers (no NaN or Infinity)") from None


def load_template_data(value: object) -> str:
    """TemplateData: a flat JSON object (text kept as given, a dict serialised compactly)."""
    obj, was_text = _json_object(value, "a flat JSON object of template variables")
    scalar = (str, int, float, bool, type(None))
    if not all(isinstance(item, scalar) for item in obj.values()):
        raise rule_error(
            "template_data_flat",
            "values must be strings, numbers, booleans or null: a flat key-value object, "
            "no nested objects or arrays (SES rule)",
        )
    texts = [*obj, *(item for item in obj.values() if isinstance(item, str))]
    if any(has_lone_surrogate(text) for text in texts):
        raise rule_error("template_data_text", "names and values " + SURROGATE_RULE)
    return value if was_text and isinstance(value, str) else _dump_compact(obj)


def load_smtp_headers(value: object) -> str:
    """SmtpHeaders: a JSON object of header name -> single-line string value."""
    obj, was_text = _json_object(value, "a JSON object of header names to string values")
    for name, item in obj.items():
        if not re.fullmatch(_HEADER_NAME_PATTERN, name):
            raise rule_error("smtp_headers", "header names must be printable ASCII without ':'")
        if not isinstance(item, str) or has_control_chars(item):
            raise rule_error(
                "smtp_headers",
                "header values must be strings without line breaks, controls or bidirectional "
                "overrides",
            )
    return value if was_text and isinstance(value, str) else _dump_compact(obj)


def int_choice(labels: Mapping[int, str]) -> Callable[[int], int]:
    """A check that an int is one of `labels`, whose message lists them with their meanings."""
    listed = [f"{number} ({label})" for number, label in labels.items()]
    text = ", ".join(listed[:-1]) + f" or {listed[-1]}"

    def check(value: int) -> int:
        if value not in labels:
            raise rule_error("choice", f"must be {text}")
        return value

    return check


def refuse(kind: str, message: str) -> Callable[[object], None]:
    """A before-validator refusing any value but null (for fields SES says not to use)."""

    def check(value: object) -> None:
        if value is not None:
            raise rule_error(kind, message)

    return check


_JSON_OBJECT_TEXT = {"type": "string", "contentMediaType": "application/json"}

HeaderText = Annotated[str, Strict(), Field(min_length=1), AfterValidator(check_no_controls)]
Base64Text = Annotated[
    str,
    Strict(),
    AfterValidator(check_base64),
    Field(json_schema_extra={"contentEncoding": "base64"}),
]
BeginTimeText = Annotated[
    str,
    Strict(),
    AfterValidator(check_begin_time),
    Field(
        json_schema_extra={"pattern": f"^{_BEGIN_TIME_PATTERN}$"},
        examples=["2026-01-06 09:30:00"],
    ),
]
SesDate = Annotated[
    str,
    Strict(),
    AfterValidator(check_date),
    Field(json_schema_extra={"format": "date"}, examples=["2026-01-05"]),
]
TemplateDataText = Annotated[
    str,
    BeforeValidator(load_template_data),
    WithJsonSchema(
        {
            "anyOf": [
                _JSON_OBJECT_TEXT,
                {
                    "type": "object",
                    "additionalProperties": {"type": ["string", "number", "boolean", "null"]},
                },
            ]
        },
        mode="validation",
    ),
]
SmtpHeadersText = Annotated[
    str,
    BeforeValidator(load_smtp_headers),
    WithJsonSchema(
        {
            "anyOf": [
                _JSON_OBJECT_TEXT,
                {"type": "object", "additionalProperties": {"type": "string"}},
            ]
        },
        mode="validation",
    ),
]
PositiveId = Annotated[int, Strict(), Field(ge=1, le=UINT64_MAX)]
