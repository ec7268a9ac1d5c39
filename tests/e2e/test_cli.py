"""The command line as a user runs it: `sesrelay emulator` and `sesrelay invoke`, as processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sesrelay.emulator import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY

ROOT = Path(__file__).resolve().parents[2]


def cli_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SESRELAY_", "TENCENTCLOUD_"))}
    env["PYTHONPATH"] = str(ROOT / "lib")
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def emulator_process() -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "sesrelay", "emulator", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=cli_env(),
        cwd=ROOT,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    try:
        assert line.startswith("listening on http://127.0.0.1:"), line
        port = int(line.rsplit(":", 1)[1])
        assert port > 0
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stdout.close()


def invoke(event: str, url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sesrelay", "invoke", event],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        env=cli_env(
            SESRELAY_SES_ENDPOINT=url,
            TENCENTCLOUD_SECRET_ID=DEFAULT_SECRET_ID,
            TENCENTCLOUD_SECRET_KEY=DEFAULT_SECRET_KEY,
        ),
    )


def test_invoke_sends_through_the_emulator_process(emulator_process: str) -> None:
    done = invoke("events/direct_batch-send-email.json", emulator_process)
    assert done.returncode == 0, done.stderr
    reply = json.loads(done.stdout)
    assert reply["ok"] is True
    with __import__("urllib.request").request.urlopen(
        f"{emulator_process}/_emulator/outbox?task_id={reply['result']['TaskId']}", timeout=5
    ) as resp:
        outbox = json.loads(resp.read())
    assert outbox["count"] == 3


def test_invoke_reports_invalid_events_and_exits_non_zero(emulator_process: str) -> None:
    done = invoke("events/direct_batch-send-email-invalid.json", emulator_process)
    assert done.returncode == 1
    reply = json.loads(done.stdout)
    assert reply["error"]["code"] == "validation_error"
    assert "Traceback" not in done.stderr


def test_invoke_with_a_missing_file_says_so(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "sesrelay", "invoke", str(tmp_path / "nope.json")],
        capture_output=True,
        text=True,
        env=cli_env(),
        cwd=ROOT,
        timeout=60,
    )
    assert done.returncode != 0
    assert "cannot read event file" in done.stderr
    assert "Traceback" not in done.stderr
