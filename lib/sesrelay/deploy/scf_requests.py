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
    return params


def config_params(settings: Settings, fields: tuple[str, ...]) -> dict[str, Any]:
    values: dict[str, Any] = {
        "memorySize": ("MemorySize", settings.memory_size),
        "timeout": ("Timeout", settings.timeout),
        "role": ("Role", settings.role),
        "description": ("Description", settings.description),
        "environment": ("Environment", environment_param(settings)),
    }
    return dict(values[name] for name in fields)


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
