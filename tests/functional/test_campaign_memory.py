"""POST /v1/campaigns never holds its whole recipient list as Python objects: parsed whole, a list
takes about eight times its JSON text, and a 6 MB body (SCF's largest) would need a 256 MB
function instead of 128 MB. Measured with tracemalloc (allocations, not time): from the moment
the request comes in to the moment the campaign starts uploading (the rows validated,
fingerprinted, staged).
`python -m benchmarks memory` measures the whole instance. A body the route cannot read that way
gets the answer every JSON route gives."""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Callable
from typing import Any

from sesrelay.adapters.state_memory import MemoryStateStore
from sesrelay.clock import SystemClock
from sesrelay.emulator import EmulatorServer
from sesrelay.runtime import Runtime
from sesrelay.state import StateRecord
from tests.functional.conftest import context

RECIPIENTS = 30_000
#: What the request may allocate at its peak, per byte of body (about 6 here): the text, the
#: addresses kept to spot duplicates, one block of 10,000 rows and the staged blocks. Parsing the
#: list whole, then fingerprinting and staging it, took 15.
MAX_BYTES_PER_BODY_BYTE = 8


class UploadWatch(MemoryStateStore):
    """Notes tracemalloc's peak when a campaign is saved as uploading (its rows are staged), and
    stops tracing there: the uploads (to an emulator in this process) are not measured."""

    def __init__(self) -> None:
        super().__init__(SystemClock())
        self.peak_at_launch: int | None = None

    def compare_and_set(
        self, key: str, expected_version: int, value: str, ttl_seconds: float
    ) -> StateRecord | None:
        watched = self.peak_at_launch is None and key.startswith("campaign:")
        if watched and tracemalloc.is_tracing() and json.loads(value)["state"] == "uploading":
            self.peak_at_launch = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        return super().compare_and_set(key, expected_version, value, ttl_seconds)


def campaign(count: int) -> dict[str, Any]:
    return {
        "FromEmailAddress": "Example News <news@example.com>",
        "Subject": "Hello {{name}}",
        "Template": {"TemplateID": 100001, "TemplateData": {"name": "friend"}},
        "Validation": "strict",
        "Recipients": [
            {"Email": f"user{n:07d}@example.org", "TemplateData": {"name": f"User {n}"}}
            for n in range(count)
        ],
    }


def test_a_large_campaign_body_is_never_held_whole(
    make_runtime: Callable[..., Runtime],
    event: Callable[..., dict[str, Any]],
    emulator: EmulatorServer,
) -> None:
    store = UploadWatch()
    runtime = make_runtime(state=store)
    warm = event("http_post-campaigns", headers={"idempotency-key": "warm-up"})
    assert runtime.handle(warm, context(time_limit_ms=60_000))["statusCode"] == 202  # imports
    store.peak_at_launch = None
    large = event(
        "http_post-campaigns", body=campaign(RECIPIENTS), headers={"idempotency-key": "k"}
    )
    size = len(large["body"])
    tracemalloc.start()
    try:
        reply = runtime.handle(large, context(time_limit_ms=120_000))
    finally:
        tracemalloc.stop()
    assert reply["statusCode"] == 202, reply["body"][:500]
    assert json.loads(reply["body"])["Counts"]["Valid"] == RECIPIENTS
    assert store.peak_at_launch is not None
    ratio = store.peak_at_launch / size
    assert ratio < MAX_BYTES_PER_BODY_BYTE, f"{ratio:.1f} bytes allocated per byte of body"


DEEP: Any = "x"
for _ in range(63):
    DEEP = [DEEP]
BROKEN: dict[str, tuple[str | bytes, str]] = {
    "malformed": ('{"Recipients": [{"Email": "a@example.org"},]}', "application/json"),
    "an array": ('[{"Email": "a@example.org"}]', "application/json"),
    "too deep": (json.dumps({"Recipients": [{"Email": "a@x.org", "T": DEEP}]}), "application/json"),
    "lone surrogate": ('{"Recipients": [{"Email": "\\udc00@example.org"}]}', "application/json"),
    "a huge number": ('{"Recipients": [{"N": %s}]}' % ("9" * 5000), "application/json"),
    "not JSON": ("Recipients=a@example.org", "application/x-www-form-urlencoded"),
    "empty": ("", "application/json"),
    "a bom": ('\ufeff{"Recipients": []}', "application/vnd.api+json"),
    "not UTF-8": (b'{"Recipients": [{"Email": "\xff@example.org"}]}', "application/json"),
}


def test_a_body_read_the_long_way_gets_the_answer_every_json_route_gives(
    make_runtime: Callable[..., Runtime],
    event: Callable[..., dict[str, Any]],
    emulator: EmulatorServer,
) -> None:
    runtime = make_runtime()
    for name, (text, content_type) in BROKEN.items():
        headers = {"idempotency-key": "k", "content-type": content_type}
        body = {"raw_body": text} if isinstance(text, bytes) else {"body": text}
        answers = [
            runtime.handle(event(sample, headers=headers, **body), context())
            for sample in ("http_post-campaigns", "http_post-emails")
        ]
        campaign, email = (json.loads(answer["body"]) for answer in answers)
        assert answers[0]["statusCode"] == answers[1]["statusCode"] >= 400, name
        assert (campaign["code"], campaign["detail"]) == (email["code"], email["detail"]), name
        assert campaign.get("errors") == email.get("errors"), name
    assert emulator.call_counts() == {}
