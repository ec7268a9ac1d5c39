"""The seed: the account the emulator starts from (domains, senders, templates, lists, blacklist).

The default ships as `default_seed.json` beside this module; `seed_path` loads another file with the
same schema. A bad file fails at start-up with every problem listed, never at the first request.
"""

from __future__ import annotations

import json
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, model_validator

from sesrelay.emulator.ses.addresses import is_address

DEFAULT_SEED = "default_seed.json"

Scalar = str | int | float | bool | None


class SeedError(ValueError):
    """The seed file is missing, not JSON, or breaks the schema."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SeedSender(_Model):
    address: str
    name: str | None = None
    created_at: AwareDatetime
    smtp_password: bool = False

    @model_validator(mode="after")
    def _address(self) -> SeedSender:
        if not is_address(self.address):
            raise ValueError("address is not an e-mail address")
        return self


class SeedTemplate(_Model):
    id: Annotated[int, Field(gt=0)]
    name: Annotated[str, Field(min_length=1)]
    #: TemplateStatus as SES reports it: 0 approved, 1 under review, 2 rejected; a seeded
    #: template keeps it until a control call or an UpdateEmailTemplate changes it
    status: Annotated[int, Field(ge=0, le=3)] = 0
    review_reason: str = ""
    #: The subject callers are expected to pass; SES itself takes Subject from each request.
    subject: str = ""
    html: str = ""
    text: str = ""
    created_at: AwareDatetime

    @model_validator(mode="after")
    def _content(self) -> SeedTemplate:
        if not (self.html or self.text):
            raise ValueError("a template needs html or text")
        return self


class SeedMember(_Model):
    email: str
    #: per-recipient variables, as CreateReceiverDetailWithData would have loaded them
    template_data: dict[str, Scalar] | None = None


class SeedReceiver(_Model):
    id: Annotated[int, Field(gt=0)]
    name: Annotated[str, Field(min_length=1)]
    desc: str = ""
    created_at: AwareDatetime
    #: plain addresses or {"email", "template_data"}; a seeded list is upload-complete (status 3)
    members: list[str | SeedMember] = []


class SeedBlacklistEntry(_Model):
    email: str
    expire_date: date | None = None


class Seed(_Model):
    description: str = ""
    #: the account's appId, which appears inside MessageIds
    app_id: Annotated[int, Field(gt=0)] = 1300000000
    #: SendEmail's `Simple` content needs a special permission; without it: WithOutPermission
    allow_simple: bool = False
    #: how many recipient lists the account may hold (LimitExceeded.ExceedReceiverLimit)
    max_receivers: Annotated[int, Field(ge=1)] = 100
    #: how many templates the account may hold (FailedOperation.ExceedTemplateLimit); Tencent
    #: does not publish its number
    max_templates: Annotated[int, Field(ge=1)] = 100
    #: how long (emulator clock) the review of a created or updated template takes before it is
    #: approved; `POST /_emulator/templates/approve` ends it sooner
    template_review_seconds: Annotated[float, Field(ge=0)] = 600.0
    verified_domains: list[str] = []
    senders: list[SeedSender] = []
    templates: list[SeedTemplate] = []
    receivers: list[SeedReceiver] = []
    #: the platform blacklist (hard bounces), not editable through the API
    blacklist: list[str] = []
    custom_blacklist: list[SeedBlacklistEntry] = []

    @model_validator(mode="after")
    def _unique(self) -> Seed:
        for what, keys in (
            ("template id", [str(t.id) for t in self.templates]),
            ("receiver id", [str(r.id) for r in self.receivers]),
            ("receiver name", [r.name for r in self.receivers]),
            ("sender address", [s.address.lower() for s in self.senders]),
        ):
            dupes = sorted({k for k in keys if keys.count(k) > 1})
            if dupes:
                raise ValueError(f"duplicate {what}: {', '.join(dupes)}")
        if len(self.receivers) > self.max_receivers:
            raise ValueError("more receivers than max_receivers")
        if len(self.templates) > self.max_templates:
            raise ValueError("more templates than max_templates")
        return self


def load_seed(path: str | Path | None = None) -> Seed:
    """Read and validate a seed file; None reads the built-in default."""
    try:
        if path is None:
            text = (
                resources.files("sesrelay.emulator.ses").joinpath(DEFAULT_SEED).read_text("utf-8")
            )
            where = f"built-in {DEFAULT_SEED}"
        else:
            text = Path(path).read_text(encoding="utf-8")
            where = str(path)
    except OSError as exc:
        raise SeedError(f"cannot read seed file {path}: {exc.strerror}") from None
    try:
        return Seed.model_validate(json.loads(text))
    except json.JSONDecodeError as exc:
        raise SeedError(f"seed file {where} is not JSON: {exc}") from None
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}"
            for e in exc.errors(include_url=False, include_input=False)
        )
        raise SeedError(f"seed file {where} is invalid: {problems}") from None
