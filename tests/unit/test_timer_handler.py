"""A timer tick on fakes (a recording SES gateway, the memory store, a manual clock): how the
pipeline's outcome becomes the tick's reply. Sent once per tick, a duplicate never calls SES,
retry-later raises RetryLater (SCF retries the tick) and frees the tick, outcome-unknown keeps it,
a bad Message or job is a summary without a call."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sesrelay.adapters.state_memory import MemoryStateStore
from sesrelay.clock import Deadline, ManualClock
from sesrelay.config.model import parse_config
from sesrelay.errors import Outcome, RetryLater, SesError
from sesrelay.settings import Settings
from sesrelay.timers.handler import handle_timer
from sesrelay.wiring import Services, build_services

SEND: dict[str, Any] = {
    "FromEmailAddress": "noreply@example.com",
    "Destination": ["ana@example.org"],
    "Subject": "Digest {{tick.date}}",
    "Template": {"TemplateID": 100002, "TemplateData": {"week": "{{tick.iso_week}}"}},
}
CONFIG = {"jobs": {"digest": {"action": "SendEmail", "params": SEND}}}


class FakeSes:
    def __init__(self, *faults: Exception) -> None:
        self.faults = list(faults)
        self.calls: list[dict[str, Any]] = []

    def call(self, action: str, params: dict[str, Any], deadline: Deadline) -> dict[str, Any]:
        self.calls.append(params)
        if self.faults:
            raise self.faults.pop(0)
        return {"RequestId": f"req-{len(self.calls)}", "MessageId": f"msg-{len(self.calls)}"}


def fault(outcome: Outcome, code: str = "InternalError") -> SesError:
    return SesError(code, "injected", request_id="ses-9", outcome=outcome, action="SendEmail")


def services_with(ses: FakeSes) -> Services:
    clock = ManualClock()
    return build_services(
        Settings(environ={}),
        clock=clock,
        ses=ses,
        state=MemoryStateStore(clock),
        config=parse_config(CONFIG),
    )


def tick(message: object, time: str = "2026-01-04T18:30:00Z") -> dict[str, Any]:
    text = message if isinstance(message, str) else json.dumps(message)
    return {"Type": "Timer", "TriggerName": "weekly", "Time": time, "Message": text}


def run(services: Services, event: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    fields: dict[str, Any] = {}
    reply = handle_timer(event, services, Deadline(services.clock, 30), fields)
    return reply, fields


def test_a_job_tick_sends_once_with_the_tick_values_filled_in() -> None:
    ses = FakeSes()
    services = services_with(ses)
    reply, fields = run(services, tick({"job": "digest"}))
    assert reply["ok"] is True
    assert reply["status"] == "sent"
    assert reply["tick"] == "timer:weekly:2026-01-04T18:30:00Z"
    assert ses.calls[0]["Subject"] == "Digest 2026-01-05"  # UTC+8 by default
    assert json.loads(ses.calls[0]["Template"]["TemplateData"]) == {"week": "2026-W02"}
    assert (fields["entry"], fields["outcome"], fields["status"]) == (
        "timer:digest",
        "sent",
        "sent",
    )
    again, again_fields = run(services, tick({"job": "digest"}))
    assert (again["status"], again["first_outcome"]) == ("duplicate", "sent")
    assert again_fields["status"] == "duplicate"
    assert len(ses.calls) == 1
    other, _ = run(services, tick({"job": "digest"}, time="2026-01-11T18:30:00Z"))
    assert other["status"] == "sent"  # another tick is another send
    assert len(ses.calls) == 2


def test_an_inline_action_is_sent_under_its_own_entry_label() -> None:
    ses = FakeSes()
    params = {**SEND, "Subject": "Hello"}
    reply, fields = run(services_with(ses), tick({"action": "SendEmail", "params": params}))
    assert reply["result"]["MessageId"] == "msg-1"
    assert fields["entry"] == "timer:inline:SendEmail"


def test_retry_later_raises_for_scf_and_frees_the_tick() -> None:
    ses = FakeSes(fault(Outcome.RETRYABLE, "RequestLimitExceeded"))
    services = services_with(ses)
    with pytest.raises(RetryLater, match="RequestLimitExceeded"):
        run(services, tick({"job": "digest"}))
    reply, _ = run(services, tick({"job": "digest"}))  # SCF's retry of the same tick
    assert reply["status"] == "sent"
    assert len(ses.calls) == 2


def test_outcome_unknown_is_reported_and_the_tick_is_never_sent_again() -> None:
    ses = FakeSes(fault(Outcome.OUTCOME_UNKNOWN))
    services = services_with(ses)
    reply, fields = run(services, tick({"job": "digest"}))
    assert reply["ok"] is False
    assert reply["error"]["outcome"] == "outcome_unknown"
    assert fields["outcome"] == "outcome_unknown"
    retry, _ = run(services, tick({"job": "digest"}))
    assert (retry["status"], retry["first_outcome"]) == ("duplicate", "outcome_unknown")
    assert len(ses.calls) == 1


def test_a_final_ses_refusal_is_a_summary_not_a_retry() -> None:
    ses = FakeSes(fault(Outcome.FINAL, "FailedOperation.TemplateNotMatchData"))
    reply, _ = run(services_with(ses), tick({"job": "digest"}))
    assert reply["error"]["code"] == "FailedOperation.TemplateNotMatchData"
    assert reply["error"]["outcome"] == "final"


@pytest.mark.parametrize(
    ("message", "code", "field"),
    [
        ({"job": "nope"}, "validation_error", "Message.job"),
        ({"action": "DeleteEverything", "params": {}}, "validation_error", "Message.action"),
        ({"job": "digest", "extra": 1}, "validation_error", "Message.extra"),
        ("not json", "malformed_request", None),
        ("x" * 5000, "validation_error", "Message"),
    ],
)
def test_a_bad_message_is_a_summary_without_any_call(
    message: object, code: str, field: str | None
) -> None:
    ses = FakeSes()
    reply, fields = run(services_with(ses), tick(message))
    assert reply["ok"] is False
    assert reply["error"]["code"] == code
    assert (fields["outcome"], fields["code"]) == ("refused", code)  # the log says so too
    if field is not None:
        assert field in {e["field"] for e in reply["error"]["errors"]}
    assert ses.calls == []


def test_invalid_params_are_refused_with_field_errors_and_claim_no_tick() -> None:
    ses = FakeSes()
    services = services_with(ses)
    bad = {**SEND, "Destination": ["not-an-address"]}
    reply, _ = run(services, tick({"action": "SendEmail", "params": bad}))
    assert reply["error"]["code"] == "validation_error"
    assert [e["field"] for e in reply["error"]["errors"]] == ["Destination.0"]
    fixed, _ = run(services, tick({"action": "SendEmail", "params": SEND}))
    assert fixed["status"] == "sent"  # the refused attempt left no claim on the tick
