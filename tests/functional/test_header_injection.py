"""Header injection through the HTTP API: a line break that would reach the Subject through
TemplateData, or an SmtpHeaders Bcc, is a 422 naming the field, and nothing reaches SES."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from sesrelay.runtime import Runtime

ATTACK = "A\r\nBcc: x@attacker.example"
MakeEvent = Callable[..., dict[str, Any]]
ProblemOf = Callable[[dict[str, Any], int, str], dict[str, Any]]


def email(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "FromEmailAddress": "Example Team <noreply@example.com>",
        "Destination": ["ana@example.org"],
        "Subject": "Welcome, {{name}}",
        "Template": {"TemplateID": 100001, "TemplateData": {"name": "Ana"}},
    }
    body.update(changes)
    return body


def campaign(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "FromEmailAddress": "Example News <news@example.com>",
        "Subject": "Hello {{name}}",
        "Template": {"TemplateID": 100001, "TemplateData": {"name": "friend"}},
        "Recipients": [{"Email": "ana@example.org"}, {"Email": "ben@example.org"}],
    }
    body.update(changes)
    return body


def fields_of(found: dict[str, Any]) -> list[str]:
    return [item["field"] for item in found["errors"]]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        (
            {"Template": {"TemplateID": 100001, "TemplateData": {"name": ATTACK}}},
            "Template.TemplateData.name",
        ),
        (
            {"Template": {"TemplateID": 100001, "TemplateData": '{"name": "A\\u2028B"}'}},
            "Template.TemplateData.name",
        ),
        ({"SmtpHeaders": {"Bcc": "x@attacker.example"}}, "SmtpHeaders.Bcc"),
        ({"Subject": "   "}, "Subject"),
        (
            {"Attachments": [{"FileName": "../../etc/passwd", "Content": "QUJD"}]},
            "Attachments.0.FileName",
        ),
    ],
)
def test_post_emails_refuses_header_injection_and_sends_nothing(
    make_runtime: Callable[..., Runtime],
    scf_context: Callable[..., dict[str, Any]],
    event: MakeEvent,
    problem: ProblemOf,
    nothing_sent: Callable[[], None],
    changes: dict[str, Any],
    field: str,
) -> None:
    request = event("http_post-emails", body=email(**changes))
    reply = make_runtime().handle(request, scf_context())
    found = problem(reply, 422, "validation_error")
    assert fields_of(found) == [field]
    assert "attacker" not in reply["body"]
    nothing_sent()


def test_post_emails_with_the_same_data_but_safe_values_sends(
    make_runtime: Callable[..., Runtime],
    scf_context: Callable[..., dict[str, Any]],
    event: MakeEvent,
) -> None:
    # a body-only variable may hold line breaks; the control case for the refusals above
    data = {"name": "Ana", "note": "line one\r\nline two"}
    body = email(
        Template={"TemplateID": 100001, "TemplateData": data}, SmtpHeaders={"X-Campaign": "jan"}
    )
    reply = make_runtime().handle(event("http_post-emails", body=body), scf_context())
    assert reply["statusCode"] == 202, reply["body"]


def test_post_campaigns_refuses_a_row_whose_subject_value_breaks_the_header(
    make_runtime: Callable[..., Runtime],
    scf_context: Callable[..., dict[str, Any]],
    event: MakeEvent,
    problem: ProblemOf,
    nothing_sent: Callable[[], None],
) -> None:
    rows = [
        {"Email": "ana@example.org"},
        {"Email": "eve@example.org", "TemplateData": {"name": ATTACK}},
    ]
    request = event(
        "http_post-campaigns", body=campaign(Recipients=rows), headers={"idempotency-key": "h-1"}
    )
    reply = make_runtime().handle(request, scf_context())
    found = problem(reply, 422, "validation_error")
    assert fields_of(found) == ["Recipients.1.TemplateData.name"]
    assert "attacker" not in reply["body"]
    nothing_sent()


def test_post_campaigns_refuses_defaults_that_break_the_subject(
    make_runtime: Callable[..., Runtime],
    scf_context: Callable[..., dict[str, Any]],
    event: MakeEvent,
    problem: ProblemOf,
    nothing_sent: Callable[[], None],
) -> None:
    body = campaign(Template={"TemplateID": 100001, "TemplateData": {"name": ATTACK}})
    request = event("http_post-campaigns", body=body, headers={"idempotency-key": "h-2"})
    found = problem(make_runtime().handle(request, scf_context()), 422, "validation_error")
    assert fields_of(found) == ["Template.TemplateData.name"]
    nothing_sent()
