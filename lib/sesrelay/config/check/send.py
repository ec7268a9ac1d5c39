"""Whether a webhook source's `send:` mapping can yield a complete SES request, read statically.

Each field of the mapping is classed by what it can yield (webhooks.mapping renders it so):
never (absent, a `null` literal, or a mapping or list of such: left out of the request), a
constant (literals, raw strings such as `'Hello'`, and mappings and lists of only those), or
maybe (anything that reads the delivery). Then:

- a field SES requires (FromEmailAddress, Subject, ...; nested ones too, such as
  Template.TemplateID) that the mapping never sets, Template and Simple both never set, or, for
  SendEmail, no recipient field at all: every delivery would be refused, so it is a problem;
- constant fields are held to the SES rules and the sender allowlist as they stand;
- Simple content needs SESRELAY_ALLOW_SIMPLE=true: a need, and a problem if it is set otherwise.

A `Template.TemplateName` stands for the TemplateID it is looked up as when a delivery arrives.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from sesrelay.config.check.environment import Environment, Need, simple_need
from sesrelay.config.model import ConfigProblem, SendSpec
from sesrelay.errors import RelayError
from sesrelay.sending.pipeline import check_sender
from sesrelay.ses.fields import CONTEXT_ALLOW_SIMPLE
from sesrelay.ses.models import BatchSendEmailParams, SendEmailParams
from sesrelay.ses.send_email import SIMPLE_REFUSED
from sesrelay.ses.validation import model_in
from sesrelay.template_names import TEMPLATE_NAME

_MODELS: dict[str, type[BaseModel]] = {
    "SendEmail": SendEmailParams,
    "BatchSendEmail": BatchSendEmailParams,
}
_REFUSED = "every delivery would be refused (422)"
_SENDERS = ("FromEmailAddress", "HeaderFrom")
_EMPTY = "a mapping or list with nothing in it is left out"


class _Never:
    """The field is always left out of the request."""


class _Maybe:
    """The field depends on the delivery."""


@dataclass(frozen=True)
class _Constant:
    value: object


Yield = _Never | _Maybe | _Constant
NEVER, MAYBE = _Never(), _Maybe()


def classify(value: object) -> Yield:
    """What the mapping node `value` (as written in the file) can yield."""
    if isinstance(value, str):
        return _expression(value)
    if isinstance(value, (bool, int, float)):
        return _Constant(value)
    if isinstance(value, dict):
        return _combine({str(k): classify(v) for k, v in value.items()}, dict)
    if isinstance(value, list):
        return _combine({str(i): classify(v) for i, v in enumerate(value)}, list)
    return MAYBE  # not an expression: webhooks.mapping reports it; no second problem here


def constant_of(value: object) -> object | None:
    """The value the mapping node `value` always yields; None when it reads the delivery or is
    always left out."""
    part = classify(value) if value is not None else NEVER
    return part.value if isinstance(part, _Constant) else None


def _expression(text: str) -> Yield:
    import jmespath  # type: ignore[import-untyped,unused-ignore]

    try:
        parsed = jmespath.compile(text).parsed
    except jmespath.exceptions.JMESPathError:
        return MAYBE  # reported by webhooks.mapping
    if parsed.get("type") == "literal":
        value = parsed.get("value")
        return NEVER if value is None else _Constant(value)
    return MAYBE


def _combine(parts: dict[str, Yield], kind: type[dict[str, Any]] | type[list[Any]]) -> Yield:
    """A mapping or list drops its null members, and is itself null when none is left."""
    if any(isinstance(part, _Maybe) for part in parts.values()):
        return MAYBE
    kept = {k: p.value for k, p in parts.items() if isinstance(p, _Constant)}
    if not kept:
        return NEVER
    return _Constant(kept if kind is dict else list(kept.values()))


def _empty(part: Yield) -> bool:
    """Never yields a value, or always yields an empty one ("", [], {})."""
    if isinstance(part, _Never):
        return True
    return isinstance(part, _Constant) and part.value in ("", [], {})


def send_problems(
    prefix: str, send: SendSpec, env: Environment
) -> tuple[list[ConfigProblem], list[Need]]:
    """The problems of a source's `send:` at `prefix` (`webhooks.<name>.send`), and its needs."""
    model = _MODELS[send.action]
    fields, problems = _by_template_name(prefix, send.fields)
    parts = {name: classify(value) for name, value in fields.items() if name in model.model_fields}
    problems += _missing(prefix, model, fields, parts)
    if _empty(parts.get("Template", NEVER)) and _empty(parts.get("Simple", NEVER)):
        problems.append(
            ConfigProblem(
                f"{prefix}.Template",
                "is required unless Simple is given (SES MissingEmailContent), and this "
                f"mapping sets neither: {_REFUSED}",
            )
        )
    if send.action == "SendEmail" and all(
        _empty(parts.get(name, NEVER)) for name in ("Destination", "Cc", "Bcc")
    ):
        problems.append(
            ConfigProblem(
                f"{prefix}.Destination",
                "this mapping sets no recipient (Destination, Cc or Bcc; SES needs at least "
                f"one): {_REFUSED}",
            )
        )
    problems += _task_type_problems(prefix, parts)
    problems += _constant_problems(prefix, model, parts, env)
    simple = parts.get("Simple", NEVER)
    if _empty(simple):
        return problems, []
    if isinstance(simple, _Maybe) and not env.allow_simple:  # a constant one is judged above
        problems.append(ConfigProblem(f"{prefix}.Simple", SIMPLE_REFUSED))
    return problems, [simple_need(f"{prefix}.Simple")]


def _by_template_name(
    prefix: str, fields: dict[str, Any]
) -> tuple[dict[str, Any], list[ConfigProblem]]:
    """`fields` with a written Template.TemplateName standing for its TemplateID (a placeholder:
    the id is looked up at send time), and the name's own problems. Both written: left as they
    are (webhooks.mapping reports it)."""
    template = fields.get("Template")
    if not isinstance(template, dict) or TEMPLATE_NAME not in template or "TemplateID" in template:
        return fields, []
    name = classify(template[TEMPLATE_NAME])
    by_id = {key: value for key, value in template.items() if key != TEMPLATE_NAME}
    by_id["TemplateID"] = 1
    path = f"{prefix}.Template.{TEMPLATE_NAME}"
    problems = []
    if _empty(name):
        problems.append(ConfigProblem(path, f"never names a template: {_REFUSED}"))
    elif isinstance(name, _Constant) and not isinstance(name.value, str):
        problems.append(ConfigProblem(path, f"must be a template's name (text): {_REFUSED}"))
    return {**fields, "Template": by_id}, problems


def _missing(
    prefix: str, model: type[BaseModel], written: dict[str, Any], parts: dict[str, Yield]
) -> list[ConfigProblem]:
    """Required fields the mapping never sets, here and inside the mappings it writes out."""
    problems = []
    for name, field in model.model_fields.items():
        part = parts.get(name, NEVER)
        if field.is_required() and isinstance(part, _Never):
            message = f"is required, and this mapping never sets it: {_REFUSED}"
            problems.append(ConfigProblem(f"{prefix}.{name}", message))
        inner = model_in(field.annotation)
        value = written.get(name)
        if inner is None or not isinstance(part, _Maybe):
            continue  # constants are validated whole, by _constant_problems
        items = value if isinstance(value, list) else [value]
        for index, item in enumerate(items):
            if isinstance(item, dict):
                where = f"{prefix}.{name}" + (f".{index}" if isinstance(value, list) else "")
                nested = {str(k): classify(v) for k, v in item.items()}
                problems += _missing(where, inner, item, nested)
    return problems


def _task_type_problems(prefix: str, parts: dict[str, Yield]) -> list[ConfigProblem]:
    """BatchSendEmail: a constant TaskType 2 or 3 needs its TimedParam or CycleParam."""
    task_type = parts.get("TaskType")
    if not isinstance(task_type, _Constant):
        return []
    for wanted, field in ((2, "TimedParam"), (3, "CycleParam")):
        if task_type.value == wanted and isinstance(parts.get(field, NEVER), _Never):
            message = f"is required when TaskType is {wanted}, and this mapping never sets it"
            return [ConfigProblem(f"{prefix}.{field}", f"{message}: {_REFUSED}")]
    return []


def _constant_problems(
    prefix: str, model: type[BaseModel], parts: dict[str, Yield], env: Environment
) -> list[ConfigProblem]:
    """The SES rules of each field the mapping always sets to the same value, and the sender
    allowlist; rules across fields are left to the presence checks above."""
    constants = {name: p.value for name, p in parts.items() if isinstance(p, _Constant)}
    if not constants:
        return []
    failed: dict[str, list[ConfigProblem]] = {}
    try:
        model.model_validate(constants, context={CONTEXT_ALLOW_SIMPLE: env.allow_simple})
    except ValidationError as exc:
        for error in exc.errors(include_url=False, include_input=False):
            loc = [str(part) for part in error["loc"]]
            if error["type"] == "ses_cross_field" or not loc or loc[0] not in constants:
                continue
            message = error["msg"]
            if error["type"] == "missing":  # inside a constant mapping: written empty, or not
                message = f"is required, and this mapping never sets it ({_EMPTY}): {_REFUSED}"
            problem = ConfigProblem(".".join([prefix, *loc]), message)
            failed.setdefault(loc[0], []).append(problem)
    problems = [problem for found in failed.values() for problem in found]
    for name in _SENDERS:
        value = constants.get(name)
        if isinstance(value, str) and name not in failed:
            try:
                check_sender(value, env.allowed_senders)
            except RelayError as exc:
                message = exc.message.replace("FromEmailAddress", name, 1)
                problems.append(ConfigProblem(f"{prefix}.{name}", message))
    return problems
