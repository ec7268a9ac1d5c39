"""The SES parameter models: every documented rule, good and bad, and how problems are reported."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import ValidationError
from tencentcloud.ses.v20201002 import models as sdk_models

from sesrelay.clock import SES_TIMEZONE
from sesrelay.errors import InvalidInput
from sesrelay.ses.fields import is_email_address, parse_begin_time, sender_address
from sesrelay.ses.models import (
    BatchSendEmailParams,
    GetSendEmailStatusParams,
    ListSendTasksParams,
    SendEmailParams,
    Template,
    validate_batch_send_email,
    validate_get_send_email_status,
    validate_list_send_tasks,
    validate_send_email,
)
from sesrelay.ses.validation import SesModel

NOW = datetime(2026, 1, 5, 9, 0, 0, tzinfo=SES_TIMEZONE)
DROP = "<drop this key>"

SEED_BATCH: dict[str, Any] = {
    "Attachments": [{"Content": "Attachment content", "FileName": "Filename"}],
    "TimedParam": {"BeginTime": "2021-09-10 11:10:11"},
    "FromEmailAddress": "abc@bbc.com",
    "ReplyToAddresses": "abc@bbc.com",
    "Simple": {"Text": "text", "Html": "html"},
    "ReceiverId": 123,
    "Template": {"TemplateData": '{"name":"123"}', "TemplateID": 1},
    "CycleParam": {"IntervalTime": 1, "BeginTime": "2021-09-10 11:10:11"},
    "Subject": "Email subject",
    "TaskType": 1,
    "ADLocation": 0,
}
SEED_CONTRADICTIONS = ("Attachments", "Simple", "TimedParam", "CycleParam")


def send_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "FromEmailAddress": "Example Team <noreply@mail.example.com>",
        "Destination": ["user@example.com"],
        "Subject": "Your verification code",
        "Template": {"TemplateID": 100091, "TemplateData": '{"code":"1234"}'},
    }
    return _changed(body, changes)


def batch_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "FromEmailAddress": "noreply@mail.example.com",
        "ReceiverId": 123,
        "Subject": "Monthly news",
        "TaskType": 1,
        "Template": {"TemplateID": 1, "TemplateData": "{}"},
    }
    return _changed(body, changes)


def _changed(body: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    for key, value in changes.items():
        if value == DROP:
            body.pop(key, None)
        else:
            body[key] = value
    return body


def refusal(call: Callable[[], object]) -> dict[str, list[str]]:
    """field path -> messages, from the InvalidInput that `call` must raise."""
    with pytest.raises(InvalidInput) as caught:
        call()
    found: dict[str, list[str]] = {}
    for error in caught.value.errors:
        found.setdefault(error.field, []).append(error.message)
    return found


def send_refusal(body: object, *, allow_simple: bool = False) -> dict[str, list[str]]:
    return refusal(lambda: validate_send_email(body, now=NOW, allow_simple=allow_simple))


def batch_refusal(body: object, *, now: datetime = NOW) -> dict[str, list[str]]:
    return refusal(lambda: validate_batch_send_email(body, now=now))


def assert_one_error(found: dict[str, list[str]], field: str, fragment: str) -> None:
    assert list(found) == [field], found
    assert any(fragment in message for message in found[field]), found


# --- the acceptance example -------------------------------------------------------------------


def test_seed_example_reports_all_four_contradictions_at_once() -> None:
    found = batch_refusal(SEED_BATCH)
    assert sorted(found) == sorted(SEED_CONTRADICTIONS)
    assert "not supported by SES for BatchSendEmail" in found["Attachments"][0]
    assert "specially approved" in found["Simple"][0]
    assert "TaskType 1 (immediate)" in found["TimedParam"][0]
    assert "TaskType 1 (immediate)" in found["CycleParam"][0]


def test_seed_example_as_json_bytes_reports_the_same() -> None:
    assert batch_refusal(json.dumps(SEED_BATCH).encode()) == batch_refusal(SEED_BATCH)


def test_seed_example_without_the_contradictions_is_accepted() -> None:
    body = {k: v for k, v in SEED_BATCH.items() if k not in SEED_CONTRADICTIONS}
    params = validate_batch_send_email(body, now=NOW)
    assert params.to_ses() == {
        "FromEmailAddress": "abc@bbc.com",
        "ReplyToAddresses": "abc@bbc.com",
        "ReceiverId": 123,
        "Template": {"TemplateData": '{"name":"123"}', "TemplateID": 1},
        "Subject": "Email subject",
        "TaskType": 1,
        "ADLocation": 0,
    }


# --- to_ses() and the official SDK ------------------------------------------------------------


def test_send_email_to_ses_has_tencent_names_and_omits_unset_fields() -> None:
    body = send_body(
        Cc=["cc@example.com"],
        Bcc=[],
        ReplyToAddresses="support@example.com",
        Attachments=[{"FileName": "a.txt", "Content": "aGVsbG8="}],
        Unsubscribe="2",
        TriggerType=1,
        SmtpMessageId="<id-1@example.com>",
        SmtpHeaders={"X-Campaign": "jan"},
        HeaderFrom="Example <noreply@mail.example.com>",
    )
    assert validate_send_email(body, now=NOW).to_ses() == {
        "FromEmailAddress": "Example Team <noreply@mail.example.com>",
        "Destination": ["user@example.com"],
        "Cc": ["cc@example.com"],
        "Subject": "Your verification code",
        "ReplyToAddresses": "support@example.com",
        "Template": {"TemplateID": 100091, "TemplateData": '{"code":"1234"}'},
        "Attachments": [{"FileName": "a.txt", "Content": "aGVsbG8="}],
        "Unsubscribe": "2",
        "TriggerType": 1,
        "SmtpMessageId": "<id-1@example.com>",
        "SmtpHeaders": '{"X-Campaign":"jan"}',
        "HeaderFrom": "Example <noreply@mail.example.com>",
    }


@pytest.mark.parametrize(
    ("params", "sdk_request"),
    [
        (
            lambda: validate_send_email(
                send_body(Cc=["c@example.com"], Attachments=[{"FileName": "a", "Content": "YQ=="}]),
                now=NOW,
            ),
            sdk_models.SendEmailRequest,
        ),
        (
            lambda: validate_batch_send_email(
                batch_body(
                    TaskType=3,
                    CycleParam={"BeginTime": "2026-02-01 08:00:00", "IntervalTime": 24},
                    Unsubscribe="1",
                    ADLocation=2,
                ),
                now=NOW,
            ),
            sdk_models.BatchSendEmailRequest,
        ),
        (
            lambda: validate_list_send_tasks({"Status": 10, "ReceiverId": 5, "TaskType": 2}),
            sdk_models.ListSendTasksRequest,
        ),
        (
            lambda: validate_get_send_email_status({"RequestDate": "2026-01-05", "MessageId": "m"}),
            sdk_models.GetSendEmailStatusRequest,
        ),
    ],
)
def test_to_ses_round_trips_through_the_official_sdk_models(
    params: Callable[[], SesModel], sdk_request: Any
) -> None:
    # The SDK warns about unknown member names; filterwarnings=error turns that into a failure.
    wanted = params().to_ses()
    request = sdk_request()
    request.from_json_string(json.dumps(wanted))
    assert request._serialize() == wanted


# --- FromEmailAddress and HeaderFrom ----------------------------------------------------------


@pytest.mark.parametrize(
    "sender",
    [
        "noreply@mail.qcloud.com",
        "Tencent Cloud Team <noreply@mail.qcloud.com>",
        "腾讯云团队 <noreply@mail.qcloud.com>",
        '"Quoted, Alias" <a@example.com>',
    ],
)
@pytest.mark.parametrize("field", ["FromEmailAddress", "HeaderFrom"])
def test_sender_accepts_bare_address_or_alias_form(field: str, sender: str) -> None:
    params = validate_send_email(send_body(**{field: sender}), now=NOW)
    assert getattr(params, field) == sender


@pytest.mark.parametrize(
    ("sender", "fragment"),
    [
        ("not-an-address", "valid email address"),
        ("Team  <a@example.com>", "exactly one space before '<'"),
        ("Team<a@example.com>", "exactly one space before '<'"),
        ("<a@example.com>", "non-empty alias"),
        (" Team <a@example.com>", "exactly one space before '<'"),
        ("Team: Sales <a@example.com>", "must not contain ':'"),
        ("Team <bad-address>", "address inside '<...>'"),
        ("Team <a@example.com", "'Alias <address>'"),
        ("Team\r\nBcc: x@example.com <a@example.com>", "control characters"),
        ("a@example.com", None),
    ],
)
@pytest.mark.parametrize("field", ["FromEmailAddress", "HeaderFrom"])
def test_sender_rules(field: str, sender: str, fragment: str | None) -> None:
    if fragment is None:
        assert getattr(validate_send_email(send_body(**{field: sender}), now=NOW), field) == sender
    else:
        assert_one_error(send_refusal(send_body(**{field: sender})), field, fragment)


def test_sender_address_strips_the_alias() -> None:
    assert sender_address("Team <a@example.com>") == "a@example.com"
    assert sender_address("a@example.com") == "a@example.com"


def test_from_email_address_is_required() -> None:
    assert_one_error(send_refusal(send_body(FromEmailAddress=DROP)), "FromEmailAddress", "required")


# --- addresses --------------------------------------------------------------------------------

GOOD_ADDRESSES = [
    "a@example.com",
    "first.last+tag@sub.example.co.uk",
    "o'brien@example.ie",
    "x_y-z@xn--fsqu00a.example",
    "1234@example.com",
]
BAD_ADDRESSES = [
    "plain",
    "a b@example.com",
    "a@example",
    "@example.com",
    "a@",
    "a@@example.com",
    "a..b@example.com",
    ".a@example.com",
    "a@-example.com",
    "a@example-.com",
    "a@example..com",
    "a@example.com.",
    "a@127.0.0.1",
    "ümlaut@example.com",
    "a@exa mple.com",
    "x" * 65 + "@example.com",
]


@pytest.mark.parametrize("address", GOOD_ADDRESSES)
def test_good_addresses(address: str) -> None:
    assert is_email_address(address)
    params = validate_send_email(
        send_body(Destination=[address], Cc=[address], ReplyToAddresses=address), now=NOW
    )
    assert params.Destination == [address]


@pytest.mark.parametrize("address", BAD_ADDRESSES)
@pytest.mark.parametrize(
    ("field", "path"),
    [("Destination", "Destination.1"), ("Cc", "Cc.1"), ("Bcc", "Bcc.1"), ("Reply", "Reply")],
)
def test_bad_addresses_are_refused_with_their_path(address: str, field: str, path: str) -> None:
    assert not is_email_address(address)
    if field == "Reply":
        body, path = send_body(ReplyToAddresses=address), "ReplyToAddresses"
    else:
        body = send_body(**{field: ["ok@example.com", address]})
        if field == "Destination":
            body["Cc"] = ["cc@example.com"]
    found = send_refusal(body)
    assert list(found) == [path]
    assert "must be a valid email address" in found[path][0]
    assert address not in found[path][0]


def test_address_longer_than_254_characters() -> None:
    address = "a@" + ".".join(["b" * 50] * 5) + ".com"
    assert len(address) > 254
    assert_one_error(send_refusal(send_body(Destination=[address])), "Destination.0", "254")


# --- recipients -------------------------------------------------------------------------------


@pytest.mark.parametrize(("field", "limit"), [("Destination", 50), ("Cc", 20), ("Bcc", 20)])
def test_recipient_list_limits(field: str, limit: int) -> None:
    addresses = [f"user{n}@example.com" for n in range(limit + 1)]
    body = send_body(**{field: addresses[:limit]})
    assert len(getattr(validate_send_email(body, now=NOW), field)) == limit
    found = send_refusal(send_body(**{field: addresses}))
    assert found == {field: [f"must be at most {limit} addresses (SES limit)"]}


@pytest.mark.parametrize("field", ["Destination", "Cc", "Bcc"])
def test_any_one_recipient_list_is_enough(field: str) -> None:
    body = send_body(**{"Destination": DROP} | {field: ["only@example.com"]})
    assert getattr(validate_send_email(body, now=NOW), field) == ["only@example.com"]


@pytest.mark.parametrize("empty", [DROP, [], None])
def test_at_least_one_recipient_is_required(empty: object) -> None:
    found = send_refusal(send_body(Destination=empty, Cc=[]))
    assert_one_error(found, "Destination", "at least one of Destination, Cc or Bcc")


def test_empty_recipient_lists_are_left_out_of_the_request() -> None:
    params = validate_send_email(send_body(Cc=[], Bcc=[]), now=NOW)
    assert "Cc" not in params.to_ses()
    assert "Bcc" not in params.to_ses()


def test_bcc_must_not_repeat_destination_case_insensitively() -> None:
    body = send_body(
        Destination=["Ada@Example.com", "bob@example.com"],
        Bcc=["carol@example.com", "ada@EXAMPLE.COM"],
    )
    found = send_refusal(body)
    assert found == {"Bcc.1": ["must not also be in Destination (SES rule)"]}


def test_bcc_may_repeat_cc() -> None:
    body = send_body(Cc=["x@example.com"], Bcc=["x@example.com"])
    assert validate_send_email(body, now=NOW).Bcc == ["x@example.com"]


# --- Subject ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("subject", "fragment"),
    [
        ("", "must not be empty"),
        ("s" * 101, "must be at most 100 characters (SES limit)"),
        ("line\r\nBcc: x@example.com", "line breaks"),
        (42, "must be a string, got an integer"),
    ],
)
@pytest.mark.parametrize("validate", ["send", "batch"])
def test_subject_rules(subject: object, fragment: str, validate: str) -> None:
    if validate == "send":
        found = send_refusal(send_body(Subject=subject))
    else:
        found = batch_refusal(batch_body(Subject=subject))
    assert_one_error(found, "Subject", fragment)


@pytest.mark.parametrize("subject", ["s", "s" * 100, "验证码 {{code}}" * 5])
def test_subject_within_limits(subject: str) -> None:
    assert validate_send_email(send_body(Subject=subject), now=NOW).Subject == subject


def test_messages_never_echo_the_rejected_value() -> None:
    secret = "TOP-SECRET-SUBJECT-" * 10
    body = send_body(
        Subject=secret,
        Destination=["leaky secret@example.com"],
        FromEmailAddress="Leaky: Alias <x@example.com>",
        Template={"TemplateID": "secret-template", "TemplateData": "{secret-data"},
        TriggerType="secret-trigger",
    )
    with pytest.raises(InvalidInput) as caught:
        validate_send_email(body, now=NOW)
    shown = json.dumps(caught.value.as_dict()) + str(caught.value)
    for value in ("TOP-SECRET", "leaky secret", "Leaky: Alias", "secret-template", "secret-data"):
        assert value not in shown
    assert len(caught.value.errors) == 6


def test_direct_model_validation_hides_the_input_too() -> None:
    with pytest.raises(ValidationError) as caught:
        SendEmailParams.model_validate(send_body(Subject="HIDDEN-" * 20))
    assert "HIDDEN-" not in str(caught.value)
    assert caught.value.errors()[0]["msg"] == "must be at most 100 characters (SES limit)"


# --- Template ---------------------------------------------------------------------------------


def test_template_is_required_without_simple() -> None:
    assert_one_error(send_refusal(send_body(Template=DROP)), "Template", "MissingEmailContent")
    assert_one_error(batch_refusal(batch_body(Template=DROP)), "Template", "MissingEmailContent")


@pytest.mark.parametrize(
    ("template_id", "fragment"),
    [
        (0, "must be at least 1"),
        (-5, "must be at least 1"),
        ("1", "must be an integer, got a string"),
        (True, "must be an integer, got a boolean"),
        (1.5, "must be an integer, got a number with a fraction"),
        (2**64, "must be at most"),
    ],
)
def test_template_id_rules(template_id: object, fragment: str) -> None:
    body = send_body(Template={"TemplateID": template_id, "TemplateData": "{}"})
    assert_one_error(send_refusal(body), "Template.TemplateID", fragment)


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ("not json", "not valid JSON"),
        ('{"a": NaN}', "not valid JSON"),
        ("[1, 2]", "not another JSON value"),
        ("[" * 100_000, "not valid JSON"),
        ('"text"', "not another JSON value"),
        ('{"a": {"b": 1}}', "flat key-value object"),
        ('{"a": [1]}', "flat key-value object"),
        ({"a": {"b": 1}}, "flat key-value object"),
        ({"a": ["x"]}, "flat key-value object"),
        ({"a": float("nan")}, "finite numbers"),
        ({1: "x"}, "string keys"),
        (5, "a JSON object, or a string holding one"),
        (None, "a JSON object, or a string holding one"),
    ],
)
def test_template_data_rules(data: object, fragment: str) -> None:
    body = send_body(Template={"TemplateID": 1, "TemplateData": data})
    assert_one_error(send_refusal(body), "Template.TemplateData", fragment)


def test_template_data_is_required() -> None:
    body = send_body(Template={"TemplateID": 1})
    assert send_refusal(body) == {"Template.TemplateData": ["is required"]}


def test_template_data_dict_is_serialised_to_compact_json() -> None:
    data = {"name": "Ada", "count": 3, "ok": True, "none": None, "city": "深圳", "price": 9.5}
    params = validate_send_email(
        send_body(Template={"TemplateID": 7, "TemplateData": data}), now=NOW
    )
    assert params.Template is not None
    text = params.Template.TemplateData
    assert text == '{"name":"Ada","count":3,"ok":true,"none":null,"city":"深圳","price":9.5}'
    assert json.loads(text) == data
    assert params.to_ses()["Template"] == {"TemplateID": 7, "TemplateData": text}


def test_template_data_object_in_json_body_is_serialised() -> None:
    raw = json.dumps(send_body(Template={"TemplateID": 7, "TemplateData": {"code": "1234"}}))
    params = validate_send_email(raw.encode(), now=NOW)
    assert params.to_ses()["Template"]["TemplateData"] == '{"code":"1234"}'


@pytest.mark.parametrize("text", ['{ "code" : "1234" }', "{}", '{"html": "<b>bold</b>"}'])
def test_template_data_text_is_kept_as_given(text: str) -> None:
    # HTML in values is only refused for per-recipient data (CreateReceiverDetailWithData).
    params = validate_send_email(
        send_body(Template={"TemplateID": 1, "TemplateData": text}), now=NOW
    )
    assert params.Template is not None
    assert params.Template.TemplateData == text


def test_template_model_alone_serialises_dicts() -> None:
    template = Template.model_validate({"TemplateID": 3, "TemplateData": {"k": "v"}})
    assert template.to_ses() == {"TemplateID": 3, "TemplateData": '{"k":"v"}'}


# --- Simple -----------------------------------------------------------------------------------

SIMPLE = {"Html": base64.b64encode(b"<p>Hi</p>").decode(), "Text": base64.b64encode(b"Hi").decode()}


@pytest.mark.parametrize("validate", ["send", "batch"])
def test_simple_is_refused_unless_allowed(validate: str) -> None:
    if validate == "send":
        found = send_refusal(send_body(Simple=SIMPLE, Template=DROP))
    else:
        found = batch_refusal(batch_body(Simple=SIMPLE, Template=DROP))
    assert list(found) == ["Simple"]
    assert "only for accounts that Tencent Cloud specially approved" in found["Simple"][0]
    assert "SESRELAY_ALLOW_SIMPLE=true" in found["Simple"][0]


def test_simple_is_accepted_when_allowed_and_then_template_is_optional() -> None:
    params = validate_send_email(
        send_body(Simple=SIMPLE, Template=DROP), now=NOW, allow_simple=True
    )
    assert params.to_ses()["Simple"] == SIMPLE
    assert "Template" not in params.to_ses()
    batch = validate_batch_send_email(
        batch_body(Simple={"Text": "SGk="}, Template=DROP), now=NOW, allow_simple=True
    )
    assert batch.to_ses()["Simple"] == {"Text": "SGk="}


@pytest.mark.parametrize(
    ("simple", "field", "fragment"),
    [
        ({}, "Simple", "must give Html or Text"),
        ({"Html": "", "Text": ""}, "Simple", "must give Html or Text"),
        ({"Html": "<p>not base64</p>"}, "Simple.Html", "valid base64"),
        ({"Text": "abc"}, "Simple.Text", "valid base64"),
        ({"Text": "aGk=\n"}, "Simple.Text", "valid base64"),
        ({"Text": "aGk-"}, "Simple.Text", "valid base64"),
        ({"Text": 5}, "Simple.Text", "must be a string"),
        ({"Text": "aGk=", "Css": "x"}, "Simple.Css", "unknown field 'Css'"),
    ],
)
def test_simple_content_rules(simple: dict[str, Any], field: str, fragment: str) -> None:
    found = send_refusal(send_body(Simple=simple), allow_simple=True)
    assert_one_error(found, field, fragment)


# --- Attachments ------------------------------------------------------------------------------


def attachment(name: str = "report.pdf", content: bytes = b"%PDF-1.4") -> dict[str, Any]:
    return {"FileName": name, "Content": base64.b64encode(content).decode()}


def test_up_to_ten_attachments() -> None:
    params = validate_send_email(send_body(Attachments=[attachment()] * 10), now=NOW)
    assert params.Attachments is not None
    assert len(params.Attachments) == 10
    found = send_refusal(send_body(Attachments=[attachment()] * 11))
    assert found == {"Attachments": ["must be at most 10 attachments (SES limit)"]}


@pytest.mark.parametrize(
    ("item", "field", "fragment"),
    [
        ({"FileName": "a.txt", "Content": "Attachment content"}, "Attachments.0.Content", "base64"),
        ({"FileName": "a.txt"}, "Attachments.0.Content", "is required"),
        ({"FileName": "", "Content": "YQ=="}, "Attachments.0.FileName", "must not be empty"),
        ({"FileName": "n" * 256, "Content": "YQ=="}, "Attachments.0.FileName", "at most 255"),
        ({"FileName": "a\r\n.txt", "Content": "YQ=="}, "Attachments.0.FileName", "line breaks"),
        ({"Content": "YQ=="}, "Attachments.0.FileName", "is required"),
        (
            {"FileName": "a.txt", "Content": "YQ==", "FileURL": "https://example.com/a.txt"},
            "Attachments.0.FileURL",
            "not open",
        ),
        ("a.txt", "Attachments.0", "must be a JSON object, got a string"),
    ],
)
def test_attachment_rules(item: object, field: str, fragment: str) -> None:
    assert_one_error(send_refusal(send_body(Attachments=[item])), field, fragment)


def test_attachment_file_name_of_255_characters() -> None:
    params = validate_send_email(send_body(Attachments=[attachment("n" * 255)]), now=NOW)
    assert params.Attachments is not None
    assert params.Attachments[0].FileName == "n" * 255


def test_attachments_total_at_most_4_mb_decoded() -> None:
    limit = 4 * 1024 * 1024
    exactly = [attachment("a", b"a" * (limit // 2)), attachment("b", b"b" * (limit // 2))]
    assert validate_send_email(send_body(Attachments=exactly), now=NOW).Attachments is not None
    over = [attachment("a", b"a" * (limit // 2)), attachment("b", b"b" * (limit // 2 + 1))]
    found = send_refusal(send_body(Attachments=over))
    assert found == {"Attachments": ["must total at most 4 MB decoded (SES limit)"]}


@pytest.mark.parametrize("attachments", [[attachment()], [], "x"])
def test_batch_send_email_refuses_attachments(attachments: object) -> None:
    found = batch_refusal(batch_body(Attachments=attachments))
    assert_one_error(found, "Attachments", "not supported by SES for BatchSendEmail")


# --- enumerations and integers ----------------------------------------------------------------


@pytest.mark.parametrize("code", [str(n) for n in range(13)])
def test_unsubscribe_accepts_codes_0_to_12(code: str) -> None:
    assert validate_send_email(send_body(Unsubscribe=code), now=NOW).Unsubscribe == code


@pytest.mark.parametrize(
    ("value", "fragment"),
    [("13", '"0" (no link) to "12"'), ("-1", '"0" (no link) to "12"'), (2, "must be a string")],
)
def test_unsubscribe_rules(value: object, fragment: str) -> None:
    assert_one_error(send_refusal(send_body(Unsubscribe=value)), "Unsubscribe", fragment)
    assert_one_error(batch_refusal(batch_body(Unsubscribe=value)), "Unsubscribe", fragment)


@pytest.mark.parametrize(
    ("field", "good", "bad", "fragment"),
    [
        ("TriggerType", [0, 1], [2, -1], "must be 0 (non-triggered) or 1 (triggered)"),
    ],
)
def test_send_email_choices(field: str, good: list[int], bad: list[int], fragment: str) -> None:
    for value in good:
        assert getattr(validate_send_email(send_body(**{field: value}), now=NOW), field) == value
    for value in bad:
        assert_one_error(send_refusal(send_body(**{field: value})), field, fragment)


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("TaskType", 0, "must be 1 (immediate), 2 (scheduled) or 3 (recurring)"),
        ("TaskType", 4, "must be 1 (immediate), 2 (scheduled) or 3 (recurring)"),
        ("TaskType", DROP, "is required"),
        ("ADLocation", 3, "must be 0 (no ad tag), 1 (before the subject) or 2 (after the subject)"),
        ("ReceiverId", 0, "must be at least 1"),
        ("ReceiverId", DROP, "is required"),
    ],
)
def test_batch_choices_and_ids(field: str, value: object, fragment: str) -> None:
    assert_one_error(batch_refusal(batch_body(**{field: value})), field, fragment)


@pytest.mark.parametrize("value", [0, 1, 2])
def test_ad_location_values(value: int) -> None:
    assert validate_batch_send_email(batch_body(ADLocation=value), now=NOW).ADLocation == value


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("TaskType", "1", "got a string"),
        ("TaskType", True, "got a boolean"),
        ("TaskType", 1.0, "got a number with a fraction"),
        ("ReceiverId", "123", "got a string"),
        ("ReceiverId", "abc", "got a string"),
        ("ReceiverId", False, "got a boolean"),
        ("ADLocation", "0", "got a string"),
    ],
)
def test_integers_are_strict(field: str, value: object, fragment: str) -> None:
    found = batch_refusal(batch_body(**{field: value}))
    assert_one_error(found, field, f"must be an integer, {fragment}")


def test_json_numbers_are_accepted_for_integers_but_not_strings_or_floats() -> None:
    ok = json.dumps(batch_body(TaskType=1, ReceiverId=123, ADLocation=2))
    assert validate_batch_send_email(ok, now=NOW).ReceiverId == 123
    found = batch_refusal(json.dumps(batch_body(TaskType="1", ReceiverId=1.0, ADLocation=True)))
    assert sorted(found) == ["ADLocation", "ReceiverId", "TaskType"]


# --- TaskType, TimedParam, CycleParam and BeginTime -------------------------------------------


def test_scheduled_task_needs_timed_param() -> None:
    found = batch_refusal(batch_body(TaskType=2))
    assert_one_error(found, "TimedParam", "TimedParamNecessary")
    params = validate_batch_send_email(
        batch_body(TaskType=2, TimedParam={"BeginTime": "2026-01-06 08:00:00"}), now=NOW
    )
    assert params.to_ses()["TimedParam"] == {"BeginTime": "2026-01-06 08:00:00"}


def test_recurring_task_needs_cycle_param() -> None:
    found = batch_refusal(batch_body(TaskType=3))
    assert_one_error(found, "CycleParam", "CycleParamNecessary")
    cycle = {"BeginTime": "2026-01-06 08:00:00", "IntervalTime": 24, "TermCycle": 0}
    params = validate_batch_send_email(batch_body(TaskType=3, CycleParam=cycle), now=NOW)
    assert params.to_ses()["CycleParam"] == cycle


@pytest.mark.parametrize(
    ("task_type", "field", "fragment"),
    [
        (1, "TimedParam", "must not be given with TaskType 1 (immediate)"),
        (3, "TimedParam", "must not be given with TaskType 3 (recurring)"),
        (1, "CycleParam", "must not be given with TaskType 1 (immediate)"),
        (2, "CycleParam", "must not be given with TaskType 2 (scheduled)"),
    ],
)
def test_timing_params_contradicting_task_type_are_refused_on_that_field(
    task_type: int, field: str, fragment: str
) -> None:
    timing = {
        "TimedParam": {"BeginTime": "2026-01-06 08:00:00"},
        "CycleParam": {"BeginTime": "2026-01-06 08:00:00", "IntervalTime": 1},
    }
    wanted = {2: "TimedParam", 3: "CycleParam"}.get(task_type)
    body = batch_body(TaskType=task_type, **{field: timing[field]})
    if wanted:
        body[wanted] = timing[wanted]
    assert_one_error(batch_refusal(body), field, fragment)


def test_a_contradicting_timing_param_is_reported_once_not_field_by_field() -> None:
    body = batch_body(TaskType=1, TimedParam={"BeginTime": "yesterday", "Extra": 1})
    assert list(batch_refusal(body)) == ["TimedParam"]


def test_timing_rules_wait_for_a_valid_task_type() -> None:
    found = batch_refusal(batch_body(TaskType="2"))
    assert list(found) == ["TaskType"]


BEGIN_NOW = "2026-01-05 09:00:00"


@pytest.mark.parametrize(
    ("begin", "accepted"),
    [
        ("2026-01-05 08:59:59", False),
        ("2021-09-10 11:10:11", False),
        (BEGIN_NOW, True),
        ("2026-01-05 09:00:01", True),
        ("2027-12-31 23:59:59", True),
    ],
)
@pytest.mark.parametrize("now", [NOW, NOW.astimezone(timezone.utc)])
@pytest.mark.parametrize("task_type", [2, 3])
def test_begin_time_is_not_before_the_injected_now(
    begin: str, accepted: bool, now: datetime, task_type: int
) -> None:
    field = "TimedParam" if task_type == 2 else "CycleParam"
    timing: dict[str, Any] = {"BeginTime": begin}
    if task_type == 3:
        timing["IntervalTime"] = 1
    body = batch_body(TaskType=task_type, **{field: timing})
    if accepted:
        assert validate_batch_send_email(body, now=now).TaskType == task_type
    else:
        found = batch_refusal(body, now=now)
        assert_one_error(found, f"{field}.BeginTime", "must not be before now")
        assert "BeginTimeBeforeNow" in found[f"{field}.BeginTime"][0]


def test_begin_time_is_read_in_utc_plus_8() -> None:
    # 08:30 read as UTC would be in the future at 01:00 UTC; read as UTC+8 it is past.
    now = datetime(2026, 1, 5, 1, 0, tzinfo=timezone.utc)
    body = batch_body(TaskType=2, TimedParam={"BeginTime": "2026-01-05 08:30:00"})
    assert list(batch_refusal(body, now=now)) == ["TimedParam.BeginTime"]
    assert parse_begin_time("2026-01-05 08:30:00") == now - timedelta(minutes=30)


@pytest.mark.parametrize(
    ("begin", "fragment"),
    [
        ("2026-01-06T09:00:00", "'YYYY-MM-DD hh:mm:ss'"),
        ("2026-1-6 09:00:00", "'YYYY-MM-DD hh:mm:ss'"),
        ("2026-01-06 09:00", "'YYYY-MM-DD hh:mm:ss'"),
        ("2026-01-06 09:00:00+08:00", "'YYYY-MM-DD hh:mm:ss'"),
        ("２０２６-01-06 09:00:00", "'YYYY-MM-DD hh:mm:ss'"),
        ("2026-02-30 09:00:00", "real date and time"),
        ("2026-01-06 24:00:00", "real date and time"),
        ("2026-01-06 23:59:60", "real date and time"),
        (1767661200, "must be a string"),
    ],
)
def test_begin_time_format(begin: object, fragment: str) -> None:
    body = batch_body(TaskType=2, TimedParam={"BeginTime": begin})
    assert_one_error(batch_refusal(body), "TimedParam.BeginTime", fragment)


@pytest.mark.parametrize(
    ("cycle", "field", "fragment"),
    [
        ({"IntervalTime": 0}, "CycleParam.IntervalTime", "must be at least 1"),
        ({"IntervalTime": "24"}, "CycleParam.IntervalTime", "must be an integer"),
        ({"IntervalTime": DROP}, "CycleParam.IntervalTime", "is required"),
        ({"TermCycle": 2}, "CycleParam.TermCycle", "must be 0 (no) or 1 (end the cycle)"),
        ({"TermCycle": True}, "CycleParam.TermCycle", "got a boolean"),
        ({"BeginTime": DROP}, "CycleParam.BeginTime", "is required"),
    ],
)
def test_cycle_param_rules(cycle: dict[str, Any], field: str, fragment: str) -> None:
    param = _changed({"BeginTime": "2026-01-06 08:00:00", "IntervalTime": 24}, cycle)
    assert_one_error(batch_refusal(batch_body(TaskType=3, CycleParam=param)), field, fragment)


def test_without_injected_now_only_the_begin_time_format_is_checked() -> None:
    body = batch_body(TaskType=2, TimedParam={"BeginTime": "2021-09-10 11:10:11"})
    assert BatchSendEmailParams.model_validate(body).TimedParam is not None


def test_now_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        validate_send_email(send_body(), now=datetime(2026, 1, 5, 9, 0))


# --- other SendEmail fields -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ('{"X-Campaign": "jan"}', '{"X-Campaign": "jan"}'),
        ({"X-Campaign": "jan", "X-Id": "7"}, '{"X-Campaign":"jan","X-Id":"7"}'),
    ],
)
def test_smtp_headers_accept_object_or_its_text(headers: object, expected: str) -> None:
    assert validate_send_email(send_body(SmtpHeaders=headers), now=NOW).SmtpHeaders == expected


@pytest.mark.parametrize(
    ("headers", "fragment"),
    [
        ("{", "not valid JSON"),
        ("[]", "not another JSON value"),
        ({"X Campaign": "a"}, "header names"),
        ({"X-Campaign:": "a"}, "header names"),
        ({"X-Campaign": "a\r\nBcc: x@example.com"}, "without line breaks"),
        ({"X-Campaign": 5}, "header values must be strings"),
    ],
)
def test_smtp_headers_rules(headers: object, fragment: str) -> None:
    assert_one_error(send_refusal(send_body(SmtpHeaders=headers)), "SmtpHeaders", fragment)


@pytest.mark.parametrize(("value", "fragment"), [("", "must not be empty"), ("<a>\n", "line")])
def test_smtp_message_id_rules(value: str, fragment: str) -> None:
    assert_one_error(send_refusal(send_body(SmtpMessageId=value)), "SmtpMessageId", fragment)


def test_null_optional_fields_are_left_out() -> None:
    body = send_body(Cc=None, Bcc=None, Simple=None, Attachments=None, TriggerType=None)
    assert validate_send_email(body, now=NOW).to_ses() == send_body()


# --- unknown fields and every-error reporting -------------------------------------------------


def test_unknown_fields_are_refused_by_name() -> None:
    found = send_refusal(send_body(subject="x", Priority=1))
    assert found["subject"] == [
        "unknown field 'subject': not a SendEmail parameter; did you mean 'Subject'? "
        "(names are case-sensitive)"
    ]
    assert found["Priority"] == ["unknown field 'Priority': not a SendEmail parameter"]


def test_unknown_nested_fields_are_refused_with_their_path() -> None:
    body = send_body(Template={"TemplateID": 1, "TemplateData": "{}", "templateId": 2})
    found = send_refusal(body)
    assert list(found) == ["Template.templateId"]
    assert "not a Template parameter; did you mean 'TemplateID'?" in found["Template.templateId"][0]
    found = batch_refusal(
        batch_body(TaskType=3, CycleParam={"BeginTime": BEGIN_NOW, "IntervalTime": 1, "Hours": 1})
    )
    assert "not a CycleEmailParam parameter" in found["CycleParam.Hours"][0]


def test_every_problem_is_reported_together() -> None:
    body = {
        "FromEmailAddress": "Team:x <a@example.com>",
        "Destination": ["ok@example.com", "broken"],
        "Bcc": ["OK@example.com"],
        "Subject": "",
        "Template": {"TemplateID": 0, "TemplateData": {"a": [1]}},
        "Attachments": [{"FileName": "a", "Content": "!!"}],
        "TriggerType": 5,
        "Unsubscribe": 1,
        "Whatever": True,
    }
    found = send_refusal(body)
    assert sorted(found) == sorted(
        [
            "FromEmailAddress",
            "Destination.1",
            "Bcc.0",
            "Subject",
            "Template.TemplateID",
            "Template.TemplateData",
            "Attachments.0.Content",
            "TriggerType",
            "Unsubscribe",
            "Whatever",
        ]
    )
    assert all(message for messages in found.values() for message in messages)


def test_cross_field_rules_run_even_when_fields_fail() -> None:
    found = send_refusal({"FromEmailAddress": 5, "Subject": "x" * 200})
    assert sorted(found) == ["Destination", "FromEmailAddress", "Subject", "Template"]
    found = batch_refusal(batch_body(Subject="", TaskType=2, Template=DROP, ReceiverId=-1))
    assert sorted(found) == ["ReceiverId", "Subject", "Template", "TimedParam"]


def test_errors_follow_the_field_order_of_the_model() -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_send_email({"Zzz": 1, "HeaderFrom": "x", "Subject": ""}, now=NOW)
    fields = [error.field for error in caught.value.errors]
    assert fields == ["FromEmailAddress", "Destination", "Subject", "Template", "HeaderFrom", "Zzz"]


# --- raw input: dicts, JSON bytes and text ----------------------------------------------------


def test_json_bytes_and_text_are_accepted() -> None:
    raw = json.dumps(send_body(), ensure_ascii=False)
    assert validate_send_email(raw, now=NOW).to_ses() == send_body()
    assert validate_send_email(raw.encode(), now=NOW).to_ses() == send_body()
    assert validate_send_email(bytearray(raw.encode()), now=NOW).to_ses() == send_body()
    assert validate_send_email(b"\xef\xbb\xbf" + raw.encode(), now=NOW).to_ses() == send_body()


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (b'{"Subject": ', "body is not valid JSON"),
        (b"", "body is not valid JSON"),
        ("{'Subject': 'x'}", "body is not valid JSON"),
        (b"[1, 2]", "body must be a JSON object, got an array"),
        (b"42", "body must be a JSON object, got an integer"),
        (b'"text"', "body must be a JSON object, got a string"),
        (b"null", "body must be a JSON object, got null"),
        (b"\xff\xfe{}", "body is not valid UTF-8"),
        (b'{"Subject": "\xe9t\xe9"}', "body is not valid UTF-8"),
        ([send_body()], "body must be a JSON object, got an array"),
        (None, "body must be a JSON object, got null"),
    ],
)
def test_unreadable_bodies(raw: object, fragment: str) -> None:
    for call in (
        lambda: validate_send_email(raw, now=NOW),
        lambda: validate_batch_send_email(raw, now=NOW),
        lambda: validate_list_send_tasks(raw),
        lambda: validate_get_send_email_status(raw),
    ):
        with pytest.raises(InvalidInput) as caught:
            call()
        assert [error.field for error in caught.value.errors] == [""]
        assert fragment in caught.value.errors[0].message
        assert fragment in caught.value.message


# --- ListSendTasks ----------------------------------------------------------------------------


def test_list_send_tasks_defaults() -> None:
    assert validate_list_send_tasks({}).to_ses() == {"Offset": 0, "Limit": 20}


def test_list_send_tasks_accepts_query_string_digits() -> None:
    params = validate_list_send_tasks(
        {"Offset": "40", "Limit": "100", "Status": "10", "ReceiverId": "7", "TaskType": "3"}
    )
    assert params.to_ses() == {
        "Offset": 40,
        "Limit": 100,
        "Status": 10,
        "ReceiverId": 7,
        "TaskType": 3,
    }


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("Offset", -1, "must be at least 0"),
        ("Offset", "-1", "must be an integer, got a string"),
        ("Offset", "abc", "must be an integer, got a string"),
        ("Offset", " 1", "must be an integer, got a string"),
        ("Offset", True, "must be an integer, got a boolean"),
        ("Limit", 0, "must be at least 1"),
        ("Limit", 101, "must be at most 100"),
        ("Limit", "101", "must be at most 100"),
        ("Status", 2, "must be 1 (pending), 5 (sending), 6 (paused for today), 7 (error) or 10"),
        ("ReceiverId", 0, "must be at least 1"),
        ("TaskType", 4, "must be 1 (immediate), 2 (scheduled) or 3 (recurring)"),
        ("task_type", 1, "unknown field 'task_type': not a ListSendTasks parameter"),
    ],
)
def test_list_send_tasks_rules(field: str, value: object, fragment: str) -> None:
    assert_one_error(refusal(lambda: validate_list_send_tasks({field: value})), field, fragment)


# --- GetSendEmailStatus -----------------------------------------------------------------------


def test_get_send_email_status_accepts_a_day() -> None:
    params = validate_get_send_email_status(
        {"RequestDate": "2024-02-29", "Limit": "50", "ToEmailAddress": "a@example.com"}
    )
    assert params.to_ses() == {
        "RequestDate": "2024-02-29",
        "Offset": 0,
        "Limit": 50,
        "ToEmailAddress": "a@example.com",
    }


@pytest.mark.parametrize(
    ("changes", "field", "fragment"),
    [
        ({"RequestDate": DROP}, "RequestDate", "is required"),
        ({"RequestDate": "2026/01/05"}, "RequestDate", "formatted 'YYYY-MM-DD'"),
        ({"RequestDate": "2026-01-05 10:00:00"}, "RequestDate", "formatted 'YYYY-MM-DD'"),
        ({"RequestDate": "2025-02-29"}, "RequestDate", "real date"),
        ({"RequestDate": 20260105}, "RequestDate", "must be a string"),
        ({"Limit": 101}, "Limit", "must be at most 100"),
        ({"Offset": -3}, "Offset", "must be at least 0"),
        ({"MessageId": ""}, "MessageId", "must not be empty"),
        ({"ToEmailAddress": "nobody"}, "ToEmailAddress", "valid email address"),
    ],
)
def test_get_send_email_status_rules(changes: dict[str, Any], field: str, fragment: str) -> None:
    body = _changed({"RequestDate": "2026-01-05"}, changes)
    assert_one_error(refusal(lambda: validate_get_send_email_status(body)), field, fragment)


# --- JSON Schema ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "model", [SendEmailParams, BatchSendEmailParams, ListSendTasksParams, GetSendEmailStatusParams]
)
def test_json_schema_describes_every_field(model: type[SesModel]) -> None:
    schema = model.model_json_schema()
    json.dumps(schema)  # plain JSON, ready for OpenAPI 3.1
    assert schema["additionalProperties"] is False
    for name, prop in schema["properties"].items():
        assert prop["title"] == name
        assert prop.get("description"), name
    for definition in schema.get("$defs", {}).values():
        assert definition["additionalProperties"] is False
        for name, prop in definition["properties"].items():
            assert prop.get("description"), name


def test_json_schema_of_template_data_is_text_or_flat_object() -> None:
    schema = SendEmailParams.model_json_schema()
    data = schema["$defs"]["Template"]["properties"]["TemplateData"]
    kinds = [branch["type"] for branch in data["anyOf"]]
    assert kinds == ["string", "object"]
    assert schema["properties"]["Destination"]["anyOf"][0]["maxItems"] == 50
    assert schema["properties"]["Subject"]["maxLength"] == 100


def test_json_schema_examples_are_valid() -> None:
    send_example = SendEmailParams.model_json_schema()["examples"][0]
    assert validate_send_email(send_example, now=NOW).to_ses() == send_example
    batch_example = BatchSendEmailParams.model_json_schema()["examples"][0]
    assert validate_batch_send_email(batch_example, now=NOW).to_ses() == batch_example


# --- rules found by the property tests ---------------------------------------------------------


def test_an_empty_attachment_is_refused() -> None:
    found = send_refusal(send_body(Attachments=[{"FileName": "a.txt", "Content": ""}]))
    assert list(found) == ["Attachments.0.Content"], found


@pytest.mark.parametrize("name", [" ", "\t", "   "])
def test_a_blank_attachment_name_is_refused(name: str) -> None:
    content = base64.b64encode(b"x").decode()
    found = send_refusal(send_body(Attachments=[{"FileName": name, "Content": content}]))
    assert list(found) == ["Attachments.0.FileName"], found


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85"])
def test_unicode_line_separators_are_refused_in_the_subject(separator: str) -> None:
    assert_one_error(send_refusal(send_body(Subject=f"a{separator}b")), "Subject", "line breaks")


def test_a_recurrence_interval_over_ten_years_is_refused() -> None:
    begin = (NOW + timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S")
    ok = {"BeginTime": begin, "IntervalTime": 87600}
    validate_batch_send_email(batch_body(TaskType=3, CycleParam=ok), now=NOW)
    found = batch_refusal(batch_body(TaskType=3, CycleParam={**ok, "IntervalTime": 87601}))
    assert list(found) == ["CycleParam.IntervalTime"], found
