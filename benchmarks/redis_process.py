"""A throwaway redis-server on a free loopback port, for benchmarks (tests use the conftest fixture,
which does the same and also knows how to skip)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

REDIS_MISSING = "redis-server not installed: apt-get install redis-server"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


@contextmanager
def redis_server() -> Iterator[str]:
    """Yield `redis://127.0.0.1:PORT/0` of a fresh server with no persistence; stop it after."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError(REDIS_MISSING)
    with tempfile.TemporaryDirectory(prefix="sesrelay-bench-redis-") as workdir:
        for _attempt in range(3):  # the free port may be taken before redis binds it
            port = _free_port()
            proc = subprocess.Popen(
                [
                    *(binary, "--port", str(port), "--bind", "127.0.0.1"),
                    *("--save", "", "--appendonly", "no", "--dir", workdir),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                cwd=workdir,
            )
            deadline = time.monotonic() + 10.0
            while proc.poll() is None and time.monotonic() < deadline:
                if _answers_ping(port):
                    break
                time.sleep(0.02)
            if proc.poll() is None and _answers_ping(port):
                break
            _stop(proc)
        else:
            raise RuntimeError("redis-server did not start")
        try:
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            _stop(proc)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
