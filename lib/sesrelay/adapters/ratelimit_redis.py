"""Redis RateLimiter (`redis://`, `rediss://`): one budget per key for every SCF instance.

One Lua script grants a permit atomically on the server's own clock (TIME), so the instances'
clocks never matter; each caller then sleeps locally until its slot.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sesrelay.adapters.redis_client import RedisConnection
from sesrelay.adapters.state_redis import DEFAULT_PREFIX
from sesrelay.clock import Clock, Deadline
from sesrelay.ratelimit import (
    HOLD_MARGIN_SECONDS,
    Permit,
    RateLimit,
    RateLimited,
    RateLimiterUnavailable,
)

if TYPE_CHECKING:
    from redis.commands.core import Script

log = logging.getLogger("sesrelay")

#: Under the state URL's prefix, beside the state store's keys.
KEY_INFIX = "ratelimit:"

# Times are microseconds of server time (~1.8e15 since 1970: exact in Lua's doubles, < 2^53).
# `redis.replicate_commands()` lets Redis < 5 write after TIME; later versions always do.
_NOW = """
if redis.replicate_commands then redis.replicate_commands() end
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local function fmt(n) return string.format('%.0f', n) end
"""

# KEYS[1] the last reserved slot; KEYS[2] the window: a sorted set of permit id -> the moment it
# leaves the window. ARGV: 1 interval, 2 limit, 3 period, 4 longest wait the caller accepts,
# 5 provisional hold after now, 6 permit id. Returns {1, wait}: granted, its slot is `wait` from
# now; or {0, wait}: nothing taken - the next slot, or when to look again at a full window (in-
# flight permits leave at least a period after their answer; answered ones at a known time).
_ACQUIRE = (
    _NOW
    + """
local interval, limit, period = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', fmt(now))
local slot = now
local last = redis.call('GET', KEYS[1])
if last then slot = math.max(now, tonumber(last) + interval) end
if slot - now > tonumber(ARGV[4]) then return {0, slot - now} end
local alive = redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. fmt(slot), '+inf',
  'WITHSCORES', 'LIMIT', 0, limit)
if #alive / 2 >= limit then
  local frees = math.max(math.min(tonumber(alive[2]), now + period), slot)
  return {0, math.max(frees - now, 1000)}
end
local hold_end = now + tonumber(ARGV[5])
redis.call('SET', KEYS[1], fmt(slot), 'PX', math.ceil((slot - now + interval) / 1000) + 1)
redis.call('ZADD', KEYS[2], fmt(hold_end), ARGV[6])
local ttl_ms = math.ceil((hold_end - now) / 1000) + 1
if redis.call('PTTL', KEYS[2]) < ttl_ms then redis.call('PEXPIRE', KEYS[2], ttl_ms) end
return {1, slot - now}
"""
)

# KEYS[1] the window; ARGV[1] permit id, ARGV[2] period. The permit leaves one period from now
# (never later than it would have).
_ANSWERED = (
    _NOW
    + """
local current = redis.call('ZSCORE', KEYS[1], ARGV[1])
local leaves = now + tonumber(ARGV[2])
if current and leaves < tonumber(current) then
  redis.call('ZADD', KEYS[1], fmt(leaves), ARGV[1])
end
return 1
"""
)


class RedisRateLimiter:
    """The two rules of ratelimit.RateLimit in one Redis database, keys under `prefix`.

    Nothing is sent until the first acquire. redis-py's retries are off and timeouts short, like
    the state store: a failure raises RateLimiterUnavailable (retryable, nothing sent), and its
    message never contains the password. A failed `answered` is only logged: the permit then
    leaves the window at its provisional time, which is later, so safe.
    """

    def __init__(
        self,
        rate: RateLimit,
        clock: Clock,
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
        self.rate = rate
        self._clock = clock
        self._prefix = prefix + KEY_INFIX
        self._redis = RedisConnection(
            "redis rate limiter",
            RateLimiterUnavailable,
            host=host,
            port=port,
            db=db,
            username=username,
            password=password,
            ssl=ssl,
            socket_timeout=socket_timeout,
            connect_timeout=connect_timeout,
        )
        client = self._redis.client
        self._acquire: Script = client.register_script(_ACQUIRE)
        self._answered: Script = client.register_script(_ANSWERED)

    def __repr__(self) -> str:
        rate = f"{self.rate.limit}/{self.rate.period:g}s"
        return f"RedisRateLimiter({self._redis.where!r}, {rate}, prefix={self._prefix!r})"

    def acquire(self, key: str, deadline: Deadline) -> Permit:
        if not key:
            raise ValueError("rate-limit key must be a non-empty string")
        # A hash tag keeps both keys in one slot of a Redis Cluster, as a script needs.
        keys = [f"{self._prefix}{{{key}}}:slot", f"{self._prefix}{{{key}}}:window"]
        while True:
            permit_id = os.urandom(8).hex()
            granted, wait = self._reserve(keys, permit_id, deadline.remaining())
            if not granted and wait > deadline.remaining():
                raise RateLimited(key, wait)
            if wait > 0:
                self._clock.sleep(wait)
            if granted:
                return Permit(functools.partial(self._release, keys[1], permit_id))
            # The window is full at our slot: look again when its oldest permit leaves it.

    def close(self) -> None:
        self._redis.close()

    def _reserve(self, keys: list[str], permit_id: str, max_wait: float) -> tuple[bool, float]:
        rate = self.rate
        args: list[str | int] = [
            _us(rate.interval),
            rate.limit,
            _us(rate.period),
            _us(max_wait),
            _us(max_wait + rate.period + HOLD_MARGIN_SECONDS),
            permit_id,
        ]
        granted, wait_us = self._call("acquire", lambda: self._acquire(keys=keys, args=args))
        return bool(int(granted)), int(wait_us) / 1_000_000

    def _release(self, window: str, permit_id: str) -> None:
        args: list[str | int] = [permit_id, _us(self.rate.period)]
        try:
            self._call("answered", lambda: self._answered(keys=[window], args=args))
        except RateLimiterUnavailable as error:
            log.warning("rate-limit permit not released early: %s", error.message)

    def _call(self, op: str, action: Callable[[], Any]) -> tuple[Any, Any]:
        reply = self._redis.call(op, action)
        return (reply[0], reply[1]) if isinstance(reply, list) else (reply, 0)


def _us(seconds: float) -> int:
    return max(0, round(seconds * 1_000_000))
