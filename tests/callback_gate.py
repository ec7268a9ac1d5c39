"""A callback receiver that holds every answer until the test opens its gate: while it is shut,
the emulator's delivery callbacks stay `pending`, so a test can see them before and after."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sesrelay.emulator import EmulatorServer


class _Handler(BaseHTTPRequestHandler):
    server: GateReceiver

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.gate.wait(10)
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Silent."""


class GateReceiver(ThreadingHTTPServer):
    """Answers each POST 204 once `gate` is set."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.gate = threading.Event()


@contextmanager
def gated_callbacks(emulator: EmulatorServer) -> Iterator[GateReceiver]:
    """The emulator posts its callbacks to a GateReceiver until the block ends; then the gate
    opens, the queue drains and the emulator posts nowhere again."""
    receiver = GateReceiver()
    threading.Thread(target=receiver.serve_forever, args=(0.05,), daemon=True).start()
    emulator.set_callback_url(f"http://127.0.0.1:{receiver.server_address[1]}/ses-events")
    try:
        yield receiver
    finally:
        emulator.set_callback_url(None)
        receiver.gate.set()
        emulator.wait_callbacks(5)
        receiver.shutdown()
        receiver.server_close()
