"""GET /v1/openapi.json: a valid OpenAPI 3.1 document that lists every route of the routes table
(docs/http-api.md), whose request schemas accept the documented examples and whose response
schemas describe what the API answers."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]  # no stubs pinned
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from sesrelay.http.app import ROUTER
from sesrelay.http.openapi_records import NO_CONTROLS
from sesrelay.http.query_params import BATCH_TASKS, EMAIL_STATUS
from sesrelay.http.routes.records import MAX_MESSAGE_ID_CHARS, MAX_TASK_PAGES, TASK_PAGE
from sesrelay.records import EMAIL, TASK, DeliveryEvent, SendRecord
from sesrelay.runtime import Runtime
from sesrelay.ses.rules import HEADER_BREAKERS

MakeRuntime = Callable[..., Runtime]
MakeEvent = Callable[..., dict[str, Any]]

EVENTS_DIR = Path(__file__).resolve().parents[2] / "events"
DOC_URI = "urn:sesrelay:openapi"
#: The routes table users read: docs/http-api.md, "Routes".
ROUTES_TABLE = Path(__file__).resolve().parents[2] / "docs" / "http-api.md"
_ROUTE = re.compile(r"`(GET|POST|PUT|PATCH|DELETE) (/[^`?\s]*)[^`]*`")


def documented_routes(markdown: str) -> set[tuple[str, str]]:
    """(method, path) of every row of the "Routes" table, path parameters written `{}`."""
    section = markdown.split("## Routes\n", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1] for line in section.splitlines() if line.startswith("| `")]
    return {
        (method.lower(), _anonymous(path)) for row in rows for method, path in _ROUTE.findall(row)
    }


def _anonymous(path: str) -> str:
    """`/v1/campaigns/{campaign_id}` and `/v1/campaigns/{id}` are the same route."""
    return re.sub(r"\{[^}]*\}", "{}", path)


HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


@pytest.fixture
def document(make_runtime: MakeRuntime, event: MakeEvent) -> dict[str, Any]:
    """The document as a client gets it: over HTTP, without a key."""
    reply = make_runtime().handle(event("http_get-openapi"), {})
    assert reply["statusCode"] == 200
    assert reply["headers"]["content-type"] == "application/json"
    data: dict[str, Any] = json.loads(reply["body"])
    return data


def schema_validator(document: dict[str, Any], name: str) -> Draft202012Validator:
    """A validator for components/schemas/<name>, resolving its $refs inside the document."""
    registry: Registry[Any] = Registry().with_resource(
        DOC_URI, Resource.from_contents(document, default_specification=DRAFT202012)
    )
    schema = {"$ref": f"{DOC_URI}#/components/schemas/{name}"}
    return Draft202012Validator(
        schema, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (method, path)
        for path, item in document["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1.")
    validate(document)
    assert document["info"]["title"] == "sesrelay"
    assert document["info"]["version"]


def test_the_routes_table_lists_every_route_the_document_does(document: dict[str, Any]) -> None:
    documented = documented_routes(ROUTES_TABLE.read_text(encoding="utf-8"))
    assert len(documented) >= 12  # the table was read
    assert documented == {(method, _anonymous(path)) for method, path in operations(document)}


def test_the_routes_table_is_read_row_by_row_and_only_there() -> None:
    table = (
        "## Routes\n\n| method and path | does |\n|---|---|\n"
        "| `POST /v1/emails` | SendEmail |\n"
        "| `POST /v1/campaigns`, `GET /v1/campaigns/{id}` | campaigns |\n"
        "| `GET /v1/batch-tasks?offset&limit` | ListSendTasks |\n\n## Next\n| `GET /v1/x` | |\n"
    )
    assert documented_routes(table) == {
        ("post", "/v1/emails"),
        ("post", "/v1/campaigns"),
        ("get", "/v1/campaigns/{}"),
        ("get", "/v1/batch-tasks"),
    }


def test_every_registered_route_is_documented(document: dict[str, Any]) -> None:
    """The router (`http.app.ROUTER`) and the document agree: nothing served goes undocumented."""
    registered = {(r.method.lower(), r.template) for r in ROUTER.routes}
    assert sorted(registered - operations(document)) == []
    assert sorted(operations(document) - registered) == []


def test_authenticated_routes_say_so_and_the_open_ones_do_not(document: dict[str, Any]) -> None:
    assert document["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
    }
    documented = operations(document)
    for route in ROUTER.routes:
        if (route.method.lower(), route.template) not in documented:
            continue  # test_every_registered_route_is_documented reports it
        operation = document["paths"][route.template][route.method.lower()]
        if route.auth:
            assert operation["security"] == [{"bearer": []}], route
            assert "401" in operation["responses"], route
        else:
            assert not operation.get("security"), route


def test_send_routes_document_their_body_idempotency_and_errors(document: dict[str, Any]) -> None:
    for path, model, accepted in [
        ("/v1/emails", "SendEmailParams", "SendEmailAccepted"),
        ("/v1/batch-tasks", "BatchSendEmailParams", "BatchTaskAccepted"),
    ]:
        operation = document["paths"][path]["post"]
        body = operation["requestBody"]
        assert body["required"] is True
        assert body["content"]["application/json"]["schema"] == {
            "$ref": f"#/components/schemas/{model}"
        }
        [header] = [p for p in operation["parameters"] if p["in"] == "header"]
        assert header["name"] == "Idempotency-Key"
        assert header["schema"]["maxLength"] == 256
        responses = operation["responses"]
        assert responses["202"]["content"]["application/json"]["schema"] == {
            "$ref": f"#/components/schemas/{accepted}"
        }
        for status in ("400", "401", "403", "409", "413", "415", "422", "429", "502", "503"):
            content = responses[status]["content"]
            assert content["application/problem+json"]["schema"] == {
                "$ref": "#/components/schemas/Problem"
            }


def test_query_routes_document_every_query_parameter(document: dict[str, Any]) -> None:
    for path, names in [("/v1/batch-tasks", BATCH_TASKS), ("/v1/email-status", EMAIL_STATUS)]:
        parameters = document["paths"][path]["get"]["parameters"]
        assert {p["name"] for p in parameters if p["in"] == "query"} == set(names)
    status_params = document["paths"]["/v1/email-status"]["get"]["parameters"]
    [date] = [p for p in status_params if p["name"] == "date"]
    assert date["required"] is True


def _readme_examples() -> list[tuple[str, dict[str, Any]]]:
    """The request bodies the docs show: the direct-invoke examples they name and run, and
    the bodies of the sample HTTP events."""
    examples: list[tuple[str, dict[str, Any]]] = []
    schema_of = {"SendEmail": "SendEmailParams", "BatchSendEmail": "BatchSendEmailParams"}
    for name in ("direct_send-email", "direct_batch-send-email"):
        data = json.loads((EVENTS_DIR / f"{name}.json").read_text())
        examples.append((schema_of[data["action"]], data["params"]))
    for source in ("http", "apigw"):
        for name, schema in [
            ("post-emails", "SendEmailParams"),
            ("post-batch-tasks", "BatchSendEmailParams"),
        ]:
            data = json.loads((EVENTS_DIR / f"{source}_{name}.json").read_text())
            examples.append((schema, json.loads(data["body"])))
    # docs/http-api.md: "Template.TemplateData may be the JSON string SES wants or a JSON object".
    as_text = json.loads((EVENTS_DIR / "direct_send-email.json").read_text())["params"]
    as_text["Template"]["TemplateData"] = json.dumps(as_text["Template"]["TemplateData"])
    examples.append(("SendEmailParams", as_text))
    return examples


@pytest.mark.parametrize(("schema", "example"), _readme_examples())
def test_request_schemas_accept_the_readme_examples(
    document: dict[str, Any], schema: str, example: dict[str, Any]
) -> None:
    errors = [e.message for e in schema_validator(document, schema).iter_errors(example)]
    assert errors == []


def test_every_schema_accepts_its_own_examples(document: dict[str, Any]) -> None:
    checked = 0
    for name, schema in document["components"]["schemas"].items():
        for example in schema.get("examples", []):
            errors = [e.message for e in schema_validator(document, name).iter_errors(example)]
            assert errors == [], (name, example)
            checked += 1
    assert checked >= 2


@pytest.mark.parametrize(
    ("schema", "change"),
    [
        ("SendEmailParams", {"Subjet": "typo"}),
        ("SendEmailParams", {"Destination": "ana@example.org"}),
        ("SendEmailParams", {"Subject": ""}),
        ("BatchSendEmailParams", {"ReceiverId": "200001"}),
        ("BatchSendEmailParams", {"TaskType": 4}),
    ],
)
def test_request_schemas_refuse_what_the_api_refuses(
    document: dict[str, Any],
    schema: str,
    change: dict[str, Any],
    make_runtime: MakeRuntime,
    event: MakeEvent,
) -> None:
    route = "http_post-emails" if schema == "SendEmailParams" else "http_post-batch-tasks"
    body = {**json.loads(event(route)["body"]), **change}
    assert list(schema_validator(document, schema).iter_errors(body))
    assert make_runtime().handle(event(route, body=body), {})["statusCode"] == 422


def test_response_schemas_describe_the_real_answers(
    document: dict[str, Any], make_runtime: MakeRuntime, event: MakeEvent
) -> None:
    runtime = make_runtime()
    answers = [
        ("SendEmailAccepted", runtime.handle(event("http_post-emails"), {}), 202),
        ("BatchTaskAccepted", runtime.handle(event("apigw_post-batch-tasks"), {}), 202),
        ("Health", runtime.handle(event("http_get-health"), {}), 200),
        ("Problem", runtime.handle(event("http_post-emails", body="[]"), {}), 422),
        ("Problem", runtime.handle(event("http_post-emails", body="{"), {}), 400),
        (
            "Problem",
            runtime.handle(event("http_post-emails", headers={"authorization": None}), {}),
            401,
        ),
    ]
    for schema, reply, status in answers:
        assert reply["statusCode"] == status, reply
        body = json.loads(reply["body"])
        errors = [e.message for e in schema_validator(document, schema).iter_errors(body)]
        assert errors == [], (schema, body)


def test_record_routes_document_their_id_rules_and_errors(document: dict[str, Any]) -> None:
    email = document["paths"]["/v1/emails/{MessageId}"]["get"]
    task = document["paths"]["/v1/batch-tasks/{TaskId}"]["get"]
    [message_id] = email["parameters"]
    assert (message_id["in"], message_id["name"], message_id["required"]) == (
        "path",
        "MessageId",
        True,
    )
    assert message_id["schema"]["maxLength"] == MAX_MESSAGE_ID_CHARS
    pattern = re.compile(NO_CONTROLS)
    assert not [c for c in sorted(HEADER_BREAKERS) if pattern.match(f"id{c}id")]
    assert pattern.match("qcloudses-30-1300000000-date-20260105090000-aBcD")
    [task_id] = task["parameters"]
    assert (task_id["in"], task_id["name"]) == ("path", "TaskId")
    assert task_id["schema"]["type"] == "integer"
    assert task_id["schema"]["minimum"] == 1
    assert f"newest {MAX_TASK_PAGES * TASK_PAGE} tasks" in task["description"]
    for operation, ok in [(email, "EmailRecord"), (task, "BatchTaskRecord")]:
        assert set(operation["responses"]) == {"200", "400", "401", "403", "404", "422", "503"}
        schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert schema == {"$ref": f"#/components/schemas/{ok}"}


def _records_answers(runtime: Runtime, event: MakeEvent) -> list[tuple[str, Any, int]]:
    """Record reads of every shape: with events, with SES's status, with a lookup failure, a
    task SES lists and one it does not."""
    sent = json.loads(runtime.handle(event("http_post-emails"), {})["body"])["MessageId"]
    task = json.loads(runtime.handle(event("http_post-batch-tasks"), {})["body"])["TaskId"]
    book = runtime.services.records
    common: dict[str, Any] = {
        "created": "2026-01-05T01:00:00+00:00",
        "entry": "http",
        "key": None,
        "idempotency_key": None,
        "sender": "noreply@example.com",
        "template_id": 100001,
    }
    for message_id in (sent, "qcloudses-with-events"):
        book.save(
            SendRecord(EMAIL, message_id, recipient_count=1, recipients=["a@b.org"], **common)
        )
    # Sent years ago: SES no longer answers for that day (StatusError).
    old = {**common, "created": "2020-01-01T00:00:00+00:00"}
    book.save(SendRecord(EMAIL, "no-date-in-this-id", recipient_count=0, **old))
    book.add_event("qcloudses-with-events", DeliveryEvent("click", 1, "a@b.org", link="https://x"))
    for task_id in (task, 987654):
        record = SendRecord(TASK, str(task_id), recipient_count=None, receiver_id=200001, **common)
        book.save(record)
    book.count_task_event(str(task), "open")
    get = "http_get-batch-tasks"
    return [
        (name, runtime.handle(event(get, path=path, query={}), {}), 200)
        for name, path in [
            ("EmailRecord", f"/v1/emails/{sent}"),
            ("EmailRecord", "/v1/emails/qcloudses-with-events"),
            ("EmailRecord", "/v1/emails/no-date-in-this-id"),
            ("BatchTaskRecord", f"/v1/batch-tasks/{task}"),
            ("BatchTaskRecord", "/v1/batch-tasks/987654"),
        ]
    ] + [
        ("Problem", runtime.handle(event(get, path="/v1/emails/nope", query={}), {}), 404),
        ("Problem", runtime.handle(event(get, path="/v1/batch-tasks/0", query={}), {}), 422),
    ]


def test_record_schemas_describe_the_real_answers(
    document: dict[str, Any], make_runtime: MakeRuntime, event: MakeEvent
) -> None:
    answers = _records_answers(make_runtime(), event)
    for schema, reply, status in answers:
        assert reply["statusCode"] == status, reply
        body = json.loads(reply["body"])
        errors = [e.message for e in schema_validator(document, schema).iter_errors(body)]
        assert errors == [], (schema, body)
    bodies = [json.loads(reply["body"]) for _, reply, _ in answers]
    assert bodies[0]["Status"]
    assert bodies[1]["Events"]
    assert bodies[2]["StatusError"]
    assert bodies[3]["Task"]
    assert bodies[4]["TaskError"]
