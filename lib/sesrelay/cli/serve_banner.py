"""What `sesrelay serve` prints once it listens: where the function, SES and the state are, the
API key to use, and a copy-pasteable curl; the last line tells scripts the server is ready."""

from __future__ import annotations

import json
import secrets
import shlex
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sesrelay.cli.serve_http import LocalServer
    from sesrelay.emulator import EmulatorServer
    from sesrelay.settings import Settings


def demo_curl(base_url: str, api_key: str) -> str:
    """A copy-pasteable BatchSendEmail call; the sender, recipient group 200001 and template
    100001 are the emulator's default seed (emulator/ses/default_seed.json)."""
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


def banner(
    server: LocalServer,
    settings: Settings,
    emulator: EmulatorServer | None,
    notes: list[str],
    api_key: str,
) -> str:
    """The start-up text; `notes` say where SES and the API keys come from."""
    from sesrelay.settings import redact_state_url
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
