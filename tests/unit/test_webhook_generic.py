"""The generic HMAC-SHA256 scheme's options (encoding, prefix, timestamp header, layout, id
header) and the public `verify` entry point's handling of configuration mistakes.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Literal

import pytest

from sesrelay.webhooks import SCHEMES, GenericHmacOptions, SignatureInvalid, Verified, verify
from tests.unit.test_webhook_vectors import (
    GITHUB,
    RFC4231_DATA,
    RFC4231_HMAC,
    RFC4231_KEY,
    SHOPIFY,
    SLACK,
    hex_mac,
)

NOW = 1_750_000_000
# RFC 4231 section 4.3 (test case 2), re-encoded as base64 for the base64 option.
# https://www.rfc-editor.org/rfc/rfc4231#section-4.3
RFC4231_BASE64 = base64.b64encode(bytes.fromhex(RFC4231_HMAC)).decode()


def _generic(
    options: GenericHmacOptions,
    headers: Mapping[str, str],
    body: bytes = RFC4231_DATA,
    secrets: tuple[str, ...] = (RFC4231_KEY,),
    now: int = NOW,
) -> Verified:
    return verify(
        "hmac", headers=headers, body=body, secrets=list(secrets), now=now, options=options
    )


class TestEncodingsAndPrefix:
    def test_hex_is_the_default(self) -> None:
        options = GenericHmacOptions(header="X-Signature")
        assert _generic(options, {"x-signature": RFC4231_HMAC}) == Verified(None, None)

    def test_base64(self) -> None:
        options = GenericHmacOptions(header="X-Signature", encoding="base64")
        _generic(options, {"x-signature": RFC4231_BASE64})

    def test_hex_value_under_the_base64_option_is_malformed(self) -> None:
        options = GenericHmacOptions(header="X-Signature", encoding="base64")
        with pytest.raises(SignatureInvalid, match=r"^malformed signature header X-Signature$"):
            _generic(options, {"x-signature": RFC4231_HMAC})

    @pytest.mark.parametrize(
        ("encoding", "digest"), [("hex", RFC4231_HMAC), ("base64", RFC4231_BASE64)]
    )
    def test_prefix(self, encoding: Literal["hex", "base64"], digest: str) -> None:
        options = GenericHmacOptions(header="X-Hook-Sig", prefix="sha256=", encoding=encoding)
        _generic(options, {"x-hook-sig": f"sha256={digest}"})
        with pytest.raises(SignatureInvalid, match="malformed"):
            _generic(options, {"x-hook-sig": digest})

    def test_uppercase_hex_is_the_same_digest(self) -> None:
        options = GenericHmacOptions(header="X-Signature")
        _generic(options, {"x-signature": RFC4231_HMAC.upper()})


class TestTimestampLayout:
    OPTIONS = GenericHmacOptions(
        header="X-Signature",
        prefix="sha256=",
        timestamp_header="X-Timestamp",
        signed_content="{timestamp}.{body}",
        id_header="X-Request-Id",
    )

    def _signed(self, body: bytes, ts: int = NOW) -> dict[str, str]:
        return {
            "x-timestamp": str(ts),
            "x-signature": "sha256=" + hex_mac(b"k", f"{ts}.".encode() + body),
            "x-request-id": "req-7",
        }

    def test_timestamp_and_id_are_reported(self) -> None:
        result = _generic(self.OPTIONS, self._signed(b"{}"), body=b"{}", secrets=("k",))
        assert result == Verified("req-7", NOW)

    def test_the_body_alone_does_not_verify_under_a_timestamped_layout(self) -> None:
        headers = {"x-timestamp": str(NOW), "x-signature": "sha256=" + hex_mac(b"k", b"{}")}
        with pytest.raises(SignatureInvalid, match="signature does not match"):
            _generic(self.OPTIONS, headers, body=b"{}", secrets=("k",))

    def test_placeholders_inside_the_body_are_left_alone(self) -> None:
        body = b'{"a":"{timestamp}","b":"{body}"}'
        _generic(self.OPTIONS, self._signed(body), body=body, secrets=("k",))

    def test_stale_and_future_timestamps(self) -> None:
        headers = self._signed(b"{}")
        for now in (NOW + 301, NOW - 301):
            with pytest.raises(SignatureInvalid, match="timestamp outside the tolerance"):
                _generic(self.OPTIONS, headers, body=b"{}", secrets=("k",), now=now)

    def test_id_header_absent_gives_no_delivery_id(self) -> None:
        headers = self._signed(b"{}")
        del headers["x-request-id"]
        assert _generic(self.OPTIONS, headers, body=b"{}", secrets=("k",)).delivery_id is None


class TestGenericReproducesNamedSchemes:
    """The generic options can describe GitHub, Shopify and Slack: each vendor's published
    example verifies through them as well, which checks the layout machinery end to end."""

    def test_github(self) -> None:
        options = GenericHmacOptions(
            header="X-Hub-Signature-256", prefix="sha256=", id_header="X-GitHub-Delivery"
        )
        result = _generic(options, GITHUB.headers, body=GITHUB.body, secrets=(GITHUB.secret,))
        assert result == Verified(GITHUB.delivery_id, None)

    def test_shopify(self) -> None:
        options = GenericHmacOptions(header="X-Shopify-Hmac-Sha256", encoding="base64")
        _generic(options, SHOPIFY.headers, body=SHOPIFY.body, secrets=(SHOPIFY.secret,))

    def test_slack(self) -> None:
        options = GenericHmacOptions(
            header="X-Slack-Signature",
            prefix="v0=",
            timestamp_header="X-Slack-Request-Timestamp",
            signed_content="v0:{timestamp}:{body}",
        )
        result = _generic(
            options, SLACK.headers, body=SLACK.body, secrets=(SLACK.secret,), now=SLACK.now
        )
        assert result == Verified(None, SLACK.timestamp)


class TestOptionsValidation:
    @pytest.mark.parametrize(
        "kwargs",
        [
            {"header": " "},
            {"header": "X-Sig", "encoding": "base32"},
            {"header": "X-Sig", "signed_content": "{timestamp}"},
            {"header": "X-Sig", "signed_content": "{body}{body}"},
            {"header": "X-Sig", "signed_content": "{timestamp}.{body}"},
        ],
    )
    def test_inconsistent_options_are_rejected_when_built(self, kwargs: dict[str, str]) -> None:
        with pytest.raises(ValueError, match="GenericHmacOptions"):
            GenericHmacOptions(**kwargs)  # type: ignore[arg-type]

    def test_hmac_without_options_is_a_configuration_error(self) -> None:
        with pytest.raises(ValueError, match="GenericHmacOptions"):
            verify("hmac", headers={}, body=b"", secrets=["k"], now=NOW)

    def test_options_on_a_named_scheme_are_a_configuration_error(self) -> None:
        with pytest.raises(ValueError, match="GenericHmacOptions"):
            verify(
                "github",
                headers={},
                body=b"",
                secrets=["k"],
                now=NOW,
                options=GenericHmacOptions(header="X-Sig"),
            )


class TestEntryPoint:
    def test_schemes(self) -> None:
        assert (
            frozenset({"github", "stripe", "shopify", "standard-webhooks", "slack", "hmac"})
            == SCHEMES
        )

    def test_unknown_scheme_is_a_configuration_error(self) -> None:
        with pytest.raises(ValueError, match="'gitlab'"):
            verify("gitlab", headers={}, body=b"", secrets=["k"], now=NOW)

    @pytest.mark.parametrize("secrets", [[], [""], ["ok", "  "]])
    def test_missing_or_empty_secrets_are_a_configuration_error(self, secrets: list[str]) -> None:
        with pytest.raises(ValueError, match="non-empty secret"):
            verify("github", headers=GITHUB.headers, body=GITHUB.body, secrets=secrets, now=NOW)

    def test_a_single_string_is_not_a_list_of_secrets(self) -> None:
        # A str is a Sequence[str]: without this check each character would become a secret.
        with pytest.raises(ValueError, match="list of secrets"):
            verify(
                "github", headers=GITHUB.headers, body=GITHUB.body, secrets=GITHUB.secret, now=NOW
            )

    def test_negative_tolerance_is_a_configuration_error(self) -> None:
        with pytest.raises(ValueError, match="tolerance"):
            verify(
                "slack",
                headers=SLACK.headers,
                body=SLACK.body,
                secrets=[SLACK.secret],
                now=SLACK.now,
                tolerance_seconds=-1,
            )

    def test_configuration_errors_are_not_signature_errors(self) -> None:
        with pytest.raises(ValueError, match="unknown webhook signature scheme") as caught:
            verify("nope", headers={}, body=b"", secrets=["k"], now=NOW)
        assert not isinstance(caught.value, SignatureInvalid)
