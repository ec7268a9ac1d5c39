"""Templates by name (`Template.TemplateName`): the ListEmailTemplates pager (pages of 100, a
cap), the exact-name rules (unknown, ambiguous, not approved: each refused by name), the
per-instance cache, and its reset when SES refuses a remembered TemplateID (timer jobs and
webhooks alike)."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest

from sesrelay.adapters.state_memory import MemoryStateStore
from sesrelay.clock import Deadline, ManualClock
from sesrelay.config.model import parse_config
from sesrelay.errors import InvalidInput, Outcome, SesError
from sesrelay.runtime import Runtime
from sesrelay.settings import Settings
from sesrelay.template_names import (
    TemplateCache,
    TooManyTemplates,
    find_template_id,
    iter_templates,
    resolve_template_name,
)
from sesrelay.timers.handler import handle_timer
from sesrelay.wiring import Services, build_services

FIELD = "jobs.hello.params.Template.TemplateName"


class TemplateSes:
    """Our SES port: ListEmailTemplates from a list of (id, name, status[, reason]), and sends
    that SES refuses with InvalidTemplateID unless the id is an approved template's."""

    def __init__(self, templates: list[tuple[Any, ...]], *, total: int | None = None) -> None:
        self.templates = templates
        self.total = total
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def call(self, action: str, params: dict[str, Any], deadline: Deadline) -> dict[str, Any]:
        self.calls.append((action, dict(params)))
        if action == "ListEmailTemplates":
            assert params["Limit"] <= 100
            rows = [
                {
                    "TemplateID": entry[0],
                    "TemplateName": entry[1],
                    "TemplateStatus": entry[2],
                    "ReviewReason": entry[3] if len(entry) > 3 else "",
                    "CreatedTimestamp": 1700000000,
                }
                for entry in self.templates
            ][params["Offset"] : params["Offset"] + params["Limit"]]
            total = len(self.templates) if self.total is None else self.total
            return {"TemplatesMetadata": rows, "TotalCount": total, "RequestId": "req"}
        approved = {entry[0] for entry in self.templates if entry[2] == 0}
        if params["Template"]["TemplateID"] not in approved:
            raise SesError(
                "FailedOperation.InvalidTemplateID",
                "The template is missing or not approved.",
                request_id="ses-1",
                outcome=Outcome.FINAL,
                action=action,
            )
        return {"RequestId": "req", "MessageId": "msg"}

    def lists(self) -> int:
        return sum(1 for action, _ in self.calls if action == "ListEmailTemplates")


def deadline() -> Deadline:
    return Deadline(ManualClock(), 30)


def refusal(ses: TemplateSes, name: str) -> str:
    with pytest.raises(InvalidInput) as caught:
        find_template_id(name, ses, deadline(), TemplateCache(), FIELD)
    [error] = caught.value.errors
    assert error.field == FIELD
    return error.message


# --- the pager ----------------------------------------------------------------------------------


def test_the_listing_pages_by_100_until_the_total() -> None:
    ses = TemplateSes([(n, f"t{n}", 0) for n in range(1, 251)])
    assert [item["TemplateID"] for item in iter_templates(ses, deadline())] == list(range(1, 251))
    assert [(p["Offset"], p["Limit"]) for _, p in ses.calls] == [(0, 100), (100, 100), (200, 100)]


def test_pages_left_after_the_cap_are_refused_not_followed() -> None:
    ses = TemplateSes([(n, f"t{n}", 0) for n in range(1, 251)])
    with pytest.raises(TooManyTemplates, match="more than 200 templates"):
        list(iter_templates(ses, deadline(), max_pages=2))
    assert ses.lists() == 2


class EndlessSes(TemplateSes):
    """An endpoint that ignores Offset: the same full page forever, TotalCount never reached."""

    def call(self, action: str, params: dict[str, Any], deadline: Deadline) -> dict[str, Any]:
        return super().call(action, {**params, "Offset": 0}, deadline)


def test_a_name_lookup_that_never_stops_paging_is_refused_at_the_default_cap() -> None:
    ses = EndlessSes([(n, f"t{n}", 0) for n in range(1, 101)], total=10**9)
    message = refusal(ses, "welcome")
    assert message.startswith("SES lists more than 10000 templates")
    assert "give Template.TemplateID instead" in message
    assert ses.lists() == 100


# --- one name, one approved template ------------------------------------------------------------


def test_a_name_is_found_on_a_later_page_by_its_exact_spelling() -> None:
    ses = TemplateSes([*((n, f"welcome-{n}", 0) for n in range(1, 150)), (500, "welcome", 0)])
    assert find_template_id("welcome", ses, deadline(), TemplateCache(), FIELD) == 500


def test_an_unknown_name_is_refused_naming_it() -> None:
    message = refusal(TemplateSes([(1, "welcome", 0)]), "Welcome")
    assert message == "no template named 'Welcome' in the SES account (ListEmailTemplates)"


def test_two_templates_of_one_name_are_refused_with_their_ids() -> None:
    message = refusal(TemplateSes([(7, "welcome", 0), (9, "welcome", 1)]), "welcome")
    assert "2 templates are named 'welcome' (TemplateID 7, 9)" in message
    assert "distinct names" in message


def test_a_template_under_review_is_refused_saying_so() -> None:
    message = refusal(TemplateSes([(3, "welcome", 1)]), "welcome")
    assert "template 'welcome' (TemplateID 3) is still under review" in message
    assert "approved templates" in message


def test_a_rejected_template_is_refused_with_the_review_reason() -> None:
    message = refusal(TemplateSes([(3, "welcome", 2, "links to a blocked domain")]), "welcome")
    assert "(TemplateID 3) was rejected (review: links to a blocked domain)" in message


def test_one_listing_answers_every_unambiguous_approved_name() -> None:
    ses = TemplateSes(
        [(1, "welcome", 0), (2, "digest", 0), (3, "draft", 1), (4, "x", 0), (5, "x", 0)]
    )
    cache = TemplateCache()
    assert find_template_id("welcome", ses, deadline(), cache, FIELD) == 1
    assert find_template_id("digest", ses, deadline(), cache, FIELD) == 2
    assert ses.lists() == 1
    for name in ("draft", "x"):  # not approved, or ambiguous: asked again, refused again
        with pytest.raises(InvalidInput):
            find_template_id(name, ses, deadline(), cache, FIELD)
    assert ses.lists() == 3


def test_the_name_is_replaced_by_the_id_and_the_data_kept() -> None:
    ses = TemplateSes([(100001, "welcome", 0)])
    params: dict[str, Any] = {
        "Subject": "Hi",
        "Template": {"TemplateName": "welcome", "TemplateData": "{}"},
    }
    resolved = resolve_template_name(params, ses, deadline(), TemplateCache(), FIELD)
    assert resolved == {"Subject": "Hi", "Template": {"TemplateID": 100001, "TemplateData": "{}"}}
    assert params["Template"]["TemplateName"] == "welcome"  # the caller's params are not changed
    by_id: dict[str, Any] = {"Template": {"TemplateID": 5, "TemplateData": "{}"}}
    assert resolve_template_name(by_id, ses, deadline(), TemplateCache(), FIELD) is by_id


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ({"TemplateName": "welcome", "TemplateID": 1}, "not both"),
        ({"TemplateName": 12}, "must be the name of a template"),
        ({"TemplateName": " "}, "must be the name of a template"),
    ],
)
def test_a_name_that_cannot_be_looked_up_is_refused_without_asking_ses(
    template: dict[str, Any], message: str
) -> None:
    ses = TemplateSes([(1, "welcome", 0)])
    with pytest.raises(InvalidInput) as caught:
        resolve_template_name({"Template": template}, ses, deadline(), TemplateCache(), FIELD)
    assert message in caught.value.errors[0].message
    assert ses.calls == []


# --- a timer job that names its template --------------------------------------------------------


def services_with(ses: TemplateSes) -> Services:
    config = {
        "jobs": {
            "hello": {
                "action": "SendEmail",
                "params": {
                    "FromEmailAddress": "noreply@example.com",
                    "Destination": ["ana@example.org"],
                    "Subject": "Hello",
                    "Template": {"TemplateName": "welcome", "TemplateData": {"name": "Ana"}},
                },
            }
        }
    }
    clock = ManualClock()
    return build_services(
        Settings(environ={}),
        clock=clock,
        ses=ses,
        state=MemoryStateStore(clock),
        config=parse_config(config),
    )


def tick(time: str) -> dict[str, Any]:
    message = json.dumps({"job": "hello"})
    return {"Type": "Timer", "TriggerName": "hello", "Time": time, "Message": message}


def run(services: Services, time: str) -> dict[str, Any]:
    return handle_timer(tick(time), services, Deadline(services.clock, 30), {})


def test_a_refused_remembered_id_makes_the_next_tick_look_the_name_up_again() -> None:
    ses = TemplateSes([(100001, "welcome", 0)])
    services = services_with(ses)
    assert run(services, "2026-01-05T01:00:00Z")["ok"] is True
    assert run(services, "2026-01-06T01:00:00Z")["ok"] is True
    assert ses.lists() == 1  # remembered by the warm instance
    ses.templates = [(100007, "welcome", 0)]  # deleted and created again: a new id
    refused = run(services, "2026-01-07T01:00:00Z")
    assert refused["error"]["code"] == "FailedOperation.InvalidTemplateID"
    sent = run(services, "2026-01-08T01:00:00Z")
    assert sent["ok"] is True, sent
    assert ses.lists() == 2
    sends = [params for action, params in ses.calls if action == "SendEmail"]
    assert [p["Template"]["TemplateID"] for p in sends] == [100001, 100001, 100001, 100007]


def test_a_webhook_refused_for_a_remembered_id_looks_the_name_up_again() -> None:
    ses = TemplateSes([(100001, "welcome", 0)])
    send = {
        "action": "SendEmail",
        "FromEmailAddress": "'noreply@example.com'",
        "Destination": ["'ana@example.org'"],
        "Subject": "'Hello'",
        "Template": {"TemplateName": "'welcome'", "TemplateData": {"name": "body.name"}},
    }
    config = {"webhooks": {"hook": {"scheme": "github", "secret_env": "GH", "send": send}}}
    clock = ManualClock()
    runtime = Runtime(
        build_services(
            Settings(environ={"GH": "secret"}),
            clock=clock,
            ses=ses,
            state=MemoryStateStore(clock),
            config=parse_config(config),
        )
    )

    def deliver(delivery_id: str) -> int:
        body = json.dumps({"name": "Ana"})
        digest = hmac.new(b"secret", body.encode(), hashlib.sha256).hexdigest()
        event = {
            "httpMethod": "POST",
            "path": "/v1/webhooks/hook",
            "headers": {
                "content-type": "application/json",
                "x-github-delivery": delivery_id,
                "x-hub-signature-256": f"sha256={digest}",
            },
            "queryString": {},
            "body": body,
            "isBase64Encoded": False,
        }
        status: int = runtime.handle(event, {"request_id": delivery_id})["statusCode"]
        return status

    assert deliver("d1") == 202
    ses.templates = [(100007, "welcome", 0)]  # deleted and created again: a new id
    assert deliver("d2") == 422  # SES: FailedOperation.InvalidTemplateID
    assert deliver("d3") == 202
    assert ses.lists() == 2
