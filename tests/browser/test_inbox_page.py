"""The emulator's inbox page (`/_emulator/ui`) in a real browser, headless Chromium: mail sent
through the relay shows up without a reload, opens to its rendered template, search filters, the
tabs list tasks, groups and templates, and a mail's own markup runs nothing. Screenshots of the
inbox and of one mail are kept in `test-artifacts/browser/` (see conftest)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sesrelay.emulator import EmulatorServer
from tests.browser.conftest import Watched
from tests.callback_gate import GateReceiver, gated_callbacks

pytestmark = pytest.mark.browser

Post = Callable[[str, dict[str, Any]], dict[str, Any]]
ROWS = "#mails tbody tr"
SENDER = "Example Team <noreply@example.com>"
TITLE = "Inbox · sesrelay emulator"


def welcome(to: str, name: str) -> dict[str, Any]:
    return {
        "FromEmailAddress": SENDER,
        "Destination": [to],
        "Subject": "Welcome, {{name}}",
        "Template": {"TemplateID": 100001, "TemplateData": {"name": name}},
    }


def digest(to: str, week: int) -> dict[str, Any]:
    return {
        "FromEmailAddress": SENDER,
        "Destination": [to],
        "Subject": "Your digest for week {{week}}",
        "Template": {"TemplateID": 100002, "TemplateData": {"week": week, "date": "5 January"}},
    }


def batch_to_demo_group() -> dict[str, Any]:
    """A batch task to the seeded group of three (ana, ben, chen @example.org)."""
    return {
        "FromEmailAddress": "noreply@example.com",
        "ReceiverId": 200001,
        "Subject": "Welcome, {{name}}",
        "TaskType": 1,
        "Template": {"TemplateID": 100001, "TemplateData": {"name": "customer"}},
    }


def open_inbox(watched: Watched, emulator: EmulatorServer) -> Any:
    """The page, once its first poll has answered."""
    from playwright.sync_api import expect

    page = watched.page
    page.goto(emulator.inbox_url)
    expect(page).to_have_title(TITLE)
    expect(page.locator("#live")).to_have_text("live")
    return page


def test_a_mail_sent_through_the_relay_appears_within_2_seconds_without_a_reload(
    watched: Watched, emulator: EmulatorServer, post: Post
) -> None:
    from playwright.sync_api import expect

    page = open_inbox(watched, emulator)
    expect(page.locator("#empty")).to_contain_text("No mail yet")
    page.evaluate("window.sameDocument = 'still here'")

    sent = post("/v1/emails", welcome("ana@example.org", "Ana"))
    expect(page.locator(ROWS)).to_have_count(1, timeout=2_000)

    row = page.locator(ROWS).first
    expect(row.locator("td.to")).to_have_text("ana@example.org")
    expect(row.locator("td.subject")).to_have_text("Welcome, Ana")
    expect(row.locator("td.addr").first).to_have_text(SENDER)
    expect(row.locator("td.ref")).to_have_text(sent["MessageId"])
    expect(row.locator(".chip.delivered")).to_have_text("delivered")
    expect(page.locator("#mail-count")).to_have_text("1")
    assert page.evaluate("window.sameDocument") == "still here"  # no reload happened
    assert watched.errors == []


def test_opening_a_mail_shows_the_template_filled_in(
    watched: Watched, emulator: EmulatorServer, post: Post
) -> None:
    from playwright.sync_api import expect

    post("/v1/emails", welcome("ana@example.org", "Ana Lima"))
    page = open_inbox(watched, emulator)
    page.locator(ROWS).first.click()

    expect(page.locator("#m-subject")).to_have_text("Welcome, Ana Lima")
    html = page.frame_locator("#m-html").locator("body")
    expect(html).to_have_text("Hello Ana Lima, welcome aboard.")
    expect(page.locator("#m-events")).to_contain_text("delivered · not posted")

    page.get_by_role("tab", name="Text", exact=True).click()
    expect(page.locator("#m-text")).to_have_text("Hello Ana Lima, welcome aboard.")
    page.get_by_role("tab", name="Template data").click()
    expect(page.locator("#m-template")).to_have_text("Template 100001, filled with:")
    expect(page.locator("#m-data tbody tr td")).to_have_text(["name", "Ana Lima"])
    page.get_by_role("tab", name="Raw JSON").click()
    raw = json.loads(page.locator("#m-raw").inner_text())
    assert raw == emulator.outbox()[0]
    assert page.url.endswith("#mail/0")


@pytest.fixture
def receiver(emulator: EmulatorServer) -> Iterator[GateReceiver]:
    with gated_callbacks(emulator) as gate:
        yield gate


def test_an_open_mail_shows_its_callbacks_being_posted_without_a_reload(
    watched: Watched, emulator: EmulatorServer, post: Post, receiver: GateReceiver
) -> None:
    from playwright.sync_api import expect

    post("/v1/emails", welcome("open@simulator.sesrelay.test", "Olga"))
    page = open_inbox(watched, emulator)
    page.locator(ROWS).first.click()
    chips = page.locator("#m-events .chip")
    expect(chips).to_have_text(["delivered · posting", "open · posting"])
    page.evaluate("window.sameDocument = 'still here'")

    receiver.gate.set()
    expect(chips).to_have_text(["delivered · posted", "open · posted"], timeout=2_000)
    expect(page.locator(f"{ROWS} .chip.sent")).to_have_count(2)
    assert page.evaluate("window.sameDocument") == "still here"


def test_search_filters_by_recipient_or_subject(
    watched: Watched, emulator: EmulatorServer, post: Post
) -> None:
    from playwright.sync_api import expect

    post("/v1/emails", welcome("ana@example.org", "Ana"))
    post("/v1/emails", digest("ben@example.org", 7))
    post("/v1/emails", welcome("chen@example.org", "Chen"))
    page = open_inbox(watched, emulator)
    recipients = page.locator(f"{ROWS} td.to")
    expect(recipients).to_have_text(["chen@example.org", "ben@example.org", "ana@example.org"])

    search = page.get_by_role("searchbox", name="Search recipient or subject")
    search.fill("ben@")
    expect(recipients).to_have_text(["ben@example.org"])
    search.fill("DIGEST for week 7")
    expect(recipients).to_have_text(["ben@example.org"])
    search.fill("welcome")
    expect(recipients).to_have_text(["chen@example.org", "ana@example.org"])
    expect(page.locator("#list-note")).to_have_text("2 of 3 mail(s) match")
    search.fill("nobody")
    expect(recipients).to_have_count(0)
    expect(page.locator("#empty")).to_contain_text("nobody")

    post("/v1/emails", welcome("nobody@example.org", "Nobody"))  # new mail, still filtered
    expect(recipients).to_have_text(["nobody@example.org"])
    search.fill("")
    expect(recipients).to_have_count(4)


#: Markup in TemplateData: if any of it ran, the console, a dialog or the page's title would say.
HOSTILE = (
    '<script>console.log("xss: script ran"); alert("xss"); parent.document.title = "pwned"'
    "</script>"
    "<img src=\"x\" onerror=\"console.log('xss: onerror ran'); alert('xss')\">"
)


def test_a_mail_whose_template_data_holds_markup_runs_nothing(
    watched: Watched, emulator: EmulatorServer, post: Post
) -> None:
    from playwright.sync_api import expect

    post("/v1/emails", welcome("mallory@example.org", HOSTILE))
    page = open_inbox(watched, emulator)
    row = page.locator(ROWS).first
    # In the list the subject is text: the markup shows as written, no element is made of it.
    expect(row.locator("td.subject")).to_have_text(f"Welcome, {HOSTILE}")
    row.click()
    expect(page.locator("#m-subject")).to_have_text(f"Welcome, {HOSTILE}")

    # In the frame the markup is HTML (an <img> exists) but its script and handler do not run.
    html = page.frame_locator("#m-html")
    expect(html.locator("body")).to_have_text("Hello , welcome aboard.")
    expect(html.locator("img")).to_have_count(1)
    frame = page.frame(url=re.compile(r"/_emulator/ui/mail/0\.html$"))
    assert frame is not None
    frame.wait_for_load_state("load")  # after the image failed, i.e. after onerror would run
    page.get_by_role("tab", name="Template data").click()
    expect(page.locator("#m-data tbody tr td").nth(1)).to_have_text(HOSTILE)

    assert [m for m in watched.console if "xss" in m] == []
    assert watched.dialogs == []
    assert watched.errors == []
    expect(page).to_have_title(TITLE)
    assert page.locator("img").count() == 0  # nothing of the mail became part of the page
    assert [u for u in watched.answered if u.endswith("/mail/x")] == []  # nothing fetched


def _is_png(path: Path) -> bool:
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5_000


def test_screenshots_of_the_inbox_and_of_one_mail_are_kept(
    watched: Watched, emulator: EmulatorServer, post: Post, artifacts: Path
) -> None:
    from playwright.sync_api import expect

    post("/v1/emails", welcome("delivered@simulator.sesrelay.test", "Dana"))
    post("/v1/emails", digest("click@simulator.sesrelay.test", 7))
    post("/v1/batch-tasks", batch_to_demo_group())
    page = open_inbox(watched, emulator)
    expect(page.locator(ROWS)).to_have_count(5)
    inbox = artifacts / "inbox.png"
    page.screenshot(path=str(inbox), full_page=True)

    page.locator(ROWS).filter(has_text="digest").click()
    expect(page.frame_locator("#m-html").locator("h1")).to_have_text("Week 7")
    mail = artifacts / "mail.png"
    page.screenshot(path=str(mail), full_page=True)

    print(f"screenshots: {inbox} {mail}")
    assert _is_png(inbox), inbox
    assert _is_png(mail), mail


def test_tabs_list_batch_tasks_recipient_groups_and_templates(
    watched: Watched, emulator: EmulatorServer, post: Post
) -> None:
    from playwright.sync_api import expect

    task = post("/v1/batch-tasks", batch_to_demo_group())["TaskId"]
    page = open_inbox(watched, emulator)
    expect(page.locator(f"{ROWS} td.ref")).to_have_text([f"task {task}"] * 3)

    page.get_by_role("tab", name="Batch tasks").click()
    cells = page.locator("#tasks tbody tr").first.locator("td")
    expect(cells.nth(0)).to_have_text(str(task))
    expect(cells.nth(1)).to_have_text("done")
    expect(cells.nth(4)).to_have_text("demo-customers (200001)")
    expect(cells.nth(7)).to_have_text("3 / 3")

    page.get_by_role("tab", name="Recipient groups").click()
    group = page.locator("#receivers details").filter(has_text="demo-customers")
    expect(group.locator("summary")).to_have_text(
        "demo-customers (200001): 3 address(es), complete"
    )
    group.locator("summary").click()
    expect(group.locator("tbody td.addr")).to_have_text(
        ["ana@example.org", "ben@example.org", "chen@example.org"]
    )

    page.get_by_role("tab", name="Templates").click()
    template = page.locator("#templates details").filter(has_text="welcome (100001)")
    expect(template.locator("summary")).to_have_text("welcome (100001): approved")
    template.locator("summary").click()
    expect(template).to_contain_text("Variables: {{name}}")
    expect(template.locator("pre").first).to_have_text("<p>Hello {{name}}, welcome aboard.</p>")
