"""Many callers, one Idempotency-Key, at once: exactly one batch reaches SES (SQLite and Redis).

Threads share one warm instance's code but each opens its own store handle, like separate SCF
instances; processes are separate interpreters sharing only the store and the emulator.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from sesrelay.adapters.state_url import open_state_store
from sesrelay.clock import SystemClock
from sesrelay.emulator import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, EmulatorServer
from sesrelay.runtime import Runtime
from sesrelay.settings import Settings
from sesrelay.wiring import build_services

API_KEY = "sr_concurrency_key"
BODY = {
    "FromEmailAddress": "noreply@example.com",
    "ReceiverId": 200001,
    "Subject": "Welcome, {{name}}",
    "TaskType": 1,
    "Template": {"TemplateID": 100001, "TemplateData": {"name": "friend"}},
}


def event(key: str) -> dict[str, Any]:
    return {
        "httpMethod": "POST",
        "path": "/v1/batch-tasks",
        "headers": {
            "authorization": f"Bearer {API_KEY}",
            "content-type": "application/json",
            "idempotency-key": key,
        },
        "queryString": {},
        "body": json.dumps(BODY),
    }


def make_runtime(emulator_url: str, state_url: str) -> Runtime:
    clock = SystemClock()
    settings = Settings(
        ses_endpoint=emulator_url,
        secret_id=DEFAULT_SECRET_ID,
        secret_key=DEFAULT_SECRET_KEY,
        api_key_sha256=[hashlib.sha256(API_KEY.encode()).hexdigest()],
        state_url=state_url,
    )
    return Runtime(build_services(settings, clock=clock, state=open_state_store(state_url, clock)))


def call(runtime: Runtime, key: str) -> tuple[int, dict[str, Any], dict[str, str]]:
    reply = runtime.handle(event(key), {"request_id": "c", "time_limit_in_ms": 20000})
    return reply["statusCode"], json.loads(reply["body"]), reply["headers"]


def _process_worker(
    emulator_url: str, state_url: str, key: str, barrier: Any, results: Any
) -> None:
    runtime = make_runtime(emulator_url, state_url)
    barrier.wait(timeout=30)
    status, body, headers = call(runtime, key)
    results.put((status, body.get("code"), headers.get("idempotent-replayed")))


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer(port=0, rate_limit=None) as server:
        yield server


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def state_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.sqlite3'}"
    redis_url: str = request.getfixturevalue("redis_server")
    return redis_url


def check_outcomes(
    outcomes: list[tuple[int, str | None, str | None]], emulator: EmulatorServer
) -> None:
    accepted = [o for o in outcomes if o[0] == 202 and o[2] is None]
    replays = [o for o in outcomes if o[0] == 202 and o[2] == "true"]
    in_progress = [o for o in outcomes if o[0] == 409 and o[1] == "idempotency_in_progress"]
    assert len(accepted) == 1, outcomes
    assert len(accepted) + len(replays) + len(in_progress) == len(outcomes), outcomes
    assert emulator.call_counts().get("BatchSendEmail", 0) == 1
    assert sorted(m["to"] for m in emulator.outbox()) == [
        "ana@example.org",
        "ben@example.org",
        "chen@example.org",
    ]


def test_fifty_threads_one_key_one_batch(emulator: EmulatorServer, state_url: str) -> None:
    emulator.reset()
    # Hold the first send inside SES for a moment so the others really overlap with it.
    emulator.inject_fault("BatchSendEmail", "delay", count=1, seconds=0.3)
    runtimes = [make_runtime(emulator.url, state_url) for _ in range(50)]
    barrier = threading.Barrier(50)

    def worker(runtime: Runtime) -> tuple[int, str | None, str | None]:
        barrier.wait(timeout=30)
        status, body, headers = call(runtime, "threads-key")
        return status, body.get("code"), headers.get("idempotent-replayed")

    with ThreadPoolExecutor(max_workers=50) as pool:
        outcomes = list(pool.map(worker, runtimes))
    check_outcomes(outcomes, emulator)
    # A later retry replays the stored answer.
    status, _, headers = call(runtimes[0], "threads-key")
    assert (status, headers.get("idempotent-replayed")) == (202, "true")
    assert emulator.call_counts()["BatchSendEmail"] == 1


def test_four_processes_one_key_one_batch(emulator: EmulatorServer, state_url: str) -> None:
    emulator.reset()
    emulator.inject_fault("BatchSendEmail", "delay", count=1, seconds=0.5)
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(4)
    results = ctx.Queue()
    procs = [
        ctx.Process(
            target=_process_worker,
            args=(emulator.url, state_url, "processes-key", barrier, results),
        )
        for _ in range(4)
    ]
    for proc in procs:
        proc.start()
    outcomes = [results.get(timeout=60) for _ in procs]
    for proc in procs:
        proc.join(timeout=30)
        assert proc.exitcode == 0
    results.close()
    results.join_thread()
    check_outcomes(outcomes, emulator)
