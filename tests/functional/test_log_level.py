"""SESRELAY_LOG_LEVEL: INFO (the default) logs one JSON line per invocation; WARNING keeps only
problems; a value that is not a level is a configuration error naming the variable."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from sesrelay import logs
from sesrelay.runtime import Runtime
from sesrelay.settings import Settings

MakeRuntime = Callable[..., Runtime]
MakeEvent = Callable[..., dict[str, Any]]
CONTEXT = {"request_id": "scf-log-level", "time_limit_in_ms": 10_000}


@pytest.fixture(autouse=True)
def _restore_level() -> Iterator[None]:
    yield
    logs.set_level("INFO")  # the logger is process-wide: leave it as the other tests expect


def json_lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def test_the_default_level_logs_one_line_per_invocation(
    make_runtime: MakeRuntime, event: MakeEvent, capsys: pytest.CaptureFixture[str]
) -> None:
    runtime = make_runtime()
    capsys.readouterr()
    assert runtime.handle(event("http_post-emails"), CONTEXT)["statusCode"] == 202
    assert [line["message"] for line in json_lines(capsys.readouterr().out)] == ["invocation"]


def test_warning_keeps_only_problems(
    make_runtime: MakeRuntime, event: MakeEvent, capsys: pytest.CaptureFixture[str]
) -> None:
    runtime = make_runtime(log_level="warning")
    capsys.readouterr()
    assert runtime.handle(event("http_post-emails"), CONTEXT)["statusCode"] == 202
    assert json_lines(capsys.readouterr().out) == []


def test_a_value_that_is_not_a_level_names_the_variable() -> None:
    with pytest.raises(ValueError, match="one of DEBUG, INFO, WARNING, ERROR"):
        Settings(environ={}, log_level="LOUD")


def test_a_function_with_a_bad_level_answers_configuration_error(
    monkeypatch: pytest.MonkeyPatch, event: MakeEvent, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SESRELAY_LOG_LEVEL", "LOUD")
    monkeypatch.setenv("SESRELAY_API_KEY_SHA256", "a" * 64)
    reply = Runtime().handle(event("http_post-emails"), CONTEXT)
    assert reply["statusCode"] == 503
    body = json.loads(reply["body"])
    assert body["code"] == "configuration_error"
    assert "SESRELAY_LOG_LEVEL" in body["detail"]
