"""Reading serverless.yml into the model: safe YAML, and every validation problem reported with
the key path it concerns (`inputs.events[1].timer.parameters.cronExpression: ...`)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from sesrelay.deploy.serverless_model import ServerlessFile

#: Keys of Tencent's component that sesrelay deploy deliberately does not manage.
_UNMANAGED_INPUTS = frozenset(
    {
        "layers", "cfs", "eip", "publicAccess", "tags", "deadLetter",
        "asyncRunEnable", "traceEnable", "initTimeout", "enableRoleAuth", "installDependency",
        "imageConfig", "l5Enable", "image", "instanceConcurrencyConfig",
    }
)  # fmt: skip
_OTHER_EVENTS = frozenset({"cos", "cmq", "ckafka", "cls", "mps", "clb"})
_FRAMEWORK_KEYS = frozenset({"service", "provider", "functions", "plugins", "package"})
_TYPE_MESSAGES = {
    "string_type": "must be a string (quote it)",
    "int_type": "must be an integer",
    "bool_type": "must be true or false",
    "dict_type": "must be a mapping",
    "model_type": "must be a mapping",
    "model_attributes_type": "must be a mapping",
    "tuple_type": "must be a list",
    "list_type": "must be a list",
    "missing": "is required",
}


@dataclass(frozen=True)
class Problem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class ServerlessFileError(Exception):
    """serverless.yml cannot be used; `problems` names every key at fault."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        self.problems = list(problems)
        super().__init__(f"{source}: {len(self.problems)} problem(s)")

    def lines(self) -> list[str]:
        return [f"{self.source}: {problem}" for problem in self.problems]


def load_serverless(path: Path, jobs: Collection[str] | None = None) -> ServerlessFile:
    """The validated file; `jobs` (the job names of sesrelay.yaml) lets timer arguments be
    checked against the jobs that exist, and is skipped when None."""
    return parse_serverless(read_yaml(path), jobs, source=str(path))


def parse_serverless(
    data: object, jobs: Collection[str] | None = None, source: str = "serverless.yml"
) -> ServerlessFile:
    context = {"jobs": frozenset(jobs)} if jobs is not None else {}
    try:
        return ServerlessFile.model_validate(data, context=context)
    except ValidationError as exc:
        raise ServerlessFileError(source, problems_of(exc)) from None


def problems_of(exc: ValidationError) -> list[Problem]:
    found = []
    for err in exc.errors(include_url=False, include_input=False):
        loc = list(err["loc"])
        found.append(Problem(_path(loc), _message(err["type"], str(err["msg"]), loc)))
    return found


def read_yaml(path: Path) -> object:
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ServerlessFileError(
            str(path), [Problem("", f"cannot read: {exc.strerror}")]
        ) from None
    try:
        return yaml.load(text, Loader=_loader())  # noqa: S506 - _loader() is a SafeLoader
    except yaml.YAMLError as exc:
        raise ServerlessFileError(str(path), [Problem("", f"not valid YAML: {exc}")]) from None


def _loader() -> type[Any]:
    import yaml

    class Loader(yaml.SafeLoader):
        """SafeLoader that refuses duplicate keys (YAML would silently keep the last one)."""

        def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
            seen: set[object] = set()
            for key_node, _value in node.value:
                key = self.construct_object(key_node, deep=deep)
                if isinstance(key, (str, int, bool)) and key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"duplicate key {str(key)[:64]!r}", key_node.start_mark
                    )
                seen.add(key)
            return super().construct_mapping(node, deep=deep)

    return Loader


def _path(loc: list[int | str]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part != "[key]":
            out += f".{part}" if out else str(part)
    return out


def _message(kind: str, msg: str, loc: list[int | str]) -> str:
    key = str(loc[-1]) if loc else ""
    if kind == "extra_forbidden":
        if len(loc) == 1 and key in _FRAMEWORK_KEYS:
            return (
                "belongs to the Serverless Framework v1/v3 format; this file uses the component "
                "format (component: scf, inputs: ...)"
            )
        if loc[:1] == ["inputs"] and len(loc) == 2 and key in _UNMANAGED_INPUTS:
            return "is a component setting sesrelay deploy does not manage; remove it"
        if len(loc) == 4 and loc[:2] == ["inputs", "events"] and key in _OTHER_EVENTS:
            return "sesrelay deploy manages only timer and http (function URL) events"
        return "is not a known key here"
    if kind == "literal_error":
        return msg.replace("Input should be", "must be")
    if kind in _TYPE_MESSAGES:
        return _TYPE_MESSAGES[kind]
    if kind in ("greater_than_equal", "less_than_equal", "string_too_long", "string_too_short"):
        return msg.replace("Input should be", "must be").replace("String should", "must")
    return msg
