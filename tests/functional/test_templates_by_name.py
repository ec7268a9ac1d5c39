"""`Template.TemplateName` end to end through `Runtime.handle`, against the SES emulator: timer
jobs and webhook mappings that name their template send with its TemplateID (looked up by
ListEmailTemplates once per warm instance); a name SES cannot resolve to one approved template
is refused by name, and nothing is sent. The HTTP API takes TemplateID only."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from sesrelay.adapters.state_memory import MemoryStateStore
from sesrelay.clock import SystemClock
from sesrelay.config.model import parse_config
from sesrelay.emulator import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, EmulatorServer
from sesrelay.runtime import Runtime
from sesrelay.settings import Settings
from sesrelay.wiring import build_services
from tests.functional.conftest import API_KEY, API_KEY_SHA256, context, load_event

SECRET = "template-names-test-secret"
CREATED = "2025-01-03T09:00:00+08:00"
#: Templates added to the emulator's default seed (welcome 100001, pending-review 100003, ...).
EXTRA_TEMPLATES = [
    {"id": 100101, "name": "twin", "html": "<p>{{name}}</p>", "created_at": CREATED},
    {"id": 100102, "name": "twin", "html": "<p>{{name}}!</p>", "created_at": CREATED},
    {
        "id": 100103,
        "name": "turned-down",
        "status": 2,
        "review_reason": "contains a blocked link",
        "html": "<p>{{name}}</p>",
        "created_at": CREATED,
    },
]
SEND = {
    "FromEmailAddress": "noreply@example.com",
    "Destination": ["ana@example.org"],
    "Subject": "Hello",
}


def job(name: str) -> dict[str, Any]:
    template = {"TemplateName": name, "TemplateData": {"name": "Ana"}}
    return {"action": "SendEmail", "params": {**SEND, "Template": template}}


def source(template_name: str) -> dict[str, Any]:
    return {
        "scheme": "github",
        "secret_env": "GH_SECRET",
        "send": {
            "action": "SendEmail",
            "FromEmailAddress": "'noreply@example.com'",
            "Destination": ["'ana@example.org'"],
            "Subject": "'Hello'",
            "Template": {"TemplateName": template_name, "TemplateData": {"name": "body.name"}},
        },
    }


CONFIG = {
    "jobs": {name: job(name) for name in ("welcome", "no-such", "pending-review", "twin")},
    "webhooks": {
        "by-name": source("'welcome'"),
        "unknown-name": source("'no-such'"),
        "chosen-by-the-delivery": source("body.template"),
        "turned-down": source("'turned-down'"),
    },
}


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorServer]:
    text = resources.files("sesrelay.emulator.ses").joinpath("default_seed.json").read_text()
    seed = json.loads(text)
    seed["templates"] += EXTRA_TEMPLATES
    path: Path = tmp_path_factory.mktemp("seed") / "seed.json"
    path.write_text(json.dumps(seed), encoding="utf-8")
    with EmulatorServer(port=0, rate_limit=None, seed_path=path) as server:
        yield server


@pytest.fixture
def runtime(emulator: EmulatorServer) -> Runtime:
    settings = Settings(
        environ={"GH_SECRET": SECRET},
        ses_endpoint=emulator.url,
        secret_id=DEFAULT_SECRET_ID,
        secret_key=DEFAULT_SECRET_KEY,
        api_key_sha256=[API_KEY_SHA256],
    )
    clock = SystemClock()
    services = build_services(
        settings, clock=clock, state=MemoryStateStore(clock), config=parse_config(CONFIG)
    )
    return Runtime(services)


def tick(job_name: str, time: str = "2026-11-30T01:00:00Z") -> dict[str, Any]:
    message = json.dumps({"job": job_name})
    return {"Type": "Timer", "TriggerName": job_name, "Time": time, "Message": message}


def delivery(source_name: str, body: dict[str, Any], delivery_id: str = "d-1") -> dict[str, Any]:
    raw = json.dumps(body).encode()
    signature = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    return load_event(
        "webhook_github_release-published",
        body=raw.decode(),
        headers={"x-hub-signature-256": signature, "x-github-delivery": delivery_id},
        path=f"/v1/webhooks/{source_name}",
    )


def listings(emulator: EmulatorServer) -> int:
    return emulator.call_counts().get("ListEmailTemplates", 0)


# --- timer jobs ---------------------------------------------------------------------------------


def test_a_job_naming_its_template_sends_with_that_template(
    runtime: Runtime, emulator: EmulatorServer
) -> None:
    reply = runtime.handle(tick("welcome"), context())
    assert reply["ok"] is True, reply
    [mail] = emulator.outbox()
    assert mail["template_id"] == 100001
    assert mail["html"] == "<p>Hello Ana, welcome aboard.</p>"


def test_a_warm_instance_looks_a_name_up_once(runtime: Runtime, emulator: EmulatorServer) -> None:
    for time in ("2026-11-30T01:00:00Z", "2026-12-07T01:00:00Z", "2026-12-14T01:00:00Z"):
        assert runtime.handle(tick("welcome", time), context())["ok"] is True
    assert len(emulator.outbox()) == 3
    assert listings(emulator) == 1


@pytest.mark.parametrize(
    ("job_name", "message"),
    [
        ("no-such", "no template named 'no-such' in the SES account (ListEmailTemplates)"),
        ("pending-review", "template 'pending-review' (TemplateID 100003) is still under review"),
        ("twin", "2 templates are named 'twin' (TemplateID 100101, 100102)"),
    ],
)
def test_a_job_whose_name_resolves_to_no_usable_template_fails_naming_it(
    job_name: str,
    message: str,
    runtime: Runtime,
    nothing_sent: Callable[[], None],
) -> None:
    reply = runtime.handle(tick(job_name), context())
    assert reply["ok"] is False, reply
    assert reply["error"]["code"] == "validation_error"
    [error] = reply["error"]["errors"]
    assert error["field"] == f"jobs.{job_name}.params.Template.TemplateName"
    assert message in error["message"]
    nothing_sent()


# --- webhook mappings ---------------------------------------------------------------------------


def test_a_mapping_naming_its_template_sends_with_that_template(
    runtime: Runtime, emulator: EmulatorServer
) -> None:
    reply = runtime.handle(delivery("by-name", {"name": "Ben"}), context())
    assert reply["statusCode"] == 202, reply
    assert json.loads(reply["body"])["status"] == "sent"
    [mail] = emulator.outbox()
    assert mail["template_id"] == 100001
    assert mail["html"] == "<p>Hello Ben, welcome aboard.</p>"


@pytest.mark.parametrize(
    ("source_name", "body", "message"),
    [
        ("unknown-name", {"name": "Ben"}, "no template named 'no-such'"),
        ("turned-down", {"name": "Ben"}, "was rejected (review: contains a blocked link)"),
        ("chosen-by-the-delivery", {"name": "Ben", "template": "twin"}, "2 templates are named"),
        ("chosen-by-the-delivery", {"name": "Ben"}, "came out null for this delivery"),
    ],
)
def test_a_mapping_whose_name_resolves_to_no_usable_template_is_422_naming_the_field(
    source_name: str,
    body: dict[str, Any],
    message: str,
    runtime: Runtime,
    problem: Callable[[dict[str, Any], int, str], dict[str, Any]],
    nothing_sent: Callable[[], None],
) -> None:
    reply = runtime.handle(delivery(source_name, body), context())
    found = problem(reply, 422, "validation_error")
    assert source_name in found["detail"]
    [error] = found["errors"]
    assert error["field"] == "send.Template.TemplateName"
    assert message in error["message"]
    nothing_sent()


def test_a_failed_template_listing_answers_as_ses_did_and_sends_nothing(
    runtime: Runtime,
    emulator: EmulatorServer,
    problem: Callable[[dict[str, Any], int, str], dict[str, Any]],
    nothing_sent: Callable[[], None],
) -> None:
    emulator.inject_fault("ListEmailTemplates", "error", count=10, code="RequestLimitExceeded")
    reply = runtime.handle(delivery("by-name", {"name": "Ben"}), context())
    problem(reply, 429, "RequestLimitExceeded")  # the SES code, as for a throttled send
    nothing_sent()
    emulator.clear_faults()
    retried = runtime.handle(delivery("by-name", {"name": "Ben"}), context())
    assert retried["statusCode"] == 202, retried  # the delivery was not claimed: a retry sends


# --- the HTTP API -------------------------------------------------------------------------------


def test_the_http_api_takes_template_id_only(
    runtime: Runtime,
    problem: Callable[[dict[str, Any], int, str], dict[str, Any]],
    nothing_sent: Callable[[], None],
) -> None:
    body = {**SEND, "Template": {"TemplateName": "welcome", "TemplateData": {"name": "Ana"}}}
    event = load_event(
        "http_post-emails", body=body, headers={"authorization": f"Bearer {API_KEY}"}
    )
    found = problem(runtime.handle(event, context()), 422, "validation_error")
    fields = {error["field"] for error in found["errors"]}
    assert "Template.TemplateName" in fields
    nothing_sent()
