"""Foundation benchmarks: the import cost of the function, and the SES gateway's own overhead.

(a) cold import of `handler` (and import + first-event wiring) vs importing only the SES SDK and
    pydantic, the floor any SES+pydantic function pays, every module's bytecode cached (see
    benchmarks.pycache); target <= 1.3x.
(b) p50/p99 of gateway sends to the emulator vs raw SDK calls to it; target <= 1.10x at p50.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from benchmarks.pycache import CACHED, bytecode, run_script
from benchmarks.stats import against, median, ms, percentile

ROOT = Path(__file__).resolve().parents[1]

# `import pydantic` alone is lazy and loads almost nothing; what every pydantic application pays
# is the import of BaseModel and the field machinery, so that is the floor.
BASELINE_IMPORT = (
    "from pydantic import BaseModel, Field, ValidationError\n"
    "from tencentcloud.common import credential\n"
    "from tencentcloud.ses.v20201002 import ses_client, models\n"
)
HANDLER_IMPORT = "import handler\n"
HANDLER_WIRED = (
    "import handler\n"
    "handler._runtime.services.ses\n"  # builds settings + the SDK gateway, as the first event does
)


def _script(code: str) -> str:
    return f"import time\nt=time.perf_counter()\n{code}print(time.perf_counter()-t)\n"


def _time_imports(codes: list[str], rounds: int) -> list[float]:
    """The median seconds of each `code` in fresh interpreters, all bytecode cached."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "lib"),
        "TENCENTCLOUD_SECRET_ID": "AKIDbench",
        "TENCENTCLOUD_SECRET_KEY": "bench-key",
    }

    def warm_up(run_env: Mapping[str, str]) -> None:
        for code in codes:
            run_script(_script(code), run_env, ROOT)

    samples: list[list[float]] = [[] for _ in codes]
    with bytecode(CACHED, env, warm_up) as run_env:
        for _ in range(rounds):  # alternated, so load on the machine hits every script alike
            for code, bucket in zip(codes, samples, strict=True):
                bucket.append(float(run_script(_script(code), run_env, ROOT)))
    return [median(bucket) for bucket in samples]


def bench_imports(rounds: int) -> None:
    base, handler, wired = _time_imports([BASELINE_IMPORT, HANDLER_IMPORT, HANDLER_WIRED], rounds)
    print(f"(a) cold import, median of {rounds} fresh interpreters, bytecode cached")
    print(f"    SDK + pydantic (baseline)                  {ms(base)}")
    print(f"    import handler + build the SDK gateway     {ms(wired)}  ", end="")
    print(against(wired / base, 1.30))
    print(
        f"    import handler alone (SDK loaded later)    {ms(handler)}  ratio {handler / base:.2f}x"
    )


def bench_sends(count: int) -> None:
    from tencentcloud.common import credential
    from tencentcloud.common.profile.client_profile import ClientProfile
    from tencentcloud.common.profile.http_profile import HttpProfile
    from tencentcloud.ses.v20201002 import models, ses_client

    from benchmarks.emulator_process import emulator_process
    from sesrelay.adapters.ses_sdk import SdkSesGateway
    from sesrelay.clock import Deadline, SystemClock
    from sesrelay.emulator import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY

    params: dict[str, Any] = {
        "FromEmailAddress": "noreply@example.com",
        "Destination": ["ana@example.org"],
        "Subject": "Welcome",
        "Template": {"TemplateID": 100001, "TemplateData": '{"name": "Ana"}'},
    }
    with emulator_process() as emulator:
        http = HttpProfile(endpoint=emulator.endpoint, protocol="http")
        raw = ses_client.SesClient(
            credential.Credential(DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY),
            "ap-singapore",
            ClientProfile(httpProfile=http),
        )
        clock = SystemClock()
        gateway = SdkSesGateway(
            secret_id=DEFAULT_SECRET_ID,
            secret_key=DEFAULT_SECRET_KEY,
            session_token=None,
            region="ap-singapore",
            endpoint=emulator.url,
            clock=clock,
        )

        def raw_send() -> None:
            req = models.SendEmailRequest()
            req.from_json_string(__import__("json").dumps(params))
            raw.SendEmail(req)

        def gateway_send() -> None:
            gateway.call("SendEmail", params, Deadline(clock, 30))

        for fn in (raw_send, gateway_send):  # warm both connections
            for _ in range(20):
                fn()
        raw_t: list[float] = []
        gw_t: list[float] = []
        for _ in range(count):  # interleaved so drift hits both equally
            for fn, bucket in ((raw_send, raw_t), (gateway_send, gw_t)):
                start = time.perf_counter()
                fn()
                bucket.append(time.perf_counter() - start)
    p50r, p50g = percentile(raw_t, 50), percentile(gw_t, 50)
    print(f"(b) {count} SendEmail calls each to the emulator over loopback")
    print(f"    raw SDK  p50 {ms(p50r)}  p99 {ms(percentile(raw_t, 99))}")
    print(
        f"    gateway  p50 {ms(p50g)}  p99 {ms(percentile(gw_t, 99))}  "
        f"ratio p50 {p50g / p50r:.2f}x (target <= 1.10x)"
    )


def run(quick: bool = False) -> None:
    print("== foundation: import cost, gateway overhead")
    bench_imports(5 if quick else 15)
    bench_sends(50 if quick else 500)
