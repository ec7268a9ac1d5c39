"""One contract for every StateStore adapter: memory (the unit-test fake), SQLite and Redis.

Passing the same suite keeps the fake honest. Memory and SQLite run on a ManualClock; Redis
expires keys on server time, so its harness polls until its short-lived keys are gone.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import socket
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

from sesrelay.adapters.state_memory import DEFAULT_MAX_KEYS, MemoryStateStore
from sesrelay.adapters.state_redis import RedisStateStore
from sesrelay.adapters.state_sqlite import SqliteStateStore
from sesrelay.adapters.state_url import open_state_store
from sesrelay.clock import ManualClock, SystemClock
from sesrelay.state import MAX_KEY_LENGTH, StateRecord, StateStore, StateStoreError
from tests.polling import wait_until

T = TypeVar("T")

LONG_TTL = 600.0
THREADS = 50
PROCESSES = 4


@dataclass
class Harness:
    store: StateStore
    short_ttl: float  # a TTL that `expire()` is guaranteed to outlast
    expire: Callable[[], None]


@pytest.fixture(params=["memory", "sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    clock = ManualClock()
    if request.param == "redis":
        yield from _redis_harness(request.getfixturevalue("redis_server"), clock)
        return
    store: StateStore
    if request.param == "memory":
        store = MemoryStateStore(clock)
    else:
        store = SqliteStateStore(tmp_path / "state" / "kv.sqlite3", clock)
    try:
        yield Harness(store, short_ttl=10.0, expire=lambda: clock.advance(10.5))
    finally:
        store.close()


def _redis_harness(url: str, clock: ManualClock) -> Iterator[Harness]:
    """Redis expires keys on its own clock: `expire()` polls, through a client of its own, until
    no key of the test has `short_ttl` or less to live. Redis treats an expired key as absent as
    soon as anyone looks, so this sees a key gone exactly when the store would."""
    import redis

    prefix = f"test-{uuid.uuid4().hex}:"  # a fresh namespace: tests never see each other's keys
    store = open_state_store(f"{url}?prefix={prefix}", clock)
    admin = redis.Redis.from_url(url)
    short_ttl = 0.15
    short_ms = math.ceil(short_ttl * 1000)

    def short_lived_keys() -> list[bytes]:
        keys = admin.scan_iter(match=f"{prefix}*")
        return [key for key in keys if 0 <= int(admin.pttl(key)) <= short_ms]

    def expire() -> None:
        assert wait_until(lambda: not short_lived_keys(), timeout=5), short_lived_keys()

    try:
        yield Harness(store, short_ttl=short_ttl, expire=expire)
    finally:
        store.close()
        admin.close()


# -- claim and get ----------------------------------------------------------------------------


def test_claim_of_an_absent_key_wins_and_creates_version_1(harness: Harness) -> None:
    store = harness.store
    assert store.claim("k", '{"state": "in_progress"}', LONG_TTL) is None
    assert store.get("k") == StateRecord('{"state": "in_progress"}', 1)


def test_claim_of_a_live_key_loses_and_returns_the_record_unchanged(harness: Harness) -> None:
    store = harness.store
    assert store.claim("k", "first", LONG_TTL) is None
    assert store.claim("k", "second", LONG_TTL) == StateRecord("first", 1)
    assert store.get("k") == StateRecord("first", 1)


def test_claim_over_an_expired_record_wins_with_version_1(harness: Harness) -> None:
    store = harness.store
    store.put("k", "old", harness.short_ttl)
    store.put("k", "older", harness.short_ttl)
    harness.expire()
    assert store.claim("k", "new", LONG_TTL) is None
    assert store.get("k") == StateRecord("new", 1)


def test_get_of_an_absent_or_expired_key_is_none(harness: Harness) -> None:
    store = harness.store
    assert store.get("never") is None
    assert store.claim("k", "v", harness.short_ttl) is None
    assert store.get("k") == StateRecord("v", 1)
    harness.expire()
    assert store.get("k") is None


# -- put --------------------------------------------------------------------------------------


def test_put_creates_at_version_1_then_increments(harness: Harness) -> None:
    store = harness.store
    assert store.put("k", "a", LONG_TTL) == StateRecord("a", 1)
    assert store.put("k", "b", LONG_TTL) == StateRecord("b", 2)
    assert store.claim("k", "c", LONG_TTL) == StateRecord("b", 2)
    assert store.put("k", "d", LONG_TTL) == StateRecord("d", 3)
    assert store.get("k") == StateRecord("d", 3)


def test_put_replaces_the_ttl(harness: Harness) -> None:
    store = harness.store
    store.claim("extended", "v", harness.short_ttl)
    store.put("extended", "v2", LONG_TTL)
    store.claim("shortened", "v", LONG_TTL)
    store.put("shortened", "v2", harness.short_ttl)
    harness.expire()
    assert store.get("extended") == StateRecord("v2", 2)
    assert store.get("shortened") is None


def test_put_over_an_expired_record_starts_again_at_version_1(harness: Harness) -> None:
    store = harness.store
    store.put("k", "a", harness.short_ttl)
    store.put("k", "b", harness.short_ttl)
    harness.expire()
    assert store.put("k", "c", LONG_TTL) == StateRecord("c", 1)


# -- compare_and_set --------------------------------------------------------------------------


def test_compare_and_set_with_the_current_version_writes(harness: Harness) -> None:
    store = harness.store
    store.claim("k", "in_progress", LONG_TTL)
    assert store.compare_and_set("k", 1, "done", LONG_TTL) == StateRecord("done", 2)
    assert store.get("k") == StateRecord("done", 2)
    assert store.compare_and_set("k", 2, "done again", LONG_TTL) == StateRecord("done again", 3)


def test_compare_and_set_with_a_stale_version_changes_nothing(harness: Harness) -> None:
    store = harness.store
    store.claim("k", "a", LONG_TTL)
    store.put("k", "b", LONG_TTL)
    assert store.compare_and_set("k", 1, "lost update", LONG_TTL) is None
    assert store.compare_and_set("k", 3, "from the future", LONG_TTL) is None
    assert store.get("k") == StateRecord("b", 2)


def test_compare_and_set_on_an_absent_or_expired_key_is_none(harness: Harness) -> None:
    store = harness.store
    assert store.compare_and_set("never", 1, "v", LONG_TTL) is None
    assert store.get("never") is None
    store.claim("k", "v", harness.short_ttl)
    harness.expire()
    assert store.compare_and_set("k", 1, "too late", LONG_TTL) is None
    assert store.get("k") is None


def test_compare_and_set_replaces_the_ttl(harness: Harness) -> None:
    store = harness.store
    store.claim("extended", "v", harness.short_ttl)
    assert store.compare_and_set("extended", 1, "v2", LONG_TTL) is not None
    store.claim("shortened", "v", LONG_TTL)
    assert store.compare_and_set("shortened", 1, "v2", harness.short_ttl) is not None
    harness.expire()
    assert store.get("extended") == StateRecord("v2", 2)
    assert store.get("shortened") is None


# -- delete -----------------------------------------------------------------------------------


def test_delete_removes_a_live_key(harness: Harness) -> None:
    store = harness.store
    store.claim("k", "v", LONG_TTL)
    assert store.delete("k") is True
    assert store.get("k") is None
    assert store.delete("k") is False
    assert store.claim("k", "again", LONG_TTL) is None


def test_delete_with_a_version_deletes_only_that_version(harness: Harness) -> None:
    store = harness.store
    store.claim("k", "v", LONG_TTL)
    store.put("k", "v2", LONG_TTL)
    assert store.delete("k", expected_version=1) is False
    assert store.get("k") == StateRecord("v2", 2)
    assert store.delete("k", expected_version=2) is True
    assert store.get("k") is None


def test_delete_of_an_absent_or_expired_key_is_false(harness: Harness) -> None:
    store = harness.store
    assert store.delete("never") is False
    assert store.delete("never", expected_version=1) is False
    store.claim("a", "v", harness.short_ttl)
    store.claim("b", "v", harness.short_ttl)
    harness.expire()
    assert store.delete("a") is False
    assert store.delete("b", expected_version=1) is False


# -- values, keys, arguments, lifecycle ---------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "",
        '{"state": "done", "response": {"statusCode": 202}}',
        "3:not-a-version-prefix:",
        "邮件 ✉ é",
        "line one\nline two\t\x00nul",
        json.dumps({"blob": "x" * 65536}),
    ],
    ids=["empty", "json", "colons", "unicode", "control", "64k"],
)
def test_values_round_trip_exactly(harness: Harness, value: str) -> None:
    store = harness.store
    assert store.claim("claimed", value, LONG_TTL) is None
    assert store.get("claimed") == StateRecord(value, 1)
    assert store.claim("claimed", "other", LONG_TTL) == StateRecord(value, 1)
    assert store.put("put", value, LONG_TTL) == StateRecord(value, 1)
    assert store.compare_and_set("put", 1, value, LONG_TTL) == StateRecord(value, 2)
    assert store.get("put") == StateRecord(value, 2)


def test_keys_are_independent(harness: Harness) -> None:
    store = harness.store
    keys = ["idem:abc", "idem:ab", "idem:abc:", "timer:daily:2026-01-05T01:00:00Z", "sp ace", "键"]
    for index, key in enumerate(keys):
        assert store.claim(key, str(index), LONG_TTL) is None
    store.put(keys[0], "changed", LONG_TTL)
    store.delete(keys[1])
    assert store.get(keys[0]) == StateRecord("changed", 2)
    assert store.get(keys[1]) is None
    for index, key in enumerate(keys[2:], start=2):
        assert store.get(key) == StateRecord(str(index), 1)


@pytest.mark.parametrize("ttl", [0, -1.0, float("nan"), float("inf"), True])
def test_a_ttl_that_is_not_a_positive_finite_number_is_rejected(
    harness: Harness, ttl: float
) -> None:
    store = harness.store
    with pytest.raises(ValueError, match="ttl_seconds"):
        store.claim("k", "v", ttl)
    with pytest.raises(ValueError, match="ttl_seconds"):
        store.put("k", "v", ttl)
    store.claim("k", "v", LONG_TTL)
    with pytest.raises(ValueError, match="ttl_seconds"):
        store.compare_and_set("k", 1, "v2", ttl)
    assert store.get("k") == StateRecord("v", 1)


def test_an_empty_or_oversized_key_is_rejected(harness: Harness) -> None:
    for key in ["", "k" * (MAX_KEY_LENGTH + 1)]:
        with pytest.raises(ValueError, match="key"):
            harness.store.claim(key, "v", LONG_TTL)
        with pytest.raises(ValueError, match="key"):
            harness.store.get(key)
    assert harness.store.claim("k" * MAX_KEY_LENGTH, "v", LONG_TTL) is None


def test_close_is_idempotent_and_later_calls_raise_state_store_error(harness: Harness) -> None:
    store = harness.store
    store.put("k", "v", LONG_TTL)
    store.close()
    store.close()
    with pytest.raises(StateStoreError, match="closed"):
        store.get("k")
    with pytest.raises(StateStoreError, match="closed"):
        store.claim("k", "v", LONG_TTL)


# -- concurrency: threads ---------------------------------------------------------------------


def _race(count: int, action: Callable[[int], T]) -> list[T]:
    """Run action(0..count-1) on `count` threads released together; re-raise any failure."""
    barrier = threading.Barrier(count)
    results: dict[int, T] = {}
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = action(index)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    assert len(results) == count
    return [results[i] for i in range(count)]


def test_threads_claiming_one_key_have_exactly_one_winner(harness: Harness) -> None:
    store = harness.store
    outcomes = _race(THREADS, lambda i: store.claim("race", f"thread-{i}", LONG_TTL))
    winners = [i for i, outcome in enumerate(outcomes) if outcome is None]
    assert len(winners) == 1
    winner = StateRecord(f"thread-{winners[0]}", 1)
    assert all(outcome == winner for outcome in outcomes if outcome is not None)
    assert store.get("race") == winner


def test_threads_compare_and_set_from_one_version_have_exactly_one_winner(
    harness: Harness,
) -> None:
    store = harness.store
    store.claim("race", "start", LONG_TTL)
    outcomes = _race(THREADS, lambda i: store.compare_and_set("race", 1, f"t{i}", LONG_TTL))
    written = [outcome for outcome in outcomes if outcome is not None]
    assert len(written) == 1
    assert store.get("race") == written[0] == StateRecord(written[0].value, 2)


def test_concurrent_puts_never_reuse_a_version(harness: Harness) -> None:
    store = harness.store
    puts_per_thread = 5

    def put_many(index: int) -> list[int]:
        return [store.put("counter", f"{index}", LONG_TTL).version for _ in range(puts_per_thread)]

    versions = [v for batch in _race(20, put_many) for v in batch]
    assert sorted(versions) == list(range(1, 20 * puts_per_thread + 1))
    record = store.get("counter")
    assert record is not None
    assert record.version == 20 * puts_per_thread


# -- concurrency: processes -------------------------------------------------------------------


def _claim_in_child(url: str, key: str, name: str, barrier: Any, results: Any) -> None:
    """Runs in a spawned interpreter: open the store from its URL, then claim with the others."""
    try:
        store = open_state_store(url, SystemClock())
        try:
            barrier.wait(timeout=30)
            existing = store.claim(key, name, LONG_TTL)
        finally:
            store.close()
        results.put((name, None if existing is None else existing.value, None))
    except BaseException as exc:
        results.put((name, None, repr(exc)))


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def shared_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store URL that separate processes can open onto the same data."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shared' / 'kv.sqlite3'}"
    url: str = request.getfixturevalue("redis_server")
    return f"{url}?prefix=mp-{uuid.uuid4().hex}:"


def test_processes_claiming_one_key_have_exactly_one_winner(shared_url: str) -> None:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(PROCESSES)
    results = context.Queue()
    names = [f"process-{i}" for i in range(PROCESSES)]
    children = [
        context.Process(target=_claim_in_child, args=(shared_url, "race", n, barrier, results))
        for n in names
    ]
    for child in children:
        child.start()
    try:
        outcomes = [results.get(timeout=60) for _ in children]
    finally:
        for child in children:
            child.join(timeout=30)
        results.close()
        results.join_thread()
    assert [error for _, _, error in outcomes if error] == []
    winners = [name for name, seen, _ in outcomes if seen is None]
    assert len(winners) == 1
    assert {seen for _, seen, _ in outcomes if seen is not None} == {winners[0]}
    store = open_state_store(shared_url, SystemClock())
    try:
        assert store.get("race") == StateRecord(winners[0], 1)
    finally:
        store.close()


# -- adapter specifics ------------------------------------------------------------------------


def test_memory_expiry_is_judged_on_the_injected_clock() -> None:
    clock = ManualClock()
    store = MemoryStateStore(clock)
    store.claim("k", "v", 10)
    clock.advance(9.999)
    assert store.get("k") == StateRecord("v", 1)
    clock.advance(0.001)  # a record is dead from the instant its TTL runs out
    assert store.get("k") is None


def test_memory_forgets_expired_entries_without_being_asked() -> None:
    clock = ManualClock()
    store = MemoryStateStore(clock)
    for i in range(100):
        store.put(f"old-{i}", "v", 5)
    clock.advance(6)
    for i in range(200):
        store.put(f"new-{i}", "v", LONG_TTL)
    assert len(store._data) == 200  # the sweep ran; no expired entry is left behind


def test_memory_full_of_guarding_keys_refuses_a_new_key_and_keeps_every_live_one() -> None:
    clock = ManualClock()
    store = MemoryStateStore(clock, max_keys=3)
    for name in ("idem:a", "once:b", "campaign:c"):
        assert store.claim(name, "held", LONG_TTL) is None
    with pytest.raises(StateStoreError, match="full"):
        store.claim("idem:new", "v", LONG_TTL)
    with pytest.raises(StateStoreError, match="full"):
        store.put("once:new", "v", LONG_TTL)
    assert store.get("idem:new") is None
    # Every live claim still holds: a repeat of any of them loses, so nothing is sent twice.
    for name in ("idem:a", "once:b", "campaign:c"):
        assert store.claim(name, "again", LONG_TTL) == StateRecord("held", 1)
    # Writing a key that exists needs no room: a guard can always record its send's outcome.
    assert store.put("idem:a", "sent", LONG_TTL) == StateRecord("sent", 2)
    assert store.compare_and_set("once:b", 1, "done", LONG_TTL) == StateRecord("done", 2)
    assert store.delete("campaign:c")
    assert store.claim("idem:new", "v", LONG_TTL) is None  # a freed slot is usable at once


def test_memory_full_store_drops_expired_keys_to_make_room() -> None:
    clock = ManualClock()
    store = MemoryStateStore(clock, max_keys=3)
    store.claim("idem:short", "v", 5)
    store.claim("idem:long-1", "v", LONG_TTL)
    store.claim("idem:long-2", "v", LONG_TTL)
    with pytest.raises(StateStoreError):
        store.claim("idem:next", "v", LONG_TTL)
    clock.advance(5)
    assert store.claim("idem:next", "v", LONG_TTL) is None
    assert sorted(store._data) == ["idem:long-1", "idem:long-2", "idem:next"]


def test_memory_full_store_evicts_the_soonest_expiring_dedupe_keys_never_a_claim() -> None:
    clock = ManualClock()
    store = MemoryStateStore(clock, max_keys=200, evictable_prefixes=("sesevent:",))
    assert store.claim("idem:early", "held", 300) is None  # expires before every dedupe key
    for i in range(199):
        clock.advance(1)
        assert store.claim(f"sesevent:{i}", "1", LONG_TTL) is None
    # A flood of new dedupe keys (and a new claim) finds room by forgetting the oldest ones.
    for i in range(199, 1000):
        assert store.claim(f"sesevent:{i}", "1", LONG_TTL) is None
    assert store.claim("idem:late", "held", LONG_TTL) is None
    assert len(store._data) <= 200
    assert store.get("idem:early") == StateRecord("held", 1)
    assert store.get("idem:late") == StateRecord("held", 1)
    assert store.get("sesevent:999") is not None
    assert store.get("sesevent:0") is None
    kept = sorted(int(k.split(":")[1]) for k in store._data if k.startswith("sesevent:"))
    assert kept == list(range(1000 - len(kept), 1000))  # the newest survive, oldest go first


def test_memory_without_evictable_prefixes_never_evicts_a_live_key() -> None:
    clock = ManualClock()
    store = MemoryStateStore(clock, max_keys=2, evictable_prefixes=())
    store.claim("sesevent:a", "1", LONG_TTL)
    store.claim("sesevent:b", "1", LONG_TTL)
    with pytest.raises(StateStoreError):
        store.claim("sesevent:c", "1", LONG_TTL)
    assert store.get("sesevent:a") is not None
    assert store.get("sesevent:b") is not None


@pytest.mark.parametrize("max_keys", [0, -1, 1.5, True])
def test_memory_max_keys_must_be_a_positive_whole_number(max_keys: Any) -> None:
    with pytest.raises(ValueError, match="max_keys"):
        MemoryStateStore(ManualClock(), max_keys=max_keys)


def test_memory_url_store_is_capped_by_default() -> None:
    store = open_state_store("memory://", ManualClock())
    assert isinstance(store, MemoryStateStore)
    assert store._max_keys == DEFAULT_MAX_KEYS


def test_sqlite_creates_parent_folders_and_uses_wal(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "kv.sqlite3"
    store = SqliteStateStore(path, ManualClock())
    store.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_sqlite_purges_expired_rows_as_it_writes(tmp_path: Path) -> None:
    clock = ManualClock()
    path = tmp_path / "kv.sqlite3"
    store = SqliteStateStore(path, clock, purge_every=1, purge_limit=100)
    try:
        for i in range(10):
            store.put(f"old-{i}", "v", 5)
        clock.advance(6)
        store.put("fresh", "v", LONG_TTL)
        with sqlite3.connect(path) as conn:
            keys = [row[0] for row in conn.execute("SELECT key FROM kv")]
        conn.close()
        assert keys == ["fresh"]
    finally:
        store.close()


def test_sqlite_handles_on_one_file_see_each_other(tmp_path: Path) -> None:
    clock = ManualClock()
    first = SqliteStateStore(tmp_path / "kv.sqlite3", clock)
    second = SqliteStateStore(tmp_path / "kv.sqlite3", clock)
    try:
        assert first.claim("k", "one", LONG_TTL) is None
        assert second.claim("k", "two", LONG_TTL) == StateRecord("one", 1)
        assert second.compare_and_set("k", 1, "two", LONG_TTL) == StateRecord("two", 2)
        assert first.get("k") == StateRecord("two", 2)
    finally:
        first.close()
        second.close()


def test_sqlite_unusable_path_raises_state_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(StateStoreError, match="open failed"):
        SqliteStateStore(blocker / "kv.sqlite3", ManualClock())


@pytest.mark.redis
def test_redis_prefixes_separate_namespaces(redis_server: str) -> None:
    clock = SystemClock()
    tag = uuid.uuid4().hex
    left = open_state_store(f"{redis_server}?prefix=left-{tag}:", clock)
    right = open_state_store(f"{redis_server}?prefix=right-{tag}:", clock)
    try:
        assert left.claim("k", "left", LONG_TTL) is None
        assert right.claim("k", "right", LONG_TTL) is None
        assert left.get("k") == StateRecord("left", 1)
        assert right.get("k") == StateRecord("right", 1)
    finally:
        left.close()
        right.close()


@pytest.mark.redis
def test_redis_acl_user_authenticates_and_a_wrong_password_stays_hidden(redis_server: str) -> None:
    import redis

    user, password = f"relay-{uuid.uuid4().hex[:8]}", "Sup3r-Secret-Value"
    admin = redis.Redis.from_url(redis_server)
    try:
        admin.acl_setuser(
            user, enabled=True, passwords=[f"+{password}"], keys=["*"], commands=["+@all"]
        )
    finally:
        admin.close()
    authority = f"redis://{user}:{{}}@"
    good = open_state_store(
        redis_server.replace("redis://", authority.format(password)), SystemClock()
    )
    try:
        assert good.claim("k", "v", LONG_TTL) is None
    finally:
        good.close()
    wrong = "Wr0ng-" + password
    bad = open_state_store(redis_server.replace("redis://", authority.format(wrong)), SystemClock())
    try:
        with pytest.raises(StateStoreError, match="claim failed") as caught:
            bad.claim("k", "v", LONG_TTL)
    finally:
        bad.close()
    _assert_hidden(wrong, caught.value)


def test_redis_unreachable_fails_fast_without_the_password() -> None:
    password = "Sup3r-Secret-Value"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again below: nothing listens there
    store = open_state_store(f"redis://:{password}@127.0.0.1:{port}/0", SystemClock())
    try:
        # On the refused connection itself: not retried, not waited out.
        with pytest.raises(StateStoreError, match="claim failed: ConnectionError") as caught:
            store.claim("k", "v", LONG_TTL)
    finally:
        store.close()
    assert "refused" in str(caught.value)
    _assert_hidden(password, caught.value)


def test_redis_silent_server_times_out_instead_of_hanging() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)  # the kernel accepts the connection; nobody ever answers
        host, port = listener.getsockname()
        store = RedisStateStore(host, port, socket_timeout=0.3, connect_timeout=0.3)
        try:
            # The store's own read timeout ends the wait: it is what the error reports.
            with pytest.raises(StateStoreError, match="get failed: TimeoutError"):
                store.get("k")
        finally:
            store.close()


def test_redis_error_text_that_contains_the_password_is_scrubbed() -> None:
    import redis

    password = "Sup3r-Secret-Value"
    store = RedisStateStore("127.0.0.1", 1, password=password)

    def leaky() -> None:
        raise redis.ConnectionError(f"AUTH {password} rejected")

    try:
        with pytest.raises(StateStoreError, match=r"AUTH \*\*\* rejected") as caught:
            store._call("get", leaky)
    finally:
        store.close()
    _assert_hidden(password, caught.value)


def _assert_hidden(secret: str, error: BaseException) -> None:
    seen: BaseException | None = error
    while seen is not None:  # the whole chain ends up in logged tracebacks
        assert secret not in str(seen)
        assert secret not in repr(seen)
        seen = seen.__cause__ or seen.__context__
