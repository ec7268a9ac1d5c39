"""What one API key may do: its name (for logs and send records, never the key), the actions it
may call, the senders it may send from, and its daily quota.

Keys named in `sesrelay.yaml` (`api_keys:`) carry a scope; keys in SESRELAY_API_KEY_SHA256 are
unrestricted, named after their place in that variable (`SESRELAY_API_KEY_SHA256#1`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sesrelay.errors import RelayError
from sesrelay.ses.addresses import sender_address

SEND_ACTIONS = ("SendEmail", "BatchSendEmail")
#: What a scoped key may be allowed: the two send actions, ad-hoc campaigns, reading its own send
#: records (`read`), and reading every key's (`read_all`).
ACTIONS = (*SEND_ACTIONS, "campaigns", "read", "read_all")


class ScopeDenied(RelayError):
    code = "scope_denied"


def sender_matches(from_field: str, allowed: Sequence[str]) -> bool:
    """Whether the address of `from_field` is an entry of `allowed` (an address or `@domain`)."""
    address = sender_address(from_field).lower()
    domain = "@" + address.rpartition("@")[2]
    return any(entry.lower() in (address, domain) for entry in allowed)


@dataclass(frozen=True)
class KeyScope:
    """One authenticated key. `senders` empty: any sender the deployment allows."""

    name: str
    digest: str
    actions: frozenset[str] = frozenset(ACTIONS)
    senders: tuple[str, ...] = ()
    quota_per_day: int | None = None

    @property
    def unrestricted(self) -> bool:
        return self.actions == frozenset(ACTIONS) and not self.senders and not self.quota_per_day

    def require(self, action: str) -> None:
        """ScopeDenied unless the key may call `action`."""
        if action in self.actions or (action == "read" and "read_all" in self.actions):
            return
        allowed = ", ".join(a for a in ACTIONS if a in self.actions) or "nothing"
        raise ScopeDenied(f"API key {self.name!r} may not use {action}; it may use: {allowed}")

    def require_sender(self, from_field: str, field: str = "FromEmailAddress") -> None:
        """ScopeDenied unless the key may send from `from_field`."""
        if self.senders and not sender_matches(from_field, self.senders):
            raise ScopeDenied(
                f"{field} is outside the senders of API key {self.name!r} "
                f"({', '.join(self.senders)})"
            )

    def sees(self, record_key: str | None) -> bool:
        """Whether the key may read a send record made with the key named `record_key`."""
        return "read_all" in self.actions or record_key == self.name


def unrestricted_keys(digests: Sequence[str]) -> list[KeyScope]:
    """The keys of SESRELAY_API_KEY_SHA256: every action, any allowed sender, no quota."""
    return [
        KeyScope(name=f"SESRELAY_API_KEY_SHA256#{index}", digest=digest)
        for index, digest in enumerate(digests, start=1)
    ]
