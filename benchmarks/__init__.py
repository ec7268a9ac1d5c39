"""Benchmarks: `python -m benchmarks [name ...]` (or `make bench`) prints numbers and ratios."""

import sys
from pathlib import Path

_LIB = str(Path(__file__).resolve().parents[1] / "lib")
if _LIB not in sys.path:
    sys.path.insert(0, _LIB)
