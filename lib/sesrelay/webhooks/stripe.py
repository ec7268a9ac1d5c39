"""Stripe: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=...][,v0=...]` over `{t}.{raw body}`.

https://docs.stripe.com/webhooks#verify-manually
"""

from __future__ import annotations

import json

from sesrelay.webhooks.base import (
    Delivery,
    Verified,
    check_fresh,
    decode_digest,
    malformed,
    parse_timestamp,
    require_match,
    required_header,
)

SIGNATURE_HEADER = "Stripe-Signature"


def _parse(raw: str) -> tuple[str, list[bytes | None]]:
    """The `t` value as sent and the decoded `v1` entries; other schemes (v0) are ignored."""
    timestamps: list[str] = []
    signatures: list[bytes | None] = []
    for item in raw.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t":
            timestamps.append(value.strip())
        elif key == "v1":
            # Several v1 entries appear while an endpoint secret is being rolled.
            signatures.append(decode_digest(value, "hex"))
    if len(timestamps) != 1 or not signatures:
        raise malformed(SIGNATURE_HEADER)
    return timestamps[0], signatures


def _event_id(body: bytes) -> str | None:
    # Only ever called on a verified body; a body that is not an event object yields no id
    # and the caller's own parsing reports it.
    try:
        event = json.loads(body)
    except (ValueError, RecursionError):
        return None
    event_id = event.get("id") if isinstance(event, dict) else None
    return event_id if isinstance(event_id, str) and event_id else None


def verify(delivery: Delivery) -> Verified:
    raw_timestamp, candidates = _parse(required_header(delivery, SIGNATURE_HEADER))
    timestamp = parse_timestamp(raw_timestamp, SIGNATURE_HEADER)
    # The key is the whole `whsec_...` string as UTF-8 bytes, not a base64 decoding of it.
    signed_payload = raw_timestamp.encode("ascii") + b"." + delivery.body
    require_match(delivery.utf8_keys(), signed_payload, candidates, SIGNATURE_HEADER)
    check_fresh(timestamp, delivery)
    return Verified(delivery_id=_event_id(delivery.body), timestamp=timestamp)
