"""The function's environment variables in serverless.yml: SCF's key rules, the 4 KB cap, and
`${env:NAME}` references, resolved from the deployer's environment only at deploy time.

A value that would be a secret must be a reference: serverless.yml is committed, secrets are not.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from pydantic_core import PydanticCustomError

#: SCF reserves these prefixes for its own variables and refuses them in user variables;
#: compared case-insensitively to be safe, as the docs do not say.
RESERVED_PREFIXES = ("SCF_", "QCLOUD_", "TENCENTCLOUD_")
MAX_TOTAL_BYTES = 4096  # all variables of a function together (583/11637)
MAX_KEY_CHARS = 64
_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_ENV_REF = re.compile(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}")
_ANY_REF = re.compile(r"\$\{[^}]*\}?")
_SECRET_NAME = re.compile(r"SECRET|TOKEN|PASSWORD|PASSWD|KEY|CREDENTIAL|STATE_URL", re.IGNORECASE)


class UnresolvedVariables(Exception):
    """`${env:NAME}` references with no value in the deployer's environment."""

    def __init__(
        self, missing: Mapping[str, list[str]], resolved: Mapping[str, str] | None = None
    ) -> None:
        self.missing = dict(missing)  # function variable -> the unset NAMEs it references
        #: the variables that did resolve, empty ones left out (as the function would have them)
        self.resolved = {k: v for k, v in (resolved or {}).items() if v != ""}
        names = sorted({n for refs in self.missing.values() for n in refs})
        super().__init__(f"not set in the environment: {', '.join(names)}")


@dataclass(frozen=True)
class ResolvedEnvironment:
    values: dict[str, str]
    #: variables whose value resolved to "": SCF refuses empty values, so they are left unset
    empty: tuple[str, ...]


def _rule(message: str) -> PydanticCustomError:
    return PydanticCustomError("serverless_rule", message)


def env_key(key: str) -> str:
    if not _KEY.match(key) or len(key) > MAX_KEY_CHARS:
        raise _rule(
            f"variable name {key[:70]!r} must match ^[A-Za-z][A-Za-z0-9_]*$ "
            f"(at most {MAX_KEY_CHARS} characters)"
        )
    if key.upper().startswith(RESERVED_PREFIXES):
        raise _rule(
            f"variable name {key!r} uses a prefix SCF reserves ({', '.join(RESERVED_PREFIXES)})"
        )
    return key


def check_variable_value(value: str) -> str:
    """Only `${env:NAME}` may appear inside `${...}`; anything else is a typo or another tool's
    syntax that would otherwise reach the function as literal text."""
    for token in _ANY_REF.findall(value):
        if not _ENV_REF.fullmatch(token):
            raise _rule(f"{token[:40]!r}: the only variable syntax is ${{env:NAME}}")
    return value


def references(value: str) -> list[str]:
    return _ENV_REF.findall(value)


def check_environment(variables: Mapping[str, str]) -> list[str]:
    """Problems of the whole mapping: literal secrets, and the size known before resolution."""
    found = [
        f"{key}: looks like a secret, so its value must be ${{env:{key}}} (no secret in this file)"
        for key, value in variables.items()
        if _SECRET_NAME.search(key) and not references(value)
    ]
    literal_bytes = sum(_size(key, _ENV_REF.sub("", value)) for key, value in variables.items())
    if literal_bytes > MAX_TOTAL_BYTES:
        found.append(f"the variables take {literal_bytes} bytes; SCF allows {MAX_TOTAL_BYTES}")
    return found


def resolve(variables: Mapping[str, str], environ: Mapping[str, str]) -> ResolvedEnvironment:
    """Substitute every `${env:NAME}`; raise UnresolvedVariables naming each unset NAME, and
    ValueError when the result is over SCF's 4 KB (the message names sizes, never values)."""
    missing: dict[str, list[str]] = {}
    values: dict[str, str] = {}
    for key, template in variables.items():
        unset = [name for name in references(template) if name not in environ]
        if unset:
            missing[key] = unset
            continue
        values[key] = _ENV_REF.sub(lambda m: environ[m.group(1)], template)
    if missing:
        raise UnresolvedVariables(missing, values)
    empty = tuple(sorted(key for key, value in values.items() if value == ""))
    kept = {key: value for key, value in sorted(values.items()) if value != ""}
    total = sum(_size(key, value) for key, value in kept.items())
    if total > MAX_TOTAL_BYTES:
        raise ValueError(
            f"the resolved environment takes {total} bytes (names plus values); "
            f"SCF allows {MAX_TOTAL_BYTES}"
        )
    return ResolvedEnvironment(kept, empty)


def _size(key: str, value: str) -> int:
    # SCF does not document how it counts; names plus values in UTF-8 is the natural reading.
    return len(key.encode("utf-8")) + len(value.encode("utf-8"))
