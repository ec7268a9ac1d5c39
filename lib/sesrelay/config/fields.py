"""The building blocks of the config file's models: names, variable names, and the base model
(unknown keys refused, strict types, input never echoed in errors)."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

NAME_RULE = "must be 1 to 64 characters: letters, digits, '_' or '-'"


def rule(message: str) -> PydanticCustomError:
    """A validation error that reads as our message, not pydantic's."""
    return PydanticCustomError("config_rule", message)


def _name(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", value):
        raise rule(NAME_RULE)
    return value


def _env_name(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,127}", value):
        raise rule("must be an environment variable name (letters, digits, '_'), not a value")
    return value


def _listify(value: object) -> object:
    return [value] if isinstance(value, str) else value


def empty_if_none(value: object) -> object:
    """A section whose entries are all commented out reads as empty, not as null."""
    return {} if value is None else value


Name = Annotated[str, AfterValidator(_name)]
EnvName = Annotated[str, AfterValidator(_env_name)]
Text = Annotated[str, Field(min_length=1)]
#: `secret_env`: one variable name, or several while rotating.
SecretEnvNames = Annotated[list[EnvName], BeforeValidator(_listify), Field(min_length=1)]


class ConfigModel(BaseModel):
    """Base of every section: unknown keys are errors, types are strict, input is not echoed."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, hide_input_in_errors=True)
