"""API 3.0 envelopes, the error type actions raise, and parameter parsing with API error codes.

Shared by every emulated service: a service is a name, a version, its regions and its actions.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

#: API 3.0 answers everything with HTTP 200 and this exact type: the SDK compares the type
#: exactly, so it ignores error envelopes sent as `application/json; charset=utf-8`.
JSON_CONTENT_TYPE = "application/json"

M = TypeVar("M", bound=BaseModel)


class ApiError(Exception):
    """An API 3.0 error: answered as `{"Response": {"Error": {"Code", "Message"}, "RequestId"}}`."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class Params(BaseModel):
    """Base of request parameter models: strict JSON types, no unknown fields.

    Strict because the SDK serialises typed values; a string where SES wants an integer is a
    client bug worth seeing rather than something to coerce.
    """

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


@dataclass(frozen=True)
class Action:
    """One API action: its parameter model, its handler, and codes for its missing fields."""

    params: type[Params]
    handler: Callable[[Any], dict[str, Any]]
    #: field name -> error code when that top-level field is missing (e.g. ReceiverIdNecessary)
    missing_codes: Mapping[str, str] = field(default_factory=dict)


class Service(Protocol):
    """What the protocol core needs from an emulated product (SES now, SCF later)."""

    name: str
    version: str
    regions: frozenset[str]

    def actions(self) -> Mapping[str, Action]: ...

    def tick(self, now: datetime) -> None:
        """Bring time-driven state (uploads, scheduled tasks) up to `now`; called under the lock."""

    def reset(self) -> None: ...

    def control(
        self, method: str, path: str, query: Mapping[str, str], body: bytes
    ) -> tuple[int, Any] | None:
        """Answer a service-specific `/_emulator/...` request, or None when not ours."""


def new_request_id() -> str:
    return str(uuid.uuid4())


def envelope(fields: Mapping[str, Any], request_id: str) -> bytes:
    return _dump({"Response": {**fields, "RequestId": request_id}})


def error_envelope(code: str, message: str, request_id: str) -> bytes:
    return _dump(
        {"Response": {"Error": {"Code": code, "Message": message}, "RequestId": request_id}}
    )


def _dump(payload: object) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


def parse_body(body: bytes) -> dict[str, Any]:
    """The JSON object of a request body; an empty body is `{}` as in GET-less actions."""
    if not body.strip():
        return {}
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ApiError("InvalidParameter", "The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise ApiError("InvalidParameter", "request body must be a JSON object")
    return data


def parse_params(action: Action, data: Mapping[str, Any]) -> Params:
    """Validate `data` against the action's model and map the first failure to an API code."""
    try:
        return action.params.model_validate(dict(data))
    except ValidationError as exc:
        raise _to_api_error(exc, action.missing_codes) from None


_TYPE_ERRORS = (
    "_type",
    "model_attributes_type",
    "model_type",
    "dataclass_type",
    "is_instance_of",
)


def _to_api_error(exc: ValidationError, missing_codes: Mapping[str, str]) -> ApiError:
    # Report one error like SES does; the message names the field, never the rejected value.
    err = exc.errors(include_url=False, include_input=False)[0]
    where = ".".join(str(part) for part in err["loc"]) or "(body)"
    kind = err["type"]
    if kind == "missing":
        code = missing_codes.get(str(err["loc"][0]), "MissingParameter")
        return ApiError(code, f"The parameter `{where}` is missing.")
    if kind == "extra_forbidden":
        return ApiError("UnknownParameter", f"The parameter `{where}` is not recognized.")
    if kind.endswith(_TYPE_ERRORS) or kind in ("int_from_float", "bool_parsing"):
        return ApiError(
            "InvalidParameter", f"The parameter `{where}` has the wrong type: {err['msg']}."
        )
    return ApiError("InvalidParameterValue", f"The value of `{where}` is invalid: {err['msg']}.")
