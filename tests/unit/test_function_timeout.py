"""`--function-timeout` of `sesrelay serve` and `sesrelay invoke`: SCF's function timeout for
local runs, reported to the function as the context's `time_limit_in_ms`."""

from __future__ import annotations

import pytest

from sesrelay.cli.function_url import invocation_context
from sesrelay.cli.main import build_parser


@pytest.mark.parametrize("command", [["serve"], ["invoke", "event.json"]])
def test_the_timeout_is_read_in_seconds(command: list[str]) -> None:
    args = build_parser().parse_args([*command, "--function-timeout", "2.5"])
    assert args.function_timeout == 2.5


def test_serve_defaults_to_scf_s_30_seconds_and_the_context_says_so() -> None:
    assert build_parser().parse_args(["serve"]).function_timeout == 30.0
    assert invocation_context()["time_limit_in_ms"] == 30000
    assert invocation_context(2.5)["time_limit_in_ms"] == 2500


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "86401", "soon"])
def test_a_timeout_that_is_no_duration_is_refused_by_name(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["invoke", "event.json", "--function-timeout", value])
    assert exited.value.code == 2
    error = capsys.readouterr().err
    assert "--function-timeout" in error
    assert "seconds" in error
