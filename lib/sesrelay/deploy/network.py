"""The function's network and log settings in serverless.yml: `vpcConfig` (the VPC and subnet of
the TencentDB for Redis instance a fleet shares) and `cls` (the CLS logset and topic its logs go
to), in the component format's names, with values given literally or as `${env:NAME}`.

What each spelling means to `sesrelay deploy`:

- key absent: the setting is left as SCF has it (set by hand, or SCF's default);
- `vpcConfig: {vpcId: vpc-..., subnetId: subnet-...}`: in that VPC; `cls: {logsetId, topicId}`:
  logs to that topic;
- `vpcConfig: {}`: no VPC, the one explicit way to take a function out of one. Tencent's
  component also sends an empty VpcConfig for `{}`. There is no such spelling for `cls`: SCF
  always delivers logs somewhere (its own SCF_logtopic topic unless told otherwise), so going
  back means naming that topic;
- `null`: refused, as Tencent's component reads it as "absent", which is easy to mistake for "none".

A `${env:NAME}` that is unset or empty stops the deploy: a value missing from a CI secret must
never read as "no VPC".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from sesrelay.deploy.plan_lines import Line
from sesrelay.deploy.serverless_fields import StrictModel, rule

VPC_ID = re.compile(r"^vpc-[0-9a-z]{8}$")
SUBNET_ID = re.compile(r"^subnet-[0-9a-z]{8}$")
#: CLS logset and topic IDs are UUIDs (`CreateLogset`, `CreateTopic`)
CLS_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_ENV_REF = re.compile(r"^\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}$")
_FORMATS = {
    "vpcId": (VPC_ID, "vpc- and 8 lower-case letters or digits (vpc-2ari9m7h)"),
    "subnetId": (SUBNET_ID, "subnet- and 8 lower-case letters or digits (subnet-0vmgq4v2)"),
    "logsetId": (CLS_ID, "a CLS logset ID, a UUID"),
    "topicId": (CLS_ID, "a CLS topic ID, a UUID"),
}


def _id_or_reference(key: str) -> AfterValidator:
    """A validator accepting an ID of `key`'s format, or one whole `${env:NAME}`."""
    regex, shape = _FORMATS[key]

    def check(value: str) -> str:
        if not (_ENV_REF.match(value) or regex.match(value)):
            raise rule(f"must be {shape}, or ${{env:NAME}}")
        return value

    return AfterValidator(check)


def _not_null(hint: str) -> BeforeValidator:
    """Refuses `null`, which Tencent's component reads as an absent key."""

    def check(value: object) -> object:
        if value is None:
            raise rule(f"null reads as absent to Tencent's component: {hint}")
        return value

    return BeforeValidator(check)


NO_VPC_NULL = _not_null("remove the key to leave the VPC as it is, or write {} for no VPC")
NO_CLS_NULL = _not_null("remove the key to leave the logs where SCF sends them")


class VpcConfigSpec(StrictModel):
    vpc_id: Annotated[str, _id_or_reference("vpcId")] | None = Field(None, alias="vpcId")
    subnet_id: Annotated[str, _id_or_reference("subnetId")] | None = Field(None, alias="subnetId")

    @model_validator(mode="after")
    def _both_or_none(self) -> VpcConfigSpec:
        if (self.vpc_id is None) != (self.subnet_id is None):
            raise rule("give both vpcId and subnetId, or write vpcConfig: {} for no VPC")
        return self


class ClsSpec(StrictModel):
    logset_id: Annotated[str, _id_or_reference("logsetId")] = Field(alias="logsetId")
    topic_id: Annotated[str, _id_or_reference("topicId")] = Field(alias="topicId")


@dataclass(frozen=True)
class Vpc:
    """A function's network as SCF reports it; both empty: no VPC."""

    vpc_id: str
    subnet_id: str

    def __str__(self) -> str:
        return f"{self.vpc_id}, {self.subnet_id}" if self.vpc_id else "no VPC"


@dataclass(frozen=True)
class ClsTarget:
    """The CLS logset and topic a function's logs go to."""

    logset_id: str
    topic_id: str

    def __str__(self) -> str:
        return f"logset {self.logset_id}, topic {self.topic_id}" if self.topic_id else "none"


@dataclass(frozen=True)
class Network:
    """What the file wants; None: not named in serverless.yml, left as SCF has it."""

    vpc: Vpc | None = None
    cls: ClsTarget | None = None


def resolve(
    vpc: VpcConfigSpec | None, cls: ClsSpec | None, environ: Mapping[str, str]
) -> tuple[Network, list[str]]:
    """The settings with every `${env:NAME}` substituted, and the problems (keys and variable
    names, never values other than IDs) that stop the deploy."""
    problems: list[str] = []

    def value(path: str, key: str, given: str) -> str:
        ref = _ENV_REF.match(given)
        if ref is None:
            return given
        name = ref.group(1)
        if name not in environ:
            problems.append(f"{path}: ${{env:{name}}} is not set")
            return ""
        resolved = environ[name].strip()
        regex, shape = _FORMATS[key]
        if not resolved:
            problems.append(f"{path}: ${{env:{name}}} is empty; {_EMPTY[key]}")
        elif not regex.match(resolved):
            problems.append(f"{path}: ${{env:{name}}} must be {shape}")
        return resolved

    wanted_vpc = None
    if vpc is not None:
        vpc_id = value("inputs.vpcConfig.vpcId", "vpcId", vpc.vpc_id or "")
        subnet_id = value("inputs.vpcConfig.subnetId", "subnetId", vpc.subnet_id or "")
        wanted_vpc = Vpc(vpc_id, subnet_id)
    wanted_cls = None
    if cls is not None:
        logset = value("inputs.cls.logsetId", "logsetId", cls.logset_id)
        topic = value("inputs.cls.topicId", "topicId", cls.topic_id)
        wanted_cls = ClsTarget(logset, topic)
    return Network(wanted_vpc, wanted_cls), problems


_EMPTY = {
    "vpcId": "set it, or write vpcConfig: {} in serverless.yml for no VPC",
    "subnetId": "set it, or write vpcConfig: {} in serverless.yml for no VPC",
    "logsetId": "set it, or remove cls from serverless.yml to leave the logs where they go",
    "topicId": "set it, or remove cls from serverless.yml to leave the logs where they go",
}


def plan_rows(
    wanted: Network, vpc_now: Vpc | None, cls_now: ClsTarget | None, *, creating: bool
) -> list[Line]:
    """The plan's lines for `vpcConfig` and `cls`: what a new function gets, or what changes."""
    rows: list[Line] = []
    if wanted.vpc is not None:
        if creating:
            rows.append(Line("create", "vpcConfig", str(wanted.vpc)))
        elif wanted.vpc == vpc_now:
            rows.append(Line("no change", "vpcConfig", str(wanted.vpc)))
        elif not wanted.vpc.vpc_id:
            rows.append(Line("delete", "vpcConfig", f"was {vpc_now}; serverless.yml says {{}}"))
        else:
            rows.append(Line("update", "vpcConfig", f"{vpc_now} -> {wanted.vpc}"))
    elif not creating:
        kept = f"not in serverless.yml; left as it is: {vpc_now}"
        rows.append(Line("ignored", "vpcConfig", kept))
    if wanted.cls is not None:
        if creating:
            rows.append(Line("create", "cls", str(wanted.cls)))
        elif wanted.cls == cls_now:
            rows.append(Line("no change", "cls", str(wanted.cls)))
        else:
            rows.append(Line("update", "cls", f"{cls_now} -> {wanted.cls}"))
    elif not creating:
        rows.append(Line("ignored", "cls", f"not in serverless.yml; logs go to {cls_now}"))
    return rows
