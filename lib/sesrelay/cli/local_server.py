"""`sesrelay serve` (DESIGN A5): a local HTTP server that turns each request into a function-URL
event, runs the function in-process and turns its reply back into HTTP. Without Tencent
credentials it embeds the SES emulator and generates a dev API key."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import secrets
import shlex
import signal
import sys
import threading
import traceback
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import parse_qs, urlsplit

from pydantic import ValidationError

from sesrelay.events import MAX_BODY_BYTES
from sesrelay.http.problems import problem
from sesrelay.settings import Settings, describe_error
from sesrelay.state import StateStoreError

if TYPE_CHECKING:
    from sesrelay.emulator import EmulatorServer
    from sesrelay.state import StateStore

Handler = Callable[[dict[str, Any], dict[str, Any]], Any]

# Framing is the server's job: the function's own values could contradict the bytes we send.
_HOP_BY_HOP = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive"})


@dataclass(frozen=True)
class HttpReply:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


def request_event(
    method: str, target: str, headers: Iterable[tuple[str, str]], body: bytes, client_ip: str
) -> dict[str, Any]:
    """One HTTP request as the function-URL event SCF would deliver (reference/scf.md 2.2)."""
    parts = urlsplit(target)
    lowered: dict[str, str] = {}
    for name, value in headers:
        key = name.lower()
        # A repeated header folds into one comma-separated value, as RFC 9110 5.3 allows.
        lowered[key] = f"{lowered[key]}, {value}" if key in lowered else value
    lowered["x-scf-remote-addr"] = client_ip  # set by the platform; a client cannot spoof it
    query: dict[str, str | list[str]] = {
        name: values[0] if len(values) == 1 else values
        for name, values in parse_qs(parts.query, keep_blank_values=True).items()
    }
    event: dict[str, Any] = {
        "httpMethod": method.upper(),
        "path": parts.path or "/",  # kept percent-encoded, as received
        "headers": lowered,
        "queryString": query,
    }
    try:
        event["body"] = body.decode("utf-8")
    except UnicodeDecodeError:
        # SCF does not document binary bodies; base64 keeps them byte-exact for signatures.
        event["body"] = base64.b64encode(body).decode("ascii")
        event["isBase64Encoded"] = True
    return event


def invocation_context() -> dict[str, Any]:
    """The context dict SCF passes (reference/scf.md 1.1), with a fresh request id."""
    return {
        "request_id": str(uuid.uuid4()),
        "time_limit_in_ms": 30000,
        "memory_limit_in_mb": 128,
        "function_name": "sesrelay-local",
        "namespace": "default",
        "function_version": "$LATEST",
    }


def http_reply(reply: Any) -> HttpReply:
    """The function's return value as HTTP. ValueError if an integrated reply is malformed."""
    if not (isinstance(reply, dict) and "statusCode" in reply):
        # Function URL: valid JSON without statusCode is a 200 application/json of the whole value.
        body = json.dumps(reply, ensure_ascii=False).encode("utf-8")
        return HttpReply(200, [("Content-Type", "application/json")], body)
    status = reply["statusCode"]
    if isinstance(status, bool) or not isinstance(status, int) or not 200 <= status <= 599:
        raise ValueError(f"statusCode must be an integer from 200 to 599, not {status!r}")
    raw_headers = reply.get("headers") or {}
    if not isinstance(raw_headers, dict):
        raise ValueError("headers must be an object")
    headers: list[tuple[str, str]] = []
    for name, value in raw_headers.items():
        if str(name).lower() in _HOP_BY_HOP:
            continue
        for item in value if isinstance(value, list) else [value]:  # a list repeats the header
            headers.append((str(name), str(item)))
    body_text = "" if reply.get("body") is None else reply["body"]
    if not isinstance(body_text, str):
        raise ValueError("body must be a string")
    if reply.get("isBase64Encoded") is True:
        try:
            return HttpReply(status, headers, base64.b64decode(body_text, validate=True))
        except binascii.Error:
            raise ValueError("isBase64Encoded is true but body is not base64") from None
    return HttpReply(status, headers, body_text.encode("utf-8"))


def problem_reply(status: int, code: str, detail: str, request_id: str | None) -> HttpReply:
    response = problem(status, code, detail, request_id=request_id)
    return HttpReply(status, list(response.headers.items()), response.body.encode("utf-8"))


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: every reply carries Content-Length
    # Without this, small replies on a reused connection wait ~40 ms for Nagle + delayed ACK.
    disable_nagle_algorithm = True
    timeout = 60  # seconds: a stalled or idle keep-alive connection does not hold a thread forever
    server: LocalServer

    def _serve(self) -> None:
        context = invocation_context()
        rid = context["request_id"]
        body = self._read_body(rid)
        if isinstance(body, HttpReply):
            self._send(body, close=True)  # the body is unread, so the stream is out of step
            return
        event = request_event(
            self.command, self.path, self.headers.items(), body, self.client_address[0]
        )
        try:
            reply = http_reply(self.server.handler(event, context))
        except Exception:  # a bug: the whole story goes to stderr, none of it to the client
            sys.stderr.write(f"request {rid} failed:\n{traceback.format_exc()}")
            reply = problem_reply(500, "internal_error", "internal error; see the serve log", rid)
        self._send(reply)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

    def __getattr__(self, name: str) -> Any:
        # Any other method (TRACE, QUERY, ...) goes to the function too, which answers 405
        # problem+json with Allow, instead of http.server's HTML 501 page.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def _read_body(self, rid: str) -> bytes | HttpReply:
        """The request body, or the error to answer instead."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked(rid)
        values = set(self.headers.get_all("Content-Length") or [])
        if not values:
            return b""  # RFC 9112 6.3: no length and no chunking means no body
        # int() alone would take "+5", "5_0" and Unicode digits; several values could disagree.
        if len(values) > 1 or not re.fullmatch(r"[0-9]+", text := values.pop().strip()):
            return problem_reply(400, "malformed_request", "invalid Content-Length", rid)
        if int(text) > MAX_BODY_BYTES:
            detail = f"the body is over {MAX_BODY_BYTES} bytes (the SCF limit)"
            return problem_reply(413, "payload_too_large", detail, rid)
        try:
            return self.rfile.read(int(text))
        except TimeoutError:  # the client announced more than it sent
            return problem_reply(408, "request_timeout", "the body did not arrive in time", rid)

    def _read_chunked(self, rid: str) -> bytes | HttpReply:
        """A chunked body (RFC 9112 7.1), refused past the 6 MB limit as it arrives."""
        body = bytearray()
        try:
            while True:
                size_line = self.rfile.readline(1024).split(b";", 1)[0].strip()
                if not re.fullmatch(rb"[0-9A-Fa-f]{1,8}", size_line):
                    return problem_reply(400, "malformed_request", "invalid chunked body", rid)
                size = int(size_line, 16)
                if size == 0:
                    while self.rfile.readline(1024).strip():  # trailer fields, ignored
                        pass
                    return bytes(body)
                if len(body) + size > MAX_BODY_BYTES:
                    detail = f"the body is over {MAX_BODY_BYTES} bytes (the SCF limit)"
                    return problem_reply(413, "payload_too_large", detail, rid)
                body += self.rfile.read(size)
                if self.rfile.read(2) != b"\r\n":
                    return problem_reply(400, "malformed_request", "invalid chunked body", rid)
        except TimeoutError:
            return problem_reply(408, "request_timeout", "the body did not arrive in time", rid)

    def _send(self, reply: HttpReply, *, close: bool = False) -> None:
        self.send_response(reply.status)
        for name, value in reply.headers:
            self.send_header(name, value)
        # A 204 has no body and must not carry Content-Length (RFC 9110 8.6).
        body = b"" if reply.status == 204 else reply.body
        if reply.status != 204:
            self.send_header("Content-Length", str(len(body)))
        if close:
            self.close_connection = True
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


class LocalServer(ThreadingHTTPServer):
    daemon_threads = True  # an open keep-alive connection must not hold up shutdown

    def __init__(self, host: str, port: int, handler: Handler) -> None:
        self.handler = handler
        super().__init__((host, port), _RequestHandler)  # IPv4 only, like http.server's default

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


def demo_curl(base_url: str, api_key: str) -> str:
    """A copy-pasteable BatchSendEmail call; the sender, recipient group 200001 and template
    100001 are the emulator's default seed (emulator/default_seed.json)."""
    payload = {
        "FromEmailAddress": "noreply@example.com",
        "ReplyToAddresses": "noreply@example.com",
        "ReceiverId": 200001,
        "Subject": "Welcome, {{name}}",
        "TaskType": 1,
        "Template": {"TemplateID": 100001, "TemplateData": json.dumps({"name": "friend"})},
    }
    words = [
        "curl", "-sS", "-X", "POST", f"{base_url}/v1/batch-tasks",
        "-H", f"Authorization: Bearer {api_key}",
        "-H", "Content-Type: application/json",
        "-H", f"Idempotency-Key: demo-{secrets.token_hex(6)}",
        "-d", json.dumps(payload),
    ]  # fmt: skip
    return " ".join(shlex.quote(word) for word in words)


def run(host: str, port: int, out: TextIO = sys.stdout) -> int:
    """Serve until SIGINT/SIGTERM; returns the exit status."""
    from sesrelay.runtime import Runtime
    from sesrelay.wiring import build_services

    try:
        settings = Settings()
    except ValidationError as exc:
        raise SystemExit(f"sesrelay serve: invalid environment: {describe_error(exc)}") from None
    settings, emulator, notes = _ses(settings)
    api_key = "<your API key>"
    if settings.api_key_sha256:
        notes.append("API keys: from SESRELAY_API_KEY_SHA256")
    else:
        # Never an open relay: the function refuses to send without keys, so a local run gets
        # a fresh key that only this process accepts (its digest is configured, not the key).
        api_key = "sr_dev_" + secrets.token_urlsafe(24)
        digest = hashlib.sha256(api_key.encode("ascii")).hexdigest()
        settings = settings.model_copy(update={"api_key_sha256": [digest]})
        notes.append(f"API key (generated for this run): {api_key}")
    store = None
    try:
        services = build_services(settings)
        store = services.state  # open now, so a bad SESRELAY_STATE_URL fails at start-up
        server = LocalServer(host, port, Runtime(services).handle)
    except (ValueError, OSError, StateStoreError) as exc:
        _close(emulator, store)
        raise SystemExit(f"sesrelay serve: {exc}") from None

    stop = threading.Event()
    signals = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in signals}
    threading.Thread(target=server.serve_forever, args=(0.1,), daemon=True).start()
    try:
        # The socket is bound and listening; the last line tells scripts it is ready.
        print(_banner(server, settings, emulator, notes, api_key), file=out, flush=True)
        stop.wait()
    finally:
        server.shutdown()
        server.server_close()
        _close(emulator, store)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


def _ses(settings: Settings) -> tuple[Settings, EmulatorServer | None, list[str]]:
    """Real SES (or SESRELAY_SES_ENDPOINT) with credentials; otherwise the embedded emulator."""
    if settings.has_credentials:
        if settings.ses_endpoint:
            return settings, None, [f"SES: SESRELAY_SES_ENDPOINT {settings.ses_endpoint}"]
        return settings, None, [f"SES: real Tencent SES ({settings.ses_region})"]
    from sesrelay.emulator import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, EmulatorServer

    notes = []
    if settings.ses_endpoint:
        notes.append("note: SESRELAY_SES_ENDPOINT ignored: no Tencent credentials are set")
    emulator = EmulatorServer(host="127.0.0.1", port=0).start()
    notes.append(f"SES: embedded emulator at {emulator.url}")
    update = {
        "ses_endpoint": emulator.url,
        "secret_id": DEFAULT_SECRET_ID,
        "secret_key": DEFAULT_SECRET_KEY,
        "session_token": None,
    }
    return settings.model_copy(update=update), emulator, notes


def _banner(
    server: LocalServer,
    settings: Settings,
    emulator: EmulatorServer | None,
    notes: list[str],
    api_key: str,
) -> str:
    from sesrelay.adapters.state_url import redact_state_url
    from sesrelay.wiring import default_state_url

    # A wildcard address is where the server listens, not where a client connects.
    base = server.url.replace("//0.0.0.0:", "//127.0.0.1:")
    lines = [f"sesrelay serve: function URL at {base}", *notes]
    lines.append(f"state: {redact_state_url(default_state_url(settings))}")
    if emulator is not None:
        lines.append(f"outbox: {emulator.url}/_emulator/outbox")
    else:
        lines.append("(the demo ReceiverId, TemplateID and sender are the emulator's; use yours)")
    lines += ["try it:", "  " + demo_curl(base, api_key), f"listening on {server.url}"]
    return "\n".join(lines)


def _close(emulator: EmulatorServer | None, store: StateStore | None) -> None:
    if store is not None:
        store.close()
    if emulator is not None:
        emulator.stop()
