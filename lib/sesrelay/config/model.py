"""The config file `sesrelay.yaml` (DESIGN A4): timer jobs, webhook sources and SES event callbacks.

`load_config` checks the shape (what the function needs to start); `check_config` also checks each
job and source in depth (secrets set, JMESPath, SES rules) and reports every problem at once.

```yaml
version: 1                           # optional; the only version so far
jobs:                                # timer jobs, named by a tick's Message {"job": "<name>"}
  <name>:                            # [A-Za-z0-9_-]{1,64}
    action: SendEmail | BatchSendEmail
    params: {...}                    # SES parameters exactly as Tencent spells them; string
                                     # values may hold {{tick.date}} etc. (see sesrelay.timers.jobs)
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
      <SES field>: "<JMESPath>"
ses_events:                          # optional: POST /v1/ses-events/{token}
  token_env: SESRELAY_SES_EVENTS_TOKEN
  blacklist_on: []                   # subset of hard_bounce, soft_bounce, spamreport, dropped
```
"""

from __future__ import annotations

import difflib
import json
import re
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, TextIO

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
from pydantic_core import PydanticCustomError

from sesrelay.errors import InvalidInput, RelayError
from sesrelay.ses.validation import model_in
from sesrelay.webhooks import SCHEMES, GenericHmacOptions

if TYPE_CHECKING:
    from sesrelay.settings import Settings

DEFAULT_TIMEZONE = "Asia/Shanghai"
MAX_TIMER_MESSAGE_BYTES = 4096  # SCF timer Message (reference/scf.md 2.3)
MIN_TOKEN_CHARS = 16
#: A fixed tick (a Wednesday, the longest weekday name) for checking jobs offline.
SAMPLE_TICK = datetime(2026, 1, 7, 1, 0, 0, tzinfo=timezone.utc)
#: Fields of `hmac.signed_content` (webhooks.generic), and the option naming their header.
SIGNED_CONTENT_FIELDS = {"body": "", "timestamp": "timestamp_header"}

Action = Literal["SendEmail", "BatchSendEmail"]
#: A job either sends, or runs the campaign finisher (resumes campaigns left mid-way).
JobAction = Literal["SendEmail", "BatchSendEmail", "FinishCampaigns"]
FINISH_CAMPAIGNS = "FinishCampaigns"
SesEventKind = Literal["hard_bounce", "soft_bounce", "spamreport", "dropped"]
SES_EVENT_KINDS: tuple[str, ...] = typing.get_args(SesEventKind)
_NAME_RULE = "must be 1 to 64 characters: letters, digits, '_' or '-'"
_SIGNED_FIELD_RE = re.compile(r"\{([^{}]*)\}")


@dataclass(frozen=True)
class ConfigProblem:
    """One problem: `path` is dotted (`jobs.weekly-digest.params.Subject`), empty for the file."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class ConfigError(RelayError):
    """The config file cannot be used; `problems` says every reason."""

    code = "config_error"

    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = list(problems)
        shown = "; ".join(str(problem) for problem in self.problems[:3])
        more = f" (and {len(self.problems) - 3} more)" if len(self.problems) > 3 else ""
        super().__init__(f"invalid sesrelay config: {shown}{more}")

    def as_dict(self) -> dict[str, Any]:
        errors = [{"field": p.path, "message": p.message} for p in self.problems]
        return {**super().as_dict(), "errors": errors}


def _rule(message: str) -> PydanticCustomError:
    return PydanticCustomError("config_rule", message)


def _name(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", value):
        raise _rule(_NAME_RULE)
    return value


def _env_name(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,127}", value):
        raise _rule("must be an environment variable name (letters, digits, '_'), not a value")
    return value


def _scheme(value: str) -> str:
    if value not in SCHEMES:
        raise _rule(f"unknown scheme {value[:40]!r}; known: {', '.join(sorted(SCHEMES))}")
    return value


def _listify(value: object) -> object:
    return [value] if isinstance(value, str) else value


def _empty_if_none(value: object) -> object:
    return {} if value is None else value  # a section whose entries are all commented out


Name = Annotated[str, AfterValidator(_name)]
EnvName = Annotated[str, AfterValidator(_env_name)]
Text = Annotated[str, Field(min_length=1)]


class _ConfigModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, hide_input_in_errors=True)


class JobConfig(_ConfigModel):
    action: JobAction
    params: dict[str, Any] = Field(default_factory=dict)
    receiver_group: Text | None = None
    timezone: Text = DEFAULT_TIMEZONE

    @field_validator("receiver_group")
    @classmethod
    def _group_for_batch_only(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return value
        if info.data.get("action") == "SendEmail":
            raise _rule("is only for BatchSendEmail (SendEmail lists its recipients)")
        if "ReceiverId" in (info.data.get("params") or {}):
            raise _rule("must not be used together with params.ReceiverId; keep one of them")
        return value


class HmacOptions(_ConfigModel):
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
            raise _rule(f"unknown field {{{unknown[0][:40]}}}; known: {known}")
        if names.count("body") != 1:
            raise _rule(
                "must contain {body} exactly once: a signature that does not cover the body "
                "proves nothing"
            )
        for name in names:
            option = SIGNED_CONTENT_FIELDS[name]
            if option and not info.data.get(option):
                raise _rule(f"uses {{{name}}}, so {option} must name the header it comes from")
        return value


class SendSpec(BaseModel):
    """`send:` of a webhook source: the action, and SES fields as JMESPath (webhooks.mapping)."""

    model_config = ConfigDict(extra="allow", strict=True, frozen=True, hide_input_in_errors=True)

    action: Action

    @property
    def fields(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class WebhookSource(_ConfigModel):
    scheme: Annotated[str, AfterValidator(_scheme)]
    secret_env: Annotated[list[EnvName], BeforeValidator(_listify), Field(min_length=1)]
    tolerance_seconds: int = Field(300, ge=1, le=86400)
    hmac: HmacOptions | None = Field(None, validate_default=True)
    when: Text | None = None
    send: SendSpec

    @field_validator("hmac")
    @classmethod
    def _hmac_for_scheme_hmac(cls, value: HmacOptions | None, info: ValidationInfo) -> object:
        scheme = info.data.get("scheme")
        if scheme == "hmac" and value is None:
            raise _rule("is required for scheme hmac (header, encoding, prefix, ...)")
        if scheme is not None and scheme != "hmac" and value is not None:
            raise _rule(f"is only for scheme hmac; scheme {scheme} fixes its own format")
        return value


class SesEventsConfig(_ConfigModel):
    token_env: EnvName
    blacklist_on: list[SesEventKind] = Field(default_factory=list)


class RelayConfig(_ConfigModel):
    version: Literal[1] = 1
    jobs: Annotated[dict[Name, JobConfig], BeforeValidator(_empty_if_none)] = Field(
        default_factory=dict
    )
    webhooks: Annotated[dict[Name, WebhookSource], BeforeValidator(_empty_if_none)] = Field(
        default_factory=dict
    )
    ses_events: SesEventsConfig | None = None


def _yaml_loader() -> type[Any]:
    import yaml

    class Loader(yaml.SafeLoader):
        """Safe YAML that keeps dates as text (SES wants strings) and refuses duplicate keys."""

        def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
            seen: set[object] = set()
            for key_node, _value in node.value:
                key = self.construct_object(key_node, deep=deep)
                if isinstance(key, (str, int, float, bool)) and key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"duplicate key {str(key)[:64]!r}", key_node.start_mark
                    )
                seen.add(key)
            return super().construct_mapping(node, deep=deep)

    timestamp = "tag:yaml.org,2002:timestamp"
    Loader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != timestamp]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    return Loader


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
    try:
        import yaml
    except ImportError:
        message = f"{path}: PyYAML is not installed (pip install 'sesrelay[config]')"
        raise ConfigError([ConfigProblem("", message)]) from None
    try:
        return yaml.load(text, Loader=_yaml_loader())  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        reason = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError([ConfigProblem("", f"{path}: {reason}{where}")]) from None


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
            message = f"invalid name: {_NAME_RULE}"
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


def _env_problems(path: str, names: list[str], environ: Mapping[str, str]) -> list[ConfigProblem]:
    problems = []
    for name in names:
        value = environ.get(name)
        if value is None:
            problems.append(ConfigProblem(path, f"environment variable {name} is not set"))
        elif not value.strip():
            problems.append(ConfigProblem(path, f"environment variable {name} is empty"))
    return problems


def _job_problems(name: str, job: JobConfig, settings: Settings | None) -> list[ConfigProblem]:
    from sesrelay.sending import pipeline as sending
    from sesrelay.ses.fields import CONTEXT_ALLOW_SIMPLE
    from sesrelay.ses.models import BatchSendEmailParams, SendEmailParams
    from sesrelay.ses.validation import parse_request
    from sesrelay.timers.jobs import render_job_params

    if job.action == FINISH_CAMPAIGNS:
        if job.params or job.receiver_group is not None:
            return [ConfigProblem(f"jobs.{name}", "FinishCampaigns takes no params")]
        return []
    if not job.params:
        return [ConfigProblem(f"jobs.{name}.params", f"{job.action} needs its SES parameters")]
    try:
        params = render_job_params(name, job, SAMPLE_TICK)
    except InvalidInput as exc:
        return [ConfigProblem(error.field, error.message) for error in exc.errors]
    if job.receiver_group is not None:
        params["ReceiverId"] = 1  # resolved at run time
    prefix = f"jobs.{name}.params"
    problems = []
    allow_simple = settings is not None and settings.allow_simple
    context = {CONTEXT_ALLOW_SIMPLE: allow_simple}  # no "now": a past BeginTime is not judged
    parsed: SendEmailParams | BatchSendEmailParams
    try:
        if job.action == "SendEmail":
            parsed = parse_request(SendEmailParams, params, context)
        else:
            parsed = parse_request(BatchSendEmailParams, params, context)
    except InvalidInput as exc:
        for error in exc.errors:
            message = error.message
            if error.field == "ReceiverId" and message == "is required":
                message += " (or set receiver_group to a recipient group name)"
            problems.append(ConfigProblem(f"{prefix}.{error.field}".rstrip("."), message))
    else:
        try:
            sending.check_senders(parsed, settings.allowed_senders if settings else [])
        except RelayError as exc:
            problems.append(ConfigProblem(f"{prefix}.FromEmailAddress", exc.message))
    try:
        inline = json.dumps(
            {"action": job.action, "params": params}, ensure_ascii=False, separators=(",", ":")
        )
    except (TypeError, ValueError):
        problems.append(ConfigProblem(prefix, "must hold only JSON values"))
    else:
        size = len(inline.encode("utf-8"))
        if size > MAX_TIMER_MESSAGE_BYTES:
            problems.append(
                ConfigProblem(
                    prefix,
                    f"as an inline timer Message this job is {size} bytes; SCF allows "
                    f"{MAX_TIMER_MESSAGE_BYTES} (the SCF timer Message limit): shorten it",
                )
            )
    return problems


def _webhook_problems(
    name: str, source: WebhookSource, environ: Mapping[str, str]
) -> list[ConfigProblem]:
    from sesrelay.webhooks.mapping import compile_mapping

    prefix = f"webhooks.{name}"
    problems = _env_problems(f"{prefix}.secret_env", source.secret_env, environ)
    if source.scheme == "standard-webhooks":
        from sesrelay.webhooks.standard import secret_key

        for env in source.secret_env:
            value = environ.get(env, "")
            if value.strip():
                try:
                    secret_key(value)
                except ValueError as exc:
                    problems.append(ConfigProblem(f"{prefix}.secret_env", f"{env}: {exc}"))
    try:
        compile_mapping(source)
    except ConfigError as exc:
        problems += [ConfigProblem(f"{prefix}.{p.path}", p.message) for p in exc.problems]
    return problems


def _settings(environ: Mapping[str, str]) -> tuple[Settings | None, list[ConfigProblem]]:
    """The function's settings from `environ` (allowed senders, Simple), or why they fail."""
    from sesrelay.settings import Settings, env_name

    try:
        return Settings(environ=environ), []
    except ValidationError as exc:
        problems = [
            ConfigProblem("", f"environment variable {env_name(str(e['loc'][0]))}: {e['msg']}")
            for e in exc.errors(include_url=False)
        ]
        return None, problems


def _entries(data: Mapping[str, Any], section: str) -> list[tuple[str, object]]:
    entries = data.get(section)
    return [(str(k), v) for k, v in entries.items()] if isinstance(entries, dict) else []


def check_config(path: Path, environ: Mapping[str, str]) -> list[ConfigProblem]:
    """Every problem of the config at `path`, as the function would meet them with `environ`.

    Shape problems come first; then each job and source that has the right shape is checked in
    depth, so one broken entry does not hide the problems of the others.
    """
    try:
        data = read_config_data(path)
    except ConfigError as exc:
        return exc.problems
    problems: list[ConfigProblem] = []
    try:
        parse_config(data)
    except ConfigError as exc:
        problems += exc.problems
    if not isinstance(data, dict):
        return problems
    settings, env_problems = _settings(environ)
    problems += env_problems
    for name, raw in _entries(data, "jobs"):
        try:
            job = JobConfig.model_validate(raw)
        except ValidationError:
            continue  # already reported with the file's shape
        problems += _job_problems(name, job, settings)
    for name, raw in _entries(data, "webhooks"):
        try:
            source = WebhookSource.model_validate(raw)
        except ValidationError:
            continue
        problems += _webhook_problems(name, source, environ)
    if data.get("ses_events") is None:
        return problems
    try:
        events = SesEventsConfig.model_validate(data["ses_events"])
    except ValidationError:
        return problems
    problems += _env_problems("ses_events.token_env", [events.token_env], environ)
    token = environ.get(events.token_env, "").strip()
    if token and len(token) < MIN_TOKEN_CHARS:
        problems.append(
            ConfigProblem(
                "ses_events.token_env",
                f"{events.token_env} is shorter than {MIN_TOKEN_CHARS} characters; the token is "
                "the only guard of the unsigned SES callbacks: use a long random value",
            )
        )
    return problems


def run_config_check(path: Path, environ: Mapping[str, str], out: TextIO) -> int:
    """`sesrelay config check`: one line per problem, then a summary; 1 if any problem."""
    problems = check_config(path, environ)
    for problem in problems:
        print(f"{problem.path}: {problem.message}" if problem.path else problem.message, file=out)
    if problems:
        print(f"{len(problems)} problem(s) in {path}", file=out)
        return 1
    config = load_config(path)
    print(f"ok: {len(config.jobs)} jobs, {len(config.webhooks)} webhook sources", file=out)
    return 0
