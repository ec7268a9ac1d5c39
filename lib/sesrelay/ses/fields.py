"""Field types of SES action parameters, each carrying a documented SES rule.

Every check raises a message naming the rule, never the rejected value (reference/ses.md section 1).
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
from pydantic_core import PydanticCustomError

from sesrelay.clock import SES_TIMEZONE

#: Keys of the pydantic validation context (`model_validate(..., context=...)`).
CONTEXT_NOW = "now"  # an aware datetime: BeginTime must not be before it
CONTEXT_ALLOW_SIMPLE = "allow_simple"  # True only for accounts approved for Simple content

MAX_ADDRESS_CHARS = 254  # RFC 5321 path limit
MAX_LOCAL_PART_CHARS = 64
MAX_ATTACHMENT_BYTES = 4 * 1024 * 1024  # SES: all attachments together, decoded
UINT64_MAX = 2**64 - 1  # TemplateID, ReceiverId are uint64 in the API spec
BEGIN_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
TASK_TYPES = {1: "immediate", 2: "scheduled", 3: "recurring"}

_BEGIN_TIME_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}")
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LOCAL_RE = re.compile(rf"{_ATEXT}(?:\.{_ATEXT})*")
_LABEL_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
#: C0/C1 controls and the Unicode line/paragraph separators: all of them break a mail header.
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_HEADER_NAME_RE = re.compile(r"[!-9;-~]+")  # RFC 5322 field-name: printable ASCII except ':'

ADDRESS_RULE = "must be a valid email address (local@domain.tld, ASCII, no spaces)"


def rule_error(kind: str, message: str) -> PydanticCustomError:
    """A validation error whose text is exactly `message` (no pydantic prefix, no input)."""
    return PydanticCustomError(f"ses_{kind}", message)


def is_email_address(value: str) -> bool:
    """A deliberately plain syntax check: dot-atom local part @ a dotted host name."""
    if len(value) > MAX_ADDRESS_CHARS:
        return False
    local, at, domain = value.rpartition("@")
    if not at or len(local) > MAX_LOCAL_PART_CHARS or not _LOCAL_RE.fullmatch(local):
        return False
    labels = domain.split(".")
    if len(labels) < 2 or not all(_LABEL_RE.fullmatch(label) for label in labels):
        return False
    return not labels[-1].isdigit()  # a numeric "TLD" is an IP address, not a mail domain


def check_address(value: str) -> str:
    if len(value) > MAX_ADDRESS_CHARS:
        raise rule_error("address_length", "must be at most 254 characters (email address limit)")
    if not is_email_address(value):
        raise rule_error("address", ADDRESS_RULE)
    return value


def split_sender(value: str) -> tuple[str | None, str]:
    """`Alias <addr>` -> (alias, addr); a bare address -> (None, addr). Syntax only, no checks."""
    if value.endswith(">") and "<" in value:
        start = value.rindex("<")
        return value[: max(start - 1, 0)], value[start + 1 : -1]
    return None, value


def check_sender(value: str) -> str:
    """SES: a bare address or `Alias <addr>`, exactly one space before `<`, no `:` in the alias."""
    if _CONTROL_RE.search(value):
        raise rule_error("sender", "must not contain line breaks or control characters")
    alias, address = split_sender(value)
    if alias is None:
        if "<" in value or ">" in value:
            raise rule_error(
                "sender", "must be an address or 'Alias <address>' (one space before '<')"
            )
        check_address(value)
        return value
    start = value.rindex("<")
    if start < 2 or value[start - 1] != " " or value[start - 2].isspace() or alias != alias.strip():
        raise rule_error(
            "sender",
            "must be 'Alias <address>' with a non-empty alias and exactly one space before '<'",
        )
    if ":" in alias:
        raise rule_error("sender_alias", "the alias must not contain ':' (SES rule)")
    if "<" in alias or ">" in alias:
        raise rule_error("sender_alias", "the alias must not contain '<' or '>'")
    if not is_email_address(address):
        raise rule_error("address", f"the address inside '<...>' {ADDRESS_RULE}")
    return value


def sender_address(value: str) -> str:
    """The bare address of a validated FromEmailAddress/HeaderFrom (for allowed-sender checks)."""
    return split_sender(value)[1]


def check_no_controls(value: str) -> str:
    """Header-bound text: refuse CR/LF and other control characters (no header injection)."""
    if _CONTROL_RE.search(value):
        raise rule_error("control_chars", "must not contain line breaks or control characters")
    return value


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
    if not _BEGIN_TIME_RE.fullmatch(value):
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
    if not _DATE_RE.fullmatch(value):
        raise rule_error("date_format", "must be a date formatted 'YYYY-MM-DD'")
    try:
        date.fromisoformat(value)
    except ValueError:
        raise rule_error("date_format", "must be a real date (YYYY-MM-DD)") from None
    return value


def _reject_constant(name: str) -> Any:
    raise ValueError(name)  # NaN / Infinity are not JSON


def _json_object(value: object, what: str) -> tuple[dict[Any, Any], bool]:
    """(the object, whether it came as text); refuses anything but an object or its JSON text."""
    if isinstance(value, str):
        try:
            loaded = json.loads(value, parse_constant=_reject_constant)
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
    return value if was_text and isinstance(value, str) else _dump_compact(obj)


def load_smtp_headers(value: object) -> str:
    """SmtpHeaders: a JSON object of header name -> single-line string value."""
    obj, was_text = _json_object(value, "a JSON object of header names to string values")
    for name, item in obj.items():
        if not _HEADER_NAME_RE.fullmatch(name):
            raise rule_error("smtp_headers", "header names must be printable ASCII without ':'")
        if not isinstance(item, str) or _CONTROL_RE.search(item):
            raise rule_error(
                "smtp_headers", "header values must be strings without line breaks or controls"
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

EmailAddress = Annotated[
    str,
    Strict(),
    AfterValidator(check_address),
    Field(json_schema_extra={"format": "email", "maxLength": MAX_ADDRESS_CHARS}),
]
Sender = Annotated[str, Strict(), AfterValidator(check_sender)]
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
        json_schema_extra={"pattern": f"^{_BEGIN_TIME_RE.pattern}$"},
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
