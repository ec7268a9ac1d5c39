"""serverless.yml: the shipped file, and every rule of the model with the key it names."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from sesrelay.config.model import load_config
from sesrelay.deploy import cron, variables
from sesrelay.deploy.serverless_loader import (
    ServerlessFileError,
    load_serverless,
    parse_serverless,
)
from sesrelay.deploy.serverless_model import ServerlessFile

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "serverless.yml"
ENV_NAMES = (
    "SESRELAY_API_KEY_SHA256",
    "SESRELAY_STATE_URL",
    "SESRELAY_ALLOWED_SENDERS",
    "SESRELAY_SES_REGION",
    "GITHUB_WEBHOOK_SECRET",
    "STRIPE_WEBHOOK_SECRET",
    "SESRELAY_SES_EVENTS_TOKEN",
)

MINIMAL: dict[str, Any] = {
    "component": "scf",
    "name": "demo",
    "inputs": {
        "name": "demo-fn",
        "src": "./build/scf",
        "handler": "handler.main_handler",
        "runtime": "Python3.10",
        "region": "ap-guangzhou",
        "events": [
            {
                "timer": {
                    "parameters": {
                        "name": "tick",
                        "cronExpression": "0 0 9 * * MON *",
                        "argument": '{"job":"weekly-digest"}',
                    }
                }
            },
            {"http": {"parameters": {"netConfig": {"enableExtranet": True}}}},
        ],
    },
}


def problems(data: object, jobs: set[str] | None = None) -> dict[str, str]:
    with pytest.raises(ServerlessFileError) as caught:
        parse_serverless(data, jobs)
    return {p.path: p.message for p in caught.value.problems}


def with_inputs(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(MINIMAL)
    data["inputs"].update(changes)
    return data


def timer(**parameters: Any) -> dict[str, Any]:
    base = {"name": "tick", "cronExpression": "0 0 9 * * * *", "argument": '{"job":"a"}'}
    return {"timer": {"parameters": {**base, **parameters}}}


# -- the shipped file -----------------------------------------------------------------------------


def test_shipped_file_matches_the_deployment_contract() -> None:
    spec = load_serverless(SHIPPED)
    inputs = spec.inputs
    assert (spec.component, inputs.handler, inputs.runtime) == (
        "scf",
        "handler.main_handler",
        "Python3.10",
    )
    assert (inputs.memory_size, inputs.timeout, inputs.retry_num, inputs.msg_ttl) == (
        128,
        30,
        2,
        21600,
    )
    assert inputs.http is not None
    assert inputs.http.parameters.auth_type == "NONE"
    assert inputs.http.parameters.net_config.enable_extranet
    timers = {t.trigger_name: t.parameters for t in inputs.timers}
    assert timers["weekly-digest"].cron_expression == "0 0 9 * * MON *"
    assert json.loads(timers["weekly-digest"].argument) == {"job": "weekly-digest"}
    assert timers["campaigns-finisher"].cron_expression == "0 * * * * * *"
    assert json.loads(timers["campaigns-finisher"].argument) == {"job": "campaigns-finisher"}
    assert inputs.environment.variables == {name: f"${{env:{name}}}" for name in ENV_NAMES}
    # the production shape: the Redis instance's VPC, from the deployer's environment
    assert inputs.vpc_config is not None
    assert (inputs.vpc_config.vpc_id, inputs.vpc_config.subnet_id) == (
        "${env:SESRELAY_VPC_ID}",
        "${env:SESRELAY_SUBNET_ID}",
    )
    assert inputs.cls_config is None  # SCF's own log topic unless the deployer names one


def test_shipped_file_names_only_jobs_that_sesrelay_yaml_defines() -> None:
    jobs = set(load_config(ROOT / "sesrelay.yaml").jobs)
    assert {"weekly-digest", "campaigns-finisher"} <= jobs
    load_serverless(SHIPPED, jobs)


def test_shipped_file_has_no_secret_values() -> None:
    text = SHIPPED.read_text(encoding="utf-8")
    spec = load_serverless(SHIPPED)
    for value in spec.inputs.environment.variables.values():
        assert variables.references(value), value
    assert "SECRET_KEY" not in text
    assert "password" not in text.lower()


# -- the rules, each naming its key ---------------------------------------------------------------


def test_minimal_file_takes_the_component_defaults() -> None:
    spec = parse_serverless(MINIMAL, {"weekly-digest"})
    assert isinstance(spec, ServerlessFile)
    inputs = spec.inputs
    assert (inputs.namespace, inputs.memory_size, inputs.timeout) == ("default", 128, 3)
    assert inputs.src.src == "./build/scf"
    assert inputs.http is not None
    assert (inputs.http.parameters.name, inputs.http.parameters.qualifier) == (
        "url-trigger",
        "$DEFAULT",
    )
    assert inputs.timers[0].parameters.enable is True


@pytest.mark.parametrize(
    ("change", "path", "fragment"),
    [
        ({"runtime": "Python3.9"}, "inputs.runtime", "must be Python3.10"),
        ({"handler": "index.main_handler"}, "inputs.handler", "handler.py at its root"),
        ({"memorySize": 200}, "inputs.memorySize", "64, or 128 to 3072 in steps of 128"),
        ({"memorySize": 3200}, "inputs.memorySize", "steps of 128"),
        ({"memorySize": "128"}, "inputs.memorySize", "must be an integer"),
        ({"timeout": 0}, "inputs.timeout", "greater than or equal to 1"),
        ({"timeout": 901}, "inputs.timeout", "less than or equal to 900"),
        ({"name": "9lives"}, "inputs.name", "starting with a letter"),
        ({"name": "x" * 61}, "inputs.name", "2-60 characters"),
        ({"region": "guangzhou"}, "inputs.region", "SCF region"),
        ({"retryNum": 3}, "inputs.retryNum", "less than or equal to 2"),
        ({"msgTTL": 30}, "inputs.msgTTL", "greater than or equal to 60"),
        ({"layers": [{"name": "x", "version": 1}]}, "inputs.layers", "does not manage"),
        (
            {"vpcConfig": {"vpcId": "vpc-1", "subnetId": "subnet-0vmgq4v2"}},
            "inputs.vpcConfig.vpcId",
            "vpc- and 8 lower-case",
        ),
        (
            {"vpcConfig": {"vpcId": "vpc-2ari9m7h"}},
            "inputs.vpcConfig",
            "give both vpcId and subnetId, or write vpcConfig: {}",
        ),
        ({"vpcConfig": None}, "inputs.vpcConfig", "null reads as absent to Tencent's component"),
        (
            {"vpcConfig": {"vpcId": "${env:A}x", "subnetId": "${env:B}"}},
            "inputs.vpcConfig.vpcId",
            "or ${env:NAME}",
        ),
        ({"vpcConfig": {"VpcId": "vpc-2ari9m7h"}}, "inputs.vpcConfig.VpcId", "not a known key"),
        ({"cls": {"logsetId": "${env:A}"}}, "inputs.cls.topicId", "is required"),
        (
            {"cls": {"logsetId": "abc", "topicId": "${env:B}"}},
            "inputs.cls.logsetId",
            "a CLS logset ID, a UUID",
        ),
        ({"cls": None}, "inputs.cls", "remove the key to leave the logs where SCF sends them"),
        ({"cls": {"logsetId": "${env:A}", "topicId": "${env:B}"}}, "inputs", "cls needs role"),
        ({"memory_size": 128}, "inputs.memory_size", "not a known key"),
        ({"description": "a (b)"}, "inputs.description", "letters, digits"),
    ],
)
def test_each_rule_names_its_key(change: dict[str, Any], path: str, fragment: str) -> None:
    found = problems(with_inputs(**change))
    assert fragment in found[path], found


def test_regions_and_qualifiers_scf_accepts() -> None:
    spec = parse_serverless(
        with_inputs(region="ap-shanghai-fsi", events=[timer(qualifier="$LATEST")])
    )
    assert spec.inputs.region == "ap-shanghai-fsi"
    assert spec.inputs.timers[0].parameters.qualifier == "$LATEST"


@pytest.mark.parametrize("memory", [64, 128, 256, 1536, 3072])
def test_memory_sizes_scf_accepts(memory: int) -> None:
    assert parse_serverless(with_inputs(memorySize=memory)).inputs.memory_size == memory


def test_every_problem_is_reported_at_once() -> None:
    data = with_inputs(runtime="Python3.9", memorySize=100, timeout=1000, handler="x.y")
    data["inputs"]["events"] = [timer(cronExpression="61 * * * * * *", argument="{}")]
    found = problems(data)
    assert {
        "inputs.runtime",
        "inputs.memorySize",
        "inputs.timeout",
        "inputs.handler",
        "inputs.events[0].timer.parameters.cronExpression",
        "inputs.events[0].timer.parameters.argument",
    } <= set(found)


def test_top_level_shape() -> None:
    found = problems({"component": "express", "inputs": MINIMAL["inputs"], "provider": {}})
    assert "scf component format" in found["component"]
    assert found["name"] == "is required"
    assert "Serverless Framework v1/v3 format" in found["provider"]


def test_apigw_event_is_refused_with_the_reason() -> None:
    found = problems(with_inputs(events=[{"apigw": {"parameters": {}}}]))
    message = found["inputs.events[0].apigw"]
    assert "retired on 2025-06-30" in message
    assert "function URL" in message


def test_other_trigger_types_are_not_managed() -> None:
    found = problems(with_inputs(events=[{"cos": {"parameters": {}}}]))
    assert "only timer and http" in found["inputs.events[0].cos"]
    found = problems(with_inputs(events=[{}]))
    assert "exactly one key" in found["inputs.events[0]"]


def test_trigger_names_and_counts() -> None:
    found = problems(with_inputs(events=[timer(name="1st")]))
    assert "^[A-Za-z][A-Za-z0-9_-]{0,59}$" in found["inputs.events[0].timer.parameters.name"]
    found = problems(with_inputs(events=[timer(name="x" * 61)]))
    assert "1-60 characters" in found["inputs.events[0].timer.parameters.name"]
    found = problems(with_inputs(events=[timer(qualifier="$latest")]))
    assert "$DEFAULT, $LATEST" in found["inputs.events[0].timer.parameters.qualifier"]
    found = problems(with_inputs(events=[timer(), timer()]))
    assert "repeated: tick" in found["inputs"]
    url = {"http": {"parameters": {"name": "u", "netConfig": {"enableExtranet": True}}}}
    found = problems(with_inputs(events=[url, url]))
    assert "at most one http event" in found["inputs"]
    many = [timer(name=f"t{i}") for i in range(11)]
    assert "at most 10 timer events" in problems(with_inputs(events=many))["inputs"]
    params = {"cronExpression": "0 * * * * * *", "argument": '{"job":"a"}'}
    unnamed = {"timer": {"parameters": params}}
    assert "parameters.name" in problems(with_inputs(events=[unnamed]))["inputs.events[0].timer"]


def test_function_url_needs_a_network() -> None:
    closed: dict[str, Any] = {"http": {"parameters": {"netConfig": {}}}}
    found = problems(with_inputs(events=[closed]))
    assert "enableExtranet" in found["inputs.events[0].http.parameters.netConfig"]
    cam = {"http": {"parameters": {"authType": "IAM", "netConfig": {"enableIntranet": True}}}}
    assert (
        "'NONE' or 'CAM'"
        in problems(with_inputs(events=[cam]))["inputs.events[0].http.parameters.authType"]
    )


def test_timer_argument_rules() -> None:
    where = "inputs.events[0].timer.parameters.argument"
    assert "must be JSON" in problems(with_inputs(events=[timer(argument="job")]))[where]
    assert "JSON object" in problems(with_inputs(events=[timer(argument="[1]")]))[where]
    big = json.dumps({"action": "SendEmail", "params": {"Subject": "x" * 4100}})
    assert "4096 bytes" in problems(with_inputs(events=[timer(argument=big)]))[where]
    extra = with_inputs(events=[timer(argument='{"job":"a","x":1}')])
    assert "nothing else" in problems(extra)[where]
    missing = problems(with_inputs(events=[timer(argument='{"job":"gone"}')]), {"a", "b"})
    assert "names job 'gone', which sesrelay.yaml does not define (jobs: a, b)" in missing[where]
    inline = '{"action":"SendEmail","params":{"Subject":"hi"}}'
    assert parse_serverless(with_inputs(events=[timer(argument=inline)]), {"a"})
    mapping = parse_serverless(with_inputs(events=[timer(argument={"job": "a"})]), {"a"})
    assert mapping.inputs.timers[0].parameters.argument == '{"job":"a"}'


def test_environment_rules() -> None:
    def env_problems(values: dict[str, Any]) -> dict[str, str]:
        return problems(with_inputs(environment={"variables": values}))

    base = "inputs.environment.variables"
    assert "reserves" in env_problems({"SCF_NAME": "x"})[f"{base}.SCF_NAME"]
    assert "reserves" in env_problems({"tencentcloud_x": "x"})[f"{base}.tencentcloud_x"]
    assert "^[A-Za-z]" in env_problems({"1BAD": "x"})[f"{base}.1BAD"]
    assert "at most 64" in env_problems({"A" * 65: "x"})[f"{base}.{'A' * 65}"]
    assert "(quote it)" in env_problems({"PORT": 8080})[f"{base}.PORT"]
    assert "${env:NAME}" in env_problems({"A": "${opt:stage}"})[f"{base}.A"]
    secret = env_problems({"STRIPE_WEBHOOK_SECRET": "whsec_literal", "API_KEY": "k"})[base]
    assert "STRIPE_WEBHOOK_SECRET: looks like a secret" in secret
    assert "API_KEY" in secret
    assert "SCF allows 4096" in env_problems({"BIG": "x" * 5000})[base]
    fine = {"SESRELAY_SES_REGION": "ap-singapore", "X": "a-${env:X_PART}-b"}
    parsed = parse_serverless(with_inputs(environment={"variables": fine}))
    assert parsed.inputs.environment.variables == fine


def test_variables_resolve_from_the_deployers_environment() -> None:
    template = {"A": "${env:A}", "B": "x-${env:B1}-${env:B2}", "C": "${env:C}", "L": "lit"}
    with pytest.raises(variables.UnresolvedVariables) as caught:
        variables.resolve(template, {"A": "1"})
    assert caught.value.missing == {"B": ["B1", "B2"], "C": ["C"]}
    assert "B1, B2, C" in str(caught.value)
    resolved = variables.resolve(template, {"A": "1", "B1": "2", "B2": "3", "C": ""})
    assert resolved.values == {"A": "1", "B": "x-2-3", "L": "lit"}
    assert resolved.empty == ("C",)
    with pytest.raises(ValueError, match="4096") as too_big:
        variables.resolve({"A": "${env:A}"}, {"A": "s" * 5000})
    assert "sss" not in str(too_big.value)  # sizes only, never the value


@pytest.mark.parametrize(
    "rule",
    [
        "0 0 9 * * MON *",
        "*/5 * * * * * *",
        "0 15 10 * * MON-FRI *",
        "0 0 2 1,15 JAN-jun * 2026",
        "0 0/30 8-18 * * * *",
        "30 2 * * *",
        "0 0 0 31 12 6 2099",
    ],
)
def test_valid_cron_rules(rule: str) -> None:
    assert cron.problems(rule) == []


@pytest.mark.parametrize(
    ("rule", "fragment"),
    [
        ("0 0 9 * * MON", "has 6 fields"),
        ("60 * * * * * *", "field 1 (second) '60': out of range; allowed 0-59"),
        ("0 0 24 * * * *", "field 3 (hour)"),
        ("0 0 0 0 * * *", "field 4 (day of month)"),
        ("0 0 0 * 13 * *", "allowed 1-12 or JAN-DEC"),
        ("0 0 0 * * 7 *", "allowed 0-6 or SUN-SAT"),
        ("0 0 0 * * * 1969", "field 7 (year)"),
        ("0 0 0 ? * * *", "no '?'"),
        ("0 0 0 L * * *", "out of range"),
        ("0 0 18-9 * * * *", "starts after it ends"),
        ("0 */0 * * * * *", "step must be 1 to 60"),
        ("0 0 0 * * FRI-MON *", "starts after it ends"),
    ],
)
def test_invalid_cron_rules(rule: str, fragment: str) -> None:
    assert any(fragment in reason for reason in cron.problems(rule)), cron.problems(rule)


def test_yaml_problems(tmp_path: Path) -> None:
    duplicated = tmp_path / "dup.yml"
    duplicated.write_text("component: scf\ncomponent: scf\n", encoding="utf-8")
    with pytest.raises(ServerlessFileError, match="problem") as caught:
        load_serverless(duplicated)
    assert "duplicate key 'component'" in caught.value.problems[0].message
    broken = tmp_path / "broken.yml"
    broken.write_text("inputs: [\n", encoding="utf-8")
    with pytest.raises(ServerlessFileError) as caught:
        load_serverless(broken)
    assert caught.value.lines()[0].startswith(f"{broken}: not valid YAML")
    with pytest.raises(ServerlessFileError) as caught:
        load_serverless(tmp_path / "absent.yml")
    assert "cannot read" in caught.value.problems[0].message
