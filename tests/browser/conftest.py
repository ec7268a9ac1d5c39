"""Fixtures of the browser tests: the system's headless Chromium driven by Playwright, an SES
emulator with the relay (a Runtime) in front of it, and the folder where screenshots are kept.

Chromium is the system's (Debian's `chromium`, which `.ci/run` installs); Playwright never
downloads a browser here. Without Chromium or Playwright the tests skip saying which is missing;
with SESRELAY_REQUIRE_TOOLS=1 (CI) they fail instead. Screenshots go to `test-artifacts/browser/`
at the repository root, or to `$SESRELAY_TEST_ARTIFACTS/browser/`: a folder CI can upload.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from sesrelay.adapters.state_memory import MemoryStateStore
from sesrelay.clock import SystemClock
from sesrelay.emulator import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, EmulatorServer
from sesrelay.runtime import Runtime
from sesrelay.settings import Settings
from sesrelay.wiring import build_services

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Dialog, Page, Request

ROOT = Path(__file__).resolve().parents[2]
API_KEY = "sr_browser_test_key"
#: Flags for a quiet headless run in a container: no sandbox (root in CI), no GPU, no calls home.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _missing(reason: str) -> None:
    """Skip for want of a tool; fail instead under SESRELAY_REQUIRE_TOOLS=1 (CI)."""
    if os.environ.get("SESRELAY_REQUIRE_TOOLS") == "1":
        pytest.fail(f"{reason} (SESRELAY_REQUIRE_TOOLS=1: CI needs it)")
    pytest.skip(reason)


def chromium_path() -> str | None:
    """$SESRELAY_CHROMIUM, else `chromium` (Debian) or `chromium-browser` on the PATH."""
    return (
        os.environ.get("SESRELAY_CHROMIUM")
        or shutil.which("chromium")
        or shutil.which("chromium-browser")
    )


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the session; each launch gets a throwaway profile directory."""
    path = chromium_path()
    if path is None:
        _missing("no Chromium: install Debian's `chromium` (apt-get install chromium)")
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        _missing("Playwright for Python is not installed (pip install -r requirements-dev.txt)")
    with sync_playwright() as pw:
        try:
            launched = pw.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, timeout=20_000)
        except Error as exc:
            pytest.fail(f"Chromium at {path} did not start: {exc.message.splitlines()[0]}")
        yield launched
        launched.close()


@dataclass
class Watched:
    """A page and what it did: console messages, dialogs (dismissed), uncaught errors, requests
    made and requests answered."""

    page: Page
    console: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    #: requests that got an answer (one that CSP blocks is reported, then fails unanswered)
    answered: list[str] = field(default_factory=list)


@pytest.fixture
def watched(browser: Browser) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(5_000)
    seen = Watched(page)

    def on_dialog(dialog: Dialog) -> None:
        seen.dialogs.append(dialog.message)
        dialog.dismiss()

    def on_console(message: ConsoleMessage) -> None:
        seen.console.append(message.text)

    def on_request(request: Request) -> None:
        seen.requests.append(request.url)

    page.on("dialog", on_dialog)
    page.on("console", on_console)
    page.on("pageerror", lambda exc: seen.errors.append(str(exc)))
    page.on("request", on_request)
    page.on("requestfinished", lambda request: seen.answered.append(request.url))
    try:
        yield seen
    finally:
        context.close()


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer(port=0, rate_limit=None) as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh_emulator(emulator: EmulatorServer) -> None:
    """Every test starts from the seed: an empty outbox, no tasks."""
    emulator.reset()


@pytest.fixture(scope="module")
def relay(emulator: EmulatorServer) -> Runtime:
    """The function, configured as a deployment would be, sending to the emulator."""
    settings = Settings(
        environ={},
        ses_endpoint=emulator.url,
        secret_id=DEFAULT_SECRET_ID,
        secret_key=DEFAULT_SECRET_KEY,
        api_key_sha256=[hashlib.sha256(API_KEY.encode()).hexdigest()],
        state_url="memory://",
    )
    clock = SystemClock()
    return Runtime(build_services(settings, clock=clock, state=MemoryStateStore(clock)))


@pytest.fixture
def post(relay: Runtime) -> Callable[[str, dict[str, Any]], dict[str, Any]]:
    """`post("/v1/emails", body)`: one function-URL request through the relay; its JSON reply."""

    def call(path: str, body: dict[str, Any]) -> dict[str, Any]:
        event = {
            "httpMethod": "POST",
            "path": path,
            "headers": {
                "authorization": f"Bearer {API_KEY}",
                "content-type": "application/json",
                "host": "127.0.0.1",
            },
            "queryString": {},
            "body": json.dumps(body),
        }
        context = {"request_id": "browser-test", "time_limit_in_ms": 10_000}
        reply = relay.handle(event, context)
        assert reply["statusCode"] in (200, 202), reply
        answer: dict[str, Any] = json.loads(reply["body"])
        return answer

    return call


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots are kept for CI to upload."""
    base = os.environ.get("SESRELAY_TEST_ARTIFACTS")
    folder = (Path(base) if base else ROOT / "test-artifacts") / "browser"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
