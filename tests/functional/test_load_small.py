"""The fleet load test (`python -m benchmarks load`) in its small configuration: separate processes
(SCF instances) sharing one redis-server send through `main_handler` to the emulator with its 20/s
limit on. Correctness only; the benchmark reports the numbers (rate, latency)."""

from __future__ import annotations

import pytest

from benchmarks.load import QUICK_REQUESTS, QUICK_WORKERS, recipient, run_load


@pytest.mark.redis
def test_small_fleet_holds_the_ses_limit_and_sends_each_mail_once(redis_server: str) -> None:
    report = run_load(QUICK_WORKERS, QUICK_REQUESTS, redis_server)
    assert report.answers == {"202": QUICK_REQUESTS}, report.lines()
    assert report.refused_by_ses == 0, report.lines()
    assert report.ses_calls == QUICK_REQUESTS
    assert report.outbox == QUICK_REQUESTS
    assert report.lost == []
    assert report.duplicated == []
    assert report.misses() == []
    assert recipient(7) == "load-000007@example.org"
