"""The SES emulator in its own process, like real SES on the far side of a network: a benchmark
that runs it in-process would have the client and the server take turns on one GIL."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class RemoteEmulator:
    url: str

    @property
    def endpoint(self) -> str:
        return self.url.removeprefix("http://")


def _pin(cpu: int) -> None:
    """Keep the two sides on their own CPU where there are two: otherwise the emulator's work
    after each reply steals the CPU from the client's, which real SES (remote) never does."""
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if len(cpus) >= 2:
        os.sched_setaffinity(0, {cpus[cpu % len(cpus)]})


@contextmanager
def emulator_process(rate_limit: int = 0) -> Iterator[RemoteEmulator]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "lib")}
    command = [sys.executable, "-m", "sesrelay", "emulator", "--port", "0"]
    command += ["--rate-limit", str(rate_limit)]
    before = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    proc = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=ROOT,
        preexec_fn=lambda: _pin(1),  # noqa: PLW1509 - runs before exec, no threads involved
    )
    _pin(0)
    try:
        assert proc.stdout is not None
        line = ""
        for _ in range(20):  # the banner may say more (an inbox URL); "listening on" ends it
            line = proc.stdout.readline().strip()
            if line.startswith("listening on http://") or not line:
                break
        if not line.startswith("listening on http://"):
            raise RuntimeError(f"the emulator did not start: {line!r}")
        yield RemoteEmulator(line.removeprefix("listening on "))
    finally:
        if before is not None:
            os.sched_setaffinity(0, before)
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()
