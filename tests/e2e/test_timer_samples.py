"""The timer samples and the config check as a user runs them, as processes:
`sesrelay emulator`, `sesrelay invoke events/timer_*.json`, `sesrelay config check FILE`.

Each sample must send out of the box against the emulator's default seed and the shipped
sesrelay.yaml; the same tick invoked again (same state file) is a duplicate.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sesrelay.emulator import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY
from tests.e2e.emulator_cli import running_emulator

ROOT = Path(__file__).resolve().parents[2]
GROUP = ["ana@example.org", "ben@example.org", "chen@example.org"]
#: sample -> (recipients, subject as mailed)
SAMPLES = {
    "weekly-digest": (GROUP, "Your digest for 2026-W49"),
    "welcome-ana": (["ana@example.org"], "Welcome, Ana"),
    "inline-send-email": (["ben@example.org"], "Your weekly reminder"),
    "inline-batch-send-email": (GROUP, "News for our customers"),
}
SHIPPED_ENV = {
    "GITHUB_WEBHOOK_SECRET": "test-secret",
    "STRIPE_WEBHOOK_SECRET": "whsec_test_secret",
    "SESRELAY_SES_EVENTS_TOKEN": "sesrelay-test-callback-token-0001",
}


def cli_env(**extra: str) -> dict[str, str]:
    """The caller's environment without any product variable, plus `extra`."""
    prefixes = ("SESRELAY_", "TENCENTCLOUD_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    for name in SHIPPED_ENV:
        env.pop(name, None)
    env["PYTHONPATH"] = str(ROOT / "lib")
    env.update(extra)
    return env


def sesrelay(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sesrelay", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        env=env,
    )


@pytest.fixture(scope="module")
def emulator_url() -> Iterator[str]:
    with running_emulator(cli_env()) as url:
        yield url


def emulator_post(url: str, path: str, data: dict[str, Any] | None = None) -> Any:
    body = json.dumps(data or {}).encode()
    request = urllib.request.Request(f"{url}{path}", data=body, method="POST")
    request.add_header("content-type", "application/json")
    with urllib.request.urlopen(request, timeout=5) as resp:
        return json.loads(resp.read() or b"null")


def outbox(url: str, query: str = "") -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{url}/_emulator/outbox?{query}", timeout=5) as resp:
        messages: list[dict[str, Any]] = json.loads(resp.read())["messages"]
        return messages


@pytest.fixture
def invoke_env(emulator_url: str, tmp_path: Path) -> dict[str, str]:
    emulator_post(emulator_url, "/_emulator/reset")
    return cli_env(
        SESRELAY_SES_ENDPOINT=emulator_url,
        TENCENTCLOUD_SECRET_ID=DEFAULT_SECRET_ID,
        TENCENTCLOUD_SECRET_KEY=DEFAULT_SECRET_KEY,
        SESRELAY_STATE_URL=f"sqlite:///{tmp_path}/state.sqlite3",
    )


def invoke(sample: str, env: dict[str, str]) -> dict[str, Any]:
    done = sesrelay("invoke", f"events/timer_{sample}.json", env=env)
    assert done.returncode == 0, (done.stdout, done.stderr)
    reply: dict[str, Any] = json.loads(done.stdout)
    return reply


@pytest.mark.parametrize("sample", list(SAMPLES))
def test_sample_sends_through_the_emulator_process(
    sample: str, emulator_url: str, invoke_env: dict[str, str]
) -> None:
    recipients, subject = SAMPLES[sample]
    reply = invoke(sample, invoke_env)
    assert reply["ok"] is True, reply
    assert reply["status"] == "sent"
    result = reply["result"]
    query = (
        f"task_id={result['TaskId']}" if "TaskId" in result else f"message_id={result['MessageId']}"
    )
    mails = outbox(emulator_url, query)
    assert sorted(m["to"] for m in mails) == recipients
    assert {m["subject"] for m in mails} == {subject}


def test_the_same_tick_invoked_again_is_a_duplicate(
    emulator_url: str, invoke_env: dict[str, str]
) -> None:
    first = invoke("weekly-digest", invoke_env)
    again = invoke("weekly-digest", invoke_env)
    assert first["status"] == "sent"
    assert again["status"] == "duplicate"
    assert again["first_outcome"] == "sent"
    assert len(outbox(emulator_url)) == len(GROUP)


def test_sample_messages_fit_the_scf_limit_and_set_no_begin_time() -> None:
    for sample in SAMPLES:
        event = json.loads((ROOT / "events" / f"timer_{sample}.json").read_text())
        assert set(event) == {"Type", "TriggerName", "Time", "Message"}
        assert event["Type"] == "Timer"
        assert len(event["Message"].encode()) <= 4096
        assert "TimedParam" not in event["Message"]
        assert "BeginTime" not in event["Message"]


# --- sesrelay config check -------------------------------------------------------------------


def test_config_check_passes_the_shipped_file_with_its_variables_set() -> None:
    done = sesrelay("config", "check", "sesrelay.yaml", env=cli_env(**SHIPPED_ENV))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("ok: 3 jobs, 2 webhook sources"), done.stdout


SEND = """\
            send:
              action: SendEmail
              FromEmailAddress: "'noreply@example.com'"
              Destination: ["body.email"]
              Subject: "'Hello'"
              Template: {TemplateID: 100001, TemplateData: {name: body.name}}
"""
#: case -> (sesrelay.yaml, the dotted path its problem must be reported at)
BROKEN = {
    "unknown-scheme": (
        """\
        webhooks:
          crm:
            scheme: hubspot
            secret_env: [CRM_SECRET]
"""
        + SEND,
        "webhooks.crm.scheme",
    ),
    "missing-secret-variable": (
        """\
        webhooks:
          crm:
            scheme: github
            secret_env: [CRM_SECRET, CRM_SECRET_UNSET]
"""
        + SEND,
        "webhooks.crm.secret_env",
    ),
    "invalid-jmespath": (
        """\
        webhooks:
          crm:
            scheme: github
            secret_env: [CRM_SECRET]
            when: "body.type == 'deal.won"
            send:
              action: SendEmail
              FromEmailAddress: "'noreply@example.com'"
              Destination: ["body.email"]
              Subject: "join('', ['Hello ', body.name]"
              Template: {TemplateID: 100001, TemplateData: {name: body.name}}
        """,
        "webhooks.crm.send.Subject",
    ),
    "job-params-fail-the-ses-models": (
        """\
        jobs:
          digest:
            action: SendEmail
            params:
              FromEmailAddress: "Example: News <news@example.com>"
              Destination: [ana@example.org]
              Subject: "Digest"
              Template: {TemplateID: 100002, TemplateData: {week: "{{tick.iso_week}}"}}
        """,
        "jobs.digest.params.FromEmailAddress",
    ),
    "message-over-4kb": (
        f"""\
        jobs:
          digest:
            action: BatchSendEmail
            receiver_group: demo-customers
            params:
              FromEmailAddress: news@example.com
              Subject: Digest
              TaskType: 1
              Template:
                TemplateID: 100002
                TemplateData: {{week: "{"w" * 4200}"}}
        """,
        "jobs.digest.params",
    ),
}


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sesrelay.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.mark.parametrize("case", list(BROKEN))
def test_config_check_reports_the_problem_at_its_dotted_path(case: str, tmp_path: Path) -> None:
    text, where = BROKEN[case]
    path = write_config(tmp_path, text)
    done = sesrelay(
        "config", "check", "--env", str(path), env=cli_env(CRM_SECRET="s3cret-crm-value")
    )
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert any(line.startswith(f"{where}: ") for line in lines), done.stdout
    assert lines[-1].endswith(f"problem(s) in {path}")
    assert "s3cret-crm-value" not in done.stdout + done.stderr
    assert "Traceback" not in done.stderr


def test_config_check_reports_every_problem_of_one_file_at_once(tmp_path: Path) -> None:
    big = "w" * 4200
    path = write_config(
        tmp_path,
        f"""\
        jobs:
          digest:
            action: SendEmail
            params:
              FromEmailAddress: "Example: News <news@example.com>"
              Destination: [ana@example.org]
              Subject: "Digest"
              Template: {{TemplateID: 100002, TemplateData: {{week: "{{{{tick.iso_week}}}}"}}}}
          big:
            action: BatchSendEmail
            receiver_group: demo-customers
            params:
              FromEmailAddress: news@example.com
              Subject: Digest
              TaskType: 1
              Template: {{TemplateID: 100002, TemplateData: {{week: "{big}"}}}}
        webhooks:
          crm:
            scheme: hubspot
            secret_env: [CRM_SECRET]
            send: {{action: SendEmail, Subject: "'Hello'"}}
          deals:
            scheme: github
            secret_env: [DEALS_SECRET]
            when: "body.type == 'deal.won"
            send:
              action: SendEmail
              FromEmailAddress: "'noreply@example.com'"
              Destination: ["body.email"]
              Subject: "join('', ['Hello ', body.name]"
        """,
    )
    done = sesrelay(
        "config", "check", "--env", str(path), env=cli_env(CRM_SECRET="s3cret-crm-value")
    )
    assert done.returncode == 1, done.stdout + done.stderr
    paths = {line.split(": ", 1)[0] for line in done.stdout.splitlines()}
    assert {
        "jobs.digest.params.FromEmailAddress",
        "jobs.big.params",
        "webhooks.crm.scheme",
        "webhooks.deals.secret_env",
        "webhooks.deals.when",
        "webhooks.deals.send.Subject",
    } <= paths, done.stdout


def test_config_check_reports_a_standard_webhooks_secret_that_cannot_be_used(
    tmp_path: Path,
) -> None:
    """Set but not `whsec_<base64>`: every delivery would fail, so the check must say so."""
    path = write_config(
        tmp_path,
        """\
        webhooks:
          signups:
            scheme: standard-webhooks
            secret_env: [SIGNUPS_SECRET]
"""
        + SEND,
    )
    value = "whsec_c2VzcmVsYXktc3RhbmRhcmQtd2ViaG9va3MtdGVzdCE=!"
    done = sesrelay("config", "check", str(path), env=cli_env(SIGNUPS_SECRET=value))
    assert done.returncode == 1, done.stdout + done.stderr
    assert any(
        line.startswith("webhooks.signups.secret_env: ") for line in done.stdout.splitlines()
    ), done.stdout
    assert value not in done.stdout + done.stderr
