"""Fixtures shared by every test layer: a real, throwaway redis-server on a loopback port."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from benchmarks.redis_process import REDIS_MISSING
from benchmarks.redis_process import redis_server as start_redis_server


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start redis-server (no persistence) for the session and yield `redis://127.0.0.1:PORT/0`.

    Skips when the binary is missing, unless SESRELAY_REQUIRE_REDIS=1 (CI) makes that a failure.
    """
    if shutil.which("redis-server") is None:
        if os.environ.get("SESRELAY_REQUIRE_REDIS") == "1":
            pytest.fail(REDIS_MISSING)
        pytest.skip(REDIS_MISSING)
    with ExitStack() as stack:
        try:
            url = stack.enter_context(start_redis_server(tmp_path_factory.mktemp("redis")))
        except RuntimeError as exc:
            pytest.fail(str(exc))
        yield url
