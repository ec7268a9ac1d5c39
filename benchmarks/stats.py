"""Small statistics and reporting helpers shared by the benchmarks."""

from __future__ import annotations

import statistics


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(pct / 100.0 * (len(ordered) - 1))))
    return ordered[index]


def median(samples: list[float]) -> float:
    return statistics.median(samples)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def against(ratio: float, target: float) -> str:
    """`ratio 1.08x (target <= 1.10x: met)`: a measured ratio against its target ceiling."""
    return f"ratio {ratio:.2f}x (target <= {target:.2f}x: {verdict(ratio <= target)})"
