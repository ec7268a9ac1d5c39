"""The emulator speaks Tencent Cloud API 3.0: the official SDK is its client, auth is enforced."""

from __future__ import annotations

import http.client
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
from sesrelay.emulator.rawclient import call
from sesrelay.emulator.scf.service import VERSION as SCF_VERSION
from sesrelay.emulator.scf.service import ScfService
from sesrelay.emulator.signing import sign_headers

MakeClient = Callable[..., Any]


@pytest.fixture
def srv() -> Iterator[EmulatorServer]:
    with EmulatorServer(clock=ManualClock()) as server:
        yield server


@pytest.fixture
def make_client(srv: EmulatorServer) -> Iterator[MakeClient]:
    made: list[Any] = []

    def make(
        secret_id: str = DEFAULT_SECRET_ID,
        secret_key: str = DEFAULT_SECRET_KEY,
        token: str | None = None,
        region: str = "ap-guangzhou",
        unsigned: bool = False,
        server: EmulatorServer | None = None,
    ) -> Any:
        target = server or srv
        profile = ClientProfile(
            httpProfile=HttpProfile(endpoint=target.endpoint, protocol="http", reqTimeout=10)
        )
        profile.unsignedPayload = unsigned
        cred = credential.Credential(secret_id, secret_key, token)
        client = ses_client.SesClient(cred, region, profile)
        made.append(client)
        return client

    yield make
    for client in made:  # the SDK never closes its requests.Session; do it to free the socket
        client.request.conn._session.close()


def list_addresses(client: Any) -> list[str]:
    resp = client.ListEmailAddress(models.ListEmailAddressRequest())
    return [s.EmailAddress for s in resp.EmailSenders]


def sdk_error(fn: Callable[[], object]) -> TencentCloudSDKException:
    with pytest.raises(TencentCloudSDKException) as info:
        fn()
    return info.value


@pytest.mark.parametrize("region", ["ap-guangzhou", "ap-hongkong", "ap-singapore"])
def test_sdk_calls_succeed_in_every_ses_region(make_client: MakeClient, region: str) -> None:
    client = make_client(region=region)
    assert list_addresses(client) == ["noreply@example.com", "news@example.com"]


def test_replies_are_exact_json_with_a_request_id(srv: EmulatorServer) -> None:
    ok = call(srv.endpoint, "ListEmailAddress", {})
    bad = call(srv.endpoint, "GetEmailTemplate", {"TemplateID": 1})
    for reply in (ok, bad):
        assert reply.status == 200
        assert reply.headers["Content-Type"] == "application/json"
        assert int(reply.headers["Content-Length"]) == len(reply.body)
        assert len(reply.json()["Response"]["RequestId"]) == 36
    assert bad.json()["Response"]["Error"] == {
        "Code": "InvalidParameterValue.TemplateNotExist",
        "Message": "The template does not exist.",
    }


def test_wrong_secret_key_is_a_signature_failure(
    srv: EmulatorServer, make_client: MakeClient
) -> None:
    err = sdk_error(lambda: list_addresses(make_client(secret_key="not-the-key")))
    assert err.code == "AuthFailure.SignatureFailure"
    assert err.requestId
    assert srv.call_counts() == {"ListEmailAddress": 1}


def test_unknown_secret_id(make_client: MakeClient) -> None:
    err = sdk_error(lambda: list_addresses(make_client(secret_id="AKIDsomeoneelse")))
    assert err.code == "AuthFailure.SecretIdNotFound"


def test_session_token_is_accepted_whatever_it_holds(make_client: MakeClient) -> None:
    assert list_addresses(make_client(token="temporary-token-from-sts"))


def test_unsigned_payload_is_verified(make_client: MakeClient) -> None:
    assert list_addresses(make_client(unsigned=True))


def test_custom_credentials(make_client: MakeClient) -> None:
    with EmulatorServer(secret_id="AKIDcustom", secret_key="custom-key") as other:
        assert list_addresses(make_client("AKIDcustom", "custom-key", server=other))
        err = sdk_error(lambda: list_addresses(make_client(server=other)))
        assert err.code == "AuthFailure.SecretIdNotFound"


@pytest.mark.parametrize("skew", [-301, 400])
def test_timestamp_far_from_real_time_expires(srv: EmulatorServer, skew: int) -> None:
    reply = call(srv.endpoint, "ListEmailAddress", {}, timestamp=int(time.time()) + skew)
    assert reply.error_code == "AuthFailure.SignatureExpire"


def test_business_clock_does_not_affect_auth(srv: EmulatorServer, make_client: MakeClient) -> None:
    srv.advance(10 * 86400)
    assert list_addresses(make_client())


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({"Authorization": None}, "AuthFailure.InvalidAuthorization"),
        ({"Authorization": "Bearer token"}, "AuthFailure.InvalidAuthorization"),
        ({"X-TC-Action": None}, "MissingParameter"),
        ({"X-TC-Timestamp": None}, "MissingParameter"),
        ({"X-TC-Version": "2019-01-01"}, "NoSuchVersion"),
        ({"X-TC-Version": None}, "MissingParameter"),
        ({"X-TC-Region": "eu-frankfurt"}, "UnsupportedRegion"),
        ({"X-TC-Region": None}, "MissingParameter"),
    ],
)
def test_header_errors(srv: EmulatorServer, headers: dict[str, str | None], code: str) -> None:
    assert call(srv.endpoint, "ListEmailAddress", {}, headers=headers).error_code == code


def test_tampered_host_header_breaks_the_signature(srv: EmulatorServer) -> None:
    # signed for one host, sent to another: the canonical request no longer matches
    reply = call(srv.endpoint, "ListEmailAddress", {}, headers={"Host": "ses.tencentcloudapi.com"})
    assert reply.error_code == "AuthFailure.SignatureFailure"


def test_unknown_action_and_unknown_service(srv: EmulatorServer) -> None:
    assert call(srv.endpoint, "SendSms", {}).error_code == "InvalidAction"
    reply = call(srv.endpoint, "ListEmailAddress", {}, service="cvm")
    assert reply.error_code == "AuthFailure.InvalidAuthorization"


@pytest.mark.parametrize(
    ("action", "body", "code"),
    [
        ("ListEmailAddress", b"{not json", "InvalidParameter"),
        ("ListEmailAddress", b"[1, 2]", "InvalidParameter"),
        ("ListEmailAddress", b'{"Surprise": 1}', "UnknownParameter"),
        ("ListEmailTemplates", b'{"Offset": "0", "Limit": 10}', "InvalidParameter"),
        ("ListEmailTemplates", b'{"Offset": 0}', "MissingParameter"),
        ("ListEmailTemplates", b'{"Offset": -1, "Limit": 10}', "InvalidParameterValue"),
        (
            "SendEmail",
            b'{"FromEmailAddress": "a@example.com", "Subject": "s", "Template": '
            b'{"TemplateID": 100001, "TemplateData": "{}", "Extra": 1}}',
            "UnknownParameter",
        ),
    ],
)
def test_body_errors(srv: EmulatorServer, action: str, body: bytes, code: str) -> None:
    assert call(srv.endpoint, action, body).error_code == code


def test_get_on_the_api_path_is_refused(srv: EmulatorServer) -> None:
    with urllib.request.urlopen(srv.url + "/") as resp:
        assert resp.headers["Content-Type"] == "application/json"
        assert b"UnsupportedProtocol" in resp.read()


def test_unknown_path_is_a_json_404(srv: EmulatorServer) -> None:
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(srv.url + "/v1/nothing")
    assert info.value.code == 404
    assert info.value.headers["Content-Type"] == "application/json"
    info.value.close()


def test_rate_limit_per_action_with_a_sliding_window(make_client: MakeClient) -> None:
    with EmulatorServer(rate_limit=20) as limited:
        client = make_client(server=limited)
        for _ in range(20):
            list_addresses(client)
        started = time.monotonic()
        err = sdk_error(lambda: list_addresses(client))
        assert err.code == "RequestLimitExceeded"
        # another action has its own window
        templates = models.ListEmailTemplatesRequest()
        templates.Offset, templates.Limit = 0, 10
        assert client.ListEmailTemplates(templates).TotalCount == 3
        time.sleep(max(0.0, 1.05 - (time.monotonic() - started)))
        assert list_addresses(client)
        assert limited.call_counts() == {"ListEmailAddress": 22, "ListEmailTemplates": 1}


def test_rate_limit_can_be_disabled(make_client: MakeClient) -> None:
    with EmulatorServer(rate_limit=None) as unlimited:
        client = make_client(server=unlimited)
        for _ in range(30):
            list_addresses(client)
        assert unlimited.call_counts() == {"ListEmailAddress": 30}


def _padded(size: int, fields: bytes = b"") -> bytes:
    """A JSON body of exactly `size` bytes (an unknown parameter, so it can never succeed)."""
    head, tail = b"{" + fields + b'"Pad": "', b'"}'
    return head + b"a" * (size - len(head) - len(tail)) + tail


SES_MAX_BODY = 8 * 1024 * 1024  # SES: "a request body over 8 MB is rejected", read as MiB


@pytest.mark.parametrize(
    ("size", "expected"),
    [(SES_MAX_BODY, "UnknownParameter"), (SES_MAX_BODY + 1, "RequestSizeLimitExceeded")],
)
def test_ses_bodies_over_8_mib_are_refused(srv: EmulatorServer, size: int, expected: str) -> None:
    reply = call(srv.endpoint, "ListEmailAddress", _padded(size))
    assert reply.status == 200  # an API 3.0 error envelope, as for any other error
    assert reply.headers["Content-Type"] == "application/json"
    assert reply.error_code == expected
    if expected == "RequestSizeLimitExceeded":
        assert "8388608 bytes" in reply.json()["Response"]["Error"]["Message"]


def test_other_services_keep_the_api_10_mib_limit(srv: EmulatorServer) -> None:
    srv.add_service(ScfService(srv.clock))
    name = b'"FunctionName": "fn", '

    def scf_code(body: bytes) -> str | None:
        reply = call(srv.endpoint, "GetFunction", body, service="scf", version=SCF_VERSION)
        return reply.error_code

    assert scf_code(_padded(SES_MAX_BODY + 1, name)) == "UnknownParameter"
    assert scf_code(_padded(10 * 1024 * 1024 + 1, name)) == "RequestSizeLimitExceeded"


def test_one_connection_carries_many_calls(srv: EmulatorServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
    try:
        sockets: set[tuple[str, int]] = set()
        for action in ("ListEmailAddress", "GetEmailTemplate", "ListEmailAddress"):
            body = b"{}" if action == "ListEmailAddress" else b'{"TemplateID": 100001}'
            auth = sign_headers(
                secret_id=DEFAULT_SECRET_ID,
                secret_key=DEFAULT_SECRET_KEY,
                service="ses",
                host=srv.endpoint,
                body=body,
                timestamp=int(time.time()),
            )
            headers = {
                "Content-Type": "application/json",
                "Host": srv.endpoint,
                "X-TC-Action": action,
                "X-TC-Version": "2020-10-02",
                "X-TC-Region": "ap-guangzhou",
                "X-TC-Timestamp": str(int(time.time())),
                "Authorization": auth,
            }
            conn.request("POST", "/", body=body, headers=headers)
            resp = conn.getresponse()
            assert resp.status == 200
            assert resp.getheader("Connection") is None
            assert "Error" not in json.loads(resp.read())["Response"]
            sockets.add(conn.sock.getsockname())  # a reconnect would show a new local port
        assert len(sockets) == 1
    finally:
        conn.close()
