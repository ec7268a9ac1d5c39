"""The workloads of the memory benchmark: each a list of (event, context) pairs for
`main_handler`, built in the measured interpreter from the environment `benchmarks.memory` sets.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EVENTS = ROOT / "events"
Call = tuple[dict[str, Any], dict[str, Any]]


def _sample(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text(encoding="utf-8"))
    return event


def _context(n: int, seconds: int = 30) -> dict[str, Any]:
    return {"request_id": f"mem-{n}", "time_limit_in_ms": seconds * 1000}


def _count(full: int) -> int:
    return max(2, full // 10) if os.environ.get("BENCH_QUICK") else full


def _authorized(event: dict[str, Any]) -> dict[str, Any]:
    event["headers"]["authorization"] = "Bearer sr_memory_bench_key"
    return event


def http_burst() -> list[Call]:
    """HTTP sends, each with its own Idempotency-Key (one stored answer per send)."""
    base = _authorized(_sample("http_post-emails"))
    calls = []
    for n in range(_count(300)):
        event = copy.deepcopy(base)
        event["headers"]["idempotency-key"] = f"memory-{n}"
        calls.append((event, _context(n)))
    return calls


def webhook() -> list[Call]:
    """Signed GitHub release deliveries, each with its own delivery id."""
    base = _sample("webhook_github_release-published")
    secret = os.environ["GITHUB_WEBHOOK_SECRET"].encode()
    calls = []
    for n in range(_count(100)):
        event = copy.deepcopy(base)
        body = event["body"].encode()
        mac = hmac.new(secret, body, hashlib.sha256).hexdigest()
        event["headers"]["x-hub-signature-256"] = f"sha256={mac}"
        event["headers"]["x-github-delivery"] = f"memory-delivery-{n}"
        calls.append((event, _context(n)))
    return calls


def timer() -> list[Call]:
    """The weekly digest job, one tick per minute (each tick sends once)."""
    base = _sample("timer_weekly-digest")
    calls = []
    for n in range(_count(50)):
        event = copy.deepcopy(base)
        event["Time"] = f"2026-11-30T01:{n % 60:02d}:00Z"
        calls.append((event, _context(n)))
    return calls


def campaign_max_body() -> list[Call]:
    """One POST /v1/campaigns whose event is just under SCF's 6 MB synchronous limit."""
    event = _authorized(_sample("http_post-campaigns"))
    spec = json.loads(event["body"])
    spec["Validation"] = "strict"
    event["headers"]["idempotency-key"] = "memory-campaign"
    limit = int(os.environ["BENCH_MAX_BODY"]) - len(json.dumps(event)) - 4096
    limit = limit // 10 if os.environ.get("BENCH_QUICK") else limit
    row = '{{"Email":"user{n:07d}@example.org","TemplateData":{{"name":"User {n}"}}}}'
    rows: list[str] = []
    size = 0
    while size < limit:
        text = row.format(n=len(rows))
        rows.append(text)
        size += len(text) + 1
    spec["Recipients"] = []
    body = json.dumps(spec)
    event["body"] = body.replace('"Recipients": []', f'"Recipients": [{",".join(rows)}]')
    return [(event, _context(0, seconds=60))]


def campaigns_finisher() -> list[Call]:
    """The finisher's timer ticks, driving on the campaign the previous workload started."""
    base = _sample("timer_campaigns-finisher")
    calls = []
    for n in range(3):
        event = copy.deepcopy(base)
        event["Time"] = f"2026-01-05T01:{n:02d}:00Z"
        calls.append((event, _context(n, seconds=60)))
    return calls


WORKLOADS: dict[str, Callable[[], list[Call]]] = {
    "http_burst": http_burst,
    "webhook": webhook,
    "timer": timer,
    "campaign_max_body": campaign_max_body,
    "campaigns_finisher": campaigns_finisher,
}
