"""SCF entry point (`handler.main_handler`): put lib/ on sys.path, build services once per warm
instance, dispatch each event."""

from __future__ import annotations

import os
import sys
from typing import Any

_LIB = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib")
if _LIB not in sys.path:
    sys.path.insert(0, _LIB)

from sesrelay.runtime import Runtime  # noqa: E402 - needs lib/ on sys.path first

_runtime = Runtime()


def main_handler(event: Any, context: Any) -> Any:
    return _runtime.handle(event, context)
