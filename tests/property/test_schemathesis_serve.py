"""Schemathesis against a real `sesrelay serve` (embedded emulator), driven by its OpenAPI document.

Every operation of `/v1/openapi.json` is fuzzed (schemathesis' examples, coverage and fuzzing
phases; over 2,000 requests a run, counted): no 5xx, every status documented, every body and
content type as documented, and every error an RFC 9457 problem+json with `code` and `request_id`.

The document is built in-process (`openapi_document()`) because schemathesis' lazy fixture loader
does not work under this pytest; `test_the_fuzzed_document_is_the_served_one` proves it is the
document that serve answers at `/v1/openapi.json`.
"""

from __future__ import annotations

import json
import secrets
import unittest
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import strategies as st
from schemathesis.checks import CheckFunction, not_a_server_error
from schemathesis.core.control import SkipTest
from schemathesis.core.result import Ok
from schemathesis.generation.feedback import FeedbackSources
from schemathesis.pytest._test_builder import build_operation_test
from schemathesis.pytest.plugin import SchemaHandleMark
from schemathesis.python._constants.orchestrator import make_constants_value_source
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from sesrelay.clock import SES_TIMEZONE
from sesrelay.http.openapi import openapi_document
from tests.property.conftest import Serve, start_serve, stop_serve

MAX_EXAMPLES = 300  # per operation, fuzzing phase; the examples and coverage phases add more
MIN_REQUESTS = 2000
SEED = 20260105  # the same requests every run (CI and local alike); change it to explore
EVENTS_TOKEN = "sesrelay-fuzz-" + secrets.token_hex(16)
WEBHOOK_SECRET = "sesrelay-fuzz-" + secrets.token_hex(16)
CHECKS: list[CheckFunction] = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
PROBLEM_FIELDS = {"type", "title", "status", "detail", "code", "request_id"}
PROBLEM_TYPE = "application/problem+json"
DECLARED_OR_HANDLED_METHODS = ["get", "put", "post", "delete", "patch", "options", "trace"]

#: What the fuzz run sent in this session, per operation and per (operation, status); STARTED
#: holds the operations whose fuzz test began (and may have failed since).
SENT: Counter[str] = Counter()
STATUSES: Counter[tuple[str, int]] = Counter()
STARTED: set[str] = set()

config = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "generation": {"max-examples": MAX_EXAMPLES, "database": "none"},
        "phases": {"coverage": {"unexpected-methods": DECLARED_OR_HANDLED_METHODS}},
    }
)
schema = schemathesis.openapi.from_dict(openapi_document(), config=config)


@pytest.fixture(scope="module")
def serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serve]:
    started = start_serve(
        tmp_path_factory.mktemp("serve"),
        SESRELAY_SES_EVENTS_TOKEN=EVENTS_TOKEN,  # so fuzzed callbacks reach the event parser
        # ... and deliveries to the webhook sources of sesrelay.yaml their signature checks
        GITHUB_WEBHOOK_SECRET=WEBHOOK_SECRET,
        STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
        SESRELAY_SES_MAX_ATTEMPTS="1",  # a throttled send answers 429 at once, no backoff
    )
    try:
        yield started
    finally:
        stop_serve(started)


# -- keep part of the generated requests inside the emulator's seed, so sends get through -------

SENDERS = ["noreply@example.com", "Example News <news@example.com>"]
TEMPLATE = {"TemplateID": 100002, "TemplateData": {"week": "2026-W02", "date": "2026-01-05"}}


def _seeded(body: dict[str, Any], label: str) -> st.SearchStrategy[dict[str, Any]]:
    def overlay(sender: str) -> dict[str, Any]:
        seeded = {**body, "FromEmailAddress": sender, "Template": TEMPLATE}
        seeded.pop("Simple", None)
        if label == "POST /v1/emails":
            seeded["Destination"] = ["ana@example.org"]
            return seeded
        seeded["ReceiverId"] = 200001
        return seeded

    return st.sampled_from(SENDERS).map(overlay)


@schema.hook
def flatmap_body(ctx: schemathesis.HookContext, body: Any) -> st.SearchStrategy[Any]:
    label = ctx.operation.label if ctx.operation is not None else ""
    if not isinstance(body, dict) or label not in {"POST /v1/emails", "POST /v1/batch-tasks"}:
        return st.just(body)
    return st.just(body) | _seeded(body, label)


@schema.hook
def flatmap_path_parameters(
    ctx: schemathesis.HookContext, parameters: dict[str, Any]
) -> st.SearchStrategy[dict[str, Any]]:
    label = ctx.operation.label if ctx.operation is not None else ""
    if label == "POST /v1/ses-events/{token}":
        return st.sampled_from([parameters, {**parameters, "token": EVENTS_TOKEN}])
    if label == "POST /v1/webhooks/{source}":
        sources = ["github-releases", "stripe-payments"]
        return st.sampled_from([parameters] + [{**parameters, "source": s} for s in sources])
    return st.just(parameters)


# -- the fuzz run -------------------------------------------------------------------------------


def check_problem(status: int, headers: dict[str, list[str]], text: str) -> None:
    """Every error is problem+json with a stable code and the invocation's id."""
    assert headers.get("content-type") == [PROBLEM_TYPE], headers
    body = json.loads(text)
    assert isinstance(body, dict)
    assert body.keys() >= PROBLEM_FIELDS, body
    assert body["status"] == status, body
    for name in ("code", "request_id"):
        assert isinstance(body[name], str), body
        assert body[name], body
    if body["code"] == "validation_error":
        assert body["errors"], body
        assert all({"field", "message"} <= item.keys() for item in body["errors"]), body
    if status in (429, 503):
        assert "retry-after" in headers, headers
    if status == 405:
        assert "allow" in headers, headers


@schema.parametrize()
def test_fuzz(case: schemathesis.Case[Any], serve: Serve) -> None:
    STARTED.add(case.operation.label)
    # A fresh connection per request: serve's keep-alive replies wait ~40 ms on Nagle.
    response = case.call_and_validate(
        base_url=serve.base_url,
        headers={"Authorization": f"Bearer {serve.api_key}"},
        checks=CHECKS,
    )
    SENT[case.operation.label] += 1
    STATUSES[(case.operation.label, response.status_code)] += 1
    headers = {name.lower(): values for name, values in response.headers.items()}
    if response.status_code >= 400:
        check_problem(response.status_code, headers, response.text)
    for secret in (serve.api_key, EVENTS_TOKEN, WEBHOOK_SECRET):
        assert secret not in response.text, "a response echoes a secret"


def fuzz_what_did_not_run(serve: Serve) -> None:
    """Run `test_fuzz` for each operation whose fuzz test has not run in this session (all of
    them when the guard below runs alone, or the ones `-k` left out). The operation's test is
    built the way schemathesis' pytest plugin builds it, so these are the very same requests.

    The builder is not public API: requirements-dev.txt pins schemathesis, and an upgrade that
    moves it fails this guard at import, never silently."""
    fuzzed = SchemaHandleMark.get(test_fuzz)  # the schema that parametrize() bound to test_fuzz
    assert fuzzed is not None
    feedback = FeedbackSources(constants_value_source=make_constants_value_source(fuzzed))
    for result in fuzzed.get_all_operations():
        if not isinstance(result, Ok):
            raise result.err()  # the document itself is broken: the plugin fails on it too
        operation = result.ok()
        if operation.label in STARTED:
            continue
        test = build_operation_test(
            config=fuzzed.config,
            operation=operation,
            test_func=test_fuzz,
            given_kwargs={},
            feedback=feedback,
        )
        try:
            test(serve=serve)
        except (SkipTest, unittest.SkipTest) as skipped:  # pytest would report a skip
            raise AssertionError(f"no request could be made for {operation.label}") from skipped


def test_at_least_2000_requests_were_fuzzed(serve: Serve) -> None:
    """The fuzz run is not vacuous: every operation was fuzzed, 2,000 requests in all. After the
    fuzz tests it only counts; on its own (or after `-k`), it first fuzzes what did not run."""
    fuzz_what_did_not_run(serve)
    paths = openapi_document()["paths"]
    operations = {f"{method.upper()} {path}" for path, item in paths.items() for method in item}
    assert set(SENT) == operations, f"never fuzzed: {sorted(operations - set(SENT))}"
    by_status = "\n".join(f"  {label} -> {status}: {n}" for (label, status), n in STATUSES.items())
    print(f"\n{sum(SENT.values())} fuzzed requests:\n{by_status}")
    assert sum(SENT.values()) >= MIN_REQUESTS, SENT


def test_the_fuzzed_document_is_the_served_one(serve: Serve) -> None:
    reply = requests.get(f"{serve.base_url}/v1/openapi.json", timeout=10)
    assert reply.status_code == 200
    assert reply.json() == json.loads(json.dumps(openapi_document()))


def test_a_seeded_campaign_answers_as_documented(serve: Serve) -> None:
    """The campaign routes' success answers, which the fuzz run does not reach: a campaign waits
    about a second for the emulator's upload, too slow to seed hundreds of fuzzed ones."""
    auth = {"Authorization": f"Bearer {serve.api_key}"}
    body: dict[str, Any] = {
        "FromEmailAddress": "noreply@example.com",
        "Subject": "Week {{week}}",
        "Template": TEMPLATE,
        "Recipients": [{"Email": "ana@example.org"}, {"Email": "ben@example.org"}],
    }
    created = requests.post(
        f"{serve.base_url}/v1/campaigns",
        json=body,
        headers={**auth, "Idempotency-Key": secrets.token_hex(8)},
        timeout=60,  # the route may drive the campaign for most of the 30 s invocation
    )
    assert created.status_code == 202, created.text
    schema["/v1/campaigns"]["POST"].validate_response(created)
    campaign = created.json()["CampaignId"]
    fetched = requests.get(f"{serve.base_url}/v1/campaigns/{campaign}", headers=auth, timeout=10)
    assert fetched.status_code == 200, fetched.text
    schema["/v1/campaigns/{campaign_id}"]["GET"].validate_response(fetched)


# -- regressions: what earlier fuzz runs found (F3-F5), fixed since -----------------------------


def documented_statuses(method: str, path: str) -> set[int]:
    responses = openapi_document()["paths"][path][method]["responses"]
    return {int(status) for status in responses}


def test_f3_an_interval_time_too_large_for_the_emulator_is_not_a_5xx(serve: Serve) -> None:
    begin = (datetime.now(timezone.utc) + timedelta(days=1)).astimezone(SES_TIMEZONE)
    body: dict[str, Any] = {
        "FromEmailAddress": "noreply@example.com",
        "ReceiverId": 200001,
        "Subject": "Weekly",
        "TaskType": 3,
        "Template": TEMPLATE,
        "CycleParam": {"BeginTime": begin.strftime("%Y-%m-%d %H:%M:%S"), "IntervalTime": 10**12},
    }
    reply = requests.post(
        f"{serve.base_url}/v1/batch-tasks",
        json=body,
        headers={"Authorization": f"Bearer {serve.api_key}"},
        timeout=30,
    )
    assert reply.status_code < 500, reply.text


@pytest.mark.parametrize("method", ["TRACE", "QUERY"])
def test_f4_an_undeclared_method_is_a_problem_405(serve: Serve, method: str) -> None:
    reply = requests.request(method, f"{serve.base_url}/v1/health", timeout=10)
    assert reply.status_code == 405, reply.status_code
    assert reply.headers["content-type"] == PROBLEM_TYPE


def test_f5_a_chunked_body_gets_a_documented_status(serve: Serve) -> None:
    reply = requests.post(
        f"{serve.base_url}/v1/emails",
        data=iter([b"{}"]),  # a generator: requests streams it chunked
        headers={"Authorization": f"Bearer {serve.api_key}", "Content-Type": "application/json"},
        timeout=10,
    )
    assert reply.status_code in documented_statuses("post", "/v1/emails"), reply.status_code
