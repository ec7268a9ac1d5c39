"""The loopback HTTP/1.1 server around the core, the EmulatorServer facade, and serve_forever.

Keep-alive matters: the SDK sends every call of a client over one pooled connection, so each
reply carries Content-Length and a dropped call closes only its own socket.
"""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import sys
import threading
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sesrelay.clock import Clock
from sesrelay.emulator import control
from sesrelay.emulator.core import EmulatorCore, Reply
from sesrelay.emulator.faults import make_fault
from sesrelay.emulator.protocol import Service, error_envelope, new_request_id
from sesrelay.emulator.ses.seed import load_seed
from sesrelay.emulator.ses.service import SesService
from sesrelay.emulator.timeline import BusinessClock

# Public, fake credentials: the emulator guards nothing, it checks that clients sign correctly.
DEFAULT_SECRET_ID = "AKIDsesrelayEMULATOR0000000000000000"  # noqa: S105
DEFAULT_SECRET_KEY = "sesrelay-emulator-secret-key-0000"  # noqa: S105
MAX_BODY_BYTES = 10 * 1024 * 1024  # API 3.0 caps TC3 POST bodies at 10 MB (1278/46710)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # idle keep-alive connections must not hold up stop()

    def __init__(self, address: tuple[str, int], core: EmulatorCore) -> None:
        self.core = core
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        super().__init__(address, _Handler)

    def track(self, conn: socket.socket, active: bool) -> None:
        with self._conns_lock:
            (self._conns.add if active else self._conns.discard)(conn)

    def close_connections(self) -> None:
        with self._conns_lock:
            conns = list(self._conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out or hung up mid-reply is normal here (delay faults cause it).
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "sesrelay-emulator"
    sys_version = ""
    server: _Server

    def setup(self) -> None:
        super().setup()
        # Headers and body leave in two writes; without NODELAY, Nagle plus the client's delayed
        # ACK adds ~40 ms to every reply on a kept-alive connection.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, False)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: request lines are noise in test output (and headers may carry tokens)."""

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def _read_body(self) -> bytes | None:
        """The body, or None when it is over the limit (then drained, so the reply is read)."""
        length = (self.headers.get("Content-Length") or "0").strip()
        # Chunked bodies are not supported (the SDK always sends Content-Length); the stream
        # cannot be resynchronised after one, so the connection is closed after the answer.
        if not length.isdigit() or "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.close_connection = True
            return None
        left = int(length)
        if left <= MAX_BODY_BYTES:
            return self.rfile.read(left)
        while left > 0 and (chunk := self.rfile.read(min(left, 1 << 20))):
            left -= len(chunk)
        return None

    def _dispatch(self, method: str) -> None:
        split = urlsplit(self.path)
        body = self._read_body()
        if body is None:
            self._send(self._too_large(split.path))
            return
        core = self.server.core
        if split.path == "/":
            headers = {k.lower(): v for k, v in self.headers.items()}
            self._send(core.handle_api(method, headers, body))
        elif split.path == control.PREFIX or split.path.startswith(control.PREFIX + "/"):
            query = {k: v[-1] for k, v in parse_qs(split.query).items()}
            status, payload, allow = control.handle(core, method, split.path, query, body)
            extra = {"Allow": ", ".join(allow)} if allow else {}
            self._send(Reply(status, json.dumps(payload).encode()), extra)
        else:
            payload = {"error": f"no such path {split.path}; API calls go to POST /"}
            self._send(Reply(404, json.dumps(payload).encode()))

    def _too_large(self, path: str) -> Reply:
        if path == "/":
            msg = "The request body is over 10 MB or has no valid Content-Length."
            return Reply(body=error_envelope("RequestSizeLimitExceeded", msg, new_request_id()))
        return Reply(413, json.dumps({"error": "body over 10 MB or bad Content-Length"}).encode())

    def _send(self, reply: Reply, extra: dict[str, str] | None = None) -> None:
        if reply.drop:
            self.close_connection = True
            # shutdown, not just close: the client must see the connection die now
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(reply.body)


class EmulatorServer:
    """A running emulator on loopback; the official SDK is its client.

    Point the SDK at it with `HttpProfile(endpoint=srv.endpoint, protocol="http")`.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        secret_id: str = DEFAULT_SECRET_ID,
        secret_key: str = DEFAULT_SECRET_KEY,
        seed_path: str | Path | None = None,
        *,
        clock: Clock | None = None,
        rate_limit: int | None = 20,
        upload_seconds: float = 1.0,
    ) -> None:
        if not secret_id or not secret_key:
            raise ValueError("secret_id and secret_key must be non-empty")
        self._host, self._wanted_port = host, port
        self.clock = BusinessClock(clock)
        self.ses = SesService(load_seed(seed_path), self.clock, upload_seconds)
        self.core = EmulatorCore(
            credentials={secret_id: secret_key},
            services=[self.ses],
            clock=self.clock,
            rate_limit=rate_limit,
        )
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    def add_service(self, service: Service) -> None:
        """Serve another product (e.g. SCF) on the same port, chosen by the credential scope."""
        self.core.services[service.name] = service

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> EmulatorServer:
        if self._httpd is None:
            self._httpd = _Server((self._host, self._wanted_port), self.core)
            self._thread = threading.Thread(
                target=self._httpd.serve_forever,
                kwargs={"poll_interval": 0.02},  # how long stop() may wait for the loop
                name=f"sesrelay-emulator-{self.port}",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.close_connections()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the emulator is not started")
        return int(self._httpd.server_address[1])

    @property
    def endpoint(self) -> str:
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"{host}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.endpoint}"

    # -- inspection and control (the same as the /_emulator endpoints) -------------------------

    def outbox(
        self, to: str | None = None, task_id: int | None = None, message_id: str | None = None
    ) -> list[dict[str, Any]]:
        self.core.tick()
        with self.core.lock:
            return self.ses.outbox(to, task_id, message_id)

    def inject_fault(self, action: str, kind: str, count: int = 1, **kw: Any) -> None:
        """Kinds: error (code, message), http_status (status), delay (seconds), drop_before,
        drop_after; the same as `POST /_emulator/faults`."""
        self.core.faults.add(make_fault({"action": action, "kind": kind, "count": count, **kw}))

    def faults(self) -> list[dict[str, Any]]:
        return self.core.faults.pending()

    def clear_faults(self) -> None:
        self.core.faults.clear()

    def now(self) -> datetime:
        return self.clock.now()

    def advance(self, seconds: float) -> datetime:
        """Move the business clock forward and run whatever became due."""
        self.clock.advance(seconds)
        self.core.tick()
        return self.clock.now()

    def reset(self) -> None:
        self.core.reset()

    def call_counts(self, service: str = "ses") -> dict[str, int]:
        return self.core.call_counts(service)

    def rate_limited_counts(self, service: str = "ses") -> dict[str, int]:
        """Calls refused with RequestLimitExceeded, per action."""
        return self.core.rate_limited_counts(service)


def serve_forever(
    host: str = "127.0.0.1",
    port: int = 0,
    secret_id: str = DEFAULT_SECRET_ID,
    secret_key: str = DEFAULT_SECRET_KEY,
    seed_path: str | Path | None = None,
    rate_limit: int | None = 20,
) -> None:
    """Run until SIGINT/SIGTERM; prints `listening on http://HOST:PORT` once ready."""
    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, _on_signal)
    srv = EmulatorServer(host, port, secret_id, secret_key, seed_path, rate_limit=rate_limit)
    # The SCF actions `sesrelay deploy --endpoint` uses, so a deploy can be rehearsed locally.
    from sesrelay.emulator.scf.service import ScfService

    srv.add_service(ScfService(srv.clock))
    try:
        srv.start()
        print(f"listening on {srv.url}", flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        srv.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
