"""The base of SES parameter models: every problem reported at once, phrased as field + rule.

Also turns raw input (a dict, or JSON bytes/str) into a model or an InvalidInput.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from typing import Any, ClassVar, NamedTuple, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    ModelWrapValidatorHandler,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError
from typing_extensions import Self

from sesrelay.errors import FieldError, InvalidInput

Loc = tuple[str | int, ...]
ModelT = TypeVar("ModelT", bound=BaseModel)

_MAX_NAME_CHARS = 64
_LIMIT_NOUNS = {
    "Destination": "addresses",
    "Cc": "addresses",
    "Bcc": "addresses",
    "Attachments": "attachments",
}
_TYPE_NAMES = {
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "string_type": "a string",
    "list_type": "a list (JSON array)",
    "model_type": "a JSON object",
    "model_attributes_type": "a JSON object",
    "dict_type": "a JSON object",
}


class CrossFieldError(NamedTuple):
    """A rule that involves several fields; `supersedes` drops errors nested under loc[0]."""

    loc: Loc
    message: str
    supersedes: bool = False


class SesModel(BaseModel):
    """An SES data type: Tencent field names, unknown fields refused, input never in error text."""

    model_config = ConfigDict(
        extra="forbid",
        hide_input_in_errors=True,
        field_title_generator=lambda name, _info: name,  # "TemplateID", not "Templateid"
        # Build validators on first use: an instance only pays for the actions it serves,
        # which keeps the SCF cold start close to the SDK's own import time.
        defer_build=True,
    )

    #: The SES name of this structure, for messages ("not a SendEmail parameter").
    ses_name: ClassVar[str] = ""

    def to_ses(self) -> dict[str, Any]:
        """The exact SES request parameters: Tencent names, unset (None) fields omitted."""
        return self.model_dump(mode="json", exclude_none=True)


class SesRequest(SesModel):
    """A whole SES action request: field checks and cross-field rules all run, all are reported.

    A model_validator(mode="after") would not run once a field has failed, so the cross-field
    rules read the raw input instead, and their errors are merged with the field errors.
    """

    @classmethod
    def cross_field_errors(
        cls, data: Mapping[str, Any], context: Mapping[str, Any]
    ) -> list[CrossFieldError]:
        return []

    @model_validator(mode="wrap")
    @classmethod
    def _report_every_error(
        cls, data: Any, handler: ModelWrapValidatorHandler[Self], info: ValidationInfo
    ) -> Self:
        cross = cls.cross_field_errors(data, info.context or {}) if isinstance(data, dict) else []
        try:
            model = handler(data)
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
        else:
            if not cross:
                return model
            errors = []
        superseded = {error.loc[0] for error in cross if error.supersedes}
        found = [
            (error["type"], error["loc"], phrase(cls, error), error["input"])
            for error in errors
            if not (error["loc"] and error["loc"][0] in superseded)
        ]
        found += [("ses_cross_field", error.loc, error.message, None) for error in cross]
        order = list(cls.model_fields)

        def rank(loc: Loc) -> int:  # the model's field order; body-level first, unknown last
            if not loc:
                return -1
            return order.index(loc[0]) if loc[0] in order else len(order)

        found.sort(key=lambda item: (rank(item[1]), _index_of(item[1])))
        line_errors: list[InitErrorDetails] = [
            {"type": PydanticCustomError(kind, message), "loc": loc, "input": value}
            for kind, loc, message, value in found
        ]
        raise ValidationError.from_exception_data(cls.__name__, line_errors, hide_input=True)


def _index_of(loc: Loc) -> int:
    return loc[1] if len(loc) > 1 and isinstance(loc[1], int) else -1


def phrase(model: type[BaseModel], error: ErrorDetails) -> str:
    """Our wording of a pydantic error: the rule, never the rejected value."""
    kind, loc, ctx = error["type"], error["loc"], error.get("ctx") or {}
    field = loc[-1] if loc else ""
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return _unknown_field(model, loc)
    if kind in _TYPE_NAMES:
        return f"must be {_TYPE_NAMES[kind]}, got {json_type(error['input'])}"
    if kind == "none_required":
        return "must be null or left out"
    if kind == "greater_than_equal":
        return f"must be at least {ctx['ge']}"
    if kind == "less_than_equal":
        return f"must be at most {ctx['le']} (SES limit)"
    if kind == "string_too_short":
        minimum = ctx["min_length"]
        return "must not be empty" if minimum == 1 else f"must be at least {minimum} characters"
    if kind == "string_too_long":
        return f"must be at most {ctx['max_length']} characters (SES limit)"
    if kind == "too_long":
        noun = _LIMIT_NOUNS.get(str(field), "items")
        return f"must be at most {ctx['max_length']} {noun} (SES limit)"
    return error["msg"]  # our own rule messages (PydanticCustomError), or pydantic's wording


def json_type(value: object) -> str:
    """The JSON kind of a value, to say what was received without showing it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number with a fraction"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (list, tuple)):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _unknown_field(model: type[BaseModel], loc: Loc) -> str:
    name = _shown(loc[-1]) if loc else ""
    owner = _model_at(model, loc[:-1])
    where = getattr(owner, "ses_name", "") or "known"
    close = [
        known for known in (owner.model_fields if owner else {}) if known.lower() == name.lower()
    ]
    hint = f"; did you mean {close[0]!r}? (names are case-sensitive)" if close else ""
    return f"unknown field {name!r}: not a {where} parameter{hint}"


def _model_at(model: type[BaseModel], path: Loc) -> type[BaseModel] | None:
    current: type[BaseModel] | None = model
    for part in path:
        if isinstance(part, int) or current is None:
            continue
        field = current.model_fields.get(part)
        current = model_in(field.annotation) if field else None
    return current


def model_in(annotation: object) -> type[BaseModel] | None:
    """The pydantic model inside an annotation (`Template | None`, `list[Attachment]`)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = model_in(arg)
        if found is not None:
            return found
    return None


def _shown(part: str | int) -> str:
    text = str(part)
    return text if len(text) <= _MAX_NAME_CHARS else text[:_MAX_NAME_CHARS] + "..."


def field_errors(exc: ValidationError) -> list[FieldError]:
    """A ValidationError as our FieldErrors: dotted paths ("Attachments.0.Content")."""
    result = []
    for error in exc.errors(include_url=False):
        loc = error["loc"]
        if not loc:
            result.append(FieldError(field="", message=_body_message(error)))
        else:
            path = ".".join(_shown(part) for part in loc)
            result.append(FieldError(field=path, message=error["msg"]))
    return result


def _body_message(error: ErrorDetails) -> str:
    if error["type"] == "json_invalid":
        reason = (error.get("ctx") or {}).get("error", "")
        return f"body is not valid JSON ({reason})" if reason else "body is not valid JSON"
    if error["type"] in ("model_type", "model_attributes_type", "dict_type"):
        return f"body must be a JSON object, got {json_type(error['input'])}"
    return f"body: {error['msg']}"


def parse_request(
    model: type[ModelT], data: object, context: Mapping[str, Any] | None = None
) -> ModelT:
    """A dict, or raw JSON (bytes/str), validated into `model`; all problems in one InvalidInput."""
    ctx = dict(context or {})
    try:
        if isinstance(data, (bytes, bytearray, memoryview)):
            try:
                text = bytes(data).decode("utf-8")
            except UnicodeDecodeError:
                message = "body is not valid UTF-8"
                raise InvalidInput([FieldError(field="", message=message)], message) from None
            data = text
        if isinstance(data, str):  # a UTF-8 byte order mark is tolerated (RFC 8259 section 8.1)
            return model.model_validate_json(data.removeprefix("\ufeff"), context=ctx)
        return model.model_validate(data, context=ctx)
    except ValidationError as exc:
        errors = field_errors(exc)
        whole_body = [error.message for error in errors if not error.field]
        raise InvalidInput(errors, whole_body[0] if whole_body else None) from None
