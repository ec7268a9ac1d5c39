"""The shipped `stripe-payments` source, as deployed (sesrelay.yaml unchanged): a signed
`payment_intent.succeeded` without a `receipt_email` has nobody to mail, so it is acknowledged
as ignored (2xx, nothing sent) instead of 422, which Stripe would retry for three days."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from sesrelay.adapters.state_memory import MemoryStateStore
from sesrelay.clock import ManualClock
from sesrelay.config.model import load_config
from sesrelay.emulator import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, EmulatorServer
from sesrelay.runtime import Runtime
from sesrelay.settings import Settings
from sesrelay.wiring import build_services

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "events" / "webhook_stripe_payment-intent-succeeded.json"
SECRET = "whsec_test_secret"  # the sample's documented test secret (events/README.md)
NOW = datetime(2026, 12, 1, 8, 0, 0, tzinfo=timezone.utc)
CONTEXT = {"request_id": "scf-stripe-guard", "time_limit_in_ms": 10_000}


def delivery(change: Any) -> dict[str, Any]:
    """The sample delivery with `change(payment_intent)` applied, signed now as Stripe does:
    `t=<ts>,v1=<hex HMAC-SHA256(secret, "{t}.{body}")>`."""
    event: dict[str, Any] = json.loads(SAMPLE.read_text(encoding="utf-8"))
    data = json.loads(event["body"])
    change(data["data"]["object"])
    body = json.dumps(data, indent=2)
    ts = int(NOW.timestamp())
    digest = hmac.new(SECRET.encode(), f"{ts}.{body}".encode(), hashlib.sha256).hexdigest()
    event["body"] = body
    event["headers"]["stripe-signature"] = f"t={ts},v1={digest}"
    event["headers"]["content-length"] = str(len(body.encode()))
    return event


@pytest.fixture
def runtime(emulator: EmulatorServer) -> Runtime:
    clock = ManualClock(NOW)
    settings = Settings(
        environ={"STRIPE_WEBHOOK_SECRET": SECRET},
        ses_endpoint=emulator.url,
        secret_id=DEFAULT_SECRET_ID,
        secret_key=DEFAULT_SECRET_KEY,
    )
    config = load_config(ROOT / "sesrelay.yaml")  # the shipped file, not a test copy
    return Runtime(
        build_services(settings, clock=clock, state=MemoryStateStore(clock), config=config)
    )


def _drop(intent: dict[str, Any]) -> None:
    del intent["receipt_email"]


def _null(intent: dict[str, Any]) -> None:
    intent["receipt_email"] = None


def _empty(intent: dict[str, Any]) -> None:
    intent["receipt_email"] = ""


@pytest.mark.parametrize("change", [_drop, _null, _empty], ids=["absent", "null", "empty"])
def test_a_payment_without_receipt_email_is_ignored_not_422(
    change: Any, runtime: Runtime, emulator: EmulatorServer, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    reply = runtime.handle(delivery(change), CONTEXT)
    assert reply["statusCode"] == 202, reply
    assert json.loads(reply["body"]) == {"status": "ignored"}
    assert emulator.call_counts().get("SendEmail", 0) == 0
    assert emulator.outbox() == []
    logged = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line[:1] == "{"]
    [line] = [entry for entry in logged if entry.get("message") == "invocation"]
    assert line["outcome"] == "ignored"
    assert line["source"] == "stripe-payments"


def test_a_payment_with_receipt_email_still_mails_the_customer(
    runtime: Runtime, emulator: EmulatorServer
) -> None:
    reply = runtime.handle(delivery(lambda intent: None), CONTEXT)
    assert reply["statusCode"] == 202, reply
    assert json.loads(reply["body"])["status"] == "sent"
    [mail] = emulator.outbox()
    assert mail["to"] == "ana@example.org"
    assert mail["subject"] == "Payment received"
