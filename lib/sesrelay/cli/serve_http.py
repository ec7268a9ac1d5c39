"""The HTTP/1.1 server of `sesrelay serve`: reads each request's body (Content-Length or
chunked, within SCF's 6 MB limit), hands the event to the function, writes the reply back."""

from __future__ import annotations

import re
import sys
import traceback
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sesrelay.cli.function_url import (
    HttpReply,
    http_reply,
    invocation_context,
    problem_reply,
    request_event,
)
from sesrelay.events import MAX_BODY_BYTES

#: The function's entry point: (event, context) -> its return value.
Handler = Callable[[dict[str, Any], dict[str, Any]], Any]


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

    # The access log names the method, the path without its query string (clients put keys
    # there) with the SES callback token masked, and the status: never the raw request line.
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        self._log(code)

    def log_error(self, format: str, *args: Any) -> None:
        # http.server's own errors quote the raw request line: only the status is logged.
        self._log(args[0] if args else "-")

    def _log(self, status: object) -> None:
        # `command` and `path` are unset when the request line itself could not be read.
        path = loggable_path(getattr(self, "path", None) or "")
        sys.stderr.write(f"{getattr(self, 'command', None) or '-'} {path} {status}\n")

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


def loggable_path(raw: str) -> str:
    """`/v1/ses-events/<token>?k=v` -> `/v1/ses-events/***`: no query, no callback token."""
    path = raw.split("?", 1)[0]
    prefix = "/v1/ses-events/"
    if path.startswith(prefix) and len(path) > len(prefix):
        return prefix + "***"
    return path


class LocalServer(ThreadingHTTPServer):
    """Serves `handler` on host:port (0 picks a free port) until shutdown()."""

    daemon_threads = True  # an open keep-alive connection must not hold up shutdown

    def __init__(self, host: str, port: int, handler: Handler) -> None:
        self.handler = handler
        super().__init__((host, port), _RequestHandler)  # IPv4 only, like http.server's default

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"
