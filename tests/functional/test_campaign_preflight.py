"""POST /v1/campaigns asks SES before its first write: an unlisted sender, a missing or unapproved
template, or recipients that do not fill the template's variables answer 422 with every problem
by field, and create nothing (no group, no campaign, the Idempotency-Key free again). A preflight
SES cannot answer now (throttled) is never taken for a yes. Every batch task carries
Template.TemplateData."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from sesrelay.clock import SES_TIMEZONE, Deadline, SystemClock
from sesrelay.emulator import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, EmulatorServer
from sesrelay.runtime import Runtime
from sesrelay.settings import Settings
from sesrelay.wiring import build_services

WRITES = {"CreateReceiver", "CreateReceiverDetail", "CreateReceiverDetailWithData"}
READS = {"ListEmailAddress": 1, "GetEmailTemplate": 1}
Problem = Callable[[dict[str, Any], int, str], dict[str, Any]]


def body(**fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "FromEmailAddress": "Example News <news@example.com>",
        "Subject": "Hello {{name}}",
        "Template": {"TemplateID": 100001},
        "Recipients": [
            {"Email": "ana@example.org", "TemplateData": {"name": "Ana"}},
            {"Email": "ben@example.org", "TemplateData": {"name": "Ben"}},
        ],
    }
    data.update(fields)
    return data


@pytest.fixture
def post(
    event: Callable[..., dict[str, Any]], make_runtime: Callable[..., Runtime]
) -> Callable[..., dict[str, Any]]:
    """`post(body, key=...)`: POST /v1/campaigns through one Runtime (one state store)."""
    runtime = make_runtime()

    def send(payload: dict[str, Any], key: str = "campaign-1") -> dict[str, Any]:
        request = event("http_post-campaigns", body=payload, headers={"idempotency-key": key})
        context = {"request_id": "scf-preflight", "time_limit_in_ms": 30_000}
        reply: dict[str, Any] = runtime.handle(request, context)
        return reply

    return send


def groups(emulator: EmulatorServer) -> list[str]:
    """The campaign groups SES lists (ListReceivers, through the official SDK)."""
    runtime = Runtime(build_services(settings_for(emulator)))
    query = {"Offset": 0, "Limit": 100, "KeyWord": "sr-"}
    data = runtime.services.ses.call("ListReceivers", query, Deadline(SystemClock(), 10))["Data"]
    return [str(g["ReceiversName"]) for g in data if str(g["ReceiversName"]).startswith("sr-")]


def settings_for(emulator: EmulatorServer) -> Settings:
    return Settings(
        environ={},
        ses_endpoint=emulator.url,
        secret_id=DEFAULT_SECRET_ID,
        secret_key=DEFAULT_SECRET_KEY,
        state_url="memory://",
    )


def test_every_reason_ses_would_refuse_is_answered_at_once_and_nothing_is_created(
    post: Callable[..., dict[str, Any]], emulator: EmulatorServer, problem: Problem
) -> None:
    refused = body(
        FromEmailAddress="Example News <nobody@example.com>",
        Template={"TemplateID": 100003},  # seeded: under review
    )
    found = problem(post(refused), 422, "validation_error")

    assert [e["field"] for e in found["errors"]] == ["FromEmailAddress", "Template.TemplateID"]
    assert "nobody@example.com is not a sender address" in found["errors"][0]["message"]
    assert "is not approved (TemplateStatus 1: under review)" in found["errors"][1]["message"]
    assert "nothing was created or sent" in found["detail"]
    assert emulator.call_counts() == READS
    assert groups(emulator) == []
    # the key was not kept: the corrected body goes through under it
    created = post(body())
    assert created["statusCode"] == 202, created["body"]
    assert json.loads(created["body"])["State"] == "sent"


def test_recipients_that_do_not_fill_the_template_are_refused_before_any_group(
    post: Callable[..., dict[str, Any]], emulator: EmulatorServer, problem: Problem
) -> None:
    recipients = [{"Email": "ana@example.org", "TemplateData": {"Name": "Ana"}}]
    found = problem(post(body(Recipients=recipients)), 422, "validation_error")

    [error] = found["errors"]
    assert error["field"] == "Template.TemplateData"
    assert error["message"].startswith(
        "the template and Subject use {{name}}, but neither Template.TemplateData (the "
        "defaults) nor the recipients' TemplateData provides it "
        '(there is "Name": variable names are case-sensitive)'
    )
    assert "TemplateNotMatchData" in error["message"]
    assert set(emulator.call_counts()) & WRITES == set()
    assert "BatchSendEmail" not in emulator.call_counts()
    assert groups(emulator) == []


def test_bad_rows_and_what_ses_would_refuse_come_in_one_answer(
    post: Callable[..., dict[str, Any]], emulator: EmulatorServer, problem: Problem
) -> None:
    recipients = [{"Email": "ana@example.org"}, {"Email": "not-an-address"}]
    payload = body(Recipients=recipients, Template={"TemplateID": 100099})
    found = problem(post(payload), 422, "validation_error")

    assert [e["field"] for e in found["errors"]] == ["Template.TemplateID", "Recipients.1.Email"]
    assert "template 100099 does not exist" in found["errors"][0]["message"]
    assert found["counts"] == {"Received": 2, "Valid": 1, "Duplicates": 0, "Invalid": 1}
    assert emulator.call_counts() == READS


def test_a_throttled_preflight_answers_429_creates_nothing_and_frees_the_key(
    post: Callable[..., dict[str, Any]], emulator: EmulatorServer, problem: Problem
) -> None:
    emulator.inject_fault(
        "ListEmailAddress", "error", count=3, code="RequestLimitExceeded", message="slow down"
    )
    reply = post(body())
    problem(reply, 429, "RequestLimitExceeded")
    assert reply["headers"]["retry-after"] == "1"
    assert set(emulator.call_counts()) & (WRITES | {"BatchSendEmail"}) == set()

    again = post(body())  # same key, same body: run again, not a replayed failure
    assert again["statusCode"] == 202, again["body"]
    assert len(emulator.outbox()) == 2


def test_a_replay_answers_the_campaign_without_asking_ses_again(
    post: Callable[..., dict[str, Any]], emulator: EmulatorServer
) -> None:
    first = post(body())
    replay = post(body())
    assert replay["headers"]["idempotent-replayed"] == "true"
    assert json.loads(replay["body"])["CampaignId"] == json.loads(first["body"])["CampaignId"]
    assert {a: emulator.call_counts()[a] for a in READS} == READS


@pytest.mark.parametrize("defaults", [None, {"name": "friend"}])
def test_every_batch_task_carries_template_data(
    post: Callable[..., dict[str, Any]],
    emulator: EmulatorServer,
    defaults: dict[str, str] | None,
) -> None:
    template: dict[str, Any] = {"TemplateID": 100001}
    if defaults is not None:
        template["TemplateData"] = defaults
    created = json.loads(post(body(Template=template))["body"])
    [task_id] = created["TaskIds"]

    ses = Runtime(build_services(settings_for(emulator))).services.ses
    query = {"Offset": 0, "Limit": 100, "ReceiverId": created["Shards"][0]["ReceiverId"]}
    [task] = ses.call("ListSendTasks", query, Deadline(SystemClock(), 10))["Data"]
    assert task["TaskId"] == task_id
    sent = task["Template"]
    assert sent["TemplateID"] == 100001
    assert json.loads(sent["TemplateData"]) == (defaults or {})  # "{}" without defaults
    assert {m["subject"] for m in emulator.outbox()} == {"Hello Ana", "Hello Ben"}


def test_a_scheduled_campaign_is_checked_too(
    post: Callable[..., dict[str, Any]], emulator: EmulatorServer, problem: Problem
) -> None:
    later = emulator.now().astimezone(SES_TIMEZONE) + timedelta(hours=2)
    when = later.strftime("%Y-%m-%d %H:%M:%S")
    payload = body(FromEmailAddress="x@example.com", TaskType=2, TimedParam={"BeginTime": when})
    found = problem(post(payload), 422, "validation_error")
    assert [e["field"] for e in found["errors"]] == ["FromEmailAddress"]
    assert groups(emulator) == []
