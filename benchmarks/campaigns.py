"""Campaign benchmarks: campaigns past the recipient-group limits of SES.

(a) validate + dedupe + chunk 1,000,000 CSV rows (email + 3 data columns), streamed from a file
    in a fresh process: rows/s (target >= 100,000) and peak RSS (target < 200 MB).
(b) a 100,000-recipient campaign against the emulator (its 20/s rate limit on, 1 s uploads):
    wall time, and SES calls by action against the fewest the limits allow (plus polls).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import io, json, resource, sys, time
from sesrelay.campaigns.csv import CsvRecipients
from sesrelay.campaigns.rows import RowValidator, blocks, plan_shards

path = sys.argv[1]
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start, cpu = time.perf_counter(), time.process_time()
validator = RowValidator()
with open(path, encoding="utf-8", newline="") as handle:
    sizes = [len(block) for block in blocks(validator.validate(CsvRecipients(handle)))]
plan = plan_shards(sizes)
elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
print(json.dumps({
    "seconds": elapsed, "cpu_seconds": cpu, "counts": validator.counts(), "groups": len(plan),
    "uploads": sum(len(shard) for shard in plan),
    "rss_start_kb": before, "rss_peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
}))
"""


def write_csv(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write("email,name,city,plan\n")
        cities = ("Berlin", "Lisbon", "Chengdu", "Lagos", "Lima")
        for start in range(0, rows, 10_000):
            handle.write(
                "".join(
                    f"user{n:07d}@example.org,User {n},{cities[n % 5]},{('free', 'pro')[n % 2]}\n"
                    for n in range(start, min(start + 10_000, rows))
                )
            )


def bench_validate(rows: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "recipients.csv"
        write_csv(path, rows)
        size = path.stat().st_size
        env = {**os.environ, "PYTHONPATH": f"{ROOT / 'lib'}"}
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(path)],
            capture_output=True,
            text=True,
            check=True,
            env=env,
            cwd=ROOT,
        )
    result = json.loads(out.stdout)
    rate = rows / result["seconds"]
    print(f"(a) validate + dedupe + chunk {rows:,} CSV rows ({size / 1e6:.0f} MB, 3 data columns)")
    print(
        f"    {result['seconds']:.2f} s = {rate:,.0f} rows/s (target >= 100,000); "
        f"CPU {result['cpu_seconds']:.2f} s = {rows / result['cpu_seconds']:,.0f} rows/s; "
        f"plan: {result['groups']} groups, {result['uploads']} uploads"
    )
    print(
        f"    peak RSS {result['rss_peak_kb'] / 1024:.0f} MB (target < 200 MB; "
        f"{result['rss_start_kb'] / 1024:.0f} MB after imports)"
    )


def fewest_calls(rows: int) -> dict[str, int]:
    """The fewest writes SES's limits allow: fewest groups, then fewest 20,000-row uploads."""
    groups = math.ceil(rows / 50_000)
    over = max(0, rows - 40_000 * groups)
    uploads = 2 * groups + math.ceil(over / 10_000) if over else math.ceil(rows / 20_000)
    return {
        "CreateReceiver": groups,
        "CreateReceiverDetailWithData": uploads,
        "BatchSendEmail": groups,
    }


class TimedGateway:
    """Passes calls through, adding up the seconds each action spends waiting for SES."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.seconds: dict[str, float] = {}

    def call(self, action: str, params: dict[str, Any], deadline: Any) -> dict[str, Any]:
        start = time.perf_counter()
        try:
            result: dict[str, Any] = self.inner.call(action, params, deadline)
            return result
        finally:
            spent = time.perf_counter() - start
            self.seconds[action] = self.seconds.get(action, 0.0) + spent


def bench_campaign(rows: int) -> None:
    import logging

    from sesrelay.adapters.state_memory import MemoryStateStore
    from sesrelay.campaigns.model import parse_spec
    from sesrelay.campaigns.rows import RowValidator
    from sesrelay.campaigns.service import CampaignBuilder
    from sesrelay.clock import Deadline, SystemClock
    from sesrelay.emulator import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, EmulatorServer
    from sesrelay.settings import Settings
    from sesrelay.wiring import build_services

    logging.getLogger("sesrelay").disabled = True
    spec_body: dict[str, Any] = {
        "FromEmailAddress": "news@example.com",
        "Subject": "Hello {{name}}",
        "Template": {"TemplateID": 100001},
    }
    with EmulatorServer(port=0, rate_limit=20, upload_seconds=1.0) as emulator:
        clock = SystemClock()
        settings = Settings(
            environ={},
            ses_endpoint=emulator.url,
            secret_id=DEFAULT_SECRET_ID,
            secret_key=DEFAULT_SECRET_KEY,
        )
        services = build_services(settings, clock=clock, state=MemoryStateStore(clock))
        timed = services.ses = TimedGateway(services.ses)
        start = time.perf_counter()
        spec = parse_spec(spec_body, now=clock.now())
        validator = RowValidator()
        builder = CampaignBuilder(services, spec, validator)
        builder.stage(
            validator.validate(
                (f"u{n:07d}@example.org", {"name": f"User {n}"}) for n in range(rows)
            )
        )
        staged = time.perf_counter()
        camp = builder.launch(Deadline(clock, 600))
        done = time.perf_counter()
        counts = emulator.call_counts()
        assert camp.state == "sent", camp.errors or camp.last_error
        mails = len(emulator.ses.state.outbox)
    print(f"(b) a {rows:,}-recipient campaign against the emulator (20/s limit, 1 s uploads)")
    print(
        f"    wall {done - start:.2f} s: validate + stage {staged - start:.2f} s, "
        f"SES {done - staged:.2f} s; {len(camp.shards)} groups, {mails:,} mails"
    )
    minimum = fewest_calls(rows)
    for action in sorted(counts):
        note = f"(fewest possible: {minimum[action]})" if action in minimum else "(polls)"
        spent = timed.seconds.get(action, 0.0)
        print(f"    {action:<30} {counts[action]:>4} calls {spent:6.2f} s  {note}")


def run(quick: bool = False) -> None:
    print("== campaigns")
    bench_validate(100_000 if quick else 1_000_000)
    bench_campaign(20_000 if quick else 100_000)
