"""`sesrelay serve`: the function behind a local HTTP server, run in-process, one function-URL
event per request. Without Tencent credentials it embeds the SES emulator and generates a dev
API key, so a first run needs no setup and is never an open relay; the emulator posts its
delivery callbacks to the server's own `/v1/ses-events/{token}`, so a send's events can be read
back (`GET /v1/emails/{MessageId}`) as they would be from SES."""

from __future__ import annotations

import errno
import hashlib
import http.client
import json
import os
import re
import secrets
import signal
import sys
import threading
import urllib.request
from typing import TYPE_CHECKING, TextIO

from pydantic import ValidationError

from sesrelay.cli.function_url import DEFAULT_FUNCTION_TIMEOUT_SECONDS
from sesrelay.cli.serve_banner import banner
from sesrelay.cli.serve_http import LocalServer
from sesrelay.settings import Settings, describe_error
from sesrelay.state import StateStoreError

if TYPE_CHECKING:
    from sesrelay.emulator import EmulatorServer
    from sesrelay.state import StateStore


#: What a URL path segment carries as it is (RFC 3986 pchar, without percent-encoding).
_PATH_SAFE = re.compile(r"[A-Za-z0-9._~!$&'()*+,;=:@-]+")


def run(
    host: str,
    port: int,
    out: TextIO = sys.stdout,
    function_timeout: float = DEFAULT_FUNCTION_TIMEOUT_SECONDS,
) -> int:
    """Serve until SIGINT/SIGTERM; returns the exit status. `function_timeout` (seconds) is the
    time limit each invocation's context reports, as SCF's function timeout."""
    from sesrelay.runtime import Runtime
    from sesrelay.wiring import build_services

    try:
        settings = Settings()
    except ValidationError as exc:
        raise SystemExit(f"sesrelay serve: invalid environment: {describe_error(exc)}") from None
    settings, emulator, notes = _ses(settings)
    settings, api_key = _api_keys(settings, notes)
    settings, callbacks = _callback_token(settings, emulator, notes)
    store = None
    try:
        services = build_services(settings)
        store = services.state  # open now, so a bad SESRELAY_STATE_URL fails at start-up
    except (ValueError, OSError, StateStoreError) as exc:
        _close(emulator, store)
        raise SystemExit(f"sesrelay serve: {exc}") from None
    try:
        server = LocalServer(
            host, port, Runtime(services).handle, function_timeout=function_timeout
        )
    except (OSError, OverflowError, ValueError) as exc:  # OverflowError: a port over 65535
        _close(emulator, store)
        raise SystemExit(f"sesrelay serve: {listen_error(host, port, exc)}") from None

    if emulator is not None and callbacks is not None:
        notes.append(_wire_callbacks(emulator, server, *callbacks))
    stop = threading.Event()
    signals = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in signals}
    threading.Thread(target=server.serve_forever, args=(0.1,), daemon=True).start()
    try:
        # The socket is bound and listening; the last line tells scripts it is ready.
        print(banner(server, settings, emulator, notes, api_key), file=out, flush=True)
        stop.wait()
    finally:
        server.shutdown()
        server.server_close()
        _close(emulator, store)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


def listen_error(host: str, port: int, exc: OSError | OverflowError | ValueError) -> str:
    """Why `host:port` cannot be listened on, in one line; for a port in use, who holds it."""
    where = f"{host}:{port}"
    code = getattr(exc, "errno", None)
    if code == errno.EADDRINUSE:
        return (
            f"{where} is already in use, by {_holder(host, port)}; stop it, or pick another "
            "port with --port (0 picks a free one)"
        )
    if isinstance(exc, OverflowError):
        return f"cannot listen on {where}: the port must be 0 to 65535"
    if code == errno.EACCES:
        return f"cannot listen on {where}: permission denied (ports below 1024 need privileges)"
    if code == errno.EADDRNOTAVAIL:
        return f"cannot listen on {where}: {host} is not an address of this machine"
    return f"cannot listen on {where}: {getattr(exc, 'strerror', None) or exc}"


def _holder(host: str, port: int) -> str:
    """What answers on host:port: another `sesrelay serve` (its /v1/health), a `sesrelay
    emulator` (its /_emulator/calls), or something else. Two short probes, never a proxy."""
    target = "127.0.0.1" if host in ("", "0.0.0.0") else host  # noqa: S104 (compared, not bound)
    base = f"http://{target}:{port}"
    health = _probe(f"{base}/v1/health")
    if health.get("status") == "ok" and "version" in health:
        return "another `sesrelay serve`"
    if "calls" in _probe(f"{base}/_emulator/calls"):
        return "a `sesrelay emulator`"
    return "another program"


def _probe(url: str) -> dict[str, object]:
    """The JSON object `url` answers within half a second; {} for anything else."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=0.5) as resp:
            data = json.loads(resp.read(65536))
    except (OSError, ValueError, http.client.HTTPException):
        return {}
    return data if isinstance(data, dict) else {}


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


def _api_keys(settings: Settings, notes: list[str]) -> tuple[Settings, str]:
    """The configured API keys, or a fresh one for this run; the key to show in the demo curl."""
    if settings.api_key_sha256:
        notes.append("API keys: from SESRELAY_API_KEY_SHA256")
        return settings, "<your API key>"
    # Never an open relay: the function refuses to send without keys, so a local run gets
    # a fresh key that only this process accepts (its digest is configured, not the key).
    api_key = "sr_dev_" + secrets.token_urlsafe(24)
    digest = hashlib.sha256(api_key.encode("ascii")).hexdigest()
    notes.append(f"API key (generated for this run): {api_key}")
    return settings.model_copy(update={"api_key_sha256": [digest]}), api_key


def _callback_token(
    settings: Settings, emulator: EmulatorServer | None, notes: list[str]
) -> tuple[Settings, tuple[str, str] | None]:
    """With the embedded emulator: the SES-events token (the variable the config names, or one
    generated for this run and set as that variable) and what to say of it; None when the
    callbacks cannot be received (the config file does not load). Real SES: nothing changes."""
    if emulator is None:
        return settings, None
    from sesrelay.clock import SystemClock
    from sesrelay.config.model import ConfigError
    from sesrelay.gateway import UnconfiguredGateway
    from sesrelay.http.routes.ses_events import DEFAULT_TOKEN_ENV
    from sesrelay.wiring import Services

    try:  # read as the function reads it
        config = Services(settings, SystemClock(), UnconfiguredGateway()).config.ses_events
    except ConfigError:
        notes.append(
            "delivery callbacks: off (the config file does not load; "
            "`sesrelay config check` says why)"
        )
        return settings, None
    # Without a `ses_events` section the route still takes callbacks at the default variable,
    # recording them and blacklisting nothing.
    name = config.token_env if config else DEFAULT_TOKEN_ENV
    token = settings.secret(name)
    if token is not None and not _PATH_SAFE.fullmatch(token):
        # The route compares the path segment as received (still percent-encoded).
        notes.append(
            f"delivery callbacks: off ({name} holds characters a URL path segment cannot "
            "carry as they are; use letters, digits, - _ . ~)"
        )
        return settings, None
    if token is not None:
        return settings, (token, f"token from {name}")
    token = secrets.token_urlsafe(24)
    # The rebuilt settings keep every field as it is and read the token as the function would,
    # from its environment; the serve process's own os.environ is left alone.
    values = settings.model_dump(exclude_unset=True)
    settings = Settings(environ={**os.environ, name: token}, **values)
    return settings, (token, f"{name} generated for this run")


def _wire_callbacks(emulator: EmulatorServer, server: LocalServer, token: str, source: str) -> str:
    """Points the emulator's callbacks at this server's SES-events route; the banner line, with
    the token masked (it is a credential, like an API key the user set)."""
    host, port = server.server_address[:2]
    if host in ("", "0.0.0.0"):  # noqa: S104 (compared, not bound)
        host = "127.0.0.1"  # a wildcard is where the server listens, not where to connect
    route = f"http://{host!s}:{port}/v1/ses-events/"
    emulator.set_callback_url(route + token)
    return f"delivery callbacks: emulator -> {route}*** ({source})"


def _close(emulator: EmulatorServer | None, store: StateStore | None) -> None:
    if store is not None:
        store.close()
    if emulator is not None:
        emulator.stop()
