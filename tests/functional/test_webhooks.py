"""`POST /v1/webhooks/{source}` end to end through `Runtime.handle` (what `main_handler` calls),
against the SES emulator: one source per signature scheme, fed `events/webhook_<scheme>_*.json`.

The sample files are signed for the secrets documented in `events/README.md` at the sample time
(2026-11-30T01:00:00Z). The injected clock runs a day later, so every timestamped sample is
re-signed here, with a signer per scheme written from the vendor's documented formula on plain
`hmac`/`hashlib`: never the product's verifiers.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import importlib.util
import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from sesrelay.adapters.state_memory import MemoryStateStore
from sesrelay.clock import ManualClock
from sesrelay.config.model import RelayConfig, load_config, read_config_data
from sesrelay.emulator import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, EmulatorServer
from sesrelay.runtime import Runtime
from sesrelay.settings import Settings
from sesrelay.wiring import build_services

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
SHIPPED_CONFIG = ROOT / "sesrelay.yaml"
CONTEXT = {"request_id": "scf-webhook-test", "time_limit_in_ms": 10_000}

SAMPLE_TIME = 1796000400  # 2026-11-30T01:00:00Z, the timestamp signed into the samples
NOW = datetime(2026, 12, 1, 8, 0, 0, tzinfo=timezone.utc)  # the injected clock: samples are stale
TOLERANCE = 300  # tolerance_seconds of every timestamped test source (the default)

Event = dict[str, Any]
Headers = dict[str, str]
Signer = Callable[[Headers, bytes, str, int], Headers]


def _b64(text: bytes) -> str:
    return base64.b64encode(text).decode("ascii")


def _mac(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


# --- one signer per vendor formula, as each vendor documents it --------------------------------


def sign_github(headers: Headers, body: bytes, secret: str, ts: int) -> Headers:
    """`X-Hub-Signature-256: sha256=` + hex HMAC(secret, body); no timestamp."""
    return {"x-hub-signature-256": "sha256=" + _mac(secret.encode(), body).hex()}


def sign_stripe(headers: Headers, body: bytes, secret: str, ts: int) -> Headers:
    """`Stripe-Signature: t=<ts>,v1=<hex HMAC(whole whsec_ string, "{t}.{body}")>`."""
    digest = _mac(secret.encode(), f"{ts}.".encode() + body).hex()
    return {"stripe-signature": f"t={ts},v1={digest}"}


def sign_shopify(headers: Headers, body: bytes, secret: str, ts: int) -> Headers:
    """`X-Shopify-Hmac-Sha256:` base64 HMAC(secret, body); no timestamp."""
    return {"x-shopify-hmac-sha256": _b64(_mac(secret.encode(), body))}


def sign_standard(headers: Headers, body: bytes, secret: str, ts: int) -> Headers:
    """`webhook-signature: v1,` + base64 HMAC(base64-decoded secret, "{id}.{ts}.{body}")."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    content = f"{headers['webhook-id']}.{ts}.".encode() + body
    return {"webhook-timestamp": str(ts), "webhook-signature": "v1," + _b64(_mac(key, content))}


def sign_slack(headers: Headers, body: bytes, secret: str, ts: int) -> Headers:
    """`X-Slack-Signature: v0=` + hex HMAC(secret, "v0:{ts}:{body}")."""
    digest = _mac(secret.encode(), f"v0:{ts}:".encode() + body).hex()
    return {"x-slack-request-timestamp": str(ts), "x-slack-signature": "v0=" + digest}


def sign_acme(headers: Headers, body: bytes, secret: str, ts: int) -> Headers:
    """The generic `hmac` source below: `sha256=` + hex HMAC(secret, "{ts}.{body}")."""
    digest = _mac(secret.encode(), f"{ts}.".encode() + body).hex()
    return {"x-acme-timestamp": str(ts), "x-acme-signature": "sha256=" + digest}


# --- how each delivery is made distinct (a new delivery id) --------------------------------


def _set_header(name: str) -> Callable[[Event, int], None]:
    def change(event: Event, n: int) -> None:
        event["headers"][name] = f"{event['headers'][name][:-12]}{n:012d}"

    return change


def _stripe_event_id(event: Event, n: int) -> None:
    data = json.loads(event["body"])
    data["id"] = f"evt_3QsesrelayTest{n:04d}"
    event["body"] = json.dumps(data, indent=2)  # Stripe pretty-prints its bodies


def _slack_trigger_id(event: Event, n: int) -> None:
    # Slack has no delivery id: a new command differs in its trigger_id (the body is hashed).
    event["body"] = event["body"].replace("8088930838d88f008e0", f"{n:019d}")


@dataclass(frozen=True)
class Scheme:
    scheme: str
    sample: str  # events/<sample>.json
    source: str
    env: str  # the current secret's variable; `env`_PREVIOUS holds the rotated-out one
    secret: str  # the documented test secret the sample is signed with
    old_secret: str
    wrong_secret: str
    sign: Signer
    signature_header: str
    required_headers: tuple[str, ...]  # removing any one of them must be refused
    timestamped: bool
    distinct: Callable[[Event, int], None]
    tamper: tuple[str, str]  # body text replaced after signing
    to: str
    subject: str
    filtered: Callable[[Event], None]  # a change the source's `when` rejects

    @property
    def old_env(self) -> str:
        return self.env + "_PREVIOUS"

    def __str__(self) -> str:
        return self.scheme


def _header(name: str, value: str) -> Callable[[Event], None]:
    def change(event: Event) -> None:
        event["headers"][name] = value

    return change


def _body_replace(old: str, new: str) -> Callable[[Event], None]:
    def change(event: Event) -> None:
        assert old in event["body"]
        event["body"] = event["body"].replace(old, new)

    return change


STANDARD_SECRET = "whsec_" + _b64(b"sesrelay-standard-webhooks-test!")
SCHEMES = [
    Scheme(
        scheme="github",
        sample="webhook_github_release-published",
        source="github-releases",
        env="GITHUB_WEBHOOK_SECRET",
        secret="test-secret",
        old_secret="test-secret-rotated-out",
        wrong_secret="not-the-secret",
        sign=sign_github,
        signature_header="x-hub-signature-256",
        required_headers=("x-hub-signature-256",),
        timestamped=False,
        distinct=_set_header("x-github-delivery"),
        tamper=("v1.4.0", "v6.6.6"),
        to="team@example.org",
        subject="New release v1.4.0",
        filtered=_header("x-github-event", "push"),
    ),
    Scheme(
        scheme="stripe",
        sample="webhook_stripe_payment-intent-succeeded",
        source="stripe-payments",
        env="STRIPE_WEBHOOK_SECRET",
        secret="whsec_test_secret",
        old_secret="whsec_test_secret_rotated_out",
        wrong_secret="whsec_not_the_secret",
        sign=sign_stripe,
        signature_header="stripe-signature",
        required_headers=("stripe-signature",),
        timestamped=True,
        distinct=_stripe_event_id,
        tamper=("ana@example.org", "eve@example.org"),
        to="ana@example.org",
        subject="Payment received",
        filtered=_body_replace("payment_intent.succeeded", "payment_intent.payment_failed"),
    ),
    Scheme(
        scheme="shopify",
        sample="webhook_shopify_orders-create",
        source="shopify-orders",
        env="SHOPIFY_WEBHOOK_SECRET",
        secret="test-secret",
        old_secret="test-secret-rotated-out",
        wrong_secret="not-the-secret",
        sign=sign_shopify,
        signature_header="x-shopify-hmac-sha256",
        required_headers=("x-shopify-hmac-sha256",),
        timestamped=False,
        distinct=_set_header("x-shopify-webhook-id"),
        tamper=("ana@example.org", "eve@example.org"),
        to="ana@example.org",
        subject="Order #1001 confirmed",
        filtered=_header("x-shopify-topic", "orders/updated"),
    ),
    Scheme(
        scheme="standard-webhooks",
        sample="webhook_standard-webhooks_user-created",
        source="signups",
        env="SIGNUPS_WEBHOOK_SECRET",
        secret=STANDARD_SECRET,
        old_secret="whsec_" + _b64(b"the-previous-standard-secret-000"),
        wrong_secret="whsec_" + _b64(b"definitely-not-the-right-secret!"),
        sign=sign_standard,
        signature_header="webhook-signature",
        required_headers=("webhook-signature", "webhook-timestamp", "webhook-id"),
        timestamped=True,
        distinct=_set_header("webhook-id"),
        tamper=("ana@example.org", "eve@example.org"),
        to="ana@example.org",
        subject="Welcome to Example",
        filtered=_body_replace('"user.created"', '"user.deleted"'),
    ),
    Scheme(
        scheme="slack",
        sample="webhook_slack_slash-command",
        source="slack-invites",
        env="SLACK_SIGNING_SECRET",
        secret="test-secret",
        old_secret="test-secret-rotated-out",
        wrong_secret="not-the-secret",
        sign=sign_slack,
        signature_header="x-slack-signature",
        required_headers=("x-slack-signature", "x-slack-request-timestamp"),
        timestamped=True,
        distinct=_slack_trigger_id,
        tamper=("ben%40example.org", "eve%40example.org"),
        to="ben@example.org",
        subject="An invitation from ana",
        filtered=_body_replace("%2Finvite-mail", "%2Fweather"),
    ),
    Scheme(
        scheme="hmac",
        sample="webhook_hmac_form-submitted",
        source="acme-forms",
        env="ACME_WEBHOOK_SECRET",
        secret="test-secret",
        old_secret="test-secret-rotated-out",
        wrong_secret="not-the-secret",
        sign=sign_acme,
        signature_header="x-acme-signature",
        required_headers=("x-acme-signature", "x-acme-timestamp"),
        timestamped=True,
        distinct=_set_header("x-acme-delivery"),
        tamper=("ana@example.org", "eve@example.org"),
        to="ana@example.org",
        subject="Thanks for contacting us",
        filtered=_body_replace("form.submitted", "form.viewed"),
    ),
]
TIMESTAMPED = [s for s in SCHEMES if s.timestamped]
BY_NAME = {s.scheme: s for s in SCHEMES}
ENVIRON = {s.env: s.secret for s in SCHEMES} | {s.old_env: s.old_secret for s in SCHEMES}


def _send(subject: str, to: str, name: str, from_: str = "'Example <noreply@example.com>'") -> Any:
    return {
        "action": "SendEmail",
        "FromEmailAddress": from_,
        "Destination": [to],
        "Subject": subject,
        "Template": {"TemplateID": 100001, "TemplateData": {"name": name}},
        "TriggerType": 1,
    }


def config_data() -> dict[str, Any]:
    """The shipped github-releases and stripe-payments sources (secret_env widened to two
    variables, as while rotating), plus one source per remaining scheme."""
    shipped = read_config_data(SHIPPED_CONFIG)
    assert isinstance(shipped, dict)
    webhooks: dict[str, Any] = {}
    for name in ("github-releases", "stripe-payments"):
        source = dict(shipped["webhooks"][name])
        scheme = next(s for s in SCHEMES if s.source == name)
        source["secret_env"] = [scheme.env, scheme.old_env]
        webhooks[name] = source
    webhooks["shopify-orders"] = {
        "scheme": "shopify",
        "secret_env": ["SHOPIFY_WEBHOOK_SECRET", "SHOPIFY_WEBHOOK_SECRET_PREVIOUS"],
        "when": "headers.\"x-shopify-topic\" == 'orders/create'",
        "send": _send(
            "join('', ['Order ', body.name, ' confirmed'])",
            "body.email",
            "body.customer.first_name",
            "'Example Shop <noreply@example.com>'",
        ),
    }
    webhooks["signups"] = {
        "scheme": "standard-webhooks",
        "secret_env": ["SIGNUPS_WEBHOOK_SECRET", "SIGNUPS_WEBHOOK_SECRET_PREVIOUS"],
        "when": "body.type == 'user.created'",
        "send": _send("'Welcome to Example'", "body.data.email", "body.data.first_name"),
    }
    webhooks["slack-invites"] = {
        "scheme": "slack",
        "secret_env": ["SLACK_SIGNING_SECRET", "SLACK_SIGNING_SECRET_PREVIOUS"],
        "when": "body.command == '/invite-mail'",
        "send": _send(
            "join('', ['An invitation from ', body.user_name])", "body.text", "body.user_name"
        ),
    }
    webhooks["acme-forms"] = {
        "scheme": "hmac",
        "secret_env": ["ACME_WEBHOOK_SECRET", "ACME_WEBHOOK_SECRET_PREVIOUS"],
        "hmac": {
            "header": "X-Acme-Signature",
            "encoding": "hex",
            "prefix": "sha256=",
            "timestamp_header": "X-Acme-Timestamp",
            "id_header": "X-Acme-Delivery",
            "signed_content": "{timestamp}.{body}",
        },
        "when": "body.event == 'form.submitted'",
        "send": _send("'Thanks for contacting us'", "body.answers.email", "body.answers.name"),
    }
    webhooks["unconfigured"] = {
        "scheme": "github",
        "secret_env": ["UNSET_WEBHOOK_SECRET"],
        "send": _send("'Hello'", "'team@example.org'", "'team'"),
    }
    return {"version": 1, "webhooks": webhooks}


@pytest.fixture(scope="module")
def config_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("config") / "sesrelay.yaml"
    path.write_text(json.dumps(config_data(), indent=2), encoding="utf-8")  # JSON is YAML
    return path


@pytest.fixture(scope="module")
def config(config_path: Path) -> RelayConfig:
    return load_config(config_path)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def make_runtime(
    emulator: EmulatorServer, config: RelayConfig, clock: ManualClock
) -> Callable[..., Runtime]:
    def make(environ: dict[str, str] | None = None, at: ManualClock | None = None) -> Runtime:
        the_clock = at or clock
        settings = Settings(
            environ=ENVIRON if environ is None else environ,
            ses_endpoint=emulator.url,
            secret_id=DEFAULT_SECRET_ID,
            secret_key=DEFAULT_SECRET_KEY,
        )
        services = build_services(
            settings, clock=the_clock, state=MemoryStateStore(the_clock), config=config
        )
        return Runtime(services)

    return make


@pytest.fixture
def runtime(make_runtime: Callable[..., Runtime]) -> Runtime:
    return make_runtime()


def sample(scheme: Scheme) -> Event:
    event: Event = json.loads((EVENTS / f"{scheme.sample}.json").read_text(encoding="utf-8"))
    return event


def signed(
    scheme: Scheme, event: Event, *, secret: str | None = None, ts: int | None = None
) -> Event:
    """A copy of `event` whose signature headers are recomputed for its current body."""
    out = copy.deepcopy(event)
    when = int(NOW.timestamp()) if ts is None else ts
    body = out["body"].encode("utf-8")
    out["headers"].update(scheme.sign(out["headers"], body, secret or scheme.secret, when))
    out["headers"]["content-length"] = str(len(body))
    return out


def fresh(scheme: Scheme) -> Event:
    return signed(scheme, sample(scheme))


def body_of(reply: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(reply["body"])
    return data


def log_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    return [json.loads(line) for line in lines]


def sends(emulator: EmulatorServer) -> int:
    counts = emulator.call_counts()
    return counts.get("SendEmail", 0) + counts.get("BatchSendEmail", 0)


def digests_in(text: str) -> list[str]:
    """The hex or base64 HMAC-SHA256 values inside a signature header value."""
    return re.findall(r"[0-9a-f]{64}|[A-Za-z0-9+/]{43}=", text)


# --- the sample files ------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", SCHEMES, ids=str)
def test_sample_is_signed_for_the_documented_secret_and_time(scheme: Scheme) -> None:
    event = sample(scheme)
    body = event["body"].encode("utf-8")
    assert event["headers"]["content-length"] == str(len(body))
    assert event["path"] == f"/v1/webhooks/{scheme.source}"
    expected = scheme.sign(event["headers"], body, scheme.secret, SAMPLE_TIME)
    assert {name: event["headers"][name] for name in expected} == expected


@pytest.mark.parametrize("scheme", SCHEMES, ids=str)
def test_sample_verifies_unchanged_at_its_own_time(
    scheme: Scheme, make_runtime: Callable[..., Runtime]
) -> None:
    at = ManualClock(datetime.fromtimestamp(SAMPLE_TIME + 30, tz=timezone.utc))
    reply = make_runtime(at=at).handle(sample(scheme), CONTEXT)
    assert reply["statusCode"] == 202, reply
    assert body_of(reply)["status"] == "sent"


# --- valid, invalid, rotated -----------------------------------------------------------------


@pytest.mark.parametrize("scheme", SCHEMES, ids=str)
def test_valid_delivery_sends_one_mail(
    scheme: Scheme, runtime: Runtime, emulator: EmulatorServer
) -> None:
    reply = runtime.handle(fresh(scheme), CONTEXT)
    assert reply["statusCode"] == 202, reply
    body = body_of(reply)
    assert body["status"] == "sent"
    assert body["RequestId"]
    [mail] = emulator.outbox(message_id=body["MessageId"])
    assert mail["to"] == scheme.to
    assert mail["subject"] == scheme.subject
    assert len(emulator.outbox()) == 1


def github_form(event: Event) -> Event:
    """The same delivery at GitHub's default content type: the JSON in a `payload` form field."""
    out = copy.deepcopy(event)
    out["body"] = urlencode({"payload": out["body"]})
    out["headers"]["content-type"] = "application/x-www-form-urlencoded"
    return out


@pytest.mark.parametrize(
    ("event_name", "status"), [("release", "sent"), ("push", "ignored")], ids=["release", "push"]
)
def test_github_form_delivery_is_filtered_and_sent_as_its_json_twin(
    event_name: str, status: str, runtime: Runtime, emulator: EmulatorServer
) -> None:
    """The signature covers the raw form body; the mapping reads the JSON inside it."""
    scheme = BY_NAME["github"]
    event = github_form(sample(scheme))
    event["headers"]["x-github-event"] = event_name
    reply = runtime.handle(signed(scheme, event), CONTEXT)
    assert reply["statusCode"] == 202, reply
    body = body_of(reply)
    assert body["status"] == status
    if status == "ignored":
        assert emulator.outbox() == []
        return
    [mail] = emulator.outbox(message_id=body["MessageId"])
    assert (mail["to"], mail["subject"]) == (scheme.to, scheme.subject)
    assert len(emulator.outbox()) == 1


def test_github_form_delivery_with_a_tampered_payload_is_refused(
    runtime: Runtime,
    problem: Callable[[dict[str, Any], int, str], dict[str, Any]],
    nothing_sent: Callable[[], None],
) -> None:
    scheme = BY_NAME["github"]
    event = signed(scheme, github_form(sample(scheme)))
    assert "v1.4.0" in event["body"]
    event["body"] = event["body"].replace("v1.4.0", "v6.6.6")
    problem(runtime.handle(event, CONTEXT), 401, "invalid_signature")
    nothing_sent()


@pytest.mark.parametrize("content_type", [None, "text/plain", "multipart/form-data; boundary=x"])
def test_signed_delivery_in_a_type_the_route_does_not_read_is_415_never_ignored(
    content_type: str | None,
    runtime: Runtime,
    problem: Callable[[dict[str, Any], int, str], dict[str, Any]],
    nothing_sent: Callable[[], None],
) -> None:
    """A delivery the mapping cannot read is refused (the vendor shows a failure), not dropped."""
    scheme = BY_NAME["github"]
    event = sample(scheme)
    event["headers"].pop("content-type", None)
    if content_type is not None:
        event["headers"]["content-type"] = content_type
    body = problem(runtime.handle(signed(scheme, event), CONTEXT), 415, "unsupported_media_type")
    assert "application/x-www-form-urlencoded" in body["detail"]
    assert "application/json" in body["detail"]
    nothing_sent()


def test_a_required_field_that_came_out_null_names_the_mapped_path(
    runtime: Runtime,
    problem: Callable[[dict[str, Any], int, str], dict[str, Any]],
    nothing_sent: Callable[[], None],
) -> None:
    """A GitHub release without `repository`: the reply names the mapping's path that produced
    nothing, not only the SES field that is then missing."""
    scheme = BY_NAME["github"]
    event = sample(scheme)
    payload = json.loads(event["body"])
    del payload["repository"]
    event["body"] = json.dumps(payload)
    body = problem(runtime.handle(signed(scheme, event), CONTEXT), 422, "validation_error")
    [error] = [e for e in body["errors"] if e["field"] == "Template.TemplateData"]
    assert "send.Template.TemplateData.name came out null" in error["message"], error
    nothing_sent()


def _bad_cases() -> Iterator[Any]:
    for scheme in SCHEMES:
        yield pytest.param(scheme, "tampered body", id=f"{scheme}-tampered-body")
        yield pytest.param(scheme, "wrong secret", id=f"{scheme}-wrong-secret")
        if scheme.timestamped:
            yield pytest.param(scheme, "stale timestamp", id=f"{scheme}-stale")
            yield pytest.param(scheme, "future timestamp", id=f"{scheme}-future")
        for header in scheme.required_headers:
            yield pytest.param(scheme, f"missing {header}", id=f"{scheme}-missing-{header}")


@pytest.mark.parametrize(("scheme", "case"), list(_bad_cases()))
def test_unverified_delivery_is_refused_without_a_hint(
    scheme: Scheme,
    case: str,
    runtime: Runtime,
    problem: Callable[[dict[str, Any], int, str], dict[str, Any]],
    nothing_sent: Callable[[], None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    now = int(NOW.timestamp())
    event = fresh(scheme)
    ts = now
    if case == "tampered body":
        old, new = scheme.tamper
        assert old in event["body"]
        event["body"] = event["body"].replace(old, new)
    elif case == "wrong secret":
        event = signed(scheme, event, secret=scheme.wrong_secret)
    elif case == "stale timestamp":
        ts = now - TOLERANCE - 1
        event = signed(scheme, event, ts=ts)
    elif case == "future timestamp":
        ts = now + TOLERANCE + 1
        event = signed(scheme, event, ts=ts)
    else:
        del event["headers"][case.removeprefix("missing ")]
    # What a correct signature for this very body would be: the reply must not reveal it.
    headers = {**event["headers"], "webhook-id": event["headers"].get("webhook-id", "x")}
    expected = scheme.sign(headers, event["body"].encode(), scheme.secret, ts)
    expected_value = expected[scheme.signature_header]

    reply = runtime.handle(event, CONTEXT)

    body = problem(reply, 401, "invalid_signature")
    text = reply["body"]
    assert expected_value not in text
    for digest in digests_in(expected_value):
        assert digest not in text
    assert not re.search(r"[0-9a-fA-F]{64}", text), text
    assert scheme.secret not in text
    assert scheme.old_secret not in text
    assert "expected" not in body["detail"].lower()
    nothing_sent()
    log = capsys.readouterr().out
    assert '"code": "invalid_signature"' in log
    assert scheme.secret not in log
    for digest in digests_in(expected_value):
        assert digest not in log


@pytest.mark.parametrize("scheme", TIMESTAMPED, ids=str)
def test_timestamp_tolerance_is_inclusive(scheme: Scheme, runtime: Runtime) -> None:
    edge = signed(scheme, sample(scheme), ts=int(NOW.timestamp()) - TOLERANCE)
    reply = runtime.handle(edge, CONTEXT)
    assert reply["statusCode"] == 202, reply


@pytest.mark.parametrize("scheme", SCHEMES, ids=str)
def test_delivery_signed_with_the_rotated_out_secret_is_accepted(
    scheme: Scheme, runtime: Runtime, emulator: EmulatorServer
) -> None:
    reply = runtime.handle(signed(scheme, sample(scheme), secret=scheme.old_secret), CONTEXT)
    assert reply["statusCode"] == 202, reply
    assert body_of(reply)["status"] == "sent"
    assert [m["to"] for m in emulator.outbox()] == [scheme.to]


def test_stripe_signature_with_a_v1_entry_per_secret_is_accepted(
    runtime: Runtime, emulator: EmulatorServer
) -> None:
    scheme = BY_NAME["stripe"]
    event = fresh(scheme)
    now = int(NOW.timestamp())
    body = event["body"].encode()
    wrong = sign_stripe({}, body, scheme.wrong_secret, now)["stripe-signature"]
    right = sign_stripe({}, body, scheme.old_secret, now)["stripe-signature"]
    event["headers"]["stripe-signature"] = f"{wrong},{right.split(',')[1]},v0={'0' * 64}"
    reply = runtime.handle(event, CONTEXT)
    assert reply["statusCode"] == 202, reply


def test_main_handler_verifies_every_scheme_on_the_real_clock(
    config_path: Path, emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`handler.main_handler` as SCF calls it: environment, config file and system clock."""
    for name, value in ENVIRON.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SESRELAY_CONFIG", str(config_path))
    monkeypatch.setenv("SESRELAY_SES_ENDPOINT", emulator.url)
    monkeypatch.setenv("SESRELAY_STATE_URL", "memory://")
    monkeypatch.setenv("TENCENTCLOUD_SECRET_ID", DEFAULT_SECRET_ID)
    monkeypatch.setenv("TENCENTCLOUD_SECRET_KEY", DEFAULT_SECRET_KEY)
    spec = importlib.util.spec_from_file_location("handler_under_test", ROOT / "handler.py")
    assert spec is not None
    assert spec.loader is not None
    handler = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(handler)  # a fresh warm instance, built from this environment

    for scheme in SCHEMES:
        event = signed(scheme, sample(scheme), ts=int(time.time()))
        reply = handler.main_handler(event, CONTEXT)
        assert reply["statusCode"] == 202, (scheme.scheme, reply)
        assert handler.main_handler(event, CONTEXT)["statusCode"] == 200
    assert sorted(m["to"] for m in emulator.outbox()) == sorted(s.to for s in SCHEMES)


# --- dedupe ----------------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", SCHEMES, ids=str)
def test_same_delivery_replayed_100_times_sends_once(
    scheme: Scheme, runtime: Runtime, emulator: EmulatorServer
) -> None:
    event = fresh(scheme)
    replies = [runtime.handle(copy.deepcopy(event), CONTEXT) for _ in range(100)]
    assert replies[0]["statusCode"] == 202, replies[0]
    assert body_of(replies[0])["status"] == "sent"
    for reply in replies[1:]:
        assert reply["statusCode"] == 200, reply
        assert body_of(reply) == {"status": "duplicate"}
    assert sends(emulator) == 1
    assert len(emulator.outbox()) == 1


@pytest.mark.parametrize("scheme", SCHEMES, ids=str)
def test_20_distinct_deliveries_send_20(
    scheme: Scheme, runtime: Runtime, emulator: EmulatorServer
) -> None:
    for n in range(20):
        event = sample(scheme)
        scheme.distinct(event, n)
        reply = runtime.handle(signed(scheme, event), CONTEXT)
        assert reply["statusCode"] == 202, reply
        assert body_of(reply)["status"] == "sent"
    assert sends(emulator) == 20
    assert [m["to"] for m in emulator.outbox()] == [scheme.to] * 20


@pytest.mark.parametrize("scheme", TIMESTAMPED, ids=str)
def test_vendor_retry_signed_again_later_is_a_duplicate(
    scheme: Scheme, runtime: Runtime, emulator: EmulatorServer
) -> None:
    """Stripe, Svix and Slack re-sign each retry with a new timestamp; the id stays."""
    first = runtime.handle(fresh(scheme), CONTEXT)
    assert first["statusCode"] == 202, first
    retry = signed(scheme, sample(scheme), ts=int(NOW.timestamp()) + 120)
    if scheme.scheme == "slack":
        retry["headers"].update({"x-slack-retry-num": "1", "x-slack-retry-reason": "http_timeout"})
    reply = runtime.handle(retry, CONTEXT)
    assert reply["statusCode"] == 200, reply
    assert body_of(reply) == {"status": "duplicate"}
    assert sends(emulator) == 1


# --- filter and mapping ----------------------------------------------------------------------


@pytest.mark.parametrize("scheme", SCHEMES, ids=str)
def test_delivery_the_when_filter_rejects_is_acknowledged_and_ignored(
    scheme: Scheme, runtime: Runtime, nothing_sent: Callable[[], None]
) -> None:
    event = sample(scheme)
    scheme.filtered(event)
    reply = runtime.handle(signed(scheme, event), CONTEXT)
    assert reply["statusCode"] == 202, reply
    assert body_of(reply) == {"status": "ignored"}
    nothing_sent()


@pytest.mark.parametrize(
    ("scheme_name", "old", "new", "field"),
    [
        pytest.param(
            "stripe",
            '"ana@example.org"',
            '"Ana Lopez (card ending 4242)"',
            "Destination.0",
            id="destination-not-an-address",
        ),
        pytest.param(
            "github",
            '"tag_name":"v1.4.0"',
            '"tag_name":"v1.4.0-' + "x" * 100 + '"',
            "Subject",
            id="subject-over-100-characters",
        ),
    ],
)
def test_mapping_that_yields_an_invalid_send_is_422_naming_source_and_field(
    scheme_name: str,
    old: str,
    new: str,
    field: str,
    runtime: Runtime,
    capsys: pytest.CaptureFixture[str],
    problem: Callable[[dict[str, Any], int, str], dict[str, Any]],
    nothing_sent: Callable[[], None],
) -> None:
    scheme = BY_NAME[scheme_name]
    event = sample(scheme)
    assert old in event["body"]
    event["body"] = event["body"].replace(old, new)
    capsys.readouterr()

    reply = runtime.handle(signed(scheme, event), CONTEXT)

    body = problem(reply, 422, "validation_error")
    assert scheme.source in body["detail"]
    assert field in {error["field"] for error in body["errors"]}
    nothing_sent()
    [line] = [line for line in log_lines(capsys) if line.get("message") == "invocation"]
    assert line["source"] == scheme.source
    assert line["status"] == 422
    assert line["code"] == "validation_error"
    assert line["outcome"] == "invalid_mapping"


# --- configuration ---------------------------------------------------------------------------


def test_unknown_source_is_404(
    runtime: Runtime,
    problem: Callable[[dict[str, Any], int, str], dict[str, Any]],
    nothing_sent: Callable[[], None],
) -> None:
    event = fresh(BY_NAME["github"])
    event["path"] = "/v1/webhooks/no-such-source"
    body = problem(runtime.handle(event, CONTEXT), 404, "not_found")
    assert "no-such-source" in body["detail"]
    nothing_sent()


def test_source_whose_secret_variable_is_unset_is_503_not_500(
    runtime: Runtime,
    problem: Callable[[dict[str, Any], int, str], dict[str, Any]],
    nothing_sent: Callable[[], None],
) -> None:
    event = fresh(BY_NAME["github"])
    event["path"] = "/v1/webhooks/unconfigured"
    body = problem(runtime.handle(event, CONTEXT), 503, "configuration_error")
    assert "UNSET_WEBHOOK_SECRET" in body["detail"]
    nothing_sent()


@pytest.mark.parametrize("scheme", SCHEMES, ids=str)
def test_every_secret_variable_unset_is_503(
    scheme: Scheme,
    make_runtime: Callable[..., Runtime],
    problem: Callable[[dict[str, Any], int, str], dict[str, Any]],
    nothing_sent: Callable[[], None],
) -> None:
    environ = {k: v for k, v in ENVIRON.items() if k not in (scheme.env, scheme.old_env)}
    reply = make_runtime(environ).handle(fresh(scheme), CONTEXT)
    body = problem(reply, 503, "configuration_error")
    assert scheme.env in body["detail"]
    assert scheme.secret not in reply["body"]
    nothing_sent()


def test_only_the_previous_secret_set_still_verifies_its_deliveries(
    make_runtime: Callable[..., Runtime],
) -> None:
    scheme = BY_NAME["github"]
    environ = {scheme.old_env: scheme.old_secret}
    event = signed(scheme, sample(scheme), secret=scheme.old_secret)
    assert make_runtime(environ).handle(event, CONTEXT)["statusCode"] == 202


def test_malformed_standard_webhooks_secret_is_a_configuration_error_not_500(
    make_runtime: Callable[..., Runtime],
    problem: Callable[[dict[str, Any], int, str], dict[str, Any]],
    nothing_sent: Callable[[], None],
) -> None:
    """A standard-webhooks secret that is set but not `whsec_<base64>` (here, a secret pasted
    with a stray character) is the operator's configuration, not a bug: 503, never 500."""
    scheme = BY_NAME["standard-webhooks"]
    environ = {**ENVIRON, scheme.env: scheme.secret + "!", scheme.old_env: ""}
    reply = make_runtime(environ).handle(fresh(scheme), CONTEXT)
    body = problem(reply, 503, "configuration_error")
    assert scheme.env in body["detail"]
    assert scheme.secret not in reply["body"]
    nothing_sent()
