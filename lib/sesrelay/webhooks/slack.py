"""Slack: `X-Slack-Signature: v0=<hex HMAC-SHA256(signing secret, "v0:{ts}:{raw body}")>`.

https://api.slack.com/authentication/verifying-requests-from-slack
"""

from __future__ import annotations

from sesrelay.webhooks.base import (
    Delivery,
    Verified,
    check_fresh,
    parse_timestamp,
    prefixed_digest,
    require_match,
    required_header,
)

SIGNATURE_HEADER = "X-Slack-Signature"
TIMESTAMP_HEADER = "X-Slack-Request-Timestamp"
_PREFIX = "v0="


def verify(delivery: Delivery) -> Verified:
    raw_signature = required_header(delivery, SIGNATURE_HEADER)
    raw_timestamp = required_header(delivery, TIMESTAMP_HEADER)
    timestamp = parse_timestamp(raw_timestamp, TIMESTAMP_HEADER)
    candidate = prefixed_digest(raw_signature, _PREFIX, "hex", SIGNATURE_HEADER)
    basestring = b"v0:" + raw_timestamp.encode("ascii") + b":" + delivery.body
    require_match(delivery.utf8_keys(), basestring, [candidate], SIGNATURE_HEADER)
    check_fresh(timestamp, delivery)
    # Slack documents no delivery id: the caller derives its dedupe key from the body.
    return Verified(delivery_id=None, timestamp=timestamp)
