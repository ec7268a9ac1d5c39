"""The one way the Redis adapters connect: short timeouts, no redis-py retries, and failures that
never carry the password. Shared by state_redis.py and ratelimit_redis.py.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    import redis

T = TypeVar("T")


class RedisConnection:
    """A client on one database, what is safe to say about it, and the error wrapping.

    Nothing is sent until the first command. redis-py's automatic retries are off: a retried
    script whose first attempt was applied would report a lost race to its winner. `call` turns a
    redis or socket failure into `fail(message)`; `label` opens every such message.
    """

    def __init__(
        self,
        label: str,
        fail: Callable[[str], Exception],
        *,
        host: str,
        port: int,
        db: int,
        username: str | None,
        password: str | None,
        ssl: bool,
        socket_timeout: float,
        connect_timeout: float,
    ) -> None:
        # Imported here, not at module level: deployments on another store never pay for it.
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        shown_host = f"[{host}]" if ":" in host else host  # IPv6 literals keep their brackets
        #: scheme, host, port and db only: safe to log.
        self.where = f"{'rediss' if ssl else 'redis'}://{shown_host}:{port}/{db}"
        self._label = label
        self._fail = fail
        self._secret = password or ""
        self._errors: tuple[type[BaseException], ...] = (redis.RedisError, OSError)
        self._closed = False
        self.client: redis.Redis = redis.Redis(
            host=host,
            port=port,
            db=db,
            username=username,
            password=password,
            ssl=ssl,
            socket_timeout=socket_timeout,
            socket_connect_timeout=connect_timeout,
            retry=Retry(NoBackoff(), 0),
            decode_responses=True,
        )

    def call(self, op: str, action: Callable[[], T]) -> T:
        """`action()`, or `fail(...)` naming `op` if it fails or the connection is closed."""
        if self._closed:
            raise self._fail(f"{self._label} {self.where} is closed")
        try:
            return action()
        except self._errors as exc:
            text = f"{type(exc).__name__}: {exc}"
            if not self._secret or self._secret not in text:
                raise self._fail(self._message(op, text)) from exc
            scrubbed = text.replace(self._secret, "***")
        # Raised outside the except block so that not even __context__ keeps the password.
        raise self._fail(self._message(op, scrubbed))

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        # Closing a broken connection has nothing left to release.
        with contextlib.suppress(*self._errors):
            self.client.close()

    def _message(self, op: str, detail: str) -> str:
        return f"{self._label} {self.where}: {op} failed: {detail}"
