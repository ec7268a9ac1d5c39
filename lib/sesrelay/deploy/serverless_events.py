"""The events (triggers) serverless.yml may declare: timers, whose argument must be a message
sesrelay's timer handler accepts, and one http event, the function URL."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from sesrelay.deploy import cron
from sesrelay.deploy.serverless_fields import (
    DEFAULT_QUALIFIER,
    Qualifier,
    StrictModel,
    TriggerName,
    rule,
)
from sesrelay.events import MAX_TIMER_MESSAGE_BYTES
from sesrelay.gateway import SEND_ACTIONS


def _compact_json(value: object) -> object:
    if isinstance(value, Mapping):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return value


class TimerParameters(StrictModel):
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
            raise rule("; ".join(found))
        return cron.normalize(value)

    @field_validator("argument")
    @classmethod
    def _argument(cls, value: str, info: ValidationInfo) -> str:
        jobs = (info.context or {}).get("jobs")
        reason = _argument_problem(value, jobs)
        if reason:
            raise rule(reason)
        return value


class TimerEvent(StrictModel):
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
            raise rule("needs parameters.name: deploy matches timers to SCF triggers by name")
        return self


class NetConfig(StrictModel):
    enable_intranet: bool = Field(False, alias="enableIntranet")
    enable_extranet: bool = Field(False, alias="enableExtranet")

    @model_validator(mode="after")
    def _reachable(self) -> NetConfig:
        if not (self.enable_intranet or self.enable_extranet):
            raise rule("set enableExtranet (public URL) and/or enableIntranet (VPC URL) to true")
        return self


class HttpParameters(StrictModel):
    #: "url-trigger" is the name Tencent's component gives a function URL it creates
    name: TriggerName = "url-trigger"
    qualifier: Qualifier = DEFAULT_QUALIFIER
    auth_type: Literal["NONE", "CAM"] = Field("NONE", alias="authType")
    net_config: NetConfig = Field(alias="netConfig")


class HttpEvent(StrictModel):
    parameters: HttpParameters


def _retired(value: object) -> None:
    raise rule(
        "the API Gateway trigger was retired on 2025-06-30 (Tencent notice 583/107631); "
        "use an `http` event, the function URL, instead"
    )


class EventEntry(StrictModel):
    timer: TimerEvent | None = None
    http: HttpEvent | None = None
    apigw: Annotated[object, AfterValidator(_retired)] = None

    @model_validator(mode="after")
    def _one_kind(self) -> EventEntry:
        if (self.timer is None) == (self.http is None):
            raise rule("each event is a mapping with exactly one key: timer or http")
        return self


def _argument_problem(text: str, jobs: Collection[str] | None) -> str | None:
    """Why a timer argument would not work as sesrelay's timer Message, or None: it must be
    {"job": name} naming a job of sesrelay.yaml, or {"action": ..., "params": {...}}."""
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
    if data.get("action") in SEND_ACTIONS and isinstance(data.get("params"), dict):
        return None
    return 'must be {"job": "<name>"} or {"action": "SendEmail|BatchSendEmail", "params": {...}}'
