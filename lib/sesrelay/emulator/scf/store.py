"""State of the emulated SCF (API 2018-04-16): functions, their code and triggers, and the
asynchronous status machine Creating/Updating -> Active (or CreateFailed/UpdateFailed).

Changes settle `settle_seconds` after they are made, on the emulator's business clock, so tests
move time instead of sleeping. States and their flow: Tencent 583/37883.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import re
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sesrelay.clock import SES_TIMEZONE
from sesrelay.emulator.protocol import ApiError
from sesrelay.emulator.timeline import BusinessClock

MAX_ZIP_BYTES = 50 * 1024 * 1024  # Code.ZipFile (SDK docstring)
MAX_UNZIPPED_BYTES = 500 * 1024 * 1024  # per function version (583/11637)
MAX_ENV_BYTES = 4096
RESERVED_ENV_PREFIXES = ("SCF_", "QCLOUD_", "TENCENTCLOUD_")
RUNTIMES = frozenset(
    {"Python2.7", "Python3.6", "Python3.7", "Python3.9", "Python3.10", "Nodejs12.16",
     "Nodejs14.18", "Nodejs16.13", "Nodejs18.15", "Go1", "Java8", "Php7.4", "Php8.0",
     "CustomRuntime"}
)  # fmt: skip
MEMORY_SIZES = frozenset({64, *range(128, 3072 + 1, 128)})
#: SCF's defaults for the async retry config (583/41138): 2 retries, 6 h retention
DEFAULT_ASYNC = {"MsgTTL": 21600, "RetryConfig": [{"RetryNum": 2}]}
APP_ID = "1250000000"
_HANDLER = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*\.[A-Za-z][A-Za-z0-9_]*$")
_ENV_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_BUSY = "The function cannot do this in status {status}; retry when it is Active."


def stamp(when: datetime) -> str:
    """SCF's time format: local China time, `YYYY-MM-DD hh:mm:ss`."""
    return when.astimezone(SES_TIMEZONE).strftime("%Y-%m-%d %H:%M:%S")


@dataclass
class Trigger:
    type: str
    name: str
    qualifier: str
    desc: str  # as ListTriggers returns it (timer: {"cron": ...}; http: with the URLs)
    enable: bool
    custom_argument: str | None
    description: str
    added: datetime
    modified: datetime
    resource_id: str

    def as_info(self) -> dict[str, Any]:
        """TriggerInfo (ListTriggers) and Trigger (GetFunction, CreateTrigger) share these."""
        return {
            "Type": self.type,
            "TriggerName": self.name,
            "Qualifier": self.qualifier,
            "TriggerDesc": self.desc,
            "Enable": 1 if self.enable else 0,  # sent as OPEN/CLOSE, read back as 1/0
            "CustomArgument": self.custom_argument,
            "Description": self.description,
            "AddTime": stamp(self.added),
            "ModTime": stamp(self.modified),
            "AvailableStatus": "Available",
            "BindStatus": "on",
            "TriggerAttribute": "",
            "ResourceId": self.resource_id,
        }


@dataclass
class Function:
    namespace: str
    region: str
    name: str
    function_id: str
    runtime: str
    handler: str
    memory_size: int
    timeout: int
    role: str
    description: str
    environment: dict[str, str]
    code: bytes
    added: datetime
    modified: datetime
    vpc: tuple[str, str] = ("", "")  # (VpcId, SubnetId); empty: no VPC
    cls: tuple[str, str] = ("", "")  # (ClsLogsetId, ClsTopicId)
    status: str = "Creating"
    status_reasons: list[dict[str, str]] = field(default_factory=list)
    ready_at: datetime | None = None
    async_config: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_ASYNC))
    triggers: dict[tuple[str, str], Trigger] = field(default_factory=dict)

    @property
    def code_sha256(self) -> str:
        return hashlib.sha256(self.code).hexdigest()

    def require_status(self, code: str, *allowed: str) -> None:
        if self.status not in allowed:
            raise ApiError(code, _BUSY.format(status=self.status))


class ScfState:
    def __init__(
        self, clock: BusinessClock, settle_seconds: float = 1.0, region: str = "ap-guangzhou"
    ) -> None:
        if settle_seconds < 0:
            raise ValueError("settle_seconds must not be negative")
        self.clock = clock
        self.region = region
        self.settle = timedelta(seconds=settle_seconds)
        self.functions: dict[tuple[str, str], Function] = {}
        self._serial = 0
        #: SCF's own logset and topic (SCF_logset*, SCF_logtopic*): where a function's logs go
        #: when it names none (583/39328); made-up IDs, stable per region
        self.default_cls = (
            str(uuid.uuid5(uuid.NAMESPACE_URL, f"scf-emulator:{region}:SCF_logset")),
            str(uuid.uuid5(uuid.NAMESPACE_URL, f"scf-emulator:{region}:SCF_logtopic")),
        )

    def reset(self) -> None:
        self.functions.clear()
        self._serial = 0

    def next_id(self, prefix: str) -> str:
        self._serial += 1
        return f"{prefix}-{self._serial:08d}"

    def get(self, namespace: str | None, name: str) -> Function:
        namespace = namespace or "default"
        if namespace != "default":
            raise ApiError(
                "ResourceNotFound.Namespace", f"The namespace `{namespace}` is not found."
            )
        found = self.functions.get((namespace, name))
        if found is None:
            raise ApiError(
                "ResourceNotFound.Function",
                f"The function `{name}` is not found in namespace `{namespace}`.",
            )
        return found

    def begin(self, fn: Function, status: str) -> None:
        """Start an asynchronous change; `tick` finishes it once the clock reaches ready_at."""
        now = self.clock.now()
        fn.status, fn.status_reasons = status, []
        fn.modified, fn.ready_at = now, now + self.settle

    def tick(self, now: datetime) -> None:
        for fn in self.functions.values():
            if fn.ready_at is None or now < fn.ready_at:
                continue
            failed = "CreateFailed" if fn.status == "Creating" else "UpdateFailed"
            reason = handler_problem(fn.code, fn.handler)
            fn.status = failed if reason else "Active"
            fn.status_reasons = (
                [{"ErrorCode": "InvalidHandler", "ErrorMessage": reason}] if reason else []
            )
            fn.ready_at = None


def decode_zip(encoded: str) -> bytes:
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(
            "InvalidParameterValue.ZipFileBase64BinasciiError",
            "Decoding the base64 of the zip file failed: Incorrect padding.",
        ) from None
    if len(data) > MAX_ZIP_BYTES:
        raise ApiError("InvalidParameterValue.ZipFile", "The zip file is over 50 MB; use COS.")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unzipped = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise ApiError(
            "InvalidParameterValue.ZipFile", "This is not a standard zip file; zip it again."
        ) from None
    if unzipped > MAX_UNZIPPED_BYTES:
        raise ApiError("InvalidParameterValue.ZipFile", "The code is over 500 MB unzipped.")
    return data


def handler_problem(code: bytes, handler: str) -> str | None:
    """SCF loads `file.function` from the zip root; a missing file fails the deployment."""
    module = handler.split(".", 1)[0]
    with zipfile.ZipFile(io.BytesIO(code)) as archive:
        names = set(archive.namelist())
    if f"{module}.py" in names:
        return None
    return f"{module}.py is not at the root of the code package (handler {handler})."


def check_handler(handler: str) -> str:
    if not 2 <= len(handler) <= 60 or not _HANDLER.match(handler):
        raise ApiError("InvalidParameterValue.Handler", "The handler must be `file.function`.")
    return handler


def check_settings(memory_size: int | None, timeout: int | None, runtime: str | None) -> None:
    if memory_size is not None and memory_size not in MEMORY_SIZES:
        raise ApiError(
            "InvalidParameterValue.MemorySize",
            "MemorySize must be 64, or 128 MB to 3072 MB in steps of 128 MB.",
        )
    if timeout is not None and not 1 <= timeout <= 900:
        raise ApiError("LimitExceeded.Timeout", "Timeout must be 1 to 900 seconds.")
    if runtime is not None and runtime not in RUNTIMES:
        raise ApiError(
            "InvalidParameterValue.Runtime", f"The runtime `{runtime}` is not supported."
        )


def environment_of(variables: list[dict[str, str]]) -> dict[str, str]:
    """Environment.Variables -> dict; `[{"Key": "", "Value": ""}]` clears them (as SCF does)."""
    if variables == [{"Key": "", "Value": ""}]:
        return {}
    env: dict[str, str] = {}
    for item in variables:
        key, value = item.get("Key", ""), item.get("Value", "")
        if not _ENV_KEY.match(key) or not value:
            raise ApiError(
                "InvalidParameterValue.Environment",
                "Variable keys are letters, digits and '_' (a letter first); values are not empty.",
            )
        if key.upper().startswith(RESERVED_ENV_PREFIXES):
            raise ApiError(
                "InvalidParameterValue.EnvironmentSystemProtect",
                f"The variable `{key}` is reserved by the system and cannot be set.",
            )
        env[key] = value
    if sum(len(k.encode()) + len(v.encode()) for k, v in env.items()) > MAX_ENV_BYTES:
        raise ApiError(
            "InvalidParameterValue.EnvironmentExceededLimit",
            "The environment variables are over 4 KB; keep them within 4 KB.",
        )
    return env
