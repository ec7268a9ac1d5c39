"""Every webhook signature scheme against the same rules: its published example verifies;
tampering, a wrong secret, a stale or future timestamp, a missing or malformed header are
refused with a message that never reveals the expected signature; rotated secrets verify.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import pytest

from sesrelay.errors import RelayError
from sesrelay.webhooks import GenericHmacOptions, SignatureInvalid, Verified, verify
from tests.unit.test_webhook_vectors import (
    GITHUB,
    RFC4231_DATA,
    RFC4231_HMAC,
    RFC4231_KEY,
    SHOPIFY,
    SLACK,
    STANDARD,
    STRIPE,
    Vector,
    b64_mac,
    hex_mac,
)

TOLERANCE = 300
SIGNED_AT = 1_750_000_000
BODY = b'{"event":"signup","email":"ana@example.com"}'
# Anything that looks like an encoded HMAC-SHA256 (hex or base64).
DIGEST_TOKEN = re.compile(r"[0-9a-fA-F]{64}|[A-Za-z0-9+/]{43}=")

Headers = dict[str, str]


def _with(headers: Mapping[str, str], name: str, value: str) -> Headers:
    return {**headers, name: value}


def _plain(label: str) -> str:
    return f"{label}-secret-value"


def _whsec(label: str) -> str:
    return "whsec_" + base64.b64encode(f"{label}-secret-value-32-bytes!!".encode()).decode()


@dataclass(frozen=True)
class Scheme:
    """How one scheme signs (independently of the code under test) and what it requires."""

    id: str
    name: str
    vector: Vector
    signature_header: str  # the vendor's spelling; the request carries it lower-cased
    required_headers: tuple[str, ...]
    sign: Callable[[str, bytes, int], Headers]  # (secret, body, timestamp) -> headers
    malformed: tuple[str, ...]
    make_secret: Callable[[str], str] = _plain
    set_timestamp: Callable[[Headers, str], Headers] | None = None
    options: GenericHmacOptions | None = None

    @property
    def timestamped(self) -> bool:
        return self.set_timestamp is not None


def _sign_github(secret: str, body: bytes, _ts: int) -> Headers:
    return {
        "x-hub-signature-256": "sha256=" + hex_mac(secret.encode(), body),
        "x-github-delivery": "delivery-1",
    }


def _sign_stripe(secret: str, body: bytes, ts: int) -> Headers:
    v1 = hex_mac(secret.encode(), f"{ts}.".encode() + body)
    return {"stripe-signature": f"t={ts},v1={v1}"}


def _stripe_timestamp(headers: Headers, raw: str) -> Headers:
    stamped = re.sub(r"t=\d+", f"t={raw}", headers["stripe-signature"])
    return _with(headers, "stripe-signature", stamped)


def _sign_shopify(secret: str, body: bytes, _ts: int) -> Headers:
    return {"x-shopify-hmac-sha256": b64_mac(secret.encode(), body)}


def _sign_standard(secret: str, body: bytes, ts: int) -> Headers:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signature = b64_mac(key, f"msg_1.{ts}.".encode() + body)
    return {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(ts),
        "webhook-signature": f"v1,{signature}",
    }


def _sign_slack(secret: str, body: bytes, ts: int) -> Headers:
    signature = hex_mac(secret.encode(), f"v0:{ts}:".encode() + body)
    return {"x-slack-request-timestamp": str(ts), "x-slack-signature": f"v0={signature}"}


GENERIC_PLAIN = GenericHmacOptions(header="X-Signature")
GENERIC_TIMESTAMPED = GenericHmacOptions(
    header="X-Signature",
    prefix="sha256=",
    timestamp_header="X-Timestamp",
    signed_content="{timestamp}.{body}",
    id_header="X-Webhook-Id",
)


def _sign_generic_plain(secret: str, body: bytes, _ts: int) -> Headers:
    return {"x-signature": hex_mac(secret.encode(), body)}


def _sign_generic_timestamped(secret: str, body: bytes, ts: int) -> Headers:
    return {
        "x-timestamp": str(ts),
        "x-signature": "sha256=" + hex_mac(secret.encode(), f"{ts}.".encode() + body),
        "x-webhook-id": "wh_1",
    }


# No vendor stands behind the generic scheme. Its untimestamped example is RFC 4231's published
# HMAC-SHA256 vector (test case 2); the timestamped one is derived independently by the
# RFC 2104 signer in test_webhook_vectors.py, itself checked against RFC 4231.
GENERIC_PLAIN_VECTOR = Vector(
    secret=RFC4231_KEY,
    body=RFC4231_DATA,
    headers={"x-signature": RFC4231_HMAC},
    now=SIGNED_AT,
    delivery_id=None,
    timestamp=None,
)
GENERIC_TIMESTAMPED_VECTOR = Vector(
    secret="generic-secret",
    body=BODY,
    headers=_sign_generic_timestamped("generic-secret", BODY, SIGNED_AT),
    now=SIGNED_AT,
    delivery_id="wh_1",
    timestamp=SIGNED_AT,
)

SCHEMES = [
    Scheme(
        id="github",
        name="github",
        vector=GITHUB,
        signature_header="X-Hub-Signature-256",
        required_headers=("X-Hub-Signature-256",),
        sign=_sign_github,
        malformed=(
            "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
            "sha1=0123456789abcdef0123456789abcdef01234567",
            "sha256=zz",
            "sha256=",
        ),
    ),
    Scheme(
        id="stripe",
        name="stripe",
        vector=STRIPE,
        signature_header="Stripe-Signature",
        required_headers=("Stripe-Signature",),
        sign=_sign_stripe,
        malformed=(
            "garbage",
            "t=1533204620",
            "v1=" + "ab" * 32,
            "t=1533204620,v1=nothex",
            "t=1533204620,v0=" + "ab" * 32,
            "t=1,t=2,v1=" + "ab" * 32,
        ),
        set_timestamp=_stripe_timestamp,
    ),
    Scheme(
        id="shopify",
        name="shopify",
        vector=SHOPIFY,
        signature_header="X-Shopify-Hmac-Sha256",
        required_headers=("X-Shopify-Hmac-Sha256",),
        sign=_sign_shopify,
        malformed=(
            "not base64!",
            "ab" * 32,
            "c2hvcnQ=",
            "sha256=/Redz4YXHLnSmmSN8grr5/Jl/Ua3d7yX3iWbjb8R8wo=",
        ),
    ),
    Scheme(
        id="standard-webhooks",
        name="standard-webhooks",
        vector=STANDARD,
        signature_header="webhook-signature",
        required_headers=("webhook-signature", "webhook-id", "webhook-timestamp"),
        sign=_sign_standard,
        malformed=(
            "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
            "v1,***",
            "v1a,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
            "v2,abc",
        ),
        make_secret=_whsec,
        set_timestamp=lambda headers, raw: _with(headers, "webhook-timestamp", raw),
    ),
    Scheme(
        id="slack",
        name="slack",
        vector=SLACK,
        signature_header="X-Slack-Signature",
        required_headers=("X-Slack-Signature", "X-Slack-Request-Timestamp"),
        sign=_sign_slack,
        malformed=(
            "a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
            "v1=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
            "v0=abc",
        ),
        set_timestamp=lambda headers, raw: _with(headers, "x-slack-request-timestamp", raw),
    ),
    Scheme(
        id="hmac-rfc4231",
        name="hmac",
        vector=GENERIC_PLAIN_VECTOR,
        signature_header="X-Signature",
        required_headers=("X-Signature",),
        sign=_sign_generic_plain,
        malformed=("sha256=" + RFC4231_HMAC, RFC4231_HMAC[:-2], "xyz"),
        options=GENERIC_PLAIN,
    ),
    Scheme(
        id="hmac-timestamped",
        name="hmac",
        vector=GENERIC_TIMESTAMPED_VECTOR,
        signature_header="X-Signature",
        required_headers=("X-Signature", "X-Timestamp"),
        sign=_sign_generic_timestamped,
        malformed=(RFC4231_HMAC, "sha256=", "sha256=nothex"),
        set_timestamp=lambda headers, raw: _with(headers, "x-timestamp", raw),
        options=GENERIC_TIMESTAMPED,
    ),
]
TIMESTAMPED = [s for s in SCHEMES if s.timestamped]

each_scheme = pytest.mark.parametrize("scheme", SCHEMES, ids=lambda s: s.id)
each_timestamped_scheme = pytest.mark.parametrize("scheme", TIMESTAMPED, ids=lambda s: s.id)


def check(
    scheme: Scheme, headers: Mapping[str, str], body: bytes, secrets: list[str], now: int
) -> Verified:
    return verify(
        scheme.name,
        headers=headers,
        body=body,
        secrets=secrets,
        now=now,
        tolerance_seconds=TOLERANCE,
        options=scheme.options,
    )


def refused(
    scheme: Scheme, headers: Mapping[str, str], body: bytes, secrets: list[str], now: int
) -> SignatureInvalid:
    with pytest.raises(SignatureInvalid) as caught:
        check(scheme, headers, body, secrets, now)
    return caught.value


def assert_reveals_nothing(error: SignatureInvalid, *expected: Mapping[str, str]) -> None:
    """No signature from these headers, hex or base64 or re-encoded, appears in the message."""
    message = str(error)
    for headers in expected:
        for value in headers.values():
            for token in DIGEST_TOKEN.findall(value):
                raw = bytes.fromhex(token) if len(token) == 64 else base64.b64decode(token)
                for form in (token, raw.hex(), base64.b64encode(raw).decode()):
                    assert form not in message


@each_scheme
def test_published_example_verifies(scheme: Scheme) -> None:
    v = scheme.vector
    result = check(scheme, v.headers, v.body, [v.secret], v.now)
    assert result == Verified(delivery_id=v.delivery_id, timestamp=v.timestamp)


@each_scheme
def test_own_signature_verifies(scheme: Scheme) -> None:
    secret = scheme.make_secret("current")
    headers = scheme.sign(secret, BODY, SIGNED_AT)
    result = check(scheme, headers, BODY, [secret], SIGNED_AT)
    assert result.timestamp == (SIGNED_AT if scheme.timestamped else None)


@each_scheme
def test_tampered_published_example_is_refused(scheme: Scheme) -> None:
    v = scheme.vector
    error = refused(scheme, v.headers, v.body + b" ", [v.secret], v.now)
    assert error.reason == "mismatch"
    assert str(error) == "signature does not match"
    assert error.code == "invalid_signature"
    assert_reveals_nothing(error, v.headers)


@each_scheme
def test_tampered_body_reveals_no_expected_signature(scheme: Scheme) -> None:
    secret = scheme.make_secret("current")
    headers = scheme.sign(secret, BODY, SIGNED_AT)
    tampered = BODY.replace(b"ana@", b"eve@")
    error = refused(scheme, headers, tampered, [secret], SIGNED_AT)
    assert error.reason == "mismatch"
    # What the verifier computed for the tampered body must not be handed to the forger.
    assert_reveals_nothing(error, scheme.sign(secret, tampered, SIGNED_AT), headers)
    assert secret not in str(error)


@each_scheme
def test_wrong_secret_is_refused(scheme: Scheme) -> None:
    signed_with, configured = scheme.make_secret("attacker"), scheme.make_secret("current")
    headers = scheme.sign(signed_with, BODY, SIGNED_AT)
    error = refused(scheme, headers, BODY, [configured], SIGNED_AT)
    assert error.reason == "mismatch"
    assert_reveals_nothing(error, scheme.sign(configured, BODY, SIGNED_AT))
    assert configured not in str(error)


@each_scheme
def test_published_example_with_wrong_secret_is_refused(scheme: Scheme) -> None:
    v = scheme.vector
    error = refused(scheme, v.headers, v.body, [scheme.make_secret("other")], v.now)
    assert error.reason == "mismatch"


@each_scheme
@pytest.mark.parametrize("signer", ["old", "new"])
def test_rotated_secrets_accept_either(scheme: Scheme, signer: str) -> None:
    old, new = scheme.make_secret("old"), scheme.make_secret("new")
    headers = scheme.sign(scheme.make_secret(signer), BODY, SIGNED_AT)
    check(scheme, headers, BODY, [old, new], SIGNED_AT)
    check(scheme, headers, BODY, [new, old], SIGNED_AT)


@each_scheme
def test_published_example_verifies_among_rotated_secrets(scheme: Scheme) -> None:
    v = scheme.vector
    check(scheme, v.headers, v.body, [scheme.make_secret("next"), v.secret], v.now)


@each_timestamped_scheme
@pytest.mark.parametrize("offset", [TOLERANCE + 1, -(TOLERANCE + 1), 86_400, -86_400])
def test_timestamp_outside_tolerance_is_refused(scheme: Scheme, offset: int) -> None:
    # now = ts + tolerance + 1 is a stale replay; now = ts - tolerance - 1 is dated in the future.
    v = scheme.vector
    assert v.timestamp is not None
    error = refused(scheme, v.headers, v.body, [v.secret], v.timestamp + offset)
    assert error.reason == "stale_timestamp"
    assert str(error) == "timestamp outside the tolerance"


@each_timestamped_scheme
@pytest.mark.parametrize("offset", [TOLERANCE, -TOLERANCE])
def test_timestamp_at_the_tolerance_edge_is_accepted(scheme: Scheme, offset: int) -> None:
    v = scheme.vector
    assert v.timestamp is not None
    assert (
        check(scheme, v.headers, v.body, [v.secret], v.timestamp + offset).timestamp == v.timestamp
    )


@each_timestamped_scheme
def test_forged_timestamp_does_not_verify(scheme: Scheme) -> None:
    # Moving the timestamp to "now" would defeat the replay window if it were not signed.
    assert scheme.set_timestamp is not None
    v = scheme.vector
    assert v.timestamp is not None
    headers = scheme.set_timestamp(v.headers, str(v.timestamp + 3600))
    error = refused(scheme, headers, v.body, [v.secret], v.timestamp + 3600)
    assert error.reason == "mismatch"


@each_timestamped_scheme
@pytest.mark.parametrize(
    "raw", ["abc", "1531420618.5", "-1", "+1531420618", "1e9", " 1 2", "١٥٣١٤٢٠٦١٨", "9" * 40]
)
def test_non_integer_timestamp_is_malformed(scheme: Scheme, raw: str) -> None:
    assert scheme.set_timestamp is not None
    v = scheme.vector
    error = refused(scheme, scheme.set_timestamp(v.headers, raw), v.body, [v.secret], v.now)
    assert error.reason == "malformed_header"
    assert "malformed" in str(error)


@pytest.mark.parametrize(
    ("scheme", "name"),
    [(s, name) for s in SCHEMES for name in s.required_headers],
    ids=lambda p: p.id if isinstance(p, Scheme) else p,
)
def test_missing_header_is_named(scheme: Scheme, name: str) -> None:
    v = scheme.vector
    headers = {k: value for k, value in v.headers.items() if k != name.lower()}
    error = refused(scheme, headers, v.body, [v.secret], v.now)
    assert error.reason == "missing_header"
    assert str(error) == f"missing header {name}"
    blank = refused(scheme, _with(v.headers, name.lower(), "  "), v.body, [v.secret], v.now)
    assert str(blank) == f"missing header {name}"


@each_scheme
def test_no_headers_at_all_names_the_signature_header(scheme: Scheme) -> None:
    v = scheme.vector
    error = refused(scheme, {}, v.body, [v.secret], v.now)
    assert str(error) == f"missing header {scheme.signature_header}"


@pytest.mark.parametrize(
    ("scheme", "value"),
    [(s, value) for s in SCHEMES for value in s.malformed],
    ids=lambda p: p.id if isinstance(p, Scheme) else repr(p)[:24],
)
def test_malformed_signature_header_is_refused(scheme: Scheme, value: str) -> None:
    v = scheme.vector
    headers = _with(v.headers, scheme.signature_header.lower(), value)
    error = refused(scheme, headers, v.body, [v.secret], v.now)
    assert error.reason == "malformed_header"
    assert str(error) == f"malformed signature header {scheme.signature_header}"
    assert_reveals_nothing(error, v.headers)


@each_scheme
def test_signature_invalid_is_a_relay_error(scheme: Scheme) -> None:
    v = scheme.vector
    error = refused(scheme, {}, v.body, [v.secret], v.now)
    assert isinstance(error, RelayError)
    assert error.as_dict() == {"code": "invalid_signature", "message": str(error)}
