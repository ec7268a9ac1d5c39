"""The emulator's TC3-HMAC-SHA256 signer against vectors produced by the official SDK's signer."""

from __future__ import annotations

import hashlib

import pytest

from sesrelay.emulator import signing

SECRET_ID = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE"
SECRET_KEY = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"
TIMESTAMP = 1735689600
BODY_A = (
    b'{"FromEmailAddress": "Team <noreply@mail.example.com>", "Subject": "Your code", '
    b'"Destination": ["user@example.com"], "Template": {"TemplateID": 100091, '
    b'"TemplateData": "{\\"code\\": \\"1234\\"}"}}'
)

VECTORS = [
    pytest.param(
        BODY_A,
        "ses.tencentcloudapi.com",
        "75dac7043c21b525b752dade16f30abd2922e01ba7fb7d6de226c737b716ec1b",
        "3dc4c08eb0c3e3868b5a1c103f96f42d7ca59406b92322d1b0550d8868a15541",
        "d607cb3ed8666fe0c116502fd1e6ed1938b743f1b605294fddcf1cbd24f222a4",
        id="A-SendEmail",
    ),
    pytest.param(
        b"{}",
        "ses.tencentcloudapi.com",
        "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
        "0acc5613c586616b78cfed74f696111c8fa4533648e67d2cecfe3a7692363d51",
        "0fe82d517f0a822a4fe2a7699c356bb05307bda366dcf8e86186b1d55d81ccb8",
        id="B-ListEmailAddress",
    ),
    pytest.param(
        BODY_A,
        "127.0.0.1:8080",
        "75dac7043c21b525b752dade16f30abd2922e01ba7fb7d6de226c737b716ec1b",
        "4cfc9dabbccc1ddaf2cdc2d4d6448771aea05c1542754b9edc515e7a466aef05",
        "6f89fa1dd449ad2f0b8db6109c64c498263ace709323be21530ad4a8a17a39e7",
        id="C-loopback-host",
    ),
]


def test_derived_keys_match_the_reference() -> None:
    k_date = signing._hmac(("TC3" + SECRET_KEY).encode(), "2025-01-01")
    assert k_date.hex() == "6ca35787a7af8dc0d3bda8c204f0645f9dbb8cc9cc1a9d4c1cd3aabcd498fefe"
    k_service = signing._hmac(k_date, "ses")
    assert k_service.hex() == "1ad4789a2ee397ddd8c079e204761ba6336b9b1c474bdde963a57d1926fdecae"
    assert (
        signing.signing_key(SECRET_KEY, "2025-01-01", "ses").hex()
        == "f951db03e75ac928a3b39176ce86813fd15e3f6c86fe6438451ba476d284e17f"
    )


@pytest.mark.parametrize(("body", "host", "body_hash", "canonical_hash", "sig"), VECTORS)
def test_reference_vectors(
    body: bytes, host: str, body_hash: str, canonical_hash: str, sig: str
) -> None:
    assert signing.payload_hash(body) == body_hash
    canonical = signing.canonical_request(
        "POST",
        {"content-type": "application/json", "host": host},
        ("content-type", "host"),
        body_hash,
    )
    assert hashlib.sha256(canonical.encode()).hexdigest() == canonical_hash
    to_sign = signing.string_to_sign(TIMESTAMP, "2025-01-01", "ses", canonical)
    assert to_sign == f"TC3-HMAC-SHA256\n1735689600\n2025-01-01/ses/tc3_request\n{canonical_hash}"
    assert signing.signature(SECRET_KEY, "2025-01-01", "ses", to_sign) == sig
    header = signing.sign_headers(
        secret_id=SECRET_ID,
        secret_key=SECRET_KEY,
        service="ses",
        host=host,
        body=body,
        timestamp=TIMESTAMP,
    )
    assert header == (
        f"TC3-HMAC-SHA256 Credential={SECRET_ID}/2025-01-01/ses/tc3_request, "
        f"SignedHeaders=content-type;host, Signature={sig}"
    )


def test_case_a_canonical_request_text() -> None:
    canonical = signing.canonical_request(
        "POST",
        {"content-type": "application/json", "host": "ses.tencentcloudapi.com"},
        ("content-type", "host"),
        signing.payload_hash(BODY_A),
    )
    assert canonical == (
        "POST\n/\n\ncontent-type:application/json\nhost:ses.tencentcloudapi.com\n\n"
        "content-type;host\n75dac7043c21b525b752dade16f30abd2922e01ba7fb7d6de226c737b716ec1b"
    )


def _auth(host: str = "127.0.0.1:8080", body: bytes = BODY_A) -> signing.Authorization:
    header = signing.sign_headers(
        secret_id=SECRET_ID,
        secret_key=SECRET_KEY,
        service="ses",
        host=host,
        body=body,
        timestamp=TIMESTAMP,
    )
    parsed = signing.parse_authorization(header)
    assert parsed is not None
    return parsed


def _verify(auth: signing.Authorization, headers: dict[str, str], body: bytes = BODY_A) -> bool:
    return signing.verify(
        auth,
        secret_key=SECRET_KEY,
        method="POST",
        headers=headers,
        body=body,
        timestamp=TIMESTAMP,
    )


def test_verify_accepts_the_sdk_signature_and_rejects_any_change() -> None:
    headers = {"content-type": "application/json", "host": "127.0.0.1:8080"}
    auth = _auth()
    assert auth.secret_id == SECRET_ID
    assert auth.signed_headers == ("content-type", "host")
    assert _verify(auth, headers)
    assert not _verify(auth, headers, BODY_A + b" ")
    assert not _verify(auth, {**headers, "host": "127.0.0.1:8081"})
    assert not signing.verify(
        auth, secret_key="other", method="POST", headers=headers, body=BODY_A, timestamp=TIMESTAMP
    )
    # the credential date must be the UTC date of the timestamp
    assert not signing.verify(
        auth,
        secret_key=SECRET_KEY,
        method="POST",
        headers=headers,
        body=BODY_A,
        timestamp=TIMESTAMP + 86400,
    )


def test_verify_supports_extra_signed_headers_and_unsigned_payload() -> None:
    headers = {
        "content-type": "application/json",
        "host": "127.0.0.1:8080",
        "x-tc-action": "SendEmail",
        "x-tc-content-sha256": "UNSIGNED-PAYLOAD",
    }
    signed = ("content-type", "host", "x-tc-action")
    canonical = signing.canonical_request(
        "POST", headers, signed, signing.payload_hash(b"", unsigned=True)
    )
    sig = signing.signature(
        SECRET_KEY,
        "2025-01-01",
        "ses",
        signing.string_to_sign(TIMESTAMP, "2025-01-01", "ses", canonical),
    )
    auth = signing.parse_authorization(
        f"TC3-HMAC-SHA256 Credential={SECRET_ID}/2025-01-01/ses/tc3_request, "
        f"SignedHeaders=content-type;host;x-tc-action, Signature={sig}"
    )
    assert auth is not None
    # with UNSIGNED-PAYLOAD the body is not part of the signature
    assert _verify(auth, headers, b'{"any": "body"}')
    assert not _verify(auth, {**headers, "x-tc-action": "BatchSendEmail"})


@pytest.mark.parametrize(
    "header",
    [
        "",
        "Bearer abc",
        "TC3-HMAC-SHA256 Credential=AKID/2025-01-01/ses/tc3_request, Signature=00",
        "TC3-HMAC-SHA256 Credential=AKID/20250101/ses/tc3_request, SignedHeaders=host, "
        "Signature=" + "0" * 64,
    ],
)
def test_malformed_authorization_is_not_parsed(header: str) -> None:
    assert signing.parse_authorization(header) is None
