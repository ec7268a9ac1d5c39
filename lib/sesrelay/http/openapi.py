"""OpenAPI 3.1 document of the HTTP API, generated from the same pydantic models that validate."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from pydantic import BaseModel, Field
from pydantic.json_schema import models_json_schema

from sesrelay import __version__
from sesrelay.http.problems import CODES
from sesrelay.ses.fields import MAX_ADDRESS_CHARS, UINT64_MAX
from sesrelay.ses.models import BatchSendEmailParams, SendEmailParams


class SendEmailAccepted(BaseModel):
    MessageId: str = Field(description="SES MessageId, e.g. qcloudses-30-...")
    RequestId: str = Field(description="SES RequestId of the call")


class BatchTaskAccepted(BaseModel):
    TaskId: int = Field(description="SES batch task id")
    RequestId: str


class FieldProblem(BaseModel):
    field: str = Field(description="dotted path of the field, e.g. Template.TemplateData")
    message: str = Field(description="the rule that was broken")


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    code: str = Field(description="stable machine-readable code; see docs/http-api.md#error-codes")
    request_id: str | None
    errors: list[FieldProblem] | None = None


class Health(BaseModel):
    status: str
    version: str


def _problem_responses(*statuses: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for status in statuses:
        codes = sorted(code for code, (s, _) in CODES.items() if s == status)
        description = "Problem" + (f": {', '.join(codes)}" if codes else "")
        if status in (409, 422, 429, 502):
            description += " (or an SES error code verbatim)"
        out[str(status)] = {
            "description": description,
            "content": {"application/problem+json": {"schema": _ref("Problem")}},
        }
    return out


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


IDEMPOTENCY_HEADER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "1-256 printable ASCII characters; a repeat within 24 h replays the answer",
    "schema": {"type": "string", "minLength": 1, "maxLength": 256},
}


def _query(name: str, schema: dict[str, Any], required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": schema}


def _send_op(summary: str, body: str, ok: str) -> dict[str, Any]:
    return {
        "summary": summary,
        "security": [{"bearer": []}],
        "parameters": [IDEMPOTENCY_HEADER],
        "requestBody": {"required": True, "content": _json(_ref(body))},
        "responses": {
            "202": {"description": "accepted by SES", "content": _json(_ref(ok))},
            **_problem_responses(400, 401, 403, 409, 413, 415, 422, 429, 502, 503),
        },
    }


LIMIT = {"type": "integer", "minimum": 1, "maximum": 100}
OFFSET = {"type": "integer", "minimum": 0}


def _path_param(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string"},
    }


STATUS_BODY = {"type": "object", "properties": {"status": {"type": "string"}}}

WEBHOOK_OP: dict[str, Any] = {
    "summary": "A signed SaaS webhook, mapped to a send by sesrelay.yaml",
    "description": (
        "Verified with the source's scheme (github, stripe, shopify, standard-webhooks, slack, "
        "hmac) over the raw body; deduplicated by the scheme's delivery id."
    ),
    "parameters": [_path_param("source", "a webhook source named in sesrelay.yaml")],
    "requestBody": {
        "required": True,
        "content": {
            media: {"schema": {"description": "the vendor's payload, as the vendor sends it"}}
            for media in ("application/json", "application/x-www-form-urlencoded")
        },
    },
    "responses": {
        "202": {
            "description": '{"status": "sent", ...} or {"status": "ignored"} (filtered out)',
            "content": _json(STATUS_BODY),
        },
        "200": {"description": '{"status": "duplicate"}', "content": _json(STATUS_BODY)},
        **_problem_responses(401, 403, 404, 409, 413, 415, 422, 429, 502, 503),
    },
}

SES_EVENTS_OP: dict[str, Any] = {
    "summary": "Tencent SES delivery callbacks (unsigned; authenticated by the path token)",
    "parameters": [_path_param("token", "the value of the token variable (sesrelay.yaml)")],
    "requestBody": {
        "required": True,
        "content": _json({"oneOf": [{"type": "object"}, {"type": "array"}]}),
    },
    "responses": {
        "200": {"description": "events recorded", "content": _json({"type": "object"})},
        **_problem_responses(400, 401, 404, 413, 415, 422, 503),
    },
}


def _list_tasks_op() -> dict[str, Any]:
    """GET /v1/batch-tasks: SES ListSendTasks, query parameters named as the route reads them."""
    return {
        "summary": "List batch tasks (SES ListSendTasks)",
        "security": [{"bearer": []}],
        "parameters": [
            _query("offset", OFFSET),
            _query("limit", LIMIT),
            _query("status", {"type": "integer", "enum": [1, 5, 6, 7, 10]}),
            _query("receiver_id", {"type": "integer", "minimum": 1, "maximum": UINT64_MAX}),
            _query("task_type", {"type": "integer", "enum": [1, 2, 3]}),
        ],
        "responses": {
            "200": {
                "description": "SES ListSendTasks response",
                "content": _json({"type": "object"}),
            },
            **_problem_responses(401, 422, 429, 502, 503),
        },
    }


def _email_status_op() -> dict[str, Any]:
    """GET /v1/email-status: SES GetSendEmailStatus."""
    return {
        "summary": "Delivery status of sent mail (SES GetSendEmailStatus)",
        "security": [{"bearer": []}],
        "parameters": [
            _query("date", {"type": "string", "format": "date"}, required=True),
            _query("message_id", {"type": "string", "minLength": 1}),
            _query("to", {"type": "string", "format": "email", "maxLength": MAX_ADDRESS_CHARS}),
            _query("offset", OFFSET),
            _query("limit", LIMIT),
        ],
        "responses": {
            "200": {
                "description": "SES GetSendEmailStatus response",
                "content": _json({"type": "object"}),
            },
            **_problem_responses(401, 422, 429, 502, 503),
        },
    }


def _paths() -> dict[str, Any]:
    """Every route but the campaign ones (openapi_campaigns adds those)."""
    return {
        "/v1/emails": {
            "post": _send_op(
                "Send one email (SES SendEmail)", "SendEmailParams", "SendEmailAccepted"
            )
        },
        "/v1/batch-tasks": {
            "post": _send_op(
                "Create a batch task for a recipient group (SES BatchSendEmail)",
                "BatchSendEmailParams",
                "BatchTaskAccepted",
            ),
            "get": _list_tasks_op(),
        },
        "/v1/email-status": {"get": _email_status_op()},
        "/v1/webhooks/{source}": {"post": WEBHOOK_OP},
        "/v1/ses-events/{token}": {"post": SES_EVENTS_OP},
        "/v1/health": {
            "get": {
                "summary": "Liveness",
                "responses": {"200": {"description": "alive", "content": _json(_ref("Health"))}},
            }
        },
        "/v1/openapi.json": {
            "get": {
                "summary": "This document",
                "responses": {
                    "200": {"description": "OpenAPI 3.1", "content": _json({"type": "object"})}
                },
            }
        },
    }


@lru_cache(maxsize=1)
def openapi_document() -> dict[str, Any]:
    models: list[type[BaseModel]] = [
        SendEmailParams,
        BatchSendEmailParams,
        SendEmailAccepted,
        BatchTaskAccepted,
        Problem,
        FieldProblem,
        Health,
    ]
    from sesrelay.http.openapi_campaigns import MODELS as CAMPAIGN_MODELS
    from sesrelay.http.openapi_campaigns import campaign_paths
    from sesrelay.http.openapi_records import MODELS as RECORD_MODELS
    from sesrelay.http.openapi_records import record_paths

    models += CAMPAIGN_MODELS + RECORD_MODELS
    _, schemas = models_json_schema(
        [(m, "validation") for m in models], ref_template="#/components/schemas/{model}"
    )
    paths = _paths()
    paths.update(campaign_paths(_problem_responses, IDEMPOTENCY_HEADER))
    paths.update(record_paths(_problem_responses))
    # Any request can be unreadable as HTTP (a bad Content-Length, a broken body encoding):
    # every operation may answer 400 malformed_request.
    for operation in (op for item in paths.values() for op in item.values()):
        operation["responses"].setdefault("400", _problem_responses(400)["400"])
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "sesrelay",
            "version": __version__,
            "description": "HTTP calls, timers and webhooks in; Tencent Cloud SES sends out.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas.get("$defs", {}),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
