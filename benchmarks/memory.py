"""Peak memory of one SCF instance under each kind of work it does, and the memorySize it needs.

Each workload runs in a fresh interpreter that imports `handler` and calls `main_handler`, as
SCF does, with the state store in a temporary SQLite file (the default on SCF without Redis);
the SES emulator runs in a process of its own, so its memory is not counted. The peak is the
resident set's high-water mark (VmHWM) after the workload.

The workloads: a burst of HTTP sends with Idempotency-Keys, signed webhook deliveries, timer
job ticks, a campaign at the largest body SCF accepts (6 MB, synchronous invocation), and the
campaigns finisher driving that campaign on.

From the largest peak, plus a margin, it picks the smallest memorySize SCF offers (64 MB, or
128 to 3072 in steps of 128) and prints what a million warm HTTP sends cost in GB-seconds at
that size and at 128 MB (SCF bills memorySize x duration; multiply by the region's unit price).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.pycache import run_script

ROOT = Path(__file__).resolve().parents[1]
API_KEY = "sr_memory_bench_key"
GITHUB_SECRET = "memory-bench-github-secret"  # noqa: S105 - a benchmark's own test value
#: Headroom over the largest peak: Python's heap grows in steps, and SCF kills an instance that
#: goes over its memorySize.
MARGIN = 1.25
SCF_SIZES = [64, *range(128, 3072 + 1, 128)]
#: SCF's limit for a synchronous invocation's event (the function URL's body included).
MAX_SYNC_EVENT_BYTES = 6 * 1024 * 1024

INSTANCE = """
import json, os, resource, time
import handler
from benchmarks.memory_work import WORKLOADS

def peak_kb():
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kB on Linux

events = WORKLOADS[os.environ["BENCH_WORKLOAD"]]()
durations = []
for event, context in events:
    start = time.perf_counter()
    reply = handler.main_handler(event, context)
    durations.append(time.perf_counter() - start)
    status = reply.get("statusCode", 200) if isinstance(reply, dict) else 200
    assert status < 300, (status, str(reply)[:300])
warm = sorted(durations[1:] or durations)  # the first call pays the imports
print(json.dumps({"peak_kb": peak_kb(), "calls": len(durations),
                  "warm_ms": 1000 * warm[len(warm) // 2]}))
"""


def _environment(emulator_url: str, state_dir: Path) -> dict[str, str]:
    from sesrelay.emulator import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY

    env = {k: v for k, v in os.environ.items() if not k.startswith(("SESRELAY_", "TENCENTCLOUD_"))}
    env.update(
        PYTHONPATH=f"{ROOT / 'lib'}{os.pathsep}{ROOT}",
        SESRELAY_SES_ENDPOINT=emulator_url,
        TENCENTCLOUD_SECRET_ID=DEFAULT_SECRET_ID,
        TENCENTCLOUD_SECRET_KEY=DEFAULT_SECRET_KEY,
        SESRELAY_API_KEY_SHA256=hashlib.sha256(API_KEY.encode()).hexdigest(),
        SESRELAY_STATE_URL=f"sqlite:///{state_dir / 'state.sqlite3'}",
        SESRELAY_CONFIG=str(ROOT / "sesrelay.yaml"),
        GITHUB_WEBHOOK_SECRET=GITHUB_SECRET,
        STRIPE_WEBHOOK_SECRET="unused",  # noqa: S106 - the shipped config names it
        SESRELAY_SES_EVENTS_TOKEN="memory-bench-callback-token",  # noqa: S106 - a test value
        SESRELAY_SES_RATE="0",  # the instance's own memory, not waits for the SES rate limit
        BENCH_MAX_BODY=str(MAX_SYNC_EVENT_BYTES),
    )
    return env


def measure(workload: str, env: dict[str, str]) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(
        run_script(INSTANCE, {**env, "BENCH_WORKLOAD": workload}, ROOT)
    )
    return result


def size_for(peak_mb: float) -> int:
    """The smallest memorySize SCF offers that holds `peak_mb` with the margin."""
    needed = peak_mb * MARGIN
    sizes: list[int] = [size for size in SCF_SIZES if size >= needed]
    return sizes[0]


def run(quick: bool = False) -> None:
    from benchmarks.emulator_process import emulator_process

    order = ["http_burst", "webhook", "timer", "campaign_max_body", "campaigns_finisher"]
    rows: list[tuple[str, dict[str, Any]]] = []
    with emulator_process() as emulator, tempfile.TemporaryDirectory() as tmp:
        env = _environment(emulator.url, Path(tmp))
        if quick:
            env["BENCH_QUICK"] = "1"
        for workload in order:  # the finisher drives on the campaign the one before it started
            rows.append((workload, measure(workload, env)))
    print("(memory) peak RSS of one instance per kind of work (VmHWM; emulator in another process)")
    print(f"    {'workload':<22}{'calls':>7}{'peak RSS':>12}{'warm call':>12}")
    for name, row in rows:
        peak_mb, warm_ms = row["peak_kb"] / 1024, row["warm_ms"]
        print(f"    {name:<22}{row['calls']:>7}{peak_mb:>9.1f} MB{warm_ms:>9.1f} ms")
    peak = max(row["peak_kb"] for _, row in rows) / 1024
    size = size_for(peak)
    print(f"    largest peak {peak:.1f} MB x {MARGIN} margin -> memorySize {size} MB")
    http = dict(rows)["http_burst"]
    for mb in sorted({size, 128}):
        gbs = mb / 1024 * http["warm_ms"] / 1000 * 1_000_000
        print(
            f"    1,000,000 warm HTTP sends at {mb:>4} MB: {gbs:,.0f} GB-s "
            f"(duration {http['warm_ms']:.1f} ms each, as measured here)"
        )
    ratio = size / 128
    print(f"    ratio of resource usage {size} MB / 128 MB at the same duration: {ratio:.2f}x")
