"""Redis StateStore (`redis://`, `rediss://`): shared by every SCF instance; expiry by server TTL.

Every write is one Lua script, so it is atomic on the server. A key holds "<version>:<value>".
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from sesrelay.adapters.redis_client import RedisConnection
from sesrelay.state import StateRecord, StateStoreError, check_key, check_ttl

if TYPE_CHECKING:
    from redis.commands.core import Script

T = TypeVar("T")

DEFAULT_PREFIX = "sesrelay:"

# Shared by the scripts below: the version is the text before the first ':' of the stored value.
_VERSION_OF = """
local function version_of(stored)
  return tonumber(string.sub(stored, 1, string.find(stored, ':', 1, true) - 1))
end
"""

# KEYS[1] key; ARGV[1] "1:<value>", ARGV[2] ttl in ms. SET NX does the claim; reading the winner
# in the same script means a loser always sees a record (a separate GET could find it expired).
_CLAIM = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return false
end
return redis.call('GET', KEYS[1])
"""

# KEYS[1] key; ARGV[1] value, ARGV[2] ttl in ms. Returns the new version.
_PUT = (
    _VERSION_OF
    + """
local current = redis.call('GET', KEYS[1])
local version = 1
if current then version = version_of(current) + 1 end
redis.call('SET', KEYS[1], version .. ':' .. ARGV[1], 'PX', ARGV[2])
return version
"""
)

# KEYS[1] key; ARGV[1] expected version, ARGV[2] value, ARGV[3] ttl in ms. New version or nil.
_COMPARE_AND_SET = (
    _VERSION_OF
    + """
local current = redis.call('GET', KEYS[1])
if not current then return false end
local version = version_of(current)
if version ~= tonumber(ARGV[1]) then return false end
redis.call('SET', KEYS[1], (version + 1) .. ':' .. ARGV[2], 'PX', ARGV[3])
return version + 1
"""
)

# KEYS[1] key; ARGV[1] expected version. Number of keys deleted.
_DELETE_IF_VERSION = (
    _VERSION_OF
    + """
local current = redis.call('GET', KEYS[1])
if not current or version_of(current) ~= tonumber(ARGV[1]) then return 0 end
return redis.call('DEL', KEYS[1])
"""
)


class RedisStateStore:
    """A StateStore on one Redis database; keys live under `prefix`.

    Connected through RedisConnection: nothing is sent until the first call, timeouts are short,
    redis-py's retries are off, and a failure is a StateStoreError without the password.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 6379,
        db: int = 0,
        *,
        username: str | None = None,
        password: str | None = None,
        ssl: bool = False,
        prefix: str = DEFAULT_PREFIX,
        socket_timeout: float = 2.0,
        connect_timeout: float = 2.0,
    ) -> None:
        self._prefix = prefix
        self._redis = RedisConnection(
            "redis state store",
            StateStoreError,
            host=host,
            port=port,
            db=db,
            username=username,
            password=password,
            ssl=ssl,
            socket_timeout=socket_timeout,
            connect_timeout=connect_timeout,
        )
        self._client = self._redis.client
        self._claim: Script = self._client.register_script(_CLAIM)
        self._put: Script = self._client.register_script(_PUT)
        self._cas: Script = self._client.register_script(_COMPARE_AND_SET)
        self._delete_if: Script = self._client.register_script(_DELETE_IF_VERSION)

    def __repr__(self) -> str:
        # Host, port and db only: safe to log.
        return f"RedisStateStore({self._redis.where!r}, prefix={self._prefix!r})"

    def claim(self, key: str, value: str, ttl_seconds: float) -> StateRecord | None:
        name = self._name(key)
        ttl_ms = _ttl_ms(ttl_seconds)
        existing = self._call(
            "claim", lambda: self._claim(keys=[name], args=[f"1:{value}", ttl_ms])
        )
        return None if existing is None else _decode(existing)

    def get(self, key: str) -> StateRecord | None:
        name = self._name(key)
        stored = self._call("get", lambda: self._client.get(name))
        return None if stored is None else _decode(stored)

    def put(self, key: str, value: str, ttl_seconds: float) -> StateRecord:
        name = self._name(key)
        ttl_ms = _ttl_ms(ttl_seconds)
        version = self._call("put", lambda: self._put(keys=[name], args=[value, ttl_ms]))
        return StateRecord(value, int(version))

    def compare_and_set(
        self, key: str, expected_version: int, value: str, ttl_seconds: float
    ) -> StateRecord | None:
        name = self._name(key)
        ttl_ms = _ttl_ms(ttl_seconds)
        version = self._call(
            "compare_and_set",
            lambda: self._cas(keys=[name], args=[int(expected_version), value, ttl_ms]),
        )
        return None if version is None else StateRecord(value, int(version))

    def delete(self, key: str, expected_version: int | None = None) -> bool:
        name = self._name(key)
        if expected_version is None:
            deleted = self._call("delete", lambda: self._client.delete(name))
        else:
            version = int(expected_version)
            deleted = self._call("delete", lambda: self._delete_if(keys=[name], args=[version]))
        return int(deleted) == 1

    def close(self) -> None:
        self._redis.close()

    # -- internals --------------------------------------------------------------------------

    def _name(self, key: str) -> str:
        return self._prefix + check_key(key)

    def _call(self, op: str, action: Callable[[], T]) -> T:
        return self._redis.call(op, action)


def _ttl_ms(ttl_seconds: float) -> int:
    # Round up so a sub-millisecond TTL still lives for 1 ms instead of being rejected by PX.
    return max(1, math.ceil(check_ttl(ttl_seconds) * 1000))


def _decode(stored: Any) -> StateRecord:
    if not isinstance(stored, str):
        raise StateStoreError(f"unexpected reply from redis: {type(stored).__name__}")
    version, sep, value = stored.partition(":")
    if not sep or not (version.isascii() and version.isdecimal()):
        raise StateStoreError("a state key holds a value this store did not write")
    return StateRecord(value, int(version))
