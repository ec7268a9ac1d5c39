"""Recipient lists, templates, sender addresses, the custom blacklist and the seed, via the SDK."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from sesrelay.clock import ManualClock
from sesrelay.emulator import (
    EmulatorServer,
    SeedError,
    load_seed,
)
from tests.ses_sdk import call, code, ses_sdk_client

START = datetime(2026, 1, 5, 1, 0, 0, tzinfo=timezone.utc)  # 09:00 in UTC+8


@pytest.fixture
def srv() -> Iterator[EmulatorServer]:
    with EmulatorServer(clock=ManualClock(START), upload_seconds=2) as server:
        yield server


def _client(srv: EmulatorServer) -> Any:
    return ses_sdk_client(srv.endpoint, "ap-hongkong")


@pytest.fixture
def ses(srv: EmulatorServer) -> Iterator[Any]:
    client = _client(srv)
    yield client
    client.request.conn._session.close()  # the SDK never closes its requests.Session


def lists(client: Any, **filters: Any) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = call(
        client, "ListReceivers", {"Offset": 0, "Limit": 100, **filters}
    )["Data"]
    return data


def details(client: Any, receiver_id: int, **filters: Any) -> dict[str, Any]:
    return call(
        client,
        "ListReceiverDetails",
        {"ReceiverId": receiver_id, "Offset": 0, "Limit": 100, **filters},
    )


# -- recipient lists ------------------------------------------------------------------------------


def test_seeded_list(ses: Any) -> None:
    (demo,) = lists(ses)
    assert demo == {
        "ReceiverId": 200001,
        "ReceiversName": "demo-customers",
        "Count": 3,
        "Desc": "Three demo customers",
        "ReceiversStatus": 3,
        "CreateTime": "2025-01-04 11:00:00",
        "InvalidCount": 0,
    }
    rows = details(ses, 200001)
    assert (rows["TotalCount"], rows["ValidCount"], rows["InvalidCount"]) == (3, 3, 0)
    assert [r["Email"] for r in rows["Data"]] == [
        "ana@example.org",
        "ben@example.org",
        "chen@example.org",
    ]
    assert rows["Data"][0]["TemplateData"] == ""


def test_upload_moves_the_list_from_1_to_2_to_3(srv: EmulatorServer, ses: Any) -> None:
    receiver_id = call(ses, "CreateReceiver", {"ReceiversName": "april", "Desc": "April"})[
        "ReceiverId"
    ]
    assert receiver_id == 200002
    assert lists(ses, KeyWord="APR")[0]["ReceiversStatus"] == 1
    emails = ["a@example.org", "a@example.org", "", "broken", "x" * 250 + "@example.org"]
    counts = call(ses, "CreateReceiverDetail", {"ReceiverId": receiver_id, "Emails": emails})
    assert counts | {"RequestId": None} == {
        "TotalCount": 5,
        "ValidCount": 2,
        "TooLongCount": 1,
        "EmptyEmailCount": 1,
        "RepeatCount": 1,
        "RequestId": None,
    }
    assert lists(ses, Status=2)[0]["ReceiverId"] == receiver_id
    again = {"ReceiverId": receiver_id, "Emails": ["b@example.org"]}
    assert code(ses, "CreateReceiverDetail", again) == "OperationDenied.ReceiverIsOperating"
    srv.advance(1)
    assert lists(ses, KeyWord="april")[0]["ReceiversStatus"] == 2
    srv.advance(1)
    (april,) = lists(ses, KeyWord="april", Status=3)
    assert (april["Count"], april["InvalidCount"]) == (3, 1)
    rows = details(ses, receiver_id, Status=2)
    assert [(r["Email"], r["Status"]) for r in rows["Data"]] == [("broken", 2)]
    assert rows["Data"][0]["Reason"]
    assert details(ses, receiver_id, Email="A@EX")["TotalCount"] == 2
    assert details(ses, receiver_id, CreateTimeBegin="2026-01-05")["TotalCount"] == 3
    assert details(ses, receiver_id, CreateTimeEnd="2026-01-04")["TotalCount"] == 0
    call(ses, "CreateReceiverDetail", again)  # appending is allowed once complete
    assert lists(ses, KeyWord="april")[0]["Count"] == 4


def test_upload_with_data(srv: EmulatorServer, ses: Any) -> None:
    receiver_id = call(ses, "CreateReceiver", {"ReceiversName": "with-data"})["ReceiverId"]
    datas = [
        {"Email": "a@example.org", "TemplateData": '{"name": "A"}'},
        {"Email": "a@example.org", "TemplateData": '{"name": "A2"}'},
    ]
    counts = call(ses, "CreateReceiverDetailWithData", {"ReceiverId": receiver_id, "Datas": datas})
    assert (counts["TotalCount"], counts["ValidCount"], counts["RepeatCount"]) == (2, 2, 1)
    srv.advance(2)
    rows = details(ses, receiver_id)["Data"]
    assert [r["TemplateData"] for r in rows] == ['{"name": "A"}', '{"name": "A2"}']
    plain = {"ReceiverId": receiver_id, "Emails": ["b@example.org"]}
    assert (
        code(ses, "CreateReceiverDetail", plain) == "InvalidParameterValue.TemplateDataInconsistent"
    )
    other_keys = {
        "ReceiverId": receiver_id,
        "Datas": [{"Email": "c@example.org", "TemplateData": '{"n": 1}'}],
    }
    assert code(ses, "CreateReceiverDetailWithData", other_keys) == (
        "InvalidParameterValue.TemplateDataInconsistent"
    )


def _data_rows(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"Email": e, "TemplateData": d} for e, d in pairs]


@pytest.mark.parametrize(
    ("datas", "expected"),
    [
        ([], "MissingParameter.EmailsNecessary"),
        (_data_rows(("nobody", "{}")), "InvalidParameterValue.ReceiverEmailInvalid"),
        (
            _data_rows(("a@example.org", json.dumps({"v": "x" * 800}))),
            "InvalidParameterValue.TemplateDataLenLimit",
        ),
        (
            _data_rows(("a@example.org", '{"v": "<b>hi</b>"}')),
            "InvalidParameterValue.InValidTemplateData",
        ),
        (_data_rows(("a@example.org", "v=1")), "InvalidParameterValue.TemplateDataError"),
        (
            _data_rows(("a@example.org", '{"v": 1}'), ("b@example.org", '{"w": 1}')),
            "InvalidParameterValue.TemplateDataInconsistent",
        ),
    ],
)
def test_upload_with_data_errors(ses: Any, datas: list[dict[str, str]], expected: str) -> None:
    receiver_id = call(ses, "CreateReceiver", {"ReceiversName": "bad-data"})["ReceiverId"]
    params = {"ReceiverId": receiver_id, "Datas": datas}
    assert code(ses, "CreateReceiverDetailWithData", params) == expected
    assert lists(ses, KeyWord="bad-data")[0]["ReceiversStatus"] == 1  # nothing was stored


@pytest.mark.parametrize(
    ("action", "params", "expected"),
    [
        ("CreateReceiver", {"ReceiversName": ""}, "InvalidParameterValue.ReceiverNameIllegal"),
        ("CreateReceiver", {"ReceiversName": "<b>"}, "InvalidParameterValue.ReceiverNameIllegal"),
        (
            "CreateReceiver",
            {"ReceiversName": "demo-customers"},
            "InvalidParameterValue.RepeatReceiverName",
        ),
        (
            "CreateReceiver",
            {"ReceiversName": "x", "Desc": "d" * 301},
            "InvalidParameterValue.ReceiverDescIllegal",
        ),
        (
            "CreateReceiverDetail",
            {"Emails": ["a@example.org"]},
            "MissingParameter.ReceiverIdNecessary",
        ),
        ("CreateReceiverDetail", {"ReceiverId": 200001}, "MissingParameter.EmailsNecessary"),
        (
            "CreateReceiverDetail",
            {"ReceiverId": 200001, "Emails": []},
            "MissingParameter.EmailsNecessary",
        ),
        (
            "CreateReceiverDetail",
            {"ReceiverId": 9, "Emails": ["a@example.org"]},
            "OperationDenied.ReceiverNotExist",
        ),
        # ReceiverIdNecessary is documented for CreateReceiverDetail and DeleteReceiver only
        ("CreateReceiverDetailWithData", {"Datas": []}, "MissingParameter"),
        (
            "CreateReceiverDetailWithData",
            {"ReceiverId": 0, "Datas": [{"Email": "a@example.org", "TemplateData": "{}"}]},
            "MissingParameter",
        ),
        ("ListReceiverDetails", {"Offset": 0, "Limit": 1}, "MissingParameter"),
        ("ListReceivers", {"Offset": 0, "Limit": 101}, "FailedOperation.InvalidLimit"),
        (
            "ListReceiverDetails",
            {"ReceiverId": 9, "Offset": 0, "Limit": 1},
            "OperationDenied.ReceiverNotExist",
        ),
        (
            "ListReceiverDetails",
            {"ReceiverId": 200001, "Offset": 0, "Limit": 101},
            "FailedOperation.InvalidLimit",
        ),
        (
            "ListReceiverDetails",
            {"ReceiverId": 200001, "Offset": 0, "Limit": 1, "CreateTimeBegin": "May 1"},
            "InvalidParameterValue",
        ),
        (
            "ListReceiverDetails",
            {"ReceiverId": 200001, "Offset": 0, "Limit": 1, "CreateTimeEnd": "2026-13-01"},
            "InvalidParameterValue",
        ),
        ("DeleteReceiver", {}, "MissingParameter.ReceiverIdNecessary"),
        ("DeleteReceiver", {"ReceiverId": 9}, "OperationDenied.ReceiverNotExist"),
    ],
)
def test_receiver_errors(ses: Any, action: str, params: dict[str, Any], expected: str) -> None:
    assert code(ses, action, params) == expected


def test_per_call_and_per_list_row_limits(srv: EmulatorServer, ses: Any) -> None:
    receiver_id = call(ses, "CreateReceiver", {"ReceiversName": "big"})["ReceiverId"]
    emails = [f"u{i}@example.org" for i in range(20_001)]
    too_many = {"ReceiverId": receiver_id, "Emails": emails}
    assert code(ses, "CreateReceiverDetail", too_many) == "LimitExceeded.ReceiverDetailRequestLimit"
    for chunk in (emails[:20_000], emails[:20_000]):
        call(ses, "CreateReceiverDetail", {"ReceiverId": receiver_id, "Emails": chunk})
        srv.advance(2)
    over = {"ReceiverId": receiver_id, "Emails": emails[:10_001]}
    assert code(ses, "CreateReceiverDetail", over) == "LimitExceeded.ReceiverDetailCountLimit"
    assert lists(ses, KeyWord="big")[0]["Count"] == 40_000


def test_delete_receiver(ses: Any) -> None:
    call(ses, "DeleteReceiver", {"ReceiverId": 200001})
    assert lists(ses) == []


def test_receiver_count_limit_comes_from_the_seed(tmp_path: Path) -> None:
    seed = load_seed().model_dump(mode="json") | {"max_receivers": 2}
    (tmp_path / "seed.json").write_text(json.dumps(seed))
    with EmulatorServer(seed_path=tmp_path / "seed.json") as srv:
        client = _client(srv)
        call(client, "CreateReceiver", {"ReceiversName": "second"})
        assert code(client, "CreateReceiver", {"ReceiversName": "third"}) == (
            "LimitExceeded.ExceedReceiverLimit"
        )
        client.request.conn._session.close()


# -- templates and senders ------------------------------------------------------------------------


def test_templates(ses: Any) -> None:
    listed = call(ses, "ListEmailTemplates", {"Offset": 0, "Limit": 10})
    assert listed["TotalCount"] == 3
    assert [
        (t["TemplateID"], t["TemplateName"], t["TemplateStatus"])
        for t in listed["TemplatesMetadata"]
    ] == [
        (100001, "welcome", 0),
        (100002, "weekly-digest", 0),
        (100003, "pending-review", 1),
    ]
    page = call(ses, "ListEmailTemplates", {"Offset": 2, "Limit": 5})["TemplatesMetadata"]
    assert [t["TemplateID"] for t in page] == [100003]
    got = call(ses, "GetEmailTemplate", {"TemplateID": 100001})
    assert (got["TemplateName"], got["TemplateStatus"]) == ("welcome", 0)
    html = base64.b64decode(got["TemplateContent"]["Html"]).decode()
    assert html == "<p>Hello {{name}}, welcome aboard.</p>"
    assert (
        code(ses, "GetEmailTemplate", {"TemplateID": 5}) == "InvalidParameterValue.TemplateNotExist"
    )
    assert (
        code(ses, "ListEmailTemplates", {"Offset": 0, "Limit": 101})
        == "FailedOperation.InvalidLimit"
    )


def test_sender_addresses(ses: Any) -> None:
    senders = call(ses, "ListEmailAddress", {})["EmailSenders"]
    assert [(s["EmailAddress"], s["EmailSenderName"], s["SmtpPwdType"]) for s in senders] == [
        ("noreply@example.com", "Example", 0),
        ("news@example.com", "Example News", 0),
    ]


# -- custom blacklist -----------------------------------------------------------------------------


def blacklist(client: Any, status: int = 2, **filters: Any) -> list[dict[str, Any]]:
    params = {"Offset": 0, "Limit": 100, "Status": status, **filters}
    data: list[dict[str, Any]] = call(client, "ListCustomBlacklist", params)["Data"]
    return data


def test_custom_blacklist_lifecycle(srv: EmulatorServer, ses: Any) -> None:
    emails = ["a@example.org", "A@example.org", "nope", "b@example.org", "x" * 260 + "@e.org"]
    counts = call(ses, "CreateCustomBlacklist", {"Emails": emails, "ExpireDate": "2026-01-06"})
    assert counts | {"RequestId": None} == {
        "TotalCount": 5,
        "ValidCount": 2,
        "TooLongCount": 1,
        "RepeatCount": 1,
        "InvalidCount": 1,
        "RequestId": None,
    }
    entries = blacklist(ses, status=1)
    assert [(e["Email"], e["ExpireDate"], e["Status"]) for e in entries] == [
        ("b@example.org", "2026-01-06", 1),
        ("a@example.org", "2026-01-06", 1),
    ]
    assert entries[0]["CreateTime"] == "2026-01-05 09:00:00"
    assert [e["Email"] for e in blacklist(ses, Email="b@")] == ["b@example.org"]
    a_id = entries[1]["Id"]
    call(ses, "UpdateCustomBlackList", {"Id": a_id, "Email": "c@example.org", "ExpireDate": ""})
    srv.advance(2 * 86400)  # 2026-01-07: the dated entry has expired, the permanent one has not
    assert [e["Email"] for e in blacklist(ses, status=0)] == ["b@example.org"]
    assert [(e["Email"], e["ExpireDate"]) for e in blacklist(ses, status=1)] == [
        ("c@example.org", "")
    ]
    call(ses, "DeleteCustomBlackList", {"Emails": ["C@example.org"]})
    assert [e["Email"] for e in blacklist(ses)] == ["b@example.org"]


@pytest.mark.parametrize(
    ("action", "params", "expected"),
    [
        ("CreateCustomBlacklist", {"Emails": []}, "MissingParameter.EmailsNecessary"),
        (
            "CreateCustomBlacklist",
            {"Emails": ["a@example.org"], "ExpireDate": "tomorrow"},
            "InvalidParameterValue.WrongDate",
        ),
        ("DeleteCustomBlackList", {"Emails": []}, "MissingParameter"),  # not EmailsNecessary
        ("ListCustomBlacklist", {"Offset": 0, "Limit": 10, "Status": 3}, "InvalidParameterValue"),
        (
            "ListCustomBlacklist",
            {"Offset": 0, "Limit": 101, "Status": 2},
            "FailedOperation.InvalidLimit",
        ),
        ("UpdateCustomBlackList", {"Id": 77, "Email": "a@example.org"}, "ResourceNotFound"),
    ],
)
def test_custom_blacklist_errors(
    ses: Any, action: str, params: dict[str, Any], expected: str
) -> None:
    assert code(ses, action, params) == expected


def test_update_custom_blacklist_checks_the_address(ses: Any) -> None:
    call(ses, "CreateCustomBlacklist", {"Emails": ["a@example.org"]})
    (entry,) = blacklist(ses)
    params = {"Id": entry["Id"], "Email": "not an address"}
    assert code(ses, "UpdateCustomBlackList", params) == "InvalidParameterValue.IllegalEmailAddress"


# -- the seed -------------------------------------------------------------------------------------


def test_a_custom_seed_replaces_the_default(tmp_path: Path) -> None:
    seed = {
        "verified_domains": ["shop.test"],
        "senders": [{"address": "hi@shop.test", "created_at": "2025-06-01T00:00:00Z"}],
        "templates": [
            {"id": 7, "name": "t", "text": "Hi {{who}}", "created_at": "2025-06-01T00:00:00Z"}
        ],
        "receivers": [
            {
                "id": 70,
                "name": "vip",
                "created_at": "2025-06-01T00:00:00Z",
                "members": [{"email": "v@shop.test", "template_data": {"who": "V"}}],
            }
        ],
    }
    (tmp_path / "seed.json").write_text(json.dumps(seed))
    with EmulatorServer(seed_path=tmp_path / "seed.json") as srv:
        client = _client(srv)
        batch = {
            "FromEmailAddress": "hi@shop.test",
            "ReceiverId": 70,
            "Subject": "Hello",
            "TaskType": 1,
            "Template": {"TemplateID": 7, "TemplateData": "{}"},
        }
        call(client, "BatchSendEmail", batch)
        client.request.conn._session.close()
        assert [(m["to"], m["text"], m["html"]) for m in srv.outbox()] == [
            ("v@shop.test", "Hi V", "")
        ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "is not JSON"),
        (
            '{"templates": [{"id": 1, "name": "x", "created_at": "2025-01-01T00:00:00Z"}]}',
            "html or text",
        ),
        ('{"senders": [{"address": "bad", "created_at": "2025-01-01T00:00:00Z"}]}', "senders.0"),
        ('{"allow_everything": true}', "allow_everything"),
    ],
)
def test_bad_seed_fails_clearly(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "seed.json"
    path.write_text(content)
    with pytest.raises(SeedError, match=message):
        EmulatorServer(seed_path=path)


def test_missing_seed_file(tmp_path: Path) -> None:
    with pytest.raises(SeedError, match="cannot read seed file"):
        EmulatorServer(seed_path=tmp_path / "absent.json")
