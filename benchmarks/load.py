"""Fleet load test: does the relay hold SES's 20 requests/s across many SCF instances?

N spawned worker processes (SCF instances, warm) share one redis-server (SESRELAY_STATE_URL) and
send M POST /v1/emails events, each with its own Idempotency-Key and recipient, through
`handler.main_handler` to the emulator with its 20/s per-action limit on. Reports what was
accepted, what SES (the emulator) refused, the achieved rate, latency, and any mail lost or sent
twice. Defaults: 8 workers, 400 requests; `--quick`: 3 workers, 60 requests. Override with the
LOAD_WORKERS, LOAD_REQUESTS and LOAD_SES_RATE (SESRELAY_SES_RATE of the workers) variables.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import queue
import sys
import time
import traceback
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.stats import percentile

ROOT = Path(__file__).resolve().parents[1]
API_KEY = "sr_load_key"
SES_CEILING = 20  # SES requests/s per action (its default limit), the emulator's limit too
TARGET_RATIO = 0.9
WORKERS, REQUESTS = 8, 400
QUICK_WORKERS, QUICK_REQUESTS = 3, 60
DEFAULT_SES_RATE = 20  # the product default; LOAD_SES_RATE=0 shows the fleet without a limiter
CONTEXT_MS = 30_000  # an SCF function timeout; the deadline a request may wait for its slot


def recipient(index: int) -> str:
    return f"load-{index:06d}@example.org"


def send_event(index: int, run_id: str) -> dict[str, Any]:
    params = {
        "FromEmailAddress": "noreply@example.com",
        "Destination": [recipient(index)],
        "Subject": "Welcome, {{name}}",
        "Template": {"TemplateID": 100001, "TemplateData": {"name": f"load {index}"}},
        "TriggerType": 1,
    }
    return {
        "httpMethod": "POST",
        "path": "/v1/emails",
        "headers": {
            "authorization": f"Bearer {API_KEY}",
            "content-type": "application/json",
            "idempotency-key": f"load-{run_id}-{index:06d}",
        },
        "queryString": {},
        "body": json.dumps(params),
    }


@dataclass(frozen=True)
class Sample:
    index: int
    status: int
    code: str | None
    started: float  # wall clock (time.time()), comparable across the workers
    ended: float


def _worker(
    env: dict[str, str], indices: list[int], run_id: str, barrier: Any, results: Any
) -> None:
    """One SCF instance: configured by the environment, warm before the start, then sequential
    (an SCF instance handles one request at a time)."""
    try:
        for name in list(os.environ):
            if name.startswith(("SESRELAY_", "TENCENTCLOUD_")):
                del os.environ[name]
        os.environ.update(env)
        if str(ROOT) not in sys.path:
            sys.path.insert(0, str(ROOT))
        import logging

        import handler

        logging.getLogger("sesrelay").disabled = True  # 400 JSON lines would drown the report
        health = {"httpMethod": "GET", "path": "/v1/health", "headers": {}, "queryString": {}}
        warm = handler.main_handler(health, {"request_id": "warm"})  # builds the services
        if warm["statusCode"] != 200:
            raise RuntimeError(f"warm-up failed: {warm}")
        barrier.wait(timeout=120)
        samples: list[Sample] = []
        for index in indices:
            context = {"request_id": f"load-{index}", "time_limit_in_ms": CONTEXT_MS}
            started = time.time()
            reply = handler.main_handler(send_event(index, run_id), context)
            ended = time.time()
            status = int(reply["statusCode"])
            code = None if status == 202 else json.loads(reply["body"]).get("code")
            samples.append(Sample(index, status, code, started, ended))
        results.put(("ok", samples))
    except BaseException:
        results.put(("error", traceback.format_exc()))
        raise


@dataclass
class LoadReport:
    workers: int
    requests: int
    ses_rate: int
    answers: Counter[str] = field(default_factory=Counter)
    accepted: int = 0
    outbox: int = 0
    ses_calls: int = 0
    refused_by_ses: int = 0
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    rate: float = 0.0  # accepted sends per second, first to last
    p50: float = 0.0
    p99: float = 0.0
    window: float = 0.0  # from the first request's start to the last one's end
    wall: float = 0.0  # including process start, imports and warm-up

    @property
    def ratio(self) -> float:
        return self.rate / SES_CEILING

    def misses(self) -> list[str]:
        """Targets not met (the rate target is left out of runs too small to measure it)."""
        out = []
        if self.accepted != self.requests:
            out.append(f"{self.requests - self.accepted} request(s) not accepted")
        if self.refused_by_ses:
            out.append(f"{self.refused_by_ses} RequestLimitExceeded at SES")
        if self.lost:
            out.append(f"{len(self.lost)} lost")
        if self.duplicated:
            out.append(f"{len(self.duplicated)} duplicated")
        if self.requests >= 100 and self.ratio < TARGET_RATIO:
            out.append(f"rate {self.ratio:.2f}x < {TARGET_RATIO}x")
        return out

    def lines(self) -> list[str]:
        others = {k: v for k, v in sorted(self.answers.items()) if k != "202"}
        return [
            f"workers (SCF instances)        {self.workers}, sharing one redis-server",
            f"requests                       {self.requests} POST /v1/emails, one recipient each",
            f"SESRELAY_SES_RATE              {self.ses_rate}/s per action (0: no limiter)",
            f"accepted (202)                 {self.accepted}"
            + (f"  other answers: {others}" if others else ""),
            f"sends in the outbox            {self.outbox}",
            f"SES SendEmail calls            {self.ses_calls}",
            f"RequestLimitExceeded by SES    {self.refused_by_ses}  (target 0)",
            f"achieved sends/s               {self.rate:.2f} = {self.ratio:.3f}x of "
            f"{SES_CEILING}/s (target >= {TARGET_RATIO}x)",
            f"latency per request            p50 {self.p50 * 1000:.0f} ms  "
            f"p99 {self.p99 * 1000:.0f} ms",
            f"lost (accepted, not sent)      {len(self.lost)}  (target 0)",
            f"duplicated                     {len(self.duplicated)}  (target 0)",
            f"send window / wall time        {self.window:.2f} s / {self.wall:.2f} s "
            "(wall: process start, imports, warm-up included)",
        ]


def run_load(
    workers: int, requests: int, redis_url: str, *, ses_rate: int = DEFAULT_SES_RATE
) -> LoadReport:
    """Start the emulator (20/s limit on) and `workers` processes against `redis_url`."""
    from sesrelay.emulator import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, EmulatorServer

    run_id = uuid.uuid4().hex[:10]
    report = LoadReport(workers=workers, requests=requests, ses_rate=ses_rate)
    with EmulatorServer(port=0, rate_limit=SES_CEILING) as emulator:
        env = {
            "SESRELAY_STATE_URL": redis_url,
            "SESRELAY_SES_ENDPOINT": emulator.url,
            "SESRELAY_SES_RATE": str(ses_rate),
            "TENCENTCLOUD_SECRET_ID": DEFAULT_SECRET_ID,
            "TENCENTCLOUD_SECRET_KEY": DEFAULT_SECRET_KEY,
            "SESRELAY_API_KEY_SHA256": hashlib.sha256(API_KEY.encode()).hexdigest(),
        }
        ctx = multiprocessing.get_context("spawn")
        barrier = ctx.Barrier(workers)
        results = ctx.Queue()
        procs = [
            ctx.Process(
                target=_worker,
                args=(env, list(range(n, requests, workers)), run_id, barrier, results),
                name=f"load-worker-{n}",
            )
            for n in range(workers)
        ]
        started = time.time()
        for proc in procs:
            proc.start()
        samples: list[Sample] = []
        try:
            for _ in procs:
                kind, payload = results.get(timeout=120 + requests / SES_CEILING * 2)
                if kind != "ok":
                    raise RuntimeError(f"a worker failed:\n{payload}")
                samples.extend(payload)
        except queue.Empty:
            raise RuntimeError("a worker did not report in time") from None
        finally:
            for proc in procs:
                proc.join(timeout=10)
                if proc.is_alive():
                    proc.terminate()
                    proc.join(timeout=5)
            results.close()
            results.join_thread()
        report.wall = time.time() - started
        outbox = [m["to"] for m in emulator.outbox() if str(m["to"]).startswith("load-")]
        report.ses_calls = emulator.call_counts().get("SendEmail", 0)
        report.refused_by_ses = emulator.rate_limited_counts().get("SendEmail", 0)
    _summarise(report, samples, outbox)
    return report


def _summarise(report: LoadReport, samples: list[Sample], outbox: list[str]) -> None:
    report.answers = Counter(
        str(s.status) if s.code is None else f"{s.status} {s.code}" for s in samples
    )
    accepted = sorted((s for s in samples if s.status == 202), key=lambda s: s.ended)
    report.accepted = len(accepted)
    report.outbox = len(outbox)
    sent = Counter(outbox)
    report.lost = sorted(recipient(s.index) for s in accepted if sent[recipient(s.index)] == 0)
    report.duplicated = sorted(to for to, n in sent.items() if n > 1)
    if len(accepted) > 1:
        span = accepted[-1].ended - accepted[0].ended
        # Intervals between the first and the last accepted send: n - 1 of them in `span`.
        report.rate = (len(accepted) - 1) / span if span > 0 else float("inf")
    latencies = [s.ended - s.started for s in samples]
    if samples:
        report.window = max(s.ended for s in samples) - min(s.started for s in samples)
    report.p50 = percentile(latencies, 50)
    report.p99 = percentile(latencies, 99)


def run(quick: bool = False) -> None:
    from benchmarks.redis_process import redis_server

    workers = int(os.environ.get("LOAD_WORKERS", QUICK_WORKERS if quick else WORKERS))
    requests = int(os.environ.get("LOAD_REQUESTS", QUICK_REQUESTS if quick else REQUESTS))
    ses_rate = int(os.environ.get("LOAD_SES_RATE", DEFAULT_SES_RATE))
    print(f"== load: {workers} SCF instances -> emulator at {SES_CEILING} req/s")
    with redis_server() as redis_url:
        report = run_load(workers, requests, redis_url, ses_rate=ses_rate)
    for line in report.lines():
        print(f"    {line}")
    misses = report.misses()
    print("    verdict: " + ("all targets met" if not misses else "MISSED: " + "; ".join(misses)))
