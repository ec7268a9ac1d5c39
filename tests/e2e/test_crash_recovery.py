"""At most once when the process dies: real `sesrelay serve` and `sesrelay invoke` processes,
`kill -9`ed while SES (a `sesrelay emulator` process, which outlives them and sends the mail)
is slow, then the same request again once the dead run's lease is over: one mail, never two."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pytest

from sesrelay.emulator import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY
from sesrelay.sending import idempotency, once
from tests.e2e.emulator_cli import running_emulator
from tests.e2e.test_serve import fetch, serve_env
from tests.polling import wait_until

ROOT = Path(__file__).resolve().parents[2]
API_KEY = "sr_test_crash_recovery"
#: The killed run's function timeout: long enough that SES is still busy when it dies.
FIRST_TIMEOUT = 3.0
SES_DELAY = 4.0  # seconds SES takes: the run is killed while it waits
START_TIMEOUT = 20.0


def control(url: str, path: str, payload: dict[str, Any] | None = None) -> Any:
    data = None if payload is None else json.dumps(payload).encode()
    method = "GET" if payload is None else "POST"
    request = urllib.request.Request(f"{url}/_emulator/{path}", data=data, method=method)
    with urllib.request.urlopen(request, timeout=10) as reply:
        return json.loads(reply.read())


def calls(url: str, action: str) -> int:
    return int(control(url, "calls")["calls"].get(action, 0))


def mails(url: str) -> list[str]:
    return [str(m["to"]) for m in control(url, "outbox")["messages"]]


@pytest.fixture(scope="module")
def emulator() -> Iterator[str]:
    with running_emulator(serve_env(ROOT)) as url:
        yield url


@pytest.fixture(autouse=True)
def _fresh(emulator: str) -> None:
    control(emulator, "reset", {})


def relay_env(tmp: Path, emulator: str) -> dict[str, str]:
    """The relay pointed at the emulator process, one API key, state in a SQLite file."""
    return serve_env(
        tmp,
        SESRELAY_SES_ENDPOINT=emulator,
        TENCENTCLOUD_SECRET_ID=DEFAULT_SECRET_ID,
        TENCENTCLOUD_SECRET_KEY=DEFAULT_SECRET_KEY,
        SESRELAY_API_KEY_SHA256=hashlib.sha256(API_KEY.encode()).hexdigest(),
        SESRELAY_CONFIG=str(ROOT / "sesrelay.yaml"),
    )


@dataclass
class Serve:
    proc: subprocess.Popen[str]
    base: str
    drain: threading.Thread

    def post(self, path: str, body: dict[str, Any], key: str) -> tuple[int, dict[str, str], Any]:
        headers = {
            "authorization": f"Bearer {API_KEY}",
            "content-type": "application/json",
            "idempotency-key": key,
        }
        status, got, raw = fetch(self.base + path, "POST", json.dumps(body).encode(), headers)
        return status, got, json.loads(raw)

    def post_until_killed(self, path: str, body: dict[str, Any], key: str) -> threading.Thread:
        def attempt() -> None:
            with contextlib.suppress(OSError):  # the server dies mid-request, as it should
                self.post(path, body, key)

        thread = threading.Thread(target=attempt, daemon=True)
        thread.start()
        return thread

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)  # no cleanup of any kind, like a lost instance
        self.stop()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.wait(timeout=10)
        self.drain.join(timeout=10)  # it closes stdout at EOF


@pytest.fixture
def serves() -> Iterator[list[Serve]]:
    started: list[Serve] = []
    yield started
    for served in started:
        served.stop()


def _drain(stream: IO[str]) -> None:
    """Keep reading the invocation logs, so a full pipe never blocks the server."""
    with stream:
        for _ in stream:
            pass


def start_serve(tmp: Path, emulator: str, timeout: float, started: list[Serve]) -> Serve:
    with (tmp / "serve.stderr").open("a") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sesrelay", "serve", "--port", "0",
             "--function-timeout", str(timeout)],
            stdout=subprocess.PIPE, stderr=stderr, text=True,
            env=relay_env(tmp, emulator), cwd=tmp,
        )  # fmt: skip
    assert proc.stdout is not None
    hung = threading.Timer(START_TIMEOUT, proc.kill)  # a server that never gets ready
    hung.start()
    for line in proc.stdout:  # the banner; its last line says the server is ready
        if line.startswith("listening on http://"):
            hung.cancel()
            drain = threading.Thread(target=_drain, args=(proc.stdout,), daemon=True)
            drain.start()
            served = Serve(proc, line.strip().removeprefix("listening on "), drain)
            started.append(served)
            return served
    hung.cancel()
    proc.wait(timeout=10)
    proc.stdout.close()
    raise AssertionError("serve exited: " + (tmp / "serve.stderr").read_text())


def invoke(tmp: Path, emulator: str, event: str, timeout: float) -> subprocess.Popen[str]:
    command = [
        *(sys.executable, "-m", "sesrelay", "invoke", str(ROOT / "events" / event)),
        *("--function-timeout", str(timeout)),
    ]
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=relay_env(tmp, emulator), cwd=tmp,
    )  # fmt: skip


def wait_for_lease_end(started: float, margin: float, timeout: float = FIRST_TIMEOUT) -> None:
    """The dead run's lease ends at most its function timeout plus the guard's margin after it
    started: wait exactly until then (computed, not guessed)."""
    left = started + timeout + margin + 0.2 - time.monotonic()
    if left > 0:
        time.sleep(left)


EMAIL = {
    "FromEmailAddress": "Example <noreply@example.com>",
    "Destination": ["ana@example.org"],
    "Subject": "Your order",
    "Template": {"TemplateID": 100001, "TemplateData": {"name": "Ana"}},
}


def test_an_email_whose_server_was_killed_mid_send_is_outcome_unknown_never_a_second_mail(
    tmp_path: Path, emulator: str, serves: list[Serve]
) -> None:
    control(emulator, "faults", {"action": "SendEmail", "kind": "delay", "seconds": SES_DELAY})
    first = start_serve(tmp_path, emulator, FIRST_TIMEOUT, serves)
    started = time.monotonic()
    request = first.post_until_killed("/v1/emails", EMAIL, "order-1")
    assert wait_until(lambda: calls(emulator, "SendEmail") == 1, timeout=10)
    first.kill()
    request.join(timeout=10)
    assert wait_until(lambda: len(mails(emulator)) == 1, timeout=15)  # SES sent it after all

    second = start_serve(tmp_path, emulator, 2.0, serves)
    wait_for_lease_end(started, idempotency.CLAIM_MARGIN_SECONDS)
    status, headers, problem = second.post("/v1/emails", EMAIL, "order-1")
    assert (status, problem["code"]) == (502, "upstream_outcome_unknown"), problem
    assert headers["idempotent-replayed"] == "true"
    replay_status, replay_headers, replay = second.post("/v1/emails", EMAIL, "order-1")
    assert (replay_status, replay) == (status, problem)  # the same answer, request id and all
    assert replay_headers["idempotent-replayed"] == "true"
    assert mails(emulator) == ["ana@example.org"]
    assert calls(emulator, "SendEmail") == 1


def test_a_timer_tick_killed_mid_send_is_a_duplicate_of_an_unknown_outcome_never_resent(
    tmp_path: Path, emulator: str
) -> None:
    control(emulator, "faults", {"action": "SendEmail", "kind": "delay", "seconds": SES_DELAY})
    started = time.monotonic()
    tick = invoke(tmp_path, emulator, "timer_inline-send-email.json", FIRST_TIMEOUT)
    try:
        assert wait_until(lambda: calls(emulator, "SendEmail") == 1, timeout=15)
    finally:
        os.kill(tick.pid, signal.SIGKILL)
        tick.communicate(timeout=10)
    assert wait_until(lambda: len(mails(emulator)) == 1, timeout=15)

    wait_for_lease_end(started, once.CLAIM_MARGIN_SECONDS)
    out, err = invoke(tmp_path, emulator, "timer_inline-send-email.json", 2.0).communicate(
        timeout=60
    )
    reply = json.loads(out)
    assert reply["ok"] is True, err
    assert (reply["status"], reply["first_outcome"]) == ("duplicate", "outcome_unknown")
    assert mails(emulator) == ["ben@example.org"]
    assert calls(emulator, "SendEmail") == 1


RECIPIENTS = [f"r{n:02d}@example.org" for n in range(20)]
CAMPAIGN = {
    "Name": "crash test",
    "FromEmailAddress": "Example News <news@example.com>",
    "Subject": "Hello {{name}}",
    "Template": {"TemplateID": 100001, "TemplateData": {"name": "friend"}},
    "TaskType": 1,
    "Recipients": [{"Email": address} for address in RECIPIENTS],
}
#: The campaign route needs a little longer to reach BatchSendEmail (group, upload, poll).
CAMPAIGN_TIMEOUT = 5.0


def test_a_campaign_killed_mid_batch_send_is_found_again_and_mails_everyone_once(
    tmp_path: Path, emulator: str, serves: list[Serve]
) -> None:
    fault = {"action": "BatchSendEmail", "kind": "delay", "seconds": SES_DELAY}
    control(emulator, "faults", fault)
    first = start_serve(tmp_path, emulator, CAMPAIGN_TIMEOUT, serves)
    started = time.monotonic()
    request = first.post_until_killed("/v1/campaigns", CAMPAIGN, "newsletter-1")
    assert wait_until(lambda: calls(emulator, "BatchSendEmail") == 1, timeout=15)
    first.kill()
    request.join(timeout=10)

    second = start_serve(tmp_path, emulator, 2.0, serves)
    # The key's claim holds until the dead run's lease is over; then the retry finds its campaign.
    wait_for_lease_end(started, idempotency.CLAIM_MARGIN_SECONDS, CAMPAIGN_TIMEOUT)
    status, _, view = second.post("/v1/campaigns", CAMPAIGN, "newsletter-1")
    assert status == 202, view
    status, _, again = second.post("/v1/campaigns", CAMPAIGN, "newsletter-1")
    assert (status, again["CampaignId"]) == (202, view["CampaignId"])

    def finished() -> bool:
        invoke(tmp_path, emulator, "timer_campaigns-finisher.json", 5.0).communicate(timeout=60)
        code, _, now = fetch(
            f"{second.base}/v1/campaigns/{view['CampaignId']}",
            headers={"authorization": f"Bearer {API_KEY}"},
        )
        return code == 200 and json.loads(now)["State"] == "sent"

    assert wait_until(finished, timeout=60, interval=0.5)
    assert sorted(mails(emulator)) == RECIPIENTS  # each recipient exactly once
    assert calls(emulator, "CreateReceiver") == 1  # one campaign, one group: never a second
    assert calls(emulator, "BatchSendEmail") == 1
