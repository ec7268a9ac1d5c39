"""Injected faults, seen through the official SDK the way the relay will see them."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import (
    TencentCloudSDKException,
)
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.ses.v20201002 import models, ses_client

from sesrelay.clock import ManualClock
from sesrelay.emulator import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, EmulatorServer

MakeClient = Callable[..., Any]
MAIL = {
    "FromEmailAddress": "noreply@example.com",
    "Subject": "Welcome",
    "Destination": ["dana@example.org"],
    "Template": {"TemplateID": 100001, "TemplateData": '{"name": "Dana"}'},
}


@pytest.fixture
def srv() -> Iterator[EmulatorServer]:
    with EmulatorServer(clock=ManualClock()) as server:
        yield server


@pytest.fixture
def make_client(srv: EmulatorServer) -> Iterator[MakeClient]:
    made: list[Any] = []

    def make(timeout: float = 10) -> Any:
        profile = ClientProfile(
            httpProfile=HttpProfile(endpoint=srv.endpoint, protocol="http", reqTimeout=timeout)
        )
        cred = credential.Credential(DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY)
        client = ses_client.SesClient(cred, "ap-singapore", profile)
        made.append(client)
        return client

    yield make
    for client in made:  # the SDK never closes its requests.Session; do it to free the socket
        client.request.conn._session.close()


def send(client: Any) -> str:
    req = models.SendEmailRequest()
    req.from_json_string(json.dumps(MAIL))
    return str(client.SendEmail(req).MessageId)


def sdk_error(fn: Callable[[], object]) -> TencentCloudSDKException:
    with pytest.raises(TencentCloudSDKException) as info:
        fn()
    return info.value


def wait_for_outbox(srv: EmulatorServer, count: int, within: float = 3.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + within
    while len(mail := srv.outbox()) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    return mail


def test_error_fault_answers_that_code_without_sending(
    srv: EmulatorServer, make_client: MakeClient
) -> None:
    client = make_client()
    srv.inject_fault(
        "SendEmail", "error", code="FailedOperation.FrequencyLimit", message="slow down"
    )
    err = sdk_error(lambda: send(client))
    assert (err.code, err.message) == ("FailedOperation.FrequencyLimit", "slow down")
    assert err.requestId
    assert srv.outbox() == []
    assert send(client)  # one use only
    assert len(srv.outbox()) == 1


def test_fault_count_and_other_actions(srv: EmulatorServer, make_client: MakeClient) -> None:
    client = make_client()
    srv.inject_fault("SendEmail", "error", count=2, code="InternalError")
    client.ListEmailAddress(models.ListEmailAddressRequest())  # not the faulted action
    assert srv.faults() == [
        {
            "action": "SendEmail",
            "kind": "error",
            "count": 2,
            "code": "InternalError",
            "message": "injected fault",
        }
    ]
    assert sdk_error(lambda: send(client)).code == "InternalError"
    assert sdk_error(lambda: send(client)).code == "InternalError"
    assert srv.faults() == []
    send(client)
    assert srv.call_counts() == {"ListEmailAddress": 1, "SendEmail": 3}


@pytest.mark.parametrize("status", [500, 502, 503])
def test_http_status_fault_is_a_server_network_error(
    srv: EmulatorServer, make_client: MakeClient, status: int
) -> None:
    srv.inject_fault("SendEmail", "http_status", status=status)
    err = sdk_error(lambda: send(make_client()))
    assert err.code == "ServerNetworkError"
    assert srv.outbox() == []


def test_delay_fault_times_the_client_out_but_the_mail_is_sent(
    srv: EmulatorServer, make_client: MakeClient
) -> None:
    srv.inject_fault("SendEmail", "delay", seconds=0.6)
    err = sdk_error(lambda: send(make_client(timeout=0.2)))
    assert err.code == "ClientNetworkError"
    assert "Read timed out" in err.message
    mail = wait_for_outbox(srv, 1)
    assert [m["to"] for m in mail] == ["dana@example.org"]


def test_drop_before_sends_nothing(srv: EmulatorServer, make_client: MakeClient) -> None:
    client = make_client()
    srv.inject_fault("SendEmail", "drop_before")
    assert sdk_error(lambda: send(client)).code == "ClientNetworkError"
    assert srv.outbox() == []
    send(client)  # the SDK reconnects for the next call
    assert len(srv.outbox()) == 1


def test_drop_after_sends_but_never_replies(srv: EmulatorServer, make_client: MakeClient) -> None:
    srv.inject_fault("SendEmail", "drop_after")
    assert sdk_error(lambda: send(make_client())).code == "ClientNetworkError"
    assert [m["to"] for m in srv.outbox()] == ["dana@example.org"]


def _faults_endpoint(srv: EmulatorServer, method: str, payload: object = None) -> Any:
    data = None if payload is None else json.dumps(payload).encode()
    req = urllib.request.Request(srv.url + "/_emulator/faults", data=data, method=method)
    with urllib.request.urlopen(req) as resp:
        assert resp.headers["Content-Type"] == "application/json"
        return json.loads(resp.read())


def test_faults_over_http(srv: EmulatorServer, make_client: MakeClient) -> None:
    spec = {"action": "SendEmail", "kind": "http_status", "status": 503, "count": 3}
    assert _faults_endpoint(srv, "POST", spec) == {"faults": [spec]}
    assert _faults_endpoint(srv, "GET") == {"faults": [spec]}
    assert sdk_error(lambda: send(make_client())).code == "ServerNetworkError"
    assert _faults_endpoint(srv, "GET")["faults"][0]["count"] == 2
    assert _faults_endpoint(srv, "DELETE") == {"faults": []}
    send(make_client())


@pytest.mark.parametrize(
    "spec",
    [
        {"kind": "error", "code": "X"},
        {"action": "SendEmail", "kind": "explode"},
        {"action": "SendEmail", "kind": "error"},
        {"action": "SendEmail", "kind": "http_status", "status": 200},
        {"action": "SendEmail", "kind": "delay"},
        {"action": "SendEmail", "kind": "drop_after", "count": 0},
        {"action": "SendEmail", "kind": "drop_after", "seconds": 1},
    ],
)
def test_bad_fault_specs_are_refused(srv: EmulatorServer, spec: dict[str, Any]) -> None:
    with pytest.raises(urllib.error.HTTPError) as info:
        _faults_endpoint(srv, "POST", spec)
    assert info.value.code == 400
    assert "error" in json.loads(info.value.read())
    info.value.close()
    rest = {k: v for k, v in spec.items() if k not in ("action", "kind")}
    with pytest.raises(ValueError, match=r"\w"):
        srv.inject_fault(spec.get("action", ""), spec.get("kind", ""), **rest)
