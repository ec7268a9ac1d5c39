"""The config file as YAML: safe, dates kept as text (SES wants strings), duplicate keys refused.

PyYAML is imported here only, and only when a YAML file is read: the SCF zip carries the config
as JSON (`sesrelay package` converts it) and no PyYAML at all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sesrelay.errors import ConfigError, ConfigProblem


def parse_yaml(path: Path, text: str) -> object:
    """`text`, the content of `path`, parsed; ConfigError names the line of a mistake."""
    try:
        import yaml
    except ImportError:
        message = f"{path}: PyYAML is not installed (pip install 'sesrelay[config]')"
        raise ConfigError([ConfigProblem("", message)]) from None
    try:
        return yaml.load(text, Loader=_loader())  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        reason = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError([ConfigProblem("", f"{path}: {reason}{where}")]) from None


def _loader() -> type[Any]:
    import yaml

    class Loader(yaml.SafeLoader):
        """Safe YAML that keeps dates as text (SES wants strings) and refuses duplicate keys."""

        def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
            seen: set[object] = set()
            for key_node, _value in node.value:
                key = self.construct_object(key_node, deep=deep)
                if isinstance(key, (str, int, float, bool)) and key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"duplicate key {str(key)[:64]!r}", key_node.start_mark
                    )
                seen.add(key)
            return super().construct_mapping(node, deep=deep)

    timestamp = "tag:yaml.org,2002:timestamp"
    Loader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != timestamp]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    return Loader
