"""`sesrelay config check [--env]`: every problem of a config file at once (`core`), whether each
webhook mapping can yield a complete send (`send`), whether each send's TemplateData matches its
template in the `templates/` folder beside the file (`templates`), and the variables the file
names (`environment`): information by default, required with `--env` and by `sesrelay deploy`.

A development tool: the function only loads the file (config.model), so the zip leaves this out.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from sesrelay.config.check.core import ConfigReport, check_config, inspect_config
from sesrelay.config.check.environment import Need

__all__ = ["ConfigReport", "Need", "check_config", "inspect_config", "run_config_check"]


def run_config_check(
    path: Path,
    environ: Mapping[str, str],
    out: TextIO,
    *,
    require_env: bool = False,
    templates: Path | None = None,
) -> int:
    """The command: one line per problem, the variables the file needs (unless `require_env`,
    which counts the unset ones as problems), then a summary; 1 if any problem. A file without
    problems ends with how much TemplateData was compared with the `templates` folder
    (default: `templates/` beside the file)."""
    report = inspect_config(path, environ, templates=templates)
    problems = report.with_env() if require_env else report.problems
    for problem in problems:
        print(str(problem), file=out)
    if problems:
        if not require_env:
            _print_needs(report, out)
        print(f"{len(problems)} problem(s) in {path}", file=out)
        return 1
    jobs = len(report.job_names or ())
    summary = f"ok: {jobs} jobs, {report.sources} webhook sources"
    variables = sorted({need.name for need in report.needs})
    if require_env and variables:
        summary += f"; the {len(variables)} variable(s) it names are set"
    print(summary, file=out)
    if not require_env:
        _print_needs(report, out)
        if report.unmet:
            print(
                "set them before deploying: `sesrelay deploy` and `config check --env` require "
                "them",
                file=out,
            )
    coverage = report.templates.describe() if report.templates else None
    if coverage:
        print(coverage, file=out)
    return 0


def _print_needs(report: ConfigReport, out: TextIO) -> None:
    """One line per variable: `needs at deploy: NAME (unset), for <path>, <path>`."""
    states = {need.shown: state for need, state in report.unmet}
    paths: dict[str, list[str]] = {}
    for need in report.needs:
        found = paths.setdefault(need.shown, [])
        if need.path not in found:
            found.append(need.path)
    for shown, where in paths.items():
        state = states.get(shown, "set")
        print(f"needs at deploy: {shown} ({state}), for {', '.join(where)}", file=out)
