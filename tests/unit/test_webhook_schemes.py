"""What is particular to each named webhook scheme: Stripe's header list and whole-string key,
Standard Webhooks' header families, entry list and base64 key, GitHub's SHA-256-only header,
Shopify's base64 digest, and the delivery ids each one reports.
"""

from __future__ import annotations

import base64

import pytest

from sesrelay.webhooks import SignatureInvalid, Verified, verify
from tests.unit.test_webhook_vectors import (
    GITHUB,
    SHOPIFY,
    SLACK,
    STANDARD,
    STRIPE,
    b64_mac,
    hex_mac,
)

NOW = 1_750_000_000
BOGUS_HEX = "0" * 64


def _stripe(header: str, body: bytes, secrets: list[str], now: int = NOW) -> Verified:
    return verify(
        "stripe", headers={"stripe-signature": header}, body=body, secrets=secrets, now=now
    )


def _stripe_v1(secret: str, body: bytes, ts: int = NOW) -> str:
    return hex_mac(secret.encode(), f"{ts}.".encode() + body)


class TestStripe:
    def test_any_of_several_v1_entries_verifies_and_v0_is_ignored(self) -> None:
        body = b'{"id":"evt_1"}'
        valid = _stripe_v1("whsec_current", body)
        header = f"t={NOW},v1={BOGUS_HEX},v0={BOGUS_HEX},v1={valid}"
        assert _stripe(header, body, ["whsec_current"]) == Verified("evt_1", NOW)

    def test_published_example_with_its_v0_entry_moved_first(self) -> None:
        t, v1, v0 = STRIPE.headers["stripe-signature"].split(",")
        assert _stripe(",".join([v0, t, v1]), STRIPE.body, [STRIPE.secret], STRIPE.now)

    def test_a_correct_signature_under_v0_is_not_trusted(self) -> None:
        body = b"{}"
        header = f"t={NOW},v0={_stripe_v1('whsec_current', body)},v1={BOGUS_HEX}"
        with pytest.raises(SignatureInvalid, match="signature does not match"):
            _stripe(header, body, ["whsec_current"])

    def test_header_entries_for_old_and_new_secret(self) -> None:
        body = b"{}"
        header = f"t={NOW},v1={_stripe_v1('whsec_old', body)},v1={_stripe_v1('whsec_new', body)}"
        _stripe(header, body, ["whsec_new"])
        _stripe(header, body, ["whsec_old"])

    def test_unknown_entries_are_ignored(self) -> None:
        body = b"{}"
        header = f"t={NOW}, v1={_stripe_v1('whsec_x', body)},v2=abc,scheme-next"
        _stripe(header, body, ["whsec_x"])

    def test_key_is_the_whole_whsec_string_not_its_base64_decoding(self) -> None:
        secret = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
        body = b"{}"
        decoded_key = base64.b64decode(secret.removeprefix("whsec_"))
        wrong = hex_mac(decoded_key, f"{NOW}.".encode() + body)
        with pytest.raises(SignatureInvalid, match="signature does not match"):
            _stripe(f"t={NOW},v1={wrong}", body, [secret])
        _stripe(f"t={NOW},v1={_stripe_v1(secret, body)}", body, [secret])

    @pytest.mark.parametrize(
        "body", [b"not json", b"[1, 2]", b'{"id": 42}', b'{"id": ""}', b'{"object":"event"}']
    )
    def test_a_verified_body_without_a_string_id_has_no_delivery_id(self, body: bytes) -> None:
        header = f"t={NOW},v1={_stripe_v1('whsec_x', body)}"
        assert _stripe(header, body, ["whsec_x"]) == Verified(None, NOW)

    def test_timestamp_is_the_signed_t(self) -> None:
        assert (
            _stripe(
                STRIPE.headers["stripe-signature"], STRIPE.body, [STRIPE.secret], STRIPE.now + 299
            ).timestamp
            == 1533204620
        )


def _standard(headers: dict[str, str], body: bytes, secrets: list[str], now: int) -> Verified:
    return verify("standard-webhooks", headers=headers, body=body, secrets=secrets, now=now)


class TestStandardWebhooks:
    def test_svix_header_names_carry_the_same_published_example(self) -> None:
        headers = {k.replace("webhook-", "svix-"): v for k, v in STANDARD.headers.items()}
        result = _standard(headers, STANDARD.body, [STANDARD.secret], STANDARD.now)
        assert result == Verified("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330)

    def test_a_missing_svix_header_is_named_in_the_svix_family(self) -> None:
        headers = {k.replace("webhook-", "svix-"): v for k, v in STANDARD.headers.items()}
        del headers["svix-id"]
        with pytest.raises(SignatureInvalid, match=r"^missing header svix-id$"):
            _standard(headers, STANDARD.body, [STANDARD.secret], STANDARD.now)

    def test_header_families_are_not_mixed(self) -> None:
        headers = dict(STANDARD.headers)
        headers["svix-id"] = headers.pop("webhook-id")
        with pytest.raises(SignatureInvalid, match=r"^missing header webhook-id$"):
            _standard(headers, STANDARD.body, [STANDARD.secret], STANDARD.now)

    def test_secret_without_whsec_prefix_is_the_same_key(self) -> None:
        bare = STANDARD.secret.removeprefix("whsec_")
        _standard(STANDARD.headers, STANDARD.body, [bare], STANDARD.now)

    def test_any_v1_entry_verifies_and_v1a_entries_are_ignored(self) -> None:
        published = STANDARD.headers["webhook-signature"]
        ed25519 = "v1a," + base64.b64encode(b"\x01" * 64).decode()
        other = "v1," + base64.b64encode(b"\x02" * 32).decode()
        headers = {**STANDARD.headers, "webhook-signature": f"{ed25519} {other} {published}"}
        _standard(headers, STANDARD.body, [STANDARD.secret], STANDARD.now)

    def test_the_correct_digest_under_v1a_is_not_trusted(self) -> None:
        digest = STANDARD.headers["webhook-signature"].removeprefix("v1,")
        other = "v1," + base64.b64encode(b"\x02" * 32).decode()
        headers = {**STANDARD.headers, "webhook-signature": f"v1a,{digest} {other}"}
        with pytest.raises(SignatureInvalid, match="signature does not match"):
            _standard(headers, STANDARD.body, [STANDARD.secret], STANDARD.now)

    def test_the_message_id_is_signed(self) -> None:
        headers = {**STANDARD.headers, "webhook-id": "msg_replayed_under_new_id"}
        with pytest.raises(SignatureInvalid, match="signature does not match"):
            _standard(headers, STANDARD.body, [STANDARD.secret], STANDARD.now)

    def test_rotation_with_one_entry_per_secret(self) -> None:
        keys = [b"old-key-0123456789abcdef0123456", b"new-key-0123456789abcdef0123456"]
        secrets = ["whsec_" + base64.b64encode(k).decode() for k in keys]
        content = f"msg_9.{NOW}.".encode() + b"{}"
        signature = " ".join("v1," + b64_mac(k, content) for k in keys)
        headers = {
            "webhook-id": "msg_9",
            "webhook-timestamp": str(NOW),
            "webhook-signature": signature,
        }
        assert _standard(headers, b"{}", [secrets[1]], NOW) == Verified("msg_9", NOW)

    @pytest.mark.parametrize("secret", ["whsec_not*base64", "whsec_", "whsec_abc"])
    def test_a_secret_that_is_not_base64_is_a_configuration_error(self, secret: str) -> None:
        with pytest.raises(ValueError, match="standard-webhooks secret") as caught:
            _standard(STANDARD.headers, STANDARD.body, [secret], STANDARD.now)
        encoded = secret.removeprefix("whsec_")
        assert not encoded or encoded not in str(caught.value)


class TestGitHub:
    def test_the_sha1_header_alone_is_never_accepted(self) -> None:
        sha1_only = {"x-hub-signature": "sha1=" + "0" * 40, "x-github-delivery": "d-1"}
        with pytest.raises(SignatureInvalid, match=r"^missing header X-Hub-Signature-256$"):
            verify("github", headers=sha1_only, body=GITHUB.body, secrets=[GITHUB.secret], now=NOW)

    def test_delivery_id_is_optional(self) -> None:
        headers = {"x-hub-signature-256": GITHUB.headers["x-hub-signature-256"]}
        result = verify(
            "github", headers=headers, body=GITHUB.body, secrets=[GITHUB.secret], now=NOW
        )
        assert result == Verified(None, None)

    def test_no_timestamp_means_no_replay_window(self) -> None:
        # GitHub signs no time, so the same delivery verifies years later: callers dedupe on
        # X-GitHub-Delivery instead.
        later = NOW + 10 * 365 * 86_400
        result = verify(
            "github", headers=GITHUB.headers, body=GITHUB.body, secrets=[GITHUB.secret], now=later
        )
        assert result.delivery_id == GITHUB.delivery_id


class TestShopify:
    def test_the_digest_in_hex_is_malformed(self) -> None:
        as_hex = base64.b64decode(SHOPIFY.headers["x-shopify-hmac-sha256"]).hex()
        with pytest.raises(
            SignatureInvalid, match=r"^malformed signature header X-Shopify-Hmac-Sha256$"
        ):
            verify(
                "shopify",
                headers={"x-shopify-hmac-sha256": as_hex},
                body=SHOPIFY.body,
                secrets=[SHOPIFY.secret],
                now=NOW,
            )

    def test_delivery_id_is_none_without_a_webhook_id(self) -> None:
        headers = {"x-shopify-hmac-sha256": SHOPIFY.headers["x-shopify-hmac-sha256"]}
        result = verify(
            "shopify", headers=headers, body=SHOPIFY.body, secrets=[SHOPIFY.secret], now=NOW
        )
        assert result == Verified(None, None)


class TestSlack:
    def test_slack_reports_no_delivery_id(self) -> None:
        result = verify(
            "slack", headers=SLACK.headers, body=SLACK.body, secrets=[SLACK.secret], now=SLACK.now
        )
        assert result == Verified(delivery_id=None, timestamp=1531420618)

    def test_a_custom_tolerance_is_honoured(self) -> None:
        with pytest.raises(SignatureInvalid, match="timestamp outside the tolerance"):
            verify(
                "slack",
                headers=SLACK.headers,
                body=SLACK.body,
                secrets=[SLACK.secret],
                now=SLACK.now + 11,
                tolerance_seconds=10,
            )
        verify(
            "slack",
            headers=SLACK.headers,
            body=SLACK.body,
            secrets=[SLACK.secret],
            now=SLACK.now + 10,
            tolerance_seconds=10,
        )
