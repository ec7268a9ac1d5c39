"""The shipped memorySize follows the memory benchmark: the smallest size SCF offers that holds
the largest peak the last full `python -m benchmarks memory` run recorded, with its margin.

A change that makes an instance need more memory shows in the benchmark's record, and then
here, until serverless.yml follows it; a size larger than the numbers need costs every
invocation more, so it fails too."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.memory import MARGIN, RECORD, WORKLOAD_ORDER, size_for
from sesrelay.deploy.serverless_loader import load_serverless

ROOT = Path(__file__).resolve().parents[2]


def test_the_record_covers_every_kind_of_work() -> None:
    recorded = json.loads(RECORD.read_text(encoding="utf-8"))
    assert list(recorded["peak_mb"]) == list(WORKLOAD_ORDER)
    assert recorded["margin"] == MARGIN
    assert recorded["memory_size_mb"] == size_for(max(recorded["peak_mb"].values()))


def test_the_shipped_memory_size_follows_the_recorded_peaks() -> None:
    recorded = json.loads(RECORD.read_text(encoding="utf-8"))
    largest = max(recorded["peak_mb"].values())
    shipped = load_serverless(ROOT / "serverless.yml").inputs.memory_size
    assert shipped >= largest * MARGIN, f"{largest} MB x {MARGIN} does not fit in {shipped} MB"
    assert shipped == size_for(largest), "the smallest size that holds the peak costs the least"
