"""The official SES SDK as the tests' client of the emulator: one client per endpoint, and one
way to call an action and to read the code of its refusal."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.ses.v20201002 import models, ses_client

from sesrelay.emulator import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY


def ses_sdk_client(endpoint: str, region: str = "ap-guangzhou") -> Any:
    """An SDK client signed with the emulator's default credentials, over plain HTTP."""
    profile = ClientProfile(httpProfile=HttpProfile(endpoint=endpoint, protocol="http"))
    cred = credential.Credential(DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY)
    return ses_client.SesClient(cred, region, profile)


def call(client: Any, action: str, params: dict[str, Any]) -> dict[str, Any]:
    """`action` with `params` through the SDK; its response as JSON (absent fields as null)."""
    req = getattr(models, f"{action}Request")()
    req.from_json_string(json.dumps({k: v for k, v in params.items() if v is not None}))
    result: dict[str, Any] = json.loads(getattr(client, action)(req).to_json_string())
    return result


def code(client: Any, action: str, params: dict[str, Any]) -> str:
    """The error code SES (the emulator) refuses `action` with; fails if it does not."""
    with pytest.raises(TencentCloudSDKException) as info:
        call(client, action, params)
    return str(info.value.code)
