"""The command line as a user runs it: its help, `sesrelay emulator` and `sesrelay invoke`, as
processes."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sesrelay.emulator import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY
from tests.e2e.emulator_cli import running_emulator

ROOT = Path(__file__).resolve().parents[2]


def cli_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SESRELAY_", "TENCENTCLOUD_"))}
    env["PYTHONPATH"] = str(ROOT / "lib")
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def emulator_process() -> Iterator[str]:
    with running_emulator(cli_env()) as url:
        yield url


def invoke(event: str, url: str, **env: str) -> subprocess.CompletedProcess[str]:
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
            **env,
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


@pytest.mark.parametrize(
    ("key_digest", "status"),
    [
        (hashlib.sha256(b"another-key").hexdigest(), 401),  # the event's key is not configured
        ("", 503),  # no keys at all: auth_not_configured
    ],
    ids=["wrong-key-401", "no-keys-503"],
)
def test_invoke_of_an_http_event_answered_with_an_error_exits_non_zero(
    key_digest: str, status: int, emulator_process: str
) -> None:
    done = invoke(
        "events/http_post-emails.json", emulator_process, SESRELAY_API_KEY_SHA256=key_digest
    )
    assert json.loads(done.stdout)["statusCode"] == status
    assert done.returncode == 1


def test_invoke_of_an_http_event_that_succeeds_exits_zero(emulator_process: str) -> None:
    done = invoke("events/http_get-health.json", emulator_process)
    assert json.loads(done.stdout)["statusCode"] == 200
    assert done.returncode == 0, done.stderr


def test_invoke_of_a_timer_tick_exits_zero_when_sent_and_when_duplicate(
    emulator_process: str, tmp_path: Path
) -> None:
    state = f"sqlite:///{tmp_path / 'state.sqlite3'}"
    sent = invoke("events/timer_inline-send-email.json", emulator_process, SESRELAY_STATE_URL=state)
    assert json.loads(sent.stdout)["status"] == "sent"
    assert sent.returncode == 0, sent.stderr
    again = invoke(
        "events/timer_inline-send-email.json", emulator_process, SESRELAY_STATE_URL=state
    )
    assert json.loads(again.stdout)["status"] == "duplicate"
    assert again.returncode == 0, again.stderr


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


def run_cli(*args: str, python_flags: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *python_flags, "-m", "sesrelay", *args],
        capture_output=True,
        text=True,
        env=cli_env(),
        cwd=ROOT,
        timeout=60,
    )


def test_help_names_every_command_without_loading_the_relay() -> None:
    # -X importtime lists every module imported: help must not pay for pydantic or the SDK.
    done = run_cli("--help", python_flags=("-X", "importtime"))
    assert done.returncode == 0, done.stderr
    for command in ("serve", "emulator", "invoke", "config", "package", "deploy", "campaign"):
        assert f"    {command} " in done.stdout, command
    imported = [line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()]
    assert "sesrelay.cli.main" in imported
    assert not [m for m in imported if m.split(".")[0] in ("pydantic", "tencentcloud")]


@pytest.mark.parametrize(
    ("command", "option"),
    [
        (("serve",), "--port"),
        (("emulator",), "--rate-limit"),
        (("invoke",), "--context"),
        (("config", "check"), "SESRELAY_CONFIG"),
        (("package",), "--requirements"),
        (("deploy",), "--dry-run"),
        (("campaign", "send"), "--template-id"),
    ],
)
def test_each_command_has_help(command: tuple[str, ...], option: str) -> None:
    done = run_cli(*command, "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"usage: sesrelay {' '.join(command)} ")
    assert option in done.stdout


def test_invoke_without_credentials_says_it_uses_the_local_emulator() -> None:
    # An invalid event is refused before any SES call, so no emulator needs to be listening.
    done = run_cli("invoke", "events/direct_batch-send-email-invalid.json")
    assert done.returncode == 1
    assert json.loads(done.stdout)["error"]["code"] == "validation_error"
    assert "using the local emulator at http://127.0.0.1:8025" in done.stderr


def test_invoke_of_a_tick_scf_would_retry_says_so_without_a_traceback(
    emulator_process: str,
) -> None:
    import socket

    with socket.socket() as sock:  # a port where nothing listens: the state store is down
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    done = invoke(
        "events/timer_inline-send-email.json",
        emulator_process,
        SESRELAY_STATE_URL=f"redis://127.0.0.1:{closed}/0",
    )
    assert done.returncode == 1
    assert "retry later" in done.stderr
    assert "Traceback" not in done.stderr


# --- sesrelay config check: the file, and the variables it names ------------------------------

#: The variables the shipped sesrelay.yaml names, in the order it names them.
SHIPPED_VARIABLES = {
    "GITHUB_WEBHOOK_SECRET": "webhooks.github-releases.secret_env",
    "STRIPE_WEBHOOK_SECRET": "webhooks.stripe-payments.secret_env",
    "SESRELAY_SES_EVENTS_TOKEN": "ses_events.token_env",
}


def config_check(*options: str) -> subprocess.CompletedProcess[str]:
    """`sesrelay config check` in the checkout, as on a fresh clone: none of its variables set."""
    env = {k: v for k, v in cli_env().items() if k not in SHIPPED_VARIABLES}
    return subprocess.run(
        [sys.executable, "-m", "sesrelay", "config", "check", *options],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
    )


def test_config_check_on_a_fresh_clone_passes_and_lists_the_variables_to_set() -> None:
    done = config_check()
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "ok: 3 jobs, 2 webhook sources"
    assert lines[1:4] == [
        f"needs at deploy: {name} (unset), for {path}" for name, path in SHIPPED_VARIABLES.items()
    ]
    assert "problem" not in done.stdout
    assert done.stderr == ""


def test_config_check_env_requires_every_variable_the_file_names() -> None:
    done = config_check("--env")
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.splitlines() == [
        *(
            f"{path}: environment variable {name} is not set"
            for name, path in SHIPPED_VARIABLES.items()
        ),
        "3 problem(s) in sesrelay.yaml",
    ]
    assert "Traceback" not in done.stderr
