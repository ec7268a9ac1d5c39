"""The environment contract of DESIGN A4, read by one settings class."""

from __future__ import annotations

import hashlib

import pytest
from pydantic import ValidationError

from sesrelay.settings import Settings

DIGEST = hashlib.sha256(b"k1").hexdigest()


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings()
    assert settings.ses_region == "ap-singapore"
    assert settings.ses_host() == "ses.intl.tencentcloudapi.com"
    assert not settings.has_credentials
    assert settings.api_key_sha256 == []


def test_scf_role_credentials_include_the_session_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TENCENTCLOUD_SECRETID", "AKIDrole")
    monkeypatch.setenv("TENCENTCLOUD_SECRETKEY", "role-key")
    monkeypatch.setenv("TENCENTCLOUD_SESSIONTOKEN", "role-token")
    monkeypatch.setenv("TENCENTCLOUD_SECRET_ID", "AKIDlocal")
    settings = Settings()
    assert (settings.secret_id, settings.secret_key, settings.session_token) == (
        "AKIDrole",
        "role-key",
        "role-token",
    )


def test_sdk_style_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TENCENTCLOUD_SECRET_ID", "AKIDlocal")
    monkeypatch.setenv("TENCENTCLOUD_SECRET_KEY", "local-key")
    settings = Settings()
    assert settings.has_credentials
    assert settings.session_token is None


@pytest.mark.parametrize(
    ("region", "host"),
    [
        ("ap-singapore", "ses.intl.tencentcloudapi.com"),
        ("ap-guangzhou", "ses.tencentcloudapi.com"),
        ("ap-hongkong", "ses.tencentcloudapi.com"),
    ],
)
def test_endpoint_from_region(monkeypatch: pytest.MonkeyPatch, region: str, host: str) -> None:
    monkeypatch.setenv("SESRELAY_SES_REGION", region)
    assert Settings().ses_host() == host


def test_unknown_region_says_how_to_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SESRELAY_SES_REGION", "eu-frankfurt")
    with pytest.raises(ValueError, match="SESRELAY_SES_ENDPOINT"):
        Settings().ses_host()


def test_lists_are_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SESRELAY_API_KEY_SHA256", f" {DIGEST.upper()} ,{DIGEST}")
    monkeypatch.setenv("SESRELAY_ALLOWED_SENDERS", "noreply@example.com, @example.org")
    settings = Settings()
    assert settings.api_key_sha256 == [DIGEST, DIGEST]
    assert settings.allowed_senders == ["noreply@example.com", "@example.org"]


def test_a_clear_key_instead_of_a_digest_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SESRELAY_API_KEY_SHA256", "my-secret-api-key")
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert "SHA-256" in str(caught.value)
