"""Callback delivery: the emulator POSTs event payloads (SES's delivery callbacks) to a URL.

One background worker thread drains a FIFO queue, so the API reply that produced the events
never waits for them, and the events of a mail arrive in the order they were made. Each event is
one JSON object in its own `POST` (`Content-Type: application/json`); an answer other than 2xx, or
no connection, is retried `MAX_ATTEMPTS` times in all with a short backoff, then the event is
dropped and counted as failed. Redirects are not followed and proxy variables are ignored: the
emulator is a local tool, and the URL is the receiver itself.

Any host is allowed (the relay under `sesrelay serve`, another machine on a lab network); only
`http` and `https` URLs are. Unlike real SES, whose console takes ports 8080-8082 only, any port
is accepted.

Lock order: callers may hold the emulator core's lock when they submit; the worker never takes
it, so a receiver that calls the emulator back (the relay blacklisting a bounce) cannot deadlock.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

MAX_ATTEMPTS = 3
#: seconds before the second attempt; doubled before each later one
BACKOFF_SECONDS = 0.1
#: per attempt: connect, send, read the status line
POST_TIMEOUT_SECONDS = 3.0
MAX_URL_LENGTH = 2048
USER_AGENT = "sesrelay-emulator"

PENDING, SENT, FAILED, SKIPPED = "pending", "sent", "failed", "skipped"


def check_callback_url(url: object) -> str | None:
    """The URL to post to, or None (delivery off) for None or ""; ValueError says what is wrong."""
    if url is None or url == "":
        return None
    if not isinstance(url, str):
        raise ValueError("the callback url must be a string, or null or empty to turn it off")
    if len(url) > MAX_URL_LENGTH:
        raise ValueError(f"the callback url is over {MAX_URL_LENGTH} characters")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise ValueError("the callback url must not contain spaces or control characters")
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError(
            f"the callback url must start with http:// or https:// (got {parts.scheme or 'none'})"
        )
    if not parts.hostname:
        raise ValueError("the callback url names no host")
    if parts.username is not None or parts.password is not None:
        raise ValueError("the callback url must not carry user:password (it would not be sent)")
    try:
        parts.port  # noqa: B018 - urlsplit checks the port only when it is read
    except ValueError:
        raise ValueError("the callback url's port is not a number from 0 to 65535") from None
    return url


@dataclass
class Delivery:
    """One event to post and what became of it: pending, sent, failed, or skipped (no URL)."""

    payload: dict[str, Any]
    status: str = PENDING
    attempts: int = 0
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "attempts": self.attempts,
            "error": self.error,
            "payload": dict(self.payload),
        }


def post_json(url: str, payload: dict[str, Any], timeout: float) -> str | None:
    """POST `payload` to `url` once: None when answered 2xx, else what went wrong."""
    parts = urlsplit(url)
    cls = (
        http.client.HTTPSConnection
        if parts.scheme.lower() == "https"
        else http.client.HTTPConnection
    )
    conn = cls(parts.hostname or "", parts.port, timeout=timeout)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    try:
        conn.request("POST", target, json.dumps(payload).encode(), headers)
        status = conn.getresponse().status
    except Exception as exc:  # OSError, HTTPException, a bad IDN host...: a failed attempt
        # (never an exception: it would end the worker and leave its queue pending for ever)
        return f"{type(exc).__name__}: {exc}"
    finally:
        conn.close()
    return None if 200 <= status < 300 else f"HTTP {status}"


class CallbackQueue:
    """The URL, the queue and its worker, and counters; safe to call from any thread."""

    def __init__(self, url: str | None = None) -> None:
        self._url = check_callback_url(url)
        self._cond = threading.Condition()
        self._queue: deque[tuple[Delivery, str, int]] = deque()
        self._in_flight = 0
        self._sent = self._failed = 0
        self._last_error: str | None = None
        #: bumped by reset(): a delivery already in flight then no longer counts
        self._generation = 0
        #: set to stop the current worker; each worker gets its own
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str | None:
        return self._url

    def set_url(self, url: object) -> str | None:
        """Post later events to `url` (None or "" turns delivery off); queued ones keep theirs."""
        checked = check_callback_url(url)
        with self._cond:
            self._url = checked
        return checked

    def submit(self, payloads: list[dict[str, Any]]) -> list[Delivery]:
        """Queue the payloads, in order, for the current URL; with none they are skipped."""
        with self._cond:
            url = self._url
            deliveries = [Delivery(p, PENDING if url else SKIPPED) for p in payloads]
            if url is None or not deliveries:
                return deliveries
            self._queue.extend((d, url, self._generation) for d in deliveries)
            self._ensure_worker()
            self._cond.notify_all()
        return deliveries

    def status(self) -> dict[str, Any]:
        """{"url", "sent", "failed", "pending", "last_error"}, as `GET /_emulator/callbacks`."""
        with self._cond:
            return {
                "url": self._url,
                "sent": self._sent,
                "failed": self._failed,
                "pending": len(self._queue) + self._in_flight,
                "last_error": self._last_error,
            }

    def wait(self, timeout: float) -> bool:
        """Block until nothing is queued or in flight; False if `timeout` seconds pass first."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._queue and not self._in_flight, timeout)

    def reset(self) -> None:
        """Forget queued events and zero the counters; the URL stays (it is configuration)."""
        with self._cond:
            self._queue.clear()
            self._sent = self._failed = 0
            self._last_error = None
            self._generation += 1
            self._cond.notify_all()

    def close(self, timeout: float = 2.0) -> None:
        """Stop the worker (queued events are dropped); a later submit starts a new one."""
        with self._cond:
            thread, self._thread = self._thread, None
            self._queue.clear()
            self._generation += 1
            self._closing.set()
            self._cond.notify_all()
        if thread is not None:
            thread.join(timeout)

    # -- the worker --------------------------------------------------------------------------

    def _ensure_worker(self) -> None:
        """Called with the condition held."""
        if self._thread is None or not self._thread.is_alive():
            self._closing = threading.Event()
            self._thread = threading.Thread(
                target=self._work,
                args=(self._closing,),
                name="sesrelay-emulator-callbacks",
                daemon=True,
            )
            self._thread.start()

    def _work(self, closing: threading.Event) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: bool(self._queue) or closing.is_set())
                if closing.is_set():
                    return
                delivery, url, generation = self._queue.popleft()
                self._in_flight += 1
            ok = self._deliver(delivery, url, closing)
            with self._cond:
                self._in_flight -= 1
                if generation == self._generation:
                    self._sent += ok
                    self._failed += not ok
                    if not ok:
                        self._last_error = delivery.error
                self._cond.notify_all()

    @staticmethod
    def _deliver(delivery: Delivery, url: str, closing: threading.Event) -> bool:
        delay = BACKOFF_SECONDS
        for attempt in range(1, MAX_ATTEMPTS + 1):
            error = post_json(url, delivery.payload, POST_TIMEOUT_SECONDS)
            delivery.attempts, delivery.error = attempt, error
            if error is None:
                delivery.status = SENT
                return True
            if attempt < MAX_ATTEMPTS and closing.wait(delay):
                break  # the emulator is stopping
            delay *= 2
        delivery.status = FAILED
        return False
