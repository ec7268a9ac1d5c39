"""Pydantic models of the SCF trigger events (vendor field names, extras ignored) and their
normalised forms: an HTTP request with raw body bytes, and a timer tick."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from sesrelay.errors import MalformedRequest

#: SCF caps a synchronous request event at 6 MB.
MAX_BODY_BYTES = 6 * 1024 * 1024
#: SCF caps a timer trigger's Message (its "input parameter") at 4 KB, UTF-8 encoded: the limit
#: the config checker, the deploy checker and the timer handler all hold job messages to.
MAX_TIMER_MESSAGE_BYTES = 4096

Scalar = str | int | float | bool | None


def _as_text(value: Any) -> str:
    if isinstance(value, list):
        value = value[0] if value else ""
    return "" if value is None else str(value)


#: The shapes other than the function URL's build their validators on first use (defer_build):
#: a cold start pays only for the event it was started by.
class RequestContext(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)

    requestId: str | None = None
    sourceIp: str | None = None
    stage: str | None = None
    path: str | None = None


class FunctionUrlEvent(BaseModel):
    """The function URL event: the API Gateway shape minus requestContext and friends."""

    model_config = ConfigDict(extra="ignore")

    httpMethod: str = Field(min_length=1)
    path: str = "/"
    headers: dict[str, Any] = Field(default_factory=dict)
    queryString: dict[str, Any] | None = None
    body: str | None = None
    isBase64Encoded: bool = False

    @field_validator("headers", mode="before")
    @classmethod
    def _headers(cls, value: Any) -> Any:
        return {} if value is None else value


class ApiGatewayEvent(FunctionUrlEvent):
    """The legacy API Gateway (and TSE gateway) shape."""

    model_config = ConfigDict(extra="ignore", defer_build=True)

    requestContext: RequestContext = Field(default_factory=RequestContext)
    queryStringParameters: dict[str, Any] | None = None


class TimerEvent(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)

    Type: str
    # Bounded: the pair names the tick's dedupe key (SCF trigger names are at most 60
    # characters, times about 20).
    TriggerName: str = Field(min_length=1, max_length=256)
    Time: str = Field(min_length=1, max_length=64)
    Message: str = ""


@dataclass
class HttpRequest:
    """One HTTP request, whatever trigger carried it. Header names are lower-case."""

    method: str
    path: str
    headers: dict[str, str]
    query: dict[str, str]
    body: bytes
    request_id: str | None = None
    trigger: str = "http"
    path_params: dict[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass
class HttpResponse:
    status: int
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)

    def to_scf(self, trigger: str) -> dict[str, Any]:
        reply: dict[str, Any] = {
            "statusCode": self.status,
            "headers": dict(self.headers),
            "body": self.body,
        }
        if trigger == "apigw":
            reply["isBase64Encoded"] = False
        return reply


def parse_http_event(event: dict[str, Any], trigger: str) -> HttpRequest:
    """Normalise a function URL or API Gateway event; MalformedRequest if it cannot be read."""
    model: type[FunctionUrlEvent] = ApiGatewayEvent if trigger == "apigw" else FunctionUrlEvent
    try:
        parsed = model.model_validate(event)
    except ValidationError as exc:
        where = ", ".join(
            ".".join(str(p) for p in err["loc"]) for err in exc.errors(include_input=False)
        )
        raise MalformedRequest(f"the HTTP event is malformed at: {where}") from None
    headers = {str(k).lower(): _as_text(v) for k, v in parsed.headers.items()}
    query_source = parsed.queryString
    if query_source is None and isinstance(parsed, ApiGatewayEvent):
        query_source = parsed.queryStringParameters
    query = {str(k): _as_text(v) for k, v in (query_source or {}).items()}
    body = _body_bytes(parsed.body, parsed.isBase64Encoded)
    request_id = None
    if isinstance(parsed, ApiGatewayEvent):
        request_id = parsed.requestContext.requestId
    request_id = request_id or headers.get("x-api-requestid") or headers.get("x-scf-request-id")
    return HttpRequest(
        method=parsed.httpMethod.upper(),
        path=parsed.path or "/",
        headers=headers,
        query=query,
        body=body,
        request_id=request_id,
        trigger=trigger,
    )


def _body_bytes(body: str | None, is_base64: bool) -> bytes:
    if not body:
        return b""
    if is_base64:
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise MalformedRequest(
                "isBase64Encoded is true but the body is not valid base64"
            ) from None
    return body.encode("utf-8", "surrogatepass")


def parse_timer_event(event: dict[str, Any]) -> TimerEvent:
    try:
        return TimerEvent.model_validate(event)
    except ValidationError as exc:
        where = ", ".join(
            ".".join(str(p) for p in err["loc"]) for err in exc.errors(include_input=False)
        )
        raise MalformedRequest(f"the timer event is malformed at: {where}") from None
