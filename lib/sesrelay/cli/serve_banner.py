"""What `sesrelay serve` prints once it listens: where the function, SES and the state are (with
the embedded emulator, its outbox and its inbox page for a browser), the API key to use,
copy-pasteable curls (send one mail, read it back, a batch task); the last line tells scripts
the server is ready."""

from __future__ import annotations

import json
import secrets
import shlex
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sesrelay.cli.serve_http import LocalServer
    from sesrelay.emulator import EmulatorServer
    from sesrelay.settings import Settings


#: The demo mail's recipient: the emulator's mailbox simulator reports it delivered.
DEMO_RECIPIENT = "delivered@simulator.sesrelay.test"


def _curl(words: list[str]) -> str:
    return " ".join(shlex.quote(word) for word in words)


def send_curl(base_url: str, api_key: str) -> str:
    """A copy-pasteable SendEmail call (`POST /v1/emails`) from the emulator's seeded sender and
    template 100001 to the mailbox simulator."""
    payload = {
        "FromEmailAddress": "noreply@example.com",
        "Destination": [DEMO_RECIPIENT],
        "Subject": "Welcome, {{name}}",
        "Template": {"TemplateID": 100001, "TemplateData": json.dumps({"name": "friend"})},
    }
    return _curl([
        "curl", "-sS", "-X", "POST", f"{base_url}/v1/emails",
        "-H", f"Authorization: Bearer {api_key}",
        "-H", "Content-Type: application/json",
        "-H", f"Idempotency-Key: demo-{secrets.token_hex(6)}",
        "-d", json.dumps(payload),
    ])  # fmt: skip


def read_curl(base_url: str, api_key: str) -> str:
    """`GET /v1/emails/<MessageId>`: the send's record and its delivery events; `<MessageId>` is
    a placeholder for the id the send answered."""
    auth = shlex.quote(f"Authorization: Bearer {api_key}")
    return f"curl -sS -H {auth} {base_url}/v1/emails/<MessageId>"


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
    return _curl([
        "curl", "-sS", "-X", "POST", f"{base_url}/v1/batch-tasks",
        "-H", f"Authorization: Bearer {api_key}",
        "-H", "Content-Type: application/json",
        "-H", f"Idempotency-Key: demo-{secrets.token_hex(6)}",
        "-d", json.dumps(payload),
    ])  # fmt: skip


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
        lines.append(f"inbox: {emulator.inbox_url}")
    else:
        lines.append(
            "(the demos' sender, recipient, TemplateID and ReceiverId are the emulator's; "
            "use yours)"
        )
    lines += [
        "try it: send one mail",
        "  " + send_curl(base, api_key),
        "read it back (its delivery events, LastEvent) with the MessageId it answered:",
        "  " + read_curl(base, api_key),
        "or a batch task to the seeded group of three (read back: GET /v1/batch-tasks/<TaskId>):",
        "  " + demo_curl(base, api_key),
        f"listening on {server.url}",
    ]
    return "\n".join(lines)
