"""`vpcConfig` and `cls` of serverless.yml: what each spelling means once its `${env:NAME}`s
are resolved, and the production-shape findings the plan shows (`deploy.shape`)."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from sesrelay.deploy import shape
from sesrelay.deploy.network import ClsTarget, Network, Vpc, resolve
from sesrelay.deploy.serverless_loader import parse_serverless

BASE: dict[str, Any] = {
    "component": "scf",
    "name": "demo",
    "inputs": {
        "name": "demo-fn",
        "src": "./build/scf",
        "handler": "handler.main_handler",
        "runtime": "Python3.10",
        "region": "ap-guangzhou",
        "role": "SCF_SesrelayRole",
    },
}
VPC = {"vpcId": "${env:VPC}", "subnetId": "${env:SUBNET}"}
IDS = {"VPC": "vpc-2ari9m7h", "SUBNET": "subnet-0vmgq4v2"}
LOGSET, TOPIC = "0f8e3ad1-5c2b-4d7e-9a61-2b7c4e9d1f30", "7d1c9b2e-4a3f-4e8d-b6c5-9e0a1f2d3c4b"
REDIS = {"SESRELAY_STATE_URL": "redis://:secret-password@10.0.0.5:6379/0"}
IN_VPC = Network(vpc=Vpc("vpc-2ari9m7h", "subnet-0vmgq4v2"))


def wanted(environ: dict[str, str], **inputs: Any) -> tuple[Network, list[str]]:
    data = copy.deepcopy(BASE)
    data["inputs"].update(inputs)
    spec = parse_serverless(data).inputs
    return resolve(spec.vpc_config, spec.cls_config, environ)


def test_each_spelling_means_one_thing() -> None:
    assert wanted({}) == (Network(), [])  # absent: left as SCF has it
    assert wanted({}, vpcConfig={}) == (Network(vpc=Vpc("", "")), [])  # no VPC
    assert wanted(IDS, vpcConfig=VPC) == (IN_VPC, [])
    literal = {"vpcId": "vpc-2ari9m7h", "subnetId": "subnet-0vmgq4v2"}
    assert wanted({}, vpcConfig=literal) == (IN_VPC, [])
    logs = {"logsetId": "${env:LOGSET}", "topicId": TOPIC}
    assert wanted({"LOGSET": f" {LOGSET}\n"}, cls=logs) == (
        Network(cls=ClsTarget(LOGSET, TOPIC)),
        [],
    )


@pytest.mark.parametrize(
    ("environ", "problem"),
    [
        ({"VPC": "vpc-2ari9m7h"}, "inputs.vpcConfig.subnetId: ${env:SUBNET} is not set"),
        ({**IDS, "VPC": " "}, "inputs.vpcConfig.vpcId: ${env:VPC} is empty; set it, or write "
                              "vpcConfig: {} in serverless.yml for no VPC"),
        ({**IDS, "VPC": "VPC-2ARI9M7H"}, "inputs.vpcConfig.vpcId: ${env:VPC} must be vpc- and 8 "
                                         "lower-case letters or digits (vpc-2ari9m7h)"),
    ],
)  # fmt: skip
def test_a_variable_that_cannot_name_the_vpc_is_a_problem(
    environ: dict[str, str], problem: str
) -> None:
    _network, problems = wanted(environ, vpcConfig=VPC)
    assert problems == [problem]


def test_an_empty_cls_variable_is_a_problem_never_a_silent_change() -> None:
    logs = {"logsetId": "${env:LOGSET}", "topicId": "${env:TOPIC}"}
    _network, problems = wanted({"LOGSET": LOGSET, "TOPIC": ""}, cls=logs)
    assert problems == [
        "inputs.cls.topicId: ${env:TOPIC} is empty; set it, or remove cls from serverless.yml "
        "to leave the logs where they go"
    ]


# -- the production shape -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environment", "network", "now", "start"),
    [
        ({}, IN_VPC, None, "SESRELAY_STATE_URL is not set for the function; SCF runs"),
        ({"SESRELAY_STATE_URL": "sqlite:////tmp/s.db"}, IN_VPC, None,
         "SESRELAY_STATE_URL is a sqlite:// URL; SCF runs"),
        ({"SESRELAY_STATE_URL": "memory://"}, IN_VPC, None,
         "SESRELAY_STATE_URL is a memory:// URL; SCF runs"),
        ({"SESRELAY_STATE_URL": "/tmp/state"}, IN_VPC, None,
         "SESRELAY_STATE_URL is not a URL; SCF runs"),
        (REDIS, Network(), None,
         "SESRELAY_STATE_URL is a redis:// URL but serverless.yml names no vpcConfig; TencentDB "
         "for Redis answers only inside its VPC, so the function could not reach it"),
        (REDIS, Network(), Vpc("", ""),
         "SESRELAY_STATE_URL is a redis:// URL but serverless.yml names no vpcConfig; TencentDB "
         "for Redis answers only inside its VPC, so the function could not reach it"),
        (REDIS, Network(vpc=Vpc("", "")), None,
         "SESRELAY_STATE_URL is a redis:// URL but serverless.yml says vpcConfig: {} (no VPC)"),
    ],
)  # fmt: skip
def test_each_finding_says_why_in_one_sentence(
    environment: dict[str, str], network: Network, now: Vpc | None, start: str
) -> None:
    (finding,) = shape.findings(environment, network, now)
    assert finding.startswith(start)
    assert not re.search(r"\w[.!?] [A-Z]", finding)  # one sentence
    assert "secret-password" not in finding
    assert "/tmp/s" not in finding


def test_the_shared_store_wants_redis() -> None:
    (finding,) = shape.findings({}, IN_VPC, None)
    assert "a retry reaching another instance could send twice" in finding
    assert "redis://... or rediss://..." in finding


def test_a_vpc_set_by_hand_is_named_in_the_finding() -> None:
    (finding,) = shape.findings(REDIS, Network(), Vpc("vpc-2ari9m7h", "subnet-0vmgq4v2"))
    assert finding.endswith(
        "(it is in vpc-2ari9m7h, subnet-0vmgq4v2 now, set outside serverless.yml: name that VPC "
        "in inputs.vpcConfig so that every deploy keeps it)"
    )


@pytest.mark.parametrize(
    ("environment", "network"),
    [
        (REDIS, IN_VPC),
        ({"SESRELAY_STATE_URL": "rediss://:pw@redis.example.com:6380/0"}, Network()),
        ({"SESRELAY_STATE_URL": "REDIS://:pw@10.0.0.5:6379/0"}, IN_VPC),
    ],
)
def test_the_production_shape_has_no_finding(environment: dict[str, str], network: Network) -> None:
    assert shape.findings(environment, network, None) == []
