"""Webhook delivery -> SES params through a source's JMESPath `when` and `send` mapping."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode

import pytest

from sesrelay.config.model import ConfigError, WebhookSource
from sesrelay.errors import InvalidInput
from sesrelay.ses.models import validate_send_email
from sesrelay.webhooks.document import delivery_document
from sesrelay.webhooks.mapping import CompiledMapping, compile_mapping

NOW = datetime(2026, 1, 5, 1, 0, tzinfo=timezone.utc)


def compiled(send: dict[str, Any], when: str | None = None) -> CompiledMapping:
    data: dict[str, Any] = {"scheme": "github", "secret_env": "X", "send": send}
    if when is not None:
        data["when"] = when
    return compile_mapping(WebhookSource.model_validate(data))


def doc(
    body: Any, headers: dict[str, str] | None = None, query: dict[str, str] | None = None
) -> dict[str, Any]:
    return {"headers": headers or {}, "query": query or {}, "body": body}


RELEASE = {
    "action": "published",
    "release": {"tag_name": "v1.4.0", "author": {"login": "ana"}},
    "repository": {"name": "sesrelay", "full_name": "acme/sesrelay"},
}
SEND: dict[str, Any] = {
    "action": "SendEmail",
    "FromEmailAddress": "'Example <noreply@example.com>'",
    "Destination": ["'team@example.org'", "query.cc"],
    "Subject": "join(' ', ['Release', body.release.tag_name, 'by', headers.\"x-sender\"])",
    "Template": {"TemplateID": 100001, "TemplateData": {"name": "body.repository.name"}},
    "TriggerType": 1,
}


# --- when -----------------------------------------------------------------------------------------


def test_when_filter_true_and_false() -> None:
    mapping = compiled(
        SEND, when="headers.\"x-github-event\" == 'release' && body.action == 'published'"
    )
    assert mapping.matches(doc(RELEASE, {"x-github-event": "release"}))
    assert not mapping.matches(doc(RELEASE, {"x-github-event": "push"}))
    assert not mapping.matches(doc({**RELEASE, "action": "created"}, {"x-github-event": "release"}))


def test_no_when_matches_every_delivery() -> None:
    assert compiled(SEND).matches(doc("not even JSON"))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, True),
        ("x", True),
        ([0], True),
        (None, False),
        (False, False),
        ("", False),
        ([], False),
        ({}, False),
    ],
)
def test_when_uses_jmespath_truth(value: object, expected: bool) -> None:
    assert compiled(SEND, when="body.flag").matches(doc({"flag": value})) is expected


def test_a_failing_when_names_the_field() -> None:
    mapping = compiled(SEND, when="starts_with(body.kind, 'x')")
    with pytest.raises(InvalidInput) as caught:
        mapping.matches(doc({"kind": 42}))
    [error] = caught.value.errors
    assert error.field == "when"
    assert error.message == "expression failed: in starts_with(): expected string, got number"


# --- render -------------------------------------------------------------------------------------


def test_render_reads_headers_query_and_body_and_keeps_literals() -> None:
    action, params = compiled(SEND).render(
        doc(RELEASE, {"x-sender": "ci"}, {"cc": "ops@example.org"})
    )
    assert action == "SendEmail"
    assert params == {
        "FromEmailAddress": "Example <noreply@example.com>",
        "Destination": ["team@example.org", "ops@example.org"],
        "Subject": "Release v1.4.0 by ci",
        "Template": {"TemplateID": 100001, "TemplateData": {"name": "sesrelay"}},
        "TriggerType": 1,
    }
    # Ready for the SES models: a TemplateData mapping becomes the JSON text SES expects.
    model = validate_send_email(params, now=NOW)
    assert json.loads(model.to_ses()["Template"]["TemplateData"]) == {"name": "sesrelay"}


def test_nested_template_from_expressions() -> None:
    send = {
        "action": "SendEmail",
        "FromEmailAddress": "'noreply@example.com'",
        "Destination": "[body.to]",
        "Subject": "body.subject",
        "Template": {"TemplateID": "body.template", "TemplateData": "{name: body.who, n: body.n}"},
    }
    _, params = compiled(send).render(
        doc({"to": "a@example.org", "subject": "Hi", "template": 100002, "who": "Ana", "n": 3})
    )
    assert params["Template"] == {"TemplateID": 100002, "TemplateData": {"name": "Ana", "n": 3}}
    assert params["Destination"] == ["a@example.org"]


def test_null_fields_list_items_and_emptied_mappings_are_left_out() -> None:
    send = {
        "action": "SendEmail",
        "FromEmailAddress": "'noreply@example.com'",
        "Destination": ["body.to", "body.missing"],
        "Cc": ["body.missing"],
        "ReplyToAddresses": "body.reply_to",
        "Subject": "body.subject || 'Default subject'",
        "Template": {"TemplateID": "body.nope", "TemplateData": {"name": "body.nope"}},
    }
    _, params = compiled(send).render(doc({"to": "a@example.org"}))
    assert params == {
        "FromEmailAddress": "noreply@example.com",
        "Destination": ["a@example.org"],
        "Subject": "Default subject",
    }


def test_render_traced_lists_every_expression_that_came_out_null_by_its_path() -> None:
    send = {
        "action": "SendEmail",
        "FromEmailAddress": "'noreply@example.com'",
        "Destination": ["body.to", "body.missing"],
        "Subject": "body.subject || 'Default subject'",
        "Template": {"TemplateID": 1, "TemplateData": {"name": "body.nope"}},
    }
    _, _, nulls = compiled(send).render_traced(doc({"to": "a@example.org"}))
    assert nulls == ["send.Destination.1", "send.Template.TemplateData.name"]


def test_an_evaluation_error_names_the_field_and_not_the_value() -> None:
    send = {**SEND, "Subject": "join(', ', body.tags)"}
    with pytest.raises(InvalidInput) as caught:
        compiled(send).render(doc({"tags": "private@example.org"}))
    [error] = caught.value.errors
    assert error.field == "send.Subject"
    assert error.message == "expression failed: in join(): expected array-string, got string"
    assert "private@example.org" not in str(caught.value.as_dict())


def test_every_failing_field_is_named_including_nested_ones() -> None:
    send = {
        **SEND,
        "Template": {"TemplateID": 1, "TemplateData": {"name": "starts_with(body.n, 'x')"}},
    }
    with pytest.raises(InvalidInput) as caught:
        compiled(send).render(doc({"n": 1}, {"x-sender": "ci"}))
    assert [error.field for error in caught.value.errors] == [
        "send.Subject",  # join() over a null tag_name
        "send.Template.TemplateData.name",
    ]


# --- compile ------------------------------------------------------------------------------------


def test_compile_reports_every_problem_with_its_path() -> None:
    send = {
        "action": "SendEmail",
        "FromEmailAddress": "noreply@example.com",
        "Subject": "",
        "Destination": ["body.to", "length(body.a, body.b)"],
        "Template": {"TemplateID": "body.id", "TemplateData": None, "Extra": 1},
        "Bogus": "body.x",
    }
    source = WebhookSource.model_validate(
        {"scheme": "stripe", "secret_env": ["X"], "when": "body.type ==", "send": send}
    )
    with pytest.raises(ConfigError) as caught:
        compile_mapping(source)
    found = {p.path: p.message for p in caught.value.problems}
    assert set(found) == {
        "when",
        "send.FromEmailAddress",
        "send.Subject",
        "send.Destination.1",
        "send.Template.TemplateData",
        "send.Template.Extra",
        "send.Bogus",
    }
    assert found["when"].startswith("invalid JMESPath: incomplete expression")
    assert found["send.Subject"] == "is empty: write a JMESPath expression"
    assert found["send.Destination.1"] == "length() takes 1 argument(s), not 2"
    assert found["send.Template.TemplateData"].startswith("has no value")
    assert found["send.Template.Extra"] == "unknown field 'Extra': not a Template parameter"
    assert found["send.Bogus"] == "unknown field 'Bogus': not a SendEmail parameter"


@pytest.mark.parametrize(
    "expression",
    [
        "body.x",
        "headers.h",
        "query.q",
        "@",
        "'text'",
        "`1`",
        "body.items[?kind == 'a'].name",
        "body.a | name",
        "sort_by(body.list, &created)[0].id",
        "body.*.name",
        "{n: body.x}",
    ],
)
def test_expressions_reading_the_document_are_accepted(expression: str) -> None:
    compiled({**SEND, "Subject": expression})


@pytest.mark.parametrize(
    "expression", ["Welcome", "release.tag_name", "[body.x, subject]", "length(name)"]
)
def test_names_read_from_the_document_root_are_mistakes(expression: str) -> None:
    with pytest.raises(ConfigError) as caught:
        compiled({**SEND, "Subject": expression})
    [problem] = caught.value.problems
    assert problem.path == "send.Subject"
    assert "always null" in problem.message


def test_batch_send_mapping_uses_the_batch_fields() -> None:
    send = {
        "action": "BatchSendEmail",
        "FromEmailAddress": "'news@example.com'",
        "ReceiverId": "to_number(query.list)",
        "Subject": "'Digest'",
        "TaskType": 1,
        "Template": {"TemplateID": 100002, "TemplateData": {"week": "body.week"}},
    }
    action, params = compiled(send).render(doc({"week": "2026-W02"}, query={"list": "200001"}))
    assert action == "BatchSendEmail"
    assert params["ReceiverId"] == 200001
    with pytest.raises(ConfigError):
        compiled({**send, "Destination": "'a@example.org'"})  # a SendEmail-only field


# --- delivery_document ----------------------------------------------------------------------------


def test_delivery_document_parses_json_and_lowercases_headers() -> None:
    built = delivery_document({"X-GitHub-Event": "release"}, {"a": "1"}, b'{"k": [1, 2]}')
    assert built == {
        "headers": {"x-github-event": "release"},
        "query": {"a": "1"},
        "body": {"k": [1, 2]},
    }


FORM = "application/x-www-form-urlencoded; charset=utf-8"


def test_delivery_document_keeps_other_bodies_as_text_or_form_fields() -> None:
    assert delivery_document({}, {}, b"plain words")["body"] == "plain words"
    form = delivery_document({}, {}, b"command=%2Finvite&text=ben%40example.org&x=", FORM)
    assert form["body"] == {"command": "/invite", "text": "ben@example.org", "x": ""}
    text = delivery_document({}, {}, b"payload=not+json&x=", FORM)
    assert text["body"] == {"payload": "not json", "x": ""}
    assert compiled({**SEND, "Subject": "body.payload"}).render(text)[1]["Subject"] == "not json"


def test_form_of_only_a_json_payload_reads_as_the_json_content_type() -> None:
    """GitHub's form content type: `payload=<JSON>` and nothing else."""
    body = urlencode({"payload": json.dumps(RELEASE)}).encode()
    as_form = delivery_document({"X-GitHub-Event": "release"}, {}, body, FORM)
    as_json = delivery_document({"X-GitHub-Event": "release"}, {}, json.dumps(RELEASE).encode())
    assert as_form == as_json
    mapping = compiled(SEND, when="body.action == 'published'")
    assert mapping.matches(as_form)


def test_form_payload_json_object_is_parsed_in_place_beside_other_fields() -> None:
    """Slack-style: the JSON in `payload` is readable field by field; other fields stay text."""
    form = delivery_document({}, {}, b"payload=%7B%22a%22%3A%22hi%22%7D&x=1", FORM)
    assert form["body"] == {"payload": {"a": "hi"}, "x": "1"}
    assert compiled({**SEND, "Subject": "body.payload.a"}).render(form)[1]["Subject"] == "hi"


@pytest.mark.parametrize(
    "payload",
    ["[1, 2]", "5", '"text"', "{not json", "[" * 2000 + "]" * 2000, '{"n": ' + "9" * 5000 + "}"],
    ids=["array", "number", "string", "broken", "too-deep", "huge-number"],
)
def test_form_payload_that_is_not_a_json_object_stays_text(payload: str) -> None:
    built = delivery_document({}, {}, urlencode({"payload": payload}).encode(), FORM)
    assert built["body"] == {"payload": payload}
