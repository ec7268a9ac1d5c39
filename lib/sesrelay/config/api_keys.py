"""`api_keys:` in sesrelay.yaml: named API keys, each limited to some actions, some senders and a
daily quota. The file holds SHA-256 digests of the keys (or the names of variables holding
them), never the keys.

```yaml
api_keys:
  billing:                              # the key's name: in log lines and send records
    sha256: "<64 hex digits>"           # or sha256_env: VARIABLE (holding the digest)
    senders: ["@billing.example.com"]   # addresses or @domains; omitted: any allowed sender
    actions: [SendEmail]                # of SendEmail, BatchSendEmail, campaigns, read, read_all;
                                        # omitted: all but read_all
    quota_per_day: 1000                 # sends per UTC+8 day; omitted: no quota
```
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from sesrelay.config.fields import ConfigModel, EnvName, rule
from sesrelay.settings import sha256_digest

KeyAction = Literal["SendEmail", "BatchSendEmail", "campaigns", "read", "read_all"]
DEFAULT_ACTIONS: tuple[KeyAction, ...] = ("SendEmail", "BatchSendEmail", "campaigns", "read")


def digest_of(value: str) -> str:
    """A digest as written (upper case, or a pasted `sha256sum` line with its `  -`) -> 64 lower
    hex digits; anything else is refused, so a key pasted by mistake never passes as a digest."""
    digest = sha256_digest(value)
    if digest is None:
        raise rule(
            "must be the SHA-256 hex digest of the key (64 hex characters, as `printf %s KEY | "
            "sha256sum` prints it), never the key itself"
        )
    return digest


def _sender(value: str) -> str:
    local, at, domain = value.strip().rpartition("@")
    if not at or not domain or "." not in domain or any(c.isspace() for c in value.strip()):
        raise rule("must be an address (ana@example.com) or a domain (@example.com)")
    return f"{local}@{domain}".lower()


Digest = Annotated[str, AfterValidator(digest_of)]
Sender = Annotated[str, AfterValidator(_sender)]


class ApiKeyConfig(ConfigModel):
    sha256: Digest | None = None
    sha256_env: EnvName | None = None
    senders: list[Sender] = Field(default_factory=list)
    actions: list[KeyAction] = Field(default_factory=lambda: list(DEFAULT_ACTIONS), min_length=1)
    quota_per_day: int | None = Field(None, ge=1, le=100_000_000)

    @model_validator(mode="after")
    def _one_digest(self) -> ApiKeyConfig:
        if (self.sha256 is None) == (self.sha256_env is None):
            raise rule("give exactly one of sha256 (the digest) and sha256_env (its variable)")
        return self
