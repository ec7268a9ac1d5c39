"""`sesrelay`: run the function locally, emulate SES, check the config, package and deploy to SCF,
sync and preview the SES templates kept in templates/, and send CSV campaigns."""

from __future__ import annotations

import argparse
import errno
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sesrelay.cli.campaign import add_campaign_parser
from sesrelay.cli.local_env import EMULATOR_DEFAULT_PORT, default_to_local_emulator
from sesrelay.cli.templates import add_templates_parser

# The modules imported here load only the standard library, so `sesrelay --help` stays fast;
# each command imports the relay (pydantic, the SDK) when it runs.

#: SCF's default function timeout; SCF allows up to 900 s (a day in async execution mode).
FUNCTION_TIMEOUT_SECONDS = 30.0
_MAX_FUNCTION_TIMEOUT_SECONDS = 86400.0


def _function_timeout(text: str) -> float:
    """--function-timeout: seconds, above 0 and at most a day."""
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of seconds, not {text!r}") from None
    if not 0 < seconds <= _MAX_FUNCTION_TIMEOUT_SECONDS:  # also refuses nan and inf
        raise argparse.ArgumentTypeError(
            f"must be above 0 and at most {_MAX_FUNCTION_TIMEOUT_SECONDS:g} seconds"
        )
    return seconds


def _add_function_timeout(
    parser: argparse.ArgumentParser, default: float | None, what: str
) -> None:
    parser.add_argument(
        "--function-timeout",
        type=_function_timeout,
        default=default,
        metavar="SECONDS",
        help=f"SCF's function timeout, {what} (default {FUNCTION_TIMEOUT_SECONDS:g})",
    )


def _cmd_serve(args: argparse.Namespace) -> int:
    from sesrelay.cli.local_server import run

    return run(host=args.host, port=args.port, function_timeout=args.function_timeout)


def _cmd_emulator(args: argparse.Namespace) -> int:
    from sesrelay.cli.local_server import listen_error
    from sesrelay.emulator import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, serve_forever
    from sesrelay.emulator.callbacks import check_callback_url

    try:
        check_callback_url(args.callback_url)
    except ValueError as exc:
        raise SystemExit(f"sesrelay emulator: --callback-url: {exc}") from None
    try:
        serve_forever(
            host=args.host,
            port=args.port,
            secret_id=args.secret_id or DEFAULT_SECRET_ID,
            secret_key=args.secret_key or DEFAULT_SECRET_KEY,
            seed_path=args.seed,
            rate_limit=None if args.rate_limit <= 0 else args.rate_limit,
            callback_url=args.callback_url,
        )
    except OverflowError as exc:
        raise SystemExit(f"sesrelay emulator: {listen_error(args.host, args.port, exc)}") from None
    except OSError as exc:
        if exc.errno not in (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL):
            raise
        raise SystemExit(f"sesrelay emulator: {listen_error(args.host, args.port, exc)}") from None
    return 0


def _read_json_file(path: str, what: str) -> Any:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise SystemExit(f"sesrelay: cannot read {what} {path}: {exc.strerror}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SystemExit(f"sesrelay: {what} {path} is not JSON: {exc}") from None


def _cmd_invoke(args: argparse.Namespace) -> int:
    event = _read_json_file(args.event, "event file")
    timeout = args.function_timeout
    context: Any = {
        "request_id": "local-invoke",
        "time_limit_in_ms": round((timeout or FUNCTION_TIMEOUT_SECONDS) * 1000),
    }
    if args.context:
        context = _read_json_file(args.context, "context file")
        if timeout is not None and isinstance(context, dict):  # the option is the later word
            context["time_limit_in_ms"] = round(timeout * 1000)
    default_to_local_emulator()
    from sesrelay import logs
    from sesrelay.errors import RetryLater
    from sesrelay.runtime import Runtime

    logs.configure(to_stderr=True)
    try:
        reply = Runtime().handle(event, context)
    except RetryLater as signal:  # on SCF the invocation fails and SCF retries it
        print(f"retry later: {signal} (SCF would retry this invocation)", file=sys.stderr)
        return 1
    print(json.dumps(reply, ensure_ascii=False, indent=2))
    return 1 if _reply_failed(reply) else 0


def _reply_failed(reply: Any) -> bool:
    """An HTTP-shaped reply with a 4xx/5xx status, or a direct/timer reply with "ok": false;
    a timer's "duplicate" is ok: the tick was already handled."""
    if not isinstance(reply, dict):
        return False
    status = reply.get("statusCode")
    if isinstance(status, int) and not isinstance(status, bool):
        return status >= 400
    return reply.get("ok") is False


def _cmd_config_check(args: argparse.Namespace) -> int:
    from sesrelay.config.check import run_config_check
    from sesrelay.settings import default_config_path

    local = Path("sesrelay.yaml")
    default = local if local.exists() else default_config_path()
    path = Path(args.file or os.environ.get("SESRELAY_CONFIG") or default)
    templates = Path(args.templates) if args.templates else None
    return run_config_check(path, os.environ, sys.stdout, require_env=args.env, templates=templates)


def _cmd_package(args: argparse.Namespace) -> int:
    from sesrelay.deploy.package import PackageError, build_package

    root = Path(args.root)
    try:
        result = build_package(
            root,
            output=root / args.output,
            staging=root / args.build_dir,
            requirements=root / args.requirements,
            pip_cache=Path(args.pip_cache) if args.pip_cache else None,
        )
    except PackageError as exc:
        print(f"sesrelay package: {exc}", file=sys.stderr)
        return 1
    print(result.describe())
    return 0


def _cmd_deploy(args: argparse.Namespace) -> int:
    from sesrelay.deploy.deploy import DeployOptions, run_deploy

    options = DeployOptions(
        serverless=Path(args.file),
        config=Path(args.config),
        zip_path=Path(args.zip),
        endpoint=args.endpoint,
        dry_run=args.dry_run,
        wait_seconds=args.wait,
        templates=None if args.no_templates else Path(args.templates),
        ses_endpoint=args.ses_endpoint,
        strict=args.strict,
    )
    return run_deploy(options, environ=os.environ, out=sys.stdout, err=sys.stderr)


def _add_config_parser(sub: Any) -> None:
    """`sesrelay config check [FILE] [--env]`."""
    cfg = sub.add_parser("config", help="the sesrelay.yaml configuration file")
    cfg_sub = cfg.add_subparsers(dest="config_command", required=True)
    check = cfg_sub.add_parser(
        "check",
        help="report every problem in the file (exit 1 if any) and the variables it needs",
        description="Check the config file: every problem at once, and the environment "
        "variables it names (listed as information; set ones are checked). Exit 1 on problems.",
    )
    check.add_argument("file", nargs="?", help="default: $SESRELAY_CONFIG or ./sesrelay.yaml")
    check.add_argument(
        "--env",
        action="store_true",
        help="also require every variable the file names to be set, as `sesrelay deploy` does",
    )
    check.add_argument(
        "--templates",
        metavar="DIR",
        default=None,
        help="the templates folder TemplateData is compared with (default: templates/ beside "
        "the file)",
    )
    check.set_defaults(func=_cmd_config_check)


def _add_deploy_parser(sub: Any) -> None:
    """`sesrelay deploy [--dry-run] ...`: the function to SCF, then the templates to SES."""
    dep = sub.add_parser("deploy", help="deploy serverless.yml to SCF, then sync templates/")
    dep.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    dep.add_argument("--file", default="serverless.yml", help="default: ./serverless.yml")
    dep.add_argument("--config", default="sesrelay.yaml", help="jobs the timers name")
    dep.add_argument("--zip", default="dist/sesrelay-scf.zip", help="from `sesrelay package`")
    dep.add_argument(
        "--endpoint",
        default=None,
        help="SCF API endpoint, e.g. an emulator http://127.0.0.1:PORT "
        "(default: $SESRELAY_SCF_ENDPOINT, else scf.tencentcloudapi.com)",
    )
    dep.add_argument("--wait", type=float, default=300.0, help="seconds to wait for Active")
    dep.add_argument(
        "--templates",
        default="templates",
        help="the templates folder to sync (default: ./templates)",
    )
    dep.add_argument("--no-templates", action="store_true", help="leave SES templates alone")
    dep.add_argument(
        "--ses-endpoint",
        default=None,
        help="SES API endpoint for the templates (default: --endpoint when it is a loopback "
        "emulator, else the SES host of the function's SESRELAY_SES_REGION)",
    )
    dep.add_argument(
        "--strict",
        action="store_true",
        help="make the plan's production-shape warnings errors: exit 1 before changing anything",
    )
    dep.set_defaults(func=_cmd_deploy)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sesrelay", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    srv = sub.add_parser("serve", help="run the function behind a local HTTP server")
    srv.add_argument("--host", default="127.0.0.1")
    srv.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    _add_function_timeout(srv, FUNCTION_TIMEOUT_SECONDS, "each invocation's time limit")
    srv.set_defaults(func=_cmd_serve)

    emu = sub.add_parser("emulator", help="run the local SES emulator")
    emu.add_argument("--host", default="127.0.0.1")
    emu.add_argument("--port", type=int, default=EMULATOR_DEFAULT_PORT, help="0 picks a free port")
    emu.add_argument("--secret-id", default=None, help="SecretId the emulator accepts")
    emu.add_argument("--secret-key", default=None, help="SecretKey the emulator accepts")
    emu.add_argument("--seed", default=None, help="seed file (JSON); default: built-in seed")
    emu.add_argument("--rate-limit", type=int, default=20, help="requests/s per action; 0 = off")
    emu.add_argument(
        "--callback-url",
        default=None,
        metavar="URL",
        help="POST each sent mail's delivery events (SES callbacks) to this http(s) URL",
    )
    emu.set_defaults(func=_cmd_emulator)

    inv = sub.add_parser("invoke", help="run main_handler once on an event file")
    inv.add_argument("event", help="event JSON file")
    inv.add_argument("--context", default=None, help="context JSON file")
    _add_function_timeout(inv, None, "the time limit; wins over the context file's")
    inv.set_defaults(func=_cmd_invoke)

    _add_config_parser(sub)

    pkg = sub.add_parser("package", help="build the SCF zip (Python 3.10, manylinux2014 x86_64)")
    pkg.add_argument("--root", default=".", help="project directory (default: .)")
    pkg.add_argument("--output", default="dist/sesrelay-scf.zip", help="zip path, under --root")
    pkg.add_argument("--build-dir", default="build/scf", help="staging tree, under --root")
    pkg.add_argument("--requirements", default="requirements-scf.txt", help="pinned deps")
    pkg.add_argument("--pip-cache", default=None, help="pip's wheel cache directory")
    pkg.set_defaults(func=_cmd_package)

    _add_deploy_parser(sub)
    add_templates_parser(sub)
    add_campaign_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
