"""The reconciliation rules of campaigns: what SES's lists say about a write with no reply."""

from __future__ import annotations

import pytest

from sesrelay.campaigns.reconcile import Verdict, group_verdict, task_verdict, upload_verdict

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
