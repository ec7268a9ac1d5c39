"""`sesrelay campaign send recipients.csv ...`: a campaign from a CSV file, streamed, with progress.

Imports only the standard library at module level, so `sesrelay --help` stays fast; the relay
loads when the command runs. Works against real SES or the emulator, like `sesrelay invoke`.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
from collections.abc import Iterator
from typing import IO, Any, TextIO

from sesrelay.cli.local_env import default_to_local_emulator

EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_PENDING = 0, 1, 2, 3
_REPORTED_ROWS = 20  # invalid rows printed; the rest are counted


def add_campaign_parser(sub: Any) -> None:
    """Add `campaign send` to the `sesrelay` subcommands (`sub` from add_subparsers)."""
    campaign = sub.add_parser("campaign", help="send to a recipient list of any size")
    commands = campaign.add_subparsers(dest="campaign_command", required=True)
    send = commands.add_parser(
        "send",
        help="recipient CSV -> recipient groups -> batch tasks",
        description="CSV: a header line, an email column, and one column per template variable.",
    )
    send.add_argument("csv", help="the CSV file ('-' reads standard input)")
    send.add_argument("--from", dest="sender", required=True, help="FromEmailAddress")
    send.add_argument("--subject", required=True, help="Subject (may use {{variables}})")
    send.add_argument("--template-id", type=int, required=True, help="approved SES TemplateID")
    send.add_argument("--template-data", help="JSON object of default variable values")
    send.add_argument("--email-column", help="the address column (default: email, e-mail)")
    send.add_argument("--validation", choices=["strict", "permissive"], default="strict")
    send.add_argument("--name", help="a label for the campaign")
    send.add_argument("--reply-to", help="ReplyToAddresses")
    send.add_argument("--task-type", type=int, choices=[1, 2, 3], default=1)
    send.add_argument("--begin-time", help="'YYYY-MM-DD hh:mm:ss' (UTC+8), task types 2 and 3")
    send.add_argument("--interval-hours", type=int, help="hours between runs, task type 3")
    send.add_argument("--unsubscribe", help='unsubscribe link language, "0".."12"')
    send.add_argument("--ad-location", type=int, choices=[0, 1, 2])
    send.add_argument(
        "--timeout", type=float, default=3600.0, help="seconds to wait for SES (default 3600)"
    )
    send.add_argument("--json", action="store_true", help="print the campaign as JSON")
    send.add_argument("--no-progress", action="store_true", help="no progress bars on stderr")
    send.set_defaults(func=run_send)


class Progress:
    """A one-line bar on stderr; redrawn on a terminal, printed once when done otherwise."""

    def __init__(self, label: str, total: int, *, enabled: bool, stream: TextIO) -> None:
        self.label, self.total, self.stream = label, total, stream
        self.enabled = enabled
        self.live = enabled and stream.isatty()
        self._drawn = 0.0

    def _line(self, done: int, note: str) -> str:
        share = min(done / self.total, 1.0) if self.total else 1.0
        bar = "#" * round(share * 30)
        return f"{self.label:<8} [{bar:<30}] {share:4.0%}  {note}"

    def update(self, done: int, note: str = "") -> None:
        now = time.monotonic()
        if self.live and now - self._drawn >= 0.1:
            self._drawn = now
            self.stream.write("\r" + self._line(done, note) + "\x1b[K")
            self.stream.flush()

    def close(self, done: int, note: str = "") -> None:
        if self.enabled:
            self.stream.write(("\r" if self.live else "") + self._line(done, note) + "\n")
            self.stream.flush()


def _spec_body(args: argparse.Namespace) -> dict[str, Any]:
    body: dict[str, Any] = {
        "FromEmailAddress": args.sender,
        "Subject": args.subject,
        "Template": {"TemplateID": args.template_id},
        "TaskType": args.task_type,
        "Validation": args.validation,
    }
    if args.template_data is not None:
        body["Template"]["TemplateData"] = args.template_data
    if args.task_type == 2 and args.begin_time:
        body["TimedParam"] = {"BeginTime": args.begin_time}
    if args.task_type == 3 and args.begin_time:
        body["CycleParam"] = {"BeginTime": args.begin_time, "IntervalTime": args.interval_hours}
    optional = {
        "Name": args.name,
        "ReplyToAddresses": args.reply_to,
        "Unsubscribe": args.unsubscribe,
        "ADLocation": args.ad_location,
    }
    body.update({key: value for key, value in optional.items() if value is not None})
    return body


def _lines(raw: IO[bytes], progress: Progress, size: int) -> Iterator[str]:
    """The file's lines, decoded; reports bytes read (the raw position runs a buffer ahead)."""
    text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
    for count, line in enumerate(text):
        if not count % 4096:
            progress.update(raw.tell() if size else 0, f"{count:,} lines")
        yield line


def run_send(args: argparse.Namespace) -> int:
    default_to_local_emulator()  # no credentials: the local `sesrelay emulator`, as `invoke` does
    from sesrelay import logs

    logs.configure("WARNING", to_stderr=True)
    return _Send(args).run()


class _Send:
    """One `campaign send`: check the options, stream the file into blocks, then drive SES."""

    def __init__(self, args: argparse.Namespace) -> None:
        from sesrelay.wiring import build_services

        self.args, self.err = args, sys.stderr
        self.show = not args.no_progress
        self.services = build_services()
        self.bars: dict[str, Progress] = {}

    def run(self) -> int:
        from sesrelay.campaigns.model import parse_spec
        from sesrelay.errors import InvalidInput, RelayError
        from sesrelay.sending.pipeline import check_sender

        try:
            self.spec = parse_spec(_spec_body(self.args), now=self.services.clock.now())
            check_sender(self.spec.FromEmailAddress, self.services.settings.allowed_senders)
        except InvalidInput as error:
            for item in error.errors:
                print(f"sesrelay campaign: {item.field}: {item.message}", file=self.err)
            return EXIT_USAGE
        except RelayError as error:
            print(f"sesrelay campaign: {error.message}", file=self.err)
            return EXIT_USAGE
        path = self.args.csv
        try:
            raw: IO[bytes] = sys.stdin.buffer if path == "-" else open(path, "rb")  # noqa: SIM115
        except OSError as exc:
            print(f"sesrelay campaign: cannot read {path}: {exc.strerror}", file=self.err)
            return EXIT_USAGE
        with raw:
            failed = self._stage(raw, 0 if path == "-" else os.fstat(raw.fileno()).st_size)
        return failed if failed is not None else self._launch()

    def _stage(self, raw: IO[bytes], size: int) -> int | None:
        from sesrelay.campaigns.csv import CsvRecipients
        from sesrelay.campaigns.rows import RowValidator
        from sesrelay.campaigns.service import CampaignBuilder

        self.validator = validator = RowValidator(self.spec.defaults(), subject=self.spec.Subject)
        check = Progress("validate", size, enabled=self.show, stream=self.err)
        builder = None
        try:
            source = CsvRecipients(
                _lines(raw, check, size),
                email_column=self.args.email_column,
                defaults=self.spec.defaults(),
            )
            self.builder = builder = CampaignBuilder(self.services, self.spec, validator)
            builder.stage(validator.validate(source))
        except (ValueError, UnicodeDecodeError) as exc:  # header problems, not UTF-8
            print(f"\nsesrelay campaign: {self.args.csv}: {exc}", file=self.err)
            if builder is not None:
                builder.abandon("malformed_request", f"the CSV file could not be read: {exc}")
            return EXIT_USAGE
        check.close(size, _counts_text(validator.counts()))
        _print_problems(validator, self.err)
        refused = validator.invalid and self.spec.Validation == "strict"
        if refused or not validator.valid:
            reason = "invalid rows (strict validation)" if refused else "no valid recipient"
            camp = builder.abandon("validation_error", f"nothing was sent: {reason}")
            print(f"campaign {camp.id}: refused, {reason}; nothing was sent", file=self.err)
            return EXIT_REFUSED
        return None

    def _launch(self) -> int:
        from sesrelay.clock import Deadline

        deadline = Deadline(self.services.clock, self.args.timeout)
        try:
            camp = self.builder.launch(deadline, on_change=self._progress)
        except KeyboardInterrupt:
            campaign_id = self.builder.campaign.id
            print(f"\ninterrupted: campaign {campaign_id} is saved and pending", file=self.err)
            return EXIT_PENDING
        if "send" in self.bars:
            tasks = sum(1 for s in camp.shards if s.task_id is not None)
            self.bars["send"].close(tasks, f"{tasks}/{len(camp.shards)} batch tasks")
        return _report(camp, self.args.json)

    def _progress(self, camp: Any) -> None:
        """Called after each saved step: the upload bar, then the send bar."""
        groups = len(camp.shards)
        chunks = sum(len(s.chunks) for s in camp.shards)
        uploaded = sum(s.uploaded for s in camp.shards)
        upload = self.bars.setdefault(
            "upload", Progress("upload", chunks, enabled=self.show, stream=self.err)
        )
        if camp.state == "uploading":
            upload.update(uploaded, f"{uploaded}/{chunks} uploads, {groups} groups")
            return
        if "send" not in self.bars:
            upload.close(uploaded, f"{uploaded}/{chunks} uploads, {groups} groups")
            self.bars["send"] = Progress("send", groups, enabled=self.show, stream=self.err)
        tasks = sum(1 for s in camp.shards if s.task_id is not None)
        self.bars["send"].update(tasks, f"{tasks}/{groups} batch tasks")


def _counts_text(counts: dict[str, int]) -> str:
    return (
        f"{counts['received']:,} rows: {counts['valid']:,} valid, "
        f"{counts['duplicates']:,} duplicates, {counts['invalid']:,} invalid"
    )


def _print_problems(validator: Any, err: TextIO) -> None:
    for problem in validator.problems[:_REPORTED_ROWS]:
        where = f".{problem.field}" if problem.field else ""
        print(f"  row {problem.index + 1}{where}: {problem.message}", file=err)
    if validator.invalid > _REPORTED_ROWS:
        print(f"  ... and {validator.invalid - _REPORTED_ROWS:,} more invalid rows", file=err)


def _report(camp: Any, as_json: bool) -> int:
    from sesrelay.campaigns.model import ACTIVE_STATES, campaign_view

    view = campaign_view(camp)
    if as_json:
        print(json.dumps(view, ensure_ascii=False, indent=2))
    else:
        print(f"campaign {camp.id}: {camp.state} ({_counts_text(camp.counts)})")
        for shard in view["Shards"]:
            print(
                f"  group {shard['ReceiverName']} (ReceiverId {shard['ReceiverId']}): "
                f"{shard['Rows']:,} recipients, task {shard['TaskId']}"
            )
        print("task ids: " + " ".join(str(task) for task in view["TaskIds"]))
    for error in camp.errors:
        print(f"sesrelay campaign: {error.get('Code')}: {error.get('Message')}", file=sys.stderr)
    if camp.state in ACTIVE_STATES:
        print(
            f"campaign {camp.id} is still {camp.state}; the campaigns-finisher timer job "
            "finishes it (locally: sesrelay invoke events/timer_campaigns-finisher.json)",
            file=sys.stderr,
        )
        return EXIT_PENDING
    return EXIT_OK if camp.state in ("sent", "scheduled") else EXIT_REFUSED
