"""`sesrelay emulator` as the e2e tests run it: a subprocess on a free port, stopped after use."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def running_emulator(env: Mapping[str, str], *args: str) -> Iterator[str]:
    """`sesrelay emulator --port 0 ARGS`; yields its base URL (`http://127.0.0.1:PORT`) once its
    first line says it listens, and terminates it afterwards."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "sesrelay", "emulator", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=dict(env),
        cwd=ROOT,
    )
    assert proc.stdout is not None
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("listening on http://127.0.0.1:"), line
        assert int(line.rsplit(":", 1)[1]) > 0
        yield line.removeprefix("listening on ")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stdout.close()
