"""API keys: `Authorization: Bearer <key>` checked against SHA-256 digests in constant time.

The digests come from SESRELAY_API_KEY_SHA256 (unrestricted keys) and from `api_keys:` in
sesrelay.yaml (named keys with a scope: actions, senders, a daily quota). A request gets the
`KeyScope` of the key it presented; logs and send records carry its name, never the key.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from typing import TYPE_CHECKING

from sesrelay.errors import RelayError
from sesrelay.keys import KeyScope, unrestricted_keys

if TYPE_CHECKING:
    from sesrelay.config.model import RelayConfig
    from sesrelay.settings import Settings


class Unauthorized(RelayError):
    code = "unauthorized"


class AuthNotConfigured(RelayError):
    code = "auth_not_configured"


def configured_keys(settings: Settings, config: RelayConfig) -> list[KeyScope]:
    """Every key the deployment accepts: SESRELAY_API_KEY_SHA256's, then the file's named keys.

    A named key whose `sha256_env` variable is unset, or does not hold a digest, accepts
    nothing (`sesrelay config check --env` reports it before a deploy)."""
    from sesrelay.config.api_keys import digest_of

    keys = unrestricted_keys(settings.api_key_sha256)
    for name, spec in config.api_keys.items():
        digest = spec.sha256
        if digest is None and spec.sha256_env:
            try:
                digest = digest_of(settings.secret(spec.sha256_env) or "")
            except ValueError:
                continue
        if digest:
            keys.append(
                KeyScope(
                    name=name,
                    digest=digest,
                    actions=frozenset(spec.actions),
                    senders=tuple(spec.senders),
                    quota_per_day=spec.quota_per_day,
                )
            )
    return keys


def authenticate(authorization: str | None, keys: Sequence[KeyScope]) -> KeyScope:
    """The key presented; Unauthorized otherwise.

    Every configured digest is compared (no early exit) so timing says nothing about which
    one, if any, was close.
    """
    if not keys:
        # Never an open relay: without configured keys nothing is accepted.
        raise AuthNotConfigured(
            "no API keys are configured (SESRELAY_API_KEY_SHA256 or api_keys in "
            "sesrelay.yaml); the relay refuses to send"
        )
    scheme, _, key = (authorization or "").strip().partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key:
        raise Unauthorized("missing API key: send Authorization: Bearer <key>")
    presented = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
    matched: KeyScope | None = None
    for candidate in keys:
        if hmac.compare_digest(presented, candidate.digest) and matched is None:
            matched = candidate
    if matched is None:
        raise Unauthorized("wrong API key")
    return matched
