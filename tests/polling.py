"""Waiting in tests: poll for an observable condition until it holds or a deadline passes, rather
than sleeping a fixed time that is too long on a fast machine and too short on a loaded one."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0, interval: float = 0.01) -> bool:
    """Call `predicate` every `interval` seconds until it returns true; False once `timeout`
    seconds have passed without it doing so (it is always asked once more at the deadline).

    Returns rather than raises, so the caller's assertion can say what was expected and show
    what was seen instead."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        time.sleep(min(interval, left))
