"""`sesrelay deploy` end to end against the SCF emulator, offline: the shipped serverless.yml,
the official SDK, and SCF's asynchronous states on a clock that the deployer's waits move."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import urllib.request
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from sesrelay.clock import ManualClock
from sesrelay.deploy.converge import function_url, normalize_sha256, trigger_state
from sesrelay.deploy.deploy import DeployOptions, run_deploy
from sesrelay.emulator import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, EmulatorServer
from sesrelay.emulator.rawclient import call
from sesrelay.emulator.scf.service import VERSION, ScfService

ROOT = Path(__file__).resolve().parents[2]
SETTLE = 3.0
#: The deployer's variables; none of these values may ever appear in its output.
VALUES = {
    "SESRELAY_API_KEY_SHA256": hashlib.sha256(b"sr_live_key").hexdigest(),
    "SESRELAY_STATE_URL": "redis://:hunter2-redis-password@10.0.0.5:6379/0",
    "SESRELAY_ALLOWED_SENDERS": "@example.com",
    "SESRELAY_SES_REGION": "ap-guangzhou",
    "GITHUB_WEBHOOK_SECRET": "gh-webhook-secret-value",
    "STRIPE_WEBHOOK_SECRET": "whsec_stripe-secret-value",
    "SESRELAY_SES_EVENTS_TOKEN": "ses-events-token-value-0123456789",
}
#: The deployer's network: the VPC and subnet of the Redis instance (not secrets).
NETWORK = {"SESRELAY_VPC_ID": "vpc-2ari9m7h", "SESRELAY_SUBNET_ID": "subnet-0vmgq4v2"}
PLAN_LINE = re.compile(r"^  (create|update|delete|no change|ignored) ")
CHANGE_ACTIONS = (
    "CreateFunction",
    "UpdateFunctionCode",
    "UpdateFunctionConfiguration",
    "UpdateFunctionEventInvokeConfig",
    "CreateTrigger",
    "UpdateTrigger",
    "DeleteTrigger",
)


@dataclass
class Result:
    code: int
    out: str
    err: str


@dataclass
class Project:
    """A copy of the shipped serverless.yml and sesrelay.yaml, a small zip, and the emulator."""

    root: Path
    srv: EmulatorServer
    scf: ScfService
    clock: ManualClock

    def edit(self, old: str, new: str) -> None:
        path = self.root / "serverless.yml"
        text = path.read_text(encoding="utf-8")
        assert old in text, old
        path.write_text(text.replace(old, new), encoding="utf-8")

    def deploy(
        self,
        environ: dict[str, str] | None = None,
        network: dict[str, str] | None = None,
        **options: Any,
    ) -> Result:
        """`sesrelay deploy` of the project; `environ` replaces VALUES, `network` NETWORK."""
        settings: dict[str, Any] = {"endpoint": self.srv.url, "poll_seconds": 1.0, **options}
        opts = DeployOptions(
            serverless=self.root / "serverless.yml",
            config=self.root / "sesrelay.yaml",
            zip_path=self.root / "sesrelay-scf.zip",
            **settings,
        )
        out, err = io.StringIO(), io.StringIO()
        env = {
            **(VALUES if environ is None else environ),
            **(NETWORK if network is None else network),
        }
        code = run_deploy(opts, environ=env, out=out, err=err, clock=self.clock)
        return Result(code, out.getvalue(), err.getvalue())

    def counts(self) -> Counter[str]:
        return Counter(self.srv.call_counts("scf"))

    def function(self) -> dict[str, Any]:
        (fn,) = self.scf.functions()
        return fn


def make_zip(version: str = "1") -> bytes:
    """The same bytes for the same version: entries carry a fixed time, not the clock's (whose
    2-second steps would make two calls a moment apart differ)."""
    buffer = io.BytesIO()
    stamp = (1980, 1, 1, 0, 0, 0)
    with zipfile.ZipFile(buffer, "w") as archive:
        handler = f"VERSION = {version!r}\ndef main_handler(e, c):\n    pass\n"
        archive.writestr(zipfile.ZipInfo("handler.py", stamp), handler)
        archive.writestr(zipfile.ZipInfo("sesrelay.yaml", stamp), "version: 1\n")
    return buffer.getvalue()


def config_with_all_jobs() -> str:
    """The repository's sesrelay.yaml: it defines every job the shipped timers name."""
    return (ROOT / "sesrelay.yaml").read_text(encoding="utf-8")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    for name in list(os.environ):
        if name.startswith(("SESRELAY_", "TENCENTCLOUD_")):
            monkeypatch.delenv(name)
    # The SDK's credential chain reads these; they are the emulator's public fake keys.
    monkeypatch.setenv("TENCENTCLOUD_SECRET_ID", DEFAULT_SECRET_ID)
    monkeypatch.setenv("TENCENTCLOUD_SECRET_KEY", DEFAULT_SECRET_KEY)
    (tmp_path / "serverless.yml").write_bytes((ROOT / "serverless.yml").read_bytes())
    (tmp_path / "sesrelay.yaml").write_text(config_with_all_jobs(), encoding="utf-8")
    (tmp_path / "sesrelay-scf.zip").write_bytes(make_zip())
    clock = ManualClock()
    with EmulatorServer(clock=clock, rate_limit=None) as srv:
        scf = ScfService(srv.clock, settle_seconds=SETTLE)
        srv.add_service(scf)
        yield Project(tmp_path, srv, scf, clock)


def assert_no_secret_in(result: Result) -> None:
    text = result.out + result.err
    for name, value in VALUES.items():
        if name != "SESRELAY_SES_REGION" and not value.startswith("@"):
            assert value not in text, name
    assert DEFAULT_SECRET_KEY not in text


def changes(before: Counter[str], after: Counter[str]) -> dict[str, int]:
    return {a: n for a, n in (after - before).items() if a in CHANGE_ACTIONS}


# -- acceptance -----------------------------------------------------------------------------------


def test_from_nothing_the_function_url_and_timers_exist(project: Project) -> None:
    result = project.deploy()
    assert result.code == 0, result.err
    fn = project.function()
    assert fn["Status"] == "Active"
    assert (fn["FunctionName"], fn["Runtime"], fn["Handler"]) == (
        "sesrelay",
        "Python3.10",
        "handler.main_handler",
    )
    assert (fn["MemorySize"], fn["Timeout"], fn["Role"]) == (128, 30, "SCF_SesrelayRole")
    assert {v["Key"]: v["Value"] for v in fn["Environment"]["Variables"]} == VALUES
    assert fn["CodeSha256"] == hashlib.sha256(make_zip()).hexdigest()
    assert fn["AsyncTriggerConfig"] == {"MsgTTL": 21600, "RetryConfig": [{"RetryNum": 2}]}
    triggers = {t["TriggerName"]: t for t in fn["Triggers"]}
    assert set(triggers) == {"function-url", "weekly-digest", "campaigns-finisher"}
    url = triggers["function-url"]
    assert (url["Type"], url["Qualifier"], url["Enable"]) == ("http", "$DEFAULT", 1)
    desc = json.loads(url["TriggerDesc"])
    assert desc["AuthType"] == "NONE"
    assert desc["NetConfig"]["EnableExtranet"] is True
    weekly = triggers["weekly-digest"]
    assert json.loads(weekly["TriggerDesc"]) == {"cron": "0 0 9 * * MON *"}
    assert json.loads(weekly["CustomArgument"]) == {"job": "weekly-digest"}
    finisher = triggers["campaigns-finisher"]
    assert json.loads(finisher["TriggerDesc"]) == {"cron": "0 * * * * * *"}
    assert json.loads(finisher["CustomArgument"]) == {"job": "campaigns-finisher"}
    assert f"function URL: {desc['NetConfig']['ExtranetUrl']}" in result.out
    assert changes(Counter(), project.counts()) == {"CreateFunction": 1, "CreateTrigger": 3}
    assert project.clock.slept  # it waited for Creating -> Active before adding triggers
    assert_no_secret_in(result)


def test_a_second_deploy_makes_no_change_calls(project: Project) -> None:
    assert project.deploy().code == 0
    before = project.counts()
    again = project.deploy()
    assert again.code == 0, again.err
    assert changes(before, project.counts()) == {}
    assert "no changes" in again.out
    assert "function URL: https://" in again.out
    assert_no_secret_in(again)


def test_a_changed_cron_is_exactly_one_update_trigger(project: Project) -> None:
    assert project.deploy().code == 0
    project.edit('cronExpression: "0 0 9 * * MON *"', 'cronExpression: "0 30 8 * * MON-FRI *"')
    before = project.counts()
    result = project.deploy()
    assert result.code == 0, result.err
    assert changes(before, project.counts()) == {"UpdateTrigger": 1}
    assert "update     trigger timer weekly-digest" in result.out
    assert "cron '0 0 9 * * MON *' -> '0 30 8 * * MON-FRI *'" in result.out
    weekly = next(t for t in project.function()["Triggers"] if t["TriggerName"] == "weekly-digest")
    assert json.loads(weekly["TriggerDesc"]) == {"cron": "0 30 8 * * MON-FRI *"}


def test_an_invalid_file_names_each_key_and_calls_nothing(project: Project) -> None:
    project.edit("memorySize: 128", "memorySize: 200")
    project.edit("runtime: Python3.10", "runtime: Python3.9")
    project.edit('cronExpression: "0 * * * * * *"', 'cronExpression: "0 * * * *  * * *"')
    project.edit("    - http:", "    - apigw:\n        parameters: {}\n    - http:")
    result = project.deploy()
    assert result.code == 1
    for key in (
        "inputs.memorySize",
        "inputs.runtime",
        "inputs.events[0].apigw",
        "inputs.events[3].timer.parameters.cronExpression",
    ):
        assert f"serverless.yml: {key}: " in result.err, key
    assert project.counts() == Counter()


def test_an_unset_variable_is_named_and_nothing_is_called(project: Project) -> None:
    partial = {k: v for k, v in VALUES.items() if k not in ("GITHUB_WEBHOOK_SECRET",)}
    for dry_run in (False, True):
        result = project.deploy(environ=partial, dry_run=dry_run)
        assert result.code == 1
        assert result.err.splitlines() == [
            f"{project.root / 'serverless.yml'}: inputs.environment.variables."
            "GITHUB_WEBHOOK_SECRET: ${env:GITHUB_WEBHOOK_SECRET} is not set"
        ]  # said once: not again as a variable sesrelay.yaml needs
    assert project.counts() == Counter()


def test_a_secret_the_config_needs_left_empty_stops_the_deploy(project: Project) -> None:
    for dry_run in (False, True):  # a dry run reports what the deploy would refuse
        result = project.deploy(environ={**VALUES, "STRIPE_WEBHOOK_SECRET": ""}, dry_run=dry_run)
        assert result.code == 1
        assert result.err.splitlines() == [
            f"{project.root / 'sesrelay.yaml'}: webhooks.stripe-payments.secret_env: the function "
            "needs STRIPE_WEBHOOK_SECRET, but its value in "
            f"{project.root / 'serverless.yml'} resolves to empty, and SCF drops empty variables"
        ]
        assert result.out == ""
    assert project.counts() == Counter()


def test_a_variable_the_config_needs_must_be_passed_by_serverless_yml(project: Project) -> None:
    project.edit("      GITHUB_WEBHOOK_SECRET: ${env:GITHUB_WEBHOOK_SECRET}\n", "")
    result = project.deploy(dry_run=True)
    assert result.code == 1
    assert (
        "webhooks.github-releases.secret_env: the function needs GITHUB_WEBHOOK_SECRET, but "
        f"{project.root / 'serverless.yml'} does not set it: add "
        "`GITHUB_WEBHOOK_SECRET: ${env:GITHUB_WEBHOOK_SECRET}` under inputs.environment.variables"
    ) in result.err
    assert project.counts() == Counter()


def test_config_and_serverless_problems_are_reported_together(project: Project) -> None:
    config = project.root / "sesrelay.yaml"
    text = config.read_text(encoding="utf-8")
    subject = "      Subject: \"join('', ['New release ', body.release.tag_name])\"\n"
    assert subject in text
    config.write_text(text.replace(subject, ""), encoding="utf-8")
    project.edit("memorySize: 128", "memorySize: 200")
    result = project.deploy(dry_run=True)
    assert result.code == 1
    missing = (
        f"{config}: webhooks.github-releases.send.Subject: is required, and this mapping never "
        "sets it: every delivery would be refused (422)"
    )
    assert result.err.splitlines() == [
        f"{project.root / 'serverless.yml'}: inputs.memorySize: must be 64, or 128 to 3072 in "
        "steps of 128 (MB)",
        missing,
    ]
    # With serverless.yml right, the config is judged against the function's environment.
    project.edit("memorySize: 200", "memorySize: 128")
    result = project.deploy(environ={**VALUES, "SESRELAY_ALLOWED_SENDERS": "@other.example"})
    assert result.code == 1
    assert missing in result.err.splitlines()
    assert f"{config}: jobs.welcome-ana.params.FromEmailAddress: " in result.err
    assert project.counts() == Counter()
    assert_no_secret_in(result)


# -- plans and convergence ------------------------------------------------------------------------


def test_dry_run_prints_the_plan_and_changes_nothing(project: Project) -> None:
    result = project.deploy(dry_run=True)
    assert result.code == 0, result.err
    assert "[dry run]" in result.out
    assert "create     function sesrelay" in result.out
    assert "create     env SESRELAY_STATE_URL" in result.out
    assert "create     trigger http function-url" in result.out
    assert "function URL: (created on deploy)" in result.out
    assert changes(Counter(), project.counts()) == {}
    assert project.scf.functions() == []
    assert_no_secret_in(result)


def test_the_plan_of_a_new_function_creates_everything(project: Project) -> None:
    for dry_run in (True, False):
        result = project.deploy(dry_run=dry_run)
        assert result.code == 0, result.err
        lines = [line for line in result.out.splitlines() if PLAN_LINE.match(line)]
        assert len(lines) > 10, result.out
        assert [line for line in lines if not line.startswith("  create ")] == []
        # SCF's default retry settings are part of the creation, not "no change"
        assert "  create     asyncRetry  (retryNum 2, msgTTL 21600 s)" in lines
        assert "no change" not in result.out
    assert project.function()["AsyncTriggerConfig"] == {
        "MsgTTL": 21600,
        "RetryConfig": [{"RetryNum": 2}],
    }


def test_code_and_settings_change_in_order_waiting_for_active(project: Project) -> None:
    assert project.deploy().code == 0
    (project.root / "sesrelay-scf.zip").write_bytes(make_zip("2"))
    project.edit("memorySize: 128", "memorySize: 256")
    before = project.counts()
    rotated = {**VALUES, "SESRELAY_STATE_URL": "redis://:new-password-value@10.0.0.6:6379/0"}
    result = project.deploy(environ=rotated)
    assert result.code == 0, result.err
    # The emulator refuses a configuration update while the code update is still settling.
    assert changes(before, project.counts()) == {
        "UpdateFunctionCode": 1,
        "UpdateFunctionConfiguration": 1,
    }
    fn = project.function()
    assert (fn["Status"], fn["MemorySize"]) == ("Active", 256)
    assert fn["CodeSha256"] == hashlib.sha256(make_zip("2")).hexdigest()
    assert "update     env SESRELAY_STATE_URL  (value)" in result.out
    assert "no change  env GITHUB_WEBHOOK_SECRET" in result.out
    assert "new-password-value" not in result.out


def test_removed_timer_and_retry_settings_converge(project: Project) -> None:
    assert project.deploy().code == 0
    text = (project.root / "serverless.yml").read_text(encoding="utf-8")
    cut = text.index("    - timer:\n        parameters:\n          name: campaigns-finisher")
    (project.root / "serverless.yml").write_text(text[:cut], encoding="utf-8")
    project.edit("retryNum: 2", "retryNum: 0")
    project.edit("msgTTL: 21600", "msgTTL: 3600")
    before = project.counts()
    result = project.deploy()
    assert result.code == 0, result.err
    assert changes(before, project.counts()) == {
        "DeleteTrigger": 1,
        "UpdateFunctionEventInvokeConfig": 1,
    }
    fn = project.function()
    assert {t["TriggerName"] for t in fn["Triggers"]} == {"function-url", "weekly-digest"}
    assert fn["AsyncTriggerConfig"] == {"MsgTTL": 3600, "RetryConfig": [{"RetryNum": 0}]}


def test_an_empty_value_leaves_the_variable_unset(project: Project) -> None:
    # SESRELAY_STATE_URL is optional (sesrelay.yaml does not name it): empty, it is left off.
    result = project.deploy(environ={**VALUES, "SESRELAY_STATE_URL": ""})
    assert result.code == 0, result.err
    assert "SESRELAY_STATE_URL resolved to an empty value" in result.out
    keys = {v["Key"] for v in project.function()["Environment"]["Variables"]}
    assert keys == set(VALUES) - {"SESRELAY_STATE_URL"}


def test_a_change_already_in_progress_is_waited_for(project: Project) -> None:
    assert project.deploy().code == 0
    busy = call(
        project.srv.endpoint, "UpdateFunctionConfiguration",
        {"FunctionName": "sesrelay", "Timeout": 10}, service="scf", version=VERSION,
    )  # fmt: skip
    assert busy.error_code is None
    project.edit("timeout: 30", "timeout: 60")
    result = project.deploy()
    assert result.code == 0, result.err
    assert "function is Updating (another change in progress); waiting for Active" in result.out
    assert project.function()["Timeout"] == 60


def test_a_change_refused_as_busy_is_retried_once_active(project: Project) -> None:
    assert project.deploy().code == 0
    # As when GetFunction still says Active a moment after SCF accepted the previous change.
    project.srv.inject_fault(
        "UpdateFunctionConfiguration", "error", code="FailedOperation.FunctionStatusError"
    )
    project.edit("timeout: 30", "timeout: 45")
    before = project.counts()
    result = project.deploy()
    assert result.code == 0, result.err
    assert "function busy (FailedOperation.FunctionStatusError); waiting to retry" in result.out
    assert changes(before, project.counts()) == {"UpdateFunctionConfiguration": 2}
    assert project.function()["Timeout"] == 45


def test_a_failed_function_stops_the_deploy(project: Project) -> None:
    broken = io.BytesIO()
    with zipfile.ZipFile(broken, "w") as archive:
        archive.writestr("index.py", "x = 1\n")
    params = {
        "FunctionName": "sesrelay",
        "Handler": "handler.main_handler",
        "Runtime": "Python3.10",
        "Code": {"ZipFile": base64.b64encode(broken.getvalue()).decode()},
    }
    created = call(project.srv.endpoint, "CreateFunction", params, service="scf", version=VERSION)
    assert created.error_code is None
    project.clock.advance(SETTLE)
    result = project.deploy()
    assert result.code == 1
    assert "is CreateFailed (handler.py is not at the root" in result.err


def test_a_new_runtime_for_an_existing_function_is_refused(project: Project) -> None:
    params = {
        "FunctionName": "sesrelay",
        "Handler": "handler.main_handler",
        "Runtime": "Python3.9",
        "Code": {"ZipFile": base64.b64encode(make_zip()).decode()},
    }
    assert call(project.srv.endpoint, "CreateFunction", params, service="scf", version=VERSION)
    project.clock.advance(SETTLE)
    before = project.counts()
    result = project.deploy()
    assert result.code == 1
    assert "runtime Python3.9 -> Python3.10: SCF cannot change the runtime" in result.err
    assert changes(before, project.counts()) == {}


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("no-zip", "not found: build it with `sesrelay package`"),
        ("no-handler", "has no handler.py at its root"),
        ("http-endpoint", "plain http is allowed only to a loopback endpoint"),
        ("no-credentials", "no Tencent Cloud credentials"),
    ],
)
def test_refusals_before_any_call(
    project: Project, monkeypatch: pytest.MonkeyPatch, setup: str, message: str
) -> None:
    options: dict[str, Any] = {}
    if setup == "no-zip":
        (project.root / "sesrelay-scf.zip").unlink()
    elif setup == "no-handler":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("index.py", "")
        (project.root / "sesrelay-scf.zip").write_bytes(buffer.getvalue())
    elif setup == "http-endpoint":
        options["endpoint"] = "http://scf.example.com"
    else:
        # Only the environment link of the SDK's chain is removed: the profile, CVM and TKE
        # links find nothing on a test machine either.
        monkeypatch.delenv("TENCENTCLOUD_SECRET_ID")
        monkeypatch.setenv("HOME", str(project.root))
    result = project.deploy(**options)
    assert result.code == 1
    assert message in result.err
    assert project.counts() == Counter()


# -- the network (vpcConfig) and the logs (cls) ----------------------------------------------------

VPC_BLOCK = (
    "  vpcConfig:\n"
    "    vpcId: ${env:SESRELAY_VPC_ID}             # vpc-xxxxxxxx\n"
    "    subnetId: ${env:SESRELAY_SUBNET_ID}       # subnet-xxxxxxxx\n"
)
CLS_COMMENTED = (
    "  # cls:\n"
    "  #   logsetId: ${env:SESRELAY_CLS_LOGSET_ID}\n"
    "  #   topicId: ${env:SESRELAY_CLS_TOPIC_ID}\n"
)
CLS_BLOCK = (
    "  cls:\n"
    "    logsetId: ${env:SESRELAY_CLS_LOGSET_ID}\n"
    "    topicId: ${env:SESRELAY_CLS_TOPIC_ID}\n"
)
LOGS = {
    "SESRELAY_CLS_LOGSET_ID": "0f8e3ad1-5c2b-4d7e-9a61-2b7c4e9d1f30",
    "SESRELAY_CLS_TOPIC_ID": "7d1c9b2e-4a3f-4e8d-b6c5-9e0a1f2d3c4b",
}
OTHER_TOPIC = "c4b3a291-8f7e-4d6c-a5b4-3c2d1e0f9a8b"


def vpc_of(fn: dict[str, Any]) -> tuple[str, str]:
    return fn["VpcConfig"]["VpcId"], fn["VpcConfig"]["SubnetId"]


def test_a_file_with_vpc_config_creates_the_function_in_that_vpc(project: Project) -> None:
    result = project.deploy()
    assert result.code == 0, result.err
    assert "  create     vpcConfig  (vpc-2ari9m7h, subnet-0vmgq4v2)" in result.out
    assert vpc_of(project.function()) == ("vpc-2ari9m7h", "subnet-0vmgq4v2")
    assert changes(Counter(), project.counts()) == {"CreateFunction": 1, "CreateTrigger": 3}
    assert "warning" not in result.out  # redis:// in the VPC: the production shape


def test_a_changed_subnet_is_one_configuration_update_then_nothing(project: Project) -> None:
    assert project.deploy().code == 0
    before = project.counts()
    moved = project.deploy(network={**NETWORK, "SESRELAY_SUBNET_ID": "subnet-7hq2kx0c"})
    assert moved.code == 0, moved.err
    assert changes(before, project.counts()) == {"UpdateFunctionConfiguration": 1}
    assert (
        "  update     vpcConfig  (vpc-2ari9m7h, subnet-0vmgq4v2 -> vpc-2ari9m7h, subnet-7hq2kx0c)"
        in moved.out
    )
    assert vpc_of(project.function()) == ("vpc-2ari9m7h", "subnet-7hq2kx0c")
    before = project.counts()
    again = project.deploy(network={**NETWORK, "SESRELAY_SUBNET_ID": "subnet-7hq2kx0c"})
    assert again.code == 0, again.err
    assert changes(before, project.counts()) == {}
    assert "no changes" in again.out


def test_a_file_without_vpc_config_leaves_the_vpc_alone(project: Project) -> None:
    assert project.deploy().code == 0
    project.edit(VPC_BLOCK, "")
    before = project.counts()
    same = project.deploy(network={})
    assert same.code == 0, same.err
    assert changes(before, project.counts()) == {}
    assert (
        "  ignored    vpcConfig  (not in serverless.yml; left as it is: vpc-2ari9m7h, "
        "subnet-0vmgq4v2)"
    ) in same.out
    project.edit("timeout: 30", "timeout: 45")  # another setting changes: the VPC is not sent
    resized = project.deploy(network={})
    assert resized.code == 0, resized.err
    assert changes(before, project.counts()) == {"UpdateFunctionConfiguration": 1}
    fn = project.function()
    assert (fn["Timeout"], vpc_of(fn)) == (45, ("vpc-2ari9m7h", "subnet-0vmgq4v2"))


def test_an_empty_vpc_config_takes_the_function_out_of_its_vpc(project: Project) -> None:
    assert project.deploy().code == 0
    project.edit(VPC_BLOCK, "  vpcConfig: {}\n")
    before = project.counts()
    state_url = {**VALUES, "SESRELAY_STATE_URL": "rediss://:pw@redis.example.com:6380/0"}
    result = project.deploy(environ=state_url, network={})
    assert result.code == 0, result.err
    assert (
        "  delete     vpcConfig  (was vpc-2ari9m7h, subnet-0vmgq4v2; serverless.yml says {})"
    ) in result.out
    assert changes(before, project.counts()) == {"UpdateFunctionConfiguration": 1}
    assert vpc_of(project.function()) == ("", "")
    again = project.deploy(environ=state_url, network={})
    assert "  no change  vpcConfig  (no VPC)" in again.out
    assert changes(before, project.counts()) == {"UpdateFunctionConfiguration": 1}


def test_logs_go_to_the_named_cls_topic_and_converge(project: Project) -> None:
    project.edit(CLS_COMMENTED, CLS_BLOCK)
    created = project.deploy(network={**NETWORK, **LOGS})
    assert created.code == 0, created.err
    logset, topic = LOGS["SESRELAY_CLS_LOGSET_ID"], LOGS["SESRELAY_CLS_TOPIC_ID"]
    assert f"  create     cls  (logset {logset}, topic {topic})" in created.out
    fn = project.function()
    assert (fn["ClsLogsetId"], fn["ClsTopicId"]) == (logset, topic)
    before = project.counts()
    moved = project.deploy(network={**NETWORK, **LOGS, "SESRELAY_CLS_TOPIC_ID": OTHER_TOPIC})
    assert moved.code == 0, moved.err
    assert changes(before, project.counts()) == {"UpdateFunctionConfiguration": 1}
    assert f"topic {topic} -> logset {logset}, topic {OTHER_TOPIC})" in moved.out
    assert project.function()["ClsTopicId"] == OTHER_TOPIC
    before = project.counts()
    again = project.deploy(network={**NETWORK, **LOGS, "SESRELAY_CLS_TOPIC_ID": OTHER_TOPIC})
    assert (again.code, changes(before, project.counts())) == (0, {})
    project.edit(CLS_BLOCK, "")
    left = project.deploy()
    assert (left.code, changes(before, project.counts())) == (0, {})
    assert (
        f"  ignored    cls  (not in serverless.yml; logs go to logset {logset}, topic " in left.out
    )
    assert project.function()["ClsTopicId"] == OTHER_TOPIC


def test_without_cls_the_function_keeps_scfs_own_log_topic(project: Project) -> None:
    assert project.deploy().code == 0
    default = project.scf.state.default_cls
    fn = project.function()
    assert (fn["ClsLogsetId"], fn["ClsTopicId"]) == default


UNSET_SUBNET = "inputs.vpcConfig.subnetId: ${env:SESRELAY_SUBNET_ID} is not set"
EMPTY_VPC = (
    "inputs.vpcConfig.vpcId: ${env:SESRELAY_VPC_ID} is empty; set it, or write vpcConfig: {} in "
    "serverless.yml for no VPC"
)
BAD_SUBNET = (
    "inputs.vpcConfig.subnetId: ${env:SESRELAY_SUBNET_ID} must be subnet- and 8 lower-case "
    "letters or digits"
)


@pytest.mark.parametrize(
    ("network", "message"),
    [
        ({"SESRELAY_VPC_ID": "vpc-2ari9m7h"}, UNSET_SUBNET),
        ({**NETWORK, "SESRELAY_VPC_ID": ""}, EMPTY_VPC),
        ({**NETWORK, "SESRELAY_SUBNET_ID": "vpc-2ari9m7h"}, BAD_SUBNET),
    ],
)
def test_a_network_variable_unset_empty_or_malformed_stops_everything(
    project: Project, network: dict[str, str], message: str
) -> None:
    for dry_run in (True, False):
        result = project.deploy(network=network, dry_run=dry_run)
        assert result.code == 1
        assert f"{project.root / 'serverless.yml'}: {message}" in result.err
    assert project.counts() == Counter()


# -- the production shape -------------------------------------------------------------------------


def test_a_state_url_that_is_not_redis_is_a_warning_and_with_strict_an_error(
    project: Project,
) -> None:
    local = {**VALUES, "SESRELAY_STATE_URL": "sqlite:////tmp/sesrelay-state.sqlite3"}
    planned = project.deploy(environ=local, dry_run=True)
    assert planned.code == 0, planned.err
    (warning,) = [line for line in planned.out.splitlines() if "warning:" in line]
    assert warning.startswith("  warning: SESRELAY_STATE_URL is a sqlite:// URL; SCF runs the ")
    assert "a retry reaching another instance could send twice" in warning
    assert "/tmp/sesrelay-state" not in planned.out  # the URL itself is never shown
    strict = project.deploy(environ=local, strict=True)
    assert strict.code == 1
    assert strict.err.splitlines() == [
        "sesrelay deploy: 1 production-shape warning(s) and --strict: nothing was changed"
    ]
    assert warning in strict.out
    assert changes(Counter(), project.counts()) == {}
    assert project.scf.functions() == []


def test_an_unset_state_url_is_a_warning(project: Project) -> None:
    result = project.deploy(environ={**VALUES, "SESRELAY_STATE_URL": ""}, dry_run=True)
    assert result.code == 0, result.err
    assert "  warning: SESRELAY_STATE_URL is not set for the function; SCF runs" in result.out


def test_redis_without_vpc_config_is_a_warning_naming_a_vpc_set_by_hand(
    project: Project,
) -> None:
    assert project.deploy().code == 0  # in the VPC, as SCF now has it
    project.edit(VPC_BLOCK, "")
    result = project.deploy(network={}, dry_run=True)
    assert result.code == 0, result.err
    assert (
        "  warning: SESRELAY_STATE_URL is a redis:// URL but serverless.yml names no vpcConfig; "
        "TencentDB for Redis answers only inside its VPC, so the function could not reach it "
        "(it is in vpc-2ari9m7h, subnet-0vmgq4v2 now, set outside serverless.yml: name that VPC "
        "in inputs.vpcConfig so that every deploy keeps it)"
    ) in result.out
    assert project.deploy(network={}, strict=True).code == 1


def test_redis_with_no_vpc_is_a_warning_and_rediss_is_not(project: Project) -> None:
    project.edit(VPC_BLOCK, "  vpcConfig: {}\n")
    plain = project.deploy(network={}, dry_run=True)
    assert "serverless.yml says vpcConfig: {} (no VPC); TencentDB for Redis answers" in plain.out
    tls = {**VALUES, "SESRELAY_STATE_URL": "rediss://:pw@redis.example.com:6380/0"}
    over_tls = project.deploy(environ=tls, network={}, strict=True)
    assert over_tls.code == 0, over_tls.err
    assert "warning" not in over_tls.out


# -- the templates folder -------------------------------------------------------------------------

TEMPLATE_WRITES = ("CreateEmailTemplate", "UpdateEmailTemplate", "DeleteEmailTemplate")
RECEIPT = "<!--\nsubject: Your receipt\n-->\n<p>Paid {{amount}}.</p>\n"


def with_templates(project: Project) -> Path:
    """The shipped folder (the emulator's seed has both templates) and one new template."""
    folder = project.root / "templates"
    shutil.copytree(ROOT / "templates", folder)
    (folder / "receipt.html").write_text(RECEIPT, encoding="utf-8")
    return folder


def ses_writes(project: Project) -> dict[str, int]:
    return {a: n for a, n in project.srv.call_counts("ses").items() if a in TEMPLATE_WRITES}


def test_deploy_syncs_the_templates_after_the_function(project: Project) -> None:
    folder = with_templates(project)
    result = project.deploy()
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    plan = lines.index(f"templates in {folder} -> SES ap-guangzhou at {project.srv.url}:")
    assert lines[plan + 1 : plan + 5] == [
        "  create     template receipt  (new; Tencent reviews it)",
        "  no change  template weekly-digest  (#100002, approved)",
        "  no change  template welcome  (#100001, approved)",
        "  keep       template pending-review  (#100003, under review; not in the folder: "
        "--prune deletes it)",
    ]
    created = lines.index("  created    template receipt  (#100004, under review)")
    assert plan < created < lines.index("deployed")
    assert ses_writes(project) == {"CreateEmailTemplate": 1}  # a deploy never deletes
    assert changes(Counter(), project.counts()) == {"CreateFunction": 1, "CreateTrigger": 3}
    again = project.deploy()
    assert again.code == 0, again.err
    assert "no changes" in again.out
    assert "  no change  template receipt  (#100004, under review; sends with it fail until " in (
        again.out
    )
    assert ses_writes(project) == {"CreateEmailTemplate": 1}


def test_a_dry_run_plans_the_templates_and_writes_nothing(project: Project) -> None:
    with_templates(project)
    result = project.deploy(dry_run=True)
    assert result.code == 0, result.err
    assert "  create     template receipt  (new; Tencent reviews it)" in result.out
    assert "dry run: nothing was changed" in result.out
    assert ses_writes(project) == {}
    assert project.scf.functions() == []


def test_a_template_change_alone_is_deployed(project: Project) -> None:
    folder = with_templates(project)
    assert project.deploy().code == 0
    (folder / "welcome.txt").write_text("Hi {{name}}.\n", encoding="utf-8")
    before = project.counts()
    result = project.deploy()
    assert result.code == 0, result.err
    assert changes(before, project.counts()) == {}
    assert "  update     template welcome  (#100001, approved; text changed, reviewed again)" in (
        result.out
    )
    assert "  updated    template welcome  (#100001, under review)" in result.out
    assert "deployed" in result.out
    assert ses_writes(project) == {"CreateEmailTemplate": 1, "UpdateEmailTemplate": 1}


def test_without_templates_ses_is_not_called(project: Project) -> None:
    with_templates(project)
    result = project.deploy(templates=None)
    assert result.code == 0, result.err
    assert "template" not in result.out
    assert project.srv.call_counts("ses") == {}
    missing = project.deploy(templates=Path("elsewhere"))
    assert f"templates: no folder {project.root / 'elsewhere'}; SES templates left as they are" in (
        missing.out
    )
    assert project.srv.call_counts("ses") == {}


def test_a_broken_template_file_stops_the_deploy_before_any_call(project: Project) -> None:
    folder = with_templates(project)
    (folder / "receipt.html").write_text("<!--\nsubjet: typo\n-->\n<p>x</p>\n", encoding="utf-8")
    result = project.deploy()
    assert result.code == 1
    said = [line for line in result.err.splitlines() if "unknown key 'subjet'" in line]
    assert len(said) == 1, result.err  # once, though both the config check and the folder's see it
    assert f"{folder / 'receipt.html'}: header: unknown key 'subjet'" in said[0]
    assert project.counts() == Counter()
    assert project.srv.call_counts("ses") == {}


def test_a_rejected_template_fails_the_deploy_after_the_rest(project: Project) -> None:
    with_templates(project)
    reject = urllib.request.Request(
        f"{project.srv.url}/_emulator/templates/reject",
        json.dumps({"TemplateID": 100001, "ReviewReason": "spam words"}).encode(),
        method="POST",
    )
    urllib.request.urlopen(reject, timeout=10).close()
    result = project.deploy()
    assert result.code == 1
    assert "deployed" in result.out
    assert "  created    template receipt  (#100004, under review)" in result.out
    assert result.err.splitlines() == [
        "sesrelay deploy: template welcome (#100001) was rejected: spam words; change it and "
        "sync again to submit it for review"
    ]
    assert project.function()["Status"] == "Active"


def test_unreadable_ses_templates_change_nothing(project: Project) -> None:
    with_templates(project)
    with EmulatorServer(port=0) as gone:
        closed = gone.url
    result = project.deploy(ses_endpoint=closed)
    assert result.code == 1
    assert result.err.startswith(
        f"sesrelay deploy: cannot read the SES templates (SES ap-guangzhou at {closed}): "
        "ClientNetworkError: the connection to SES was refused; nothing was changed"
    )
    assert changes(Counter(), project.counts()) == {}


# -- the command line -----------------------------------------------------------------------------


def cli_project(tmp_path: Path) -> dict[str, str]:
    """A project folder (the shipped serverless.yml, a config naming every job, a stand-in zip)
    and the environment `sesrelay deploy` runs with against the emulator."""
    (tmp_path / "serverless.yml").write_bytes((ROOT / "serverless.yml").read_bytes())
    (tmp_path / "sesrelay.yaml").write_text(config_with_all_jobs(), encoding="utf-8")
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "sesrelay-scf.zip").write_bytes(make_zip())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SESRELAY_", "TENCENTCLOUD_"))}
    env.update(VALUES)
    env.update(NETWORK)
    env["PYTHONPATH"] = str(ROOT / "lib")
    env["TENCENTCLOUD_SECRET_ID"] = DEFAULT_SECRET_ID
    env["TENCENTCLOUD_SECRET_KEY"] = DEFAULT_SECRET_KEY
    return env


def deploy_cli(
    tmp_path: Path, env: dict[str, str], *extra: str
) -> subprocess.CompletedProcess[str]:
    """`sesrelay deploy EXTRA` in `tmp_path`, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "sesrelay", "deploy", *extra],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )


def test_the_cli_deploys_then_reports_no_changes(tmp_path: Path) -> None:
    env = cli_project(tmp_path)
    with EmulatorServer(rate_limit=None) as srv:
        srv.add_service(ScfService(srv.clock, settle_seconds=0))
        env["SESRELAY_SCF_ENDPOINT"] = srv.url
        runs = [deploy_cli(tmp_path, env, *extra) for extra in ([], [], ["--dry-run"])]
    first, second, dry = runs
    assert first.returncode == 0, first.stderr
    assert "deployed" in first.stdout
    assert second.returncode == 0, second.stderr
    assert "no changes" in second.stdout
    assert dry.returncode == 0, dry.stderr
    assert "dry run: nothing was changed" in dry.stdout
    url = first.stdout.rsplit("function URL: ", 1)[1].strip()
    assert url.startswith("https://1250000000-")
    assert url in second.stdout


def test_the_cli_syncs_templates_unless_told_not_to(tmp_path: Path) -> None:
    env = cli_project(tmp_path)
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    (tmp_path / "templates" / "receipt.html").write_text(RECEIPT, encoding="utf-8")
    with EmulatorServer(rate_limit=None) as srv:
        srv.add_service(ScfService(srv.clock, settle_seconds=0))
        env["SESRELAY_SCF_ENDPOINT"] = srv.url
        runs = [
            deploy_cli(tmp_path, env, *extra) for extra in (["--dry-run"], ["--no-templates"], [])
        ]
        writes = {a: n for a, n in srv.call_counts("ses").items() if a in TEMPLATE_WRITES}
        url = srv.url
    planned, skipped, deployed = runs
    assert planned.returncode == 0, planned.stderr
    assert f"templates in templates -> SES ap-guangzhou at {url}:" in planned.stdout
    assert "  create     template receipt  (new; Tencent reviews it)" in planned.stdout
    assert skipped.returncode == 0, skipped.stderr
    assert "template" not in skipped.stdout
    assert deployed.returncode == 0, deployed.stderr
    assert "  created    template receipt  (#100004, under review)" in deployed.stdout
    assert writes == {"CreateEmailTemplate": 1}


# -- reading what SCF reports ---------------------------------------------------------------------


def test_code_digests_are_read_as_hex_or_base64() -> None:
    digest = hashlib.sha256(b"zip").digest()
    assert normalize_sha256(digest.hex().upper()) == digest.hex()
    assert normalize_sha256(base64.b64encode(digest).decode()) == digest.hex()
    assert normalize_sha256("md5:abc") is None
    assert normalize_sha256(None) is None


def test_triggers_are_read_whatever_form_scf_returns() -> None:
    timer = {"Type": "timer", "TriggerName": "t", "Qualifier": "$DEFAULT"}
    plain = trigger_state({**timer, "TriggerDesc": "0  * * * * * *", "Enable": "1"})
    wrapped = trigger_state({**timer, "TriggerDesc": '{"cron":"0 * * * * * *"}', "Enable": 1})
    assert plain == wrapped
    assert plain is not None
    assert plain.argument == ""
    assert trigger_state({"Type": "cos", "TriggerName": "bucket"}) is None
    url = {"AuthType": "NONE", "NetConfig": {"EnableIntranet": True, "IntranetUrl": "https://in"}}
    info = {"Type": "http", "TriggerName": "u", "TriggerDesc": json.dumps(url)}
    assert function_url(info) == "https://in"
    assert function_url({"Type": "timer", "TriggerDesc": "{}"}) is None
