"""`SESRELAY_STATE_URL` -> a StateStore: `memory://`, `sqlite:///path`, `redis://`, `rediss://`.

Error messages show the URL with its password replaced by `***`, never the password itself.
"""

from __future__ import annotations

from typing import TypedDict
from urllib.parse import parse_qsl, unquote, urlsplit

from sesrelay.clock import Clock
from sesrelay.settings import redact_state_url
from sesrelay.state import StateStore

_EXPECTED = (
    "expected memory://, sqlite:///RELATIVE/PATH, sqlite:////ABSOLUTE/PATH, "
    "redis://[:PASSWORD@]HOST[:PORT][/DB][?prefix=P] or rediss://..."
)
_ENCODE_HINT = "percent-encode '@', '/', '?' and '#' in the password"


class _RedisOptions(TypedDict):
    host: str
    port: int
    db: int
    username: str | None
    password: str | None
    ssl: bool
    prefix: str


def open_state_store(url: str, clock: Clock) -> StateStore:
    """Build the store a URL names. Raises ValueError (message without secrets) if it is invalid.

    Adapters are imported on demand, so a memory-backed cold start never loads sqlite3 or redis.
    """
    text = url.strip()
    scheme, sep, _ = text.partition("://")
    scheme = scheme.lower()
    if not sep:
        raise ValueError(f"state URL {redact_state_url(text)!r} has no '://'; {_EXPECTED}")
    if scheme == "memory":
        if text[len(scheme) + 3 :]:
            raise ValueError(
                f"state URL {redact_state_url(text)!r}: memory:// takes nothing after it"
            )
        from sesrelay.adapters.state_memory import MemoryStateStore

        return MemoryStateStore(clock)
    if scheme == "sqlite":
        from sesrelay.adapters.state_sqlite import SqliteStateStore

        return SqliteStateStore(_sqlite_path(text), clock)
    if scheme in ("redis", "rediss"):
        from sesrelay.adapters.state_redis import DEFAULT_PREFIX, RedisStateStore

        return RedisStateStore(**_redis_options(text, scheme == "rediss", DEFAULT_PREFIX))
    raise ValueError(f"unsupported state URL scheme {scheme!r}; {_EXPECTED}")


def _sqlite_path(text: str) -> str:
    parts = urlsplit(text)
    where = redact_state_url(text)
    if parts.netloc:
        raise ValueError(
            f"state URL {where!r}: sqlite URLs have no host; use sqlite:///relative/path "
            "or sqlite:////absolute/path"
        )
    if parts.query or parts.fragment:
        raise ValueError(f"state URL {where!r}: sqlite URLs take no query or fragment")
    # urlsplit keeps the slash that ends the empty authority; what follows it is the path, so
    # "sqlite:///a/b" is relative ("a/b") and "sqlite:////tmp/x" is absolute ("/tmp/x").
    path = unquote(parts.path)[1:]
    if not path or path.endswith("/"):
        raise ValueError(f"state URL {where!r}: the sqlite URL needs a file path")
    if path == ":memory:":
        raise ValueError("sqlite:///:memory: is not shared by anything; use memory:// instead")
    return path


def _redis_options(text: str, ssl: bool, default_prefix: str) -> _RedisOptions:
    where = redact_state_url(text)
    parts = urlsplit(text)
    # A password with an unencoded '/', '?' or '#' ends the authority early: the host then comes
    # out empty, or an '@' lands in the path, or a fragment appears.
    if parts.fragment or "@" in parts.path or not parts.hostname:
        raise ValueError(f"state URL {where!r} has no valid host; {_ENCODE_HINT}; {_EXPECTED}")
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        raise ValueError(
            f"state URL {where!r}: the port must be a number from 1 to 65535; {_ENCODE_HINT}"
        )
    username = unquote(parts.username) if parts.username else None
    if username is not None and parts.password is None:
        raise ValueError(
            f"state URL {where!r}: put the password after a colon, as in "
            "redis://:PASSWORD@host:6379/0 (or redis://USER:PASSWORD@... for an ACL user)"
        )
    db_text = parts.path.strip("/") or "0"
    if not (db_text.isascii() and db_text.isdecimal()):
        raise ValueError(f"state URL {where!r}: the path must be a database number, as in /0")
    options = _RedisOptions(
        host=parts.hostname,
        port=port or 6379,
        db=int(db_text),
        username=username,
        password=unquote(parts.password) if parts.password else None,
        ssl=ssl,
        prefix=default_prefix,
    )
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name != "prefix":
            raise ValueError(f"state URL {where!r}: unknown option {name!r}; supported: prefix")
        options["prefix"] = value
    return options
