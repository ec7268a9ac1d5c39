"""EmulatorServer, a running emulator (SES, and SCF when added) on loopback for tests and tools,
with its inbox page at `/_emulator/ui`; and serve_forever, the `sesrelay emulator` process."""

from __future__ import annotations

import signal
import sys
import threading
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

from sesrelay.clock import Clock
from sesrelay.emulator.callbacks import CallbackQueue
from sesrelay.emulator.core import EmulatorCore
from sesrelay.emulator.faults import make_fault
from sesrelay.emulator.httpd import MAX_BODY_BYTES, LoopbackServer, _Handler
from sesrelay.emulator.protocol import Service
from sesrelay.emulator.ses.seed import load_seed
from sesrelay.emulator.ses.service import SesService
from sesrelay.emulator.timeline import BusinessClock
from sesrelay.emulator.ui import pages

# Public, fake credentials: the emulator guards nothing, it checks that clients sign correctly.
DEFAULT_SECRET_ID = "AKIDsesrelayEMULATOR0000000000000000"  # noqa: S105
DEFAULT_SECRET_KEY = "sesrelay-emulator-secret-key-0000"  # noqa: S105


class _InboxHandler(_Handler):
    """The emulator's request handler, plus the inbox page's routes: HTML, CSS, JavaScript and
    downloads, which the JSON-only control endpoints cannot answer (`ui/pages`)."""

    def _dispatch(self, method: str) -> None:
        path = urlsplit(self.path).path
        if not pages.is_ui_path(path):
            super()._dispatch(method)
            return
        if self._read_body(MAX_BODY_BYTES) is None:  # read, so the next request can be
            self._send(self._too_large(path, MAX_BODY_BYTES))
            return
        reply, headers = pages.respond(self.server.core, method, path)
        self._send(reply, headers)


class _InboxServer(LoopbackServer):
    """The loopback server, answering with `_InboxHandler`."""

    def __init__(self, address: tuple[str, int], core: EmulatorCore) -> None:
        super().__init__(address, core)
        self.RequestHandlerClass = _InboxHandler


class EmulatorServer:
    """A running emulator on loopback; the official SDK is its client.

    Point the SDK at it with `HttpProfile(endpoint=srv.endpoint, protocol="http")`. With a
    `callback_url` (or `set_callback_url` later) every mail it sends posts the mailbox
    simulator's delivery events there, as SES posts its callbacks (`ses/simulator.py`).
    A browser shows what it holds at `inbox_url`.
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
        callback_url: str | None = None,
    ) -> None:
        if not secret_id or not secret_key:
            raise ValueError("secret_id and secret_key must be non-empty")
        self._host, self._wanted_port = host, port
        self.clock = BusinessClock(clock)
        self.callbacks = CallbackQueue(callback_url)
        self.ses = SesService(load_seed(seed_path), self.clock, upload_seconds, self.callbacks)
        self.core = EmulatorCore(
            credentials={secret_id: secret_key},
            services=[self.ses],
            clock=self.clock,
            rate_limit=rate_limit,
            callbacks=self.callbacks,
        )
        self._httpd: LoopbackServer | None = None
        self._thread: threading.Thread | None = None

    def add_service(self, service: Service) -> None:
        """Serve another product (e.g. SCF) on the same port, chosen by the credential scope."""
        self.core.services[service.name] = service

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> EmulatorServer:
        if self._httpd is None:
            self._httpd = _InboxServer((self._host, self._wanted_port), self.core)
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
        self.callbacks.close()

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

    @property
    def inbox_url(self) -> str:
        """The inbox page: every mail accepted, newest first, updated as mail arrives."""
        return self.url + pages.PREFIX

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
        """Back to the seed; the callback URL stays, its counters and queue are cleared."""
        self.core.reset()

    def set_callback_url(self, url: str | None) -> None:
        """Post the delivery events of mail sent from now on to `url` (None or "" turns it off);
        the same as `POST /_emulator/callbacks`. ValueError for a URL that is not http(s)."""
        self.callbacks.set_url(url)

    def callback_status(self) -> dict[str, Any]:
        """{"url", "sent", "failed", "pending", "last_error"}, as `GET /_emulator/callbacks`."""
        self.core.tick()
        return self.callbacks.status()

    def wait_callbacks(self, timeout: float = 5.0) -> bool:
        """Wait until every queued callback is sent or given up (runs due tasks first); False
        when `timeout` seconds pass first."""
        self.core.tick()
        return self.callbacks.wait(timeout)

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
    callback_url: str | None = None,
) -> None:
    """Run until SIGINT/SIGTERM; prints `listening on http://HOST:PORT` once ready (the first line:
    scripts wait for it), then `inbox: http://HOST:PORT/_emulator/ui`."""
    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, _on_signal)
    srv = EmulatorServer(
        host,
        port,
        secret_id,
        secret_key,
        seed_path,
        rate_limit=rate_limit,
        callback_url=callback_url,
    )
    # The SCF actions `sesrelay deploy --endpoint` uses, so a deploy can be rehearsed locally.
    from sesrelay.emulator.scf.service import ScfService

    srv.add_service(ScfService(srv.clock))
    try:
        srv.start()
        # One write: a reader of the first line gets both lines in one piece, never half of one.
        sys.stdout.write(f"listening on {srv.url}\ninbox: {srv.inbox_url}\n")
        sys.stdout.flush()
        while not stop.wait(0.5):
            pass
    finally:
        srv.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
