"""Which config file the function reads: the one SESRELAY_CONFIG names (it must exist, or every
request that needs it says so), its packaged JSON twin, or the default that may be absent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sesrelay.clock import ManualClock
from sesrelay.config.model import ConfigError
from sesrelay.settings import Settings
from sesrelay.wiring import build_services

JOB = {"jobs": {"hello": {"action": "SendEmail", "params": {"Subject": "Hi"}}}}


def test_a_named_file_that_is_missing_is_an_error_not_an_empty_config(tmp_path: Path) -> None:
    services = build_services(
        Settings(environ={"SESRELAY_CONFIG": str(tmp_path / "sesrelay.yaml")}),
        clock=ManualClock(),
    )
    with pytest.raises(ConfigError, match="file not found"):
        _ = services.config


def test_a_named_yaml_path_reads_its_packaged_json_twin(tmp_path: Path) -> None:
    (tmp_path / "sesrelay.json").write_text(json.dumps(JOB), encoding="utf-8")
    services = build_services(
        Settings(environ={"SESRELAY_CONFIG": str(tmp_path / "sesrelay.yaml")}),
        clock=ManualClock(),
    )
    assert set(services.config.jobs) == {"hello"}


def test_a_named_yaml_file_that_exists_wins_over_a_json_beside_it(tmp_path: Path) -> None:
    (tmp_path / "sesrelay.json").write_text(json.dumps(JOB), encoding="utf-8")
    (tmp_path / "sesrelay.yaml").write_text("jobs: {}\n", encoding="utf-8")
    services = build_services(
        Settings(environ={"SESRELAY_CONFIG": str(tmp_path / "sesrelay.yaml")}),
        clock=ManualClock(),
    )
    assert services.config.jobs == {}


def test_without_the_variable_the_default_file_is_read_and_may_be_absent() -> None:
    settings = Settings(environ={})
    assert "config_path" not in settings.model_fields_set  # so an absent file is no error
    services = build_services(settings, clock=ManualClock())
    assert "weekly-digest" in services.config.jobs  # the repository's own sesrelay.yaml
