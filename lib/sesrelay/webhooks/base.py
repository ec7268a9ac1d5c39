"""Shared pieces of the webhook verifiers: the delivery, the result, the one error, and the
constant-time HMAC helpers each scheme builds on.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from sesrelay.errors import RelayError

Reason = Literal["missing_header", "malformed_header", "stale_timestamp", "mismatch"]
Encoding = Literal["hex", "base64"]

_DIGEST_SIZE = hashlib.sha256().digest_size
_HEX = re.compile(r"[0-9a-fA-F]{64}")
_BASE64 = re.compile(r"[A-Za-z0-9+/]{43}=")
# Unix seconds as plain ASCII digits: int() alone would also take "+1", " 1", "1_0" and
# non-ASCII digits, none of which a sender emits.
_TIMESTAMP = re.compile(r"[0-9]{1,12}")


class SignatureInvalid(RelayError):
    """The delivery is not proven to come from the configured sender, so nothing may act on it.

    Messages say only what kind of thing was wrong, never an expected value; `reason` is the
    same fact as a stable token for logs and metrics.
    """

    code = "invalid_signature"

    def __init__(self, message: str, *, reason: Reason) -> None:
        super().__init__(message)
        self.reason: Reason = reason


@dataclass(frozen=True)
class Verified:
    """A delivery whose signature matched: its sender-assigned id (the dedupe key, when the
    scheme has one) and its signed timestamp (for timestamped schemes)."""

    delivery_id: str | None
    timestamp: int | None


@dataclass(frozen=True)
class GenericHmacOptions:
    """How a sender without a named scheme signs: HMAC-SHA256 over `signed_content`, where
    `{timestamp}` is the value of `timestamp_header` and `{body}` the raw body."""

    header: str
    encoding: Encoding = "hex"
    prefix: str = ""
    timestamp_header: str | None = None
    signed_content: str = "{body}"
    id_header: str | None = None

    def __post_init__(self) -> None:
        # Configuration mistakes surface when the config loads, not on the first delivery.
        if not self.header.strip():
            raise ValueError("GenericHmacOptions.header must name the signature header")
        if self.encoding not in ("hex", "base64"):
            raise ValueError("GenericHmacOptions.encoding must be 'hex' or 'base64'")
        if self.signed_content.count("{body}") != 1:
            raise ValueError("GenericHmacOptions.signed_content must hold {body} exactly once")
        if "{timestamp}" in self.signed_content and self.timestamp_header is None:
            raise ValueError(
                "GenericHmacOptions.signed_content uses {timestamp}: set timestamp_header"
            )


@dataclass(frozen=True)
class Delivery:
    """One inbound webhook as every verifier sees it; header names are lower-case."""

    headers: Mapping[str, str]
    body: bytes
    secrets: tuple[str, ...]
    now: int
    tolerance_seconds: int
    options: GenericHmacOptions | None = None

    def utf8_keys(self) -> list[bytes]:
        return [secret.encode("utf-8") for secret in self.secrets]


def required_header(delivery: Delivery, name: str) -> str:
    """The stripped value of header `name` (given in the vendor's spelling), or SignatureInvalid."""
    value = delivery.headers.get(name.lower(), "").strip()
    if not value:
        raise SignatureInvalid(f"missing header {name}", reason="missing_header")
    return value


def optional_header(delivery: Delivery, name: str | None) -> str | None:
    if name is None:
        return None
    return delivery.headers.get(name.lower(), "").strip() or None


def malformed(name: str) -> SignatureInvalid:
    return SignatureInvalid(f"malformed signature header {name}", reason="malformed_header")


def parse_timestamp(raw: str, name: str) -> int:
    if not _TIMESTAMP.fullmatch(raw):
        raise SignatureInvalid(f"malformed timestamp in {name}", reason="malformed_header")
    return int(raw)


def check_fresh(timestamp: int, delivery: Delivery) -> None:
    """Reject both stale deliveries (replays) and ones dated in the future (skew or forgery)."""
    if abs(delivery.now - timestamp) > delivery.tolerance_seconds:
        raise SignatureInvalid("timestamp outside the tolerance", reason="stale_timestamp")


def decode_digest(text: str, encoding: Encoding) -> bytes | None:
    """A presented HMAC-SHA256 as raw bytes, or None when it is not one in `encoding`."""
    text = text.strip()
    try:
        if encoding == "hex" and _HEX.fullmatch(text):
            return bytes.fromhex(text)
        if encoding == "base64" and _BASE64.fullmatch(text):
            return base64.b64decode(text, validate=True)
    except (ValueError, binascii.Error):
        return None
    return None


def prefixed_digest(raw: str, prefix: str, encoding: Encoding, header: str) -> bytes | None:
    """decode_digest of what follows `prefix` in header `header`'s value; malformed without it."""
    if not raw.startswith(prefix):
        raise malformed(header)
    return decode_digest(raw[len(prefix) :], encoding)


def hmac_sha256(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def require_match(
    keys: Iterable[bytes], message: bytes, candidates: Sequence[bytes | None], header: str
) -> None:
    """Pass when any presented signature equals HMAC-SHA256(key, message) for any key.

    Every key is tried against every candidate with `hmac.compare_digest`, with no early exit,
    so timing tells neither whether nor which secret matched.
    """
    presented = [c for c in candidates if c is not None and len(c) == _DIGEST_SIZE]
    if not presented:
        raise malformed(header)
    matched = False
    for key in keys:
        expected = hmac_sha256(key, message)
        for candidate in presented:
            matched |= hmac.compare_digest(expected, candidate)
    if not matched:
        raise SignatureInvalid("signature does not match", reason="mismatch")
