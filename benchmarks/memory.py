"""Peak memory of one SCF instance under each kind of work it does, and the memorySize it needs.

Each workload runs in a fresh interpreter that imports `handler` and calls `main_handler`, as
SCF does, with the state store in a temporary SQLite file (the default on SCF without Redis);
the SES emulator runs in a process of its own, so its memory is not counted. The peak is the
resident set's high-water mark (VmHWM) after the workload.

The workloads: a burst of HTTP sends with Idempotency-Keys, signed webhook deliveries, timer
job ticks, a campaign at the largest body SCF accepts (6 MB, synchronous invocation), and the
campaigns finisher driving that campaign on.

From the largest peak, plus a margin, it picks the smallest memorySize SCF offers (64 MB, or
128 to 3072 in steps of 128), prints what a million calls of each kind cost in GB-seconds at
that size, at 128 MB and at twice the size (SCF bills memorySize x duration; multiply by the
region's unit price), and records the peaks in benchmarks/memory_peaks.json, which
tests/unit/test_serverless_memory.py holds serverless.yml's memorySize to.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
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
WORKLOAD_ORDER = ("http_burst", "webhook", "timer", "campaign_max_body", "campaigns_finisher")
#: The last full run's peaks, which the shipped memorySize must follow.
RECORD = ROOT / "benchmarks" / "memory_peaks.json"

INSTANCE = """
import json, os, time
import handler
from benchmarks.memory_work import WORKLOADS
from benchmarks.rss import peak_kb

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

    rows: list[tuple[str, dict[str, Any]]] = []
    with emulator_process() as emulator, tempfile.TemporaryDirectory() as tmp:
        env = _environment(emulator.url, Path(tmp))
        if quick:
            env["BENCH_QUICK"] = "1"
        for workload in WORKLOAD_ORDER:  # the finisher drives on the campaign started before it
            rows.append((workload, measure(workload, env)))
    peak = max(row["peak_kb"] for _, row in rows) / 1024
    size = size_for(peak)
    report(rows, size)
    if quick:
        print("    (--quick: smaller bodies, so nothing is recorded)")
    else:
        record(rows, size)
        print(f"    recorded in {RECORD.relative_to(ROOT)}")


def gb_seconds(memory_mb: int, duration_ms: float, invocations: int = 1_000_000) -> float:
    """What SCF bills for `invocations` of `duration_ms` at `memory_mb`: memory x duration."""
    return memory_mb / 1024 * duration_ms / 1000 * invocations


def report(rows: list[tuple[str, dict[str, Any]]], size: int) -> None:
    """The table: peak and duration per workload, and GB-s per million calls at each size."""
    sizes = sorted({size, 128, 2 * size})
    print("(memory) peak RSS of one instance per kind of work (VmHWM; emulator in another process)")
    header = "".join(f"{f'GB-s/1M @{mb}':>15}" for mb in sizes)
    print(f"    {'workload':<22}{'calls':>6}{'peak RSS':>11}{'per call':>11}{header}")
    for name, row in rows:
        peak_mb, ms = row["peak_kb"] / 1024, row["warm_ms"]
        costs = "".join(f"{gb_seconds(mb, ms):>15,.0f}" for mb in sizes)
        print(f"    {name:<22}{row['calls']:>6}{peak_mb:>8.1f} MB{ms:>8.1f} ms{costs}")
    peak = max(row["peak_kb"] for _, row in rows) / 1024
    print(f"    largest peak {peak:.1f} MB x {MARGIN} margin -> memorySize {size} MB")
    print("    per call: the median of the warm calls (a single call includes the imports)")
    print("    GB-s/1M: memorySize x that duration, a million times; multiply by the region's")
    print("    price per GB-s and add the per-invocation fee (SCF's pricing page)")


def record(rows: list[tuple[str, dict[str, Any]]], size: int) -> None:
    """The numbers serverless.yml's memorySize follows (tests/unit/test_serverless_memory.py)."""
    data = {
        "python": platform.python_version(),
        "margin": MARGIN,
        "peak_mb": {name: round(row["peak_kb"] / 1024, 1) for name, row in rows},
        "memory_size_mb": size,
    }
    RECORD.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
