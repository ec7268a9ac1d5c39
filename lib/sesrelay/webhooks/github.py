"""GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, raw body)>`; no timestamp.

https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
"""

from __future__ import annotations

from sesrelay.webhooks.base import (
    Delivery,
    Verified,
    optional_header,
    prefixed_digest,
    require_match,
    required_header,
)

SIGNATURE_HEADER = "X-Hub-Signature-256"
DELIVERY_HEADER = "X-GitHub-Delivery"
_PREFIX = "sha256="


def verify(delivery: Delivery) -> Verified:
    # Only the SHA-256 header counts: the legacy SHA-1 `X-Hub-Signature` is never accepted,
    # so a delivery carrying only that one is reported as missing this header.
    raw = required_header(delivery, SIGNATURE_HEADER)
    candidate = prefixed_digest(raw, _PREFIX, "hex", SIGNATURE_HEADER)
    require_match(delivery.utf8_keys(), delivery.body, [candidate], SIGNATURE_HEADER)
    # GitHub sends no timestamp, so there is no replay window: the delivery GUID is the
    # dedupe key that stops a replayed delivery from sending twice.
    return Verified(delivery_id=optional_header(delivery, DELIVERY_HEADER), timestamp=None)
