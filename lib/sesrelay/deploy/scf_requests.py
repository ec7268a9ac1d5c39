"""SCF request parameters built from what the plan wants: CreateFunction,
UpdateFunctionConfiguration and the trigger actions, named as the SDK's models name them."""

from __future__ import annotations

from typing import Any

from sesrelay.deploy.plan import Settings, TriggerState


def environment_param(settings: Settings) -> dict[str, Any]:
    variables = [{"Key": k, "Value": v} for k, v in settings.environment.items()]
    # SCF keeps the old variables when the list is empty; this element clears them (toolkit).
    return {"Variables": variables or [{"Key": "", "Value": ""}]}


def create_params(settings: Settings) -> dict[str, Any]:
    params: dict[str, Any] = {
        "Type": "Event",
        "Runtime": settings.runtime,
        "Handler": settings.handler,
        "MemorySize": settings.memory_size,
        "Timeout": settings.timeout,
    }
    if settings.environment:
        params["Environment"] = environment_param(settings)
    if settings.role is not None:
        params["Role"] = settings.role
    if settings.description is not None:
        params["Description"] = settings.description
    if settings.vpc is not None and settings.vpc.vpc_id:  # a new function has no VPC anyway
        params.update(_vpc_param(settings))
    if settings.cls is not None:
        params.update(_cls_params(settings))
    return params


def config_params(settings: Settings, fields: tuple[str, ...]) -> dict[str, Any]:
    """UpdateFunctionConfiguration's parameters for `fields` (the plan's names)."""
    values: dict[str, dict[str, Any]] = {
        "memorySize": {"MemorySize": settings.memory_size},
        "timeout": {"Timeout": settings.timeout},
        "role": {"Role": settings.role},
        "description": {"Description": settings.description},
        "environment": {"Environment": environment_param(settings)},
        "vpcConfig": _vpc_param(settings),
        "cls": _cls_params(settings),
    }
    params: dict[str, Any] = {}
    for name in fields:
        params.update(values[name])
    return params


def _vpc_param(settings: Settings) -> dict[str, Any]:
    """VpcConfig; both IDs empty takes the function out of its VPC."""
    vpc = settings.vpc
    if vpc is None:
        return {}
    return {"VpcConfig": {"VpcId": vpc.vpc_id, "SubnetId": vpc.subnet_id}}


def _cls_params(settings: Settings) -> dict[str, Any]:
    """The CLS logset and topic, with the role: SCF refuses a log setting without it
    (InvalidParameterValue.ClsRole)."""
    cls = settings.cls
    if cls is None:
        return {}
    params: dict[str, Any] = {"ClsLogsetId": cls.logset_id, "ClsTopicId": cls.topic_id}
    if settings.role is not None:
        params["Role"] = settings.role
    return params


def trigger_params(trigger: TriggerState) -> dict[str, Any]:
    params: dict[str, Any] = {
        "Type": trigger.type,
        "TriggerName": trigger.name,
        "Qualifier": trigger.qualifier,
        "TriggerDesc": trigger.desc,
        "Enable": "OPEN" if trigger.enable else "CLOSE",
    }
    if trigger.type == "timer":
        params["CustomArgument"] = trigger.argument
    return params
