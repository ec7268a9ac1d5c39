"""Send records, delivery events and per-key quotas on every state store (memory, SQLite, Redis):
what they keep, in which order, for how long, and that a quota is exact under concurrency."""

from __future__ import annotations

import multiprocessing
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest

from sesrelay.adapters.state_memory import MemoryStateStore
from sesrelay.adapters.state_sqlite import SqliteStateStore
from sesrelay.adapters.state_url import open_state_store
from sesrelay.clock import ManualClock, SystemClock
from sesrelay.records import DeliveryEvent, RecordBook, SendRecord
from sesrelay.sending.quota import QuotaExceeded, Quotas, seconds_to_next_day
from sesrelay.state import StateStore
from tests.polling import wait_until

#: 2026-12-01 15:30 UTC is 23:30 in UTC+8: half an hour before Tencent's day ends.
NOW = datetime(2026, 12, 1, 15, 30, tzinfo=timezone.utc)


@dataclass
class Setup:
    store: StateStore
    clock: ManualClock
    kind: str


@pytest.fixture(params=["memory", "sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def setup(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Setup]:
    clock = ManualClock(NOW)
    store: StateStore
    if request.param == "redis":
        url = request.getfixturevalue("redis_server")
        store = open_state_store(f"{url}?prefix=test-{uuid.uuid4().hex}:", clock)
    elif request.param == "sqlite":
        store = SqliteStateStore(tmp_path / "kv.sqlite3", clock)
    else:
        store = MemoryStateStore(clock)
    try:
        yield Setup(store, clock, request.param)
    finally:
        store.close()


def record(message_id: str = "msg-1") -> SendRecord:
    return SendRecord(
        kind="email",
        id=message_id,
        created=NOW.isoformat(),
        entry="webhook:github-releases",
        key="billing",
        idempotency_key="order-17",
        sender="noreply@example.com",
        template_id=100001,
        recipient_count=2,
        recipients=["a@example.org", "b@example.org"],
    )


def test_a_record_reads_back_as_written(setup: Setup) -> None:
    book = RecordBook(setup.store, setup.clock, retention_days=30)
    book.save(record())
    assert book.get("email", "msg-1") == record()
    assert book.get("email", "msg-2") is None
    assert book.get("task", "msg-1") is None


def test_events_are_deduplicated_and_kept_in_time_order(setup: Setup) -> None:
    book = RecordBook(setup.store, setup.clock, retention_days=30)
    click = DeliveryEvent("click", 1_800_000_030, "a@example.org", link="https://x.test/")
    opened = DeliveryEvent("open", 1_800_000_020, "a@example.org")
    delivered = DeliveryEvent("delivered", 1_800_000_020, "a@example.org")
    assert book.add_event("msg-1", click)
    assert book.add_event("msg-1", opened)
    assert book.add_event("msg-1", delivered)
    assert not book.add_event("msg-1", opened)  # SES retried the callback
    assert [e["event"] for e in book.events("msg-1")] == ["delivered", "open", "click"]
    assert book.events("msg-1")[-1]["link"] == "https://x.test/"
    assert book.events("unknown") == []


def test_events_that_arrive_before_the_record_are_joined_when_it_is_written(
    setup: Setup,
) -> None:
    book = RecordBook(setup.store, setup.clock, retention_days=30)
    book.add_event("msg-1", DeliveryEvent("delivered", 1_800_000_000, "a@example.org"))
    book.save(record())
    assert book.get("email", "msg-1") is not None
    assert [e["event"] for e in book.events("msg-1")] == ["delivered"]


def test_task_counts_add_up_per_kind(setup: Setup) -> None:
    book = RecordBook(setup.store, setup.clock, retention_days=30)
    for kind in ("delivered", "delivered", "bounce", "open"):
        book.count_task_event("3001", kind)
    assert book.task_counts("3001") == {"delivered": 2, "bounce": 1, "open": 1}
    assert book.task_counts("3002") == {}


def test_records_events_and_counts_expire_after_the_retention(setup: Setup) -> None:
    retention_days = 0.2 / 86400 if setup.kind == "redis" else 30
    book = RecordBook(setup.store, setup.clock, retention_days=retention_days)
    book.save(record())
    book.add_event("msg-1", DeliveryEvent("delivered", 1, "a@example.org"))
    book.count_task_event("3001", "delivered")
    if setup.kind == "redis":  # Redis expires on its own clock, each key from its own write
        assert wait_until(
            lambda: (
                book.get("email", "msg-1") is None
                and not book.events("msg-1")
                and not book.task_counts("3001")
            ),
            timeout=5,
        )
    else:
        setup.clock.advance(30 * 86400 - 1)
        assert book.get("email", "msg-1") is not None
        setup.clock.advance(2)
    assert book.get("email", "msg-1") is None
    assert book.events("msg-1") == []
    assert book.task_counts("3001") == {}


# -- quotas -----------------------------------------------------------------------------------


def test_a_quota_allows_exactly_its_size_per_day_and_says_when_it_resets(setup: Setup) -> None:
    quotas = Quotas(setup.store, setup.clock)
    for _ in range(3):
        quotas.take("billing", 3)
    with pytest.raises(QuotaExceeded) as caught:
        quotas.take("billing", 3)
    assert caught.value.retry_after == 1800  # 23:30 UTC+8 -> midnight
    assert "billing" in caught.value.message
    quotas.take("support", 3)  # another key has its own counter
    setup.clock.advance(1800)  # a new day in UTC+8 (16:00 UTC)
    quotas.take("billing", 3)
    assert quotas.used("billing") == 1


def test_a_unit_given_back_can_be_taken_again(setup: Setup) -> None:
    quotas = Quotas(setup.store, setup.clock)
    ticket = quotas.take("billing", 1)
    quotas.give_back(ticket)
    quotas.give_back(ticket)  # never below zero
    assert quotas.used("billing") == 0
    quotas.take("billing", 1)
    with pytest.raises(QuotaExceeded):
        quotas.take("billing", 1)


def test_seconds_to_next_day_counts_to_midnight_in_utc_plus_8() -> None:
    assert seconds_to_next_day(datetime(2026, 12, 1, 16, 0, tzinfo=timezone.utc)) == 86400
    assert seconds_to_next_day(datetime(2026, 12, 1, 15, 59, 59, tzinfo=timezone.utc)) == 1


def _take_many(url: str, attempts: int, limit: int, results: multiprocessing.Queue[int]) -> None:
    store = open_state_store(url, SystemClock())
    quotas = Quotas(store, SystemClock())
    taken = 0
    for _ in range(attempts):
        try:
            quotas.take("shared", limit)
            taken += 1
        except QuotaExceeded:
            pass
    store.close()
    results.put(taken)


@pytest.mark.redis
def test_four_processes_on_one_redis_share_a_quota_exactly(redis_server: str) -> None:
    url = f"{redis_server}?prefix=test-{uuid.uuid4().hex}:"
    limit, processes, attempts = 40, 4, 15  # 60 attempts for 40 units
    context = multiprocessing.get_context("spawn")
    results: multiprocessing.Queue[int] = context.Queue()
    workers = [
        context.Process(target=_take_many, args=(url, attempts, limit, results))
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    taken = [results.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
    assert sum(taken) == limit, taken
