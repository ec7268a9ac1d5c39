"""`sesrelay templates sync [--dry-run] [--prune]` and `sesrelay templates preview NAME --data`:
the `templates/` folder against the SES account, and one template rendered locally.

`sync` talks to SES like `sesrelay campaign send` (the official SDK; without credentials or
SESRELAY_SES_ENDPOINT, the local `sesrelay emulator`). Imports only the standard library at
module level, so `sesrelay --help` stays fast. Exit statuses: 0 done (or planned, with
--dry-run); 1 problems (a folder error, SES unreachable or refusing, a rejected template, a name
several account templates share); 2 bad options.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from sesrelay.cli.local_env import default_to_local_emulator

EXIT_PROBLEMS, EXIT_USAGE = 1, 2


def add_templates_parser(sub: Any) -> None:
    """Add `templates sync` and `templates preview` to the `sesrelay` subcommands."""
    templates = sub.add_parser("templates", help="SES templates kept as code in templates/")
    commands = templates.add_subparsers(dest="templates_command", required=True)
    sync = commands.add_parser(
        "sync",
        help="create or update SES templates to match the folder (a plan first)",
        description="Match the account's templates to the folder by name: create the missing, "
        "update the changed (Tencent reviews both again), list the others (--prune deletes "
        "them). Exit 1 on problems.",
    )
    sync.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    sync.add_argument("--prune", action="store_true", help="delete templates not in the folder")
    sync.add_argument("--folder", default="templates", help="default: ./templates")
    sync.set_defaults(func=run_sync_command)
    show = commands.add_parser(
        "preview",
        help="render one template locally with the emulator's renderer",
        description="Print the HTML part (or --text) rendered with --data; the Subject from "
        "the file's header goes to stderr.",
    )
    show.add_argument("name", help="the template's name (its file name without .html)")
    show.add_argument("--data", required=True, help='TemplateData JSON, e.g. \'{"name": "Ana"}\'')
    show.add_argument("--output", help="write the rendered part to this file instead of stdout")
    show.add_argument("--text", action="store_true", help="render the text part, not the HTML")
    show.add_argument("--folder", default="templates", help="default: ./templates")
    show.set_defaults(func=run_preview_command)


def _problems(lines: list[str]) -> int:
    for line in lines:
        print(f"sesrelay templates: {line}", file=sys.stderr)
    return EXIT_PROBLEMS if lines else 0


def run_sync_command(args: argparse.Namespace) -> int:
    """`sesrelay templates sync`."""
    folder = Path(args.folder)
    if not folder.is_dir():
        return _problems(
            [f"no folder {folder} (one <name>.html per template, see docs/templates.md)"]
        )
    from pydantic import ValidationError

    from sesrelay import logs
    from sesrelay.clock import SystemClock
    from sesrelay.errors import ConfigError
    from sesrelay.settings import Settings, describe_error
    from sesrelay.templates.account import Account
    from sesrelay.templates.folder import load_folder
    from sesrelay.templates.sync import run_sync
    from sesrelay.wiring import build_ses_gateway

    try:
        wanted = load_folder(folder)
    except ConfigError as exc:
        return _problems([str(problem) for problem in exc.problems])
    default_to_local_emulator()  # no credentials: the local `sesrelay emulator`
    logs.configure("WARNING", to_stderr=True)
    try:
        settings = Settings()
        endpoint = settings.ses_endpoint or f"https://{settings.ses_host()}"
    except ValidationError as exc:
        return _problems([describe_error(exc)])
    except ValueError as exc:
        return _problems([str(exc)])
    clock = SystemClock()
    account = Account(build_ses_gateway(settings, clock), clock)
    dry = " [dry run]" if args.dry_run else ""
    print(f"templates in {folder} -> SES {settings.ses_region} at {endpoint}{dry}:", flush=True)

    def say(line: str) -> None:
        print(line, flush=True)

    found = run_sync(account, wanted, say, prune=args.prune, dry_run=args.dry_run)
    return _problems(found)


def _say(line: str) -> None:
    print(line, file=sys.stderr)


def run_preview_command(args: argparse.Namespace) -> int:
    """`sesrelay templates preview NAME --data JSON`."""
    from sesrelay.templates.preview import PreviewError, find, preview, read_data

    try:
        data = read_data(args.data)
        shown = preview(find(Path(args.folder), args.name), data)
    except PreviewError as exc:
        _say(f"sesrelay templates preview: {exc.message}")
        return EXIT_USAGE if exc.usage else EXIT_PROBLEMS
    part = shown.text if args.text else shown.html
    if not part:
        which = "text part (a .txt file)" if args.text else "HTML part"
        _say(f"sesrelay templates preview: template {args.name} has no {which}")
        return EXIT_PROBLEMS
    if args.output:
        try:
            Path(args.output).write_text(part + "\n", encoding="utf-8")
        except OSError as exc:
            _say(f"sesrelay templates preview: cannot write {args.output}: {exc.strerror}")
            return EXIT_PROBLEMS
    else:
        sys.stdout.write(part + "\n")
    name = shown.template.name
    _say(f"{name}: subject: {shown.subject or '(the header names none)'}")
    if args.output:
        _say(f"{name}: wrote {args.output}")
    if shown.unused:
        _say(f"{name}: note: no part uses {', '.join(shown.unused)}")
    return 0
