"""API keys: `Authorization: Bearer <key>` checked against SHA-256 digests in constant time."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

from sesrelay.errors import RelayError


class Unauthorized(RelayError):
    code = "unauthorized"


class AuthNotConfigured(RelayError):
    code = "auth_not_configured"


def authenticate(authorization: str | None, digests: Sequence[str]) -> str:
    """Return the digest of the presented key; raise Unauthorized otherwise.

    Every configured digest is compared (no early exit) so timing says nothing about which
    one, if any, was close.
    """
    if not digests:
        # Never an open relay: without configured keys nothing is accepted.
        raise AuthNotConfigured(
            "no API keys are configured (SESRELAY_API_KEY_SHA256); the relay refuses to send"
        )
    scheme, _, key = (authorization or "").strip().partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key:
        raise Unauthorized("missing API key: send Authorization: Bearer <key>")
    presented = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
    matched = ""
    for digest in digests:
        if hmac.compare_digest(presented, digest):
            matched = digest
    if not matched:
        raise Unauthorized("wrong API key")
    return matched
