"""`sesrelay config check` on webhook mappings: a mapping that can never yield a complete send is
a problem (every delivery would be refused), and one broken part of a source hides nothing else."""

from __future__ import annotations

import io
import textwrap
from pathlib import Path

from sesrelay.config.check import check_config, inspect_config, run_config_check
from sesrelay.config.model import ConfigProblem

ENV = {"HOOK_SECRET": "s3cret-value"}
REFUSED = "every delivery would be refused (422)"


def config(tmp_path: Path, send: str) -> Path:
    """A config of one source, `hook` (scheme github), whose `send:` is `send`."""
    head = "webhooks:\n  hook:\n    scheme: github\n    secret_env: HOOK_SECRET\n    send:\n"
    text = head + textwrap.indent(textwrap.dedent(send), "      ")
    path = tmp_path / "sesrelay.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def found(path: Path, env: dict[str, str] | None = None) -> dict[str, str]:
    """The problems of the file at `path`, by path."""
    problems: list[ConfigProblem] = check_config(path, ENV if env is None else env)
    return {problem.path: problem.message for problem in problems}


def test_a_mapping_with_neither_subject_nor_template_is_reported_by_source_and_field(
    tmp_path: Path,
) -> None:
    path = config(
        tmp_path,
        """\
        action: SendEmail
        FromEmailAddress: "'noreply@example.com'"
        Destination: ["body.email"]
        """,
    )
    assert found(path) == {
        "webhooks.hook.send.Subject": f"is required, and this mapping never sets it: {REFUSED}",
        "webhooks.hook.send.Template": (
            "is required unless Simple is given (SES MissingEmailContent), and this mapping "
            f"sets neither: {REFUSED}"
        ),
    }
    out = io.StringIO()
    assert run_config_check(path, ENV, out) == 1
    assert out.getvalue().splitlines()[-1] == f"2 problem(s) in {path}"


def test_a_mapping_without_sender_or_recipient(tmp_path: Path) -> None:
    path = config(
        tmp_path,
        """\
        action: SendEmail
        Destination: "`null`"
        Cc: []
        Subject: "'Hello'"
        Template: {TemplateID: 100001, TemplateData: {name: body.name}}
        """,
    )
    assert found(path) == {
        "webhooks.hook.send.FromEmailAddress": (
            f"is required, and this mapping never sets it: {REFUSED}"
        ),
        "webhooks.hook.send.Destination": (
            "this mapping sets no recipient (Destination, Cc or Bcc; SES needs at least one): "
            f"{REFUSED}"
        ),
    }


def test_required_fields_inside_what_the_mapping_writes(tmp_path: Path) -> None:
    path = config(
        tmp_path,
        """\
        action: BatchSendEmail
        FromEmailAddress: "'news@example.com'"
        Subject: body.title
        TaskType: 2
        Template: {TemplateData: {name: body.name}}
        """,
    )
    problems = found(path)
    assert set(problems) == {
        "webhooks.hook.send.ReceiverId",
        "webhooks.hook.send.Template.TemplateID",
        "webhooks.hook.send.TimedParam",
    }
    assert problems["webhooks.hook.send.TimedParam"].startswith(
        "is required when TaskType is 2, and this mapping never sets it"
    )
    assert problems["webhooks.hook.send.Template.TemplateID"].endswith(REFUSED)


def test_an_empty_mapping_is_left_out_so_its_field_is_never_set(tmp_path: Path) -> None:
    path = config(
        tmp_path,
        """\
        action: SendEmail
        FromEmailAddress: "'noreply@example.com'"
        Destination: ["body.email"]
        Subject: "'Hello'"
        Template: {TemplateID: 100001, TemplateData: {}}
        """,
    )
    [(where, message)] = found(path).items()
    assert where == "webhooks.hook.send.Template.TemplateData"
    assert "with nothing in it is left out" in message


def test_fields_that_read_the_delivery_are_not_judged_constants_are(tmp_path: Path) -> None:
    send = """\
        action: SendEmail
        FromEmailAddress: "{sender}"
        Destination: ["body.email"]
        Subject: "body.title || 'Hello'"
        Template: {{TemplateID: 100001, TemplateData: {{name: body.name}}}}
        """
    assert found(config(tmp_path, send.format(sender="body.from"))) == {}
    bad = config(tmp_path, send.format(sender="'Example<noreply@example.com>'"))
    [(where, message)] = found(bad).items()
    assert where == "webhooks.hook.send.FromEmailAddress"
    assert "exactly one space before '<'" in message
    other = config(tmp_path, send.format(sender="'noreply@other.example'"))
    allowed = {**ENV, "SESRELAY_ALLOWED_SENDERS": "@example.com"}
    assert (
        "SESRELAY_ALLOWED_SENDERS" in found(other, allowed)["webhooks.hook.send.FromEmailAddress"]
    )
    assert found(other) == {}  # no allowlist: SES decides


def test_simple_content_in_a_mapping_needs_the_switch(tmp_path: Path) -> None:
    path = config(
        tmp_path,
        """\
        action: SendEmail
        FromEmailAddress: "'noreply@example.com'"
        Destination: ["body.email"]
        Subject: "'Hello'"
        Simple: {Text: body.text_base64}
        """,
    )
    assert found(path) == {}
    report = inspect_config(path, ENV)
    assert [need.shown for need, _state in report.unmet] == ["SESRELAY_ALLOW_SIMPLE=true"]
    refused = found(path, {**ENV, "SESRELAY_ALLOW_SIMPLE": "false"})  # set: judged
    assert list(refused) == ["webhooks.hook.send.Simple"]
    assert "SESRELAY_ALLOW_SIMPLE=true" in refused["webhooks.hook.send.Simple"]
    assert found(path, {**ENV, "SESRELAY_ALLOW_SIMPLE": "true"}) == {}
    [problem] = check_config(path, ENV, require_env=True)
    assert problem.path == "webhooks.hook.send.Simple"


def test_an_unknown_scheme_hides_no_other_problem(tmp_path: Path) -> None:
    path = tmp_path / "sesrelay.yaml"
    path.write_text(
        textwrap.dedent(
            """\
            webhooks:
              github:
                scheme: gitlab
                secret_env: HOOK_SECRET
                sheme: github
                send:
                  action: SendEmail
                  FromEmailAddress: "'noreply@example.com'"
                  Destination: ["body.email"]
                  Subject: "concat('a', body.b)"
              other:
                scheme: nope
                secret_env: HOOK_SECRET
                send: {action: SendEmail, FromEmailAddress: "'x@example.com'", To: body.to}
            """
        ),
        encoding="utf-8",
    )
    problems = found(path)
    assert problems["webhooks.github.scheme"].startswith("unknown scheme 'gitlab'; known: ")
    assert problems["webhooks.github.sheme"].startswith("unknown key; did you mean 'scheme'?")
    assert problems["webhooks.github.send.Subject"] == "unknown function concat()"
    assert problems["webhooks.github.send.Template"].endswith(REFUSED)
    assert problems["webhooks.other.scheme"].startswith("unknown scheme 'nope'")
    assert problems["webhooks.other.send.To"].startswith("unknown field 'To'")
    assert problems["webhooks.other.send.Destination"].endswith(REFUSED)
    assert "webhooks.github.send.Destination" not in problems
