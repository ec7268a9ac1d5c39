"""The reconciliation rules of campaigns, and the pacer that keeps SES calls under 20/s."""

from __future__ import annotations

import pytest

from sesrelay.campaigns.pacer import PacedGateway, Pacer
from sesrelay.campaigns.reconcile import Verdict, group_verdict, task_verdict, upload_verdict
from sesrelay.clock import Deadline, ManualClock

L, A, W, M = Verdict.LANDED, Verdict.ABSENT, Verdict.WAIT, Verdict.MISMATCH


@pytest.mark.parametrize(
    ("status", "count", "settled", "verdict"),
    [
        (3, 30_000, False, L),  # before 10,000 + 20,000 rows: it landed
        (3, 30_000, True, L),
        (2, 30_000, True, W),  # SES still processing: counts are not final
        (3, 10_000, False, W),  # not there yet: maybe still on its way
        (3, 10_000, True, A),  # settled and absent: safe to upload again
        (3, 20_000, False, W),  # partly there: wait for the settle time ...
        (3, 20_000, True, M),  # ... then report, never guess
        (3, 30_001, False, M),  # more than the upload: someone else wrote
        (None, 0, False, W),  # the group is not listed (yet)
        (None, 0, True, M),
    ],
)
def test_upload_verdicts(status: int | None, count: int, settled: bool, verdict: Verdict) -> None:
    found = upload_verdict(
        count_before=10_000, rows=20_000, status=status, count=count, settled=settled
    )
    assert found is verdict


@pytest.mark.parametrize(
    ("status", "count", "recent", "verdict"),
    [
        (3, 40_000, False, L),
        (2, 20_000, False, W),
        (3, 20_000, True, W),  # SES has not started on the last upload yet
        (3, 20_000, False, M),
        (3, 40_001, True, M),
        (1, 0, True, M),  # emptied under us
    ],
)
def test_group_verdicts(status: int, count: int, recent: bool, verdict: Verdict) -> None:
    found = group_verdict(
        expected=40_000, last_rows=20_000, status=status, count=count, recent=recent
    )
    assert found is verdict


def test_a_fresh_group_agrees_with_nothing_uploaded() -> None:
    assert group_verdict(expected=0, last_rows=0, status=1, count=0, recent=False) is L


@pytest.mark.parametrize(
    ("tasks", "settled", "verdict"), [(1, False, L), (2, False, M), (0, False, W), (0, True, A)]
)
def test_task_verdicts(tasks: int, settled: bool, verdict: Verdict) -> None:
    assert task_verdict(tasks=tasks, settled=settled) is verdict


def test_the_pacer_never_lets_more_than_the_limit_into_any_window() -> None:
    clock = ManualClock()
    pacer = Pacer(clock, limit=20, window=1.0)
    starts = []
    for _ in range(65):
        pacer.wait("CreateReceiverDetailWithData")
        starts.append(clock.monotonic())
    for n in range(len(starts) - 20):
        assert starts[n + 20] - starts[n] >= 1.0
    assert starts[19] == starts[0]  # a burst of 20 goes at once
    assert starts[-1] - starts[0] == pytest.approx(3.0)


def test_each_action_has_its_own_budget() -> None:
    clock = ManualClock()
    pacer = Pacer(clock, limit=2, window=1.0)
    assert [pacer.wait(a) for a in ("A", "A", "B", "B")] == [0, 0, 0, 0]
    assert pacer.wait("A") == pytest.approx(1.0)


class _Recorder:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def call(self, action: str, params: dict[str, object], deadline: Deadline) -> dict[str, object]:
        self.calls.append(action)
        return {"RequestId": "r"}


def test_the_paced_gateway_waits_then_calls() -> None:
    clock = ManualClock()
    inner = _Recorder()
    gateway = PacedGateway(inner, Pacer(clock, limit=1, window=1.0))
    for _ in range(3):
        gateway.call("ListReceivers", {}, Deadline(clock, 10))
    assert inner.calls == ["ListReceivers"] * 3
    assert gateway.waited == pytest.approx(2.0)
