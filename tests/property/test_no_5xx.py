"""Malformed input never makes the function answer 5xx or raise: Hypothesis draws hostile
bodies (bytes that are not UTF-8, broken JSON, JSON nested past any payload, numbers of
thousands of digits, wrong shapes), headers and query strings, and sends them through
`main_handler` to every route and as every event kind. SES is a fake that answers at once, so
every 5xx would be the function's own."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sesrelay.adapters.state_memory import MemoryStateStore
from sesrelay.clock import Deadline, SystemClock
from sesrelay.runtime import Runtime
from sesrelay.settings import Settings
from sesrelay.wiring import build_services

API_KEY = "sr_prop_no5xx"
TOKEN = "p" * 32
SECRET = "prop-github-secret"
ROUTES = [
    ("POST", "/v1/emails"),
    ("POST", "/v1/batch-tasks"),
    ("GET", "/v1/batch-tasks"),
    ("GET", "/v1/email-status"),
    ("POST", "/v1/campaigns"),
    ("GET", "/v1/campaigns/cmp_0123456789abcdef"),
    ("POST", "/v1/webhooks/github-releases"),
    ("POST", f"/v1/ses-events/{TOKEN}"),
    ("GET", "/v1/health"),
    ("PATCH", "/v1/emails"),
    ("POST", "/v1/nowhere"),
]
NO_5XX = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class FakeSes:
    def call(self, action: str, params: dict[str, Any], deadline: Deadline) -> dict[str, Any]:
        return {"RequestId": "r", "MessageId": "m", "TaskId": 1, "ReceiverId": 1, "Data": []}


RUNTIME = Runtime(
    build_services(
        Settings(
            environ={"SESRELAY_SES_EVENTS_TOKEN": TOKEN, "GITHUB_WEBHOOK_SECRET": SECRET},
            api_key_sha256=[hashlib.sha256(API_KEY.encode()).hexdigest()],
        ),
        clock=SystemClock(),
        ses=FakeSes(),
        state=MemoryStateStore(SystemClock()),
    )
)

# -- hostile material ----------------------------------------------------------------------------

JSON_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)
SES_KEYS = st.sampled_from(
    ["FromEmailAddress", "Destination", "Subject", "Template", "ReceiverId", "TaskType",
     "Attachments", "Recipients", "Cc", "Bcc", "HeaderFrom", "SmtpHeaders", "Unsubscribe"]
)  # fmt: skip
SES_SHAPED = st.dictionaries(SES_KEYS, JSON_VALUES, max_size=6)


@st.composite
def deep_json(draw: st.DrawFn) -> str:
    depth = draw(st.integers(min_value=60, max_value=5000))
    opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}")]))
    closed = draw(st.integers(min_value=0, max_value=depth))  # unbalanced too
    return opener * depth + "1" + closer * closed


HUGE_NUMBER = st.integers(min_value=4000, max_value=6000).map(
    lambda n: '{"Subject": ' + "9" * n + "}"
)
BODIES = st.one_of(
    st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
    st.text(max_size=200),
    JSON_VALUES.map(json.dumps),
    SES_SHAPED.map(json.dumps),
    deep_json(),
    HUGE_NUMBER,
)
HEADER_VALUES = st.text(st.characters(min_codepoint=32, max_codepoint=0x2FFF), max_size=40)
HEADERS = st.fixed_dictionaries(
    {},
    optional={
        "content-type": st.sampled_from(
            ["application/json", "text/plain", "application/x-www-form-urlencoded", ""]
        ),
        "idempotency-key": HEADER_VALUES,
        "authorization": st.sampled_from([f"Bearer {API_KEY}", "Bearer nope", "Basic x", ""]),
        "x-github-event": st.sampled_from(["release", "ping", ""]),
    },
)
QUERIES = st.dictionaries(
    st.sampled_from(["limit", "offset", "status", "date", "to", "message_id", "x"]),
    st.one_of(
        st.text(max_size=12), st.integers(min_value=4000, max_value=5000).map(lambda n: "9" * n)
    ),
    max_size=3,
)


def assert_answered(reply: Any) -> None:
    if isinstance(reply, dict) and "statusCode" in reply:
        assert reply["statusCode"] < 500, reply
        body = json.loads(reply["body"]) if reply.get("body") else {}
        assert body.get("code") != "internal_error", reply
    else:
        assert isinstance(reply, dict), reply
        assert reply.get("error", {}).get("code") != "internal_error", reply


@NO_5XX
@given(
    route=st.sampled_from(ROUTES), body=BODIES, headers=HEADERS, query=QUERIES, b64=st.booleans()
)
def test_no_route_answers_5xx_to_malformed_input(
    route: tuple[str, str], body: str, headers: dict[str, str], query: dict[str, str], b64: bool
) -> None:
    method, path = route
    headers = dict(headers)
    if path.startswith("/v1/webhooks/") and headers.get("x-github-event") == "release":
        digest = hmac.new(SECRET.encode(), body.encode(), hashlib.sha256).hexdigest()
        headers["x-hub-signature-256"] = f"sha256={digest}"  # a signed delivery reaches mapping
    event = {"httpMethod": method, "path": path, "headers": headers, "queryString": query,
             "body": body, "isBase64Encoded": b64}  # fmt: skip
    assert_answered(RUNTIME.handle(event, {"request_id": "prop"}))


@NO_5XX
@given(message=BODIES, params=st.one_of(JSON_VALUES, SES_SHAPED), shape=st.integers(0, 3))
def test_no_event_kind_fails_on_malformed_input(message: str, params: Any, shape: int) -> None:
    if shape == 0:  # a timer tick
        event: Any = {"Type": "Timer", "TriggerName": "prop", "Time": "2026-01-05T01:00:00Z",
                      "Message": message[:4096]}  # fmt: skip
    elif shape == 1:  # a direct invocation
        event = {"action": "SendEmail", "params": params}
    elif shape == 2:  # an API Gateway event with a malformed requestContext
        event = {"httpMethod": "POST", "path": "/v1/emails", "requestContext": params,
                 "headers": {"authorization": f"Bearer {API_KEY}"}, "body": message}  # fmt: skip
    else:  # something else entirely
        event = params
    assert_answered(RUNTIME.handle(event, {"request_id": "prop"}))
