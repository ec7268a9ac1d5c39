"""The project-owned model of serverless.yml (Tencent's `component: scf` format): what
`sesrelay deploy` and the tests accept, checked against SCF's documented limits.

Sources: reference/scf.md 1.2-1.4 and 2.3; serverless-components/tencent-scf
(serverless.component.yml, docs/configure.md); tencent-component-toolkit (triggers, async retry).
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from sesrelay.deploy import cron
from sesrelay.deploy.variables import (
    check_environment,
    check_variable_value,
    env_key,
)

RUNTIME = "Python3.10"
HANDLER = "handler.main_handler"
DEFAULT_QUALIFIER = "$DEFAULT"
MAX_TIMER_MESSAGE_BYTES = 4096  # timer trigger "input parameter" (583/9708)
MAX_TIMERS = 10  # "10 triggers of the same type per function" (583/11637)
MEMORY_SIZES = (64, *range(128, 3072 + 1, 128))
_FUNCTION_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,58}[A-Za-z0-9]$")
_TRIGGER_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,59}$")
_REGION = re.compile(r"^[a-z]{2}-[a-z]+(-[a-z0-9]+)?$")  # ap-guangzhou, ap-shanghai-fsi
_QUALIFIER = re.compile(r"^(\$DEFAULT|\$LATEST|[0-9]+|[A-Za-z][A-Za-z0-9_-]{0,63})$")
_NAMESPACE = re.compile(r"^[A-Za-z0-9_-]{1,30}$")
_DESCRIPTION = re.compile(r"^[\w ,.\n\u4e00-\u9fff]*$")


def _rule(message: str) -> PydanticCustomError:
    return PydanticCustomError("serverless_rule", message)


def _function_name(value: str) -> str:
    if not _FUNCTION_NAME.match(value):
        raise _rule(
            "must be 2-60 characters: letters, digits, '-' or '_', starting with a letter and "
            "ending with a letter or digit"
        )
    return value


def _trigger_name(value: str) -> str:
    if not _TRIGGER_NAME.match(value):
        raise _rule("must match ^[A-Za-z][A-Za-z0-9_-]{0,59}$ (1-60 characters, a letter first)")
    return value


def _literal(expected: str, why: str) -> Any:
    def check(value: str) -> str:
        if value != expected:
            raise _rule(f"must be {expected}: {why}")
        return value

    return AfterValidator(check)


def _memory(value: int) -> int:
    if value not in MEMORY_SIZES:
        raise _rule("must be 64, or 128 to 3072 in steps of 128 (MB)")
    return value


def _pattern(regex: re.Pattern[str], message: str) -> Any:
    def check(value: str) -> str:
        if not regex.match(value):
            raise _rule(message)
        return value

    return AfterValidator(check)


FunctionName = Annotated[str, AfterValidator(_function_name)]
TriggerName = Annotated[str, AfterValidator(_trigger_name)]
Qualifier = Annotated[str, _pattern(_QUALIFIER, "must be $DEFAULT, $LATEST, a version or an alias")]


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        frozen=True,
        hide_input_in_errors=True,
    )


class SrcSpec(_Model):
    src: str
    exclude: list[str] = Field(default_factory=list)


class EnvironmentSpec(_Model):
    #: values are literals or hold `${env:NAME}`, resolved at deploy time (`variables.resolve`)
    variables: dict[
        Annotated[str, AfterValidator(env_key)],
        Annotated[str, AfterValidator(check_variable_value)],
    ] = Field(default_factory=dict)

    @field_validator("variables")
    @classmethod
    def _secrets_and_size(cls, value: dict[str, str]) -> dict[str, str]:
        found = check_environment(value)
        if found:
            raise _rule("; ".join(found))
        return value


class TimerParameters(_Model):
    name: TriggerName | None = None
    qualifier: Qualifier = DEFAULT_QUALIFIER
    cron_expression: str = Field(alias="cronExpression")
    enable: bool = True
    #: becomes the event's `Message`; a mapping is accepted and sent as compact JSON
    argument: Annotated[str, BeforeValidator(_compact_json)]

    @field_validator("cron_expression")
    @classmethod
    def _cron(cls, value: str) -> str:
        found = cron.problems(value)
        if found:
            raise _rule("; ".join(found))
        return cron.normalize(value)

    @field_validator("argument")
    @classmethod
    def _argument(cls, value: str, info: ValidationInfo) -> str:
        jobs = (info.context or {}).get("jobs")
        reason = _argument_problem(value, jobs)
        if reason:
            raise _rule(reason)
        return value


class TimerEvent(_Model):
    name: TriggerName | None = None
    parameters: TimerParameters

    @property
    def trigger_name(self) -> str:
        name = self.parameters.name or self.name
        assert name is not None  # guaranteed by _named
        return name

    @model_validator(mode="after")
    def _named(self) -> TimerEvent:
        if not (self.parameters.name or self.name):
            raise _rule("needs parameters.name: deploy matches timers to SCF triggers by name")
        return self


class NetConfig(_Model):
    enable_intranet: bool = Field(False, alias="enableIntranet")
    enable_extranet: bool = Field(False, alias="enableExtranet")

    @model_validator(mode="after")
    def _reachable(self) -> NetConfig:
        if not (self.enable_intranet or self.enable_extranet):
            raise _rule("set enableExtranet (public URL) and/or enableIntranet (VPC URL) to true")
        return self


class HttpParameters(_Model):
    #: "url-trigger" is the name Tencent's component gives a function URL it creates
    name: TriggerName = "url-trigger"
    qualifier: Qualifier = DEFAULT_QUALIFIER
    auth_type: Literal["NONE", "CAM"] = Field("NONE", alias="authType")
    net_config: NetConfig = Field(alias="netConfig")


class HttpEvent(_Model):
    parameters: HttpParameters


def _retired(value: object) -> None:
    raise _rule(
        "the API Gateway trigger was retired on 2025-06-30 (Tencent notice 583/107631); "
        "use an `http` event, the function URL, instead"
    )


class EventEntry(_Model):
    timer: TimerEvent | None = None
    http: HttpEvent | None = None
    apigw: Annotated[object, AfterValidator(_retired)] = None

    @model_validator(mode="after")
    def _one_kind(self) -> EventEntry:
        if (self.timer is None) == (self.http is None):
            raise _rule("each event is a mapping with exactly one key: timer or http")
        return self


class Inputs(_Model):
    name: FunctionName
    namespace: Annotated[str, _pattern(_NAMESPACE, "must be 1-30 of [A-Za-z0-9_-]")] = "default"
    src: Annotated[SrcSpec, BeforeValidator(lambda v: {"src": v} if isinstance(v, str) else v)]
    type: Literal["event"] = "event"
    handler: Annotated[str, _literal(HANDLER, "the zip has handler.py at its root")]
    runtime: Annotated[
        str, _literal(RUNTIME, "the zip is built for CPython 3.10 (pydantic 2.14 needs >= 3.10)")
    ]
    region: Annotated[str, _pattern(_REGION, "must be an SCF region such as ap-guangzhou")]
    description: (
        Annotated[
            str,
            Field(max_length=1000),
            _pattern(
                _DESCRIPTION, "may hold only letters, digits, spaces, commas, periods, newlines"
            ),
        ]
        | None
    ) = None
    memory_size: Annotated[int, AfterValidator(_memory)] = Field(128, alias="memorySize")
    timeout: Annotated[int, Field(ge=1, le=900)] = 3
    role: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    environment: EnvironmentSpec = EnvironmentSpec()
    events: list[EventEntry] = Field(default_factory=list)
    #: async retries after an execution error; SCF's default is 2 (583/41138)
    retry_num: Annotated[int, Field(ge=0, le=2)] = Field(2, alias="retryNum")
    #: seconds an async event may wait for a retry; SCF's default (and our cap) is 6 h
    msg_ttl: Annotated[int, Field(ge=60, le=21600)] = Field(21600, alias="msgTTL")

    @property
    def timers(self) -> tuple[TimerEvent, ...]:
        return tuple(e.timer for e in self.events if e.timer is not None)

    @property
    def http(self) -> HttpEvent | None:
        return next((e.http for e in self.events if e.http is not None), None)

    @model_validator(mode="after")
    def _triggers(self) -> Inputs:
        names = [t.trigger_name for t in self.timers]
        names += [e.http.parameters.name for e in self.events if e.http is not None]
        found: list[str] = []
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            found.append(f"trigger names must be unique; repeated: {', '.join(duplicates)}")
        if sum(e.http is not None for e in self.events) > 1:
            found.append("at most one http event: SCF binds one function URL per qualifier")
        if len(self.timers) > MAX_TIMERS:
            found.append(f"at most {MAX_TIMERS} timer events (SCF's per-type trigger limit)")
        if found:
            raise _rule("; ".join(found))
        return self


class ServerlessFile(_Model):
    app: str | None = None
    stage: str | None = None
    org: str | None = None
    component: Annotated[str, _literal("scf", "sesrelay deploy reads the scf component format")]
    name: str
    inputs: Inputs


def _compact_json(value: object) -> object:
    if isinstance(value, Mapping):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return value


def _argument_problem(text: str, jobs: Collection[str] | None) -> str | None:
    """Why a timer argument would not work as sesrelay's timer Message (DESIGN A3), or None."""
    if len(text.encode("utf-8")) > MAX_TIMER_MESSAGE_BYTES:
        return f"is over {MAX_TIMER_MESSAGE_BYTES} bytes, SCF's limit for a timer message"
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return 'must be JSON, e.g. {"job":"weekly-digest"}'
    if not isinstance(data, dict):
        return 'must be a JSON object, e.g. {"job":"weekly-digest"}'
    if "job" in data:
        job = data["job"]
        if not isinstance(job, str) or set(data) != {"job"}:
            return 'a job message is {"job": "<name>"} and nothing else'
        if jobs is not None and job not in jobs:
            known = ", ".join(sorted(jobs)) or "none"
            return f"names job {job[:64]!r}, which sesrelay.yaml does not define (jobs: {known})"
        return None
    if data.get("action") in ("SendEmail", "BatchSendEmail") and isinstance(
        data.get("params"), dict
    ):
        return None
    return 'must be {"job": "<name>"} or {"action": "SendEmail|BatchSendEmail", "params": {...}}'
