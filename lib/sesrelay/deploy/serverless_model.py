"""The project-owned model of serverless.yml (Tencent's `component: scf` format): what
`sesrelay deploy` and the tests accept, checked against SCF's documented limits.

Sources: Tencent's SCF docs (function limits 583/11637, timer triggers 583/9708, async retries
583/41138); serverless-components/tencent-scf (serverless.component.yml, its configure.md);
tencent-component-toolkit (triggers, async retry). Field formats live in serverless_fields,
the timer and http events in serverless_events.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field, field_validator, model_validator

from sesrelay.deploy.network import NO_CLS_NULL, NO_VPC_NULL, ClsSpec, VpcConfigSpec
from sesrelay.deploy.serverless_events import EventEntry, HttpEvent, TimerEvent
from sesrelay.deploy.serverless_fields import (
    DESCRIPTION,
    NAMESPACE,
    REGION,
    FunctionName,
    StrictModel,
    literal,
    memory,
    pattern,
    rule,
)
from sesrelay.deploy.variables import (
    check_environment,
    check_variable_value,
    env_key,
)

RUNTIME = "Python3.10"
HANDLER = "handler.main_handler"
MAX_TIMERS = 10  # "10 triggers of the same type per function" (583/11637)


class SrcSpec(StrictModel):
    src: str
    exclude: list[str] = Field(default_factory=list)


class EnvironmentSpec(StrictModel):
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
            raise rule("; ".join(found))
        return value


class Inputs(StrictModel):
    name: FunctionName
    namespace: Annotated[str, pattern(NAMESPACE, "must be 1-30 of [A-Za-z0-9_-]")] = "default"
    src: Annotated[SrcSpec, BeforeValidator(lambda v: {"src": v} if isinstance(v, str) else v)]
    type: Literal["event"] = "event"
    handler: Annotated[str, literal(HANDLER, "the zip has handler.py at its root")]
    runtime: Annotated[
        str, literal(RUNTIME, "the zip is built for CPython 3.10 (pydantic 2.14 needs >= 3.10)")
    ]
    region: Annotated[str, pattern(REGION, "must be an SCF region such as ap-guangzhou")]
    description: (
        Annotated[
            str,
            Field(max_length=1000),
            pattern(
                DESCRIPTION, "may hold only letters, digits, spaces, commas, periods, newlines"
            ),
        ]
        | None
    ) = None
    memory_size: Annotated[int, AfterValidator(memory)] = Field(128, alias="memorySize")
    timeout: Annotated[int, Field(ge=1, le=900)] = 3
    role: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    environment: EnvironmentSpec = EnvironmentSpec()
    #: absent: left as SCF has it; {}: no VPC (deploy.network says what each spelling means)
    vpc_config: Annotated[VpcConfigSpec | None, NO_VPC_NULL] = Field(None, alias="vpcConfig")
    cls_config: Annotated[ClsSpec | None, NO_CLS_NULL] = Field(None, alias="cls")
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
        if self.cls_config is not None and self.role is None:
            # SCF refuses a log setting without the role (InvalidParameterValue.ClsRole)
            found.append("cls needs role: SCF changes where logs go only with the execution role")
        if found:
            raise rule("; ".join(found))
        return self


class ServerlessFile(StrictModel):
    app: str | None = None
    stage: str | None = None
    org: str | None = None
    component: Annotated[str, literal("scf", "sesrelay deploy reads the scf component format")]
    name: str
    inputs: Inputs
