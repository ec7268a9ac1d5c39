"""The field rules serverless.yml shares: SCF's formats for function and trigger names, regions,
qualifiers, namespaces and memory sizes, and the strict base model whose errors name the rule."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict
from pydantic_core import PydanticCustomError

DEFAULT_QUALIFIER = "$DEFAULT"
MEMORY_SIZES = (64, *range(128, 3072 + 1, 128))
_FUNCTION_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,58}[A-Za-z0-9]$")
_TRIGGER_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,59}$")
_QUALIFIER = re.compile(r"^(\$DEFAULT|\$LATEST|[0-9]+|[A-Za-z][A-Za-z0-9_-]{0,63})$")
REGION = re.compile(r"^[a-z]{2}-[a-z]+(-[a-z0-9]+)?$")  # ap-guangzhou, ap-shanghai-fsi
NAMESPACE = re.compile(r"^[A-Za-z0-9_-]{1,30}$")
DESCRIPTION = re.compile(r"^[\w ,.\n\u4e00-\u9fff]*$")


def rule(message: str) -> PydanticCustomError:
    """A broken rule, reported with `message` at the key that broke it."""
    return PydanticCustomError("serverless_rule", message)


def _function_name(value: str) -> str:
    if not _FUNCTION_NAME.match(value):
        raise rule(
            "must be 2-60 characters: letters, digits, '-' or '_', starting with a letter and "
            "ending with a letter or digit"
        )
    return value


def _trigger_name(value: str) -> str:
    if not _TRIGGER_NAME.match(value):
        raise rule("must match ^[A-Za-z][A-Za-z0-9_-]{0,59}$ (1-60 characters, a letter first)")
    return value


def literal(expected: str, why: str) -> Any:
    """A validator accepting only `expected`; `why` explains the refusal."""

    def check(value: str) -> str:
        if value != expected:
            raise rule(f"must be {expected}: {why}")
        return value

    return AfterValidator(check)


def memory(value: int) -> int:
    if value not in MEMORY_SIZES:
        raise rule("must be 64, or 128 to 3072 in steps of 128 (MB)")
    return value


def pattern(regex: re.Pattern[str], message: str) -> Any:
    """A validator accepting strings that `regex` matches; `message` says what is expected."""

    def check(value: str) -> str:
        if not regex.match(value):
            raise rule(message)
        return value

    return AfterValidator(check)


FunctionName = Annotated[str, AfterValidator(_function_name)]
TriggerName = Annotated[str, AfterValidator(_trigger_name)]
Qualifier = Annotated[str, pattern(_QUALIFIER, "must be $DEFAULT, $LATEST, a version or an alias")]


class StrictModel(BaseModel):
    """Unknown keys and loose types are errors; input values stay out of messages (secrets)."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        frozen=True,
        hide_input_in_errors=True,
    )
