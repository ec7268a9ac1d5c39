"""The emulator's loopback HTTP/1.1 server: reads each request, sends POST / to the API core and
/_emulator/... to the control endpoints, and writes the reply.

Keep-alive matters: the SDK sends every call of a client over one pooled connection, so each
reply carries Content-Length and a dropped call closes only its own socket.
"""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sesrelay.emulator import control, signing
from sesrelay.emulator.core import EmulatorCore, Reply
from sesrelay.emulator.protocol import error_envelope, new_request_id

MAX_BODY_BYTES = 10 * 1024 * 1024  # API 3.0 caps TC3 POST bodies at 10 MB (1278/46710)


def body_limit(core: EmulatorCore, authorization: str) -> int:
    """The body cap of the service an API call is signed for: its `max_body_bytes` if it sets
    one (SES: 8 MiB), else API 3.0's 10 MiB. Unsigned calls get the default service's."""
    auth = signing.parse_authorization(authorization)
    service = core.services.get(auth.service if auth else "", core.default_service)
    limit = getattr(service, "max_body_bytes", None)
    return limit if isinstance(limit, int) else MAX_BODY_BYTES


class LoopbackServer(ThreadingHTTPServer):
    """Serves one EmulatorCore; tracks open connections so a stop can cut idle keep-alive ones."""

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
    server: LoopbackServer

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

    def _read_body(self, limit: int) -> bytes | None:
        """The body, or None when it is over `limit` (then drained, so the reply is read)."""
        length = (self.headers.get("Content-Length") or "0").strip()
        # Chunked bodies are not supported (the SDK always sends Content-Length); the stream
        # cannot be resynchronised after one, so the connection is closed after the answer.
        if not length.isdigit() or "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.close_connection = True
            return None
        left = int(length)
        if left <= limit:
            return self.rfile.read(left)
        while left > 0 and (chunk := self.rfile.read(min(left, 1 << 20))):
            left -= len(chunk)
        return None

    def _dispatch(self, method: str) -> None:
        split = urlsplit(self.path)
        limit = MAX_BODY_BYTES
        if split.path == "/":
            limit = body_limit(self.server.core, self.headers.get("Authorization") or "")
        body = self._read_body(limit)
        if body is None:
            self._send(self._too_large(split.path, limit))
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

    def _too_large(self, path: str, limit: int) -> Reply:
        if path == "/":
            msg = f"The request body is over {limit} bytes or has no valid Content-Length."
            return Reply(body=error_envelope("RequestSizeLimitExceeded", msg, new_request_id()))
        text = f"body over {limit} bytes or bad Content-Length"
        return Reply(413, json.dumps({"error": text}).encode())

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
