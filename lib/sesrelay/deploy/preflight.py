"""What `sesrelay deploy` checks before any API call, every problem at once: serverless.yml, the
`${env:NAME}` values it takes from the deployer's environment (the function's variables, the
IDs of `vpcConfig` and `cls`), sesrelay.yaml as `sesrelay config check --env` checks it (against
the environment the function will have, which is what it reads its secrets from), the zip, and
the `templates/` folder (when it exists and is not skipped).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sesrelay.deploy import variables
from sesrelay.deploy.converge import DeployError
from sesrelay.deploy.network import Network, resolve
from sesrelay.deploy.serverless_loader import ServerlessFileError, load_serverless
from sesrelay.deploy.serverless_model import ServerlessFile
from sesrelay.errors import ConfigError
from sesrelay.templates.folder import TemplateFile, load_folder

if TYPE_CHECKING:
    from sesrelay.config.check import ConfigReport

MAX_ZIP_BYTES = 50 * 1024 * 1024  # Code.ZipFile, base64 in the request (SDK docstring)


class PreflightError(Exception):
    """Problems found before any API call, one line each, prefixed with the file at fault."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = list(lines)
        super().__init__(f"{len(self.lines)} problem(s)")


@dataclass(frozen=True)
class Checked:
    """What passed: the file, the function's environment, the zip's bytes."""

    spec: ServerlessFile
    env: variables.ResolvedEnvironment
    zip_bytes: bytes
    #: the folder's templates; None when the folder is skipped or does not exist
    templates: list[TemplateFile] | None = None
    #: vpcConfig and cls, resolved
    network: Network = field(default_factory=Network)


def preflight(
    serverless: Path,
    config: Path,
    zip_path: Path,
    environ: Mapping[str, str],
    templates: Path | None = None,
) -> Checked:
    """Every check, every problem; PreflightError lists them."""
    lines: list[str] = []
    wanted, folder_lines = None, []
    if templates is not None and templates.is_dir():
        try:
            wanted = load_folder(templates)
        except ConfigError as exc:
            folder_lines = [str(problem) for problem in exc.problems]
    spec: ServerlessFile | None = None
    env: variables.ResolvedEnvironment | None = None
    try:
        spec = load_serverless(serverless, _job_names(config))
    except ServerlessFileError as exc:
        lines += exc.lines()
    wanted_network = Network()
    if spec is not None:
        env, found = _environment(serverless, config, spec, environ)
        lines += found
        inputs = spec.inputs
        wanted_network, unresolved = resolve(inputs.vpc_config, inputs.cls_config, environ)
        lines += [f"{serverless}: {problem}" for problem in unresolved]
    else:  # the function's environment is unknown: the file alone
        lines += [f"{config}: {problem}" for problem in _config_report(config, {}).problems]
    # The config check may have said these already (it reads the folder beside sesrelay.yaml).
    lines += [line for line in folder_lines if not any(line in said for said in lines)]
    zip_bytes = b""
    try:
        zip_bytes = read_zip(zip_path, spec.inputs.handler if spec else None)
    except DeployError as exc:
        lines.append(str(exc))
    if lines or spec is None or env is None:
        raise PreflightError(lines)
    return Checked(spec, env, zip_bytes, wanted, wanted_network)


def _environment(
    serverless: Path, config: Path, spec: ServerlessFile, environ: Mapping[str, str]
) -> tuple[variables.ResolvedEnvironment | None, list[str]]:
    """The function's environment, and the problems of serverless.yml's variables and of
    sesrelay.yaml judged against that environment."""
    wanted = spec.inputs.environment.variables
    try:
        env = variables.resolve(wanted, environ)
    except variables.UnresolvedVariables as exc:
        lines = [
            f"{serverless}: inputs.environment.variables.{key}: ${{env:{name}}} is not set"
            for key, names in sorted(exc.missing.items())
            for name in names
        ]
        found = _config_lines(serverless, config, wanted, exc.resolved, set(exc.missing))
        return None, lines + found
    except ValueError as exc:
        return None, [f"{serverless}: inputs.environment.variables: {exc}"]
    return env, _config_lines(serverless, config, wanted, env.values, set())


def _job_names(config: Path) -> frozenset[str] | None:
    """The job names timer arguments may use; None (not checked) when the file cannot be read,
    which the config check reports."""
    from sesrelay.config.model import ConfigError, read_config_data

    try:
        data = read_config_data(config)
    except ConfigError:
        return None
    jobs = data.get("jobs") if isinstance(data, dict) else None
    return frozenset(str(name) for name in jobs) if isinstance(jobs, dict) else frozenset()


def _config_lines(
    serverless: Path,
    config: Path,
    wanted: Mapping[str, str],
    function_env: Mapping[str, str],
    unresolved: set[str],
) -> list[str]:
    """sesrelay.yaml checked against the function's environment; each variable it needs and
    the function would lack is said in serverless.yml's terms."""
    report = _config_report(config, function_env)
    lines = [f"{config}: {problem}" for problem in report.problems]
    for need, _state in report.unmet:
        if need.name in unresolved:
            continue  # said above: its ${env:NAME} is not set
        if need.name in wanted:
            reason = f"its value in {serverless} resolves to empty, and SCF drops empty variables"
        else:
            value = f'"{need.value}"' if need.value else f"${{env:{need.name}}}"
            reason = (
                f"{serverless} does not set it: add `{need.name}: {value}` under "
                "inputs.environment.variables"
            )
        lines.append(f"{config}: {need.path}: the function needs {need.shown}, but {reason}")
    return lines


def _config_report(config: Path, function_env: Mapping[str, str]) -> ConfigReport:
    from sesrelay.config.check import inspect_config

    return inspect_config(config, function_env)


def read_zip(path: Path, handler: str | None) -> bytes:
    """The package's bytes, if it is a zip SCF takes with `handler`'s module at its root."""
    try:
        data = path.read_bytes()
    except OSError:
        raise DeployError(f"{path} not found: build it with `sesrelay package`") from None
    if len(data) > MAX_ZIP_BYTES:
        raise DeployError(f"{path} is {len(data)} bytes; SCF takes at most 50 MB through the API")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except zipfile.BadZipFile:
        raise DeployError(f"{path} is not a zip file") from None
    module = handler.split(".", 1)[0] + ".py" if handler else None
    if module is not None and module not in names:
        raise DeployError(f"{path} has no {module} at its root (handler {handler})")
    return data
