"""`sesrelay config check`: every problem of a config file at once, as the function would meet
them with a given environment (secrets set, expressions that compile, jobs that pass the SES rules).

A development tool: the function only loads the file (config.model), so the zip leaves this out.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TextIO

from pydantic import ValidationError

from sesrelay.config.model import (
    FINISH_CAMPAIGNS,
    ConfigError,
    ConfigProblem,
    JobConfig,
    SesEventsConfig,
    WebhookSource,
    load_config,
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
from sesrelay.settings import Settings, env_name
from sesrelay.webhooks.mapping import compile_mapping
from sesrelay.webhooks.standard import secret_key

#: The SES events token is the only guard of the unsigned SES callbacks: shorter is guessable.
MIN_TOKEN_CHARS = 16
#: A fixed tick (a Wednesday, the longest weekday name) for checking jobs offline.
SAMPLE_TICK = datetime(2026, 1, 7, 1, 0, 0, tzinfo=timezone.utc)


def check_config(path: Path, environ: Mapping[str, str]) -> list[ConfigProblem]:
    """Every problem of the config at `path`, as the function would meet them with `environ`.

    Shape problems come first; then each job and source that has the right shape is checked in
    depth, so one broken entry does not hide the problems of the others.
    """
    try:
        data = read_config_data(path)
    except ConfigError as exc:
        return exc.problems
    problems: list[ConfigProblem] = []
    try:
        parse_config(data)
    except ConfigError as exc:
        problems += exc.problems
    if not isinstance(data, dict):
        return problems
    settings, env_problems = _settings(environ)
    problems += env_problems
    for name, raw in _entries(data, "jobs"):
        try:
            job = JobConfig.model_validate(raw)
        except ValidationError:
            continue  # already reported with the file's shape
        problems += _job_problems(name, job, settings)
    for name, raw in _entries(data, "webhooks"):
        try:
            source = WebhookSource.model_validate(raw)
        except ValidationError:
            continue
        problems += _webhook_problems(name, source, environ)
    return problems + _ses_events_problems(data.get("ses_events"), environ)


def run_config_check(path: Path, environ: Mapping[str, str], out: TextIO) -> int:
    """`sesrelay config check`: one line per problem, then a summary; 1 if any problem."""
    problems = check_config(path, environ)
    for problem in problems:
        print(f"{problem.path}: {problem.message}" if problem.path else problem.message, file=out)
    if problems:
        print(f"{len(problems)} problem(s) in {path}", file=out)
        return 1
    config = load_config(path)
    print(f"ok: {len(config.jobs)} jobs, {len(config.webhooks)} webhook sources", file=out)
    return 0


def _entries(data: Mapping[str, Any], section: str) -> list[tuple[str, object]]:
    entries = data.get(section)
    return [(str(k), v) for k, v in entries.items()] if isinstance(entries, dict) else []


def _settings(environ: Mapping[str, str]) -> tuple[Settings | None, list[ConfigProblem]]:
    """The function's settings from `environ` (allowed senders, Simple), or why they fail."""
    try:
        return Settings(environ=environ), []
    except ValidationError as exc:
        problems = [
            ConfigProblem("", f"environment variable {env_name(str(e['loc'][0]))}: {e['msg']}")
            for e in exc.errors(include_url=False)
        ]
        return None, problems


def _env_problems(path: str, names: list[str], environ: Mapping[str, str]) -> list[ConfigProblem]:
    problems = []
    for name in names:
        value = environ.get(name)
        if value is None:
            problems.append(ConfigProblem(path, f"environment variable {name} is not set"))
        elif not value.strip():
            problems.append(ConfigProblem(path, f"environment variable {name} is empty"))
    return problems


def _job_problems(name: str, job: JobConfig, settings: Settings | None) -> list[ConfigProblem]:
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
    if job.receiver_group is not None:
        params["ReceiverId"] = 1  # resolved at run time
    prefix = f"jobs.{name}.params"
    return _ses_problems(prefix, job.action, params, settings) + _message_size_problems(
        prefix, job.action, params
    )


def _ses_problems(
    prefix: str, action: str, params: dict[str, Any], settings: Settings | None
) -> list[ConfigProblem]:
    """The SES rules and the sender policy, as the function applies them to the rendered job."""
    allow_simple = settings is not None and settings.allow_simple
    context = {CONTEXT_ALLOW_SIMPLE: allow_simple}  # no "now": a past BeginTime is not judged
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
        sending.check_senders(parsed, settings.allowed_senders if settings else [])
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
    name: str, source: WebhookSource, environ: Mapping[str, str]
) -> list[ConfigProblem]:
    prefix = f"webhooks.{name}"
    problems = _env_problems(f"{prefix}.secret_env", source.secret_env, environ)
    if source.scheme == "standard-webhooks":
        for env in source.secret_env:
            value = environ.get(env, "")
            if value.strip():
                try:
                    secret_key(value)
                except ValueError as exc:
                    problems.append(ConfigProblem(f"{prefix}.secret_env", f"{env}: {exc}"))
    try:
        compile_mapping(source)
    except ConfigError as exc:
        problems += [ConfigProblem(f"{prefix}.{p.path}", p.message) for p in exc.problems]
    return problems


def _ses_events_problems(raw: object, environ: Mapping[str, str]) -> list[ConfigProblem]:
    if raw is None:
        return []
    try:
        events = SesEventsConfig.model_validate(raw)
    except ValidationError:
        return []  # already reported with the file's shape
    problems = _env_problems("ses_events.token_env", [events.token_env], environ)
    token = environ.get(events.token_env, "").strip()
    if token and len(token) < MIN_TOKEN_CHARS:
        message = (
            f"{events.token_env} is shorter than {MIN_TOKEN_CHARS} characters; the token is "
            "the only guard of the unsigned SES callbacks: use a long random value"
        )
        problems.append(ConfigProblem("ses_events.token_env", message))
    return problems
