"""The environment as the config check judges it: the variables the file names (secrets, the
Simple switch), whether each is set, and the function's settings read from the same environment.

A variable that is set is always judged (a short token, a malformed secret, a sender outside
SESRELAY_ALLOWED_SENDERS). One that is unset is a *need*: information for `sesrelay config
check`, a problem for `sesrelay config check --env` and for `sesrelay deploy`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from pydantic import ValidationError

from sesrelay.config.model import ConfigProblem
from sesrelay.settings import Settings, env_name

#: The variable that lets a job or mapping send Simple content.
ALLOW_SIMPLE = env_name("allow_simple")

State = Literal["set", "unset", "empty"]


@dataclass(frozen=True)
class Need:
    """A variable the function needs, named at `path` of the file; `value`: what it must hold."""

    name: str
    path: str
    value: str | None = None

    @property
    def shown(self) -> str:
        """`NAME`, or `NAME=value` for a switch."""
        return f"{self.name}={self.value}" if self.value else self.name

    def problem(self, state: State) -> ConfigProblem:
        """The need, unmet because the variable is `state` (unset or empty), as a problem."""
        which = "not set" if state == "unset" else "empty"
        if self.value:
            message = f"needs environment variable {self.shown}, and {self.name} is {which}"
        else:
            message = f"environment variable {self.name} is {which}"
        return ConfigProblem(self.path, message)


class Environment:
    """One environment (the shell's, or the function's as a deploy would set it), for checks."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ
        self.problems: list[ConfigProblem] = []
        self.settings: Settings | None = None
        try:
            self.settings = Settings(environ=environ)
        except ValidationError as exc:
            self.problems = [
                ConfigProblem("", f"environment variable {env_name(str(e['loc'][0]))}: {e['msg']}")
                for e in exc.errors(include_url=False, include_input=False)
            ]

    def state(self, name: str) -> State:
        """Whether `name` holds a value; a blank value counts as none (SCF drops empty ones)."""
        value = self.environ.get(name)
        if value is None:
            return "unset"
        return "set" if value.strip() else "empty"

    def value(self, name: str) -> str | None:
        """The value of `name`, or None when unset or blank."""
        return self.environ[name] if self.state(name) == "set" else None

    @property
    def allow_simple(self) -> bool:
        """Simple content is judged allowed unless the switch is set to false: unset, it is a
        need of whatever uses Simple, reported as such."""
        if self.state(ALLOW_SIMPLE) != "set":
            return True
        return self.settings is not None and self.settings.allow_simple

    @property
    def allowed_senders(self) -> list[str]:
        """SESRELAY_ALLOWED_SENDERS; empty (any verified sender) when unset or unreadable."""
        return self.settings.allowed_senders if self.settings is not None else []

    def unmet(self, needs: list[Need]) -> list[tuple[Need, State]]:
        """The needs whose variable holds no value, with its state."""
        found: list[tuple[Need, State]] = []
        for need in needs:
            state = self.state(need.name)
            if state != "set":
                found.append((need, state))
        return found


def simple_need(path: str) -> Need:
    """What content at `path` that uses Simple needs."""
    return Need(ALLOW_SIMPLE, path, "true")
