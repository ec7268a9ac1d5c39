"""The SCF emulator speaks SCF's API 2018-04-16 to the official SDK: states that settle on the
business clock, SCF's error codes, and triggers read back the way SCF returns them."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import urllib.request
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.scf.v20180416 import models, scf_client

from sesrelay.clock import ManualClock
from sesrelay.emulator import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, EmulatorServer
from sesrelay.emulator.rawclient import RawReply, call
from sesrelay.emulator.scf.service import VERSION, ScfService

SETTLE = 3.0
URL_DESC = {"AuthType": "NONE", "NetConfig": {"EnableIntranet": False, "EnableExtranet": True}}
Call = Callable[..., dict[str, Any]]


def make_zip(files: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in (
            files or {"handler.py": "def main_handler(e, c):\n    return 1\n"}
        ).items():
            archive.writestr(name, text)
    return buffer.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def srv(clock: ManualClock) -> Iterator[EmulatorServer]:
    with EmulatorServer(clock=clock, rate_limit=None) as server:
        server.add_service(ScfService(server.clock, settle_seconds=SETTLE))
        yield server


@pytest.fixture
def scf(srv: EmulatorServer) -> Call:
    """`scf("Action", **params)` through the official SDK; returns the response as a dict."""
    profile = ClientProfile(httpProfile=HttpProfile(endpoint=srv.endpoint, protocol="http"))
    cred = credential.Credential(DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY)
    client = scf_client.ScfClient(cred, "ap-guangzhou", profile)

    def run(action: str, **params: Any) -> dict[str, Any]:
        request = getattr(models, f"{action}Request")()
        request.from_json_string(json.dumps(params))
        response = getattr(client, action)(request)
        result: dict[str, Any] = json.loads(response.to_json_string())
        return result

    return run


def error_code(scf: Call, action: str, **params: Any) -> str:
    with pytest.raises(TencentCloudSDKException) as caught:
        scf(action, **params)
    return str(caught.value.get_code())


def create(scf: Call, name: str = "fn", code: bytes | None = None, **extra: Any) -> None:
    params = {
        "FunctionName": name,
        "Handler": "handler.main_handler",
        "Runtime": "Python3.10",
        "Code": {"ZipFile": b64(code or make_zip())},
        **extra,
    }
    scf("CreateFunction", **params)


def status(scf: Call, name: str = "fn") -> str:
    return str(scf("GetFunction", FunctionName=name)["Status"])


def active(scf: Call, clock: ManualClock, name: str = "fn", **extra: Any) -> None:
    create(scf, name, **extra)
    clock.advance(SETTLE)
    assert status(scf, name) == "Active"


# -- functions and their states -------------------------------------------------------------------


def test_create_is_asynchronous_and_settles_on_the_business_clock(
    scf: Call, clock: ManualClock
) -> None:
    env = {"Variables": [{"Key": "GREETING", "Value": "hi"}]}
    create(scf, MemorySize=256, Timeout=30, Role="SCF_Role", Environment=env, Description="d")
    assert status(scf) == "Creating"
    clock.advance(SETTLE - 0.5)
    assert status(scf) == "Creating"
    clock.advance(0.5)
    fn = scf("GetFunction", FunctionName="fn")
    assert fn["Status"] == "Active"
    assert (fn["Runtime"], fn["Handler"], fn["MemorySize"], fn["Timeout"], fn["Role"]) == (
        "Python3.10",
        "handler.main_handler",
        256,
        30,
        "SCF_Role",
    )
    assert fn["Environment"]["Variables"] == [{"Key": "GREETING", "Value": "hi"}]
    assert fn["Type"] == "Event"
    assert fn["Namespace"] == "default"


def test_changes_while_creating_or_updating_fail_as_scf_does(scf: Call, clock: ManualClock) -> None:
    create(scf)
    code = {"ZipFile": b64(make_zip())}
    assert error_code(scf, "UpdateFunctionCode", FunctionName="fn", Code=code) == (
        "FailedOperation.UpdateFunctionCode"
    )
    clock.advance(SETTLE)
    scf("UpdateFunctionCode", FunctionName="fn", Code=code)
    assert status(scf) == "Updating"
    assert error_code(scf, "UpdateFunctionCode", FunctionName="fn", Code=code) == (
        "FailedOperation.UpdateFunctionCode"
    )
    assert error_code(scf, "UpdateFunctionConfiguration", FunctionName="fn", Timeout=9) == (
        "FailedOperation.FunctionStatusError"
    )
    assert error_code(
        scf, "CreateTrigger", FunctionName="fn", TriggerName="t", Type="timer",
        TriggerDesc="0 * * * * * *",
    ) == "FailedOperation.CreateTrigger"  # fmt: skip
    clock.advance(SETTLE)
    scf("UpdateFunctionConfiguration", FunctionName="fn", Timeout=9, MemorySize=512)
    clock.advance(SETTLE)
    fn = scf("GetFunction", FunctionName="fn")
    assert (fn["Status"], fn["Timeout"], fn["MemorySize"]) == ("Active", 9, 512)


def test_a_package_without_the_handler_file_fails_to_deploy(scf: Call, clock: ManualClock) -> None:
    create(scf, code=make_zip({"index.py": "x = 1\n"}))
    clock.advance(SETTLE)
    fn = scf("GetFunction", FunctionName="fn")
    assert fn["Status"] == "CreateFailed"
    assert "handler.py is not at the root" in fn["StatusReasons"][0]["ErrorMessage"]


def test_code_digest_and_handler_update(scf: Call, clock: ManualClock) -> None:
    active(scf, clock)
    newer = make_zip({"main.py": "def go(e, c):\n    return 2\n"})
    scf("UpdateFunctionCode", FunctionName="fn", Handler="main.go", Code={"ZipFile": b64(newer)})
    clock.advance(SETTLE)
    fn = scf("GetFunction", FunctionName="fn")
    assert (fn["Status"], fn["Handler"], fn["CodeSize"]) == ("Active", "main.go", len(newer))
    address = scf("GetFunctionAddress", FunctionName="fn")
    assert address["CodeSha256"] == hashlib.sha256(newer).hexdigest()


@pytest.mark.parametrize(
    ("extra", "code"),
    [
        ({"MemorySize": 100}, "InvalidParameterValue.MemorySize"),
        ({"Timeout": 901}, "LimitExceeded.Timeout"),
        ({"Runtime": "Python3.12"}, "InvalidParameterValue.Runtime"),
        ({"Handler": "main_handler"}, "InvalidParameterValue.Handler"),
        ({"FunctionName": "1fn"}, "InvalidParameterValue.FunctionName"),
        ({"Namespace": "other"}, "ResourceNotFound.Namespace"),
        ({"Code": {"ZipFile": "not base64!"}}, "InvalidParameterValue.ZipFileBase64BinasciiError"),
        ({"Code": {"ZipFile": b64(b"plain text")}}, "InvalidParameterValue.ZipFile"),
        ({"Code": {}}, "MissingParameter.Code"),
        (
            {"Environment": {"Variables": [{"Key": "SCF_X", "Value": "1"}]}},
            "InvalidParameterValue.EnvironmentSystemProtect",
        ),
        (
            {"Environment": {"Variables": [{"Key": "BIG", "Value": "x" * 5000}]}},
            "InvalidParameterValue.EnvironmentExceededLimit",
        ),
    ],
)
def test_create_function_validation(scf: Call, extra: dict[str, Any], code: str) -> None:
    params = {
        "FunctionName": "fn",
        "Handler": "handler.main_handler",
        "Runtime": "Python3.10",
        "Code": {"ZipFile": b64(make_zip())},
        **extra,
    }
    assert error_code(scf, "CreateFunction", **params) == code


def test_missing_duplicate_and_unchangeable(scf: Call, clock: ManualClock) -> None:
    assert error_code(scf, "GetFunction", FunctionName="nope") == "ResourceNotFound.Function"
    active(scf, clock)
    code = {"ZipFile": b64(make_zip())}
    assert error_code(
        scf, "CreateFunction", FunctionName="fn", Handler="handler.main_handler",
        Runtime="Python3.10", Code=code,
    ) == "ResourceInUse.Function"  # fmt: skip
    assert error_code(
        scf, "UpdateFunctionConfiguration", FunctionName="fn", Runtime="Python3.9"
    ) == ("InvalidParameterValue.Runtime")


def test_environment_is_replaced_and_can_be_cleared(scf: Call, clock: ManualClock) -> None:
    active(scf, clock, Environment={"Variables": [{"Key": "A", "Value": "1"}]})
    env = {"Variables": [{"Key": "B", "Value": "2"}]}
    scf("UpdateFunctionConfiguration", FunctionName="fn", Environment=env)
    clock.advance(SETTLE)
    assert scf("GetFunction", FunctionName="fn")["Environment"]["Variables"] == env["Variables"]
    clear = {"Variables": [{"Key": "", "Value": ""}]}
    scf("UpdateFunctionConfiguration", FunctionName="fn", Environment=clear)
    clock.advance(SETTLE)
    assert scf("GetFunction", FunctionName="fn")["Environment"]["Variables"] == []


def test_async_retry_config(scf: Call, clock: ManualClock) -> None:
    active(scf, clock)
    config = scf("GetFunctionEventInvokeConfig", FunctionName="fn")["AsyncTriggerConfig"]
    assert (config["MsgTTL"], config["RetryConfig"][0]["RetryNum"]) == (21600, 2)
    wanted = {"RetryConfig": [{"RetryNum": 0}], "MsgTTL": 3600}
    scf("UpdateFunctionEventInvokeConfig", FunctionName="fn", AsyncTriggerConfig=wanted)
    config = scf("GetFunctionEventInvokeConfig", FunctionName="fn")["AsyncTriggerConfig"]
    assert (config["MsgTTL"], config["RetryConfig"][0]["RetryNum"]) == (3600, 0)
    bad = {"RetryConfig": [{"RetryNum": 5}], "MsgTTL": 3600}
    assert (
        error_code(
            scf, "UpdateFunctionEventInvokeConfig", FunctionName="fn", AsyncTriggerConfig=bad
        )
        == "InvalidParameterValue.AsyncTriggerConfig"
    )


# -- the network and the log topic ----------------------------------------------------------------

VPC = {"VpcId": "vpc-2ari9m7h", "SubnetId": "subnet-0vmgq4v2"}
LOGSET, TOPIC = "0f8e3ad1-5c2b-4d7e-9a61-2b7c4e9d1f30", "7d1c9b2e-4a3f-4e8d-b6c5-9e0a1f2d3c4b"


def test_a_vpc_is_stored_returned_changed_and_removed(scf: Call, clock: ManualClock) -> None:
    active(scf, clock, VpcConfig=VPC)
    assert scf("GetFunction", FunctionName="fn")["VpcConfig"] == VPC
    moved = {**VPC, "SubnetId": "subnet-7hq2kx0c"}
    scf("UpdateFunctionConfiguration", FunctionName="fn", VpcConfig=moved)
    assert status(scf) == "Updating"
    clock.advance(SETTLE)
    scf("UpdateFunctionConfiguration", FunctionName="fn", Timeout=9)  # no VpcConfig: kept
    clock.advance(SETTLE)
    assert scf("GetFunction", FunctionName="fn")["VpcConfig"] == moved
    scf("UpdateFunctionConfiguration", FunctionName="fn", VpcConfig={"VpcId": "", "SubnetId": ""})
    clock.advance(SETTLE)
    assert scf("GetFunction", FunctionName="fn")["VpcConfig"] == {"VpcId": "", "SubnetId": ""}


def test_a_function_created_without_a_vpc_has_none(scf: Call, clock: ManualClock) -> None:
    active(scf, clock)
    assert scf("GetFunction", FunctionName="fn")["VpcConfig"] == {"VpcId": "", "SubnetId": ""}


@pytest.mark.parametrize(
    "config",
    [
        {"VpcId": "vpc-2ari9m7h"},
        {"VpcId": "vpc-2ari9m7h", "SubnetId": "sub-0vmgq4v2"},
        {"VpcId": "2ari9m7h", "SubnetId": "subnet-0vmgq4v2"},
        {"VpcId": "", "SubnetId": "subnet-0vmgq4v2"},
    ],
)
def test_a_vpc_config_missing_an_id_or_malformed_is_refused(
    scf: Call, clock: ManualClock, config: dict[str, str]
) -> None:
    assert error_code(scf, "CreateFunction", FunctionName="fn", Handler="handler.main_handler",
                      Runtime="Python3.10", Code={"ZipFile": b64(make_zip())},
                      VpcConfig=config) == "InvalidParameterValue.Vpc"  # fmt: skip
    active(scf, clock)
    assert error_code(scf, "UpdateFunctionConfiguration", FunctionName="fn", VpcConfig=config) == (
        "InvalidParameterValue.Vpc"
    )
    assert scf("GetFunction", FunctionName="fn")["Status"] == "Active"  # nothing was changed


def test_logs_go_to_scfs_own_topic_unless_one_is_named(scf: Call, clock: ManualClock) -> None:
    active(scf, clock, name="plain")
    active(scf, clock, name="named", Role="SCF_Role", ClsLogsetId=LOGSET, ClsTopicId=TOPIC)
    plain = scf("GetFunction", FunctionName="plain")
    assert plain["ClsLogsetId"]  # SCF_logset...
    assert plain["ClsTopicId"]  # SCF_logtopic...
    assert (plain["ClsLogsetId"], plain["ClsTopicId"]) != (LOGSET, TOPIC)
    named = scf("GetFunction", FunctionName="named")
    assert (named["ClsLogsetId"], named["ClsTopicId"]) == (LOGSET, TOPIC)


def test_a_log_topic_change_needs_the_role_and_both_ids(scf: Call, clock: ManualClock) -> None:
    active(scf, clock, Role="SCF_Role")
    topic = "c4b3a291-8f7e-4d6c-a5b4-3c2d1e0f9a8b"
    change = {"FunctionName": "fn", "ClsLogsetId": LOGSET, "ClsTopicId": topic}
    assert error_code(scf, "UpdateFunctionConfiguration", **change) == (
        "InvalidParameterValue.ClsRole"
    )
    assert error_code(
        scf, "UpdateFunctionConfiguration", FunctionName="fn", Role="SCF_Role", ClsTopicId=topic
    ) == "InvalidParameterValue.Cls"  # fmt: skip
    assert error_code(
        scf, "UpdateFunctionConfiguration", **{**change, "ClsLogsetId": "logset-1"}, Role="R"
    ) == "InvalidParameterValue.Cls"  # fmt: skip
    scf("UpdateFunctionConfiguration", **change, Role="SCF_Role")
    clock.advance(SETTLE)
    assert scf("GetFunction", FunctionName="fn")["ClsTopicId"] == topic


# -- triggers -------------------------------------------------------------------------------------


def test_timer_reads_back_as_scf_returns_it(scf: Call, clock: ManualClock) -> None:
    active(scf, clock)
    info = scf(
        "CreateTrigger", FunctionName="fn", TriggerName="weekly", Type="timer",
        TriggerDesc="0  0 9 * * MON *", Qualifier="$DEFAULT", Enable="OPEN",
        CustomArgument='{"job":"weekly-digest"}',
    )["TriggerInfo"]  # fmt: skip
    assert json.loads(info["TriggerDesc"]) == {"cron": "0 0 9 * * MON *"}
    assert (info["Enable"], info["Qualifier"]) == (1, "$DEFAULT")
    scf(
        "UpdateTrigger", FunctionName="fn", TriggerName="weekly", Type="timer",
        Qualifier="$DEFAULT", Enable="CLOSE", TriggerDesc="0 0 10 * * MON *",
    )  # fmt: skip
    (listed,) = scf("ListTriggers", FunctionName="fn")["Triggers"]
    assert json.loads(listed["TriggerDesc"]) == {"cron": "0 0 10 * * MON *"}
    assert (listed["Enable"], listed["CustomArgument"]) == (0, '{"job":"weekly-digest"}')


def test_function_url_trigger(scf: Call, clock: ManualClock) -> None:
    active(scf, clock)
    info = scf(
        "CreateTrigger", FunctionName="fn", TriggerName="url", Type="http",
        TriggerDesc=json.dumps(URL_DESC), Qualifier="$DEFAULT",
    )["TriggerInfo"]  # fmt: skip
    net = json.loads(info["TriggerDesc"])["NetConfig"]
    assert net["ExtranetUrl"].startswith("https://1250000000-")
    assert net["ExtranetUrl"].endswith(".ap-guangzhou.tencentscf.com")
    assert net["IntranetUrl"] == ""
    again = {"FunctionName": "fn", "Type": "http", "Qualifier": "$DEFAULT"}
    desc = json.dumps(URL_DESC)
    assert error_code(scf, "CreateTrigger", TriggerName="url2", TriggerDesc=desc, **again) == (
        "ResourceInUse.Trigger"
    )
    both = {"AuthType": "CAM", "NetConfig": {"EnableIntranet": True, "EnableExtranet": True}}
    scf("UpdateTrigger", TriggerName="url", TriggerDesc=json.dumps(both), **again)
    (listed,) = scf("ListTriggers", FunctionName="fn")["Triggers"]
    stored = json.loads(listed["TriggerDesc"])
    assert stored["AuthType"] == "CAM"
    assert stored["NetConfig"]["ExtranetUrl"] == net["ExtranetUrl"]  # the URL does not move
    assert ".in.ap-guangzhou." in stored["NetConfig"]["IntranetUrl"]


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"Type": "timer", "TriggerDesc": "every minute"}, "InvalidParameterValue.TriggerDesc"),
        ({"Type": "http", "TriggerDesc": "{}"}, "InvalidParameterValue.TriggerDesc"),
        ({"Type": "cos", "TriggerDesc": "{}"}, "InvalidParameterValue.Type"),
        (
            {"Type": "timer", "TriggerDesc": "0 * * * *", "Enable": "ON"},
            "InvalidParameterValue.Enable",
        ),
        (
            {"Type": "timer", "TriggerDesc": "0 * * * *", "CustomArgument": "x" * 4097},
            "InvalidParameterValue.CustomArgument",
        ),
        (
            {"Type": "timer", "TriggerDesc": "0 * * * *", "Qualifier": "7"},
            "InvalidParameterValue.Qualifier",
        ),
    ],
)
def test_trigger_validation(
    scf: Call, clock: ManualClock, params: dict[str, Any], code: str
) -> None:
    active(scf, clock)
    assert error_code(scf, "CreateTrigger", FunctionName="fn", TriggerName="t", **params) == code


def test_update_and_delete_find_triggers_by_qualifier(scf: Call, clock: ManualClock) -> None:
    active(scf, clock)
    ref = {"FunctionName": "fn", "TriggerName": "t", "Type": "timer"}
    scf("CreateTrigger", TriggerDesc="0 * * * * * *", Qualifier="$DEFAULT", **ref)
    assert error_code(scf, "CreateTrigger", TriggerDesc="0 * * * * * *", **ref) == (
        "ResourceInUse.Trigger"
    )
    # Update/DeleteTrigger default Qualifier to $LATEST, so leaving it out misses the trigger.
    assert error_code(scf, "UpdateTrigger", Enable="CLOSE", **ref) == "ResourceNotFound.Trigger"
    assert error_code(scf, "DeleteTrigger", **ref) == "ResourceNotFound.Trigger"
    scf("DeleteTrigger", Qualifier="$DEFAULT", **ref)
    assert scf("ListTriggers", FunctionName="fn")["TotalCount"] == 0


def test_list_triggers_pages_and_limits(scf: Call, clock: ManualClock) -> None:
    active(scf, clock)
    for i in range(10):
        scf(
            "CreateTrigger", FunctionName="fn", TriggerName=f"t{i}", Type="timer",
            TriggerDesc=f"{i} * * * * * *",
        )  # fmt: skip
        clock.advance(1)
    assert error_code(
        scf, "CreateTrigger", FunctionName="fn", TriggerName="t10", Type="timer",
        TriggerDesc="0 * * * * * *",
    ) == "LimitExceeded.Trigger"  # fmt: skip
    page = scf("ListTriggers", FunctionName="fn", Offset=0, Limit=4)
    assert page["TotalCount"] == 10
    assert [t["TriggerName"] for t in page["Triggers"]] == ["t9", "t8", "t7", "t6"]
    rest = scf("ListTriggers", FunctionName="fn", Offset=8, Limit=4, Order="ASC")
    assert [t["TriggerName"] for t in rest["Triggers"]] == ["t8", "t9"]
    filtered = scf(
        "ListTriggers", FunctionName="fn", Filters=[{"Name": "TriggerName", "Values": ["t3"]}]
    )
    assert filtered["TotalCount"] == 1
    assert len(scf("GetFunction", FunctionName="fn")["Triggers"]) == 10


# -- one wire protocol, two products --------------------------------------------------------------


def raw_scf(srv: EmulatorServer, action: str, params: dict[str, Any]) -> RawReply:
    return call(srv.endpoint, action, params, service="scf", version=VERSION)


def test_services_are_chosen_by_credential_scope(srv: EmulatorServer) -> None:
    found = raw_scf(srv, "GetFunction", {"FunctionName": "fn"})
    assert found.error_code == "ResourceNotFound.Function"
    assert found.headers["Content-Type"] == "application/json"
    ses_scope = call(srv.endpoint, "GetFunction", {"FunctionName": "fn"})
    assert ses_scope.error_code == "InvalidAction"
    assert raw_scf(srv, "SendEmail", {}).error_code == "InvalidAction"
    assert srv.call_counts("scf") == {"GetFunction": 1, "SendEmail": 1}
    # Fields the SDK would drop before sending still get SCF's answer for an unknown parameter.
    unknown = raw_scf(srv, "GetFunction", {"FunctionName": "fn", "Bogus": 1})
    assert unknown.error_code == "UnknownParameter"


def test_one_region_per_emulator(srv: EmulatorServer) -> None:
    profile = ClientProfile(httpProfile=HttpProfile(endpoint=srv.endpoint, protocol="http"))
    cred = credential.Credential(DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY)
    client = scf_client.ScfClient(cred, "ap-shanghai", profile)
    request = models.GetFunctionRequest()
    request.FunctionName = "fn"
    with pytest.raises(TencentCloudSDKException) as caught:
        client.GetFunction(request)
    assert caught.value.get_code() == "UnsupportedRegion"


def test_control_endpoint_and_reset(srv: EmulatorServer, scf: Call, clock: ManualClock) -> None:
    active(scf, clock)
    with urllib.request.urlopen(f"{srv.url}/_emulator/scf/functions") as reply:
        listed = json.loads(reply.read())["functions"]
    assert [(f["FunctionName"], f["Status"]) for f in listed] == [("fn", "Active")]
    assert listed[0]["AsyncTriggerConfig"]["MsgTTL"] == 21600
    srv.reset()
    assert error_code(scf, "GetFunction", FunctionName="fn") == "ResourceNotFound.Function"
