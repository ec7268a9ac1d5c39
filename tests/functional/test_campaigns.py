"""Campaigns end to end: POST /v1/campaigns and GET /v1/campaigns/{id} through `Runtime.handle`,
the `campaigns-finisher` timer tick, and the SES emulator with its real limits (20,000 rows per
upload, 50,000 per group, asynchronous upload status, no dedupe, 20 requests/s per action)."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from sesrelay.adapters.state_memory import MemoryStateStore
from sesrelay.clock import SES_TIMEZONE, Deadline, ManualClock, SystemClock
from sesrelay.emulator import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, EmulatorServer
from sesrelay.runtime import Runtime
from sesrelay.settings import Settings
from sesrelay.state import StateRecord
from sesrelay.wiring import build_services

MakeEvent = Callable[..., dict[str, Any]]
ProblemOf = Callable[[dict[str, Any], int, str], dict[str, Any]]
PostFn = Callable[..., dict[str, Any]]
GetFn = Callable[[str], dict[str, Any]]

EVENTS = Path(__file__).resolve().parents[2] / "events"
WELCOME = 100001  # emulator seed: "welcome", html "<p>Hello {{name}}, welcome aboard.</p>"
WRITES = ("CreateReceiver", "CreateReceiverDetailWithData", "BatchSendEmail")
PREFLIGHT = {"ListEmailAddress": 1, "GetEmailTemplate": 1}  # the reads before any write
API_KEY_SHA256 = hashlib.sha256(b"sr_test_key").hexdigest()  # the key of the sample events


def address(n: int) -> str:
    return f"u{n:06d}@example.org"


def recipients(count: int, *, named_every: int = 1000) -> list[dict[str, Any]]:
    """`count` recipients; every `named_every`-th carries its own name, the rest the default."""
    return [
        {"Email": address(n), "TemplateData": {"name": f"User {n}"}}
        if n % named_every == 0
        else {"Email": address(n)}
        for n in range(count)
    ]


def campaign_body(items: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "FromEmailAddress": "Example News <news@example.com>",
        "Subject": "Hello {{name}}",
        "Template": {"TemplateID": WELCOME, "TemplateData": {"name": "friend"}},
        "Recipients": items,
    }
    body.update(fields)
    return body


@pytest.fixture
def post(event: MakeEvent) -> Callable[..., dict[str, Any]]:
    """`post(body, key=...)`: the sample POST /v1/campaigns event with another body and key."""

    def make(body: dict[str, Any], key: str | None = "campaign-key-1") -> dict[str, Any]:
        return event("http_post-campaigns", body=body, headers={"idempotency-key": key})

    return make


@pytest.fixture
def get(event: MakeEvent) -> Callable[[str], dict[str, Any]]:
    return lambda campaign_id: event("http_get-campaign", path=f"/v1/campaigns/{campaign_id}")


def finisher_tick() -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / "timer_campaigns-finisher.json").read_text())
    return event


def context(seconds: float) -> dict[str, Any]:
    return {"request_id": "scf-campaign-test", "time_limit_in_ms": int(seconds * 1000)}


def body_of(reply: dict[str, Any], status: int) -> dict[str, Any]:
    assert reply["statusCode"] == status, reply["body"][:2000]
    data: dict[str, Any] = json.loads(reply["body"])
    return data


def runtime_for(emulator: EmulatorServer, clock: Any, **overrides: Any) -> Runtime:
    settings = Settings(
        environ={},
        ses_endpoint=emulator.url,
        secret_id=DEFAULT_SECRET_ID,
        secret_key=DEFAULT_SECRET_KEY,
        api_key_sha256=[API_KEY_SHA256],
        state_url="memory://",
        **overrides,
    )
    return Runtime(build_services(settings, clock=clock, state=MemoryStateStore(clock)))


def groups(runtime: Runtime, campaign_id: str) -> list[dict[str, Any]]:
    query = {"Offset": 0, "Limit": 100, "KeyWord": f"sr-{campaign_id}-"}
    data = runtime.services.ses.call("ListReceivers", query, Deadline(SystemClock(), 10))["Data"]
    return sorted(data, key=lambda g: str(g["ReceiversName"]))


def assert_each_mailed_once(emulator: EmulatorServer, expected: set[str]) -> list[dict[str, Any]]:
    mails = emulator.outbox()
    per_address = Counter(mail["to"] for mail in mails)
    assert len(mails) == len(expected)
    assert set(per_address) == expected
    assert max(per_address.values()) == 1
    return mails


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorServer]:
    """SES's own rate limit (20/s per action) on; uploads complete at once."""
    with EmulatorServer(port=0, rate_limit=20, upload_seconds=0) as server:
        yield server


@pytest.fixture
def runtime(emulator: EmulatorServer) -> Runtime:
    return runtime_for(emulator, SystemClock())


@pytest.fixture
def slow_ses() -> Iterator[tuple[EmulatorServer, ManualClock, Runtime]]:
    """An emulator whose uploads take 30 s of business time, on the relay's own ManualClock:
    polling sleeps move both, so nothing waits for real time."""
    clock = ManualClock()
    with EmulatorServer(port=0, rate_limit=None, upload_seconds=30, clock=clock) as server:
        yield server, clock, runtime_for(server, clock)


# -- acceptance: size, sharding, exactly once -----------------------------------------------------


@pytest.mark.slow
def test_120k_recipients_make_3_groups_3_tasks_and_one_mail_each(
    runtime: Runtime, emulator: EmulatorServer, post: PostFn, get: GetFn
) -> None:
    items = recipients(120_000)
    reply = runtime.handle(post(campaign_body(items)), context(120))

    created = body_of(reply, 202)
    assert created["State"] == "sent"
    assert created["Counts"] == {
        "Received": 120_000,
        "Valid": 120_000,
        "Duplicates": 0,
        "Invalid": 0,
    }
    shards = created["Shards"]
    assert [s["Rows"] for s in shards] == [40_000, 40_000, 40_000]  # balanced: 2 uploads each
    assert all(s["ChunksTotal"] == s["ChunksUploaded"] == 2 for s in shards)
    assert all(s["State"] == "sent" and s["UploadStatus"] == 3 for s in shards)
    assert sorted(created["TaskIds"]) == sorted(s["TaskId"] for s in shards)
    assert len(set(created["TaskIds"])) == 3

    counts = emulator.call_counts()
    # the fewest writes SES's limits allow, and no RequestLimitExceeded (it would show as a
    # repeated call): 3 groups, 120,000 / 20,000 = 6 uploads, 3 tasks
    assert {a: counts.get(a, 0) for a in WRITES} == {
        "CreateReceiver": 3,
        "CreateReceiverDetailWithData": 6,
        "BatchSendEmail": 3,
    }
    assert set(counts) <= {*WRITES, *PREFLIGHT, "ListReceivers"}, counts
    assert {a: counts[a] for a in PREFLIGHT} == PREFLIGHT
    assert counts["ListReceivers"] == 2  # one poll after each round of uploads, none retried
    listed = groups(runtime, created["CampaignId"])
    assert [(g["Count"], g["ReceiversStatus"]) for g in listed] == [(40_000, 3)] * 3

    mails = assert_each_mailed_once(emulator, {address(n) for n in range(120_000)})
    by_address = {m["to"]: m for m in mails[::997]}
    for to, mail in by_address.items():
        n = int(to[1:7])
        name = f"User {n}" if n % 1000 == 0 else "friend"
        assert mail["subject"] == f"Hello {name}"
        assert mail["html"] == f"<p>Hello {name}, welcome aboard.</p>"

    status = body_of(runtime.handle(get(created["CampaignId"]), context(10)), 200)
    assert status["State"] == "sent"
    assert [(s["ReceiverId"], s["TaskId"]) for s in status["Shards"]] == [
        (s["ReceiverId"], s["TaskId"]) for s in shards
    ]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("kind", "count", "uploads"),
    [
        ("drop_after", 120_000, 6),  # SES stored the rows, the reply was lost: not sent again
        ("drop_before", 80_000, 5),  # SES never saw them: uploaded once more, after settling
    ],
)
def test_fault_in_the_second_shards_upload_then_the_finisher_mails_each_once(
    slow_ses: tuple[EmulatorServer, ManualClock, Runtime],
    kind: str,
    count: int,
    uploads: int,
    post: PostFn,
) -> None:
    emulator, _clock, runtime = slow_ses
    items = recipients(count)
    groups_of_40k = count // 40_000
    first = body_of(runtime.handle(post(campaign_body(items)), context(10)), 202)
    # the request ran out of time while SES processed the first upload of each group
    assert first["State"] == "uploading"
    assert [s["ChunksUploaded"] for s in first["Shards"]] == [1] * groups_of_40k
    assert emulator.outbox() == []

    # the next upload of shard 0 goes through; shard 1's (its second of two) loses its reply
    emulator.inject_fault("CreateReceiverDetailWithData", "delay", seconds=0)
    emulator.inject_fault("CreateReceiverDetailWithData", kind)
    tick = runtime.handle(finisher_tick(), context(600))

    assert tick["ok"] is True, tick
    [summary] = tick["campaigns"]
    assert summary == {"CampaignId": first["CampaignId"], "State": "sent"}
    assert tick["pending"] == 0
    counts = emulator.call_counts()
    assert counts["CreateReceiverDetailWithData"] == uploads  # re-sent only if it never landed
    assert counts["CreateReceiver"] == groups_of_40k
    assert counts["BatchSendEmail"] == groups_of_40k
    assert [g["Count"] for g in groups(runtime, first["CampaignId"])] == [40_000] * groups_of_40k
    assert_each_mailed_once(emulator, {address(n) for n in range(count)})

    again = runtime.handle(finisher_tick(), context(600))
    assert again["campaigns"] == []  # nothing left to do; nothing sent twice
    assert emulator.call_counts()["BatchSendEmail"] == groups_of_40k


# -- validation reports ---------------------------------------------------------------------------


def _with_bad_rows() -> list[dict[str, Any]]:
    items = recipients(300, named_every=1)
    items[3] = {"Email": "not-an-address"}
    items[7] = {"Email": address(7), "TemplateData": {"name": "<b>Bold</b>"}}
    items[9] = {"Email": address(9), "TemplateData": {"name": "x" * 900}}
    items[11] = {"Email": address(11), "TemplateData": {"nickname": "Al"}}
    items[12] = {"Email": address(12).upper(), "TemplateData": {"name": "Twelve"}}  # valid
    items[13] = {"Email": address(12), "TemplateData": {"name": "dup"}}  # duplicate of 12
    items[20] = "u000020@example.org"  # type: ignore[call-overload]
    items[21] = {"Email": address(21), "Name": "x"}
    for n in range(100, 250):  # more problems than the report lists
        items[n] = {"Email": f"bad{n}"}
    return items


def test_strict_validation_refuses_the_campaign_listing_rows_and_reasons(
    runtime: Runtime, emulator: EmulatorServer, post: PostFn, problem: ProblemOf
) -> None:
    reply = runtime.handle(post(campaign_body(_with_bad_rows())), context(30))

    found = problem(reply, 422, "validation_error")
    assert found["counts"] == {"Received": 300, "Valid": 143, "Duplicates": 1, "Invalid": 156}
    assert "156 of 300 recipients are invalid (the first 100 are listed)" in found["detail"]
    errors = found["errors"]
    assert len(errors) == 100
    fields = [e["field"] for e in errors[:7]]
    assert fields == [
        "Recipients.3.Email",
        "Recipients.7.TemplateData",
        "Recipients.9.TemplateData",
        "Recipients.11.TemplateData",
        "Recipients.20",
        "Recipients.21",
        "Recipients.100.Email",
    ]
    messages = [e["message"] for e in errors[:6]]
    assert "valid email address" in messages[0]
    assert "HTML" in messages[1]
    assert "800" in messages[2]
    assert "TemplateDataInconsistent" in messages[3]
    assert "object" in messages[4]
    assert "unknown field 'Name'" in messages[5]
    assert "u0000" not in reply["body"]  # no addresses echoed
    assert emulator.call_counts() == PREFLIGHT  # SES was asked, nothing was created


def test_permissive_validation_skips_bad_rows_and_reports_them(
    runtime: Runtime, emulator: EmulatorServer, post: PostFn, get: GetFn
) -> None:
    body = campaign_body(_with_bad_rows(), Validation="permissive")
    created = body_of(runtime.handle(post(body), context(30)), 202)

    assert created["State"] == "sent"
    assert created["Counts"] == {"Received": 300, "Valid": 143, "Duplicates": 1, "Invalid": 156}
    assert len(created["InvalidRows"]) == 100
    assert created["InvalidRows"][0] == {
        "RecipientIndex": 3,  # 0-based, as in the 422's errors[].field "Recipients.3.Email"
        "Field": "Email",
        "Message": "must be a valid email address (local@domain.tld)",
    }
    good = [n for n in range(100) if n not in (3, 7, 9, 11, 13, 20, 21)] + list(range(250, 300))
    expected = {address(n) for n in good} - {address(12)} | {address(12).upper()}
    mails = assert_each_mailed_once(emulator, expected)
    [twelve] = [m for m in mails if m["to"] == address(12).upper()]
    assert twelve["subject"] == "Hello Twelve"  # the first copy wins
    fetched = body_of(runtime.handle(get(created["CampaignId"]), context(10)), 200)
    assert fetched["InvalidRows"] == created["InvalidRows"]


def test_campaign_fields_are_validated_like_batch_send_email(
    runtime: Runtime, post: PostFn, problem: ProblemOf
) -> None:
    body = campaign_body(
        recipients(3), TaskType=2, Subject="", Validation="lenient", Unsubscribe="99"
    )
    del body["Recipients"]
    found = problem(runtime.handle(post(body), context(10)), 422, "validation_error")
    fields = {e["field"] for e in found["errors"]}
    assert fields == {"Subject", "TimedParam", "Unsubscribe", "Validation", "Recipients"}


# -- the HTTP contract ----------------------------------------------------------------------------


def test_idempotency_key_is_required_and_replays_the_same_campaign(
    runtime: Runtime, emulator: EmulatorServer, post: PostFn, problem: ProblemOf
) -> None:
    body = campaign_body(recipients(5))
    missing = runtime.handle(post(body, key=None), context(10))
    problem(missing, 400, "invalid_idempotency_key")

    first = body_of(runtime.handle(post(body, key="k-1"), context(10)), 202)
    replay = runtime.handle(post(body, key="k-1"), context(10))
    assert body_of(replay, 202)["CampaignId"] == first["CampaignId"]
    assert replay["headers"]["idempotent-replayed"] == "true"
    assert emulator.call_counts()["BatchSendEmail"] == 1
    assert len(emulator.outbox()) == 5
    other = runtime.handle(post(campaign_body(recipients(6)), key="k-1"), context(10))
    problem(other, 409, "idempotency_key_reused")


def test_a_key_forgotten_after_24_hours_still_names_its_campaign_not_a_second_one(
    emulator: EmulatorServer, post: PostFn
) -> None:
    clock = ManualClock(SystemClock().now())
    runtime = runtime_for(emulator, clock)
    body = campaign_body(recipients(5))
    first = body_of(runtime.handle(post(body, key="k-1"), context(10)), 202)
    clock.advance(timedelta(hours=24, seconds=1).total_seconds())  # the key is forgotten

    again = runtime.handle(post(body, key="k-1"), context(10))
    assert body_of(again, 202)["CampaignId"] == first["CampaignId"]
    assert "idempotent-replayed" not in again["headers"]  # found, not replayed
    assert emulator.call_counts()["BatchSendEmail"] == 1
    assert len(emulator.outbox()) == 5
    # Another body under the old key, once forgotten again, is another campaign.
    clock.advance(timedelta(hours=24, seconds=1).total_seconds())
    other = body_of(runtime.handle(post(campaign_body(recipients(6)), key="k-1"), context(10)), 202)
    assert other["CampaignId"] != first["CampaignId"]


class DiesStaging(MemoryStateStore):
    """The instance dies (a bug, a kill) while storing the first block of rows; it notes the
    campaign records created."""

    def __init__(self, clock: ManualClock) -> None:
        super().__init__(clock)
        self.dies = True
        self.campaigns: list[str] = []

    def claim(self, key: str, value: str, ttl_seconds: float) -> StateRecord | None:
        if key.startswith("campaign:cmp_") and key.count(":") == 1:
            self.campaigns.append(key.removeprefix("campaign:"))
        return super().claim(key, value, ttl_seconds)

    def put(self, key: str, value: str, ttl_seconds: float) -> StateRecord:
        if self.dies and ":block:" in key:
            self.dies = False
            raise RuntimeError("instance died while staging the rows")
        return super().put(key, value, ttl_seconds)


def test_a_retry_after_a_run_died_staging_takes_its_campaign_over_and_mails_each_once(
    emulator: EmulatorServer, post: PostFn, get: GetFn
) -> None:
    clock = ManualClock(SystemClock().now())
    store = DiesStaging(clock)
    settings = Settings(
        environ={},
        ses_endpoint=emulator.url,
        secret_id=DEFAULT_SECRET_ID,
        secret_key=DEFAULT_SECRET_KEY,
        api_key_sha256=[API_KEY_SHA256],
        state_url="memory://",
    )
    runtime = Runtime(build_services(settings, clock=clock, state=store))
    body = campaign_body(recipients(5))
    assert runtime.handle(post(body, key="k-1"), context(10))["statusCode"] == 500
    [started] = store.campaigns
    clock.advance(10 + 2)  # the dead run's claim on the key lapses with its lease

    retried = body_of(runtime.handle(post(body, key="k-1"), context(10)), 202)
    assert retried["CampaignId"] == started
    assert retried["State"] == "sent"
    assert store.campaigns == [started, started]  # found again, never a second campaign
    assert body_of(runtime.handle(get(started), context(10)), 200)["State"] == "sent"
    assert emulator.call_counts()["CreateReceiver"] == 1
    assert_each_mailed_once(emulator, {address(n) for n in range(5)})


def test_unknown_campaign_is_404(runtime: Runtime, get: GetFn, problem: ProblemOf) -> None:
    problem(runtime.handle(get("cmp_0123456789abcdef"), context(10)), 404, "not_found")
    problem(runtime.handle(get("../../etc"), context(10)), 404, "not_found")


def test_scheduled_campaign_reports_scheduled(
    runtime: Runtime, emulator: EmulatorServer, post: PostFn
) -> None:
    later = emulator.now().astimezone(SES_TIMEZONE) + timedelta(hours=2)
    when = later.strftime("%Y-%m-%d %H:%M:%S")
    body = campaign_body(recipients(4), TaskType=2, TimedParam={"BeginTime": when})
    created = body_of(runtime.handle(post(body), context(10)), 202)
    assert created["State"] == "scheduled"
    assert [s["State"] for s in created["Shards"]] == ["scheduled"]
    assert emulator.outbox() == []


# -- what the relay cannot confirm ----------------------------------------------------------------


def test_foreign_rows_in_a_group_leave_the_campaign_unconfirmed_and_unsent(
    slow_ses: tuple[EmulatorServer, ManualClock, Runtime], post: PostFn, get: GetFn
) -> None:
    emulator, _clock, runtime = slow_ses
    emulator.inject_fault("CreateReceiverDetailWithData", "drop_after")
    first = body_of(runtime.handle(post(campaign_body(recipients(10))), context(10)), 202)
    assert first["State"] == "uploading"
    assert first["Shards"][0]["Pending"] == "upload"
    [group] = groups(runtime, first["CampaignId"])
    emulator.advance(60)
    runtime.services.ses.call(  # someone else appends to the group meanwhile
        "CreateReceiverDetailWithData",
        {
            "ReceiverId": group["ReceiverId"],
            "Datas": [{"Email": "x@example.org", "TemplateData": '{"name":"X"}'}],
        },
        Deadline(SystemClock(), 10),
    )

    tick = runtime.handle(finisher_tick(), context(600))

    assert tick["campaigns"] == [{"CampaignId": first["CampaignId"], "State": "unconfirmed"}]
    status = body_of(runtime.handle(get(first["CampaignId"]), context(10)), 200)
    assert status["State"] == "unconfirmed"
    assert status["Shards"][0]["State"] == "unconfirmed"
    [error] = status["Errors"]
    assert error["Code"] == "unconfirmed"
    assert "holds 11 addresses; expected 0 (not uploaded) or 10 (uploaded)" in error["Message"]
    assert emulator.call_counts().get("BatchSendEmail", 0) == 0
    assert emulator.outbox() == []


def test_lost_batch_send_reply_is_found_in_list_send_tasks_not_sent_again(
    slow_ses: tuple[EmulatorServer, ManualClock, Runtime], post: PostFn
) -> None:
    emulator, _clock, runtime = slow_ses
    emulator.inject_fault("BatchSendEmail", "drop_after")
    created = body_of(runtime.handle(post(campaign_body(recipients(10))), context(120)), 202)

    assert created["State"] == "sent"
    counts = emulator.call_counts()
    assert counts["BatchSendEmail"] == 1
    assert counts["ListSendTasks"] == 1
    [shard] = created["Shards"]
    assert shard["TaskId"] is not None
    assert_each_mailed_once(emulator, {address(n) for n in range(10)})


def test_batch_send_that_never_reached_ses_is_sent_after_the_settle_time(
    slow_ses: tuple[EmulatorServer, ManualClock, Runtime], post: PostFn
) -> None:
    emulator, _clock, runtime = slow_ses
    emulator.inject_fault("BatchSendEmail", "drop_before")
    created = body_of(runtime.handle(post(campaign_body(recipients(10))), context(300)), 202)

    assert created["State"] == "sent"
    assert emulator.call_counts()["BatchSendEmail"] == 2
    assert_each_mailed_once(emulator, {address(n) for n in range(10)})


def test_lost_create_receiver_reply_adopts_the_group_by_its_name(
    slow_ses: tuple[EmulatorServer, ManualClock, Runtime], post: PostFn
) -> None:
    emulator, _clock, runtime = slow_ses
    emulator.inject_fault("CreateReceiver", "drop_after")
    created = body_of(runtime.handle(post(campaign_body(recipients(10))), context(120)), 202)

    assert created["State"] == "sent"
    assert emulator.call_counts()["CreateReceiver"] == 1  # found by name, not created again
    assert len(groups(runtime, created["CampaignId"])) == 1
    assert_each_mailed_once(emulator, {address(n) for n in range(10)})


def test_a_final_ses_refusal_fails_the_campaign_with_the_ses_code(
    runtime: Runtime, emulator: EmulatorServer, post: PostFn, get: GetFn
) -> None:
    body = campaign_body(recipients(10))
    # the template passed the preflight, then was withdrawn before the task was created
    emulator.inject_fault(
        "BatchSendEmail",
        "error",
        code="OperationDenied.TemplateStatusError",
        message="The template is missing or not approved.",
    )
    created = body_of(runtime.handle(post(body), context(30)), 202)

    assert created["State"] == "failed"
    [error] = created["Errors"]
    assert error["Code"] == "OperationDenied.TemplateStatusError"
    assert error["Step"] == "send"
    assert created["Shards"][0]["State"] == "failed"
    assert created["Shards"][0]["ChunksUploaded"] == 1
    assert emulator.outbox() == []
    assert (
        body_of(runtime.handle(get(created["CampaignId"]), context(10)), 200)["State"] == "failed"
    )


# -- SES's rate limit -----------------------------------------------------------------------------


def test_campaign_calls_wait_for_the_ses_rate_limit_and_ses_refuses_none(post: PostFn) -> None:
    """SESRELAY_SES_RATE=1 against an SES allowing 1 request/s per action (real time): while the
    upload is processed, the campaign polls ListReceivers every 0.25 s at first, so only the
    relay's rate limiter keeps SES from refusing a poll."""
    with EmulatorServer(port=0, rate_limit=1, upload_seconds=1.5) as emulator:
        runtime = runtime_for(emulator, SystemClock(), ses_rate=1)
        created = body_of(runtime.handle(post(campaign_body(recipients(10))), context(30)), 202)

        assert created["State"] == "sent"
        assert emulator.rate_limited_counts() == {}
        assert emulator.call_counts()["ListReceivers"] >= 2  # polled within one second, unpaced
        assert_each_mailed_once(emulator, {address(n) for n in range(10)})


def test_without_the_rate_limit_ses_refuses_the_campaigns_polls(post: PostFn) -> None:
    """The same campaign with SESRELAY_SES_RATE=0 (no limiter): SES refuses a poll, which is
    what the test above guards against."""
    with EmulatorServer(port=0, rate_limit=1, upload_seconds=1.5) as emulator:
        runtime = runtime_for(emulator, SystemClock(), ses_rate=0)
        body_of(runtime.handle(post(campaign_body(recipients(10))), context(30)), 202)

        assert emulator.rate_limited_counts().get("ListReceivers", 0) >= 1
