"""`sesrelay serve` on a port something else holds: one line naming host:port and what holds it
(another `sesrelay serve`, a `sesrelay emulator`, another program), a non-zero exit, no
traceback, and nothing left listening."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sesrelay.emulator import EmulatorServer
from tests.e2e.test_serve import Served, serve_env, start_serve, stop


def serve_on(tmp: Path, port: int, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sesrelay", "serve", "--port", str(port), *extra],
        capture_output=True, text=True, timeout=30, check=False, cwd=tmp, env=serve_env(tmp),
    )  # fmt: skip


def assert_refused(done: subprocess.CompletedProcess[str], expected: str) -> None:
    assert done.returncode != 0
    assert done.stderr.strip().splitlines() == [expected], done.stderr
    assert "Traceback" not in done.stderr
    assert "listening on" not in done.stdout


@pytest.fixture
def first(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    started = start_serve(tmp_path_factory.mktemp("first"))
    try:
        yield started
    finally:
        stop(started)


def test_a_port_held_by_another_serve_says_so(first: Served, tmp_path: Path) -> None:
    port = int(first.base.rsplit(":", 1)[1])
    done = serve_on(tmp_path, port)
    assert_refused(
        done,
        f"sesrelay serve: 127.0.0.1:{port} is already in use, by another `sesrelay serve`; "
        "stop it, or pick another port with --port (0 picks a free one)",
    )
    assert first.proc.poll() is None  # the first one is untouched and still answers
    assert first.banner[-1] == f"listening on http://127.0.0.1:{port}"


def test_a_port_held_by_the_emulator_says_so(tmp_path: Path) -> None:
    with EmulatorServer(port=0) as emulator:
        port = int(emulator.url.rsplit(":", 1)[1])
        done = serve_on(tmp_path, port)
    assert_refused(
        done,
        f"sesrelay serve: 127.0.0.1:{port} is already in use, by a `sesrelay emulator`; "
        "stop it, or pick another port with --port (0 picks a free one)",
    )


def test_a_port_held_by_another_program_says_so(tmp_path: Path) -> None:
    with socket.socket() as holder:  # listens, never answers: not HTTP
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        done = serve_on(tmp_path, port)
    assert_refused(
        done,
        f"sesrelay serve: 127.0.0.1:{port} is already in use, by another program; "
        "stop it, or pick another port with --port (0 picks a free one)",
    )


def test_a_port_out_of_range_is_named(tmp_path: Path) -> None:
    assert_refused(
        serve_on(tmp_path, 70000),
        "sesrelay serve: cannot listen on 127.0.0.1:70000: the port must be 0 to 65535",
    )


def test_the_emulator_on_a_taken_port_says_so_in_one_line(first: Served, tmp_path: Path) -> None:
    port = int(first.base.rsplit(":", 1)[1])
    done = subprocess.run(
        [sys.executable, "-m", "sesrelay", "emulator", "--port", str(port)],
        capture_output=True, text=True, timeout=30, check=False, cwd=tmp_path,
        env=serve_env(tmp_path),
    )  # fmt: skip
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith(f"sesrelay emulator: 127.0.0.1:{port} is already in use"), line
