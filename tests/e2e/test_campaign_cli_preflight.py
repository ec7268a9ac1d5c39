"""`sesrelay campaign send` asks SES before its first write: a sender SES does not list, a template
that is missing or not approved, or columns that do not fill the template's variables refuse the
campaign at once, every problem listed and nothing created. SES out of reach is its own error,
never "still uploading"."""

from __future__ import annotations

import json
import socket
import urllib.request
from pathlib import Path

from tests.e2e.test_campaign_cli import _fresh, control, emulator_url, send, write_csv

__all__ = ["_fresh", "emulator_url"]  # the fixtures this module uses, by import

READS_ONLY = {"GetEmailTemplate": 1, "ListEmailAddress": 1}  # SES was asked, nothing created


def inject(url: str, fault: dict[str, object]) -> None:
    request = urllib.request.Request(
        f"{url}/_emulator/faults",
        data=json.dumps(fault).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    urllib.request.urlopen(request, timeout=10).close()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port  # closed again: connecting to it is refused


def assert_no_none(text: str) -> None:
    assert "None" not in text, text
    assert "task ids: \n" not in text, text
    assert not text.rstrip().endswith("task ids:"), text


def test_columns_that_do_not_fill_the_template_refuse_it_before_any_group_exists(
    emulator_url: str, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "list.csv", [["Email", "Name"], ["ana@example.org", "Ana"], ["bad", "B"]]
    )
    done = send(emulator_url, tmp_path, path, "--no-progress", "--validation", "permissive")

    assert done.returncode == 1, done.stderr
    assert done.stdout == ""
    assert (
        f"sesrelay campaign: {path} line 1 (the header): the template and Subject use "
        "{{name}}, but no column and no --template-data default provides it "
        '(there is "Name": variable names are case-sensitive)'
    ) in done.stderr
    assert "  line 3, Email: must be a valid email address" in done.stderr  # rows too, one run
    assert "nothing was created or sent" in done.stderr
    assert control(emulator_url, "calls")["calls"] == READS_ONLY  # no group left behind


def test_an_unlisted_sender_and_an_unapproved_template_are_reported_together(
    emulator_url: str, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "list.csv", [["email", "name"], ["ana@example.org", "Ana"]])
    done = send(
        emulator_url,
        tmp_path,
        path,
        *("--from", "News <nobody@example.com>", "--template-id", "100003", "--no-progress"),
    )

    assert done.returncode == 1, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("sesrelay campaign:")]
    assert [line.split(": ")[1] for line in errors] == ["FromEmailAddress", "Template.TemplateID"]
    assert "nobody@example.com is not a sender address of this SES account" in errors[0]
    assert 'template 100003 ("pending-review") is not approved' in errors[1]
    assert control(emulator_url, "calls")["calls"] == READS_ONLY

    missing = send(emulator_url, tmp_path, path, "--template-id", "100099", "--no-progress")
    assert missing.returncode == 1
    assert "Template.TemplateID: template 100099 does not exist" in missing.stderr


def test_ses_out_of_reach_is_its_own_error_with_exit_1(tmp_path: Path) -> None:
    port = closed_port()
    path = write_csv(tmp_path / "list.csv", [["email", "name"], ["ana@example.org", "Ana"]])
    done = send(f"http://127.0.0.1:{port}", tmp_path, path, "--no-progress")

    assert done.returncode == 1, done.stderr  # not 3: no --timeout ran out
    assert done.stdout == ""
    assert (
        f"sesrelay campaign: cannot reach SES at http://127.0.0.1:{port}: the connection to "
        "SES was refused. Nothing was created or sent"
    ) in done.stderr
    assert "still" not in done.stderr
    assert_no_none(done.stdout + done.stderr)


def test_a_throttled_preflight_is_not_taken_for_a_yes(emulator_url: str, tmp_path: Path) -> None:
    inject(
        emulator_url,
        {
            "action": "GetEmailTemplate",
            "kind": "error",
            "count": 5,
            "code": "RequestLimitExceeded",
            "message": "slow down",
        },
    )
    path = write_csv(tmp_path / "list.csv", [["email", "name"], ["ana@example.org", "Ana"]])
    done = send(emulator_url, tmp_path, path, "--no-progress")

    assert done.returncode == 1, done.stderr
    assert "SES answered RequestLimitExceeded: slow down" in done.stderr
    assert "try again once SES answers" in done.stderr
    calls = control(emulator_url, "calls")["calls"]
    assert "CreateReceiver" not in calls, calls
    assert "BatchSendEmail" not in calls, calls


def test_ses_failing_mid_campaign_stops_it_with_a_clear_message_not_a_timeout(
    emulator_url: str, tmp_path: Path
) -> None:
    inject(
        emulator_url,
        {
            "action": "CreateReceiver",
            "kind": "error",
            "count": 5,
            "code": "FailedOperation.ServiceNotAvailable",
            "message": "try later",
        },
    )
    path = write_csv(tmp_path / "list.csv", [["email", "name"], ["ana@example.org", "Ana"]])
    done = send(emulator_url, tmp_path, path, "--no-progress")

    assert done.returncode == 1, done.stdout + done.stderr  # not 3: --timeout did not run out
    assert done.stdout.splitlines()[1].endswith("(not created): 1 recipient, no task")
    assert "task ids:" not in done.stdout  # no task to list
    assert (
        "sesrelay campaign: stopped: SES answered FailedOperation.ServiceNotAvailable: try later"
        in done.stderr
    )
    assert "is saved and still uploading; once SES answers again" in done.stderr
    assert_no_none(done.stdout + done.stderr)
