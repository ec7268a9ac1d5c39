"""Standard Webhooks (Svix, Resend, Supabase, ...): `webhook-signature: v1,<base64>` over
`{id}.{timestamp}.{raw body}`, keyed by the base64 secret; Svix's `svix-*` headers too.
https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
"""

from __future__ import annotations

import base64
import binascii

from sesrelay.webhooks.base import (
    Delivery,
    Verified,
    check_fresh,
    decode_digest,
    parse_timestamp,
    require_match,
    required_header,
)

# Svix sends the same three headers under its own prefix; a delivery uses one family only.
_FAMILIES = ("webhook", "svix")
_WHSEC_PREFIX = "whsec_"
_SCHEME = "v1,"


def secret_key(secret: str) -> bytes:
    """The HMAC key: the base64 decoding of the secret after its optional `whsec_` prefix."""
    encoded = secret.strip().removeprefix(_WHSEC_PREFIX)
    try:
        key = base64.b64decode(encoded, validate=True)
    except (ValueError, binascii.Error):
        # A configuration error, not the sender's: the message never quotes the secret.
        raise ValueError(
            "a standard-webhooks secret must be base64 after its whsec_ prefix"
        ) from None
    if not key:
        raise ValueError("a standard-webhooks secret must not be empty")
    return key


def verify(delivery: Delivery) -> Verified:
    family = next((f for f in _FAMILIES if f"{f}-signature" in delivery.headers), _FAMILIES[0])
    signature_header = f"{family}-signature"
    raw_signature = required_header(delivery, signature_header)
    message_id = required_header(delivery, f"{family}-id")
    raw_timestamp = required_header(delivery, f"{family}-timestamp")
    timestamp = parse_timestamp(raw_timestamp, f"{family}-timestamp")
    # A space-separated list (one entry per active secret); `v1a,` entries are ed25519
    # signatures, which an HMAC secret cannot check, so only `v1,` entries count.
    candidates = [
        decode_digest(entry[len(_SCHEME) :], "base64")
        for entry in raw_signature.split()
        if entry.startswith(_SCHEME)
    ]
    keys = [secret_key(secret) for secret in delivery.secrets]
    content = f"{message_id}.{raw_timestamp}.".encode() + delivery.body
    require_match(keys, content, candidates, signature_header)
    check_fresh(timestamp, delivery)
    return Verified(delivery_id=message_id, timestamp=timestamp)
