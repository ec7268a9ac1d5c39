"""`sesrelay campaign send` as a user runs it: a CSV file, a `sesrelay emulator` process, and
the progress bars, campaign id and task ids the command prints."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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
def emulator_url() -> Iterator[str]:
    with running_emulator(cli_env()) as url:
        yield url


def control(url: str, path: str, method: str = "GET") -> Any:
    request = urllib.request.Request(f"{url}/_emulator/{path}", method=method, data=None)
    with urllib.request.urlopen(request, timeout=10) as reply:
        return json.loads(reply.read())


@pytest.fixture(autouse=True)
def _fresh(emulator_url: str) -> None:
    control(emulator_url, "reset", "POST")


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return path


def recipients_csv(tmp_path: Path, count: int, *extra: list[str]) -> Path:
    rows = [["email", "name", "city"]]
    rows += [[f"u{n:04d}@example.org", f"User {n}", "Berlin"] for n in range(count)]
    rows += list(extra)
    return write_csv(tmp_path / "recipients.csv", rows)


def send(
    url: str, tmp_path: Path, csv_path: Path, *options: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    command = [
        *(sys.executable, "-m", "sesrelay", "campaign", "send", str(csv_path)),
        *("--from", "Example News <news@example.com>", "--subject", "Hello {{name}}"),
        *("--template-id", "100001", *options),
    ]
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        input=stdin,
        env=cli_env(
            SESRELAY_SES_ENDPOINT=url,
            TENCENTCLOUD_SECRET_ID=DEFAULT_SECRET_ID,
            TENCENTCLOUD_SECRET_KEY=DEFAULT_SECRET_KEY,
            SESRELAY_STATE_URL=f"sqlite:///{tmp_path / 'state.sqlite3'}",
        ),
    )


def test_send_prints_the_campaign_and_its_task_and_mails_everyone_once(
    emulator_url: str, tmp_path: Path
) -> None:
    path = recipients_csv(
        tmp_path,
        30,
        ["U0001@example.org", "Again", "Paris"],  # a duplicate (case-insensitive)
        ["not-an-address", "Bad", "Rome"],
    )
    done = send(emulator_url, tmp_path, path, "--validation", "permissive", "--json")

    assert done.returncode == 0, done.stderr
    campaign = json.loads(done.stdout)
    assert campaign["CampaignId"].startswith("cmp_")
    assert campaign["State"] == "sent"
    assert campaign["Counts"] == {"Received": 32, "Valid": 30, "Duplicates": 1, "Invalid": 1}
    [task_id] = campaign["TaskIds"]
    # one progress bar per phase, each finished
    bars = [line.split()[0] for line in done.stderr.splitlines() if "100%" in line]
    assert bars == ["validate", "upload", "send"], done.stderr
    # the file's line: the header is line 1, so the 32nd row is line 33, in text and JSON alike
    assert "  line 33, Email: must be a valid email address" in done.stderr
    assert campaign["InvalidRows"] == [
        {
            "Line": 33,
            "Field": "Email",
            "Message": "must be a valid email address (local@domain.tld)",
        }
    ]

    outbox = control(emulator_url, f"outbox?task_id={task_id}")
    assert sorted(m["to"] for m in outbox["messages"]) == [
        f"u{n:04d}@example.org" for n in range(30)
    ]
    [ana] = [m for m in outbox["messages"] if m["to"] == "u0001@example.org"]
    assert ana["subject"] == "Hello User 1"  # the first copy wins


def test_human_output_names_the_campaign_groups_and_tasks(
    emulator_url: str, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "list.csv",
        [["name", "Email"], ["Ana", "ana@example.org"], ["", "ben@example.org"]],
    )
    done = send(
        emulator_url, tmp_path, path, "--template-data", '{"name": "friend"}', "--no-progress"
    )

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("campaign cmp_")
    assert lines[0].endswith(": sent (2 rows: 2 valid, 0 duplicates, 0 invalid)")
    assert "(ReceiverId " in lines[1]
    assert "2 recipients, task 3" in lines[1]
    assert lines[2].startswith("task ids: ")
    assert done.stderr == ""  # --no-progress: nothing but problems on stderr
    subjects = {m["to"]: m["subject"] for m in control(emulator_url, "outbox")["messages"]}
    assert subjects == {"ana@example.org": "Hello Ana", "ben@example.org": "Hello friend"}


def test_strict_validation_refuses_the_file_and_sends_nothing(
    emulator_url: str, tmp_path: Path
) -> None:
    path = recipients_csv(tmp_path, 5, ["bad", "B", "C"], ["c@example.org", "<b>x</b>", "C"])
    done = send(emulator_url, tmp_path, path)

    assert done.returncode == 1
    assert "  line 7, Email: must be a valid email address" in done.stderr
    assert "  line 8, TemplateData: values must not contain HTML tags" in done.stderr
    assert "refused, invalid rows (strict validation); nothing was sent" in done.stderr
    assert done.stdout == ""
    # SES was only asked about the sender and the template: nothing was created
    assert control(emulator_url, "calls")["calls"] == {"GetEmailTemplate": 1, "ListEmailAddress": 1}


def test_stdin_and_header_problems(emulator_url: str, tmp_path: Path) -> None:
    piped = send(
        emulator_url, tmp_path, Path("-"), "--no-progress", stdin="email,name\na@example.org,A\n"
    )
    assert piped.returncode == 0, piped.stderr
    assert "task ids: " in piped.stdout

    no_email = write_csv(tmp_path / "x.csv", [["name"], ["A"]])
    done = send(emulator_url, tmp_path, no_email, "--no-progress")
    assert done.returncode == 2
    assert "no email column" in done.stderr

    bad_sender = send(emulator_url, tmp_path, no_email, "--subject", "")
    assert bad_sender.returncode == 2
    assert "Subject: must not be empty" in bad_sender.stderr
