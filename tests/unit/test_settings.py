"""The environment contract, read by one settings class; credentials never printed."""

from __future__ import annotations

import hashlib

import pytest
from pydantic import ValidationError

from sesrelay.adapters.ses_sdk import SdkSesGateway
from sesrelay.clock import ManualClock
from sesrelay.settings import Settings, describe_error
from sesrelay.wiring import build_services

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
    secrets = (settings.secret_id, settings.secret_key, settings.session_token)
    assert [secret.get_secret_value() for secret in secrets if secret] == [
        "AKIDrole",
        "role-key",
        "role-token",
    ]


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


@pytest.mark.parametrize("tail", ["  -", "  keys.txt", " *keys.txt", "\t-"])
def test_a_pasted_sha256sum_line_keeps_only_the_digest(
    tail: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What `printf %s "$KEY" | sha256sum` prints, pasted whole into the variable.
    monkeypatch.setenv("SESRELAY_API_KEY_SHA256", f"{DIGEST}{tail}, {DIGEST.upper()}{tail}")
    assert Settings().api_key_sha256 == [DIGEST, DIGEST]


def test_a_key_followed_by_a_file_name_is_still_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SESRELAY_API_KEY_SHA256", "my-secret-api-key  -")
    with pytest.raises(ValidationError) as caught:
        Settings()
    said = describe_error(caught.value)  # what the log and the 503 are told
    assert "SESRELAY_API_KEY_SHA256" in said
    assert "SHA-256" in said
    assert "my-secret-api-key" not in said


def test_a_clear_key_instead_of_a_digest_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SESRELAY_API_KEY_SHA256", "my-secret-api-key")
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert "SHA-256" in str(caught.value)


# Distinctive fake credentials, so any leak is found by a substring search.
LEAKS = {
    "TENCENTCLOUD_SECRETID": "AKIDleakcheck7f3a",
    "TENCENTCLOUD_SECRETKEY": "keyleakcheck9b1c",
    "TENCENTCLOUD_SESSIONTOKEN": "tokenleakcheck2d8e",
    "SESRELAY_STATE_URL": "redis://:pwleakcheck5e0f@10.0.0.5:6379/0",
    "SESRELAY_SES_ENDPOINT": "http://127.0.0.1:9",
}


def assert_no_secret_in(text: str) -> None:
    for name in ("SECRETID", "SECRETKEY", "SESSIONTOKEN"):
        assert LEAKS[f"TENCENTCLOUD_{name}"] not in text
    assert "pwleakcheck5e0f" not in text


def test_settings_never_print_credentials_or_the_state_url_password() -> None:
    settings = Settings(environ=LEAKS)
    for text in (repr(settings), str(settings)):
        assert_no_secret_in(text)
    dumped = settings.model_dump(include={"secret_id", "secret_key", "session_token"})
    assert set(map(str, dumped.values())) == {"**********"}
    assert f"{settings.secret_key}" == "**********"
    assert "secret_key=SecretStr('**********')" in repr(settings)  # set, and masked
    assert "redis://:***@10.0.0.5:6379/0" in repr(settings)
    assert settings.secret_key is not None
    assert settings.secret_key.get_secret_value() == "keyleakcheck9b1c"  # readable when needed


def test_a_credential_copied_in_unvalidated_is_still_masked() -> None:
    plain = Settings(environ={}).model_copy(update={"secret_key": "keyleakcheck9b1c"})
    assert_no_secret_in(repr(plain))
    assert_no_secret_in(str(plain))


def test_services_and_the_sdk_gateway_never_print_credentials() -> None:
    services = build_services(Settings(environ=LEAKS), clock=ManualClock())
    assert isinstance(services.ses, SdkSesGateway)  # the credentials reached the SDK gateway
    assert_no_secret_in(repr(services))
    assert_no_secret_in(repr(services.ses))
    assert repr(services.ses) == "SdkSesGateway('http://127.0.0.1:9', region='ap-singapore')"
    plain = SdkSesGateway(
        secret_id="AKIDleakcheck7f3a",
        secret_key="keyleakcheck9b1c",
        session_token="tokenleakcheck2d8e",
        region="ap-singapore",
        endpoint="http://127.0.0.1:9",
        clock=ManualClock(),
    )
    assert_no_secret_in(repr(plain))
