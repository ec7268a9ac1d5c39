"""Fixtures of the functional HTTP tests: a loopback SES emulator per module, Runtimes wired to it,
and the sample events of `events/` loaded as fresh copies that a test may adjust."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sesrelay.adapters.state_memory import MemoryStateStore
from sesrelay.clock import Clock, SystemClock
from sesrelay.emulator import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, EmulatorServer
from sesrelay.gateway import SesGateway
from sesrelay.runtime import Runtime
from sesrelay.settings import Settings
from sesrelay.state import StateStore
from sesrelay.wiring import build_services

EVENTS_DIR = Path(__file__).resolve().parents[2] / "events"
API_KEY = "sr_test_key"
API_KEY_SHA256 = hashlib.sha256(API_KEY.encode()).hexdigest()

#: Environment variables the product reads; cleared so a developer's shell cannot leak in.
_PRODUCT_ENV_PREFIXES = ("SESRELAY_", "TENCENTCLOUD_")

_UNSET: Any = object()


@pytest.fixture(autouse=True)
def _hermetic_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(_PRODUCT_ENV_PREFIXES):
            monkeypatch.delenv(name)


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer(port=0, rate_limit=None) as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh_emulator(emulator: EmulatorServer) -> None:
    """Every test starts from the seed: empty outbox, no faults, zero call counts."""
    emulator.reset()


@pytest.fixture
def make_runtime(emulator: EmulatorServer) -> Callable[..., Runtime]:
    """`make_runtime(**settings_overrides, state=..., clock=..., ses=...)` -> a Runtime on the
    emulator, with `sr_test_key` configured and a fresh MemoryStateStore unless `state` is given."""

    def make(
        *,
        state: StateStore | None = None,
        clock: Clock | None = None,
        ses: SesGateway | None = None,
        **overrides: Any,
    ) -> Runtime:
        values: dict[str, Any] = {
            "ses_endpoint": emulator.url,
            "secret_id": DEFAULT_SECRET_ID,
            "secret_key": DEFAULT_SECRET_KEY,
            "api_key_sha256": [API_KEY_SHA256],
            "state_url": "memory://",
        }
        values.update(overrides)
        settings = Settings(**values)
        the_clock = clock or SystemClock()
        store = state if state is not None else MemoryStateStore(SystemClock())
        return Runtime(build_services(settings, clock=the_clock, ses=ses, state=store))

    return make


def context(request_id: str = "scf-req-0001", time_limit_ms: int = 10_000) -> dict[str, Any]:
    """An SCF Python context as the runtime passes it (a dict)."""
    return {
        "request_id": request_id,
        "function_name": "sesrelay",
        "function_version": "$LATEST",
        "namespace": "default",
        "memory_limit_in_mb": 128,
        "time_limit_in_ms": time_limit_ms,
    }


@pytest.fixture
def scf_context() -> Callable[..., dict[str, Any]]:
    return context


def load_event(
    name: str,
    *,
    body: Any = _UNSET,
    raw_body: bytes | None = None,
    base64_body: str | None = None,
    headers: dict[str, str | None] | None = None,
    replace_headers: dict[str, str] | None = None,
    method: str | None = None,
    path: str | None = None,
    query: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A deep copy of `events/<name>.json`, adjusted.

    body: a str is sent as is, anything else JSON-encoded. raw_body: bytes sent base64-encoded
    with isBase64Encoded true. base64_body: the text of a base64 body as is (isBase64Encoded
    true). headers: merged (lower-case names; None removes one); replace_headers: the whole dict.
    """
    event: dict[str, Any] = copy.deepcopy(json.loads((EVENTS_DIR / f"{name}.json").read_text()))
    if body is not _UNSET:
        event["body"] = body if isinstance(body, str) else json.dumps(body)
        event["isBase64Encoded"] = False
        _set_length(event, event["body"].encode("utf-8", "surrogatepass"))
    if raw_body is not None:
        event["body"] = base64.b64encode(raw_body).decode("ascii")
        event["isBase64Encoded"] = True
        _set_length(event, raw_body)
    if base64_body is not None:
        event["body"] = base64_body
        event["isBase64Encoded"] = True
    if headers:
        for header, value in headers.items():
            if value is None:
                event["headers"].pop(header, None)
            else:
                event["headers"][header] = value
    if replace_headers is not None:
        event["headers"] = dict(replace_headers)
    if method is not None:
        event["httpMethod"] = method
        if "requestContext" in event:
            event["requestContext"]["httpMethod"] = method
    if path is not None:
        event["path"] = path
        if "requestContext" in event:
            event["requestContext"]["path"] = path
    if query is not None:
        event["queryString"] = dict(query)
        if "requestContext" in event:
            event["queryStringParameters"] = dict(query)
    return event


def _set_length(event: dict[str, Any], payload: bytes) -> None:
    if "content-length" in event.get("headers", {}):
        event["headers"]["content-length"] = str(len(payload))


@pytest.fixture
def event() -> Callable[..., dict[str, Any]]:
    """`event("http_post-emails", body=..., headers=..., method=..., path=..., query=...)`."""
    return load_event


@pytest.fixture
def nothing_sent(emulator: EmulatorServer) -> Callable[[], None]:
    """Asserts the emulator holds no mail and saw no send call."""

    def check() -> None:
        counts = emulator.call_counts()
        assert emulator.outbox() == []
        assert counts.get("SendEmail", 0) == 0, counts
        assert counts.get("BatchSendEmail", 0) == 0, counts

    return check


def problem_of(reply: dict[str, Any], status: int, code: str) -> dict[str, Any]:
    """Assert `reply` is an SCF HTTP reply carrying an RFC 9457 problem; return its body."""
    assert reply["statusCode"] == status, reply
    headers = {k.lower(): v for k, v in reply["headers"].items()}
    assert headers["content-type"] == "application/problem+json", reply
    assert isinstance(reply["body"], str)
    assert "Traceback" not in reply["body"]
    assert 'File "' not in reply["body"]
    body: dict[str, Any] = json.loads(reply["body"])
    assert {"type", "title", "status", "detail", "code", "request_id"} <= set(body), body
    assert body["status"] == status
    assert body["code"] == code, body
    assert isinstance(body["title"], str)
    assert body["title"]
    assert isinstance(body["detail"], str)
    assert body["detail"]
    assert isinstance(body["type"], str)
    assert body["type"]
    if status == 422 and code == "validation_error":
        assert isinstance(body.get("errors"), list), body
        assert body["errors"], body
        for item in body["errors"]:
            assert set(item) == {"field", "message"}, item
    return body


@pytest.fixture
def problem() -> Callable[[dict[str, Any], int, str], dict[str, Any]]:
    return problem_of
