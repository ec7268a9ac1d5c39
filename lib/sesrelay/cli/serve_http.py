"""The HTTP/1.1 server of `sesrelay serve`: reads each request within deadlines (head, body,
idle), hands the event to the function and writes its reply back. Everything the server answers
itself, down to a malformed request line, is problem+json; no answer names the server's version."""

from __future__ import annotations

import io
import re
import sys
import traceback
import uuid
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sesrelay.cli.function_url import (
    DEFAULT_FUNCTION_TIMEOUT_SECONDS,
    HttpReply,
    http_reply,
    invocation_context,
    problem_reply,
    request_event,
)
from sesrelay.cli.serve_deadlines import DeadlineReader, Deadlines
from sesrelay.events import MAX_BODY_BYTES

#: The function's entry point: (event, context) -> its return value.
Handler = Callable[[dict[str, Any], dict[str, Any]], Any]

#: http.server's own refusals -> (code, detail). Its messages quote the request line, which may
#: carry a credential (a key in the query, the SES callback token in the path): never sent.
_REFUSALS: dict[int, tuple[str, str]] = {
    400: ("malformed_request", "the request line must be `METHOD target HTTP/1.x`"),
    414: ("uri_too_long", "the request line is over 65536 bytes"),
    431: ("header_fields_too_large", "a header line is over 65536 bytes, or over 100 headers"),
    505: ("http_version_not_supported", "only HTTP/1.0 and HTTP/1.1 are served"),
}


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: every reply carries Content-Length
    # Without this, small replies on a reused connection wait ~40 ms for Nagle + delayed ACK.
    disable_nagle_algorithm = True
    server: LocalServer

    def setup(self) -> None:
        super().setup()
        self.rfile.close()  # replaced: every read of the request is held to a deadline
        self._reader = DeadlineReader(self.connection, self.server.deadlines.head)
        self._buffered = io.BufferedReader(self._reader)
        self.rfile = self._buffered
        self._first = True

    def handle_one_request(self) -> None:
        """One request: its head, then its body, each read against its deadline; the answer."""
        self.command = self.path = self.request_version = ""  # nothing left from the last one
        try:
            if not self._next_request() or not self._read_head():
                return
            self._reader.allow(self.server.deadlines.body)
            getattr(self, "do_" + self.command)()
            self.wfile.flush()
        except (TimeoutError, ConnectionError):
            # The client left, or does not read its answer: nobody is there to tell.
            self.close_connection = True

    def _next_request(self) -> bool:
        """Whether a request follows. The first one's head deadline runs from accept; on a
        keep-alive connection the next may idle first, and its deadline runs from its first byte.
        An idle connection is closed without an answer: no request is pending."""
        if self._first:
            self._first = False
            return True
        self._reader.allow(self.server.deadlines.idle)
        try:
            arrived = bool(self._buffered.peek(1))
        except TimeoutError:
            arrived = False
        self._reader.allow(self.server.deadlines.head)
        self.close_connection = not arrived
        return arrived

    def _read_head(self) -> bool:
        """Reads and parses the request line and headers; False when the client left or was
        answered already (refused, or too slow)."""
        try:
            self.raw_requestline = self.rfile.readline(65537)
            if not self.raw_requestline:
                self.close_connection = True
                return False
            if len(self.raw_requestline) > 65536:
                self.send_error(HTTPStatus.REQUEST_URI_TOO_LONG)
                return False
            if len(str(self.raw_requestline, "iso-8859-1").split()) == 2:  # as parse_request
                # HTTP/0.9 (`GET /path`): its answers have no status line or headers.
                self.send_error(HTTPStatus.BAD_REQUEST)
                return False
            return self.parse_request()
        except TimeoutError:
            seconds = self.server.deadlines.head
            detail = f"the request line and headers did not arrive within {seconds:g} s"
            self._send(problem_reply(408, "request_timeout", detail, str(uuid.uuid4())), close=True)
            return False

    def _serve(self) -> None:
        context = invocation_context(self.server.function_timeout)
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
        # A length of more than 16 digits is over the limit whatever it says (and int() of
        # thousands of digits raises).
        if len(text.lstrip("0")) > 16 or int(text) > MAX_BODY_BYTES:
            detail = f"the body is over {MAX_BODY_BYTES} bytes (the SCF limit)"
            return problem_reply(413, "payload_too_large", detail, rid)
        try:
            body = self.rfile.read(int(text))
        except TimeoutError:  # the client announced more than it sends in time
            return self._too_slow(rid)
        if len(body) < int(text):  # the client closed early: half a body is never handed on
            detail = "the connection closed before the body reached its Content-Length"
            return problem_reply(400, "malformed_request", detail, rid)
        return body

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
            return self._too_slow(rid)

    def _too_slow(self, rid: str) -> HttpReply:
        detail = f"the body did not arrive within {self.server.deadlines.body:g} s"
        return problem_reply(408, "request_timeout", detail, rid)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals (request line, version, header sizes) as problem+json,
        like every other answer; its message and explain, which quote the request, are dropped."""
        name, detail = _REFUSALS.get(code) or ("malformed_request", HTTPStatus(code).phrase)
        if self.request_version == "HTTP/0.9":  # what parse_request assumes of a line it refused
            self.request_version = ""  # any other value gets a status line and headers
        self._send(problem_reply(code, name, detail, str(uuid.uuid4())), close=True)

    def send_response(self, code: int, message: str | None = None) -> None:
        # http.server's, without its `Server: BaseHTTP/0.6 Python/3.x`: versions tell a scanner
        # what to try, and no client needs the header (RFC 9110 10.2.4 makes it optional).
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header("Date", self.date_time_string())

    # The access log names the method, the path without its query string (clients put keys
    # there) with the SES callback token masked, and the status: never the raw request line.
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        self._log(code)

    def log_error(self, format: str, *args: Any) -> None:
        # http.server's messages quote the raw request line: only the status is logged.
        self._log(args[0] if args else "-")

    def _log(self, status: object) -> None:
        # `command` and `path` are unset when the request line itself could not be read.
        path = loggable_path(getattr(self, "path", None) or "")
        sys.stderr.write(f"{getattr(self, 'command', None) or '-'} {path} {status}\n")

    def _send(self, reply: HttpReply, *, close: bool = False) -> None:
        # The reads leave their own (short) timeouts on the socket.
        self.connection.settimeout(self.server.deadlines.write)
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
    """`/v1/ses-events/<token>?k=v` -> `/v1/ses-events/***`: no query, no fragment, and nothing
    after `ses-events/` in any spelling the router accepts (`v1/ses-events/...` without the
    leading slash, or an absolute `http://host/v1/ses-events/...`)."""
    path = raw.split("?", 1)[0].split("#", 1)[0]
    marker = "ses-events/"
    at = path.find(marker)
    if at >= 0 and len(path) > at + len(marker):
        return path[: at + len(marker)] + "***"
    return path


class LocalServer(ThreadingHTTPServer):
    """Serves `handler` on host:port (0 picks a free port) until shutdown(), a thread per
    connection; `deadlines` bound how long a slow client holds one."""

    daemon_threads = True  # an open keep-alive connection must not hold up shutdown
    # The accept queue. http.server's 5 makes a burst of clients time out or be reset before a
    # thread can take them; Linux caps this at net.core.somaxconn.
    request_queue_size = 1024

    def __init__(
        self,
        host: str,
        port: int,
        handler: Handler,
        deadlines: Deadlines | None = None,
        function_timeout: float = DEFAULT_FUNCTION_TIMEOUT_SECONDS,
    ) -> None:
        self.handler = handler
        self.function_timeout = function_timeout  # seconds, reported in each context
        self.deadlines = deadlines or Deadlines()
        super().__init__((host, port), _RequestHandler)  # IPv4 only, like http.server's default

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"
