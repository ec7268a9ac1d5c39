"""A bare API 3.0 client on http.client: TC3-signs a POST / and returns the raw reply.

For tests and tools that must send what the SDK never would (an old timestamp, a missing header,
an unknown parameter, broken JSON) and see the exact bytes and headers that come back.
"""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sesrelay.emulator.server import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY
from sesrelay.emulator.ses.service import VERSION
from sesrelay.emulator.signing import sign_headers


@dataclass(frozen=True)
class RawReply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def error_code(self) -> str | None:
        """`Response.Error.Code` of an API 3.0 error envelope, else None."""
        response = self.json().get("Response", {})
        error = response.get("Error") if isinstance(response, dict) else None
        return error.get("Code") if isinstance(error, dict) else None


def call(
    endpoint: str,
    action: str,
    params: Mapping[str, Any] | bytes | None = None,
    *,
    secret_id: str = DEFAULT_SECRET_ID,
    secret_key: str = DEFAULT_SECRET_KEY,
    service: str = "ses",
    version: str = VERSION,
    region: str = "ap-guangzhou",
    timestamp: int | None = None,
    headers: Mapping[str, str | None] | None = None,
    timeout: float = 10.0,
) -> RawReply:
    """POST one signed call to `endpoint` ("host:port"); `headers` overrides (None removes one)."""
    body = params if isinstance(params, bytes) else json.dumps(dict(params or {})).encode()
    ts = int(time.time()) if timestamp is None else timestamp
    all_headers: dict[str, str | None] = {
        "Content-Type": "application/json",
        "Host": endpoint,
        "X-TC-Action": action,
        "X-TC-Version": version,
        "X-TC-Region": region,
        "X-TC-Timestamp": str(ts),
        "Authorization": sign_headers(
            secret_id=secret_id,
            secret_key=secret_key,
            service=service,
            host=endpoint,
            body=body,
            timestamp=ts,
        ),
    }
    all_headers.update(headers or {})
    host, _, port = endpoint.rpartition(":")
    conn = http.client.HTTPConnection(host.strip("[]"), int(port), timeout=timeout)
    try:
        conn.putrequest("POST", "/", skip_host=True, skip_accept_encoding=True)
        for name, value in all_headers.items():
            if value is not None:
                conn.putheader(name, value)
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        resp = conn.getresponse()
        return RawReply(resp.status, dict(resp.getheaders()), resp.read())
    finally:
        conn.close()
