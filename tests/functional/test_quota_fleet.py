"""A key's daily quota held by a fleet: 4 processes (separate interpreters, like SCF instances)
on one Redis send N+1 requests at once with a key whose quota is N; exactly N reach SES."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sesrelay.adapters.state_url import open_state_store
from sesrelay.clock import SystemClock
from sesrelay.emulator import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, EmulatorServer
from sesrelay.runtime import Runtime
from sesrelay.settings import Settings
from sesrelay.wiring import build_services

API_KEY = "sr_fleet_quota_key"
QUOTA = 7
PROCESSES = 4
BODY = {
    "FromEmailAddress": "noreply@example.com",
    "Destination": ["ana@example.org"],
    "Subject": "Welcome, {{name}}",
    "Template": {"TemplateID": 100001, "TemplateData": {"name": "Ana"}},
}


def _runtime(emulator_url: str, state_url: str, config_path: str) -> Runtime:
    clock = SystemClock()
    settings = Settings(
        environ={},
        ses_endpoint=emulator_url,
        secret_id=DEFAULT_SECRET_ID,
        secret_key=DEFAULT_SECRET_KEY,
        state_url=state_url,
        config_path=Path(config_path),
    )
    return Runtime(build_services(settings, clock=clock, state=open_state_store(state_url, clock)))


def _worker(
    emulator_url: str, state_url: str, config_path: str, sends: int, barrier: Any, results: Any
) -> None:
    runtime = _runtime(emulator_url, state_url, config_path)
    event = {
        "httpMethod": "POST",
        "path": "/v1/emails",
        "headers": {"authorization": f"Bearer {API_KEY}", "content-type": "application/json"},
        "queryString": {},
        "body": json.dumps(BODY),
    }
    barrier.wait(timeout=30)
    for _ in range(sends):
        reply = runtime.handle(event, {"request_id": "q", "time_limit_in_ms": 20000})
        results.put((reply["statusCode"], json.loads(reply["body"]).get("code")))


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer(port=0, rate_limit=None) as server:
        yield server


@pytest.mark.redis
def test_four_processes_on_one_redis_send_exactly_the_quota(
    emulator: EmulatorServer, redis_server: str, tmp_path: Path
) -> None:
    digest = hashlib.sha256(API_KEY.encode()).hexdigest()
    config = tmp_path / "sesrelay.yaml"
    config.write_text(
        f'api_keys:\n  fleet:\n    sha256: "{digest}"\n    quota_per_day: {QUOTA}\n',
        encoding="utf-8",
    )
    state_url = f"{redis_server}?prefix=quota-{uuid.uuid4().hex}:"
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(PROCESSES)
    results = context.Queue()
    # QUOTA + 1 sends in all, spread over the processes: 2 + 2 + 2 + 2 = 8.
    shares = [2, 2, 2, 2]
    assert sum(shares) == QUOTA + 1
    workers = [
        context.Process(
            target=_worker,
            args=(emulator.url, state_url, str(config), share, barrier, results),
        )
        for share in shares
    ]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=60) for _ in range(sum(shares))]
    for worker in workers:
        worker.join(timeout=30)
    assert sorted(outcomes) == [(202, None)] * QUOTA + [(429, "quota_exceeded")]
    assert emulator.call_counts().get("SendEmail", 0) == QUOTA
    assert len(emulator.outbox()) == QUOTA
