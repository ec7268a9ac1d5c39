"""`sesrelay serve` under a burst: 200 clients connecting at the same instant are all accepted
and answered, none reset, and concurrent sends each reach the outbox exactly once."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator

import pytest

from tests.e2e.test_serve import Served, fetch, start_serve, stop

CLIENTS = 200
SENDS = 20  # the embedded emulator, like SES, takes 20 SendEmail calls a second


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    started = start_serve(tmp_path_factory.mktemp("burst"))
    try:
        yield started
    finally:
        stop(started)


def burst(served: Served, request: Callable[[int], tuple[str, str, bytes | None, dict[str, str]]],
          count: int) -> Counter[str]:  # fmt: skip
    """Each of `count` threads connects at the same instant and makes one request: how many
    got which status, or which connection error."""
    port = int(served.base.rsplit(":", 1)[1])
    start = threading.Barrier(count)
    seen: Counter[str] = Counter()
    lock = threading.Lock()

    def client(n: int) -> None:
        method, path, body, headers = request(n)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            start.wait(timeout=30)
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            resp.read()
            outcome = str(resp.status)
        except OSError as exc:
            outcome = type(exc).__name__
        finally:
            conn.close()
        with lock:
            seen[outcome] += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return seen


def test_a_burst_of_connections_is_answered_without_a_reset(served: Served) -> None:
    key = served.field("API key (generated for this run):")
    auth = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    def request(n: int) -> tuple[str, str, bytes | None, dict[str, str]]:
        if n % 2:  # a body to read and validate (422: no sender), but nothing sent to SES
            return "POST", "/v1/emails", b'{"Subject": "burst"}', auth
        return "GET", f"/v1/health?n={n}", None, {}

    seen = burst(served, request, CLIENTS)
    # Every client answered, none reset or left waiting.
    assert seen == Counter({"200": CLIENTS // 2, "422": CLIENTS // 2}), served.stderr()


def test_concurrent_sends_each_reach_the_outbox_once(served: Served) -> None:
    key = served.field("API key (generated for this run):")
    run = f"burst-{time.monotonic_ns()}"

    def send(n: int) -> tuple[str, str, bytes, dict[str, str]]:
        body = {
            "FromEmailAddress": "noreply@example.com",
            "Destination": [f"{run}-{n}@example.org"],
            "Subject": "Burst",
            "Template": {"TemplateID": 100001, "TemplateData": {"name": str(n)}},
        }
        headers = {
            "Authorization": f"Bearer {key}",
            "Content-Type": "application/json",
            "Idempotency-Key": f"{run}-{n}",
        }
        return "POST", "/v1/emails", json.dumps(body).encode(), headers

    seen = burst(served, send, SENDS)
    assert seen == Counter({"202": SENDS}), served.stderr()
    status, _, raw = fetch(served.field("outbox:"))
    assert status == 200
    sent = [m["to"] for m in json.loads(raw)["messages"] if str(m["to"]).startswith(run)]
    assert sorted(sent) == sorted(f"{run}-{n}@example.org" for n in range(SENDS))
