"""`sesrelay deploy [--dry-run] [--strict]`: serverless.yml -> plan -> converge, over the official
SCF SDK (tencentcloud-sdk-python-scf, imported here only, lazily), then print the function URL;
and the `templates/` folder synced to SES (`templates_step`), planned with the function, applied
after it. The plan carries the production-shape warnings (`shape`); --strict makes them errors.

Credentials follow the SDK's chain (TENCENTCLOUD_SECRET_ID/TENCENTCLOUD_SECRET_KEY,
~/.tencentcloud/credentials, CVM role, TKE OIDC) and are never printed; nor are variable values.
"""

from __future__ import annotations

import base64
import ipaddress
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

from sesrelay.clock import Clock, SystemClock
from sesrelay.deploy import shape
from sesrelay.deploy.converge import ApiCallError, Converger, DeployError, function_url
from sesrelay.deploy.network import Vpc
from sesrelay.deploy.plan import PlanError, make_plan, wanted_from
from sesrelay.deploy.preflight import Checked, PreflightError, preflight
from sesrelay.deploy.templates_step import TemplatesStep, ses_endpoint

API_BODY_BYTES = 10 * 1024 * 1024  # API 3.0 request bodies (1278/46710)
ENDPOINT_ENV = "SESRELAY_SCF_ENDPOINT"


@dataclass(frozen=True)
class DeployOptions:
    serverless: Path = Path("serverless.yml")
    config: Path = Path("sesrelay.yaml")
    zip_path: Path = Path("dist/sesrelay-scf.zip")
    endpoint: str | None = None  # e.g. an emulator's http://127.0.0.1:PORT
    dry_run: bool = False
    wait_seconds: float = 300.0
    poll_seconds: float = 2.0
    #: the templates folder, relative to serverless.yml's; None leaves SES templates alone
    templates: Path | None = Path("templates")
    ses_endpoint: str | None = None  # default: see templates_step
    #: production-shape findings (`shape`) stop the deploy instead of being warnings
    strict: bool = False


class ScfApi:
    """The SCF actions as dicts over the SDK: `call("GetFunction", {...})`."""

    def __init__(self, client: Any, models: Any, sdk_error: type[Exception]) -> None:
        self._client, self._models, self._sdk_error = client, models, sdk_error
        #: the SDK chain's credentials, which the templates step's SES calls use too
        self.credential: Any = None

    @classmethod
    def connect(cls, region: str, endpoint: str | None) -> ScfApi:
        from tencentcloud.common import credential
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import (
            TencentCloudSDKException,
        )
        from tencentcloud.common.profile.client_profile import ClientProfile

        try:
            from tencentcloud.scf.v20180416 import models, scf_client
        except ImportError:
            raise DeployError(
                "the SCF SDK is missing: pip install 'sesrelay[deploy]' "
                "(tencentcloud-sdk-python-scf)"
            ) from None

        try:
            cred = credential.DefaultCredentialProvider().get_credentials()
        except Exception:  # the chain's last link (TKE OIDC) raises assorted errors
            raise DeployError(
                "no Tencent Cloud credentials: set TENCENTCLOUD_SECRET_ID and "
                "TENCENTCLOUD_SECRET_KEY, or a profile in ~/.tencentcloud/credentials"
            ) from None
        profile = ClientProfile(httpProfile=_http_profile(endpoint))
        client = scf_client.ScfClient(cred, region, profile)
        api = cls(client, models, TencentCloudSDKException)
        api.credential = cred
        return api

    def call(self, action: str, params: Mapping[str, Any]) -> dict[str, Any]:
        request = getattr(self._models, f"{action}Request")()
        request.from_json_string(json.dumps(params))
        try:
            response = getattr(self._client, action)(request)
        except self._sdk_error as exc:
            code, message = exc.get_code(), exc.get_message()  # type: ignore[attr-defined]
            raise ApiCallError(action, str(code), str(message), str(exc.get_request_id())) from None  # type: ignore[attr-defined]
        result: dict[str, Any] = json.loads(response.to_json_string())
        return result


def run_deploy(
    options: DeployOptions,
    *,
    environ: Mapping[str, str],
    out: TextIO,
    err: TextIO,
    clock: Clock | None = None,
) -> int:
    """The command: 0 when deployed (or planned, with --dry-run), 1 with every reason on `err`.

    Nothing is called before serverless.yml, its variables, sesrelay.yaml (as `sesrelay config
    check --env` checks it, against the function's environment), the zip and the templates
    folder all pass, and nothing is changed before both plans (the function's, the templates')
    are read; a dry run checks the same. Template problems (a rejected template, a refused
    write) exit 1 after the rest is done."""
    try:
        return _deploy(options, environ, (out, err), clock or SystemClock())
    except PreflightError as exc:
        for line in exc.lines:
            print(line, file=err)
    except (DeployError, PlanError) as exc:
        print(f"sesrelay deploy: {exc}", file=err)
    return 1


def _deploy(
    options: DeployOptions, environ: Mapping[str, str], streams: tuple[TextIO, TextIO], clock: Clock
) -> int:
    out, err = streams
    folder = _templates_folder(options)
    checked = preflight(options.serverless, options.config, options.zip_path, environ, folder)
    inputs, env, zip_bytes = checked.spec.inputs, checked.env, checked.zip_bytes
    wanted = wanted_from(inputs, env.values, zip_bytes, checked.network)
    endpoint = options.endpoint or environ.get(ENDPOINT_ENV) or None
    scf = ScfApi.connect(inputs.region, endpoint)
    say = _printer(out)
    converger = Converger(
        scf, inputs.namespace, inputs.name, clock,
        wait_seconds=options.wait_seconds, poll_seconds=options.poll_seconds, say=say,
    )  # fmt: skip
    current = converger.read_current()
    plan = make_plan(wanted, current)
    templates = _templates(options, checked, scf, endpoint, clock)
    where = f"{inputs.region}, namespace {inputs.namespace}"
    say(f"plan for function {inputs.name} ({where}){' [dry run]' if options.dry_run else ''}:")
    for line in plan.lines:
        say(str(line))
    for name in env.empty:
        say(f"  note: {name} resolved to an empty value; SCF refuses those, so it is not set")
    _production_shape(options, checked, current.settings.vpc if current else None, say)
    if templates is not None:
        templates.show_plan(say)
    elif folder is not None:
        say(f"templates: no folder {folder}; SES templates left as they are")
    if options.dry_run or not (plan.changes or (templates and templates.changes)):
        say("dry run: nothing was changed" if options.dry_run else "no changes")
        known = current.function_url if current else None
        pending = inputs.http is not None and known is None
        say(f"function URL: {known or ('(created on deploy)' if pending else '(none)')}")
        return _templates_result(templates, err)
    if plan.changes:
        if len(zip_bytes) * 4 / 3 > API_BODY_BYTES:
            say("  note: the upload is over API 3.0's 10 MB body limit; if SCF refuses it, use COS")
        converger.apply(plan, wanted, base64.b64encode(zip_bytes).decode("ascii"))
    if templates is not None:
        templates.apply(say)
    url = next(filter(None, map(function_url, converger.list_triggers())), None)
    say("deployed")
    say(f"function URL: {url or '(none: serverless.yml has no http event)'}")
    return _templates_result(templates, err)


def _production_shape(
    options: DeployOptions, checked: Checked, vpc_now: Vpc | None, say: Callable[[str], None]
) -> None:
    """The production-shape findings, as warnings in the plan; with --strict, DeployError
    before anything is changed."""
    found = shape.findings(checked.env.values, checked.network, vpc_now)
    for finding in found:
        say(f"  warning: {finding}")
    if found and options.strict:
        raise DeployError(
            f"{len(found)} production-shape warning(s) and --strict: nothing was changed"
        )


def _templates_folder(options: DeployOptions) -> Path | None:
    """The folder to sync, relative to serverless.yml's; None with --no-templates."""
    if options.templates is None or options.templates.is_absolute():
        return options.templates
    return options.serverless.parent / options.templates


def _templates(
    options: DeployOptions, checked: Checked, scf: ScfApi, endpoint: str | None, clock: Clock
) -> TemplatesStep | None:
    """The templates step, when there is a folder to sync."""
    folder = _templates_folder(options)
    if folder is None or checked.templates is None:
        return None
    from sesrelay.settings import Settings

    region = checked.env.values.get("SESRELAY_SES_REGION") or str(
        Settings.model_fields["ses_region"].default
    )
    loopback = endpoint if endpoint and _loopback_url(endpoint) else None
    target = ses_endpoint(region, options.ses_endpoint, loopback)
    return TemplatesStep.connect(folder, checked.templates, scf.credential, region, target, clock)


def _templates_result(templates: TemplatesStep | None, err: TextIO) -> int:
    """1 (with every problem on `err`) when the templates step had problems, else 0."""
    if templates is None or not templates.problems:
        return 0
    for problem in templates.problems:
        print(f"sesrelay deploy: {problem}", file=err, flush=True)
    return 1


def _printer(out: TextIO) -> Callable[[str], None]:
    def say(text: str) -> None:
        print(text, file=out, flush=True)

    return say


def _http_profile(endpoint: str | None) -> Any:
    from tencentcloud.common.profile.http_profile import HttpProfile

    # Uploads of a few MB: a longer timeout than the SDK's default 60 s.
    if not endpoint:
        return HttpProfile(reqTimeout=300)
    parts = urlsplit(endpoint if "://" in endpoint else f"https://{endpoint}")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DeployError(f"endpoint {endpoint!r} is not an http(s) URL")
    if parts.scheme == "http" and not _loopback(parts.hostname):
        # The request body carries the function's environment: never send it in clear text.
        raise DeployError("plain http is allowed only to a loopback endpoint (an emulator)")
    return HttpProfile(endpoint=parts.netloc, protocol=parts.scheme, reqTimeout=300)


def _loopback_url(endpoint: str) -> bool:
    parts = urlsplit(endpoint if "://" in endpoint else f"https://{endpoint}")
    return bool(parts.hostname) and _loopback(str(parts.hostname))


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
