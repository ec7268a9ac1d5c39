"""`sesrelay campaign send recipients.csv ...`: a campaign from a CSV file, streamed, with progress.

Before the first write to SES it asks SES whether the campaign can be sent at all (the sender,
the template and its variables against the file's columns; campaigns.preflight): a refusal
there creates nothing. Imports only the standard library at module level, so `sesrelay --help`
stays fast; the relay loads when the command runs. Works against real SES or the emulator, like
`sesrelay invoke`. Exit statuses: 0 sent or scheduled; 1 refused (bad rows, or SES would refuse
the sender, template or columns), failed, or stopped because SES could not be reached; 2 bad
options or an unreadable file; 3 still running when --timeout ran out (or interrupted).
"""

from __future__ import annotations

import argparse
import collections
import io
import os
import sys
from collections.abc import Iterator
from typing import IO, Any

from sesrelay.cli.campaign_report import (
    EXIT_PENDING,
    EXIT_REFUSED,
    EXIT_USAGE,
    Progress,
    counts_text,
    failure_text,
    print_problems,
    report,
)
from sesrelay.cli.local_env import default_to_local_emulator


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
    """`sesrelay campaign send`: the exit status (see the module docstring)."""
    default_to_local_emulator()  # no credentials: the local `sesrelay emulator`, as `invoke` does
    from sesrelay import logs

    logs.configure("WARNING", to_stderr=True)
    return _Send(args).run()


class _Send:
    """One `campaign send`: check the options, ask SES, stream the file into blocks, drive SES."""

    def __init__(self, args: argparse.Namespace) -> None:
        from sesrelay.wiring import build_services

        self.args, self.err = args, sys.stderr
        self.show = not args.no_progress
        self.services = build_services()
        self.bars: dict[str, Progress] = {}
        settings = self.services.settings
        self.endpoint = settings.ses_endpoint or f"https://{settings.ses_host()}"

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
            return self._run_file(raw, 0 if path == "-" else os.fstat(raw.fileno()).st_size)

    def _run_file(self, raw: IO[bytes], size: int) -> int:
        from sesrelay.campaigns.csv import CsvRecipients

        check = Progress("validate", size, enabled=self.show, stream=self.err)
        try:
            source = CsvRecipients(
                _lines(raw, check, size),
                email_column=self.args.email_column,
                defaults=self.spec.defaults(),
            )
        except (ValueError, UnicodeDecodeError) as exc:  # header problems, not UTF-8
            print(f"\nsesrelay campaign: {self.args.csv}: {exc}", file=self.err)
            return EXIT_USAGE
        refused = self._preflight(source, check)
        if refused is None:
            return EXIT_REFUSED
        failed = self._stage(source, check, size, refused=bool(refused))
        return failed if failed is not None else self._launch()

    def _preflight(self, source: Any, check: Progress) -> list[Any] | None:
        """Ask SES about the sender and the template, before anything is created: the problems
        (printed), or None when SES could not be asked (printed too)."""
        from sesrelay.campaigns.preflight import DataSource
        from sesrelay.campaigns.preflight import check as preflight
        from sesrelay.clock import Deadline
        from sesrelay.errors import RelayError, SesError

        name = "standard input" if self.args.csv == "-" else self.args.csv
        data = DataSource(f"{name} line 1 (the header)", "no column and no --template-data default")
        provided = {*source.columns, *self.spec.defaults()}
        deadline = Deadline(self.services.clock, self.args.timeout)
        lead = "\n" if check.live else ""  # past a half-drawn progress bar
        try:
            found = preflight(self.services.ses, self.spec, provided, data, deadline)
        except RelayError as error:
            said = failure_text(error.code, error.message, self.endpoint)
            retry = isinstance(error, SesError) and error.retryable
            print(
                f"{lead}sesrelay campaign: {said}. Nothing was created or sent (the sender and "
                "template are checked with SES first)"
                + ("; try again once SES answers" if retry else ""),
                file=self.err,
            )
            return None
        for item in found:
            print(f"{lead}sesrelay campaign: {item.field}: {item.message}", file=self.err)
            lead = ""
        return found

    def _stage(self, source: Any, check: Progress, size: int, *, refused: bool) -> int | None:
        """Validate every row; store them unless SES already refused the campaign (then the
        rows are only reported, so one run lists every problem)."""
        from sesrelay.campaigns.rows import RowValidator
        from sesrelay.campaigns.service import CampaignBuilder

        self.validator = validator = RowValidator(
            self.spec.defaults(), subject=self.spec.Subject, line_of=lambda: source.line
        )
        builder = None
        try:
            rows = validator.validate(source)
            if refused:
                collections.deque(rows, maxlen=0)  # a report only: nothing is stored
            else:
                self.builder = builder = CampaignBuilder(self.services, self.spec, validator)
                builder.stage(rows)
        except (ValueError, UnicodeDecodeError) as exc:  # a broken row, not UTF-8
            print(f"\nsesrelay campaign: {self.args.csv}: {exc}", file=self.err)
            if builder is not None:
                builder.abandon("malformed_request", f"the CSV file could not be read: {exc}")
            return EXIT_USAGE
        check.close(size, counts_text(validator.counts()))
        print_problems(validator, self.err)
        if refused:
            print(
                "refused: SES would refuse this campaign; nothing was created or sent",
                file=self.err,
            )
            return EXIT_REFUSED
        strict = validator.invalid and self.spec.Validation == "strict"
        if strict or not validator.valid:
            reason = "invalid rows (strict validation)" if strict else "no valid recipient"
            assert builder is not None
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
        elif "upload" in self.bars:
            self.bars["upload"].close(sum(s.uploaded for s in camp.shards))
        return report(
            camp,
            as_json=self.args.json,
            paused=self.builder.paused,
            endpoint=self.endpoint,
            timeout=self.args.timeout,
        )

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
