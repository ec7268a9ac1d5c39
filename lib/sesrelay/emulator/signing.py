"""TC3-HMAC-SHA256, the Tencent Cloud API 3.0 request signature: signing and verifying.

Written from Tencent Cloud's published signature v3 algorithm, independently of the SDK (and
checked against vectors the SDK's signer produces), so the emulator catches a client that signs
wrongly.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone

ALGORITHM = "TC3-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"

_AUTH_RE = re.compile(
    r"^TC3-HMAC-SHA256 Credential=(?P<id>[^/,\s]+)/(?P<date>\d{4}-\d{2}-\d{2})"
    r"/(?P<service>[a-z0-9]+)/tc3_request, ?"
    r"SignedHeaders=(?P<headers>[a-z0-9;_-]+), ?Signature=(?P<sig>[0-9a-f]{64})$"
)


@dataclass(frozen=True)
class Authorization:
    """The parts of an `Authorization: TC3-HMAC-SHA256 ...` header."""

    secret_id: str
    date: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def signing_key(secret_key: str, date: str, service: str) -> bytes:
    """kSigning = HMAC(HMAC(HMAC("TC3" + key, date), service), "tc3_request")."""
    k_date = _hmac(("TC3" + secret_key).encode("utf-8"), date)
    return _hmac(_hmac(k_date, service), "tc3_request")


def payload_hash(body: bytes, unsigned: bool = False) -> str:
    return hashlib.sha256(UNSIGNED_PAYLOAD.encode() if unsigned else body).hexdigest()


def canonical_request(
    method: str,
    headers: Mapping[str, str],
    signed_headers: tuple[str, ...],
    hashed_payload: str,
    *,
    uri: str = "/",
    query: str = "",
) -> str:
    """Canonical request; `headers` maps lower-case names to values.

    Tencent's v3 doc lower-cases and trims header values; the SDK sends them lower-case already
    (`application/json`, `host:port`), so lower-casing keeps us compatible with both.
    """
    canonical_headers = "".join(
        f"{name}:{headers.get(name, '').strip().lower()}\n" for name in signed_headers
    )
    return "\n".join(
        [method, uri, query, canonical_headers, ";".join(signed_headers), hashed_payload]
    )


def string_to_sign(timestamp: int, date: str, service: str, canonical: str) -> str:
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return f"{ALGORITHM}\n{timestamp}\n{date}/{service}/tc3_request\n{digest}"


def signature(secret_key: str, date: str, service: str, to_sign: str) -> str:
    key = signing_key(secret_key, date, service)
    return hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def utc_date(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).strftime("%Y-%m-%d")


def sign_headers(
    *,
    secret_id: str,
    secret_key: str,
    service: str,
    host: str,
    body: bytes,
    timestamp: int,
    content_type: str = "application/json",
    unsigned_payload: bool = False,
) -> str:
    """The Authorization value for a POST / signing `content-type;host`, as the SDK does."""
    date = utc_date(timestamp)
    signed = ("content-type", "host")
    canonical = canonical_request(
        "POST",
        {"content-type": content_type, "host": host},
        signed,
        payload_hash(body, unsigned_payload),
    )
    sig = signature(secret_key, date, service, string_to_sign(timestamp, date, service, canonical))
    return (
        f"{ALGORITHM} Credential={secret_id}/{date}/{service}/tc3_request, "
        f"SignedHeaders={';'.join(signed)}, Signature={sig}"
    )


def parse_authorization(value: str) -> Authorization | None:
    """The header's parts, or None when it is not a well-formed TC3 header."""
    match = _AUTH_RE.match(value.strip())
    if match is None:
        return None
    return Authorization(
        secret_id=match["id"],
        date=match["date"],
        service=match["service"],
        signed_headers=tuple(match["headers"].split(";")),
        signature=match["sig"],
    )


def verify(
    auth: Authorization,
    *,
    secret_key: str,
    method: str,
    headers: Mapping[str, str],
    body: bytes,
    timestamp: int,
    uri: str = "/",
    query: str = "",
) -> bool:
    """True when `auth.signature` is right for this request; compares in constant time."""
    if auth.date != utc_date(timestamp):
        # The credential date must be the UTC date of X-TC-Timestamp (Tencent's v3 signing doc).
        return False
    unsigned = headers.get("x-tc-content-sha256", "").strip() == UNSIGNED_PAYLOAD
    canonical = canonical_request(
        method, headers, auth.signed_headers, payload_hash(body, unsigned), uri=uri, query=query
    )
    to_sign = string_to_sign(timestamp, auth.date, auth.service, canonical)
    expected = signature(secret_key, auth.date, auth.service, to_sign)
    return hmac.compare_digest(expected, auth.signature)
