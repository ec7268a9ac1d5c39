"""`sesrelay serve` as a user runs it: a process with the embedded emulator, its banner, the printed
curl, and the environment it refuses (the HTTP layer alone is in test_serve_http.py)."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 20.0


def serve_env(tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SESRELAY_", "TENCENTCLOUD_"))}
    env["PYTHONPATH"] = str(ROOT / "lib")
    env["SESRELAY_STATE_URL"] = f"sqlite:///{tmp}/state.sqlite3"
    env.update(extra)
    return env


@dataclass
class Served:
    proc: subprocess.Popen[str]
    banner: list[str]
    stderr_path: Path
    pump: threading.Thread
    #: Every stdout line so far (the banner, then one JSON log line per invocation).
    stdout: list[str] = field(default_factory=list)

    @property
    def base(self) -> str:
        return self.banner[-1].removeprefix("listening on ")

    def field(self, label: str) -> str:
        for line in self.banner:
            if line.startswith(label):
                return line[len(label) :].strip()
        raise AssertionError(f"no {label!r} line in the banner:\n" + "\n".join(self.banner))

    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")


def start_serve(tmp: Path, **extra: str) -> Served:
    stderr_path = tmp / "serve.stderr"
    with stderr_path.open("w") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sesrelay", "serve", "--port", "0"],
            stdout=subprocess.PIPE, stderr=stderr, text=True, env=serve_env(tmp, **extra), cwd=tmp,
        )  # fmt: skip
    lines: queue.Queue[str | None] = queue.Queue()
    captured: list[str] = []

    def drain() -> None:  # keeps reading stdout, so invocation logs never fill the pipe
        assert proc.stdout is not None
        with proc.stdout:
            for line in proc.stdout:
                captured.append(line.rstrip("\n"))
                lines.put(line.rstrip("\n"))
        lines.put(None)

    pump = threading.Thread(target=drain, daemon=True)
    pump.start()
    banner: list[str] = []
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            line = lines.get(timeout=max(deadline - time.monotonic(), 0.01))
        except queue.Empty:
            line = None
        if line is None:
            stop(Served(proc, banner, stderr_path, pump, captured))
            raise AssertionError(
                "no `listening on` line; stdout:\n" + "\n".join(banner)
                + "\nstderr:\n" + stderr_path.read_text(errors="replace")
            )  # fmt: skip
        banner.append(line)
        if line.startswith("listening on http://"):
            return Served(proc, banner, stderr_path, pump, captured)


def stop(served: Served, sig: int = signal.SIGTERM) -> int:
    proc = served.proc
    if proc.poll() is None:
        proc.send_signal(sig)
    try:
        code = proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        code = proc.wait(timeout=10)
    served.pump.join(timeout=10)  # it closes stdout at EOF
    return code


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    started = start_serve(tmp_path_factory.mktemp("serve"))
    try:
        yield started
    finally:
        stop(started)


def fetch(
    url: str, method: str = "GET", body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, {k.lower(): v for k, v in err.headers.items()}, err.read()


# -- the process, with the embedded emulator -----------------------------------------------------


def test_the_banner_names_urls_key_and_a_curl_and_ends_with_listening(served: Served) -> None:
    assert re.fullmatch(r"listening on http://127\.0\.0\.1:[1-9]\d*", served.banner[-1])
    assert served.field("sesrelay serve: function URL at") == served.base
    emulator = served.field("SES: embedded emulator at")
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", emulator)
    assert emulator != served.base
    assert served.field("outbox:") == f"{emulator}/_emulator/outbox"
    key = served.field("API key (generated for this run):")
    assert re.fullmatch(r"sr_dev_[A-Za-z0-9_-]{32}", key)
    curls = [line.strip() for line in served.banner if line.strip().startswith("curl ")]
    assert [re.findall(r" (http://\S+)", curl) for curl in curls] == [
        [f"{served.base}/v1/emails"],
        [f"{served.base}/v1/emails/<MessageId>"],
        [f"{served.base}/v1/batch-tasks"],
    ]  # send one mail, read it back, a batch task
    assert all(f"Authorization: Bearer {key}" in curl for curl in curls)
    from sesrelay.emulator import DEFAULT_SECRET_KEY

    assert DEFAULT_SECRET_KEY not in "\n".join(served.banner)  # never print secret keys


def test_an_oversized_body_is_refused_before_it_is_read(served: Served) -> None:
    port = int(served.base.rsplit(":", 1)[1])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.putrequest("POST", "/v1/batch-tasks")
        conn.putheader("Content-Length", str(6 * 1024 * 1024 + 1))
        conn.endheaders()
        conn.send(b"{" * 1024)  # far less than announced: the server must not wait for the rest
        resp = conn.getresponse()
        assert resp.status == 413
        assert resp.getheader("Content-Type") == "application/problem+json"
        assert json.loads(resp.read())["code"] == "payload_too_large"
    finally:
        conn.close()


def test_the_printed_curl_sends_one_mail_per_group_member(served: Served) -> None:
    """Runs the banner's batch-task curl line verbatim in bash (curl is on the test machines)."""
    curl = next(
        line.strip()
        for line in served.banner
        if line.strip().startswith("curl ") and "/v1/batch-tasks" in line
    )
    done = subprocess.run(
        ["bash", "-c", curl + " -w '\\n%{http_code}'"],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    body, _, status = done.stdout.rpartition("\n")
    assert status == "202", (done.stdout, served.stderr())
    reply = json.loads(body)
    assert isinstance(reply["TaskId"], int)
    assert reply["RequestId"]

    outbox_url = f"{served.field('outbox:')}?task_id={reply['TaskId']}"
    deadline = time.monotonic() + 5
    while True:  # the emulator may run a batch task a moment after accepting it
        outbox = json.loads(fetch(outbox_url)[2])
        if outbox["count"] >= 3 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert outbox["count"] == 3
    mails = outbox["messages"]
    assert sorted(m["to"] for m in mails) == [
        "ana@example.org", "ben@example.org", "chen@example.org",
    ]  # fmt: skip
    assert {m["subject"] for m in mails} == {"Welcome, friend"}


def test_a_request_without_the_key_is_401_problem_json(served: Served) -> None:
    status, headers, body = fetch(
        f"{served.base}/v1/batch-tasks", "POST", b"{}", {"Content-Type": "application/json"}
    )
    assert status == 401
    assert headers["content-type"] == "application/problem+json"
    assert json.loads(body)["code"] == "unauthorized"


def test_health_needs_no_key(served: Served) -> None:
    status, _, _ = fetch(f"{served.base}/v1/health")
    assert status == 200


# -- the process, with credentials (no emulator) -------------------------------------------------

SECRET_KEY = "not-a-real-secret-key-0123456789"


def test_credentials_and_an_endpoint_are_named_and_keys_configured_are_used(
    tmp_path: Path,
) -> None:
    digest = hashlib.sha256(b"sr_my_own_key").hexdigest()
    started = start_serve(
        tmp_path,
        TENCENTCLOUD_SECRET_ID="AKIDnotreal0000",
        TENCENTCLOUD_SECRET_KEY=SECRET_KEY,
        SESRELAY_SES_ENDPOINT="http://127.0.0.1:9",
        SESRELAY_API_KEY_SHA256=digest,
    )
    try:
        text = "\n".join(started.banner)
        assert started.field("SES:") == "SESRELAY_SES_ENDPOINT http://127.0.0.1:9"
        assert started.field("API keys:") == "from SESRELAY_API_KEY_SHA256"
        assert "sr_dev_" not in text
        assert "Bearer <your API key>" in text
        assert "outbox:" not in text
        assert SECRET_KEY not in text
        assert digest not in text
    finally:
        code = stop(started, signal.SIGINT)
    assert code == 0, started.stderr()
    assert "Traceback" not in started.stderr()


def test_real_ses_is_named_by_region_and_sigterm_exits_0(tmp_path: Path) -> None:
    started = start_serve(
        tmp_path,
        TENCENTCLOUD_SECRETID="AKIDnotreal0000",
        TENCENTCLOUD_SECRETKEY=SECRET_KEY,
        SESRELAY_SES_REGION="ap-hongkong",
    )
    try:
        assert started.field("SES:") == "real Tencent SES (ap-hongkong)"
        assert started.field("API key (generated for this run):").startswith("sr_dev_")
        assert SECRET_KEY not in "\n".join(started.banner)
    finally:
        code = stop(started)
    assert code == 0, started.stderr()
    assert "Traceback" not in started.stderr()


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        ("SESRELAY_API_KEY_SHA256", "sr_a_key_in_clear", "SESRELAY_API_KEY_SHA256"),
        ("SESRELAY_STATE_URL", "sqlite:////proc/no/such/dir/state.db", "sqlite state store"),
    ],
)
def test_a_bad_environment_is_reported_without_a_traceback(
    tmp_path: Path, name: str, value: str, said: str
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "sesrelay", "serve", "--port", "0"],
        capture_output=True, text=True, timeout=30, check=False, cwd=tmp_path,
        env=serve_env(tmp_path, **{name: value}),
    )  # fmt: skip
    assert done.returncode != 0
    assert said in done.stderr
    assert "sr_a_key_in_clear" not in done.stderr + done.stdout
    assert "Traceback" not in done.stderr
    assert "listening on" not in done.stdout
