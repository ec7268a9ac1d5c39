"""`sesrelay config check` and templates: TemplateData keys against the variables of the template
in the `templates/` folder beside the file (by TemplateName, or by the TemplateID a file's header
records), every missing or extra key named at its path; and Template.TemplateName accepted in
jobs and mappings in place of TemplateID (never both)."""

from __future__ import annotations

import io
import textwrap
from pathlib import Path

import pytest

from sesrelay.config.check import check_config, run_config_check
from sesrelay.config.model import ConfigError, ConfigProblem, load_config

WELCOME = """\
<!--
subject: Welcome, {{name}}
id: 100001
-->
<p>Hello {{name}}, your code is {{ code }}.</p>
"""


def project(tmp_path: Path, config: str, templates: dict[str, str] | None = None) -> Path:
    """A project folder: sesrelay.yaml, and templates/ holding the files given (file name: text)."""
    folder = tmp_path / "templates"
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in (templates if templates is not None else {"welcome.html": WELCOME}).items():
        (folder / name).write_text(text, encoding="utf-8")
    path = tmp_path / "sesrelay.yaml"
    path.write_text(textwrap.dedent(config), encoding="utf-8")
    return path


def job(template: str, subject: str = "Hello", action: str = "SendEmail") -> str:
    recipients = "Destination: [ana@example.org]" if action == "SendEmail" else "TaskType: 1"
    group = "\n    receiver_group: demo" if action == "BatchSendEmail" else ""
    return f"""\
jobs:
  hello:
    action: {action}{group}
    params:
      FromEmailAddress: noreply@example.com
      {recipients}
      Subject: "{subject}"
      Template: {template}
"""


def mapping(template: str, subject: str = "'Hello'") -> str:
    return f"""\
webhooks:
  hook:
    scheme: github
    secret_env: GH_SECRET
    send:
      action: SendEmail
      FromEmailAddress: "'noreply@example.com'"
      Destination: ["body.email"]
      Subject: "{subject}"
      Template: {template}
"""


def problems(path: Path) -> dict[str, str]:
    found: list[ConfigProblem] = check_config(path, {"GH_SECRET": "s"})
    return {problem.path: problem.message for problem in found}


DATA = "jobs.hello.params.Template.TemplateData"


# --- jobs -----------------------------------------------------------------------------------------


def test_a_key_the_template_needs_but_the_job_does_not_give_is_a_problem(tmp_path: Path) -> None:
    path = project(tmp_path, job('{TemplateID: 100001, TemplateData: {"name": "Ana"}}'))
    found = problems(path)
    assert list(found) == [f"{DATA}.code"]
    message = found[f"{DATA}.code"]
    assert message.startswith("is missing: {{code}} is a variable of template 'welcome' (")
    assert "welcome.html" in message
    assert "TemplateNotMatchData" in message


def test_a_key_no_variable_uses_is_a_problem_with_a_case_hint(tmp_path: Path) -> None:
    data = '{"Name": "Ana", "code": "1", "colour": "red"}'
    found = problems(project(tmp_path, job(f"{{TemplateID: 100001, TemplateData: {data}}}")))
    assert set(found) == {f"{DATA}.name", f"{DATA}.Name", f"{DATA}.colour"}
    assert "(there is 'Name': variable names are case-sensitive)" in found[f"{DATA}.name"]
    assert found[f"{DATA}.colour"].startswith("is not a variable of template 'welcome'")
    assert "(they use: code, name)" in found[f"{DATA}.colour"]


def test_the_template_is_found_by_name_and_data_given_as_json_text(tmp_path: Path) -> None:
    text = """'{"name": "Ana"}'"""
    found = problems(project(tmp_path, job(f"{{TemplateName: welcome, TemplateData: {text}}}")))
    assert list(found) == [f"{DATA}.code"]


def test_the_subject_sent_counts_and_tick_placeholders_do_not(tmp_path: Path) -> None:
    data = '{"name": "{{tick.date}}", "code": "1"}'
    ok = job(f"{{TemplateName: welcome, TemplateData: {data}}}", "Digest {{tick.iso_week}}")
    assert problems(project(tmp_path, ok)) == {}
    more = job(f"{{TemplateName: welcome, TemplateData: {data}}}", "Hi {{first}}")
    found = problems(project(tmp_path, more))
    assert list(found) == [f"{DATA}.first"]
    assert "{{first}} is used in the Subject" in found[f"{DATA}.first"]


def test_a_batch_job_is_compared_too(tmp_path: Path) -> None:
    template = '{TemplateName: welcome, TemplateData: {"name": "x"}}'
    found = problems(project(tmp_path, job(template, action="BatchSendEmail")))
    assert list(found) == ["jobs.hello.params.Template.TemplateData.code"]


def test_a_template_the_folder_lacks_is_not_compared(tmp_path: Path) -> None:
    for template in (
        '{TemplateID: 5, TemplateData: {"x": "1"}}',
        "{TemplateName: other, TemplateData: {}}",
    ):
        assert problems(project(tmp_path, job(template))) == {}
    bare = project(tmp_path / "bare", job('{TemplateID: 100001, TemplateData: {"x": "1"}}'), {})
    assert problems(bare) == {}  # no templates at all


def test_the_output_says_how_many_sends_were_compared(tmp_path: Path) -> None:
    path = project(tmp_path, job('{TemplateID: 100001, TemplateData: {"name": "A", "code": "1"}}'))
    out = io.StringIO()
    assert run_config_check(path, {}, out) == 0
    folder = tmp_path / "templates"
    assert out.getvalue().splitlines()[-1] == (
        f"TemplateData compared with the templates in {folder}/: 1 of 1 template send(s)"
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = io.StringIO()
    assert run_config_check(path, {}, out, templates=elsewhere) == 0
    assert out.getvalue().splitlines()[-1] == (
        f"TemplateData not compared: no templates in {elsewhere}/"
    )


def test_a_broken_template_file_is_a_problem_at_its_path(tmp_path: Path) -> None:
    broken = "<!--\nid: first\n-->\n<p>{{name}}</p>"
    path = project(tmp_path, job("{TemplateID: 1, TemplateData: {}}"), {"welcome.html": broken})
    found = problems(path)
    assert found == {
        str(tmp_path / "templates" / "welcome.html"): "header: id must be a positive integer"
    }


# --- TemplateName in jobs ---------------------------------------------------------------------


def test_a_job_may_name_its_template_instead_of_its_id(tmp_path: Path) -> None:
    template = '{TemplateName: welcome, TemplateData: {"name": "A", "code": "1"}}'
    path = project(tmp_path, job(template))
    assert problems(path) == {}
    assert load_config(path).jobs["hello"].params["Template"]["TemplateName"] == "welcome"


def test_a_job_giving_both_id_and_name_is_refused(tmp_path: Path) -> None:
    path = project(tmp_path, job("{TemplateID: 1, TemplateName: welcome, TemplateData: {}}"))
    message = "give Template.TemplateID or Template.TemplateName, not both"
    assert problems(path) == {"jobs.hello.params": message}
    with pytest.raises(ConfigError) as caught:
        load_config(path)  # what the function loads refuses it too
    assert [(p.path, p.message) for p in caught.value.problems] == [("jobs.hello.params", message)]


# --- webhook mappings ---------------------------------------------------------------------------


SEND = "webhooks.hook.send"


def test_a_mapping_key_missing_from_the_template_is_a_problem(tmp_path: Path) -> None:
    template = "{TemplateName: \"'welcome'\", TemplateData: {name: body.name, code: '`null`'}}"
    found = problems(project(tmp_path, mapping(template)))
    assert list(found) == [f"{SEND}.Template.TemplateData.code"]  # a null literal is left out


def test_a_mapping_subject_written_as_a_raw_string_counts(tmp_path: Path) -> None:
    template = "{TemplateID: 100001, TemplateData: {name: body.name, code: body.code, x: body.x}}"
    found = problems(project(tmp_path, mapping(template, "'Hi {{who}}'")))
    assert set(found) == {f"{SEND}.Template.TemplateData.who", f"{SEND}.Template.TemplateData.x"}


def test_a_mapping_whose_template_or_data_comes_from_the_delivery_is_not_compared(
    tmp_path: Path,
) -> None:
    for template in (
        "{TemplateName: body.template, TemplateData: {x: body.x}}",
        "{TemplateID: 100001, TemplateData: body.vars}",
    ):
        assert problems(project(tmp_path, mapping(template))) == {}


def test_a_mapping_giving_both_or_a_null_name_is_a_problem(tmp_path: Path) -> None:
    both = (
        "{TemplateID: 1, TemplateName: \"'welcome'\", TemplateData: {name: body.n, code: body.c}}"
    )
    name = f"{SEND}.Template.TemplateName"
    found = problems(project(tmp_path, mapping(both)))
    assert found == {name: "give Template.TemplateID or Template.TemplateName, not both"}
    null = "{TemplateName: '`null`', TemplateData: {name: body.n, code: body.c}}"
    found = problems(project(tmp_path, mapping(null)))
    assert found == {name: "never names a template: every delivery would be refused (422)"}


def test_the_shipped_config_matches_the_shipped_templates() -> None:
    repo = Path(__file__).resolve().parents[2]
    out = io.StringIO()
    code = run_config_check(repo / "sesrelay.yaml", {}, out)
    assert code == 0, out.getvalue()
    assert out.getvalue().splitlines()[-1].endswith(": 4 of 4 template send(s)")
