"""Webhook delivery -> SES parameters, by the JMESPath expressions of a source's `send:` mapping.

Expressions run over `{"headers": {lower-case name: value}, "query": {...}, "body": ...}`, the
document `webhooks.document` builds from a delivery. In `send`, every string leaf is an
expression (literal text is a JMESPath raw string, `'like this'`); numbers and booleans are
literals; mappings and lists recurse. A null field or list item is left out. Besides the SES
fields, `Template.TemplateName` may stand in for `Template.TemplateID` (sesrelay.template_names).

A source is read through the small protocol below rather than the config model, so this module
sits below the config package (the config models import the verifiers of this package).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeAlias

from pydantic import BaseModel

from sesrelay.errors import ConfigError, ConfigProblem, FieldError, InvalidInput
from sesrelay.ses.batch_send_email import BatchSendEmailParams
from sesrelay.ses.data_types import Template
from sesrelay.ses.send_email import SendEmailParams
from sesrelay.ses.validation import model_in
from sesrelay.template_names import BOTH_GIVEN, TEMPLATE_NAME

ROOT_KEYS = ("headers", "query", "body")
_MODELS: dict[str, type[BaseModel]] = {
    "SendEmail": SendEmailParams,
    "BatchSendEmail": BatchSendEmailParams,
}
_LITERAL_HINT = "literal text is written in single quotes: 'text'"
#: AST nodes whose first child is read from the node's own input and the rest from its result.
_CHAINS = {
    "subexpression",
    "index_expression",
    "projection",
    "value_projection",
    "filter_projection",
    "pipe",
    "flatten",
}
#: AST nodes whose children all read the node's own input.
_SAME_INPUT = {
    "or_expression",
    "and_expression",
    "not_expression",
    "comparator",
    "multi_select_list",
    "multi_select_dict",
    "key_val_pair",
    "function_expression",
}


class SendFields(Protocol):
    """A source's `send:` (config.model.SendSpec): the action and its SES fields as written."""

    @property
    def action(self) -> str: ...

    @property
    def fields(self) -> dict[str, Any]: ...


class MappingSource(Protocol):
    """What compiling needs of a webhook source (config.model.WebhookSource)."""

    @property
    def when(self) -> str | None: ...

    @property
    def send(self) -> SendFields: ...


def _jmespath() -> Any:
    """jmespath, imported on first use (cold start); it ships no type hints."""
    import jmespath  # type: ignore[import-untyped,unused-ignore]

    return jmespath


@dataclass(frozen=True)
class _Expression:
    field: str
    compiled: Any  # jmespath.parser.ParsedResult

    def evaluate(self, doc: Mapping[str, Any]) -> Any:
        errors: list[FieldError] = []
        value = self.evaluate_into(doc, errors)
        if errors:
            raise InvalidInput(errors)
        return value

    def evaluate_into(self, doc: Mapping[str, Any], errors: list[FieldError]) -> Any:
        """The value, or None with the failure added to `errors`."""
        exceptions = _jmespath().exceptions
        try:
            return self.compiled.search(doc)
        except exceptions.JMESPathTypeError as exc:  # its str() shows the value: not echoed
            expected = ", ".join(str(kind) for kind in exc.expected_types)
            message = f"in {exc.function_name}(): expected {expected}, got {exc.actual_type}"
        except (exceptions.ArityError, exceptions.UnknownFunctionError) as exc:
            message = str(exc).splitlines()[0]  # names and counts only, no values
        except (exceptions.JMESPathError, TypeError, ValueError) as exc:
            message = f"{type(exc).__name__} while evaluating"
        errors.append(FieldError(self.field, f"expression failed: {message}"))
        return None


@dataclass(frozen=True)
class _Literal:
    value: object


_Node: TypeAlias = "_Expression | _Literal | dict[str, _Node] | list[_Node]"


def _render(node: _Node, doc: Mapping[str, Any], errors: list[FieldError], nulls: list[str]) -> Any:
    """The node's value; the path of every expression that came out null is added to `nulls`."""
    if isinstance(node, _Expression):
        value = node.evaluate_into(doc, errors)
        if value is None:
            nulls.append(node.field)
        return value
    if isinstance(node, _Literal):
        return node.value
    if isinstance(node, dict):
        rendered = {key: _render(child, doc, errors, nulls) for key, child in node.items()}
        kept = {key: value for key, value in rendered.items() if value is not None}
        return kept or None
    items = [_render(child, doc, errors, nulls) for child in node]
    return [item for item in items if item is not None] or None


def _truthy(value: object) -> bool:
    """JMESPath truth: false, null, "", [] and {} are false; every number (even 0) is true."""
    if value is None or value is False:
        return False
    return not (isinstance(value, (str, list, dict)) and not value)


class CompiledMapping:
    """One webhook source's `when` filter and `send` mapping, compiled once per warm instance."""

    def __init__(self, action: str, when: _Expression | None, fields: dict[str, _Node]) -> None:
        self.action = action
        self._when = when
        self._fields = fields

    def matches(self, doc: Mapping[str, Any]) -> bool:
        """Whether the delivery should send (no `when`: always). InvalidInput if `when` fails."""
        return self._when is None or _truthy(self._when.evaluate(doc))

    def render(self, doc: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        """(action, raw SES params); fields that come out null are left out.

        InvalidInput names every field whose expression failed (`send.Subject`, ...).
        """
        action, params, _ = self.render_traced(doc)
        return action, params

    def render_traced(self, doc: Mapping[str, Any]) -> tuple[str, dict[str, Any], list[str]]:
        """`render`, plus the paths (`send.Template.TemplateData.name`) that came out null, so a
        field the send then lacks can be traced to the expression that produced nothing."""
        errors: list[FieldError] = []
        nulls: list[str] = []
        params = {key: _render(node, doc, errors, nulls) for key, node in self._fields.items()}
        if errors:
            raise InvalidInput(errors)
        kept = {key: value for key, value in params.items() if value is not None}
        return self.action, kept, nulls


def compile_mapping(source: MappingSource) -> CompiledMapping:
    """Compile a source's `when` and `send`; ConfigError lists every bad expression and field.

    Problem paths are relative to the source: `when`, `send.Subject`, `send.Template.TemplateID`.
    """
    problems: list[ConfigProblem] = []
    when = None
    if source.when is not None:
        when = _compile("when", source.when, problems)
    model = _MODELS[source.send.action]
    fields = {
        key: _compile_node(f"send.{key}", value, model.model_fields.get(key), problems)
        for key, value in source.send.fields.items()
    }
    for key in source.send.fields:
        if key not in model.model_fields:
            problems.append(_unknown_field(f"send.{key}", model, source.send.action))
    if problems:
        raise ConfigError(problems)
    return CompiledMapping(source.send.action, when, fields)


def _unknown_field(path: str, model: type[BaseModel], owner: str) -> ConfigProblem:
    name = path.rsplit(".", 1)[-1]
    known = list(model.model_fields)
    close = [field for field in known if field.lower() == name.lower()]
    close = close or difflib.get_close_matches(name, known, n=1)
    hint = f"; did you mean {close[0]!r}? (names are case-sensitive)" if close else ""
    return ConfigProblem(path, f"unknown field {name[:64]!r}: not a {owner} parameter{hint}")


def _compile_node(path: str, value: object, field: Any, problems: list[ConfigProblem]) -> _Node:
    model = model_in(field.annotation) if field is not None else None
    if isinstance(value, str):
        return _compile(path, value, problems) or _Literal(None)
    if isinstance(value, (bool, int, float)):
        return _Literal(value)
    if isinstance(value, dict):
        nodes: dict[str, _Node] = {}
        by_name = model is Template and TEMPLATE_NAME in value  # the relay's own field
        if by_name and "TemplateID" in value:
            problems.append(ConfigProblem(f"{path}.{TEMPLATE_NAME}", BOTH_GIVEN))
        for key, item in value.items():
            child = model.model_fields.get(str(key)) if model is not None else None
            if model is not None and child is None and not (by_name and key == TEMPLATE_NAME):
                owner = str(getattr(model, "ses_name", "")) or model.__name__
                problems.append(_unknown_field(f"{path}.{key}", model, owner))
            nodes[str(key)] = _compile_node(f"{path}.{key}", item, child, problems)
        return nodes
    if isinstance(value, list):
        return [_compile_node(f"{path}.{i}", item, field, problems) for i, item in enumerate(value)]
    what = "has no value" if value is None else f"is a {type(value).__name__}"
    problems.append(ConfigProblem(path, f"{what}: write a JMESPath expression ({_LITERAL_HINT})"))
    return _Literal(None)


def _compile(path: str, text: str, problems: list[ConfigProblem]) -> _Expression | None:
    jmespath = _jmespath()
    exceptions = jmespath.exceptions
    try:
        compiled = jmespath.compile(text)
    except exceptions.EmptyExpressionError:
        problems.append(ConfigProblem(path, "is empty: write a JMESPath expression"))
        return None
    except exceptions.JMESPathError as exc:
        if isinstance(exc, exceptions.IncompleteExpressionError):
            reason = "incomplete expression"
        elif isinstance(exc, exceptions.LexerError):
            reason = f"{exc.message} at column {exc.lexer_position}"
        elif isinstance(exc, exceptions.ParseError):
            reason = f"unexpected {exc.token_value!r} at column {exc.lex_position}"
        else:
            reason = str(exc).splitlines()[0]
        problems.append(ConfigProblem(path, f"invalid JMESPath: {reason} ({_LITERAL_HINT})"))
        return None
    problems += [ConfigProblem(path, message) for message in _lint(compiled.parsed, True)]
    return _Expression(path, compiled)


def _lint(node: object, at_root: bool) -> list[str]:
    """Mistakes jmespath only finds at run time: unknown functions, wrong argument counts, and
    names read from the document root other than headers, query and body (always null)."""
    if not isinstance(node, dict):
        return []
    kind, children = node.get("type"), [c for c in node.get("children", []) if isinstance(c, dict)]
    found: list[str] = []
    if kind == "field" and at_root and node.get("value") not in ROOT_KEYS:
        name = str(node.get("value"))[:64]
        found.append(
            f"reads {name!r} from the top of the document, which holds only headers, query "
            f"and body, so it is always null; {_LITERAL_HINT}"
        )
    if kind == "function_expression":
        found += _check_call(str(node.get("value")), len(children))
    if kind in _CHAINS:
        for index, child in enumerate(children):
            found += _lint(child, at_root and index == 0)
    elif kind in _SAME_INPUT:
        for child in children:
            found += _lint(child, at_root and child.get("type") != "expref")
    else:
        for child in children:
            found += _lint(child, False)
    return found


def _check_call(name: str, count: int) -> list[str]:
    spec = _jmespath().functions.Functions.FUNCTION_TABLE.get(name)
    if spec is None:
        return [f"unknown function {name[:64]}()"]
    signature = spec["signature"]
    variadic = bool(signature) and bool(signature[-1].get("variadic"))
    if (count < len(signature)) if variadic else (count != len(signature)):
        wanted = f"at least {len(signature)}" if variadic else str(len(signature))
        return [f"{name}() takes {wanted} argument(s), not {count}"]
    return []
