"""`sesrelay serve` closes the delivery loop by itself: its embedded emulator posts the mailbox
simulator's callbacks to the server's own `/v1/ses-events/{token}`, and `GET /v1/emails/{id}`
and `GET /v1/batch-tasks/{id}` read them back. Everything over real HTTP, against the process."""

from __future__ import annotations

import json
import re
import secrets
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tencentcloud.common import credential
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.ses.v20201002 import models, ses_client

from sesrelay.emulator import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY
from tests.e2e.test_serve import Served, fetch, start_serve, stop
from tests.polling import wait_until

SIM = "simulator.sesrelay.test"
#: local part -> the events `GET /v1/emails/{id}` lists, in order
SEQUENCES = {
    "delivered": ["delivered"],
    "bounce": ["bounce"],
    "soft-bounce": ["bounce"],
    "spamreport": ["delivered", "spamreport"],
    "open": ["delivered", "open"],
    "click": ["delivered", "open", "click"],
    "deferred": ["deferred"],
    "dropped": ["dropped"],
    "unsubscribe": ["delivered", "unsubscribe"],
}
BLACKLISTING = "version: 1\nses_events:\n  token_env: SESRELAY_SES_EVENTS_TOKEN\n"
BLACKLISTING += "  blacklist_on: [hard_bounce]\n"
WAIT = 15.0


# -- helpers -------------------------------------------------------------------------------------


def auth(served: Served, **more: str) -> dict[str, str]:
    key = served.field("API key (generated for this run):")
    return {"Authorization": f"Bearer {key}", **more}


def emulator(served: Served) -> str:
    return served.field("SES: embedded emulator at")


def callbacks(served: Served) -> dict[str, Any]:
    """The emulator's callback status, once nothing is pending (every post answered)."""
    url = f"{emulator(served)}/_emulator/callbacks"
    status, _, body = fetch(f"{url}/flush", "POST", b'{"timeout": 10}')
    assert status == 200, body
    found: dict[str, Any] = json.loads(fetch(url)[2])
    return found


def send(served: Served, to: str) -> str:
    body = {
        "FromEmailAddress": "noreply@example.com",
        "Destination": [to],
        "Subject": "Hello {{name}}",
        "Template": {
            "TemplateID": 100001,
            # a link in the HTML: what a click reports
            "TemplateData": json.dumps({"name": '<a href="https://example.com/go">you</a>'}),
        },
    }
    headers = auth(served, **{"Content-Type": "application/json"})
    status, _, reply = fetch(f"{served.base}/v1/emails", "POST", json.dumps(body).encode(), headers)
    assert status == 202, reply
    return str(json.loads(reply)["MessageId"])


def read_until(served: Served, path: str, done: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """GET `path` (polled) until `done` holds for its 200 answer; the answer."""
    seen: dict[str, Any] = {}

    def ready() -> bool:
        status, _, body = fetch(f"{served.base}{path}", headers=auth(served))
        seen.update(status=status, body=json.loads(body))
        return status == 200 and done(seen["body"])

    assert wait_until(ready, WAIT, interval=0.05), seen
    answer: dict[str, Any] = seen["body"]
    return answer


def names(record: dict[str, Any]) -> list[str]:
    return [event["event"] for event in record["Events"]]


def sdk(served: Served) -> Any:
    endpoint = emulator(served).removeprefix("http://")
    profile = ClientProfile(httpProfile=HttpProfile(endpoint=endpoint, protocol="http"))
    cred = credential.Credential(DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY)
    return ses_client.SesClient(cred, "ap-guangzhou", profile)


def call(served: Served, action: str, params: dict[str, Any]) -> dict[str, Any]:
    """One SES action on the serve's emulator, through the official SDK."""
    client = sdk(served)
    try:
        req = getattr(models, f"{action}Request")()
        req.from_json_string(json.dumps(params))
        result: dict[str, Any] = json.loads(getattr(client, action)(req).to_json_string())
    finally:
        client.request.conn._session.close()  # the SDK never closes its requests.Session
    return result


def blacklisted(served: Served) -> set[str]:
    listed = call(served, "ListCustomBlacklist", {"Offset": 0, "Limit": 100, "Status": 2})
    return {entry["Email"] for entry in listed["Data"]}


def callback_token(served: Served) -> str:
    """The token the emulator posts with (the serve's own route), read from the emulator."""
    url = json.loads(fetch(f"{emulator(served)}/_emulator/callbacks")[2])["url"]
    found = re.fullmatch(rf"{re.escape(served.base)}/v1/ses-events/([^/]+)", url)
    assert found, url
    return found.group(1)


def unique(local: str) -> str:
    """A fresh recipient that behaves as `local` (the simulator ignores a +label)."""
    return f"{local}+{secrets.token_hex(4)}@{SIM}"


def serve_with_config(tmp: Path, text: str, **extra: str) -> Served:
    config = tmp / "sesrelay.yaml"
    config.write_text(text, encoding="utf-8")
    return start_serve(tmp, SESRELAY_CONFIG=str(config), **extra)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A serve whose config blacklists hard bounces, its token generated for the run."""
    started = serve_with_config(tmp_path_factory.mktemp("tracking"), BLACKLISTING)
    try:
        yield started
    finally:
        stop(started)


# -- every simulator address, read back ----------------------------------------------------------


@pytest.mark.parametrize("local", list(SEQUENCES))
def test_each_simulator_address_reads_back_its_events_in_order(served: Served, local: str) -> None:
    to = unique(local)
    message_id = send(served, to)
    expected = SEQUENCES[local]
    path = f"/v1/emails/{message_id}"
    read_until(served, path, lambda record: len(record["Events"]) >= len(expected))
    assert callbacks(served)["failed"] == 0  # every post was answered 2xx
    record = read_until(served, path, lambda record: True)  # nothing more came after
    assert names(record) == expected
    assert record["LastEvent"] == expected[-1]
    assert record["MessageId"] == message_id
    assert record["Recipients"] == [to]
    assert {event["email"] for event in record["Events"]} == {to}
    stamps = [event["timestamp"] for event in record["Events"]]
    assert stamps == sorted(stamps)


def test_a_click_reads_back_delivered_open_click_with_the_link(served: Served) -> None:
    message_id = send(served, unique("click"))
    record = read_until(served, f"/v1/emails/{message_id}", lambda r: r["LastEvent"] == "click")
    assert names(record) == ["delivered", "open", "click"]
    assert record["Events"][-1]["link"] == "https://example.com/go"


def test_a_hard_bounce_ends_in_the_custom_blacklist_with_blacklist_on(served: Served) -> None:
    to = unique("bounce")
    message_id = send(served, to)
    record = read_until(served, f"/v1/emails/{message_id}", lambda r: r["LastEvent"] == "bounce")
    assert record["Events"][0]["bounce_type"] == "hard_bounce"
    assert wait_until(lambda: to in blacklisted(served), WAIT, interval=0.05), blacklisted(served)


def test_a_soft_bounce_is_recorded_but_not_blacklisted_by_hard_bounce_only(
    served: Served,
) -> None:
    to = unique("soft-bounce")
    message_id = send(served, to)
    record = read_until(served, f"/v1/emails/{message_id}", lambda r: r["LastEvent"] == "bounce")
    assert record["Events"][0]["bounce_type"] == "soft_bounce"
    assert (
        callbacks(served)["failed"] == 0
    )  # the callback's request, blacklist call included, ended
    assert to not in blacklisted(served)


def test_a_batch_task_to_simulator_addresses_counts_its_events(served: Served) -> None:
    group = call(served, "CreateReceiver", {"ReceiversName": f"sim-{secrets.token_hex(4)}"})
    receiver_id = int(group["ReceiverId"])
    emails = [unique("click"), unique("bounce"), unique("delivered")]
    call(served, "CreateReceiverDetail", {"ReceiverId": receiver_id, "Emails": emails})
    clock = f"{emulator(served)}/_emulator/clock"
    assert fetch(clock, "POST", b'{"advance_seconds": 2}')[0] == 200  # the upload completes
    body = {
        "FromEmailAddress": "noreply@example.com",
        "ReceiverId": receiver_id,
        "Subject": "Hello {{name}}",
        "TaskType": 1,
        "Template": {"TemplateID": 100001, "TemplateData": '{"name": "all"}'},
    }
    headers = auth(served, **{"Content-Type": "application/json"})
    status, _, reply = fetch(
        f"{served.base}/v1/batch-tasks", "POST", json.dumps(body).encode(), headers
    )
    assert status == 202, reply
    task_id = json.loads(reply)["TaskId"]
    expected = {"delivered": 2, "open": 1, "click": 1, "bounce": 1}
    task = read_until(served, f"/v1/batch-tasks/{task_id}", lambda t: t["EventCounts"] == expected)
    assert task["TaskId"] == task_id
    assert task["ReceiverId"] == receiver_id
    assert wait_until(lambda: emails[1] in blacklisted(served), WAIT, interval=0.05)


# -- how `make run` shows it, and where the token comes from -------------------------------------


def banner_curl(served: Served, label: str) -> str:
    """The curl line that follows the banner line starting with `label`."""
    at = next(i for i, line in enumerate(served.banner) if line.startswith(label))
    return served.banner[at + 1].strip()


def test_the_banner_curls_send_one_mail_and_read_it_back_delivered(tmp_path: Path) -> None:
    """As `make run`: the shipped config, the banner's curls run verbatim in bash."""
    started = start_serve(tmp_path)
    try:
        line = started.field("delivery callbacks:")
        assert line == (
            f"emulator -> {started.base}/v1/ses-events/*** "
            "(SESRELAY_SES_EVENTS_TOKEN generated for this run)"
        )
        token = callback_token(started)
        assert len(token) >= 32
        sent = subprocess.run(
            ["bash", "-c", banner_curl(started, "try it:")],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
        assert sent.returncode == 0, sent.stderr
        message_id = json.loads(sent.stdout)["MessageId"]
        read = banner_curl(started, "read it back").replace("<MessageId>", message_id)

        def delivered() -> bool:
            done = subprocess.run(
                ["bash", "-c", read], capture_output=True, text=True, timeout=30, check=False
            )
            answer: dict[str, Any] = json.loads(done.stdout or "{}")
            return answer.get("LastEvent") == "delivered"

        assert wait_until(delivered, WAIT, interval=0.1), started.stderr()
        batch = subprocess.run(
            ["bash", "-c", banner_curl(started, "or a batch task")],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
        task_id = json.loads(batch.stdout)["TaskId"]
        three = {"delivered": 3}  # the seeded group's three members
        read_until(started, f"/v1/batch-tasks/{task_id}", lambda t: t["EventCounts"] == three)
        assert "POST /v1/ses-events/*** 200" in started.stderr()
    finally:
        stop(started)
    logs = "\n".join(started.stdout) + started.stderr()
    assert token not in logs  # neither the banner nor any log line holds the generated token


def test_a_token_the_user_set_is_used_and_never_printed(tmp_path: Path) -> None:
    token = "tok-" + secrets.token_hex(16)
    started = start_serve(tmp_path, SESRELAY_SES_EVENTS_TOKEN=token)
    try:
        assert started.field("delivery callbacks:").endswith(
            "(token from SESRELAY_SES_EVENTS_TOKEN)"
        )
        assert callback_token(started) == token
        message_id = send(started, unique("open"))
        record = read_until(started, f"/v1/emails/{message_id}", lambda r: r["LastEvent"] == "open")
        assert names(record) == ["delivered", "open"]
    finally:
        stop(started)
    assert token not in "\n".join(started.stdout) + started.stderr()


def test_without_a_ses_events_section_callbacks_still_arrive_and_blacklist_nothing(
    tmp_path: Path,
) -> None:
    started = serve_with_config(tmp_path, "version: 1\n")
    try:
        assert "SESRELAY_SES_EVENTS_TOKEN generated" in started.field("delivery callbacks:")
        to = unique("bounce")
        message_id = send(started, to)
        read_until(started, f"/v1/emails/{message_id}", lambda r: r["LastEvent"] == "bounce")
        assert callbacks(started)["failed"] == 0
        assert to not in blacklisted(started)
    finally:
        stop(started)


def test_a_config_that_does_not_load_turns_callbacks_off_and_says_so(tmp_path: Path) -> None:
    started = serve_with_config(tmp_path, "ses_events: [\n")
    try:
        assert started.field("delivery callbacks:") == (
            "off (the config file does not load; `sesrelay config check` says why)"
        )
        assert json.loads(fetch(f"{emulator(started)}/_emulator/callbacks")[2])["url"] is None
    finally:
        stop(started)


def test_a_token_a_url_path_cannot_carry_turns_callbacks_off(tmp_path: Path) -> None:
    token = "a/b?c " + secrets.token_hex(8)
    started = start_serve(tmp_path, SESRELAY_SES_EVENTS_TOKEN=token)
    try:
        assert started.field("delivery callbacks:").startswith(
            "off (SESRELAY_SES_EVENTS_TOKEN holds characters a URL path segment cannot carry"
        )
        assert json.loads(fetch(f"{emulator(started)}/_emulator/callbacks")[2])["url"] is None
    finally:
        stop(started)
    assert token not in "\n".join(started.stdout) + started.stderr()


def test_with_credentials_nothing_is_wired(tmp_path: Path) -> None:
    started = start_serve(
        tmp_path,
        TENCENTCLOUD_SECRET_ID="AKIDnotreal0000",
        TENCENTCLOUD_SECRET_KEY="not-a-real-secret-key-0123456789",
        SESRELAY_SES_ENDPOINT="http://127.0.0.1:9",
    )
    try:
        text = "\n".join(started.banner)
        assert "delivery callbacks" not in text
        assert "read it back" in text  # reading a send back works with real SES too
    finally:
        stop(started)
