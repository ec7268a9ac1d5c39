"""One contract for every RateLimiter: in-process (one instance) and Redis (the fleet).

Permits of one key are spaced `interval` apart; a permit stays in the window from its slot until
one period after it was answered, and no more than `limit` are ever in it, so no window of one
period holds more than `limit` requests however late they reach SES. A caller whose permit lies
beyond its deadline is refused and takes nothing. Redis runs on real time (its TIME is the
clock); reservations are observed through a clock whose sleep only records.
"""

from __future__ import annotations

import itertools
import logging
import multiprocessing
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from sesrelay.adapters.ratelimit_memory import MemoryRateLimiter
from sesrelay.adapters.ratelimit_redis import RedisRateLimiter
from sesrelay.adapters.ratelimit_url import open_rate_limiter
from sesrelay.clock import Clock, Deadline, ManualClock, SystemClock
from sesrelay.errors import Outcome, SesError
from sesrelay.ratelimit import RateLimit, RateLimited, RateLimiter, RateLimiterUnavailable
from tests.polling import wait_until

MakeLimiter = Callable[[RateLimit, Clock], RateLimiter]

#: How far observations of evenly spaced grants may drift on a busy two-core machine (a thread or
#: process woken late after its slot); a limiter that bursts is off by most of a second, not this.
JITTER = 0.1

#: Reservation tests: a slot every 0.5 s and a window that never binds for a handful of permits.
SPACED = RateLimit(limit=10, period=5.0, headroom=0.0)


class RecordingClock(SystemClock):
    """Real time, but sleep only records how long the limiter asked to wait.

    Nobody waits, so the slots reserved by a quick series of calls are 0, 1/rate, 2/rate, ...
    ahead of the first call, and each wait is that minus the real time elapsed since the first.
    """

    def __init__(self) -> None:
        self.slept: list[float] = []
        #: when each wait would have ended: the slot it was for (one append: thread-safe)
        self.slots: list[float] = []
        self.started = time.monotonic()

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.slots.append(time.monotonic() + seconds)

    def elapsed(self) -> float:
        return time.monotonic() - self.started


def assert_waits(clock: RecordingClock, expected: list[float]) -> None:
    """Each recorded wait is the expected one less some of the real time elapsed so far."""
    elapsed = clock.elapsed()
    assert len(clock.slept) == len(expected), (clock.slept, expected)
    for wait, want in zip(clock.slept, expected, strict=True):
        assert want - elapsed - 0.005 <= wait <= want + 0.005, (clock.slept, expected, elapsed)


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def make_limiter(request: pytest.FixtureRequest) -> Iterator[MakeLimiter]:
    made: list[RateLimiter] = []
    url = "memory://" if request.param == "memory" else str(request.getfixturevalue("redis_server"))

    def make(rate: RateLimit, clock: Clock) -> RateLimiter:
        limiter = open_rate_limiter(url, clock, rate)
        made.append(limiter)
        return limiter

    yield make
    for limiter in made:
        limiter.close()


def fresh_key() -> str:
    return f"test:{uuid.uuid4().hex}"


def assert_no_window_exceeds(grants: list[float], limit: int, tolerance: float) -> None:
    """No half-open window of one second holds more than `limit` of the grant times."""
    ordered = sorted(grants)
    for first, last in zip(ordered, ordered[limit:], strict=False):
        assert last - first >= 1.0 - tolerance, (first, last, ordered)


def test_concurrent_callers_never_exceed_the_limit_in_any_window(
    make_limiter: MakeLimiter,
) -> None:
    rate, threads, each = RateLimit(40), 6, 10
    limiter = make_limiter(rate, SystemClock())
    key = fresh_key()
    grants: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(threads)

    def worker() -> None:
        barrier.wait(timeout=10)
        for _ in range(each):
            permit = limiter.acquire(key, Deadline(SystemClock(), 30))
            with lock:
                grants.append(time.monotonic())
            permit.answered()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=30)
    assert len(grants) == threads * each
    assert_no_window_exceeds(grants, 40, JITTER)


def test_concurrent_callers_take_consecutive_slots_none_shared_none_skipped(
    make_limiter: MakeLimiter,
) -> None:
    """No slot is left unused under contention: 60 callers from 6 threads at once reserve the
    next 60 slots, one interval apart. Nobody waits (the clock only records), so the slots are
    observed as reserved, not as late wake-ups of busy threads."""
    rate = RateLimit(limit=100, period=50.0, headroom=0.0)  # a slot every 0.5 s; no window binds
    threads, each = 6, 10
    clock = RecordingClock()
    limiter = make_limiter(rate, clock)
    key = fresh_key()
    barrier = threading.Barrier(threads)

    def worker() -> None:
        barrier.wait(timeout=10)
        for _ in range(each):
            limiter.acquire(key, Deadline(clock, 60))

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=30)
    # The first caller's slot was free (no wait to record); every other one waited for its own.
    assert len(clock.slots) == threads * each - 1
    slots = sorted(clock.slots)
    gaps = [later - earlier for earlier, later in itertools.pairwise(slots)]
    assert all(abs(gap - rate.interval) < JITTER for gap in gaps), gaps


def test_callers_queue_by_reservation(make_limiter: MakeLimiter) -> None:
    clock = RecordingClock()
    limiter = make_limiter(SPACED, clock)
    key = fresh_key()
    for _ in range(5):  # nobody really waits: each reserves the slot after the previous one
        limiter.acquire(key, Deadline(clock, 30))
    assert_waits(clock, [0.5, 1.0, 1.5, 2.0])


def test_a_caller_whose_slot_is_beyond_its_deadline_is_refused_and_takes_nothing(
    make_limiter: MakeLimiter,
) -> None:
    clock = RecordingClock()
    limiter = make_limiter(SPACED, clock)
    key = fresh_key()
    limiter.acquire(key, Deadline(clock, 30))
    limiter.acquire(key, Deadline(clock, 30))  # reserved 0.5 s ahead
    with pytest.raises(RateLimited) as caught:
        limiter.acquire(key, Deadline(clock, 0.6))  # the next slot is 1 s ahead
    error = caught.value
    assert 1.0 - clock.elapsed() - 0.005 <= error.retry_after <= 1.005
    assert (error.code, error.outcome) == ("rate_limited", Outcome.RETRYABLE)
    assert isinstance(error, SesError)
    assert "retry after 1 s" in error.message
    limiter.acquire(key, Deadline(clock, 30))  # gets the slot the refused caller did not take
    assert_waits(clock, [0.5, 1.0])


def test_a_free_slot_is_granted_even_with_no_time_left(make_limiter: MakeLimiter) -> None:
    clock = RecordingClock()
    make_limiter(SPACED, clock).acquire(fresh_key(), Deadline(clock, 0))
    assert clock.slept == []


def test_keys_have_separate_budgets(make_limiter: MakeLimiter) -> None:
    clock = RecordingClock()
    limiter = make_limiter(SPACED, clock)
    send, status = fresh_key(), fresh_key()
    limiter.acquire(send, Deadline(clock, 30))
    limiter.acquire(status, Deadline(clock, 0.01))  # not behind the other key's slot
    with pytest.raises(RateLimited):
        limiter.acquire(send, Deadline(clock, 0.01))
    assert clock.slept == []


def test_the_slot_after_a_quiet_spell_is_immediate(make_limiter: MakeLimiter) -> None:
    rate = RateLimit(20)
    key = fresh_key()
    clock = RecordingClock()
    limiter = make_limiter(rate, clock)
    limiter.acquire(key, Deadline(clock, 30)).answered()

    def granted_with_no_time_left() -> bool:
        try:
            limiter.acquire(key, Deadline(clock, 0))
        except RateLimited:
            return False  # the next slot is still ahead (and a refusal takes nothing)
        return True

    assert wait_until(granted_with_no_time_left, timeout=5)
    assert clock.slept == []  # granted at once, without waiting
    assert clock.elapsed() >= rate.interval - 0.005  # once one interval had passed


@pytest.mark.parametrize("answer_the_first", [True, False])
def test_a_permit_leaves_the_window_one_period_after_its_answer(
    make_limiter: MakeLimiter, answer_the_first: bool
) -> None:
    # Two per 0.4 s window, slots 0.2 s apart: the spacing alone would grant #3 at 0.4 s.
    limiter = make_limiter(RateLimit(limit=2, period=0.4, headroom=0.0), SystemClock())
    key = fresh_key()
    started = time.monotonic()
    first = limiter.acquire(key, Deadline(SystemClock(), 5))
    if answer_the_first:
        first.answered()  # leaves at 0.4 s
    limiter.acquire(key, Deadline(SystemClock(), 5)).answered()  # at 0.2 s; leaves at 0.6 s
    limiter.acquire(key, Deadline(SystemClock(), 5))
    third = time.monotonic() - started
    if answer_the_first:
        assert third >= 0.39
    else:  # the first is still in flight (for all we know, still on its way to SES)
        assert third >= 0.59


def test_answering_twice_is_harmless(make_limiter: MakeLimiter) -> None:
    """Only the first answer counts: a later one neither frees more of the window nor holds the
    permit in it any longer."""
    rate = RateLimit(limit=2, period=0.6, headroom=0.0)  # slots 0.3 s apart, two per window
    patience = (rate.interval + rate.period) / 2  # time enough for the next slot, not for a period
    limiter = make_limiter(rate, SystemClock())
    key = fresh_key()
    first = limiter.acquire(key, Deadline(SystemClock(), 5))
    second = limiter.acquire(key, Deadline(SystemClock(), 5))  # at 0.3 s; in flight
    first.answered()  # leaves the window one period from now
    first.answered()
    # The window still holds both until the first leaves: nothing beyond it was freed.
    with pytest.raises(RateLimited) as caught:
        limiter.acquire(key, Deadline(SystemClock(), patience))
    assert rate.period - JITTER <= caught.value.retry_after <= rate.period + 0.005
    second.answered()
    limiter.acquire(key, Deadline(SystemClock(), 5))  # once both have left; in flight
    first.answered()  # a period after its first answer: it must not come back
    # Only the spacing binds now (the window holds one permit): the next slot is granted.
    limiter.acquire(key, Deadline(SystemClock(), patience))


@pytest.mark.parametrize(
    "values",
    [{"limit": 0}, {"limit": 2.5}, {"limit": 20, "period": 0}, {"limit": 20, "headroom": 1}],
)
def test_a_rate_limit_must_make_sense(values: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="rate"):
        RateLimit(**values)


def test_the_default_headroom_spaces_twenty_per_second_at_nineteen() -> None:
    assert RateLimit(20).interval == pytest.approx(1 / 19)


# -- in-process limiter on a ManualClock: exact ------------------------------------------------


def test_memory_spacing_is_exact_on_a_manual_clock() -> None:
    clock = ManualClock()
    limiter = MemoryRateLimiter(RateLimit(20), clock)
    grants = []
    for _ in range(45):
        limiter.acquire("ses:x:SendEmail", Deadline(clock, 30)).answered()
        grants.append(clock.monotonic())
    assert clock.slept == pytest.approx([1 / 19] * 44)
    assert_no_window_exceeds(grants, 20, tolerance=1e-9)


def test_memory_window_waits_for_the_oldest_answered_permit_on_a_manual_clock() -> None:
    clock = ManualClock()
    limiter = MemoryRateLimiter(RateLimit(limit=3, period=1.0, headroom=0.0), clock)
    start = clock.monotonic()
    limiter.acquire("k", Deadline(clock, 30))  # #1 at 0, never answered
    limiter.acquire("k", Deadline(clock, 30)).answered()  # #2 at 1/3: leaves at 4/3
    limiter.acquire("k", Deadline(clock, 30)).answered()  # #3 at 2/3: leaves at 5/3
    limiter.acquire("k", Deadline(clock, 30))  # #4: its slot (1.0) waits for #2 to leave
    assert clock.monotonic() - start == pytest.approx(4 / 3)


def test_memory_window_full_of_unanswered_permits_refuses_at_the_deadline() -> None:
    clock = ManualClock()
    limiter = MemoryRateLimiter(RateLimit(limit=2, period=1.0, headroom=0.0), clock)
    start = clock.monotonic()
    limiter.acquire("k", Deadline(clock, 30))  # in flight (a dead instance, say)
    limiter.acquire("k", Deadline(clock, 30))  # in flight
    with pytest.raises(RateLimited) as caught:
        limiter.acquire("k", Deadline(clock, 0.9))  # nothing can leave within a period
    assert caught.value.retry_after == pytest.approx(1.0)
    with pytest.raises(RateLimited):
        limiter.acquire("k", Deadline(clock, 3))  # waits, looks again each period, gives up
    assert clock.monotonic() - start > 3


# -- Redis: shared by every instance ------------------------------------------------------------


@pytest.mark.redis
def test_two_redis_limiters_share_one_budget(redis_server: str) -> None:
    clock = RecordingClock()
    first = open_rate_limiter(redis_server, clock, SPACED)
    second = open_rate_limiter(redis_server, clock, SPACED)
    key = fresh_key()
    try:
        first.acquire(key, Deadline(clock, 30))
        with pytest.raises(RateLimited) as caught:
            second.acquire(key, Deadline(clock, 0.2))
        assert 0.5 - clock.elapsed() - 0.005 <= caught.value.retry_after <= 0.505
    finally:
        first.close()
        second.close()


@pytest.mark.redis
def test_redis_prefixes_separate_budgets(redis_server: str) -> None:
    clock = RecordingClock()
    tag = uuid.uuid4().hex[:8]
    left = open_rate_limiter(f"{redis_server}?prefix=left-{tag}:", clock, SPACED)
    right = open_rate_limiter(f"{redis_server}?prefix=right-{tag}:", clock, SPACED)
    try:
        left.acquire("ses:h:SendEmail", Deadline(clock, 30))
        right.acquire("ses:h:SendEmail", Deadline(clock, 0))
        assert clock.slept == []
        assert isinstance(left, RedisRateLimiter)
        assert f"left-{tag}:ratelimit:" in repr(left)
    finally:
        left.close()
        right.close()


def _process_worker(
    url: str, key: str, count: int, barrier: Any, results: Any
) -> None:  # pragma: no cover - runs in a child process
    limiter = open_rate_limiter(url, SystemClock(), RateLimit(20))
    barrier.wait(timeout=60)
    grants = []
    for _ in range(count):
        permit = limiter.acquire(key, Deadline(SystemClock(), 30))
        grants.append(time.time())  # wall clock: comparable across processes on one machine
        permit.answered()
    limiter.close()
    results.put(grants)


@pytest.mark.redis
def test_four_processes_never_exceed_the_limit_in_any_window(redis_server: str) -> None:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(4)
    results = ctx.Queue()
    key = fresh_key()
    procs = [
        ctx.Process(target=_process_worker, args=(redis_server, key, 10, barrier, results))
        for _ in range(4)
    ]
    for proc in procs:
        proc.start()
    grants = [t for _ in procs for t in results.get(timeout=60)]
    for proc in procs:
        proc.join(timeout=30)
        assert proc.exitcode == 0
    results.close()
    results.join_thread()
    assert len(grants) == 40
    # Four unshared limiters would let 76 through per second; one budget lets 19.
    assert_no_window_exceeds(grants, 20, JITTER)


@pytest.mark.redis
def test_a_failed_release_is_logged_not_raised(
    redis_server: str, caplog: pytest.LogCaptureFixture
) -> None:
    limiter = open_rate_limiter(redis_server, SystemClock(), SPACED)
    permit = limiter.acquire(fresh_key(), Deadline(SystemClock(), 1))
    limiter.close()
    with caplog.at_level(logging.WARNING, logger="sesrelay"):
        permit.answered()  # SES already answered: this must never turn into an error
    assert "not released early" in caplog.text


def test_unreachable_redis_fails_closed_without_the_password() -> None:
    password = "Sup3r-Secret-Value"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again below: nothing listens there
    url = f"redis://:{password}@127.0.0.1:{port}/0"
    limiter = open_rate_limiter(url, SystemClock(), RateLimit(20))
    try:
        # On the refused connection itself: not retried, not waited out until the deadline.
        refused = "acquire failed: ConnectionError"
        with pytest.raises(RateLimiterUnavailable, match=refused) as caught:
            limiter.acquire("ses:h:SendEmail", Deadline(SystemClock(), 30))
    finally:
        limiter.close()
    error = caught.value
    assert "refused" in error.message
    assert (error.code, error.outcome) == ("state_store_unavailable", Outcome.RETRYABLE)
    _assert_hidden(password, error)
    assert password not in repr(limiter)


def test_redis_error_text_that_contains_the_password_is_scrubbed() -> None:
    import redis

    password = "Sup3r-Secret-Value"
    limiter = RedisRateLimiter(RateLimit(20), SystemClock(), "127.0.0.1", 1, password=password)

    def leaky() -> list[int]:
        raise redis.ConnectionError(f"AUTH {password} rejected")

    try:
        with pytest.raises(RateLimiterUnavailable, match=r"AUTH \*\*\* rejected") as caught:
            limiter._call("acquire", leaky)
    finally:
        limiter.close()
    _assert_hidden(password, caught.value)


def test_a_closed_redis_limiter_refuses_to_grant() -> None:
    limiter = RedisRateLimiter(RateLimit(20), SystemClock(), "127.0.0.1", 1)
    limiter.close()
    limiter.close()  # idempotent
    with pytest.raises(RateLimiterUnavailable, match="closed"):
        limiter.acquire("k", Deadline(SystemClock(), 1))


def _assert_hidden(secret: str, error: BaseException) -> None:
    seen: BaseException | None = error
    while seen is not None:
        assert secret not in str(seen)
        assert secret not in repr(seen.args)
        seen = seen.__cause__ or seen.__context__
