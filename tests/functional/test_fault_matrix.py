"""The fault matrix: every emulator fault x every entry point, through `Runtime.handle` against
the SES emulator, asserting what the caller is told, how often SES was called, and how many mails
left (0 or 1, never 2) - also after the same request, tick, delivery or campaign comes again.

EXPECTED below is written from the guarantees (docs/reliability.md, "Retry safety"), not from
what the code happens to do. The same table is in docs/reliability.md ("Fault matrix");
`test_the_documented_fault_matrix_is_the_tested_one` keeps the two equal.
`PYTHONPATH=lib python tests/functional/test_fault_matrix.py` prints that table.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from sesrelay.adapters.state_memory import MemoryStateStore
from sesrelay.clock import Clock, SystemClock
from sesrelay.config.model import RelayConfig, load_config
from sesrelay.emulator import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, EmulatorServer
from sesrelay.errors import RetryLater
from sesrelay.runtime import Runtime
from sesrelay.settings import Settings
from sesrelay.wiring import build_services
from tests.polling import wait_until

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
RELIABILITY = ROOT / "docs" / "reliability.md"
HEADING = "## Fault matrix"
API_KEY_SHA256 = hashlib.sha256(b"sr_test_key").hexdigest()  # the key of the sample events
GITHUB_SECRET = "test-secret"  # what events/webhook_github_*.json are signed with

SES_TIMEOUT = 0.3  # SESRELAY_SES_TIMEOUT of these tests: a "delay" fault outlives it
DELAY_SECONDS = 0.8  # the emulator waits this long, then acts anyway
MAX_ATTEMPTS = 3  # SESRELAY_SES_MAX_ATTEMPTS (the default)
PERSISTENT = 10  # more faults than attempts: the gateway gives up
#: Campaigns run on business time that passes this many times faster than real time, so the
#: runner's 30 s settle window for an ambiguous write takes 5 s, yet SES (the emulator, in real
#: time) still acts on a delayed request well inside that window, as it would in production.
SPEED = 6.0

Event = dict[Any, Any]

# -- the table --------------------------------------------------------------------------------
#
# Each cell is "outcome · SES calls · mails · answer":
#   outcome     retried      the gateway retried a retryable failure, and the retry went through
#               retry-later  still retryable after MAX_ATTEMPTS: surfaced so the caller retries
#               final        SES refused; surfaced as is, never retried
#               unknown      SES may have acted: surfaced as outcome unknown, never retried
#               reconciled   (campaigns) an ambiguous step, settled from SES's own lists
#   SES calls   calls of the faulted action during the cell (campaigns: POST + one finisher tick)
#   mails       mails in the outbox per recipient: 0 or 1, never 2
#   answer      HTTP/webhook: status (+ our code where it is not the injected SES code);
#               timer: the invocation's result, or the exception SCF sees;
#               campaign: POST status and State -> State after a finisher tick

ENTRIES = ("http", "timer", "webhook", "campaign-send", "campaign-upload")
COLUMNS = {
    "http": "HTTP `POST /v1/emails`",
    "timer": "timer tick (inline SendEmail)",
    "webhook": "webhook (github)",
    "campaign-send": "campaign, fault at BatchSendEmail",
    "campaign-upload": "campaign, fault at the upload",
}
TARGETS = {
    "http": "SendEmail",
    "timer": "SendEmail",
    "webhook": "SendEmail",
    "campaign-send": "BatchSendEmail",
    "campaign-upload": "CreateReceiverDetailWithData",
}


@dataclass(frozen=True)
class Fault:
    label: str  # the row of the table (markdown)
    id: str  # the pytest id
    kind: str
    count: int = 1
    code: str = ""
    status: int = 0
    seconds: float = 0.0

    def inject(self, emulator: EmulatorServer, action: str) -> None:
        extra: dict[str, Any] = {}
        if self.kind == "error":
            extra = {"code": self.code, "message": "injected by the fault matrix"}
        elif self.kind == "http_status":
            extra = {"status": self.status}
        elif self.kind == "delay":
            extra = {"seconds": self.seconds}
        emulator.inject_fault(action, self.kind, self.count, **extra)


def _once(code: str) -> Fault:
    return Fault(f"`{code}` ×1", f"{code}-x1", "error", 1, code)


def _persistent(code: str) -> Fault:
    return Fault(f"`{code}` ×{PERSISTENT}", f"{code}-x{PERSISTENT}", "error", PERSISTENT, code)


def _final(code: str) -> Fault:
    # a refusal repeats while its cause stays: the redelivery meets it again
    return Fault(f"`{code}`", code, "error", PERSISTENT, code)


RL = "RequestLimitExceeded"
RL_UIN = "RequestLimitExceeded.UinLimitExceeded"
RL_GLOBAL = "RequestLimitExceeded.GlobalRegionUinLimitExceeded"
UNAVAILABLE = "FailedOperation.ServiceNotAvailable"
BLACKLIST = "FailedOperation.EmailAddrInBlacklist"
NOT_MATCH = "InvalidParameterValue.TemplateNotMatchData"
NO_RECEIVER = "OperationDenied.ReceiverNotExist"
SIGNATURE = "AuthFailure.SignatureFailure"
DELAY = f"delay {DELAY_SECONDS:g} s > timeout {SES_TIMEOUT:g} s"

FAULTS = (
    _once(RL),
    _once(RL_UIN),
    _once(RL_GLOBAL),
    _once(UNAVAILABLE),
    _persistent(RL),
    _persistent(UNAVAILABLE),
    _final(BLACKLIST),
    _final(NOT_MATCH),
    _final(NO_RECEIVER),
    _final(SIGNATURE),
    Fault("HTTP 500", "http-500", "http_status", status=500),
    Fault(DELAY, "delay", "delay", seconds=DELAY_SECONDS),
    Fault("dropped before acting", "drop-before", "drop_before"),
    Fault("dropped after acting", "drop-after", "drop_after"),
)
FAULT_BY_LABEL = {fault.label: fault for fault in FAULTS}


def _retried() -> dict[str, str]:
    return {
        "http": "retried · 2 · 1 · 202",
        "timer": "retried · 2 · 1 · sent",
        "webhook": "retried · 2 · 1 · 202 sent",
        "campaign-send": "retried · 2 · 1 · 202 sent → sent",
        "campaign-upload": "retried · 2 · 1 · 202 sent → sent",
    }


def _retry_later(status: int) -> dict[str, str]:
    return {
        "http": f"retry-later · 3 · 0 · {status}",
        "timer": "retry-later · 3 · 0 · raises RetryLater",
        "webhook": f"retry-later · 3 · 0 · {status}",
        "campaign-send": "retry-later · 6 · 0 · 202 sending → sending",
        "campaign-upload": "retry-later · 6 · 0 · 202 uploading → uploading",
    }


def _final_row(status: int) -> dict[str, str]:
    return {
        "http": f"final · 1 · 0 · {status}",
        "timer": "final · 1 · 0 · ok:false final",
        "webhook": f"final · 1 · 0 · {status}",
        "campaign-send": "final · 1 · 0 · 202 failed → failed",
        "campaign-upload": "final · 1 · 0 · 202 failed → failed",
    }


def _unknown(mails: int, campaign_calls: int) -> dict[str, str]:
    unknown = f"unknown · 1 · {mails}"
    reconciled = f"reconciled · {campaign_calls} · 1 · 202 sent → sent"
    return {
        "http": f"{unknown} · 502 upstream_outcome_unknown",
        "timer": f"{unknown} · ok:false outcome_unknown",
        "webhook": f"{unknown} · 502 upstream_outcome_unknown",
        "campaign-send": reconciled,
        "campaign-upload": reconciled,
    }


#: fault row -> entry -> "outcome · SES calls · mails · answer"
EXPECTED: dict[str, dict[str, str]] = {
    # SES did not act; one retry by the gateway goes through
    f"`{RL}` ×1": _retried(),
    f"`{RL_UIN}` ×1": _retried(),
    f"`{RL_GLOBAL}` ×1": _retried(),
    f"`{UNAVAILABLE}` ×1": _retried(),
    # SES did not act, every attempt: surfaced as retryable, nothing kept
    f"`{RL}` ×{PERSISTENT}": _retry_later(429),
    f"`{UNAVAILABLE}` ×{PERSISTENT}": _retry_later(503),
    # SES refused: surfaced with its code, nothing sent, never retried
    f"`{BLACKLIST}`": _final_row(422),
    f"`{NOT_MATCH}`": _final_row(422),
    f"`{NO_RECEIVER}`": _final_row(409),
    f"`{SIGNATURE}`": _final_row(502),
    # SES may have acted: never retried blindly; campaigns look at SES's lists first
    "HTTP 500": _unknown(mails=0, campaign_calls=2),  # the emulator's 500 did not act
    DELAY: _unknown(mails=1, campaign_calls=1),  # SES acted after the relay gave up
    "dropped before acting": _unknown(mails=0, campaign_calls=2),
    "dropped after acting": _unknown(mails=1, campaign_calls=1),
}

OUTCOMES = ("sent", "retried", "retry-later", "final", "unknown", "reconciled")


@dataclass(frozen=True)
class Cell:
    outcome: str
    calls: int
    mails: int
    answer: str

    @classmethod
    def parse(cls, text: str) -> Cell:
        outcome, calls, mails, answer = text.split(" · ", 3)
        return cls(outcome, int(calls), int(mails), answer)

    def __str__(self) -> str:
        return f"{self.outcome} · {self.calls} · {self.mails} · {self.answer}"


#: What comes back when a stored answer is replayed, per entry (`sent` or `unknown` first).
STORED = {
    "http": "{first} (replayed)",
    "timer": "duplicate (first_outcome {first_outcome})",
    "webhook": "200 duplicate",
}
#: A freed key, tick or delivery after SES recovered: sent once, then replayed.
SENT_THEN_STORED = {
    "http": ("202", "202 (replayed)"),
    "timer": ("sent", "duplicate (first_outcome sent)"),
    "webhook": ("202 sent", "200 duplicate"),
}


def expected_redeliveries(entry: str, cell: Cell) -> list[str]:
    """What the same request / tick / delivery / campaign gets when it comes again, as
    "answer · SES calls so far · mails". Retry-later cells come again once SES has recovered."""
    first, calls, mails = cell.answer, cell.calls, cell.mails
    if entry.startswith("campaign"):  # the POST replays; the finisher drives what is left
        posted, state = first.split(" → ")
        if cell.outcome == "retry-later":
            return [f"{posted} (replayed) → sent · {calls + 1} · 1"] * 2
        return [f"{posted} (replayed) → {state} · {calls} · {mails}"]
    if cell.outcome == "final":  # nothing was kept: SES is asked again and refuses again
        return [f"{first} · {calls + 1} · 0"]
    if cell.outcome == "retry-later":  # freed: sends exactly once, then it is stored
        sent, stored = SENT_THEN_STORED[entry]
        return [f"{sent} · {calls + 1} · 1", f"{stored} · {calls + 1} · 1"]
    first_outcome = "outcome_unknown" if cell.outcome == "unknown" else "sent"
    stored = STORED[entry].format(first=first, first_outcome=first_outcome)
    return [f"{stored} · {calls} · {mails}"]  # kept: answered from the store, SES not asked


# -- the harness --------------------------------------------------------------------------------


class FastClock:
    """Business time that runs SPEED times faster than real time (campaigns only: their
    runner polls and settles over tens of seconds).

    Its sleep must still take real time (scaled down): the emulator acts on a delayed request in
    real time, and the runner's settle window has to contain that, as it would in production. A
    clock that only advanced business time would settle before SES acted."""

    def __init__(self, speed: float = SPEED) -> None:
        self._speed = speed
        self._real0 = time.monotonic()
        self._start = datetime.now(timezone.utc)

    def _elapsed(self) -> float:
        return (time.monotonic() - self._real0) * self._speed

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self._elapsed())

    def monotonic(self) -> float:
        return 1000.0 + self._elapsed()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds / self._speed)


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorServer]:
    """No SES rate limit (only injected throttling); uploads complete at once."""
    with EmulatorServer(port=0, rate_limit=None, upload_seconds=0) as server:
        yield server


@pytest.fixture(scope="module")
def config() -> RelayConfig:
    """The shipped sesrelay.yaml: the github-releases source and the campaigns-finisher job."""
    return load_config(ROOT / "sesrelay.yaml")


def make_runtime(emulator: EmulatorServer, config: RelayConfig, clock: Clock) -> Runtime:
    settings = Settings(
        environ={"GITHUB_WEBHOOK_SECRET": GITHUB_SECRET},
        ses_endpoint=emulator.url,
        secret_id=DEFAULT_SECRET_ID,
        secret_key=DEFAULT_SECRET_KEY,
        api_key_sha256=[API_KEY_SHA256],
        ses_timeout=SES_TIMEOUT,
        ses_max_attempts=MAX_ATTEMPTS,
        ses_rate=0,  # the relay's limiter off: only the injected faults throttle
    )
    services = build_services(settings, clock=clock, state=MemoryStateStore(clock), config=config)
    return Runtime(services)


def load(name: str) -> Event:
    event: Event = json.loads((EVENTS / f"{name}.json").read_text(encoding="utf-8"))
    return event


def context(seconds: float) -> dict[str, Any]:
    return {"request_id": "scf-fault-matrix", "time_limit_in_ms": int(seconds * 1000)}


def _headers(reply: dict[str, Any]) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in reply.get("headers", {}).items()}


def http_answer(reply: dict[str, Any], fault: Fault) -> tuple[str, str]:
    """(answer, class) of an HTTP reply; class is ok, retry-later, final or unknown."""
    status = int(reply["statusCode"])
    headers = _headers(reply)
    body = json.loads(reply["body"])
    replayed = " (replayed)" if headers.get("idempotent-replayed") == "true" else ""
    if status < 300:
        word = f" {body['status']}" if "status" in body else ""
        return f"{status}{word}{replayed}", "ok"
    code = str(body.get("code"))
    text = str(status) if code == fault.code else f"{status} {code}"
    if status in (429, 503) and "retry-after" not in headers:
        text += " without Retry-After"
    if code == "upstream_outcome_unknown":
        klass = "unknown"
    elif status in (429, 503):
        klass = "retry-later"
    else:
        klass = "final"
    return text + replayed, klass


class Entry:
    """One entry point: deliver the same thing once, then again."""

    recipients: tuple[str, ...] = ()

    def __init__(self, emulator: EmulatorServer, runtime: Runtime, fault: Fault) -> None:
        self.emulator, self.runtime, self.fault = emulator, runtime, fault

    def deliver(self) -> tuple[str, str]:
        raise NotImplementedError

    def delivered_to_all(self) -> bool:
        """Whether every recipient has a mail in the outbox."""
        addresses = {str(mail["to"]) for mail in self.emulator.outbox()}
        return addresses >= set(self.recipients)

    def mails(self) -> int:
        """Mails per recipient, the same for every recipient (0 or 1; 2 would be a bug)."""
        per_address = Counter(str(mail["to"]) for mail in self.emulator.outbox())
        assert set(per_address) <= set(self.recipients), per_address
        if not per_address:
            return 0
        assert set(per_address) == set(self.recipients), f"partly mailed: {per_address}"
        assert len(set(per_address.values())) == 1, f"uneven: {per_address}"
        return next(iter(per_address.values()))


class Http(Entry):
    recipients = ("ana@example.org",)

    def __init__(self, emulator: EmulatorServer, runtime: Runtime, fault: Fault) -> None:
        super().__init__(emulator, runtime, fault)
        self.event = load("http_post-emails")
        self.event["headers"]["idempotency-key"] = "fault-matrix-0001"

    def deliver(self) -> tuple[str, str]:
        return http_answer(self.runtime.handle(copy.deepcopy(self.event), context(10)), self.fault)


class Timer(Entry):
    recipients = ("ben@example.org",)

    def __init__(self, emulator: EmulatorServer, runtime: Runtime, fault: Fault) -> None:
        super().__init__(emulator, runtime, fault)
        self.event = load("timer_inline-send-email")

    def deliver(self) -> tuple[str, str]:
        try:
            reply = self.runtime.handle(copy.deepcopy(self.event), context(10))
        except RetryLater:
            return "raises RetryLater", "retry-later"
        if reply.get("ok") is True:
            if reply["status"] == "duplicate":
                return f"duplicate (first_outcome {reply['first_outcome']})", "ok"
            return str(reply["status"]), "ok"
        outcome = str(reply["error"].get("outcome"))
        klass = {"final": "final", "outcome_unknown": "unknown"}.get(outcome, outcome)
        return f"ok:false {outcome}", klass


class Webhook(Entry):
    recipients = ("team@example.org",)

    def __init__(self, emulator: EmulatorServer, runtime: Runtime, fault: Fault) -> None:
        super().__init__(emulator, runtime, fault)
        event = load("webhook_github_release-published")
        event["headers"]["x-github-delivery"] = "fault-matrix-delivery-0001"
        body = event["body"].encode("utf-8")
        digest = hmac.new(GITHUB_SECRET.encode(), body, hashlib.sha256).hexdigest()
        event["headers"]["x-hub-signature-256"] = f"sha256={digest}"
        self.event = event

    def deliver(self) -> tuple[str, str]:
        return http_answer(self.runtime.handle(copy.deepcopy(self.event), context(10)), self.fault)


class CampaignEntry(Entry):
    recipients = ("ana@example.org", "ben@example.org")

    def __init__(self, emulator: EmulatorServer, runtime: Runtime, fault: Fault) -> None:
        super().__init__(emulator, runtime, fault)
        body = {
            "FromEmailAddress": "Example News <news@example.com>",
            "Subject": "Hello {{name}}",
            "Template": {"TemplateID": 100001, "TemplateData": {"name": "friend"}},
            "Recipients": [
                {"Email": "ana@example.org", "TemplateData": {"name": "Ana"}},
                {"Email": "ben@example.org"},
            ],
        }
        event = load("http_post-campaigns")
        event["body"] = json.dumps(body)
        event["headers"]["content-length"] = str(len(event["body"]))
        event["headers"]["idempotency-key"] = "fault-matrix-campaign-0001"
        self.event = event
        self.campaign_id: str | None = None
        self.last_error: dict[str, Any] | None = None

    def deliver(self) -> tuple[str, str]:
        """POST, one finisher tick, GET: "<status> <State> → <State after the tick>"."""
        reply = self.runtime.handle(copy.deepcopy(self.event), context(120))
        text, klass = http_answer(reply, self.fault)
        if klass != "ok":
            return text, klass
        posted = json.loads(reply["body"])
        if self.campaign_id is None:
            self.campaign_id = str(posted["CampaignId"])
        assert posted["CampaignId"] == self.campaign_id  # a replay names the same campaign
        tick = self.runtime.handle(load("timer_campaigns-finisher"), context(60))
        assert tick["ok"] is True, tick
        get = load("http_get-campaign")
        get["path"] = f"/v1/campaigns/{self.campaign_id}"
        status = self.runtime.handle(get, context(10))
        assert status["statusCode"] == 200, status
        now = json.loads(status["body"])
        self.last_error = now["LastError"]
        posted_text = text.replace(" (replayed)", "")
        replayed = " (replayed)" if text != posted_text else ""
        return f"{posted_text} {posted['State']}{replayed} → {now['State']}", now["State"]


ENTRY_TYPES: dict[str, type[Entry]] = {
    "http": Http,
    "timer": Timer,
    "webhook": Webhook,
    "campaign-send": CampaignEntry,
    "campaign-upload": CampaignEntry,
}


def classify(entry: Entry, klass: str, calls: int) -> str:
    """The observed outcome of a first delivery."""
    if isinstance(entry, CampaignEntry) and klass in ("sent", "sending", "uploading", "failed"):
        seen = (entry.last_error or {}).get("Outcome")
        if klass == "sent":
            if seen == "outcome_unknown":
                return "reconciled"
            return "retried" if calls > 1 else "sent"
        if klass == "failed":
            return "final" if seen == "final" else f"failed after {seen}"
        return "retry-later" if seen == "retryable" else f"pending after {seen}"
    if klass == "ok":
        return "retried" if calls > 1 else "sent"
    return klass


def calls_of(emulator: EmulatorServer, action: str) -> int:
    return emulator.call_counts().get(action, 0)


# -- the matrix ---------------------------------------------------------------------------------


@pytest.mark.parametrize("entry_name", ENTRIES)
@pytest.mark.parametrize("fault", FAULTS, ids=[fault.id for fault in FAULTS])
def test_fault_matrix(
    fault: Fault, entry_name: str, emulator: EmulatorServer, config: RelayConfig
) -> None:
    expected = Cell.parse(EXPECTED[fault.label][entry_name])
    clock: Clock = FastClock() if entry_name.startswith("campaign") else SystemClock()
    runtime = make_runtime(emulator, config, clock)
    entry = ENTRY_TYPES[entry_name](emulator, runtime, fault)
    target = TARGETS[entry_name]

    fault.inject(emulator, target)
    answer, klass = entry.deliver()
    if fault.kind == "delay" and calls_of(emulator, target):
        # SES acts once the emulator's delay is over, after the relay gave up: wait for its mail
        # (should it never come, the comparison below shows the missing mail).
        wait_until(entry.delivered_to_all, timeout=DELAY_SECONDS + 5)
    calls = calls_of(emulator, target)
    observed = Cell(classify(entry, klass, calls), calls, entry.mails(), answer)
    assert observed.outcome in OUTCOMES, observed
    assert str(observed) == str(expected), f"observed {observed}, expected {expected}"

    if expected.outcome == "retry-later":
        emulator.clear_faults()  # SES has recovered by the time the caller retries
    again = []
    for _ in expected_redeliveries(entry_name, expected):
        answer, _klass = entry.deliver()
        again.append(f"{answer} · {calls_of(emulator, target)} · {entry.mails()}")
    assert again == expected_redeliveries(entry_name, expected)


# -- the documented table -----------------------------------------------------------------------


def markdown_table() -> str:
    lines = [
        "| fault | " + " | ".join(COLUMNS[e] for e in ENTRIES) + " |",
        "|---" * (len(ENTRIES) + 1) + "|",
    ]
    for label, row in EXPECTED.items():
        lines.append(f"| {label} | " + " | ".join(row[e] for e in ENTRIES) + " |")
    return "\n".join(lines)


def parse_markdown_table(text: str) -> list[list[str]]:
    """The first table under `## Fault matrix`, as rows of stripped cells (no separator)."""
    section = text.split(HEADING, 1)[1]
    section = section.split("\n## ", 1)[0]
    rows: list[list[str]] = []
    for line in section.splitlines():
        if line.startswith("|"):
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if not all(set(cell) <= set("-: ") for cell in cells):
                rows.append(cells)
        elif rows:
            break
    return rows


def test_the_documented_fault_matrix_is_the_tested_one() -> None:
    path = RELIABILITY
    text = path.read_text(encoding="utf-8")
    assert HEADING + "\n" in text, f"{path} has no {HEADING!r} section"
    assert parse_markdown_table(text) == parse_markdown_table(f"{HEADING}\n\n{markdown_table()}\n")


def test_the_table_covers_every_fault_and_entry() -> None:
    assert list(EXPECTED) == [fault.label for fault in FAULTS]
    for label, row in EXPECTED.items():
        assert tuple(row) == ENTRIES, label
        for entry, text in row.items():
            cell = Cell.parse(text)
            assert cell.outcome in OUTCOMES, (label, entry)
            assert cell.mails in (0, 1), (label, entry)
            if cell.outcome in ("final", "unknown"):
                assert cell.calls == 1, (label, entry)  # never retried


if __name__ == "__main__":
    print(markdown_table())
