"""HTTP API benchmarks: POST /v1/emails through `main_handler`, against baselines and targets.

(a) warm invocations (function-URL event -> emulator in its own process) vs raw SDK calls to the
    same emulator, p50: plain (target <= 1.10x) and with an Idempotency-Key on the memory store,
    SESRELAY_STATE_URL=memory:// (target <= 1.15x).
(b) sends per second of one warm instance, the SES rate limiter off (no baseline; for trends).
(c) cold start, process start to the first 202, vs a process that only imports the SDK and
    pydantic (target <= 1.15x), with every module's bytecode cached and with none.
(d) peak RSS of a warm instance after 300 sends (target <= 64 MB).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from typing import Any

from benchmarks.stats import against, ms, percentile

API_KEY = "sr_bench_key"
API_KEY_SHA256 = hashlib.sha256(API_KEY.encode()).hexdigest()
PARAMS: dict[str, Any] = {
    "FromEmailAddress": "noreply@example.com",
    "Destination": ["ana@example.org"],
    "Subject": "Welcome, {{name}}",
    "Template": {"TemplateID": 100001, "TemplateData": '{"name": "Ana"}'},
}
CONTEXT = {"request_id": "bench", "time_limit_in_ms": 30000}

WARM_TARGET = 1.10  # p50 of a plain send, over the raw SDK call
KEYED_TARGET = 1.15  # p50 of a send with an Idempotency-Key on the memory store
COLD_TARGET = 1.15  # process start to first 202, over the SDK + pydantic import floor
RSS_TARGET_MB = 64  # peak RSS of a warm instance after RSS_SENDS sends
RSS_SENDS = 300


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


def _runtime(url: str) -> Any:
    """A warm instance configured as the environment would: SESRELAY_STATE_URL=memory://."""
    from sesrelay.clock import SystemClock
    from sesrelay.emulator import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY
    from sesrelay.runtime import Runtime
    from sesrelay.settings import Settings
    from sesrelay.wiring import build_services

    settings = Settings(
        environ={},
        ses_endpoint=url,
        secret_id=DEFAULT_SECRET_ID,
        secret_key=DEFAULT_SECRET_KEY,
        api_key_sha256=[API_KEY_SHA256],
        state_url="memory://",
        ses_rate=0,  # one instance's own cost, not the SES rate limit (see `load`)
    )
    return Runtime(build_services(settings, clock=SystemClock()))


def _raw_client(endpoint: str) -> Callable[[], None]:
    """One SendEmail the plain SDK way: the baseline of every warm measurement."""
    from tencentcloud.common import credential
    from tencentcloud.common.profile.client_profile import ClientProfile
    from tencentcloud.common.profile.http_profile import HttpProfile
    from tencentcloud.ses.v20201002 import models, ses_client

    from sesrelay.emulator import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY

    client = ses_client.SesClient(
        credential.Credential(DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY),
        "ap-singapore",
        ClientProfile(httpProfile=HttpProfile(endpoint=endpoint, protocol="http")),
    )
    body = json.dumps(PARAMS)

    def raw_send() -> None:
        req = models.SendEmailRequest()
        req.from_json_string(body)
        client.SendEmail(req)

    return raw_send


def bench_warm(count: int) -> None:
    import logging

    from benchmarks.emulator_process import emulator_process

    logging.getLogger("sesrelay").disabled = True  # measure the work, not the terminal
    with emulator_process() as emulator:
        raw_send = _raw_client(emulator.endpoint)
        runtime = _runtime(emulator.url)
        # Events are built beforehand: the raw SDK side is handed its JSON text ready-made too.
        plain_event = http_event(None)
        keyed_events = iter([http_event(f"bench-{n}") for n in range(20 + count * 3)])

        def plain_send() -> None:
            reply = runtime.handle(plain_event, CONTEXT)
            assert reply["statusCode"] == 202, reply

        def keyed_send() -> None:
            reply = runtime.handle(next(keyed_events), CONTEXT)
            assert reply["statusCode"] == 202, reply

        sends = (raw_send, plain_send, keyed_send)
        for fn in sends:
            for _ in range(20):
                fn()
        times: list[list[float]] = [[], [], []]
        for _ in range(count):  # interleaved, so the emulator's drift hits all three alike
            for fn, bucket in zip(sends, times, strict=True):
                start = time.perf_counter()
                fn()
                bucket.append(time.perf_counter() - start)
        n = count * 2
        start = time.perf_counter()
        for _ in range(n):
            keyed_send()
        rate = n / (time.perf_counter() - start)
    p50r, p50p, p50k = (percentile(t, 50) for t in times)
    p99r, p99p, p99k = (percentile(t, 99) for t in times)
    print(f"(a) warm invocations, {count} each: POST /v1/emails, function-URL event")
    print(f"    raw SDK SendEmail (baseline)              p50 {ms(p50r)}  p99 {ms(p99r)}")
    print(f"    main_handler                              p50 {ms(p50p)}  p99 {ms(p99p)}  ", end="")
    print(against(p50p / p50r, WARM_TARGET))
    print(f"    main_handler + Idempotency-Key, memory:// p50 {ms(p50k)}  p99 {ms(p99k)}  ", end="")
    print(against(p50k / p50r, KEYED_TARGET))
    print(f"(b) one warm instance, {n} sequential keyed sends, rate limit off: {rate:.0f} sends/s")


def run(quick: bool = False) -> None:
    from benchmarks.http_cold import bench_cold
    from benchmarks.http_memory import bench_memory

    print("== http_api: POST /v1/emails, warm, cold and in memory")
    bench_warm(50 if quick else 500)
    bench_cold(http_event("cold-key"), API_KEY_SHA256, 3 if quick else 10, COLD_TARGET)
    bench_memory(http_event(None), API_KEY_SHA256, RSS_SENDS, RSS_TARGET_MB)
