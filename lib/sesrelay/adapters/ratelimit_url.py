"""`SESRELAY_STATE_URL` -> a RateLimiter: Redis URLs share one budget across the fleet; `memory://`
and `sqlite://` (one instance's store) get an in-process limiter."""

from __future__ import annotations

from sesrelay.adapters.state_url import _redis_options
from sesrelay.clock import Clock
from sesrelay.ratelimit import RateLimit, RateLimiter
from sesrelay.settings import redact_state_url


def open_rate_limiter(url: str, clock: Clock, rate: RateLimit) -> RateLimiter:
    """The limiter for a state URL, holding `rate` per key.

    Raises ValueError (message without secrets) if the URL is invalid. A SQLite file is shared by
    the processes of one machine, but SCF gives every instance its own /tmp: only Redis holds
    the SES limit across a fleet.
    """
    text = url.strip()
    scheme, sep, _ = text.partition("://")
    scheme = scheme.lower()
    if sep and scheme in ("memory", "sqlite"):
        from sesrelay.adapters.ratelimit_memory import MemoryRateLimiter

        return MemoryRateLimiter(rate, clock)
    if sep and scheme in ("redis", "rediss"):
        from sesrelay.adapters.ratelimit_redis import RedisRateLimiter
        from sesrelay.adapters.state_redis import DEFAULT_PREFIX

        options = _redis_options(text, scheme == "rediss", DEFAULT_PREFIX)
        return RedisRateLimiter(rate, clock, **options)
    raise ValueError(
        f"state URL {redact_state_url(text)!r}: no rate limiter for it; "
        "expected memory://, sqlite:///PATH, redis://... or rediss://..."
    )
