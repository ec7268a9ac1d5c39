"""`sesrelay templates sync` and `sesrelay templates preview` as a user runs them: a
`sesrelay emulator --seed` process started from an empty account, the shipped folder copied,
and what the commands print and exit with."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tencentcloud.common import credential
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.ses.v20201002 import models, ses_client

from sesrelay.emulator import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY
from sesrelay.emulator.ses.seed import DEFAULT_SEED
from tests.e2e.emulator_cli import running_emulator

ROOT = Path(__file__).resolve().parents[2]
SEED = json.loads((ROOT / "lib/sesrelay/emulator/ses" / DEFAULT_SEED).read_text(encoding="utf-8"))


def cli_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SESRELAY_", "TENCENTCLOUD_"))}
    env["PYTHONPATH"] = str(ROOT / "lib")
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def emulator_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    seed = tmp_path_factory.mktemp("seed") / "empty.json"
    seed.write_text(json.dumps({**SEED, "templates": []}), encoding="utf-8")
    with running_emulator(cli_env(), "--seed", str(seed)) as url:
        yield url


def control(url: str, path: str, body: object = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    method = "GET" if body is None else "POST"
    request = urllib.request.Request(f"{url}/_emulator/{path}", data=data, method=method)
    with urllib.request.urlopen(request, timeout=10) as reply:
        return json.loads(reply.read())


@pytest.fixture
def project(emulator_url: str, tmp_path: Path) -> Path:
    control(emulator_url, "reset", {})
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    return tmp_path


def sesrelay(url: str | None, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    extra = {} if url is None else {
        "SESRELAY_SES_ENDPOINT": url,
        "SESRELAY_SES_REGION": "ap-guangzhou",
        "TENCENTCLOUD_SECRET_ID": DEFAULT_SECRET_ID,
        "TENCENTCLOUD_SECRET_KEY": DEFAULT_SECRET_KEY,
    }  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "sesrelay", "templates", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=cli_env(**extra),
        timeout=60,
    )


def statuses(url: str) -> dict[str, int]:
    """TemplateName -> TemplateStatus, as ListEmailTemplates reports them (official SDK)."""
    profile = ClientProfile(
        httpProfile=HttpProfile(endpoint=url.removeprefix("http://"), protocol="http")
    )
    client = ses_client.SesClient(
        credential.Credential(DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY), "ap-guangzhou", profile
    )
    request = models.ListEmailTemplatesRequest()
    request.from_json_string('{"Offset": 0, "Limit": 100}')
    try:
        listed = client.ListEmailTemplates(request).TemplatesMetadata
    finally:
        client.request.conn._session.close()
    return {t.TemplateName: t.TemplateStatus for t in listed}


# -- sync -----------------------------------------------------------------------------------------


def test_sync_creates_then_changes_nothing_then_shows_the_approval(
    emulator_url: str, project: Path
) -> None:
    first = sesrelay(emulator_url, project, "sync")
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == [
        f"templates in templates -> SES ap-guangzhou at {emulator_url}:",
        "  create     template weekly-digest  (new; Tencent reviews it)",
        "  create     template welcome  (new; Tencent reviews it)",
        "  created    template weekly-digest  (#100001, under review)",
        "  created    template welcome  (#100002, under review)",
    ]
    assert statuses(emulator_url) == {"weekly-digest": 1, "welcome": 1}
    second = sesrelay(emulator_url, project, "sync")
    assert second.returncode == 0, second.stderr
    assert "  no change  template weekly-digest  (#100001, under review; header id 100002 " in (
        second.stdout
    )
    assert second.stdout.splitlines()[-1] == "templates: no changes"
    calls = control(emulator_url, "calls")["calls"]
    assert calls.get("CreateEmailTemplate") == 2
    assert "UpdateEmailTemplate" not in calls
    control(emulator_url, "templates/approve", {"all": True})
    third = sesrelay(emulator_url, project, "sync")
    assert "  no change  template welcome  (#100002, approved; header id 100001 differs)" in (
        third.stdout
    )


def test_sync_prunes_only_when_asked_and_a_dry_run_writes_nothing(
    emulator_url: str, project: Path
) -> None:
    assert sesrelay(emulator_url, project, "sync").returncode == 0
    (project / "templates" / "welcome.html").unlink()
    (project / "templates" / "welcome.txt").unlink()
    kept = sesrelay(emulator_url, project, "sync")
    assert kept.returncode == 0, kept.stderr
    assert "  keep       template welcome  (#100002, under review; not in the folder: --prune " in (
        kept.stdout
    )
    planned = sesrelay(emulator_url, project, "sync", "--prune", "--dry-run")
    assert planned.returncode == 0, planned.stderr
    assert "[dry run]:" in planned.stdout.splitlines()[0]
    assert "  delete     template welcome  (#100002, under review; not in the folder)" in (
        planned.stdout
    )
    assert planned.stdout.splitlines()[-1] == "dry run: no template was changed"
    assert set(statuses(emulator_url)) == {"weekly-digest", "welcome"}
    pruned = sesrelay(emulator_url, project, "sync", "--prune")
    assert pruned.returncode == 0, pruned.stderr
    assert "  deleted    template welcome  (#100002)" in pruned.stdout
    assert set(statuses(emulator_url)) == {"weekly-digest"}


def test_sync_problems_exit_1_and_bad_options_exit_2(emulator_url: str, project: Path) -> None:
    (project / "templates" / "broken.html").write_text("<!--\nsubject: x\nid: abc\n-->\n<p/>\n")
    (project / "templates" / "orphan.txt").write_text("text without html\n")
    broken = sesrelay(emulator_url, project, "sync")
    assert broken.returncode == 1
    assert broken.stdout == ""
    assert broken.stderr.splitlines() == [
        f"sesrelay templates: {Path('templates') / 'broken.html'}: header: id must be a positive "
        "integer",
        f"sesrelay templates: {Path('templates') / 'orphan.txt'}: a text part without its .html "
        "file",
    ]
    missing = sesrelay(emulator_url, project, "sync", "--folder", "nowhere")
    assert missing.returncode == 1
    assert "no folder nowhere" in missing.stderr
    bad = sesrelay(emulator_url, project, "sync", "--purge")
    assert bad.returncode == 2
    assert "unrecognized arguments: --purge" in bad.stderr
    assert control(emulator_url, "calls")["calls"] == {}


def test_sync_against_a_rejected_template_exits_1(emulator_url: str, project: Path) -> None:
    assert sesrelay(emulator_url, project, "sync").returncode == 0
    control(emulator_url, "templates/reject", {"TemplateID": 100002, "ReviewReason": "spam"})
    result = sesrelay(emulator_url, project, "sync")
    assert result.returncode == 1
    assert "(#100002, rejected: spam; header id 100001 differs)" in result.stdout
    assert result.stderr.splitlines() == [
        "sesrelay templates: template welcome (#100002) was rejected: spam; change it and sync "
        "again to submit it for review"
    ]


# -- preview --------------------------------------------------------------------------------------


def test_preview_prints_the_html_and_says_the_subject(project: Path) -> None:
    shown = sesrelay(None, project, "preview", "welcome", "--data", '{"name": "Ana"}')
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == "<p>Hello Ana, welcome aboard.</p>\n"
    assert shown.stderr == "welcome: subject: Welcome, Ana\n"
    text = sesrelay(None, project, "preview", "weekly-digest", "--text", "--data",
                    '{"week": 7, "date": "today", "extra": true}')  # fmt: skip
    assert text.returncode == 0, text.stderr
    assert text.stdout == "Week 7: everything that happened up to today.\n"
    assert "weekly-digest: note: no part uses extra" in text.stderr
    out = project / "out" / "welcome.html"
    out.parent.mkdir()
    written = sesrelay(None, project, "preview", "welcome", "--data", '{"name": "Bo"}',
                       "--output", str(out))  # fmt: skip
    assert written.returncode == 0, written.stderr
    assert written.stdout == ""
    assert out.read_text(encoding="utf-8") == "<p>Hello Bo, welcome aboard.</p>\n"
    assert f"welcome: wrote {out}" in written.stderr


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["welcome", "--data", "{}"], 1, "--data lacks name (the template uses name)"),
        (["weekly-digest", "--data", '{"week": 1}'], 1, "--data lacks date (the template uses "),
        (["welcome", "--data", "{name: 1}"], 2, "--data must be a JSON object"),
        (["welcome", "--data", '{"name": {"first": "Ana"}}'], 2, "--data must be a JSON object"),
        (["nope", "--data", "{}"], 1, "no template nope in templates (templates there: "),
        (["../welcome", "--data", "{}"], 2, "'../welcome' is not a template name"),
        (["welcome"], 2, "the following arguments are required: --data"),
        (["receipt", "--text", "--data", "{}"], 1, "template receipt has no text part"),
    ],
)
def test_preview_refusals_say_what_is_wrong(
    project: Path, args: list[str], code: int, message: str
) -> None:
    (project / "templates" / "receipt.html").write_text("<p>Paid</p>\n", encoding="utf-8")
    result = sesrelay(None, project, "preview", *args)
    assert result.returncode == code
    assert message in result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr


# -- help -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "option"),
    [(("templates", "sync"), "--prune"), (("templates", "preview"), "--data")],
)
def test_templates_help_loads_only_the_standard_library(
    tmp_path: Path, command: tuple[str, ...], option: str
) -> None:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "sesrelay", *command, "--help"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=cli_env(),
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"usage: sesrelay {' '.join(command)} ")
    assert option in done.stdout
    imported = [line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()]
    assert not [m for m in imported if m.split(".")[0] in ("pydantic", "tencentcloud")]
