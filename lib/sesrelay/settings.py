"""The one reader of the environment: a pydantic model filled from `os.environ`, read once per
warm instance by `wiring.py`, never at import time. Credentials are SecretStr: never printed.

A plain BaseModel rather than pydantic-settings: the latter costs ~40 ms of cold start (it pulls in
dotenv, asyncio and importlib.metadata) and two more packages in the zip, for features (dotenv
files, secrets dirs) an SCF function does not use.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
)

#: SES hosts by region: the international site serves only ap-singapore; the China site serves
#: ap-guangzhou and ap-hongkong.
SES_HOSTS = {
    "ap-singapore": "ses.intl.tencentcloudapi.com",
    "ap-guangzhou": "ses.tencentcloudapi.com",
    "ap-hongkong": "ses.tencentcloudapi.com",
}

#: Where the config file sits: beside handler.py (the repository root, or the zip's root).
CONFIG_DIR = Path(__file__).resolve().parents[2]


#: SESRELAY_LOG_LEVEL: INFO logs one line per invocation; WARNING and above only problems.
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def default_config_path(*, directory: Path = CONFIG_DIR) -> Path:
    """`sesrelay.json` in `directory` if there is one, else `sesrelay.yaml`.

    `sesrelay package` ships the config as JSON, so the function reads it without PyYAML; a
    checkout has only the YAML. SESRELAY_CONFIG overrides both.
    """
    packaged = directory / "sesrelay.json"
    return packaged if packaged.is_file() else directory / "sesrelay.yaml"


def redact_state_url(url: str) -> str:
    """The URL with any password replaced by `***`, safe to log.

    Splits at the last '@' so a password with unencoded reserved characters is hidden too.
    """
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    userinfo, _, hostpart = rest.rpartition("@")
    user, colon, _ = userinfo.partition(":")
    # Without a colon the whole userinfo may be a password written in the wrong place.
    shown = f"{user}:***" if colon else "***"
    return f"{scheme}://{shown}@{hostpart}"


def packaged_config_path(path: Path) -> Path:
    """`sesrelay package` ships the config as JSON: a `.yaml`/`.yml` path that does not exist but
    has a `.json` beside it reads the JSON (an SESRELAY_CONFIG written for the checkout works)."""
    if path.suffix.lower() in (".yaml", ".yml") and not path.exists():
        packaged = path.with_suffix(".json")
        if packaged.is_file():
            return packaged
    return path


#: The credential fields: SecretStr, revealed only by the SDK gateway.
_SECRET_FIELDS = ("secret_id", "secret_key", "session_token")


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


def sha256_digest(text: str) -> str | None:
    """A SHA-256 digest as written: 64 hex digits in either case, or the whole line `sha256sum`
    prints (`<hex>  -`, `<hex>  file`) pasted -> 64 lower-case hex digits; None for anything
    else (a key pasted by mistake never passes as a digest)."""
    tokens = text.lower().split()
    if tokens and len(tokens[0]) == 64 and set(tokens[0]) <= set("0123456789abcdef"):
        return tokens[0]
    return None


class Settings(BaseModel):
    """Environment of one function instance. Field aliases are the variable names.

    `Settings()` reads `os.environ`; keyword arguments (by field name) override it, which is how
    tests and `sesrelay serve` configure an instance.
    """

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    def __init__(self, *, environ: Mapping[str, str] | None = None, **values: Any) -> None:
        env = os.environ if environ is None else environ
        merged: dict[str, Any] = {}
        for name, field in type(self).model_fields.items():
            alias = field.validation_alias
            choices = alias.choices if isinstance(alias, AliasChoices) else [alias]
            for choice in choices:
                if isinstance(choice, str) and choice in env:
                    merged[name] = env[choice]
                    break
        merged.update(values)
        super().__init__(**merged)
        # Secrets named by the config file (webhook secrets, the SES events token) are read
        # through `secret()`, so this class stays the one reader of the environment.
        self._environ = dict(env)

    _environ: dict[str, str] = PrivateAttr(default_factory=dict)

    def secret(self, name: str) -> str | None:
        """The value of the environment variable `name` (a secret named by the config file)."""
        value = self._environ.get(name, "")
        return value if value.strip() else None

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        # Also masked: a Redis state URL's password, and a credential that model_copy(update=...)
        # (which skips validation) left as a plain str.
        for name, value in super().__repr_args__():
            if name in _SECRET_FIELDS and isinstance(value, str):
                yield name, SecretStr(value)
            elif name == "state_url" and isinstance(value, str):
                yield name, redact_state_url(value)
            else:
                yield name, value

    ses_region: str = Field("ap-singapore", validation_alias="SESRELAY_SES_REGION")
    ses_endpoint: str | None = Field(None, validation_alias="SESRELAY_SES_ENDPOINT")
    # The SCF execution role injects TENCENTCLOUD_SECRETID/SECRETKEY/SESSIONTOKEN, which the
    # SDK's default credential chain does not read; the underscored names are the SDK's own
    # convention for local use. SecretStr prints as '**********' (reprs, dumps, f-strings);
    # only the SDK gateway reveals them.
    secret_id: SecretStr | None = Field(
        None, validation_alias=AliasChoices("TENCENTCLOUD_SECRETID", "TENCENTCLOUD_SECRET_ID")
    )
    secret_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("TENCENTCLOUD_SECRETKEY", "TENCENTCLOUD_SECRET_KEY")
    )
    session_token: SecretStr | None = Field(None, validation_alias="TENCENTCLOUD_SESSIONTOKEN")
    api_key_sha256: list[str] = Field(
        default_factory=list, validation_alias="SESRELAY_API_KEY_SHA256"
    )
    state_url: str | None = Field(None, validation_alias="SESRELAY_STATE_URL")
    config_path: Path = Field(
        default_factory=default_config_path, validation_alias="SESRELAY_CONFIG"
    )
    allowed_senders: list[str] = Field(
        default_factory=list, validation_alias="SESRELAY_ALLOWED_SENDERS"
    )
    allow_simple: bool = Field(False, validation_alias="SESRELAY_ALLOW_SIMPLE")
    ses_timeout: float = Field(10.0, gt=0, le=120, validation_alias="SESRELAY_SES_TIMEOUT")
    ses_max_attempts: int = Field(3, ge=1, le=10, validation_alias="SESRELAY_SES_MAX_ATTEMPTS")
    # SES's limit in requests per second per action (20 unless Tencent raised it), held across
    # the fleet through a redis:// state URL (ratelimit.py); 0 turns the limiter off.
    ses_rate: int = Field(20, ge=0, le=10_000, validation_alias="SESRELAY_SES_RATE")
    # How long send records and their delivery events are kept (GET /v1/emails/{id}).
    record_retention_days: float = Field(
        30, gt=0, le=3650, validation_alias="SESRELAY_RECORD_RETENTION_DAYS"
    )
    log_level: str = Field("INFO", validation_alias="SESRELAY_LOG_LEVEL")
    run_env: str | None = Field(None, validation_alias="TENCENTCLOUD_RUNENV")

    @field_validator("api_key_sha256", "allowed_senders", mode="before")
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("api_key_sha256")
    @classmethod
    def _hex_digests(cls, value: list[str]) -> list[str]:
        digests = []
        for index, item in enumerate(value):
            digest = sha256_digest(item)
            if digest is None:
                raise ValueError(
                    f"item {index} is not a SHA-256 hex digest (64 hex characters); "
                    "configure digests of the keys, never the keys themselves"
                )
            digests.append(digest)
        return digests

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}")
        return level

    @field_validator("ses_region")
    @classmethod
    def _region(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("must not be empty")
        return value

    @field_validator("ses_endpoint", "state_url")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        return value.strip()

    @field_validator(*_SECRET_FIELDS, mode="before")
    @classmethod
    def _blank_secret_is_none(cls, value: object) -> object:
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if isinstance(value, str):
            return value.strip() or None
        return value

    @property
    def on_scf(self) -> bool:
        return (self.run_env or "").upper() == "SCF"

    @property
    def has_credentials(self) -> bool:
        return bool(self.secret_id and self.secret_key)

    def ses_host(self) -> str:
        host = SES_HOSTS.get(self.ses_region)
        if host is None:
            known = ", ".join(sorted(SES_HOSTS))
            raise ValueError(
                f"SESRELAY_SES_REGION {self.ses_region!r} has no known SES endpoint "
                f"(known: {known}); set SESRELAY_SES_ENDPOINT to override"
            )
        return host


def env_name(field_name: str) -> str:
    """The environment variable(s) behind a settings field, for error messages."""
    field = Settings.model_fields.get(field_name)
    alias = field.validation_alias if field is not None else None
    if isinstance(alias, AliasChoices):
        return " or ".join(str(choice) for choice in alias.choices)
    return str(alias) if alias else field_name


def describe_error(exc: ValidationError) -> str:
    """Which variable and which rule, never the rejected value (it may be a secret)."""
    return "; ".join(
        f"{env_name(str(err['loc'][0])) if err['loc'] else 'environment'}: {err['msg']}"
        for err in exc.errors(include_input=False, include_url=False)
    )
