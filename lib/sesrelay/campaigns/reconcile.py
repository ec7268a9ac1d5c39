"""What SES's own lists say about a campaign's writes: pure rules, applied by the runner.

SES has no idempotency token and does not deduplicate uploads or tasks, so a write whose reply
was lost is judged from ListReceivers counts or ListSendTasks instead.
"""

from __future__ import annotations

from enum import Enum

Listing = tuple[int, int, int]  # ReceiverId, ReceiversStatus, Count


class Verdict(str, Enum):
    LANDED = "landed"  # SES did it: record it as done
    ABSENT = "absent"  # SES did not do it: safe to do again
    WAIT = "wait"  # too early to tell: look again later
    MISMATCH = "mismatch"  # SES holds something sesrelay cannot explain: report, never guess


def upload_verdict(
    *, count_before: int, rows: int, status: int | None, count: int, settled: bool
) -> Verdict:
    """An upload of `rows` addresses with an unknown outcome, against the group's listing
    (`status` None: the group is not listed). `settled`: the settle time has passed."""
    if status is None:
        return Verdict.MISMATCH if settled else Verdict.WAIT
    if status == 2:
        return Verdict.WAIT  # SES is still processing an upload: counts are not final
    if count == count_before + rows:
        return Verdict.LANDED
    if count == count_before:
        return Verdict.ABSENT if settled else Verdict.WAIT
    if count > count_before + rows or settled:
        return Verdict.MISMATCH
    return Verdict.WAIT


def group_verdict(
    *, expected: int, last_rows: int, status: int, count: int, recent: bool
) -> Verdict:
    """A group whose uploads all succeeded: does its listing agree? `last_rows`: the size of
    the last upload; `recent`: it was confirmed within the settle time."""
    if status == 2:
        return Verdict.WAIT
    if count == expected:
        return Verdict.LANDED
    if last_rows and recent and count == expected - last_rows:
        return Verdict.WAIT  # SES has not started on the last upload yet
    return Verdict.MISMATCH


def task_verdict(*, tasks: int, settled: bool) -> Verdict:
    """A BatchSendEmail with an unknown outcome, against ListSendTasks for its group (which only
    the campaign uses: the group's name carries the campaign id)."""
    if tasks == 1:
        return Verdict.LANDED
    if tasks > 1:
        return Verdict.MISMATCH
    return Verdict.ABSENT if settled else Verdict.WAIT
