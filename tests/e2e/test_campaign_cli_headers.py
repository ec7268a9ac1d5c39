"""`sesrelay campaign send` and header injection: a CSV cell may hold a quoted line break, and
one that would land in the Subject refuses its row before anything reaches SES."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.test_campaign_cli import _fresh, control, emulator_url, send, write_csv

__all__ = ["_fresh", "emulator_url"]  # the fixtures this module uses, by import


def test_a_csv_cell_that_would_break_the_subject_refuses_its_row(
    emulator_url: str, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "list.csv",
        [
            ["email", "name", "note"],
            ["ana@example.org", "Ana", "line one\r\nline two"],  # not in the Subject: fine
            ["eve@example.org", "A\r\nBcc: x@attacker.example", "x"],
        ],
    )
    done = send(emulator_url, tmp_path, path, "--no-progress")

    assert done.returncode == 1, done.stdout + done.stderr
    # Ana's row spans lines 2-3 (a quoted line break): Eve's starts on line 4 of the file
    assert "  line 4, TemplateData.name: is used in the Subject (a mail header)" in done.stderr
    assert "attacker" not in done.stderr + done.stdout
    assert "nothing was sent" in done.stderr
    calls = control(emulator_url, "calls")["calls"]
    assert calls == {"GetEmailTemplate": 1, "ListEmailAddress": 1}  # reads only: nothing created
