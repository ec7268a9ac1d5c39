"""`templates sync` against the emulator through the official SDK: create from an empty account,
update what changed, a second run that writes nothing, review status in every line, `--prune`
only when asked, and a dry run that writes nothing; and the preview, rendered as the emulator
renders the mail it sends."""

from __future__ import annotations

import json
import shutil
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from sesrelay.clock import ManualClock, SystemClock
from sesrelay.emulator import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, EmulatorServer
from sesrelay.emulator.ses.seed import DEFAULT_SEED
from sesrelay.settings import Settings
from sesrelay.templates.account import Account
from sesrelay.templates.folder import load_folder
from sesrelay.templates.preview import find, preview
from sesrelay.templates.sync import run_sync
from sesrelay.wiring import build_ses_gateway

ROOT = Path(__file__).resolve().parents[2]
SEED = json.loads((ROOT / "lib/sesrelay/emulator/ses" / DEFAULT_SEED).read_text(encoding="utf-8"))
START = datetime(2026, 1, 5, 1, 0, 0, tzinfo=timezone.utc)
WRITES = ("CreateEmailTemplate", "UpdateEmailTemplate", "DeleteEmailTemplate")


@dataclass
class Result:
    lines: list[str]
    problems: list[str]

    def line(self, action: str, name: str) -> str:
        """The one plan or outcome line for `name` that starts with `action`."""
        head = f"  {action:<9}  template {name}"
        (found,) = [line for line in self.lines if line.split("  (")[0] == head]
        return found


@dataclass
class Setup:
    srv: EmulatorServer
    folder: Path
    account: Account

    def sync(self, *, prune: bool = False, dry_run: bool = False) -> Result:
        lines: list[str] = []
        problems = run_sync(
            self.account, load_folder(self.folder), lines.append, prune=prune, dry_run=dry_run
        )
        return Result(lines, problems)

    def writes(self) -> dict[str, int]:
        return {a: n for a, n in self.srv.call_counts().items() if a in WRITES}

    def by_id(self) -> dict[int, dict[str, Any]]:
        """TemplateID -> {name, status, html, text}, as SES reports them (List, Get)."""
        found = {}
        for t in self.account.templates():
            html, text = self.account.content(t.template_id)
            found[t.template_id] = {"name": t.name, "status": t.status, "html": html, "text": text}
        return found

    def templates(self) -> dict[str, dict[str, Any]]:
        """name -> {id, status, html, text}, for an account whose names do not repeat."""
        found = {t["name"]: {"id": i, **t} for i, t in self.by_id().items()}
        assert len(found) == len(self.by_id())
        return found

    def approve(self, template_id: int | None = None) -> None:
        body = {"all": True} if template_id is None else {"TemplateID": template_id}
        req = urllib.request.Request(
            f"{self.srv.url}/_emulator/templates/approve", json.dumps(body).encode(), method="POST"
        )
        with urllib.request.urlopen(req, timeout=10) as reply:
            assert reply.status == 200


def make_setup(tmp_path: Path, templates: list[Any] | None) -> Iterator[Setup]:
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({**SEED, **({} if templates is None else {"templates": templates})}))
    folder = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", folder)
    with EmulatorServer(port=0, seed_path=seed, clock=ManualClock(START), rate_limit=None) as srv:
        settings = Settings(
            environ={},
            secret_id=DEFAULT_SECRET_ID,
            secret_key=DEFAULT_SECRET_KEY,
            ses_region="ap-guangzhou",
            ses_endpoint=srv.url,
            ses_rate=0,
        )
        clock = SystemClock()
        yield Setup(srv, folder, Account(build_ses_gateway(settings, clock), clock))


@pytest.fixture
def empty(tmp_path: Path) -> Iterator[Setup]:
    """An account without templates (a seed with `"templates": []`), the shipped folder."""
    yield from make_setup(tmp_path, [])


@pytest.fixture
def seeded(tmp_path: Path) -> Iterator[Setup]:
    """The default seed's account (welcome, weekly-digest, pending-review), the shipped folder."""
    yield from make_setup(tmp_path, None)


# -- create, no-op, review ----------------------------------------------------------------------


def test_an_empty_account_gets_every_template_created_under_review(empty: Setup) -> None:
    result = empty.sync()
    assert result.problems == []
    assert "(new; Tencent reviews it)" in result.line("create", "welcome")
    assert "(new; Tencent reviews it)" in result.line("create", "weekly-digest")
    assert empty.writes() == {"CreateEmailTemplate": 2}
    made = empty.templates()
    assert set(made) == {"welcome", "weekly-digest"}
    assert result.line("created", "welcome") == (
        f"  created    template welcome  (#{made['welcome']['id']}, under review)"
    )
    assert made["welcome"]["status"] == 1
    assert made["welcome"]["html"] == "<p>Hello {{name}}, welcome aboard.</p>"
    assert made["welcome"]["text"] == "Hello {{name}}, welcome aboard."


def test_a_second_run_changes_nothing_and_shows_the_review(empty: Setup) -> None:
    empty.sync()
    before = Counter(empty.writes())
    again = empty.sync()
    assert again.problems == []
    assert Counter(empty.writes()) == before  # no write call at all
    welcome = empty.templates()["welcome"]["id"]
    assert welcome == 100002  # created after weekly-digest: not the id its header names
    assert again.line("no change", "welcome") == (
        "  no change  template welcome  (#100002, under review; header id 100001 differs; "
        "sends with it fail until Tencent approves it)"
    )
    assert again.lines[-1] == "templates: no changes"
    empty.srv.advance(600)  # the emulator's review time
    assert "(#100002, approved; header id 100001 differs)" in empty.sync().line(
        "no change", "welcome"
    )


def test_a_rejected_template_is_a_problem_until_it_changes(seeded: Setup) -> None:
    body = json.dumps({"TemplateID": 100001, "ReviewReason": "links to a parked domain"})
    req = urllib.request.Request(
        f"{seeded.srv.url}/_emulator/templates/reject", body.encode(), method="POST"
    )
    urllib.request.urlopen(req, timeout=10).close()
    result = seeded.sync()
    assert "(#100001, rejected: links to a parked domain)" in result.line("no change", "welcome")
    assert result.problems == [
        "template welcome (#100001) was rejected: links to a parked domain; change it and sync "
        "again to submit it for review"
    ]
    path = seeded.folder / "welcome.html"
    path.write_text(path.read_text().replace("welcome aboard", "glad you are here"))
    fixed = seeded.sync()
    assert fixed.problems == []
    assert "rejected: links to a parked domain; html changed, reviewed again)" in fixed.line(
        "update", "welcome"
    )
    assert seeded.templates()["welcome"]["status"] == 1


# -- update ---------------------------------------------------------------------------------------


def test_a_changed_file_updates_only_that_template_and_names_the_parts(seeded: Setup) -> None:
    (seeded.folder / "welcome.txt").write_text("Hi {{name}}!\n")
    digest = seeded.folder / "weekly-digest.html"
    digest.write_text(digest.read_text().replace("<h1>", "<h2>").replace("</h1>", "</h2>"))
    result = seeded.sync()
    assert result.problems == []
    assert result.line("update", "welcome") == (
        "  update     template welcome  (#100001, approved; text changed, reviewed again)"
    )
    assert "(#100002, approved; html changed, reviewed again)" in result.line(
        "update", "weekly-digest"
    )
    assert seeded.writes() == {"UpdateEmailTemplate": 2}
    now = seeded.templates()
    assert (now["welcome"]["text"], now["welcome"]["status"]) == ("Hi {{name}}!", 1)
    assert now["welcome"]["html"] == "<p>Hello {{name}}, welcome aboard.</p>"
    assert now["weekly-digest"]["html"].startswith("<h2>Week")
    assert (
        result.line("updated", "welcome")
        == "  updated    template welcome  (#100001, under review)"
    )


def test_updating_a_template_under_review_starts_its_review_again(empty: Setup) -> None:
    empty.sync()
    (empty.folder / "welcome.txt").unlink()  # the text part goes: SES's copy loses it too
    result = empty.sync()
    welcome = empty.templates()["welcome"]
    assert result.line("update", "welcome") == (
        f"  update     template welcome  (#{welcome['id']}, under review; header id 100001 "
        "differs; text changed, its review starts again)"
    )
    assert empty.writes() == {"CreateEmailTemplate": 2, "UpdateEmailTemplate": 1}
    assert welcome["text"] == ""
    empty.srv.advance(599)  # counted from the update, not from the creation
    assert empty.templates()["welcome"]["status"] == 1


def test_the_header_id_chooses_among_templates_of_one_name(empty: Setup) -> None:
    empty.sync()
    welcome = empty.templates()["welcome"]["id"]
    (_, shipped) = load_folder(empty.folder)
    twin = empty.account.create(replace(shipped, html="<p>old</p>", text=""))  # names may repeat
    empty.approve(twin)
    before = Counter(empty.writes())
    result = empty.sync()
    assert result.line("refused", "welcome") == (
        f"  refused    template welcome  (2 account templates have this name (#{welcome}, #{twin}))"
    )
    assert result.problems == [
        f"template welcome: 2 account templates have this name (#{welcome}, #{twin}); put "
        "`id: N` in the header of welcome.html to say which one it is"
    ]
    assert Counter(empty.writes()) == before
    html = empty.folder / "welcome.html"
    html.write_text(html.read_text().replace("id: 100001", f"id: {twin}"))
    chosen = empty.sync(prune=True)
    assert chosen.problems == []
    assert f"(#{twin}, approved; html and text changed, reviewed again)" in chosen.line(
        "update", "welcome"
    )
    assert f"(#{welcome}, under review; not in the folder)" in chosen.line("delete", "welcome")
    assert sorted(empty.by_id()) == sorted([empty.templates()["weekly-digest"]["id"], twin])


# -- prune and dry run ----------------------------------------------------------------------------


def test_templates_the_folder_lacks_are_deleted_only_with_prune(seeded: Setup) -> None:
    kept = seeded.sync()
    assert kept.problems == []
    assert kept.line("keep", "pending-review") == (
        "  keep       template pending-review  (#100003, under review; not in the folder: "
        "--prune deletes it)"
    )
    assert kept.line("no change", "welcome") == "  no change  template welcome  (#100001, approved)"
    assert seeded.writes() == {}
    planned = seeded.sync(prune=True, dry_run=True)
    assert "(#100003, under review; not in the folder)" in planned.line("delete", "pending-review")
    assert planned.lines[-1] == "dry run: no template was changed"
    assert seeded.writes() == {}
    pruned = seeded.sync(prune=True)
    assert pruned.line("deleted", "pending-review") == (
        "  deleted    template pending-review  (#100003)"
    )
    assert seeded.writes() == {"DeleteEmailTemplate": 1}
    assert set(seeded.templates()) == {"welcome", "weekly-digest"}


def test_a_dry_run_plans_everything_and_writes_nothing(empty: Setup) -> None:
    (empty.folder / "welcome.txt").unlink()
    result = empty.sync(dry_run=True, prune=True)
    assert [line.split("  (")[0] for line in result.lines] == [
        "  create     template weekly-digest",
        "  create     template welcome",
        "dry run: no template was changed",
    ]
    assert empty.writes() == {}
    assert empty.templates() == {}


def test_a_refused_write_is_reported_and_the_others_are_made(empty: Setup) -> None:
    empty.srv.inject_fault(
        "CreateEmailTemplate", "error", code="FailedOperation.ExceedTemplateLimit", message="full"
    )
    result = empty.sync()
    assert result.problems == [
        "template weekly-digest: create failed: FailedOperation.ExceedTemplateLimit: full"
    ]
    assert set(empty.templates()) == {"welcome"}
    assert empty.sync().problems == []  # the next run creates what is missing, nothing twice
    assert sorted(empty.templates()) == ["weekly-digest", "welcome"]


def test_an_unreachable_ses_is_one_problem_and_nothing_else(tmp_path: Path) -> None:
    with EmulatorServer(port=0) as srv:
        url = srv.url
    settings = Settings(
        environ={}, secret_id=DEFAULT_SECRET_ID, secret_key=DEFAULT_SECRET_KEY,
        ses_endpoint=url, ses_rate=0, ses_max_attempts=1,
    )  # fmt: skip
    account = Account(build_ses_gateway(settings, SystemClock()), SystemClock())
    lines: list[str] = []
    problems = run_sync(account, load_folder(ROOT / "templates"), lines.append)
    assert lines == []
    assert problems == [
        "cannot read the account's templates: ClientNetworkError: the connection to SES was refused"
    ]


# -- preview ------------------------------------------------------------------------------------


def test_the_preview_is_what_the_emulator_sends(seeded: Setup) -> None:
    from tencentcloud.common import credential
    from tencentcloud.common.profile.client_profile import ClientProfile
    from tencentcloud.common.profile.http_profile import HttpProfile
    from tencentcloud.ses.v20201002 import models, ses_client

    data: dict[str, str | int | float | bool | None] = {"week": 12, "date": "2026-03-20 & on"}
    shown = preview(find(seeded.folder, "weekly-digest"), data)
    profile = ClientProfile(httpProfile=HttpProfile(endpoint=seeded.srv.endpoint, protocol="http"))
    client = ses_client.SesClient(
        credential.Credential(DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY), "ap-guangzhou", profile
    )
    request = models.SendEmailRequest()
    request.from_json_string(
        json.dumps(
            {
                "FromEmailAddress": "noreply@example.com",
                "Destination": ["dana@example.org"],
                "Subject": shown.template.subject,
                "Template": {"TemplateID": 100002, "TemplateData": json.dumps(data)},
            }
        )
    )
    client.SendEmail(request)
    client.request.conn._session.close()
    (mail,) = seeded.srv.outbox()
    assert (shown.subject, shown.html, shown.text) == (mail["subject"], mail["html"], mail["text"])
    assert shown.html == "<h1>Week 12</h1><p>Everything that happened up to 2026-03-20 & on.</p>"
    assert shown.subject == "Your digest for week 12"
