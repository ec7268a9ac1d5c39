"""A throwaway redis-server on a free loopback port, with no persistence. The one implementation:
the benchmarks use it directly, and the tests' `redis_server` fixture (tests/conftest.py) wraps it
with the skip/fail policy for a missing binary."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

REDIS_MISSING = "redis-server not installed: apt-get install redis-server"


class RedisMissing(RuntimeError):
    """No redis-server binary on PATH."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _answers_ping(port: int) -> bool:
    # A raw inline PING keeps this independent of the redis package under test.
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


@contextmanager
def redis_server(workdir: Path | None = None) -> Iterator[str]:
    """Yield `redis://127.0.0.1:PORT/0` of a fresh server; stop it after.

    `workdir` keeps its files and its log (default: a temporary folder). Raises RedisMissing
    without the binary, RuntimeError (with the server's log) if it does not start.
    """
    binary = shutil.which("redis-server")
    if binary is None:
        raise RedisMissing(REDIS_MISSING)
    with ExitStack() as stack:
        if workdir is None:
            workdir = Path(
                stack.enter_context(tempfile.TemporaryDirectory(prefix="sesrelay-redis-"))
            )
        log_path = workdir / "redis.log"
        # The port is free when picked but could be taken before redis binds it: try a few.
        for _attempt in range(3):
            port = _free_port()
            with log_path.open("ab") as log:
                proc = subprocess.Popen(
                    [
                        *(binary, "--port", str(port), "--bind", "127.0.0.1"),
                        *("--save", "", "--appendonly", "no", "--dir", str(workdir)),
                        *("--daemonize", "no"),
                    ],
                    stdout=log,
                    stderr=subprocess.STDOUT,
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
            log_text = log_path.read_text(errors="replace")
            raise RuntimeError(f"redis-server did not start; its log:\n{log_text}")
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
