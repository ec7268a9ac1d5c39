"""Bytecode conditions for timing fresh interpreters: cached for every module, or for none.

A fresh process that finds no .pyc compiles each module it imports, which can cost more than
the import itself. The two sides of a cold-start comparison must therefore run under the same
condition, whatever the machine holds (PYTHONDONTWRITEBYTECODE, __pycache__ folders present or
not): each condition gets a private PYTHONPYCACHEPREFIX folder, which Python then uses instead
of every __pycache__ folder, standard library included.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

#: Every module's bytecode cached: what a machine or a warm image holds after a first run.
CACHED = "cached"
#: No bytecode anywhere: each module compiled on import, as from the SCF zip (it ships no .pyc).
NONE = "none"


@contextmanager
def bytecode(
    condition: str, env: Mapping[str, str], warm_up: Callable[[dict[str, str]], object]
) -> Iterator[dict[str, str]]:
    """The environment for `condition`; CACHED first calls `warm_up(env)` to write the cache."""
    with tempfile.TemporaryDirectory(prefix="sesrelay-bench-pyc-") as cache:
        run_env = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
        run_env["PYTHONPYCACHEPREFIX"] = cache
        if condition == CACHED:
            warm_up(run_env)  # may write: this run compiles and caches what the scripts import
        run_env["PYTHONDONTWRITEBYTECODE"] = "1"  # measured runs only read (or compile)
        yield run_env


def run_script(code: str, env: Mapping[str, str], cwd: Path) -> str:
    """The last line a fresh interpreter running `code` prints (its measurement)."""
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        env=dict(env),
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip().splitlines()[-1]
