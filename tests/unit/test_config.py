"""The config file: its shape (load_config) and every deeper problem at once (check_config)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sesrelay.config.check import check_config, inspect_config, run_config_check
from sesrelay.config.model import ConfigError, ConfigProblem, RelayConfig, load_config
from sesrelay.settings import Settings, default_config_path
from sesrelay.webhooks import GenericHmacOptions

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "sesrelay.yaml"
SECRET_VALUE = "s3cret-value-never-printed-0123456789"
ENV = {
    "GITHUB_WEBHOOK_SECRET": SECRET_VALUE,
    "STRIPE_WEBHOOK_SECRET": "whsec_" + SECRET_VALUE,
    "SESRELAY_SES_EVENTS_TOKEN": "t" * 32,
}

SEND_OK = """\
      action: SendEmail
      FromEmailAddress: "'noreply@example.com'"
      Destination: ["body.email"]
      Subject: "'Hello'"
      Template: {TemplateID: 100001, TemplateData: {name: body.name}}
"""
JOB_OK = """\
    action: SendEmail
    params:
      FromEmailAddress: noreply@example.com
      Destination: [ana@example.org]
      Subject: "Hello {{name}}"
      Template: {TemplateID: 100001, TemplateData: {"name": "Ana"}}
"""


def write(tmp_path: Path, text: str, name: str = "sesrelay.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def source(body: str, send: str = SEND_OK, name: str = "hook") -> str:
    return f"webhooks:\n  {name}:\n{textwrap.indent(body, '    ')}    send:\n{send}"


def problems_at(problems: list[ConfigProblem], path: str) -> list[str]:
    return [problem.message for problem in problems if problem.path == path]


# --- the shipped file -------------------------------------------------------------------------


def test_shipped_config_passes_with_its_secrets_set() -> None:
    assert check_config(SHIPPED, ENV) == []
    config = load_config(SHIPPED)
    assert set(config.jobs) == {"weekly-digest", "welcome-ana", "campaigns-finisher"}
    assert set(config.webhooks) == {"github-releases", "stripe-payments"}
    assert config.ses_events is not None
    assert config.ses_events.blacklist_on == []


def test_shipped_config_without_env_is_fine_and_names_the_variables_it_needs() -> None:
    assert check_config(SHIPPED, {}) == []
    report = inspect_config(SHIPPED, {})
    assert [(need.name, need.path) for need in report.needs] == [
        ("GITHUB_WEBHOOK_SECRET", "webhooks.github-releases.secret_env"),
        ("STRIPE_WEBHOOK_SECRET", "webhooks.stripe-payments.secret_env"),
        ("SESRELAY_SES_EVENTS_TOKEN", "ses_events.token_env"),
    ]
    assert [state for _need, state in report.unmet] == ["unset"] * 3
    assert inspect_config(SHIPPED, ENV).unmet == []


def test_shipped_config_requiring_env_reports_exactly_the_missing_secret_variables() -> None:
    problems = check_config(SHIPPED, {}, require_env=True)
    assert [(problem.path, problem.message) for problem in problems] == [
        (
            "webhooks.github-releases.secret_env",
            "environment variable GITHUB_WEBHOOK_SECRET is not set",
        ),
        (
            "webhooks.stripe-payments.secret_env",
            "environment variable STRIPE_WEBHOOK_SECRET is not set",
        ),
        ("ses_events.token_env", "environment variable SESRELAY_SES_EVENTS_TOKEN is not set"),
    ]
    assert check_config(SHIPPED, ENV, require_env=True) == []


# --- load_config --------------------------------------------------------------------------------


def test_absent_file_is_an_empty_config_unless_required(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    assert load_config(missing, required=False) == RelayConfig()
    with pytest.raises(ConfigError) as caught:
        load_config(missing)
    assert "file not found" in caught.value.problems[0].message


@pytest.mark.parametrize("text", ["", "# only comments\n", "jobs:\nwebhooks:\n"])
def test_empty_file_or_sections_are_an_empty_config(tmp_path: Path, text: str) -> None:
    assert load_config(write(tmp_path, text)) == RelayConfig()


def test_load_config_raises_every_shape_problem(tmp_path: Path) -> None:
    path = write(tmp_path, "jobs:\n  a:\n    action: Send\n    params: {}\n  b:\n    params: 3\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    found = {(p.path, p.message) for p in caught.value.problems}
    assert (
        "jobs.a.action",
        "must be one of 'SendEmail', 'BatchSendEmail' or 'FinishCampaigns'",
    ) in found
    assert ("jobs.b.action", "is required") in found
    assert ("jobs.b.params", "must be a mapping (key: value)") in found
    assert caught.value.code == "config_error"
    assert caught.value.as_dict()["errors"][0]["field"].startswith("jobs.")


def test_json_config_is_accepted(tmp_path: Path) -> None:
    data = {"jobs": {"j": {"action": "SendEmail", "params": {"Subject": "x"}}}}
    config = load_config(write(tmp_path, json.dumps(data), "sesrelay.json"))
    assert config.jobs["j"].params == {"Subject": "x"}


def test_the_default_config_is_the_packaged_json_if_there_is_one(tmp_path: Path) -> None:
    (tmp_path / "sesrelay.yaml").write_text("version: 1\n", encoding="utf-8")
    assert default_config_path(directory=tmp_path) == tmp_path / "sesrelay.yaml"
    (tmp_path / "sesrelay.json").write_text("{}\n", encoding="utf-8")
    assert default_config_path(directory=tmp_path) == tmp_path / "sesrelay.json"
    assert Settings(environ={}).config_path == default_config_path()
    override = {"SESRELAY_CONFIG": str(tmp_path / "other.yaml")}
    assert Settings(environ=override).config_path == tmp_path / "other.yaml"


def test_a_json_config_loads_without_pyyaml(tmp_path: Path) -> None:
    data = {"jobs": {"j": {"action": "FinishCampaigns"}}}
    path = write(tmp_path, json.dumps(data), "sesrelay.json")
    code = (
        "import sys; from pathlib import Path; from sesrelay.config.model import load_config; "
        f"print(sorted(load_config(Path({str(path)!r})).jobs), 'yaml' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO / "lib"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['j'] False"


def test_yaml_dates_stay_text_for_ses(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        jobs:
          later:
            action: BatchSendEmail
            receiver_group: demo
            params:
              FromEmailAddress: noreply@example.com
              Subject: Later
              TaskType: 2
              TimedParam: {BeginTime: 2020-02-01 09:00:00}
              Template: {TemplateID: 1, TemplateData: {}}
        """,
    )
    assert (
        load_config(path).jobs["later"].params["TimedParam"]["BeginTime"] == "2020-02-01 09:00:00"
    )
    # A past BeginTime is judged when the job runs, not when the file is checked.
    assert check_config(path, {}) == []


def test_duplicate_keys_are_refused_with_their_line(tmp_path: Path) -> None:
    path = write(tmp_path, f"jobs:\n  j:\n{JOB_OK}  j:\n{JOB_OK}")
    [problem] = check_config(path, {})
    assert "duplicate key 'j'" in problem.message
    assert "line 9, column 3" in problem.message


def test_invalid_yaml_names_the_position(tmp_path: Path) -> None:
    [problem] = check_config(write(tmp_path, "jobs: [unclosed\n"), {})
    assert problem.path == ""
    assert "line 2" in problem.message


# --- check_config: each kind of problem ---------------------------------------------------------


def test_unknown_scheme(tmp_path: Path) -> None:
    path = write(tmp_path, source("scheme: gitlab\nsecret_env: X\n"))
    messages = problems_at(check_config(path, {"X": "v"}), "webhooks.hook.scheme")
    assert messages == [
        "unknown scheme 'gitlab'; known: github, hmac, shopify, slack, standard-webhooks, stripe"
    ]


def test_missing_and_empty_secret_variables(tmp_path: Path) -> None:
    path = write(tmp_path, source("scheme: github\nsecret_env: [NEW_SECRET, OLD_SECRET]\n"))
    env = {"OLD_SECRET": " "}
    assert check_config(path, env) == []  # information only, unless required
    assert problems_at(check_config(path, env, require_env=True), "webhooks.hook.secret_env") == [
        "environment variable NEW_SECRET is not set",
        "environment variable OLD_SECRET is empty",
    ]
    assert check_config(path, {"NEW_SECRET": "a", "OLD_SECRET": "b"}, require_env=True) == []


def test_a_secret_written_in_place_of_its_variable_name_is_not_echoed(tmp_path: Path) -> None:
    path = write(tmp_path, source("scheme: github\nsecret_env: 'whsec-abc/123+xyz='\n"))
    [problem] = check_config(path, {})
    assert problem.path == "webhooks.hook.secret_env.0"
    assert "environment variable name" in problem.message
    assert "whsec" not in problem.message


def test_invalid_jmespath_and_runtime_only_mistakes(tmp_path: Path) -> None:
    send = """\
      action: SendEmail
      FromEmailAddress: noreply@example.com
      Destination: ["body.email"]
      Subject: "concat('a', body.b)"
      ReplyToAddresses: "join(',')"
      Template: {TemplateID: 1, TemplateData: "body.data[?"}
"""
    path = write(tmp_path, source("scheme: github\nsecret_env: X\nwhen: \"Type == 'x'\"\n", send))
    problems = check_config(path, {"X": "v"})
    assert problems_at(problems, "webhooks.hook.send.FromEmailAddress")[0].startswith(
        "invalid JMESPath: unexpected '@' at column 7"
    )
    assert problems_at(problems, "webhooks.hook.send.Subject") == ["unknown function concat()"]
    assert problems_at(problems, "webhooks.hook.send.ReplyToAddresses") == [
        "join() takes 2 argument(s), not 1"
    ]
    [data] = problems_at(problems, "webhooks.hook.send.Template.TemplateData")
    assert data.startswith("invalid JMESPath: incomplete expression")
    [when] = problems_at(problems, "webhooks.hook.when")
    assert "reads 'Type' from the top of the document" in when
    assert "'text'" in when  # the hint on literals


def test_job_params_that_fail_the_ses_models(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"""\
        jobs:
          long-subject:
            action: SendEmail
            params:
              FromEmailAddress: noreply@example.com
              Destination: [ana@example.org]
              Subject: "{"x" * 101}"
              Template: {{TemplateID: 100001, TemplateData: {{}}}}
          scheduled:
            action: BatchSendEmail
            receiver_group: demo-customers
            params:
              FromEmailAddress: news@example.com
              Subject: Digest
              TaskType: 2
              Template: {{TemplateID: 100002, TemplateData: {{}}}}
          no-group:
            action: BatchSendEmail
            params:
              FromEmailAddress: news@example.com
              Subject: Digest
              TaskType: 1
              Template: {{TemplateID: 100002, TemplateData: {{}}}}
        """,
    )
    problems = check_config(path, {})
    assert problems_at(problems, "jobs.long-subject.params.Subject") == [
        "must be at most 100 characters (SES limit)"
    ]
    [timed] = problems_at(problems, "jobs.scheduled.params.TimedParam")
    assert timed.startswith("is required when TaskType is 2 (scheduled)")
    assert problems_at(problems, "jobs.no-group.params.ReceiverId") == [
        "is required (or set receiver_group to a recipient group name)"
    ]
    assert len(problems) == 3


def test_a_job_too_big_for_an_inline_timer_message(tmp_path: Path) -> None:
    # 50 recipients (the SES maximum) of 90 characters each: valid, but about 4.7 KB.
    addresses = [f"{'x' * 60}{i:02d}@mail.subdomain.example.org" for i in range(50)]
    data = {
        "jobs": {
            "big": {
                "action": "SendEmail",
                "params": {
                    "FromEmailAddress": "noreply@example.com",
                    "Destination": addresses,
                    "Subject": "Hi",
                    "Template": {"TemplateID": 1, "TemplateData": {}},
                },
            }
        }
    }
    [problem] = check_config(write(tmp_path, json.dumps(data), "c.json"), {})
    assert problem.path == "jobs.big.params"
    assert "inline timer Message" in problem.message
    assert "SCF allows 4096" in problem.message


def test_hmac_options_are_required_for_scheme_hmac_and_refused_elsewhere(tmp_path: Path) -> None:
    text = source("scheme: hmac\nsecret_env: X\n") + source(
        "scheme: github\nsecret_env: X\nhmac: {header: x-sig}\n", name="other"
    ).removeprefix("webhooks:\n")
    problems = check_config(write(tmp_path, text), {"X": "v"})
    assert problems_at(problems, "webhooks.hook.hmac") == [
        "is required for scheme hmac (header, encoding, prefix, ...)"
    ]
    assert problems_at(problems, "webhooks.other.hmac") == [
        "is only for scheme hmac; scheme github fixes its own format"
    ]


def hmac_problems(tmp_path: Path, options: str) -> dict[str, str]:
    path = write(tmp_path, source(f"scheme: hmac\nsecret_env: X\nhmac: {options}\n"))
    return {
        p.path.removeprefix("webhooks.hook.hmac."): p.message
        for p in check_config(path, {"X": "v"})
    }


def test_hmac_options_are_checked(tmp_path: Path) -> None:
    found = hmac_problems(tmp_path, "{header: X-Sig, encoding: b64, signed_content: '{ts}.x'}")
    assert found["encoding"] == "must be one of 'hex' or 'base64'"
    assert found["signed_content"].startswith("unknown field {ts}")
    found = hmac_problems(tmp_path, "{header: X-Sig, signed_content: '{timestamp}.{body}'}")
    assert found == {
        "signed_content": "uses {timestamp}, so timestamp_header must name the header it comes from"
    }
    found = hmac_problems(tmp_path, "{header: X-Sig, signed_content: '{id}.{body}'}")
    assert found["signed_content"] == "unknown field {id}; known: {body}, {timestamp}"
    found = hmac_problems(tmp_path, "{header: X-Sig, signed_content: '{body}{body}'}")
    assert found["signed_content"].startswith("must contain {body} exactly once")

    options = "{header: X-Sig, timestamp_header: X-Ts, signed_content: '{timestamp}.{body}'}"
    assert hmac_problems(tmp_path, options) == {}
    hmac = load_config(tmp_path / "sesrelay.yaml").webhooks["hook"].hmac
    assert hmac is not None
    assert (hmac.header, hmac.timestamp_header) == ("x-sig", "x-ts")  # as SCF passes them
    assert hmac.to_options() == GenericHmacOptions(
        header="x-sig", timestamp_header="x-ts", signed_content="{timestamp}.{body}"
    )


def test_unknown_keys_are_reported_with_their_path_and_a_suggestion(tmp_path: Path) -> None:
    text = (
        "webhook: {}\n"
        + f"jobs:\n  j:\n{JOB_OK}    paramz: {{}}\n"
        + source("scheme: github\nsecret_env: X\nsheme: x\n").replace("webhooks:\n", "")
    )
    text = text.replace("  hook:", "webhooks:\n  hook:", 1)
    problems = check_config(write(tmp_path, text), {"X": "v"})
    found = {p.path: p.message for p in problems}
    assert found["webhook"].startswith("unknown key; did you mean 'webhooks'?")
    assert found["jobs.j.paramz"].startswith("unknown key; did you mean 'params'?")
    assert found["webhooks.hook.sheme"].startswith("unknown key; did you mean 'scheme'?")
    assert "known: scheme, secret_env" in found["webhooks.hook.sheme"]


def test_unknown_ses_fields_in_a_send_mapping(tmp_path: Path) -> None:
    send = SEND_OK.replace("Subject:", "subject:").replace("TemplateID", "TemplateId")
    problems = check_config(
        write(tmp_path, source("scheme: github\nsecret_env: X\n", send)), {"X": "v"}
    )
    found = {p.path: p.message for p in problems}
    assert found["webhooks.hook.send.subject"] == (
        "unknown field 'subject': not a SendEmail parameter; did you mean 'Subject'? "
        "(names are case-sensitive)"
    )
    assert found["webhooks.hook.send.Template.TemplateId"].startswith(
        "unknown field 'TemplateId': not a Template parameter; did you mean 'TemplateID'?"
    )


def test_job_level_problems(tmp_path: Path) -> None:
    text = f"""\
jobs:
  tick:
{JOB_OK.replace("Hello {{name}}", "Hello {{tick.dayname}}")}
  zone:
{JOB_OK}    timezone: Mars/Olympus
  group-for-send:
{JOB_OK}    receiver_group: demo
  both-ids:
    action: BatchSendEmail
    receiver_group: demo
    params: {{ReceiverId: 1}}
  bad name!:
{JOB_OK}"""
    problems = check_config(write(tmp_path, text), {})
    found = {p.path: p.message for p in problems}
    assert found["jobs.tick.params.Subject"].startswith("unknown placeholder {{tick.dayname}}")
    assert found["jobs.zone.timezone"].startswith("unknown time zone 'Mars/Olympus'")
    assert found["jobs.group-for-send.receiver_group"] == (
        "is only for BatchSendEmail (SendEmail lists its recipients)"
    )
    assert found["jobs.both-ids.receiver_group"].startswith("must not be used together with")
    assert found["jobs.bad name!"].startswith("invalid name")


def test_ses_events_section(tmp_path: Path) -> None:
    text = "ses_events:\n  token_env: TOKEN\n  blacklist_on: [hard_bounce, bounced]\n"
    problems = check_config(write(tmp_path, text), {"TOKEN": "short-token"})
    found = {p.path: p.message for p in problems}
    assert found["ses_events.blacklist_on.1"].startswith("must be one of 'hard_bounce'")
    # The shape problem stops deeper checks of this section only.
    ok = write(tmp_path, "ses_events:\n  token_env: TOKEN\n")
    [short] = check_config(ok, {"TOKEN": "short-token"})
    assert short.path == "ses_events.token_env"
    assert "shorter than 16 characters" in short.message
    assert "short-token" not in short.message


def test_senders_outside_the_allowed_list(tmp_path: Path) -> None:
    path = write(tmp_path, f"jobs:\n  j:\n{JOB_OK}")
    [problem] = check_config(path, {"SESRELAY_ALLOWED_SENDERS": "@other.example"})
    assert problem.path == "jobs.j.params.FromEmailAddress"
    assert "SESRELAY_ALLOWED_SENDERS" in problem.message
    assert check_config(path, {"SESRELAY_ALLOWED_SENDERS": "@example.com"}) == []


def test_environment_problems_are_reported_too(tmp_path: Path) -> None:
    path = write(tmp_path, f"jobs:\n  j:\n{JOB_OK}")
    [problem] = check_config(path, {"SESRELAY_API_KEY_SHA256": "not-a-digest"})
    assert problem.path == ""
    assert problem.message.startswith("environment variable SESRELAY_API_KEY_SHA256: ")
    assert "not-a-digest" not in problem.message


def test_simple_content_follows_sesrelay_allow_simple(tmp_path: Path) -> None:
    job = JOB_OK.replace(
        '      Template: {TemplateID: 100001, TemplateData: {"name": "Ana"}}',
        "      Simple: {Text: SGVsbG8=}",
    )
    path = write(tmp_path, f"jobs:\n  j:\n{job}")
    assert check_config(path, {}) == []  # unset: a need, listed as information
    [need] = inspect_config(path, {}).needs
    assert (need.shown, need.path) == ("SESRELAY_ALLOW_SIMPLE=true", "jobs.j.params.Simple")
    [problem] = check_config(path, {}, require_env=True)
    assert (problem.path, problem.message) == (
        "jobs.j.params.Simple",
        "needs environment variable SESRELAY_ALLOW_SIMPLE=true, and SESRELAY_ALLOW_SIMPLE is "
        "not set",
    )
    [refused] = check_config(path, {"SESRELAY_ALLOW_SIMPLE": "false"})  # set: judged
    assert refused.path == "jobs.j.params.Simple"
    assert "SESRELAY_ALLOW_SIMPLE=true" in refused.message
    assert check_config(path, {"SESRELAY_ALLOW_SIMPLE": "true"}, require_env=True) == []


def test_every_problem_of_every_entry_is_reported_at_once(tmp_path: Path) -> None:
    text = f"""\
jobs:
  shape:
    action: Nope
    params: {{}}
  deep:
{JOB_OK.replace("Hello {{name}}", "")}
webhooks:
  a:
    scheme: nope
    secret_env: X
    send: {{action: SendEmail}}
  b:
    scheme: github
    secret_env: MISSING
    send: {{action: SendEmail, Subject: "'"}}
"""
    paths = [p.path for p in check_config(write(tmp_path, text), {"X": "v"}, require_env=True)]
    assert paths == [
        "jobs.shape.action",
        "webhooks.a.scheme",
        "jobs.deep.params.Subject",
        # the unknown scheme hides none of source a's other problems
        "webhooks.a.send.FromEmailAddress",
        "webhooks.a.send.Subject",
        "webhooks.a.send.Template",
        "webhooks.a.send.Destination",
        "webhooks.b.send.Subject",  # invalid JMESPath: not also reported as never set
        "webhooks.b.send.FromEmailAddress",
        "webhooks.b.send.Template",
        "webhooks.b.send.Destination",
        "webhooks.b.secret_env",  # the unset variables come last
    ]


# --- run_config_check ----------------------------------------------------------------------------


def test_run_config_check_ok(tmp_path: Path) -> None:
    out = io.StringIO()
    assert run_config_check(SHIPPED, ENV, out) == 0
    assert out.getvalue().splitlines() == [
        "ok: 3 jobs, 2 webhook sources",
        "needs at deploy: GITHUB_WEBHOOK_SECRET (set), for webhooks.github-releases.secret_env",
        "needs at deploy: STRIPE_WEBHOOK_SECRET (set), for webhooks.stripe-payments.secret_env",
        "needs at deploy: SESRELAY_SES_EVENTS_TOKEN (set), for ses_events.token_env",
        f"TemplateData compared with the templates in {REPO}/templates/: 4 of 4 template send(s)",
    ]
    out = io.StringIO()
    assert run_config_check(SHIPPED, ENV, out, require_env=True) == 0
    assert out.getvalue().splitlines() == [
        "ok: 3 jobs, 2 webhook sources; the 3 variable(s) it names are set",
        f"TemplateData compared with the templates in {REPO}/templates/: 4 of 4 template send(s)",
    ]


def test_run_config_check_without_env_lists_the_needs_and_passes(tmp_path: Path) -> None:
    out = io.StringIO()
    assert run_config_check(SHIPPED, {"STRIPE_WEBHOOK_SECRET": ""}, out) == 0
    lines = out.getvalue().splitlines()
    assert lines[0] == "ok: 3 jobs, 2 webhook sources"
    assert lines[1:4] == [
        "needs at deploy: GITHUB_WEBHOOK_SECRET (unset), for webhooks.github-releases.secret_env",
        "needs at deploy: STRIPE_WEBHOOK_SECRET (empty), for webhooks.stripe-payments.secret_env",
        "needs at deploy: SESRELAY_SES_EVENTS_TOKEN (unset), for ses_events.token_env",
    ]
    assert "config check --env" in lines[4]
    assert lines[5].startswith("TemplateData compared with the templates in ")


def test_run_config_check_lists_problems_and_never_secret_values(tmp_path: Path) -> None:
    env = {**ENV, "SESRELAY_SES_EVENTS_TOKEN": SECRET_VALUE[:10]}
    del env["GITHUB_WEBHOOK_SECRET"]
    out = io.StringIO()
    assert run_config_check(SHIPPED, env, out) == 1  # a variable that is set is always judged
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("ses_events.token_env: SESRELAY_SES_EVENTS_TOKEN is shorter")
    assert "needs at deploy: GITHUB_WEBHOOK_SECRET (unset)" in lines[1]
    assert lines[-1] == f"1 problem(s) in {SHIPPED}"
    out = io.StringIO()
    assert run_config_check(SHIPPED, env, out, require_env=True) == 1
    lines = out.getvalue().splitlines()
    assert lines[0] == (
        "ses_events.token_env: SESRELAY_SES_EVENTS_TOKEN is shorter than 16 characters; the "
        "token is the only guard of the unsigned SES callbacks: use a long random value"
    )
    assert lines[1] == (
        "webhooks.github-releases.secret_env: environment variable GITHUB_WEBHOOK_SECRET is not set"
    )
    assert lines[-1] == f"2 problem(s) in {SHIPPED}"
    assert SECRET_VALUE[:10] not in out.getvalue()


def test_run_config_check_on_a_missing_file(tmp_path: Path) -> None:
    out = io.StringIO()
    assert run_config_check(tmp_path / "absent.yaml", {}, out) == 1
    assert "file not found" in out.getvalue().splitlines()[0]


def test_importing_the_config_modules_loads_neither_yaml_nor_jmespath() -> None:
    code = (
        "import sys, sesrelay.config.model, sesrelay.config.check, sesrelay.timers.jobs, "
        "sesrelay.webhooks.mapping; "
        "print(sorted({'yaml', 'jmespath'} & set(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO / "lib"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_finish_campaigns_job_takes_no_params(tmp_path: Path) -> None:
    path = tmp_path / "sesrelay.yaml"
    path.write_text(
        "jobs:\n"
        "  finisher:\n    action: FinishCampaigns\n"
        "  bad:\n    action: FinishCampaigns\n    params: {Subject: x}\n"
        "  empty:\n    action: SendEmail\n"
    )
    problems = {p.path: p.message for p in check_config(path, {})}
    assert "jobs.finisher" not in problems
    assert problems["jobs.bad"] == "FinishCampaigns takes no params"
    assert "needs its SES parameters" in problems["jobs.empty.params"]


# -- api_keys -----------------------------------------------------------------------------------


def test_api_keys_section_problems_are_reported_at_their_paths(tmp_path: Path) -> None:

    path = tmp_path / "sesrelay.yaml"
    path.write_text(
        "api_keys:\n"
        "  billing:\n"
        "    sha256: sr_live_this_is_a_key_not_a_digest\n"
        "    actions: [SendEmail, delete_everything]\n"
        "    quota_per_day: 0\n"
        "  both:\n"
        f'    sha256: "{"a" * 64}"\n'
        "    sha256_env: KEY_DIGEST\n"
        "  outside:\n"
        "    sha256_env: OUTSIDE_DIGEST\n"
        "    senders: ['@other.example']\n",
        encoding="utf-8",
    )
    environ = {"SESRELAY_ALLOWED_SENDERS": "@example.com", "OUTSIDE_DIGEST": "not-a-digest"}
    problems = {p.path: p.message for p in check_config(path, environ)}
    assert "never the key itself" in problems["api_keys.billing.sha256"]
    assert "api_keys.billing.actions.1" in problems
    assert "api_keys.billing.quota_per_day" in problems
    assert "exactly one of sha256" in problems["api_keys.both"]
    assert "does not hold a SHA-256" in problems["api_keys.outside.sha256_env"]
    assert "could never send" in problems["api_keys.outside.senders.0"]
    assert "sr_live_this_is_a_key" not in str(problems)


def test_a_key_digest_variable_is_needed_at_deploy(tmp_path: Path) -> None:

    path = tmp_path / "sesrelay.yaml"
    path.write_text("api_keys:\n  ci:\n    sha256_env: CI_KEY_DIGEST\n", encoding="utf-8")
    report = inspect_config(path, {})
    assert report.problems == []
    assert [need.name for need, _ in report.unmet] == ["CI_KEY_DIGEST"]
    [problem] = check_config(path, {}, require_env=True)
    assert problem.path == "api_keys.ci.sha256_env"
