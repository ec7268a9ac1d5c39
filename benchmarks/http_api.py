"""HTTP API benchmarks (issue 3).

(a) warm main_handler invocations (function-URL event -> emulator) vs raw SDK calls, p50/p99;
    target <= 1.15x at p50.
(b) sends per second of one warm instance against the emulator with its rate limit off.
(c) cold start: process start to the first 202, vs a process that only imports SDK + pydantic.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.stats import median, ms, percentile

ROOT = Path(__file__).resolve().parents[1]
API_KEY = "sr_bench_key"
PARAMS: dict[str, Any] = {
    "FromEmailAddress": "noreply@example.com",
    "Destination": ["ana@example.org"],
    "Subject": "Welcome, {{name}}",
    "Template": {"TemplateID": 100001, "TemplateData": '{"name": "Ana"}'},
}


def http_event(key: str | None) -> dict[str, Any]:
    headers = {"authorization": f"Bearer {API_KEY}", "content-type": "application/json"}
    if key:
        headers["idempotency-key"] = key
    return {
        "httpMethod": "POST",
        "path": "/v1/emails",
        "headers": headers,
        "queryString": {},
        "body": json.dumps(PARAMS),
    }


CONTEXT = {"request_id": "bench", "time_limit_in_ms": 30000}


def _runtime(url: str) -> Any:
    from sesrelay.adapters.state_memory import MemoryStateStore
    from sesrelay.clock import SystemClock
    from sesrelay.emulator import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY
    from sesrelay.runtime import Runtime
    from sesrelay.settings import Settings
    from sesrelay.wiring import build_services

    clock = SystemClock()
    settings = Settings(
        ses_endpoint=url,
        secret_id=DEFAULT_SECRET_ID,
        secret_key=DEFAULT_SECRET_KEY,
        api_key_sha256=[hashlib.sha256(API_KEY.encode()).hexdigest()],
        ses_rate=0,  # one instance's own cost, not the SES rate limit (see `load`)
    )
    return Runtime(build_services(settings, clock=clock, state=MemoryStateStore(clock)))


def bench_warm(count: int) -> None:
    import logging

    from tencentcloud.common import credential
    from tencentcloud.common.profile.client_profile import ClientProfile
    from tencentcloud.common.profile.http_profile import HttpProfile
    from tencentcloud.ses.v20201002 import models, ses_client

    from benchmarks.emulator_process import emulator_process
    from sesrelay.emulator import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY

    logging.getLogger("sesrelay").disabled = True  # measure the work, not the terminal
    with emulator_process() as emulator:
        http = HttpProfile(endpoint=emulator.endpoint, protocol="http")
        raw = ses_client.SesClient(
            credential.Credential(DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY),
            "ap-singapore",
            ClientProfile(httpProfile=http),
        )
        runtime = _runtime(emulator.url)
        body = json.dumps(PARAMS)

        def raw_send() -> None:
            req = models.SendEmailRequest()
            req.from_json_string(body)
            raw.SendEmail(req)

        counter = iter(range(10**9))

        def plain_send() -> None:
            reply = runtime.handle(http_event(None), CONTEXT)
            assert reply["statusCode"] == 202, reply

        def keyed_send() -> None:
            reply = runtime.handle(http_event(f"bench-{next(counter)}"), CONTEXT)
            assert reply["statusCode"] == 202, reply

        for fn in (raw_send, plain_send, keyed_send):
            for _ in range(20):
                fn()
        raw_t: list[float] = []
        plain_t: list[float] = []
        keyed_t: list[float] = []
        for _ in range(count):  # interleaved, so the emulator's drift hits all three alike
            for fn, bucket in ((raw_send, raw_t), (plain_send, plain_t), (keyed_send, keyed_t)):
                start = time.perf_counter()
                fn()
                bucket.append(time.perf_counter() - start)
        p50r, p50p, p50k = (percentile(t, 50) for t in (raw_t, plain_t, keyed_t))
        print(f"(a) {count} warm invocations each: POST /v1/emails, function-URL event")
        print(f"    raw SDK                  p50 {ms(p50r)}  p99 {ms(percentile(raw_t, 99))}")
        print(
            f"    main_handler             p50 {ms(p50p)}  p99 {ms(percentile(plain_t, 99))}  "
            f"ratio p50 {p50p / p50r:.2f}x (target <= 1.15x)"
        )
        print(
            f"    main_handler + Idempotency-Key (memory store)  p50 {ms(p50k)}  "
            f"p99 {ms(percentile(keyed_t, 99))}  ratio p50 {p50k / p50r:.2f}x"
        )
        handler_send = keyed_send
        n = count * 2
        start = time.perf_counter()
        for _ in range(n):
            handler_send()
        elapsed = time.perf_counter() - start
        print(
            f"(b) one warm instance, {n} sequential sends, rate limit off: "
            f"{n / elapsed:.0f} sends/s"
        )


COLD_HANDLER = """
import json, time, hashlib, os
t0 = float(os.environ["BENCH_T0"])
import handler
context = {"request_id": "cold", "time_limit_in_ms": 30000}
reply = handler.main_handler(json.loads(os.environ["BENCH_EVENT"]), context)
assert reply["statusCode"] == 202, reply
print(time.time() - t0)
"""
COLD_FLOOR = """
import time, os
t0 = float(os.environ["BENCH_T0"])
from pydantic import BaseModel, Field, ValidationError
from tencentcloud.common import credential
from tencentcloud.ses.v20201002 import ses_client, models
print(time.time() - t0)
"""


def bench_cold(rounds: int) -> None:
    from sesrelay.emulator import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, EmulatorServer

    with EmulatorServer(port=0, rate_limit=None) as emulator:
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("SESRELAY_", "TENCENTCLOUD_"))
        }
        env.update(
            PYTHONDONTWRITEBYTECODE="1",
            SESRELAY_SES_ENDPOINT=emulator.url,
            TENCENTCLOUD_SECRET_ID=DEFAULT_SECRET_ID,
            TENCENTCLOUD_SECRET_KEY=DEFAULT_SECRET_KEY,
            SESRELAY_API_KEY_SHA256=hashlib.sha256(API_KEY.encode()).hexdigest(),
            SESRELAY_STATE_URL="memory://",
            BENCH_EVENT=json.dumps(http_event("cold-key")),
        )
        samples: dict[str, list[float]] = {"floor": [], "handler": []}
        for _ in range(rounds):
            for name, code in (("floor", COLD_FLOOR), ("handler", COLD_HANDLER)):
                env["BENCH_T0"] = repr(time.time())
                out = subprocess.run(
                    [sys.executable, "-c", code],
                    cwd=ROOT,
                    env=env,
                    capture_output=True,
                    text=True,
                    check=True,
                )
                samples[name].append(float(out.stdout.strip().splitlines()[-1]))
    floor, handler = median(samples["floor"]), median(samples["handler"])
    print(f"(c) cold start, median of {rounds}: process start -> ...")
    print(f"    ... SDK + pydantic imported (floor)   {ms(floor)}")
    print(f"    ... first 202 from main_handler       {ms(handler)}  ratio {handler / floor:.2f}x")


def run(quick: bool = False) -> None:
    print("== http_api (issue 3)")
    bench_warm(50 if quick else 500)
    bench_cold(3 if quick else 10)
