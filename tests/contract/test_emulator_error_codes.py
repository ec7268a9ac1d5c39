"""The emulator answers each SES action only with codes Tencent documents for it (or common ones),
the cases without a documented code answer what docs/emulator-error-codes.md says, and that page
is the one generated from the code table."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
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
from sesrelay.emulator.protocol import ApiError
from sesrelay.emulator.rawclient import call as raw_call
from sesrelay.emulator.ses import codes
from sesrelay.emulator.ses.codes_doc import COMMAND, render

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "emulator-error-codes.md"
START = datetime(2026, 1, 5, 1, 0, 0, tzinfo=timezone.utc)  # 09:00 in UTC+8
SEND = {
    "FromEmailAddress": "noreply@example.com",
    "Subject": "Hello {{name}}",
    "Destination": ["dana@example.org"],
    "Template": {"TemplateID": 100001, "TemplateData": '{"name": "Dana"}'},
}
BATCH = {
    "FromEmailAddress": "noreply@example.com",
    "ReceiverId": 200001,
    "Subject": "Hello {{name}}",
    "TaskType": 1,
    "Template": {"TemplateID": 100001, "TemplateData": '{"name": "you"}'},
}
DETAILS = {"ReceiverId": 200001, "Offset": 0, "Limit": 10}
LATER = "2026-01-05 10:00:00"
#: Html and Text of 2 MiB + 1 byte each: over the 4 MiB a template may hold, under 8 MiB sent.
_HALF = base64.b64encode(b"x" * (2 * 1024 * 1024 + 1)).decode("ascii")
BIG_CONTENT = {"Html": _HALF, "Text": _HALF}


@pytest.fixture
def srv() -> Iterator[EmulatorServer]:
    with EmulatorServer(clock=ManualClock(START)) as server:
        yield server


@pytest.fixture
def ses(srv: EmulatorServer) -> Iterator[Any]:
    profile = ClientProfile(httpProfile=HttpProfile(endpoint=srv.endpoint, protocol="http"))
    client = ses_client.SesClient(
        credential.Credential(DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY), "ap-guangzhou", profile
    )
    yield client
    client.request.conn._session.close()  # the SDK never closes its requests.Session


def error_of(client: Any, action: str, params: dict[str, Any]) -> TencentCloudSDKException:
    req = getattr(models, f"{action}Request")()
    req.from_json_string(json.dumps(params))
    with pytest.raises(TencentCloudSDKException) as info:
        getattr(client, action)(req)
    return info.value


# -- the table and its page -------------------------------------------------------------------


def test_the_committed_page_is_the_generated_one() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), (
        f"docs/emulator-error-codes.md is stale; regenerate it with `{COMMAND}`"
    )


def test_every_emulated_action_has_a_row_and_nothing_else(srv: EmulatorServer) -> None:
    assert set(srv.ses.actions()) == set(codes.DOCUMENTED)


def test_fallbacks_answer_common_codes_for_emulated_actions() -> None:
    for fallback in codes.FALLBACKS:
        assert fallback.code in codes.COMMON, fallback
        assert fallback.action in {*codes.DOCUMENTED, codes.EVERY_ACTION}, fallback


def test_check_refuses_a_code_the_action_does_not_document() -> None:
    codes.check("BatchSendEmail", "InvalidParameterValue.SubjectLengthError")
    codes.check("SendEmail", "InvalidParameterValue")  # common
    for action, code in [
        ("SendEmail", "InvalidParameterValue.SubjectLengthError"),
        ("SendEmail", "InvalidParameterValue.RepeatEmailAddress"),
        ("SendEmail", "InvalidParameterValue.TemplateNotMatchData"),
        ("DeleteCustomBlackList", "MissingParameter.EmailsNecessary"),
    ]:
        with pytest.raises(codes.UndocumentedCodeError, match=code):
            codes.check(action, code)
    with pytest.raises(codes.UndocumentedCodeError, match="NoSuchAction has no entry"):
        codes.check("NoSuchAction", "InternalError")


def test_guard_lets_documented_codes_through_and_stops_the_others() -> None:
    def raising(code: str) -> codes.Handler:
        def handler(req: Any) -> dict[str, Any]:
            raise ApiError(code, "because")

        return handler

    with pytest.raises(ApiError) as info:
        codes.guard("SendEmail", raising("FailedOperation.IncorrectSender"))(None)
    assert info.value.code == "FailedOperation.IncorrectSender"
    with pytest.raises(codes.UndocumentedCodeError):
        codes.guard("BatchSendEmail", raising("FailedOperation.IncorrectSender"))(None)
    assert codes.guard("SendEmail", lambda req: {"ok": req})(1) == {"ok": 1}


# -- every action's error paths ---------------------------------------------------------------

ERROR_PATHS: list[tuple[str, dict[str, Any], str]] = [
    ("SendEmail", {**SEND, "FromEmailAddress": "x"}, "FailedOperation.IncorrectSender"),
    (
        "SendEmail",
        {**SEND, "Destination": ["blocked@example.org"]},
        "FailedOperation.EmailAddrInBlacklist",
    ),
    ("SendEmail", {**SEND, "Template": {"TemplateID": 100001}}, "MissingParameter"),
    ("BatchSendEmail", {**BATCH, "Subject": "x" * 101}, "InvalidParameterValue.SubjectLengthError"),
    (
        "BatchSendEmail",
        {**BATCH, "Template": {"TemplateID": 100001, "TemplateData": "{}"}},
        "InvalidParameterValue.TemplateNotMatchData",
    ),
    ("BatchSendEmail", {**BATCH, "Template": {"TemplateID": 100001}}, "MissingParameter"),
    (
        "GetSendEmailStatus",
        {"RequestDate": "5 Jan", "Offset": 0, "Limit": 1},
        "InvalidParameterValue.WrongDate",
    ),
    (
        "GetSendEmailStatus",
        {"RequestDate": "2026-01-06", "Offset": 0, "Limit": 1},
        "FailedOperation.NotSupportDate",
    ),
    ("ListSendTasks", {"Offset": 0, "Limit": 101}, "FailedOperation.InvalidLimit"),
    (
        "CreateReceiver",
        {"ReceiversName": "demo-customers"},
        "InvalidParameterValue.RepeatReceiverName",
    ),
    (
        "CreateReceiverDetail",
        {"ReceiverId": 0, "Emails": ["a@example.org"]},
        "MissingParameter.ReceiverIdNecessary",
    ),
    (
        "CreateReceiverDetail",
        {"ReceiverId": 9, "Emails": ["a@example.org"]},
        "OperationDenied.ReceiverNotExist",
    ),
    (
        "CreateReceiverDetailWithData",
        {"ReceiverId": 200001, "Datas": []},
        "MissingParameter.EmailsNecessary",
    ),
    (
        "CreateReceiverDetailWithData",
        {"ReceiverId": 9, "Datas": [{"Email": "a@example.org", "TemplateData": "{}"}]},
        "OperationDenied.ReceiverNotExist",
    ),
    ("ListReceivers", {"Offset": 0, "Limit": 101}, "FailedOperation.InvalidLimit"),
    ("ListReceiverDetails", {**DETAILS, "ReceiverId": 9}, "OperationDenied.ReceiverNotExist"),
    ("DeleteReceiver", {"ReceiverId": 0}, "MissingParameter.ReceiverIdNecessary"),
    ("ListEmailTemplates", {"Offset": 0, "Limit": 101}, "FailedOperation.InvalidLimit"),
    ("GetEmailTemplate", {"TemplateID": 5}, "InvalidParameterValue.TemplateNotExist"),
    (
        "CreateEmailTemplate",
        {"TemplateName": "x", "TemplateContent": {"Html": "not base64!"}},
        "InvalidParameterValue.TemplateContentIsWrong",
    ),
    (
        "CreateEmailTemplate",
        {"TemplateName": "x", "TemplateContent": {}},
        "InvalidParameterValue.TemplateContentIsNULL",
    ),
    (
        "CreateEmailTemplate",
        {"TemplateName": " ", "TemplateContent": {"Text": "aGk="}},
        "InvalidParameterValue.TemplateNameIllegal",
    ),
    (
        "UpdateEmailTemplate",
        {"TemplateID": 5, "TemplateName": "x", "TemplateContent": {"Text": "aGk="}},
        "InvalidParameterValue.TemplateNotExist",
    ),
    (
        "UpdateEmailTemplate",
        {"TemplateID": 100001, "TemplateName": "", "TemplateContent": {"Text": "aGk="}},
        "InvalidParameterValue.TemplateNameIsNULL",
    ),
    ("DeleteEmailTemplate", {}, "MissingParameter"),
    ("ListEmailAddress", {"Surprise": 1}, "UnknownParameter"),
    ("CreateCustomBlacklist", {"Emails": []}, "MissingParameter.EmailsNecessary"),
    (
        "CreateCustomBlacklist",
        {"Emails": ["a@example.org"], "ExpireDate": "soon"},
        "InvalidParameterValue.WrongDate",
    ),
    (
        "ListCustomBlacklist",
        {"Offset": 0, "Limit": 101, "Status": 2},
        "FailedOperation.InvalidLimit",
    ),
    ("DeleteCustomBlackList", {}, "MissingParameter"),
    (
        "UpdateCustomBlackList",
        {"Id": 1, "Email": "a@example.org", "ExpireDate": "soon"},
        "ResourceNotFound",
    ),
]


def test_every_action_has_an_error_path_here() -> None:
    assert {action for action, _, _ in ERROR_PATHS} == set(codes.DOCUMENTED)


@pytest.mark.parametrize(("action", "params", "expected"), ERROR_PATHS)
def test_error_paths_answer_codes_documented_for_the_action(
    srv: EmulatorServer, action: str, params: dict[str, Any], expected: str
) -> None:
    # Over the raw client: ListEmailAddress's unknown parameter is beyond what the SDK sends.
    reply = raw_call(srv.endpoint, action, params)
    assert reply.error_code == expected
    assert expected in codes.allowed(action)
    assert srv.outbox() == []


@pytest.mark.parametrize("action", ["SendEmail", "BatchSendEmail"])
def test_template_data_is_required(srv: EmulatorServer, ses: Any, action: str) -> None:
    base = SEND if action == "SendEmail" else BATCH
    err = error_of(ses, action, {**base, "Template": {"TemplateID": 100001}})
    assert err.code == "MissingParameter"
    assert "`Template.TemplateData`" in err.message
    assert srv.outbox() == []


# -- the cases Tencent documents no code for --------------------------------------------------

FALLBACK_REQUESTS: dict[tuple[str, str], list[dict[str, Any]]] = {
    ("SendEmail", "a Bcc address repeats a Destination address"): [
        {**SEND, "Bcc": ["DANA@example.org"]}
    ],
    ("SendEmail", "Subject empty or over 100 characters"): [
        {**SEND, "Subject": ""},
        {**SEND, "Subject": "x" * 101},
    ],
    ("SendEmail", "TemplateData lacks a variable the template or the Subject uses"): [
        {**SEND, "Template": {"TemplateID": 100001, "TemplateData": '{"nom": "Dana"}'}},
        {**SEND, "Subject": "Hi {{nickname}}"},
    ],
    ("SendEmail", "TriggerType other than 0 or 1"): [{**SEND, "TriggerType": 2}],
    ("SendEmail", 'Unsubscribe other than "0" to "12"'): [{**SEND, "Unsubscribe": "13"}],
    ("SendEmail", "SmtpHeaders not the JSON text of an object"): [{**SEND, "SmtpHeaders": "[]"}],
    ("SendEmail", "an attachment with FileURL"): [
        {**SEND, "Attachments": [{"FileName": "a.txt", "FileURL": "https://example.org/a"}]}
    ],
    ("BatchSendEmail", "FromEmailAddress not `address` or `Alias <address>`"): [
        {**BATCH, "FromEmailAddress": "Team<noreply@example.com>"}
    ],
    ("BatchSendEmail", "Simple on an account without that permission"): [
        {**BATCH, "Simple": {"Html": "aGk="}}
    ],
    ("BatchSendEmail", "TaskType other than 1, 2 or 3"): [{**BATCH, "TaskType": 4}],
    ("BatchSendEmail", "BeginTime not `YYYY-MM-DD hh:mm:ss`"): [
        {**BATCH, "TaskType": 2, "TimedParam": {"BeginTime": "2026-01-05T10:00:00"}}
    ],
    ("BatchSendEmail", "CycleParam.IntervalTime under 1 (hours)"): [
        {**BATCH, "TaskType": 3, "CycleParam": {"BeginTime": LATER, "IntervalTime": 0}}
    ],
    ("BatchSendEmail", "CycleParam.TermCycle other than 0 or 1"): [
        {
            **BATCH,
            "TaskType": 3,
            "CycleParam": {"BeginTime": LATER, "IntervalTime": 1, "TermCycle": 2},
        }
    ],
    ("BatchSendEmail", "Attachments given"): [
        {**BATCH, "Attachments": [{"FileName": "a.txt", "Content": "aGk="}]}
    ],
    ("BatchSendEmail", "ADLocation other than 0, 1 or 2"): [{**BATCH, "ADLocation": 3}],
    ("BatchSendEmail", 'Unsubscribe other than "0" to "12"'): [{**BATCH, "Unsubscribe": "99"}],
    ("CreateReceiverDetailWithData", "ReceiverId missing or 0"): [
        {"Datas": [{"Email": "a@example.org", "TemplateData": "{}"}]},
        {"ReceiverId": 0, "Datas": [{"Email": "a@example.org", "TemplateData": "{}"}]},
    ],
    ("ListReceiverDetails", "ReceiverId missing or 0"): [
        {"Offset": 0, "Limit": 10},
        {**DETAILS, "ReceiverId": 0},
    ],
    ("ListReceiverDetails", "CreateTimeBegin or CreateTimeEnd not `YYYY-MM-DD`"): [
        {**DETAILS, "CreateTimeBegin": "May 1"},
        {**DETAILS, "CreateTimeEnd": "2026-13-01"},
    ],
    ("ListCustomBlacklist", "Status other than 0, 1 or 2"): [
        {"Offset": 0, "Limit": 10, "Status": 3}
    ],
    ("DeleteCustomBlackList", "Emails missing or empty"): [{}, {"Emails": []}],
    ("UpdateCustomBlackList", "Id names no blacklist entry"): [
        {"Id": 77, "Email": "a@example.org"}
    ],
    ("UpdateEmailTemplate", "content over 4 MiB (Html and Text decoded)"): [
        {"TemplateID": 100001, "TemplateName": "welcome", "TemplateContent": BIG_CONTENT}
    ],
    ("DeleteEmailTemplate", "TemplateID names no template"): [{"TemplateID": 5}],
}


def test_every_fallback_case_is_exercised_here() -> None:
    listed = {(f.action, f.case) for f in codes.FALLBACKS if f.action != codes.EVERY_ACTION}
    assert listed == set(FALLBACK_REQUESTS)


@pytest.mark.parametrize(
    "fallback",
    [f for f in codes.FALLBACKS if f.action != codes.EVERY_ACTION],
    ids=lambda f: f"{f.action}: {f.case}",
)
def test_a_case_without_a_documented_code_answers_the_listed_one(
    srv: EmulatorServer, ses: Any, fallback: codes.Fallback
) -> None:
    for params in FALLBACK_REQUESTS[(fallback.action, fallback.case)]:
        err = error_of(ses, fallback.action, params)
        assert err.code == fallback.code, params
        assert err.message  # says which field and which rule
    assert srv.outbox() == []


@pytest.mark.parametrize(
    ("extra", "expected"), [(0, "UnknownParameter"), (1, "RequestSizeLimitExceeded")]
)
def test_the_body_size_case_answers_the_listed_code(
    srv: EmulatorServer, extra: int, expected: str
) -> None:
    (size_case,) = [f for f in codes.FALLBACKS if f.action == codes.EVERY_ACTION]
    assert size_case.code == "RequestSizeLimitExceeded"
    head, tail = b'{"Pad": "', b'"}'
    filler = codes.MAX_REQUEST_BYTES + extra - len(head) - len(tail)
    reply = raw_call(srv.endpoint, "ListEmailAddress", head + b"a" * filler + tail)
    assert reply.error_code == expected
