"""What `sesrelay campaign send` prints: progress bars, row problems by file line, failures in
plain words, and the campaign with its groups and tasks. Exit statuses are decided here too.

Standard library only at import, like `cli/campaign.py`.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any, TextIO

EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_PENDING = 0, 1, 2, 3
REPORTED_ROWS = 20  # invalid rows printed; the rest are counted


class Progress:
    """A one-line bar on stderr; redrawn on a terminal, printed once when done otherwise."""

    def __init__(self, label: str, total: int, *, enabled: bool, stream: TextIO) -> None:
        self.label, self.total, self.stream = label, total, stream
        self.enabled = enabled
        self.live = enabled and stream.isatty()
        self._drawn = 0.0

    def _line(self, done: int, note: str) -> str:
        share = min(done / self.total, 1.0) if self.total else 1.0
        bar = "#" * round(share * 30)
        return f"{self.label:<8} [{bar:<30}] {share:4.0%}  {note}"

    def update(self, done: int, note: str = "") -> None:
        now = time.monotonic()
        if self.live and now - self._drawn >= 0.1:
            self._drawn = now
            self.stream.write("\r" + self._line(done, note) + "\x1b[K")
            self.stream.flush()

    def close(self, done: int, note: str = "") -> None:
        if self.enabled:
            self.stream.write(("\r" if self.live else "") + self._line(done, note) + "\n")
            self.stream.flush()


def counts_text(counts: dict[str, int]) -> str:
    """`N rows: N valid, N duplicates, N invalid`."""
    return (
        f"{counts['received']:,} rows: {counts['valid']:,} valid, "
        f"{counts['duplicates']:,} duplicates, {counts['invalid']:,} invalid"
    )


def print_problems(validator: Any, err: TextIO) -> None:
    """The first invalid rows, each by the file line it starts on (the header is line 1)."""
    for problem in validator.problems[:REPORTED_ROWS]:
        where = f", {problem.field}" if problem.field else ""
        print(f"  line {problem.line}{where}: {problem.message}", file=err)
    if validator.invalid > REPORTED_ROWS:
        print(f"  ... and {validator.invalid - REPORTED_ROWS:,} more invalid rows", file=err)


def failure_text(code: str, message: str, endpoint: str) -> str:
    """A failed call in plain words: SES unreachable (naming the endpoint), SES's refusal with
    its code, or one of sesrelay's own errors (snake_case codes) by its message."""
    if code == "ClientNetworkError":  # the gateway words it: refused, no DNS, timed out, ...
        return f"cannot reach SES at {endpoint}: {message}"
    if code.islower():  # sesrelay's own: deadline_exceeded, state_store_unavailable, ...
        return message
    return f"SES answered {code}: {message[:300]}"


def _shard_line(shard: dict[str, Any]) -> str:
    group = (
        f"ReceiverId {shard['ReceiverId']}" if shard["ReceiverId"] is not None else "not created"
    )
    task = f"task {shard['TaskId']}" if shard["TaskId"] is not None else "no task"
    rows = shard["Rows"]
    recipients = f"{rows:,} recipient" + ("" if rows == 1 else "s")
    return f"  group {shard['ReceiverName']} ({group}): {recipients}, {task}"


def report(
    camp: Any, *, as_json: bool, paused: dict[str, Any] | None, endpoint: str, timeout: float
) -> int:
    """Print the campaign (stdout) and what went wrong (stderr); the exit status.

    Still active after the run: 3 when --timeout ran out, 1 when an error stopped the run
    (`paused`: SES unreachable, throttled, the state store down). The campaign is saved either
    way and the campaigns-finisher timer job carries on.
    """
    from sesrelay.campaigns.model import ACTIVE_STATES, campaign_view

    view = campaign_view(camp)
    if as_json:
        print(json.dumps(view, ensure_ascii=False, indent=2))
    else:
        print(f"campaign {camp.id}: {camp.state} ({counts_text(camp.counts)})")
        for shard in view["Shards"]:
            print(_shard_line(shard))
        if view["TaskIds"]:
            print("task ids: " + " ".join(str(task) for task in view["TaskIds"]))
    err = sys.stderr
    for error in camp.errors:
        print(f"sesrelay campaign: {error.get('Code')}: {error.get('Message')}", file=err)
    if camp.state not in ACTIVE_STATES:
        return EXIT_OK if camp.state in ("sent", "scheduled") else EXIT_REFUSED
    finisher = (
        "the campaigns-finisher timer job carries on "
        "(locally: sesrelay invoke events/timer_campaigns-finisher.json)"
    )
    if paused is not None:
        said = failure_text(str(paused.get("Code")), str(paused.get("Message") or ""), endpoint)
        print(f"sesrelay campaign: stopped: {said}", file=err)
        print(
            f"campaign {camp.id} is saved and still {camp.state}; once SES answers again, "
            + finisher,
            file=err,
        )
        return EXIT_REFUSED
    print(
        f"campaign {camp.id} is still {camp.state} after --timeout ({timeout:g} s); " + finisher,
        file=err,
    )
    return EXIT_PENDING
