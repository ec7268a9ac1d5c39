"""SCF entry point (`handler.main_handler`): put lib/ on sys.path, build services once per warm
instance, dispatch each event."""

from __future__ import annotations

import os
import sys
from typing import Any

# The function uses no pydantic plugins; looking for them scans the metadata of every installed
# distribution on the first model build, a few ms of every cold start. Set the variable to an
# empty string to have pydantic look for plugins again.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

_LIB = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib")
if _LIB not in sys.path:
    sys.path.insert(0, _LIB)

from sesrelay.runtime import Runtime  # noqa: E402 - needs lib/ on sys.path first

_runtime = Runtime()


def main_handler(event: Any, context: Any) -> Any:
    return _runtime.handle(event, context)
