"""Peak memory of one warm instance: resident set high-water mark after N sends.

The instance is a fresh interpreter of its own that imports `handler` and sends through
`main_handler`; the emulator runs in another process, so its memory is not counted.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from benchmarks.pycache import run_script
from benchmarks.stats import verdict

ROOT = Path(__file__).resolve().parents[1]

# Each send carries its own Idempotency-Key, so the memory store holds one record per send: the
# most a warm instance's own memory can be asked to hold for its requests.
INSTANCE = """
import json, os
import handler
from benchmarks.rss import peak_kb

event = json.loads(os.environ["BENCH_EVENT"])
context = {"request_id": "rss", "time_limit_in_ms": 30000}
peaks = {}
for n in range(1, int(os.environ["BENCH_SENDS"]) + 1):
    event["headers"]["idempotency-key"] = f"rss-{n}"
    reply = handler.main_handler(event, context)
    assert reply["statusCode"] == 202, reply
    if n == 1:
        peaks["first"] = peak_kb()
peaks["last"] = peak_kb()
print(json.dumps(peaks))
"""


def bench_memory(event: dict[str, Any], api_key_sha256: str, sends: int, target_mb: int) -> None:
    from benchmarks.emulator_process import emulator_process
    from sesrelay.emulator import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY

    with emulator_process() as emulator:
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("SESRELAY_", "TENCENTCLOUD_"))
        }
        env.update(
            SESRELAY_SES_ENDPOINT=emulator.url,
            TENCENTCLOUD_SECRET_ID=DEFAULT_SECRET_ID,
            TENCENTCLOUD_SECRET_KEY=DEFAULT_SECRET_KEY,
            SESRELAY_API_KEY_SHA256=api_key_sha256,
            SESRELAY_STATE_URL="memory://",
            SESRELAY_SES_RATE="0",  # the instance's own memory, not waits for the SES rate limit
            BENCH_EVENT=json.dumps(event),
            BENCH_SENDS=str(sends),
        )
        peaks = json.loads(run_script(INSTANCE, env, ROOT))
    first, last = peaks["first"] / 1024, peaks["last"] / 1024
    print("(d) peak RSS of one warm instance (VmHWM), emulator in another process")
    print(f"    after its first send       {first:.1f} MB")
    print(
        f"    after {sends} sends            {last:.1f} MB  "
        f"(target <= {target_mb} MB: {verdict(last <= target_mb)})"
    )
