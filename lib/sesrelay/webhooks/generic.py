"""Generic HMAC-SHA256 for senders without a named scheme: header, encoding, prefix, optional
timestamp header and signed-content layout all come from `GenericHmacOptions`.
"""

from __future__ import annotations

from sesrelay.webhooks.base import (
    Delivery,
    GenericHmacOptions,
    Verified,
    check_fresh,
    optional_header,
    parse_timestamp,
    prefixed_digest,
    require_match,
    required_header,
)


def _signed_content(options: GenericHmacOptions, raw_timestamp: str, body: bytes) -> bytes:
    # Substitute {timestamp} in the layout only, then splice the body in as bytes, so that
    # placeholder-like text inside the body is never touched.
    before, after = options.signed_content.replace("{timestamp}", raw_timestamp).split("{body}")
    return before.encode("utf-8") + body + after.encode("utf-8")


def verify(delivery: Delivery) -> Verified:
    options = delivery.options
    if options is None:
        raise ValueError("the hmac scheme needs GenericHmacOptions")
    raw_signature = required_header(delivery, options.header)
    raw_timestamp, timestamp = "", None
    if options.timestamp_header is not None:
        raw_timestamp = required_header(delivery, options.timestamp_header)
        timestamp = parse_timestamp(raw_timestamp, options.timestamp_header)
    candidate = prefixed_digest(raw_signature, options.prefix, options.encoding, options.header)
    content = _signed_content(options, raw_timestamp, delivery.body)
    require_match(delivery.utf8_keys(), content, [candidate], options.header)
    if timestamp is not None:
        check_fresh(timestamp, delivery)
    return Verified(delivery_id=optional_header(delivery, options.id_header), timestamp=timestamp)
