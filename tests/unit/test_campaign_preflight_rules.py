"""The campaign preflight's rules: what SES would refuse (sender, template, variables), every
problem at once, and which SES answers are facts ("no such template") rather than failures."""

from __future__ import annotations

import base64
from datetime import datetime, timezone
from typing import Any

import pytest

from sesrelay.campaigns.model import CampaignSpec, parse_spec
from sesrelay.campaigns.preflight import Account, DataSource, Template, problems, read_account
from sesrelay.clock import Deadline, SystemClock
from sesrelay.errors import Outcome, SesError

SOURCE = DataSource("list.csv line 1 (the header)", "no column and no --template-data default")
NOW = datetime(2026, 1, 5, tzinfo=timezone.utc)


def spec(**fields: Any) -> CampaignSpec:
    body = {
        "FromEmailAddress": "News <News@Example.com>",
        "Subject": "Hello {{name}}",
        "Template": {"TemplateID": 100001},
    }
    body.update(fields)
    return parse_spec(body, now=NOW)


def account(status: int = 0, variables: tuple[str, ...] = ("name",)) -> Account:
    template = Template(100001, "welcome", status, frozenset(variables))
    return Account(frozenset({"news@example.com"}), template)


def test_a_listed_sender_and_an_approved_template_filled_by_the_columns_pass() -> None:
    assert problems(spec(), account(), {"name"}, SOURCE) == []


def test_every_problem_is_reported_at_once_by_field() -> None:
    found = problems(
        spec(FromEmailAddress="nobody@example.com"), account(status=1), {"Name"}, SOURCE
    )
    assert [p.field for p in found] == [
        "FromEmailAddress",
        "Template.TemplateID",
        "list.csv line 1 (the header)",
    ]
    assert "nobody@example.com is not a sender address" in found[0].message
    assert "OperationDenied.SendAddressStatusError" in found[0].message
    assert 'template 100001 ("welcome") is not approved (TemplateStatus 1: under review)' in (
        found[1].message
    )
    assert found[2].message.startswith(
        "the template and Subject use {{name}}, but no column and no --template-data default "
        'provides it (there is "Name": variable names are case-sensitive)'
    )


@pytest.mark.parametrize(("status", "said"), [(2, "rejected"), (7, "unavailable")])
def test_template_states_other_than_approved(status: int, said: str) -> None:
    [found] = problems(spec(), account(status=status), {"name"}, SOURCE)
    assert f"(TemplateStatus {status}: {said})" in found.message


def test_a_missing_template_stops_the_template_checks() -> None:
    missing = Account(frozenset({"news@example.com"}), None)
    [found] = problems(spec(), missing, set(), SOURCE)
    assert found.field == "Template.TemplateID"
    assert found.message == "template 100001 does not exist in this SES account (GetEmailTemplate)"


def test_the_subject_variables_count_and_unknown_rows_are_not_judged() -> None:
    [found] = problems(spec(Subject="Week {{week}}"), account(), {"name"}, SOURCE)
    assert "use {{week}}, but" in found.message
    assert problems(spec(Subject="Week {{week}}"), account(), None, SOURCE) == []


class Answers:
    """A gateway answering from a table; an SesError value is raised."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def call(self, action: str, params: dict[str, Any], deadline: Deadline) -> dict[str, Any]:
        self.calls.append((action, params))
        answer = self.answers[action]
        if isinstance(answer, SesError):
            raise answer
        result: dict[str, Any] = answer
        return result


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


SENDERS = {"EmailSenders": [{"EmailAddress": "News@Example.com", "EmailSenderName": None}]}


def test_read_account_decodes_the_template_and_lowers_the_senders() -> None:
    template = {
        "TemplateContent": {"Html": _b64("<p>{{ name }} {{city}}</p>"), "Text": _b64("{{plan}}")},
        "TemplateStatus": 0,
        "TemplateName": "welcome",
    }
    ses = Answers({"ListEmailAddress": SENDERS, "GetEmailTemplate": template})
    found = read_account(ses, 100001, Deadline(SystemClock(), 10))
    assert found.senders == frozenset({"news@example.com"})
    assert found.template == Template(100001, "welcome", 0, frozenset({"name", "city", "plan"}))
    assert ses.calls == [("ListEmailAddress", {}), ("GetEmailTemplate", {"TemplateID": 100001})]


def test_no_such_template_is_an_answer_and_a_throttled_read_is_raised() -> None:
    gone = SesError("InvalidParameterValue.TemplateNotExist", "The template does not exist.")
    ses = Answers({"ListEmailAddress": SENDERS, "GetEmailTemplate": gone})
    assert read_account(ses, 9, Deadline(SystemClock(), 10)).template is None

    busy = SesError("RequestLimitExceeded", "slow down", outcome=Outcome.RETRYABLE)
    ses = Answers({"ListEmailAddress": busy})
    with pytest.raises(SesError, match="slow down"):
        read_account(ses, 9, Deadline(SystemClock(), 10))
