"""The document a webhook source's expressions read: `{"headers", "query", "body"}` of one
delivery, with header names lower-cased.

How the body is read follows its media type (the route has already refused any other): a form
(`application/x-www-form-urlencoded`) is its fields, a `payload` field holding a JSON object
parsed; a form of only that field (GitHub's form content type) is the object itself, so it reads
as GitHub's JSON content type does. A JSON body is parsed, and left as text if it is not JSON.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from sesrelay import jsontext
from sesrelay.errors import MalformedRequest


def delivery_document(
    headers: Mapping[str, str], query: Mapping[str, str], body: bytes, content_type: str = ""
) -> dict[str, Any]:
    """The document expressions see (the module docstring says how the body is read)."""
    text = body.decode("utf-8", errors="replace")
    parsed: Any = text
    if content_type.partition(";")[0].strip().lower() == "application/x-www-form-urlencoded":
        parsed = dict(parse_qsl(text, keep_blank_values=True))
        with contextlib.suppress(MalformedRequest):  # a `payload` not JSON stays text
            payload = jsontext.parse(parsed.get("payload", ""), lone_surrogates_ok=True)
            if isinstance(payload, dict):  # alone, it is the body: reads as GitHub's JSON type
                parsed = payload if len(parsed) == 1 else {**parsed, "payload": payload}
    else:
        with contextlib.suppress(MalformedRequest):  # not JSON: expressions see the text
            parsed = jsontext.parse(text, lone_surrogates_ok=True)
    lowered = {str(name).lower(): value for name, value in headers.items()}
    return {"headers": lowered, "query": dict(query), "body": parsed}
