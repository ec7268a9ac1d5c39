"""Shopify: `X-Shopify-Hmac-Sha256: <base64 HMAC-SHA256(client secret, raw body)>`; no timestamp.

https://shopify.dev/docs/apps/build/webhooks/subscribe/https#step-5-verify-the-webhook
"""

from __future__ import annotations

from sesrelay.webhooks.base import (
    Delivery,
    Verified,
    decode_digest,
    optional_header,
    require_match,
    required_header,
)

SIGNATURE_HEADER = "X-Shopify-Hmac-Sha256"
DELIVERY_HEADER = "X-Shopify-Webhook-Id"


def verify(delivery: Delivery) -> Verified:
    raw = required_header(delivery, SIGNATURE_HEADER)
    candidate = decode_digest(raw, "base64")
    require_match(delivery.utf8_keys(), delivery.body, [candidate], SIGNATURE_HEADER)
    # No timestamp is signed: the webhook id is the dedupe key against replays.
    return Verified(delivery_id=optional_header(delivery, DELIVERY_HEADER), timestamp=None)
