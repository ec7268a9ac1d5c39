"""Published worked examples for each webhook signature scheme, and an independent signer.

The vectors are data taken from each vendor's own documentation or SDK tests (source URL beside
each); the signer is HMAC written out from RFC 2104 over hashlib, so the tests never share
`hmac.new` with the code under test.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field


def rfc2104_hmac_sha256(key: bytes, message: bytes) -> bytes:
    """HMAC-SHA256 written out from RFC 2104 section 2, independent of the hmac module."""
    block_size = 64
    if len(key) > block_size:
        key = hashlib.sha256(key).digest()
    key = key.ljust(block_size, b"\x00")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in key) + message).digest()
    return hashlib.sha256(bytes(b ^ 0x5C for b in key) + inner).digest()


def hex_mac(key: bytes, message: bytes) -> str:
    return rfc2104_hmac_sha256(key, message).hex()


def b64_mac(key: bytes, message: bytes) -> str:
    return base64.b64encode(rfc2104_hmac_sha256(key, message)).decode("ascii")


@dataclass(frozen=True)
class Vector:
    """One published example: verify(scheme, headers=..., body=..., secrets=[secret], now=now)."""

    secret: str
    body: bytes
    headers: dict[str, str]
    now: int
    delivery_id: str | None
    timestamp: int | None
    extra: dict[str, str] = field(default_factory=dict)


# RFC 4231 section 4.3 (test case 2): the published HMAC-SHA256 test vector, used to check the
# independent signer above and as the generic scheme's example.
# https://www.rfc-editor.org/rfc/rfc4231#section-4.3
RFC4231_KEY = "Jefe"
RFC4231_DATA = b"what do ya want for nothing?"
RFC4231_HMAC = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"

# GitHub, "Validating webhook deliveries" > "Testing the webhook payload validation".
# https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries#testing-the-webhook-payload-validation
GITHUB = Vector(
    secret="It's a Secret to Everybody",
    body=b"Hello, World!",
    headers={
        "x-hub-signature-256": (
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        ),
        # The page gives no delivery header; this GUID is ours, to check it is passed through.
        "x-github-delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
    },
    now=1_700_000_000,
    delivery_id="72d3162e-cc78-11e3-81ab-4c9367dc0958",
    timestamp=None,
)

# Stripe publishes no worked example on its docs page (its sample header there has no payload
# or secret); this one is from Stripe's own .NET SDK tests: secret, timestamp and header in
# https://github.com/stripe/stripe-dotnet/blob/master/src/StripeTests/Services/Events/EventUtilityTest.cs
# and the signed body (with its final newline) in
# https://github.com/stripe/stripe-dotnet/blob/master/src/StripeTests/Resources/event_test_signature.json
STRIPE_BODY = b"""{
  "id": "evt_123",
  "object": "event",
  "account": "acct_123",
  "api_version": "2017-05-25",
  "created": 1533204620,
  "data": {
    "object": {
      "id": "cus_123",
      "object": "customer",
      "created": 123456789,
      "email": "test@stripe.com",
      "livemode": false,
      "metadata": {}
    }
  },
  "livemode": false,
  "pending_webhooks": 1,
  "request": {
    "id": "req_123",
    "idempotency_key": "idempotency-key-123"
  },
  "type": "customer.created"
}
"""
STRIPE = Vector(
    secret="webhook_secret",
    body=STRIPE_BODY,
    headers={
        "stripe-signature": (
            "t=1533204620,"
            "v1=2220f87ef101a04665f11cdf770523143f875572008577fa0f20882ddb9cc3c7,"
            "v0=63f3a72374a733066c4be69ed7f8e5ac85c22c9f0a6a612ab9a025a9e4ee7eef"
        )
    },
    now=1533204620,
    delivery_id="evt_123",
    timestamp=1533204620,
)

# Shopify's docs page shows the algorithm but no worked example; this one is from Shopify's own
# PHP library tests: the header and body in
# https://github.com/Shopify/shopify-api-php/blob/main/tests/Webhooks/RegistryTest.php
# ($processHeaders, json_encode($processBody)) and the secret (apiSecretKey) in
# https://github.com/Shopify/shopify-api-php/blob/main/tests/BaseTestCase.php
SHOPIFY = Vector(
    secret="steffi",
    body=b'{"foo":"bar"}',
    headers={
        "x-shopify-hmac-sha256": "/Redz4YXHLnSmmSN8grr5/Jl/Ua3d7yX3iWbjb8R8wo=",
        # Not part of the vendor example: ours, to check the id is passed through.
        "x-shopify-webhook-id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
    },
    now=1_700_000_000,
    delivery_id="b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
    timestamp=None,
)

# Standard Webhooks reference implementation's test (test_sign_function), the same example
# Svix gives on https://docs.svix.com/receiving/verifying-payloads/how-manual
# https://github.com/standard-webhooks/standard-webhooks/blob/main/libraries/python/tests/test_webhooks.py
STANDARD = Vector(
    secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    body=b'{"test": 2432232314}',
    headers={
        "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "webhook-timestamp": "1614265330",
        "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    },
    now=1614265330,
    delivery_id="msg_p5jXN8AQM9LWM0D4loKWxJek",
    timestamp=1614265330,
)

# Slack, "Verifying requests from Slack", the worked example (signing secret, timestamp,
# slash-command body, expected X-Slack-Signature).
# https://api.slack.com/authentication/verifying-requests-from-slack
SLACK = Vector(
    secret="8f742231b10e8888abcd99yyyzzz85a5",
    body=(
        b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow"
        b"&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner"
        b"&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com"
        b"%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
        b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
    ),
    headers={
        "x-slack-request-timestamp": "1531420618",
        "x-slack-signature": (
            "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
        ),
    },
    now=1531420618,
    delivery_id=None,
    timestamp=1531420618,
)


# The signer and every published vector agree before any test relies on either.


def test_independent_signer_reproduces_rfc4231() -> None:
    assert hex_mac(RFC4231_KEY.encode(), RFC4231_DATA) == RFC4231_HMAC


def test_independent_signer_reproduces_github_example() -> None:
    expected = GITHUB.headers["x-hub-signature-256"].removeprefix("sha256=")
    assert hex_mac(GITHUB.secret.encode(), GITHUB.body) == expected


def test_independent_signer_reproduces_stripe_example() -> None:
    signed_payload = b"1533204620." + STRIPE.body
    assert (
        f"v1={hex_mac(STRIPE.secret.encode(), signed_payload)},"
        in STRIPE.headers["stripe-signature"]
    )


def test_independent_signer_reproduces_shopify_example() -> None:
    expected = SHOPIFY.headers["x-shopify-hmac-sha256"]
    assert b64_mac(SHOPIFY.secret.encode(), SHOPIFY.body) == expected


def test_independent_signer_reproduces_standard_webhooks_example() -> None:
    key = base64.b64decode(STANDARD.secret.removeprefix("whsec_"))
    content = b"msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330." + STANDARD.body
    assert "v1," + b64_mac(key, content) == STANDARD.headers["webhook-signature"]


def test_independent_signer_reproduces_slack_example() -> None:
    basestring = b"v0:1531420618:" + SLACK.body
    assert "v0=" + hex_mac(SLACK.secret.encode(), basestring) == SLACK.headers["x-slack-signature"]
