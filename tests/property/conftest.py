"""Shared by the property and fuzz tests: Hypothesis's files (example database, caches) kept in
the temp dir, out of the work tree; and a real `sesrelay serve` process with its embedded SES
emulator, started the way a developer starts it (`python -m sesrelay serve --port 0`)."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from hypothesis.configuration import set_hypothesis_home_dir

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 20.0
LISTENING = "listening on http://"
KEY_LABEL = "API key (generated for this run):"

# Before any test draws: Hypothesis would otherwise create .hypothesis/ in the current directory.
# The directory outlives the run, so a local failure is replayed first by the next run.
if not os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
    set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "sesrelay-hypothesis")


@dataclass
class Serve:
    """A running `sesrelay serve`: its base URL, the dev API key from its banner, its stderr."""

    proc: subprocess.Popen[str]
    banner: list[str]
    stderr_path: Path
    pump: threading.Thread

    @property
    def base_url(self) -> str:
        return self.banner[-1].removeprefix("listening on ")

    @property
    def api_key(self) -> str:
        for line in self.banner:
            if line.startswith(KEY_LABEL):
                return line[len(KEY_LABEL) :].strip()
        raise AssertionError("no API key line in the banner:\n" + "\n".join(self.banner))

    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")


def _env(tmp: Path, extra: dict[str, str]) -> dict[str, str]:
    # Nothing from the developer's shell may point serve at real SES or another store.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SESRELAY_", "TENCENTCLOUD_"))}
    env["PYTHONPATH"] = str(ROOT / "lib")
    env["SESRELAY_STATE_URL"] = f"sqlite:///{tmp}/state.sqlite3"
    env.update(extra)
    return env


def stop_serve(served: Serve) -> None:
    proc = served.proc
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
    served.pump.join(timeout=10)


def start_serve(tmp: Path, **extra_env: str) -> Serve:
    """`python -m sesrelay serve --port 0` in `tmp`; returns once it prints `listening on`."""
    stderr_path = tmp / "serve.stderr"
    with stderr_path.open("w") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sesrelay", "serve", "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            env=_env(tmp, extra_env),
            cwd=tmp,
        )
    lines: queue.Queue[str | None] = queue.Queue()

    def drain() -> None:  # keeps reading stdout, so invocation logs never fill the pipe
        assert proc.stdout is not None
        with proc.stdout:
            for line in proc.stdout:
                lines.put(line.rstrip("\n"))
        lines.put(None)

    pump = threading.Thread(target=drain, daemon=True)
    pump.start()
    banner: list[str] = []
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            line = lines.get(timeout=max(deadline - time.monotonic(), 0.01))
        except queue.Empty:
            line = None
        if line is None:
            served = Serve(proc, banner, stderr_path, pump)
            stop_serve(served)
            raise AssertionError(
                "sesrelay serve printed no `listening on` line; stdout:\n"
                + "\n".join(banner)
                + "\nstderr:\n"
                + served.stderr()
            )
        banner.append(line)
        if line.startswith(LISTENING):
            return Serve(proc, banner, stderr_path, pump)
