"""`sesrelay serve`: the function behind a local HTTP server, run in-process, one function-URL
event per request. Without Tencent credentials it embeds the SES emulator and generates a dev
API key, so a first run needs no setup and is never an open relay."""

from __future__ import annotations

import hashlib
import secrets
import signal
import sys
import threading
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
    store = None
    try:
        services = build_services(settings)
        store = services.state  # open now, so a bad SESRELAY_STATE_URL fails at start-up
        server = LocalServer(
            host, port, Runtime(services).handle, function_timeout=function_timeout
        )
    except (ValueError, OSError, StateStoreError) as exc:
        _close(emulator, store)
        raise SystemExit(f"sesrelay serve: {exc}") from None

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


def _close(emulator: EmulatorServer | None, store: StateStore | None) -> None:
    if store is not None:
        store.close()
    if emulator is not None:
        emulator.stop()
