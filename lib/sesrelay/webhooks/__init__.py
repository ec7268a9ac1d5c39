"""Inbound webhook signatures: `verify(scheme, ...)` proves a delivery's raw body came from the
configured sender, before anything parses it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from sesrelay.webhooks import generic, github, shopify, slack, standard, stripe
from sesrelay.webhooks.base import Delivery, GenericHmacOptions, SignatureInvalid, Verified

__all__ = ["SCHEMES", "GenericHmacOptions", "SignatureInvalid", "Verified", "verify"]

_VERIFIERS: Mapping[str, Callable[[Delivery], Verified]] = {
    "github": github.verify,
    "stripe": stripe.verify,
    "shopify": shopify.verify,
    "standard-webhooks": standard.verify,
    "slack": slack.verify,
    "hmac": generic.verify,
}

SCHEMES: frozenset[str] = frozenset(_VERIFIERS)


def verify(
    scheme: str,
    *,
    headers: Mapping[str, str],
    body: bytes,
    secrets: Sequence[str],
    now: int,
    tolerance_seconds: int = 300,
    options: GenericHmacOptions | None = None,
) -> Verified:
    """Verify one delivery under `scheme`; return its id and timestamp, or raise.

    `headers` has lower-case names; `body` is the raw bytes as received; `now` is unix seconds
    from the injected clock. Any of `secrets` may match (rotation). SignatureInvalid means the
    delivery must be refused; ValueError means the configuration itself is wrong.
    """
    verifier = _VERIFIERS.get(scheme)
    if verifier is None:
        known = ", ".join(sorted(SCHEMES))
        raise ValueError(f"unknown webhook signature scheme {scheme!r} (known: {known})")
    if isinstance(secrets, (str, bytes)):
        raise ValueError("secrets must be a list of secrets, not a single string")
    if not secrets or not all(isinstance(s, str) and s.strip() for s in secrets):
        # Never fail open: without a usable secret every delivery would be unverifiable,
        # and an empty HMAC key is one anybody can sign with.
        raise ValueError(f"webhook scheme {scheme!r} needs at least one non-empty secret")
    if tolerance_seconds < 0:
        raise ValueError("tolerance_seconds must not be negative")
    if (options is not None) != (scheme == "hmac"):
        raise ValueError("GenericHmacOptions are required by the hmac scheme and only by it")
    delivery = Delivery(
        headers=headers,
        body=bytes(body),
        secrets=tuple(secrets),
        now=now,
        tolerance_seconds=tolerance_seconds,
        options=options,
    )
    return verifier(delivery)
