"""Every problem of a config file at once, as the function would meet them: the file's shape, then
each job and source in depth (jobs that pass the SES rules, expressions that compile, mappings
that can yield a complete send, TemplateData that matches the `templates/` folder), and the
variables the file names.

Each entry is checked part by part, so one broken part (an unknown scheme, a typo in a key) hides
neither the other problems of that entry nor those of the others.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from sesrelay.config.check.environment import Environment, Need, State, simple_need
from sesrelay.config.check.keys import api_key_problems
from sesrelay.config.check.send import send_problems
from sesrelay.config.check.templates import (
    Coverage,
    TemplateCheck,
    default_folder,
    job_template,
    mapping_template,
)
from sesrelay.config.fields import EnvName, SecretEnvNames
from sesrelay.config.model import (
    FINISH_CAMPAIGNS,
    ConfigError,
    ConfigProblem,
    JobConfig,
    SendSpec,
    parse_config,
    read_config_data,
)
from sesrelay.config.ticks import render_job_params
from sesrelay.errors import InvalidInput, RelayError
from sesrelay.events import MAX_TIMER_MESSAGE_BYTES
from sesrelay.sending import pipeline as sending
from sesrelay.ses.fields import CONTEXT_ALLOW_SIMPLE
from sesrelay.ses.models import BatchSendEmailParams, SendEmailParams
from sesrelay.ses.validation import parse_request
from sesrelay.template_names import TEMPLATE_NAME
from sesrelay.webhooks.mapping import compile_mapping
from sesrelay.webhooks.standard import secret_key

#: The SES events token is the only guard of the unsigned SES callbacks: shorter is guessable.
MIN_TOKEN_CHARS = 16
#: A fixed tick (a Wednesday, the longest weekday name) for checking jobs offline.
SAMPLE_TICK = datetime(2026, 1, 7, 1, 0, 0, tzinfo=timezone.utc)
_SECRET_ENV: TypeAdapter[list[str]] = TypeAdapter(
    SecretEnvNames, config=ConfigDict(strict=True, hide_input_in_errors=True)
)
_ENV_NAME: TypeAdapter[str] = TypeAdapter(EnvName, config=ConfigDict(strict=True))
ModelT = TypeVar("ModelT", bound=BaseModel)


@dataclass(frozen=True)
class ConfigReport:
    """What the check found in one file, judged with one environment."""

    #: the file's problems, and those of variables that are set (a short token, ...)
    problems: list[ConfigProblem]
    #: the variables the file names, each with the path that names it
    needs: list[Need] = field(default_factory=list)
    #: the needs whose variable holds no value in the environment checked
    unmet: list[tuple[Need, State]] = field(default_factory=list)
    #: the names of `jobs:`, None when the file could not be read
    job_names: frozenset[str] | None = None
    sources: int = 0
    #: how many template sends were compared with the templates folder
    templates: Coverage | None = None

    def with_env(self) -> list[ConfigProblem]:
        """The problems, each unmet need included (`config check --env`)."""
        return self.problems + [need.problem(state) for need, state in self.unmet]


@dataclass(frozen=True)
class _Source:
    """The parts of a webhook source that passed their own checks (webhooks.mapping reads it)."""

    when: str | None
    send: SendSpec


def inspect_config(
    path: Path, environ: Mapping[str, str], *, templates: Path | None = None
) -> ConfigReport:
    """The config at `path`, checked with `environ` (see ConfigReport); TemplateData is compared
    with the `templates` folder (default: `templates/` beside the file)."""
    try:
        data = read_config_data(path)
    except ConfigError as exc:
        return ConfigReport(exc.problems)
    problems: list[ConfigProblem] = []
    try:
        parse_config(data)
    except ConfigError as exc:
        problems += exc.problems
    if data is not None and not isinstance(data, dict):
        return ConfigReport(problems)
    data = data or {}
    env = Environment(environ)
    problems += env.problems
    check = TemplateCheck(templates if templates is not None else default_folder(path))
    needs: list[Need] = []
    jobs, sources = _entries(data, "jobs"), _entries(data, "webhooks")
    for name, raw in jobs:
        job = _lenient(JobConfig, raw)
        if job is not None:
            problems += _job_problems(name, job, env, check)
            if isinstance(job.params.get("Simple"), dict):
                needs.append(simple_need(f"jobs.{name}.params.Simple"))
    for name, raw in sources:
        found, named = _webhook_problems(name, raw, env, check)
        problems += found
        needs += named
    found, named = _ses_events_problems(data.get("ses_events"), env)
    problems += found
    needs += named
    found, named = api_key_problems(data.get("api_keys"), env)
    problems += found
    needs += named
    problems += check.problems
    names = frozenset(name for name, _ in jobs)
    return ConfigReport(problems, needs, env.unmet(needs), names, len(sources), check.coverage)


def check_config(
    path: Path,
    environ: Mapping[str, str],
    *,
    require_env: bool = False,
    templates: Path | None = None,
) -> list[ConfigProblem]:
    """Every problem of the config at `path`; with `require_env`, every variable it names must
    be set too (unset ones are otherwise only needs, see ConfigReport)."""
    report = inspect_config(path, environ, templates=templates)
    return report.with_env() if require_env else report.problems


def _entries(data: Mapping[str, Any], section: str) -> list[tuple[str, object]]:
    entries = data.get(section)
    return [(str(k), v) for k, v in entries.items()] if isinstance(entries, dict) else []


def _lenient(model: type[ModelT], raw: object) -> ModelT | None:
    """`raw` as `model`, unknown keys left out (reported with the file's shape); None if the
    known keys fail too (reported there as well)."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        unknown = {
            str(e["loc"][0]) for e in exc.errors() if e["type"] == "extra_forbidden" and e["loc"]
        }
    if not unknown or not isinstance(raw, dict):
        return None
    try:
        return model.model_validate({k: v for k, v in raw.items() if str(k) not in unknown})
    except ValidationError:
        return None


def _job_problems(
    name: str, job: JobConfig, env: Environment, check: TemplateCheck
) -> list[ConfigProblem]:
    if job.action == FINISH_CAMPAIGNS:
        if job.params or job.receiver_group is not None:
            return [ConfigProblem(f"jobs.{name}", "FinishCampaigns takes no params")]
        return []
    if not job.params:
        return [ConfigProblem(f"jobs.{name}.params", f"{job.action} needs its SES parameters")]
    try:
        params = render_job_params(name, job, SAMPLE_TICK)
    except InvalidInput as exc:
        return [ConfigProblem(error.field, error.message) for error in exc.errors]
    prefix = f"jobs.{name}.params"
    found = check.compare(prefix, job_template(params))
    if job.receiver_group is not None:
        params["ReceiverId"] = 1  # resolved at run time
    template = params.get("Template")
    if isinstance(template, dict) and template.pop(TEMPLATE_NAME, None) is not None:
        template["TemplateID"] = 1  # looked up by name at run time
    found += _ses_problems(prefix, job.action, params, env)
    return found + _message_size_problems(prefix, job.action, params)


def _ses_problems(
    prefix: str, action: str, params: dict[str, Any], env: Environment
) -> list[ConfigProblem]:
    """The SES rules and the sender policy, as the function applies them to the rendered job."""
    context = {CONTEXT_ALLOW_SIMPLE: env.allow_simple}  # no "now": a past BeginTime is not judged
    parsed: SendEmailParams | BatchSendEmailParams
    try:
        if action == "SendEmail":
            parsed = parse_request(SendEmailParams, params, context)
        else:
            parsed = parse_request(BatchSendEmailParams, params, context)
    except InvalidInput as exc:
        problems = []
        for error in exc.errors:
            message = error.message
            if error.field == "ReceiverId" and message == "is required":
                message += " (or set receiver_group to a recipient group name)"
            problems.append(ConfigProblem(f"{prefix}.{error.field}".rstrip("."), message))
        return problems
    try:
        sending.check_senders(parsed, env.allowed_senders)
    except RelayError as exc:
        return [ConfigProblem(f"{prefix}.FromEmailAddress", exc.message)]
    return []


def _message_size_problems(prefix: str, action: str, params: dict[str, Any]) -> list[ConfigProblem]:
    """The job written as an inline timer Message ({"action", "params"}) must fit SCF's limit."""
    try:
        inline = json.dumps(
            {"action": action, "params": params}, ensure_ascii=False, separators=(",", ":")
        )
    except (TypeError, ValueError):
        return [ConfigProblem(prefix, "must hold only JSON values")]
    size = len(inline.encode("utf-8"))
    if size <= MAX_TIMER_MESSAGE_BYTES:
        return []
    message = (
        f"as an inline timer Message this job is {size} bytes; SCF allows "
        f"{MAX_TIMER_MESSAGE_BYTES} (the SCF timer Message limit): shorten it"
    )
    return [ConfigProblem(prefix, message)]


def _webhook_problems(
    name: str, raw: object, env: Environment, check: TemplateCheck
) -> tuple[list[ConfigProblem], list[Need]]:
    """A source's secrets and its mapping, each checked if its own shape is right, whatever the
    state of the rest of the source (an unknown scheme, an unknown key)."""
    if not isinstance(raw, dict):
        return [], []
    prefix = f"webhooks.{name}"
    problems: list[ConfigProblem] = []
    needs: list[Need] = []
    try:
        names = _SECRET_ENV.validate_python(raw.get("secret_env"))
    except ValidationError:
        names = []  # reported with the file's shape
    for variable in names:
        needs.append(Need(variable, f"{prefix}.secret_env"))
        value = env.value(variable)
        if value is not None and raw.get("scheme") == "standard-webhooks":
            try:
                secret_key(value)
            except ValueError as exc:
                problems.append(ConfigProblem(f"{prefix}.secret_env", f"{variable}: {exc}"))
    when = raw.get("when")
    try:
        send = SendSpec.model_validate(raw.get("send"))
    except ValidationError:
        return problems, needs
    source = _Source(when if isinstance(when, str) and when else None, send)
    try:
        compile_mapping(source)
    except ConfigError as exc:
        problems += [ConfigProblem(f"{prefix}.{p.path}", p.message) for p in exc.problems]
    found, named = send_problems(f"{prefix}.send", send, env)
    found += check.compare(f"{prefix}.send", mapping_template(send.fields))
    return problems + found, needs + named


def _ses_events_problems(raw: object, env: Environment) -> tuple[list[ConfigProblem], list[Need]]:
    """The SES events token: named (whatever the rest of the section), and long enough if set."""
    if not isinstance(raw, dict):
        return [], []
    try:
        name = _ENV_NAME.validate_python(raw.get("token_env"))
    except ValidationError:
        return [], []  # reported with the file's shape
    need = Need(name, "ses_events.token_env")
    token = env.value(name)
    if token is None or len(token.strip()) >= MIN_TOKEN_CHARS:
        return [], [need]
    message = (
        f"{name} is shorter than {MIN_TOKEN_CHARS} characters; the token is "
        "the only guard of the unsigned SES callbacks: use a long random value"
    )
    return [ConfigProblem("ses_events.token_env", message)], [need]
