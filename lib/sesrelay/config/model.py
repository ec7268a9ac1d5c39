"""The config file `sesrelay.yaml` (shipped in the zip as `sesrelay.json`): timer jobs, webhook
sources and SES event callbacks. No secrets: it names the environment variables that hold them.

`load_config` checks the shape, which is all the function needs at run time; the offline
`sesrelay config check` (config.check) also checks each job and source in depth.

```yaml
version: 1                           # optional; the only version so far
jobs:                                # timer jobs, named by a tick's Message {"job": "<name>"}
  <name>:                            # [A-Za-z0-9_-]{1,64}
    action: SendEmail | BatchSendEmail | FinishCampaigns   # the last takes no params
    params: {...}                    # SES parameters exactly as Tencent spells them; strings may
                                     # hold {{tick.date}} etc. (see sesrelay.config.ticks);
                                     # Template.TemplateName may replace Template.TemplateID
                                     # (looked up by ListEmailTemplates: sesrelay.template_names)
    receiver_group: <group name>     # BatchSendEmail only: looked up as ReceiverId (ListReceivers);
                                     # params must not also set ReceiverId
    timezone: Asia/Shanghai          # IANA zone of the tick values (default: UTC+8, as SCF cron)
webhooks:                            # POST /v1/webhooks/{source}
  <source>:                          # [A-Za-z0-9_-]{1,64}
    scheme: github | stripe | shopify | standard-webhooks | slack | hmac
    secret_env: [ENV_NAME, ...]      # variable(s) holding the secret; several while rotating;
                                     # a single name is accepted too. Never the secret itself.
    tolerance_seconds: 300           # max signature age (schemes that sign a timestamp)
    hmac: {header, encoding, prefix, timestamp_header, signed_content, id_header}
                                     # scheme hmac only (required there, refused elsewhere)
    when: "<JMESPath>"               # optional filter over {headers, query, body}; falsy: ignored
    send:                            # every string leaf is a JMESPath expression (webhooks.mapping)
      action: SendEmail | BatchSendEmail
      <SES field>: "<JMESPath>"       # Template.TemplateName may replace Template.TemplateID
ses_events:                          # optional: POST /v1/ses-events/{token}
  token_env: SESRELAY_SES_EVENTS_TOKEN
  blacklist_on: []                   # subset of hard_bounce, soft_bounce, spamreport, dropped
api_keys: {}                         # named, scoped API keys (config.api_keys)
```
"""

from __future__ import annotations

import difflib
import json
import re
import typing
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

# Defined in errors (webhooks.mapping raises them too); load_config's callers find them here.
from sesrelay.config.api_keys import ApiKeyConfig
from sesrelay.config.fields import (
    NAME_RULE,
    ConfigModel,
    EnvName,
    Name,
    SecretEnvNames,
    Text,
    empty_if_none,
    rule,
)
from sesrelay.errors import ConfigError as ConfigError  # noqa: PLC0414
from sesrelay.errors import ConfigProblem as ConfigProblem  # noqa: PLC0414
from sesrelay.ses.validation import model_in
from sesrelay.template_names import BOTH_GIVEN, TEMPLATE_NAME
from sesrelay.webhooks import SCHEMES, GenericHmacOptions

DEFAULT_TIMEZONE = "Asia/Shanghai"
#: Fields of `hmac.signed_content` (webhooks.generic), and the option naming their header.
SIGNED_CONTENT_FIELDS = {"body": "", "timestamp": "timestamp_header"}

Action = Literal["SendEmail", "BatchSendEmail"]
#: A job either sends, or runs the campaign finisher (resumes campaigns left mid-way).
JobAction = Literal["SendEmail", "BatchSendEmail", "FinishCampaigns"]
FINISH_CAMPAIGNS = "FinishCampaigns"
SesEventKind = Literal["hard_bounce", "soft_bounce", "spamreport", "dropped"]
_SIGNED_FIELD_RE = re.compile(r"\{([^{}]*)\}")


def _scheme(value: str) -> str:
    if value not in SCHEMES:
        raise rule(f"unknown scheme {value[:40]!r}; known: {', '.join(sorted(SCHEMES))}")
    return value


class JobConfig(ConfigModel):
    action: JobAction
    params: dict[str, Any] = Field(default_factory=dict)
    receiver_group: Text | None = None
    timezone: Text = DEFAULT_TIMEZONE

    @field_validator("params")
    @classmethod
    def _template_by_id_or_name(cls, value: dict[str, Any]) -> dict[str, Any]:
        template = value.get("Template")
        if not isinstance(template, dict) or TEMPLATE_NAME not in template:
            return value
        if "TemplateID" in template:
            raise rule(BOTH_GIVEN)
        name = template[TEMPLATE_NAME]
        if not isinstance(name, str) or not name.strip():
            raise rule("Template.TemplateName must be the name of a template (text)")
        return value

    @field_validator("receiver_group")
    @classmethod
    def _group_for_batch_only(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return value
        if info.data.get("action") == "SendEmail":
            raise rule("is only for BatchSendEmail (SendEmail lists its recipients)")
        if "ReceiverId" in (info.data.get("params") or {}):
            raise rule("must not be used together with params.ReceiverId; keep one of them")
        return value


class HmacOptions(ConfigModel):
    """Options of the generic `hmac` scheme (fields of `webhooks.GenericHmacOptions`)."""

    header: Text
    encoding: Literal["hex", "base64"] = "hex"
    prefix: str = ""
    timestamp_header: Text | None = None
    id_header: Text | None = None
    signed_content: Text = "{body}"  # after the headers: its check reads them

    def to_options(self) -> GenericHmacOptions:
        return GenericHmacOptions(**self.model_dump())

    @field_validator("header", "timestamp_header", "id_header")
    @classmethod
    def _lower(cls, value: str | None) -> str | None:
        return value.lower() if value else value  # SCF hands headers over in lower case

    @field_validator("signed_content")
    @classmethod
    def _signed_fields(cls, value: str, info: ValidationInfo) -> str:
        names = _SIGNED_FIELD_RE.findall(value)
        unknown = sorted(set(names) - set(SIGNED_CONTENT_FIELDS))
        if unknown:
            known = ", ".join("{" + name + "}" for name in SIGNED_CONTENT_FIELDS)
            raise rule(f"unknown field {{{unknown[0][:40]}}}; known: {known}")
        if names.count("body") != 1:
            raise rule(
                "must contain {body} exactly once: a signature that does not cover the body "
                "proves nothing"
            )
        for name in names:
            option = SIGNED_CONTENT_FIELDS[name]
            if option and not info.data.get(option):
                raise rule(f"uses {{{name}}}, so {option} must name the header it comes from")
        return value


class SendSpec(BaseModel):
    """`send:` of a webhook source: the action, and SES fields as JMESPath (webhooks.mapping)."""

    model_config = ConfigDict(extra="allow", strict=True, frozen=True, hide_input_in_errors=True)

    action: Action

    @property
    def fields(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class WebhookSource(ConfigModel):
    scheme: Annotated[str, AfterValidator(_scheme)]
    secret_env: SecretEnvNames
    tolerance_seconds: int = Field(300, ge=1, le=86400)
    hmac: HmacOptions | None = Field(None, validate_default=True)
    when: Text | None = None
    send: SendSpec

    @field_validator("hmac")
    @classmethod
    def _hmac_for_scheme_hmac(cls, value: HmacOptions | None, info: ValidationInfo) -> object:
        scheme = info.data.get("scheme")
        if scheme == "hmac" and value is None:
            raise rule("is required for scheme hmac (header, encoding, prefix, ...)")
        if scheme is not None and scheme != "hmac" and value is not None:
            raise rule(f"is only for scheme hmac; scheme {scheme} fixes its own format")
        return value


class SesEventsConfig(ConfigModel):
    token_env: EnvName
    blacklist_on: list[SesEventKind] = Field(default_factory=list)


class RelayConfig(ConfigModel):
    version: Literal[1] = 1
    jobs: Annotated[dict[Name, JobConfig], BeforeValidator(empty_if_none)] = Field(
        default_factory=dict
    )
    webhooks: Annotated[dict[Name, WebhookSource], BeforeValidator(empty_if_none)] = Field(
        default_factory=dict
    )
    ses_events: SesEventsConfig | None = None
    api_keys: Annotated[dict[Name, ApiKeyConfig], BeforeValidator(empty_if_none)] = Field(
        default_factory=dict
    )


def read_config_data(path: Path) -> object:
    """The file's parsed content (YAML, or JSON for `*.json`); ConfigError if unreadable."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([ConfigProblem("", f"{path}: file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([ConfigProblem("", f"{path}: cannot read ({exc})")]) from None
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError([ConfigProblem("", f"{path}: not JSON ({exc})")]) from None
    from sesrelay.config.yaml_file import parse_yaml  # PyYAML is loaded for YAML files only

    return parse_yaml(path, text)


def parse_config(data: object) -> RelayConfig:
    """Parsed file content -> RelayConfig; ConfigError lists every shape problem."""
    if data is None:
        return RelayConfig()
    try:
        return RelayConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(schema_problems(exc, RelayConfig)) from None


def load_config(path: Path, *, required: bool = True) -> RelayConfig:
    """The config at `path`; an absent file is an empty config unless `required`."""
    if not required and not path.exists():
        return RelayConfig()
    return parse_config(read_config_data(path))


def schema_problems(exc: ValidationError, model: type[BaseModel]) -> list[ConfigProblem]:
    """A ValidationError of `model` as problems at dotted paths, in our wording."""
    problems = []
    for error in exc.errors(include_url=False):
        loc = [str(part) for part in error["loc"]]
        kind, message = error["type"], error["msg"]
        if loc and loc[-1] == "[key]":
            loc.pop()
            message = f"invalid name: {NAME_RULE}"
        elif kind == "missing":
            message = "is required"
        elif kind == "extra_forbidden":
            known = _known_keys(model, loc[:-1])
            close = difflib.get_close_matches(loc[-1], known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            message = f"unknown key{hint} (known: {', '.join(known)})" if known else "unknown key"
        elif kind == "literal_error":
            message = f"must be one of {(error.get('ctx') or {}).get('expected', '')}"
        elif kind in ("dict_type", "model_type", "model_attributes_type"):
            message = "must be a mapping (key: value)"
        problems.append(ConfigProblem(".".join(loc), message))
    return problems


def _known_keys(model: type[BaseModel], loc: list[str]) -> list[str]:
    current: Any = model
    parts = list(loc)
    while parts and isinstance(current, type) and issubclass(current, BaseModel):
        field = current.model_fields.get(parts.pop(0))
        if field is None:
            return []
        current = model_in(field.annotation)
        if typing.get_origin(field.annotation) is dict and parts:
            parts.pop(0)  # the entry's name
    if isinstance(current, type) and issubclass(current, BaseModel) and not parts:
        return list(current.model_fields)
    return []
