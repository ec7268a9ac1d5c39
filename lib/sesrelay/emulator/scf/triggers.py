"""Emulated SCF trigger actions for timers and function URLs: ListTriggers, CreateTrigger,
UpdateTrigger, DeleteTrigger.

As SCF does (tencent-component-toolkit triggers/timer.ts, 583/100227): a timer's TriggerDesc is
sent as the cron text and read back as `{"cron": ...}`; Enable is sent as OPEN/CLOSE and read back
as 1/0; a function URL (Type `http`) reads back with its URLs inside NetConfig.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from sesrelay.emulator.protocol import ApiError
from sesrelay.emulator.scf import params as p
from sesrelay.emulator.scf.store import APP_ID, Function, ScfState, Trigger

MAX_TIMERS = 10
MAX_ARGUMENT_BYTES = 4096
_QUALIFIERS = ("$LATEST", "$DEFAULT")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,99}$")
_CRON_FIELD = re.compile(r"^[0-9A-Za-z*,/-]+$")


def list_triggers(state: ScfState, req: p.ListTriggers) -> dict[str, Any]:
    fn = state.get(req.Namespace, req.FunctionName)
    found = list(fn.triggers.values())
    for flt in req.Filters:
        field = {"Qualifier": "qualifier", "TriggerName": "name", "Description": "description"}
        if flt.Name not in field:
            raise ApiError("InvalidParameterValue.Filters", f"Unknown filter `{flt.Name}`.")
        found = [t for t in found if getattr(t, field[flt.Name]) in flt.Values]
    by_added = (req.OrderBy or "mod_time") == "add_time"
    found.sort(key=lambda t: (t.added if by_added else t.modified, t.name))
    if (req.Order or "DESC").upper() == "DESC":
        found.reverse()
    page = found[req.Offset : req.Offset + req.Limit]
    return {"TotalCount": len(found), "Triggers": [t.as_info() for t in page]}


def create_trigger(state: ScfState, req: p.CreateTrigger) -> dict[str, Any]:
    fn = state.get(req.Namespace, req.FunctionName)
    fn.require_status("FailedOperation.CreateTrigger", "Active")
    qualifier = _qualifier(req.Qualifier)
    _check_type_and_name(req.Type, req.TriggerName)
    if (req.Type, req.TriggerName) in fn.triggers:
        raise ApiError("ResourceInUse.Trigger", f"The trigger `{req.TriggerName}` exists.")
    same_type = [t for t in fn.triggers.values() if t.type == req.Type]
    if req.Type == "timer" and len(same_type) >= MAX_TIMERS:
        raise ApiError("LimitExceeded.Trigger", f"A function has at most {MAX_TIMERS} timers.")
    if req.Type == "http" and any(t.qualifier == qualifier for t in same_type):
        raise ApiError(
            "ResourceInUse.Trigger", f"A function URL already exists for qualifier {qualifier}."
        )
    now = state.clock.now()
    trigger = Trigger(
        type=req.Type,
        name=req.TriggerName,
        qualifier=qualifier,
        desc="",
        enable=_enable(req.Enable, default=True),
        custom_argument=_argument(req.Type, req.CustomArgument),
        description=req.Description or "",
        added=now,
        modified=now,
        resource_id=state.next_id("trigger"),
    )
    trigger.desc = _stored_desc(fn, trigger, req.TriggerDesc)
    fn.triggers[(trigger.type, trigger.name)] = trigger
    return {"TriggerInfo": trigger.as_info()}


def update_trigger(state: ScfState, req: p.UpdateTrigger) -> dict[str, Any]:
    fn = state.get(req.Namespace, req.FunctionName)
    fn.require_status("FailedOperation.UpdateTrigger", "Active")
    trigger = _find(fn, req.Type, req.TriggerName, _qualifier(req.Qualifier))
    if req.TriggerDesc is not None:
        trigger.desc = _stored_desc(fn, trigger, req.TriggerDesc)
    if req.Enable is not None:
        trigger.enable = _enable(req.Enable, default=trigger.enable)
    if req.CustomArgument is not None:
        trigger.custom_argument = _argument(trigger.type, req.CustomArgument)
    if req.Description is not None:
        trigger.description = req.Description
    trigger.modified = state.clock.now()
    return {}


def delete_trigger(state: ScfState, req: p.DeleteTrigger) -> dict[str, Any]:
    fn = state.get(req.Namespace, req.FunctionName)
    fn.require_status("FailedOperation.DeleteTrigger", "Active")
    trigger = _find(fn, req.Type, req.TriggerName, _qualifier(req.Qualifier))
    del fn.triggers[(trigger.type, trigger.name)]
    return {}


def _find(fn: Function, kind: str, name: str, qualifier: str) -> Trigger:
    trigger = fn.triggers.get((kind, name))
    # Update/DeleteTrigger default Qualifier to $LATEST: a client that leaves it out does not
    # find a trigger bound to $DEFAULT, exactly as in SCF.
    if trigger is None or trigger.qualifier != qualifier:
        raise ApiError(
            "ResourceNotFound.Trigger",
            f"The {kind} trigger `{name}` (qualifier {qualifier}) is not found.",
        )
    return trigger


def _check_type_and_name(kind: str, name: str) -> None:
    if kind not in ("timer", "http"):
        raise ApiError("InvalidParameterValue.Type", "The emulator has timer and http triggers.")
    if not _NAME.match(name):
        raise ApiError(
            "InvalidParameterValue.TriggerName",
            "Trigger names are 1-100 letters, digits, '-' or '_', a letter first.",
        )


def _qualifier(value: str | None) -> str:
    qualifier = value or "$LATEST"
    if qualifier not in _QUALIFIERS:
        raise ApiError("InvalidParameterValue.Qualifier", f"No version or alias `{qualifier}`.")
    return qualifier


def _enable(value: str | None, default: bool) -> bool:
    if value is None:
        return default
    if value not in ("OPEN", "CLOSE"):
        raise ApiError("InvalidParameterValue.Enable", "Enable must be OPEN or CLOSE.")
    return value == "OPEN"


def _argument(kind: str, value: str | None) -> str | None:
    if value is None:
        return None
    if kind != "timer":
        raise ApiError("InvalidParameterValue.CustomArgument", "Only timers take CustomArgument.")
    if len(value.encode("utf-8")) > MAX_ARGUMENT_BYTES:
        raise ApiError("InvalidParameterValue.CustomArgument", "CustomArgument is over 4 KB.")
    return value


def _stored_desc(fn: Function, trigger: Trigger, desc: str | None) -> str:
    if trigger.type == "timer":
        fields = (desc or "").split()
        if len(fields) not in (5, 7) or not all(_CRON_FIELD.match(f) for f in fields):
            raise ApiError("InvalidParameterValue.TriggerDesc", "TriggerDesc is not a cron rule.")
        return json.dumps({"cron": " ".join(fields)})
    return json.dumps(_url_desc(fn, trigger, desc))


def _url_desc(fn: Function, trigger: Trigger, desc: str | None) -> dict[str, Any]:
    try:
        data = json.loads(desc or "")
    except json.JSONDecodeError:
        data = None
    net = data.get("NetConfig") if isinstance(data, dict) else None
    if (
        not isinstance(data, dict)
        or data.get("AuthType") not in ("NONE", "CAM")
        or not isinstance(net, dict)
        or not all(
            isinstance(net.get(k, False), bool) for k in ("EnableIntranet", "EnableExtranet")
        )
        or not (net.get("EnableIntranet") or net.get("EnableExtranet"))
    ):
        raise ApiError(
            "InvalidParameterValue.TriggerDesc",
            'A function URL TriggerDesc is {"AuthType": "NONE"|"CAM", "NetConfig": '
            '{"EnableIntranet": bool, "EnableExtranet": bool}} with at least one enabled.',
        )
    # The URL is fixed for the trigger's lifetime: https://<appid>-<id>.<region>.tencentscf.com
    url_id = hashlib.sha256(f"{fn.function_id}/{trigger.resource_id}".encode()).hexdigest()[:10]
    region = fn.region
    extranet = bool(net.get("EnableExtranet"))
    intranet = bool(net.get("EnableIntranet"))
    stored: dict[str, Any] = {
        "AuthType": data["AuthType"],
        "NetConfig": {
            "EnableIntranet": intranet,
            "EnableExtranet": extranet,
            "ExtranetUrl": f"https://{APP_ID}-{url_id}.{region}.tencentscf.com" if extranet else "",
            "IntranetUrl": f"https://{APP_ID}-{url_id}.in.{region}.tencentscf.com"
            if intranet
            else "",
        },
    }
    if "CorsConfig" in data:
        stored["CorsConfig"] = data["CorsConfig"]
    return stored
