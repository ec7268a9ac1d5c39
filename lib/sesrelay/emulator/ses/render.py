"""SES template mechanics: `{{var}}` variables, TemplateData parsing and per-recipient rendering."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping

_VAR_RE = re.compile(r"\{\{\s*([^{}\s]+)\s*\}\}")
# Any opening or closing tag: per-recipient data "must not contain HTML tags"
# (CreateReceiverDetailWithData doc).
_TAG_RE = re.compile(r"<\s*/?\s*[A-Za-z!][^<>]*>")

Scalar = str | int | float | bool | None


def variables(*texts: str) -> set[str]:
    """The variable names used by these template texts."""
    return {name for text in texts for name in _VAR_RE.findall(text)}


def value_text(value: Scalar) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value)  # 12 -> "12", True -> "true", as a JSON-minded renderer would


def render(text: str, data: Mapping[str, Scalar]) -> str:
    """Substitute `{{var}}`; a variable without data renders empty (validation runs first)."""
    return _VAR_RE.sub(lambda m: value_text(data.get(m.group(1))), text)


def parse_template_data(raw: str) -> dict[str, Scalar] | None:
    """TemplateData is a JSON *string* holding a flat object; None when it is anything else."""
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    if not all(isinstance(v, (str, int, float, bool)) or v is None for v in data.values()):
        return None  # "values must not be HTML or other complex data" (SendEmail doc)
    return data


def has_html(data: Mapping[str, Scalar]) -> bool:
    return any(isinstance(v, str) and _TAG_RE.search(v) for v in data.values())


def decode_base64(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def decode_text(text: str) -> str | None:
    raw = decode_base64(text)
    if raw is None:
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
