"""Cold start of the HTTP API: process start to the first 202, against the SDK + pydantic floor.

Both sides are fresh interpreters, timed from just before each is started, under one bytecode
condition at a time (benchmarks.pycache): every module's bytecode cached, then none at all.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from benchmarks.pycache import CACHED, NONE, bytecode, run_script
from benchmarks.stats import against, median, ms

ROOT = Path(__file__).resolve().parents[1]

COLD_HANDLER = """
import json, os, time
t0 = float(os.environ["BENCH_T0"])
import handler
context = {"request_id": "cold", "time_limit_in_ms": 30000}
reply = handler.main_handler(json.loads(os.environ["BENCH_EVENT"]), context)
assert reply["statusCode"] == 202, reply
print(time.time() - t0)
"""
# What any function that sends through the SDK and validates with pydantic pays at least.
# `import pydantic` alone loads almost nothing; BaseModel and Field load the machinery.
COLD_FLOOR = """
import os, time
t0 = float(os.environ["BENCH_T0"])
from pydantic import BaseModel, Field, ValidationError
from tencentcloud.common import credential
from tencentcloud.ses.v20201002 import ses_client, models
print(time.time() - t0)
"""
SIDES = {"floor": COLD_FLOOR, "handler": COLD_HANDLER}


def _timed(code: str, env: Mapping[str, str]) -> float:
    return float(run_script(code, {**env, "BENCH_T0": repr(time.time())}, ROOT))


def _warm_up(env: Mapping[str, str]) -> None:
    for code in SIDES.values():
        _timed(code, env)


def _measure(env: Mapping[str, str], condition: str, rounds: int) -> dict[str, float]:
    samples: dict[str, list[float]] = {name: [] for name in SIDES}
    with bytecode(condition, env, _warm_up) as run_env:
        for _ in range(rounds):  # alternated, so load on the machine hits both sides alike
            for name, code in SIDES.items():
                samples[name].append(_timed(code, run_env))
    return {name: median(values) for name, values in samples.items()}


def bench_cold(event: dict[str, Any], api_key_sha256: str, rounds: int, target: float) -> None:
    """Prints the medians and their ratio, bytecode cached (`rounds`) and absent (fewer)."""
    from sesrelay.emulator import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, EmulatorServer

    with EmulatorServer(port=0, rate_limit=None) as emulator:
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("SESRELAY_", "TENCENTCLOUD_"))
        }
        env.update(
            SESRELAY_SES_ENDPOINT=emulator.url,
            TENCENTCLOUD_SECRET_ID=DEFAULT_SECRET_ID,
            TENCENTCLOUD_SECRET_KEY=DEFAULT_SECRET_KEY,
            SESRELAY_API_KEY_SHA256=api_key_sha256,
            SESRELAY_STATE_URL="memory://",
            BENCH_EVENT=json.dumps(event),
        )
        cached = _measure(env, CACHED, rounds)
        bare_rounds = max(2, rounds // 2)  # each run compiles everything: slower, steadier
        bare = _measure(env, NONE, bare_rounds)
    print("(c) cold start: process start -> first 202 from main_handler (POST /v1/emails)")
    for label, medians, n in (
        ("bytecode cached for every module", cached, rounds),
        ("no bytecode anywhere (as the SCF zip ships)", bare, bare_rounds),
    ):
        floor, handler = medians["floor"], medians["handler"]
        print(f"    {label}, median of {n} fresh processes:")
        print(f"      SDK + pydantic imported (floor, baseline)  {ms(floor)}")
        print(f"      first 202 from main_handler               {ms(handler)}  ", end="")
        print(against(handler / floor, target))
