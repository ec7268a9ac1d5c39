"""What SCF's function URL does around the function: an HTTP request becomes the event and the
context, and the function's return value becomes the HTTP reply (`sesrelay serve` copies it)."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sesrelay.http.problems import problem

# Framing is the server's job: the function's own values could contradict the bytes we send.
_HOP_BY_HOP = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive"})


@dataclass(frozen=True)
class HttpReply:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


def request_event(
    method: str, target: str, headers: Iterable[tuple[str, str]], body: bytes, client_ip: str
) -> dict[str, Any]:
    """One HTTP request as the function-URL event SCF would deliver: httpMethod, the raw path,
    lower-cased headers plus x-scf-remote-addr, the query as a map, and the body as text."""
    parts = urlsplit(target)
    lowered: dict[str, str] = {}
    for name, value in headers:
        key = name.lower()
        # A repeated header folds into one comma-separated value, as RFC 9110 5.3 allows.
        lowered[key] = f"{lowered[key]}, {value}" if key in lowered else value
    lowered["x-scf-remote-addr"] = client_ip  # set by the platform; a client cannot spoof it
    query: dict[str, str | list[str]] = {
        name: values[0] if len(values) == 1 else values
        for name, values in parse_qs(parts.query, keep_blank_values=True).items()
    }
    event: dict[str, Any] = {
        "httpMethod": method.upper(),
        "path": parts.path or "/",  # kept percent-encoded, as received
        "headers": lowered,
        "queryString": query,
    }
    try:
        event["body"] = body.decode("utf-8")
    except UnicodeDecodeError:
        # SCF does not document binary bodies; base64 keeps them byte-exact for signatures.
        event["body"] = base64.b64encode(body).decode("ascii")
        event["isBase64Encoded"] = True
    return event


#: SCF's default function timeout, which the context reports as `time_limit_in_ms`.
DEFAULT_FUNCTION_TIMEOUT_SECONDS = 30.0


def invocation_context(
    function_timeout: float = DEFAULT_FUNCTION_TIMEOUT_SECONDS,
) -> dict[str, Any]:
    """The context dict SCF passes beside the event (limits, function name, version), with a
    fresh request id; `function_timeout` is the function's timeout in seconds."""
    return {
        "request_id": str(uuid.uuid4()),
        "time_limit_in_ms": round(function_timeout * 1000),
        "memory_limit_in_mb": 128,
        "function_name": "sesrelay-local",
        "namespace": "default",
        "function_version": "$LATEST",
    }


def http_reply(reply: Any) -> HttpReply:
    """The function's return value as HTTP. ValueError if an integrated reply is malformed."""
    if not (isinstance(reply, dict) and "statusCode" in reply):
        # Function URL: valid JSON without statusCode is a 200 application/json of the whole value.
        body = json.dumps(reply, ensure_ascii=False).encode("utf-8")
        return HttpReply(200, [("Content-Type", "application/json")], body)
    status = reply["statusCode"]
    if isinstance(status, bool) or not isinstance(status, int) or not 200 <= status <= 599:
        raise ValueError(f"statusCode must be an integer from 200 to 599, not {status!r}")
    raw_headers = reply.get("headers") or {}
    if not isinstance(raw_headers, dict):
        raise ValueError("headers must be an object")
    headers: list[tuple[str, str]] = []
    for name, value in raw_headers.items():
        if str(name).lower() in _HOP_BY_HOP:
            continue
        for item in value if isinstance(value, list) else [value]:  # a list repeats the header
            headers.append((str(name), str(item)))
    body_text = "" if reply.get("body") is None else reply["body"]
    if not isinstance(body_text, str):
        raise ValueError("body must be a string")
    if reply.get("isBase64Encoded") is True:
        try:
            return HttpReply(status, headers, base64.b64decode(body_text, validate=True))
        except binascii.Error:
            raise ValueError("isBase64Encoded is true but body is not base64") from None
    return HttpReply(status, headers, body_text.encode("utf-8"))


def problem_reply(status: int, code: str, detail: str, request_id: str | None) -> HttpReply:
    """An error the server answers itself, as the same problem+json the function sends."""
    response = problem(status, code, detail, request_id=request_id)
    return HttpReply(status, list(response.headers.items()), response.body.encode("utf-8"))
