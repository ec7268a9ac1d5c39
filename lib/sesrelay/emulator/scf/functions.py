"""Emulated SCF function actions: GetFunction, CreateFunction, UpdateFunctionCode,
UpdateFunctionConfiguration, GetFunctionAddress and the async retry config (Get/Update).

The network (VpcConfig) and the log topic (ClsLogsetId, ClsTopicId) are stored and returned; a
function created without a topic logs to SCF's own (`ScfState.default_cls`), as SCF does.

Changes are asynchronous as in SCF: the function is Creating or Updating until the change settles,
and code or configuration updates in that window fail with SCF's status error codes.
"""

from __future__ import annotations

import re
from typing import Any

from sesrelay.emulator.protocol import ApiError
from sesrelay.emulator.scf import params as p
from sesrelay.emulator.scf.store import (
    Function,
    ScfState,
    check_handler,
    check_settings,
    decode_zip,
    environment_of,
    stamp,
)

_FUNCTION_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,58}[A-Za-z0-9]$")
_VPC_ID = re.compile(r"^vpc-[0-9a-z]{8}$")
_SUBNET_ID = re.compile(r"^subnet-[0-9a-z]{8}$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
#: the statuses in which SCF accepts a new change (a failed update may be retried)
_CHANGEABLE = ("Active", "UpdateFailed")


def get_function(state: ScfState, req: p.GetFunction) -> dict[str, Any]:
    fn = state.get(req.Namespace, req.FunctionName)
    return {
        "FunctionName": fn.name,
        "Namespace": fn.namespace,
        "FunctionId": fn.function_id,
        "FunctionVersion": "$LATEST",
        "Qualifier": req.Qualifier or "$LATEST",
        "Type": "Event",
        "Runtime": fn.runtime,
        "Handler": fn.handler,
        "MemorySize": fn.memory_size,
        "Timeout": fn.timeout,
        "Role": fn.role,
        "Description": fn.description,
        "Environment": {"Variables": [{"Key": k, "Value": v} for k, v in fn.environment.items()]},
        "VpcConfig": {"VpcId": fn.vpc[0], "SubnetId": fn.vpc[1]},
        "ClsLogsetId": fn.cls[0],
        "ClsTopicId": fn.cls[1],
        "Status": fn.status,
        "StatusDesc": "",
        "StatusReasons": [{**r} for r in fn.status_reasons],
        "CodeSize": len(fn.code),
        "CodeInfo": "",
        "CodeResult": "failed" if fn.status.endswith("Failed") else "success",
        "CodeError": "",
        "ErrNo": 0,
        "AddTime": stamp(fn.added),
        "ModTime": stamp(fn.modified),
        "Triggers": [t.as_info() for t in fn.triggers.values()],
        "AvailableStatus": "Available",
        "InstallDependency": "FALSE",
        "AsyncRunEnable": "FALSE",
        "TraceEnable": "FALSE",
        "InitTimeout": 65,
        "Layers": [],
        "Tags": [],
    }


def create_function(state: ScfState, req: p.CreateFunction) -> dict[str, Any]:
    namespace = req.Namespace or "default"
    if not _FUNCTION_NAME.match(req.FunctionName):
        raise ApiError(
            "InvalidParameterValue.FunctionName",
            "Function names are 2-60 letters, digits, '-' or '_', a letter first.",
        )
    if namespace != "default":
        raise ApiError("ResourceNotFound.Namespace", f"The namespace `{namespace}` is not found.")
    if (namespace, req.FunctionName) in state.functions:
        raise ApiError("ResourceInUse.Function", f"The function `{req.FunctionName}` exists.")
    if req.Type not in (None, "Event"):
        raise ApiError("InvalidParameterValue.Type", "The emulator creates Event functions only.")
    if not req.Code.ZipFile:
        raise ApiError("MissingParameter.Code", "Code.ZipFile is required (COS is not emulated).")
    runtime = req.Runtime or "Python2.7"  # SCF's documented default
    check_settings(req.MemorySize, req.Timeout, runtime)
    _check_description(req.Description)
    vpc = _vpc(req.VpcConfig) or ("", "")
    cls = _cls(req.ClsLogsetId, req.ClsTopicId) or state.default_cls
    now = state.clock.now()
    fn = Function(
        namespace=namespace,
        region=state.region,
        name=req.FunctionName,
        function_id=state.next_id("lam"),
        runtime=runtime,
        handler=check_handler(req.Handler or "index.main_handler"),
        memory_size=req.MemorySize or 128,
        timeout=req.Timeout or 3,
        role=req.Role or "",
        description=req.Description or "",
        environment=environment_of(_variables(req.Environment)),
        code=decode_zip(req.Code.ZipFile),
        added=now,
        modified=now,
        vpc=vpc,
        cls=cls,
    )
    state.functions[(namespace, fn.name)] = fn
    state.begin(fn, "Creating")
    return {}


def update_function_code(state: ScfState, req: p.UpdateFunctionCode) -> dict[str, Any]:
    fn = state.get(req.Namespace, req.FunctionName)
    encoded = req.Code.ZipFile if req.Code is not None else req.ZipFile
    if not encoded:
        raise ApiError("MissingParameter.Code", "ZipFile or Code.ZipFile is required.")
    # SCF: "当前函数状态无法更新代码，请在状态为正常时更新" while a change is in progress.
    fn.require_status("FailedOperation.UpdateFunctionCode", *_CHANGEABLE)
    code = decode_zip(encoded)
    handler = check_handler(req.Handler) if req.Handler else fn.handler
    fn.code, fn.handler = code, handler
    state.begin(fn, "Updating")
    return {}


def update_function_configuration(
    state: ScfState, req: p.UpdateFunctionConfiguration
) -> dict[str, Any]:
    fn = state.get(req.Namespace, req.FunctionName)
    fn.require_status("FailedOperation.FunctionStatusError", *_CHANGEABLE)
    check_settings(req.MemorySize, req.Timeout, req.Runtime)
    if req.Runtime is not None and req.Runtime != fn.runtime:
        raise ApiError("InvalidParameterValue.Runtime", "The runtime cannot be changed.")
    _check_description(req.Description)
    environment = (
        environment_of(_variables(req.Environment)) if req.Environment is not None else None
    )
    vpc, cls = _vpc(req.VpcConfig), _cls(req.ClsLogsetId, req.ClsTopicId)
    if cls is not None and req.Role is None:
        raise ApiError(
            "InvalidParameterValue.ClsRole",
            "Changing the CLS settings needs the Role parameter; add it and retry.",
        )
    fn.vpc, fn.cls = vpc or fn.vpc, cls or fn.cls
    if req.MemorySize is not None:
        fn.memory_size = req.MemorySize
    if req.Timeout is not None:
        fn.timeout = req.Timeout
    if req.Role is not None:
        fn.role = req.Role
    if req.Description is not None:
        fn.description = req.Description
    if environment is not None:
        fn.environment = environment
    state.begin(fn, "Updating")
    return {}


def get_function_address(state: ScfState, req: p.GetFunctionAddress) -> dict[str, Any]:
    fn = state.get(req.Namespace, req.FunctionName)
    url = f"https://scf-code-emulator.cos.example.invalid/{fn.function_id}.zip"
    # Hex SHA-256 of the stored zip; the real format is not documented (deploy accepts hex or
    # base64, and a mismatch only costs an extra upload).
    return {"Url": url, "CodeSha256": fn.code_sha256}


def get_function_event_invoke_config(
    state: ScfState, req: p.GetFunctionEventInvokeConfig
) -> dict[str, Any]:
    fn = state.get(req.Namespace, req.FunctionName)
    config = fn.async_config
    return {
        "AsyncTriggerConfig": {
            "MsgTTL": config["MsgTTL"],
            "RetryConfig": [{**r} for r in config["RetryConfig"]],
        }
    }


def update_function_event_invoke_config(
    state: ScfState, req: p.UpdateFunctionEventInvokeConfig
) -> dict[str, Any]:
    fn = state.get(req.Namespace, req.FunctionName)
    wanted = req.AsyncTriggerConfig
    ttl = wanted.MsgTTL if wanted.MsgTTL is not None else fn.async_config["MsgTTL"]
    retries = [r.RetryNum for r in wanted.RetryConfig] or [2]
    if not 60 <= ttl <= 21600 or not all(0 <= n <= 2 for n in retries):
        raise ApiError(
            "InvalidParameterValue.AsyncTriggerConfig",
            "MsgTTL must be 60 to 21600 seconds and RetryNum 0 to 2.",
        )
    fn.async_config = {"MsgTTL": ttl, "RetryConfig": [{"RetryNum": n} for n in retries]}
    return {}


def _vpc(config: p.VpcConfigParam | None) -> tuple[str, str] | None:
    """The network a request asks for: None (unchanged), ("", "") (no VPC), or both IDs. The
    emulator cannot know which VPCs exist; it checks their form only (ResourceNotFound.Vpc is
    what SCF answers for one that does not)."""
    if config is None:
        return None
    vpc_id, subnet_id = config.VpcId or "", config.SubnetId or ""
    if not vpc_id and not subnet_id:
        return "", ""
    if not (_VPC_ID.match(vpc_id) and _SUBNET_ID.match(subnet_id)):
        raise ApiError(
            "InvalidParameterValue.Vpc",
            "VpcConfig needs both VpcId (vpc-xxxxxxxx) and SubnetId (subnet-xxxxxxxx), or "
            "neither for no VPC.",
        )
    return vpc_id, subnet_id


def _cls(logset: str | None, topic: str | None) -> tuple[str, str] | None:
    """The CLS logset and topic a request names (None: unchanged); both, as UUIDs."""
    if logset is None and topic is None:
        return None
    if not (logset and topic and _UUID.match(logset) and _UUID.match(topic)):
        raise ApiError(
            "InvalidParameterValue.Cls",
            "ClsLogsetId and ClsTopicId go together; each is the ID (a UUID) of a CLS logset "
            "and topic.",
        )
    return logset, topic


def _variables(env: p.EnvironmentParam | None) -> list[dict[str, str]]:
    if env is None:
        return []
    return [{"Key": v.Key, "Value": v.Value} for v in env.Variables]


def _check_description(text: str | None) -> None:
    if text is not None and len(text) > 1000:
        raise ApiError("InvalidParameterValue.Description", "The description is over 1000 chars.")
