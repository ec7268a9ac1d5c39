"""Request parameters of the emulated SCF actions (API 2018-04-16), named as in the SDK's models.

Shapes and types only; SCF's rules with their own error codes live in the action handlers.
Fields the emulator accepts but ignores are listed so the SDK's documented calls are not refused.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from sesrelay.emulator.protocol import Params


class VariableParam(Params):
    Key: str
    Value: str


class EnvironmentParam(Params):
    Variables: list[VariableParam] = Field(default_factory=list)


class CodeParam(Params):
    ZipFile: str | None = None
    CosBucketName: str | None = None
    CosObjectName: str | None = None
    CosBucketRegion: str | None = None


class VpcConfigParam(Params):
    VpcId: str | None = None
    SubnetId: str | None = None


class _FunctionRef(Params):
    FunctionName: str
    Namespace: str | None = None


class GetFunction(_FunctionRef):
    Qualifier: str | None = None
    ShowCode: str | None = None


class GetFunctionAddress(_FunctionRef):
    Qualifier: str | None = None


class CreateFunction(_FunctionRef):
    Code: CodeParam
    Handler: str | None = None
    Description: str | None = None
    MemorySize: int | None = None
    Timeout: int | None = None
    Environment: EnvironmentParam | None = None
    Runtime: str | None = None
    Role: str | None = None
    Type: str | None = None
    CodeSource: str | None = None
    InitTimeout: int | None = None
    VpcConfig: VpcConfigParam | None = None
    ClsLogsetId: str | None = None
    ClsTopicId: str | None = None


class UpdateFunctionCode(_FunctionRef):
    Handler: str | None = None
    ZipFile: str | None = None
    Code: CodeParam | None = None
    CodeSource: str | None = None
    Publish: str | None = None
    CosBucketName: str | None = None
    CosObjectName: str | None = None


class UpdateFunctionConfiguration(_FunctionRef):
    Description: str | None = None
    MemorySize: int | None = None
    Timeout: int | None = None
    Runtime: str | None = None
    Environment: EnvironmentParam | None = None
    Role: str | None = None
    Publish: str | None = None
    InitTimeout: int | None = None
    VpcConfig: VpcConfigParam | None = None
    ClsLogsetId: str | None = None
    ClsTopicId: str | None = None


class RetryConfigParam(Params):
    RetryNum: int


class AsyncTriggerConfigParam(Params):
    RetryConfig: list[RetryConfigParam] = Field(default_factory=list)
    MsgTTL: int | None = None


class GetFunctionEventInvokeConfig(_FunctionRef):
    Qualifier: str | None = None


class UpdateFunctionEventInvokeConfig(_FunctionRef):
    AsyncTriggerConfig: AsyncTriggerConfigParam


class FilterParam(Params):
    Name: str
    Values: list[str]


class ListTriggers(_FunctionRef):
    Offset: Annotated[int, Field(ge=0)] = 0
    Limit: Annotated[int, Field(ge=1, le=100)] = 20
    OrderBy: str | None = None
    Order: str | None = None
    Filters: list[FilterParam] = Field(default_factory=list)


class _TriggerRef(_FunctionRef):
    TriggerName: str
    Type: str
    Qualifier: str | None = None


class CreateTrigger(_TriggerRef):
    TriggerDesc: str | None = None
    Enable: str | None = None
    CustomArgument: str | None = None
    Description: str | None = None


class UpdateTrigger(_TriggerRef):
    TriggerDesc: str | None = None
    Enable: str | None = None
    CustomArgument: str | None = None
    Description: str | None = None


class DeleteTrigger(_TriggerRef):
    TriggerDesc: str | None = None
