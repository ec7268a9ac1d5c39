"""E-mail address checks: recipient syntax and the `Alias <address>` sender form SES accepts."""

from __future__ import annotations

import re

MAX_ADDRESS_LENGTH = 254  # RFC 5321 path limit; longer ones count as TooLong in uploads

_ADDR_RE = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@"
    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
# "Alias <addr>": exactly one space before "<", and no ":" in the alias (SES refuses others).
_SENDER_RE = re.compile(r"^(?P<alias>[^<>:]*[^<>:\s]) <(?P<addr>[^<>\s]+)>$")


def is_address(text: str) -> bool:
    return len(text) <= MAX_ADDRESS_LENGTH and _ADDR_RE.match(text) is not None


def normalize(text: str) -> str:
    """Addresses compare case-insensitively for blacklists and lookups."""
    return text.strip().lower()


def domain_of(address: str) -> str:
    return address.rpartition("@")[2].lower()


def parse_sender(text: str) -> tuple[str | None, str] | None:
    """(alias or None, bare address) of a FromEmailAddress, or None when the format is wrong."""
    if is_address(text):
        return None, text
    match = _SENDER_RE.match(text)
    if match is None or not is_address(match["addr"]):
        return None
    return match["alias"], match["addr"]
