"""Reading a function's state from SCF and converging it to a plan, over any `ScfCalls`
(the SDK adapter in `deploy.deploy`): dicts in, dicts out, so this module needs no SDK.

SCF applies changes asynchronously; every change waits for the function to be Active again
before the next, as UpdateFunctionCode and friends fail while it is Creating or Updating.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from sesrelay.clock import Clock
from sesrelay.deploy import cron
from sesrelay.deploy.network import ClsTarget, Vpc
from sesrelay.deploy.plan import (
    MANAGED_TRIGGER_TYPES,
    AsyncRetry,
    Current,
    Plan,
    Settings,
    TriggerState,
    Wanted,
    url_desc,
)
from sesrelay.deploy.scf_requests import config_params, create_params, trigger_params

_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
_IN_PROGRESS = ("Creating", "Updating", "Publishing")
_PAGE = 100
#: SCF's answers to a change while another is in progress (errorcodes.py of the SDK)
_BUSY_CODES = frozenset(
    {
        "FailedOperation.UpdateFunctionCode",
        "FailedOperation.FunctionNameStatusError",
        "FailedOperation.FunctionStatusError",
        "FailedOperation.CreateTrigger",
        "FailedOperation.UpdateTrigger",
        "FailedOperation.DeleteTrigger",
    }
)
_BUSY_RETRIES = 3


class DeployError(Exception):
    """Deployment stopped; the message says why (never with a secret in it)."""


class ApiCallError(DeployError):
    def __init__(self, action: str, code: str, message: str, request_id: str) -> None:
        super().__init__(f"{action} failed: {code}: {message} (RequestId {request_id})")
        self.action, self.code = action, code


class ScfCalls(Protocol):
    def call(self, action: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """One SCF API action; raises ApiCallError with SCF's error code."""


class Converger:
    def __init__(
        self,
        api: ScfCalls,
        namespace: str,
        name: str,
        clock: Clock,
        *,
        wait_seconds: float = 300.0,
        poll_seconds: float = 2.0,
        say: Callable[[str], None] = print,
    ) -> None:
        self.api, self.clock, self.say = api, clock, say
        self.base = {"FunctionName": name, "Namespace": namespace}
        self.wait_seconds, self.poll_seconds = wait_seconds, poll_seconds

    # -- reading ----------------------------------------------------------------------------------

    def get_function(self) -> dict[str, Any] | None:
        try:
            return self.api.call("GetFunction", self.base)
        except ApiCallError as err:
            if err.code in ("ResourceNotFound.Function", "ResourceNotFound.FunctionName"):
                return None
            raise

    def read_current(self) -> Current | None:
        fn = self.get_function()
        if fn is None:
            return None
        status = str(fn.get("Status"))
        if status in _IN_PROGRESS:
            self.say(f"function is {status} (another change in progress); waiting for Active")
            fn = self.wait_active()
        elif status not in ("Active", "UpdateFailed"):
            raise DeployError(
                f"function {self.base['FunctionName']} is {status}{_reasons(fn)}; fix or delete "
                "it in the SCF console, then deploy again"
            )
        try:
            code = self.api.call("GetFunctionAddress", self.base).get("CodeSha256")
        except ApiCallError as err:  # e.g. no permission for it: upload rather than guess
            self.say(f"  note: cannot read the code digest ({err.code}); the code is uploaded")
            code = None
        retry = self.api.call("GetFunctionEventInvokeConfig", self.base).get("AsyncTriggerConfig")
        managed, unmanaged, url = [], [], None
        for info in self.list_triggers():
            parsed = trigger_state(info)
            if parsed is None:
                unmanaged.append(f"{info.get('Type')} {info.get('TriggerName')}")
                continue
            managed.append(parsed)
            url = url or function_url(info)
        return Current(
            status=str(fn.get("Status")),
            settings=_settings(fn),
            code_sha256=normalize_sha256(code),
            retry=_retry(retry),
            triggers=tuple(managed),
            unmanaged=tuple(unmanaged),
            function_url=url,
        )

    def list_triggers(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        while True:
            page = self.api.call(
                "ListTriggers", {**self.base, "Offset": len(found), "Limit": _PAGE}
            )
            batch = page.get("Triggers") or []
            found += batch
            if not batch or len(found) >= int(page.get("TotalCount") or 0):
                return found

    def wait_active(self) -> dict[str, Any]:
        deadline = self.clock.monotonic() + self.wait_seconds
        while True:
            fn = self.get_function()
            if fn is None:
                raise DeployError(f"function {self.base['FunctionName']} disappeared")
            status = str(fn.get("Status"))
            if status == "Active":
                return fn
            if status.endswith("Failed"):
                raise DeployError(f"function {self.base['FunctionName']} is {status}{_reasons(fn)}")
            if self.clock.monotonic() >= deadline:
                raise DeployError(
                    f"still {status} after {self.wait_seconds:.0f} s; try again later"
                )
            self.clock.sleep(self.poll_seconds)

    # -- converging -------------------------------------------------------------------------------

    def apply(self, plan: Plan, wanted: Wanted, zip_base64: str) -> None:
        settings, code = wanted.settings, {"ZipFile": zip_base64}
        if plan.create_function:
            self._change("CreateFunction", {**create_params(settings), "Code": code})
        if plan.update_code:
            self._change("UpdateFunctionCode", {"Handler": settings.handler, "Code": code})
        if plan.config_fields:
            self._change("UpdateFunctionConfiguration", config_params(settings, plan.config_fields))
        if plan.update_retry:
            config = {
                "RetryConfig": [{"RetryNum": wanted.retry.retry_num}],
                "MsgTTL": wanted.retry.msg_ttl,
            }
            self._call("UpdateFunctionEventInvokeConfig", {"AsyncTriggerConfig": config})
        for trigger in plan.delete_triggers:
            ref = {"Type": trigger.type, "TriggerName": trigger.name}
            self._call("DeleteTrigger", {**ref, "Qualifier": trigger.qualifier})
        for trigger in plan.update_triggers:
            self._call("UpdateTrigger", trigger_params(trigger))
        for trigger in plan.create_triggers:
            self._call("CreateTrigger", trigger_params(trigger))

    def _change(self, action: str, params: Mapping[str, Any]) -> None:
        self._call(action, params)
        started = self.clock.monotonic()
        self.wait_active()
        self.say(f"  {action}: Active after {self.clock.monotonic() - started:.0f} s")

    def _call(self, action: str, params: Mapping[str, Any]) -> None:
        for attempt in range(_BUSY_RETRIES + 1):
            try:
                self.api.call(action, {**self.base, **params})
                break
            except ApiCallError as err:
                if err.code not in _BUSY_CODES or attempt == _BUSY_RETRIES:
                    raise
                # GetFunction may still say Active just after SCF accepted a change: the next
                # change is then refused as busy. Nothing was applied, so wait and retry.
                self.say(f"  {action}: function busy ({err.code}); waiting to retry")
                self.clock.sleep(self.poll_seconds)
                self.wait_active()
        if action not in ("CreateFunction", "UpdateFunctionCode", "UpdateFunctionConfiguration"):
            trigger = (
                f" {params['Type']} {params['TriggerName']}" if "TriggerName" in params else ""
            )
            self.say(f"  {action}{trigger}: done")


def trigger_state(info: Mapping[str, Any]) -> TriggerState | None:
    """A ListTriggers entry as the plan compares it; None for types serverless.yml does not
    manage. SCF reads back a timer's cron as {"cron": ...} and Enable as 1/0."""
    kind, desc = str(info.get("Type")), str(info.get("TriggerDesc") or "")
    if kind not in MANAGED_TRIGGER_TYPES:
        return None
    parsed = _json(desc)
    if kind == "timer":
        rule = parsed.get("cron", desc) if isinstance(parsed, dict) else desc
        canonical = cron.normalize(str(rule))
    else:
        net = parsed.get("NetConfig", {}) if isinstance(parsed, dict) else {}
        auth = parsed.get("AuthType", "") if isinstance(parsed, dict) else ""
        canonical = url_desc(
            str(auth), bool(net.get("EnableIntranet")), bool(net.get("EnableExtranet"))
        )
    return TriggerState(
        type=kind,
        name=str(info.get("TriggerName")),
        qualifier=str(info.get("Qualifier") or "$LATEST"),
        desc=canonical,
        enable=info.get("Enable") in (1, "1", True, "OPEN"),
        argument=str(info.get("CustomArgument") or ""),
    )


def function_url(info: Mapping[str, Any]) -> str | None:
    """The public (else VPC) URL of a function URL trigger, from its TriggerDesc.NetConfig."""
    if info.get("Type") != "http":
        return None
    parsed = _json(str(info.get("TriggerDesc") or ""))
    net = parsed.get("NetConfig") if isinstance(parsed, dict) else None
    if not isinstance(net, dict):
        return None
    url = net.get("ExtranetUrl") or net.get("IntranetUrl")
    return str(url) if url else None


def normalize_sha256(reported: str | None) -> str | None:
    """SCF's CodeSha256 as lower-case hex; its format is not documented, so hex and base64 are
    both read. Anything else compares unequal, which only costs one more upload."""
    if not reported:
        return None
    if _HEX64.match(reported):
        return reported.lower()
    try:
        raw = base64.b64decode(reported, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw.hex() if len(raw) == 32 else None


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return None


def _reasons(fn: Mapping[str, Any]) -> str:
    reasons = [str(r.get("ErrorMessage")) for r in fn.get("StatusReasons") or []]
    return f" ({'; '.join(reasons)})" if reasons else ""


def _settings(fn: Mapping[str, Any]) -> Settings:
    variables = (fn.get("Environment") or {}).get("Variables") or []
    vpc = fn.get("VpcConfig") or {}
    return Settings(
        handler=str(fn.get("Handler")),
        runtime=str(fn.get("Runtime")),
        memory_size=int(fn.get("MemorySize") or 0),
        timeout=int(fn.get("Timeout") or 0),
        role=str(fn.get("Role") or ""),
        description=str(fn.get("Description") or ""),
        environment={str(v["Key"]): str(v.get("Value") or "") for v in variables if v.get("Key")},
        vpc=Vpc(str(vpc.get("VpcId") or ""), str(vpc.get("SubnetId") or "")),
        cls=ClsTarget(str(fn.get("ClsLogsetId") or ""), str(fn.get("ClsTopicId") or "")),
    )


def _retry(config: Mapping[str, Any] | None) -> AsyncRetry:
    config = config or {}
    retries = config.get("RetryConfig") or [{}]
    # The first RetryConfig entry is the execution-error retry count (583/39921 example).
    return AsyncRetry(int(retries[0].get("RetryNum", 2)), int(config.get("MsgTTL") or 21600))
