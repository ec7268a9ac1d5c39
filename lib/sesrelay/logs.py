"""Structured logs: one JSON line per invocation. Addresses are masked, secrets never logged."""

from __future__ import annotations

import json
import logging
import re
import sys
from typing import Any

LOGGER_NAME = "sesrelay"
log = logging.getLogger(LOGGER_NAME)


def mask_email(address: str) -> str:
    """`ana.lopez@example.com` -> `a***@example.com`; anything else -> `***`."""
    local, at, domain = address.strip().rpartition("@")
    if not at or not local:
        return "***"
    if local.endswith(">") or "<" in local:  # an alias form slipped through
        return "***@" + domain.rstrip(">")
    return f"{local[0]}***@{domain.rstrip('>')}"


_ADDRESS = re.compile(r"[^\s<>()\[\]:;,\"']+@[^\s<>()\[\]:;,\"']+")


def mask_addresses(text: str) -> str:
    """Mask every address inside free text (bounce reasons quote the recipient)."""
    return _ADDRESS.sub(lambda m: mask_email(m.group(0)), text)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            data.update(fields)
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        text = json.dumps(data, ensure_ascii=False, default=str)
        if not text.isascii():
            # A lone surrogate (from a caller's JSON "\ud800") cannot be written as UTF-8: the
            # whole line would be lost. It becomes "?"; everything else stays readable.
            text = text.encode("utf-8", "replace").decode("utf-8")
        return text


class _StdoutHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stdout (or stderr) is at emit time (test capture swaps them)."""

    use_stderr = False

    @property
    def stream(self) -> Any:
        return sys.stderr if self.use_stderr else sys.stdout

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


_configured = False


def configure(level: str = "INFO", *, to_stderr: bool = False) -> None:
    """Install the JSON handler once (SCF captures stdout into the function log; the CLI
    keeps stdout for its own output and logs to stderr)."""
    global _configured
    if _configured:
        return
    handler = _StdoutHandler()
    handler.use_stderr = to_stderr
    handler.setFormatter(JsonFormatter())
    log.addHandler(handler)
    value = logging.getLevelName(level.upper())
    log.setLevel(value if isinstance(value, int) else logging.INFO)
    log.propagate = False  # one line per event, whatever the runtime did to the root logger
    _configured = True


def set_level(level: str) -> None:
    """The logger's level (SESRELAY_LOG_LEVEL: DEBUG, INFO, WARNING, ERROR); changed only when
    it differs, as each invocation applies its instance's setting."""
    value = logging.getLevelName(level.upper())
    if isinstance(value, int) and log.level != value:
        log.setLevel(value)


def invocation(**fields: Any) -> None:
    log.info("invocation", extra={"fields": {k: v for k, v in fields.items() if v is not None}})
