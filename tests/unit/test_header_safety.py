"""Header safety of the SES models: nothing a caller sends can add, break or disguise a mail header.

The Subject's `{{var}}` values from TemplateData (sends, campaign defaults, campaign rows), line
breaks and bidi overrides in every header-bound text, SmtpHeaders that would set the sender or
the recipients, a blank Subject, and attachment names that are paths.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import pytest

from sesrelay.campaigns.model import parse_spec
from sesrelay.campaigns.rows import RowValidator
from sesrelay.clock import SES_TIMEZONE
from sesrelay.errors import InvalidInput
from sesrelay.ses.models import validate_batch_send_email, validate_send_email

NOW = datetime(2026, 1, 5, 9, 0, 0, tzinfo=SES_TIMEZONE)
ATTACK = "A\r\nBcc: x@attacker.example"
#: What must not reach a header: CR/LF, NEL, the Unicode line and paragraph separators, and every
#: bidi embedding, override and isolate.
BREAKERS = ["\r\n", "\n", "\r", "\x85", "\u2028", "\u2029"]
BIDI = [chr(code) for code in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]]
UNSAFE = BREAKERS + BIDI
RULE = "must not contain line breaks, control characters or bidirectional overrides"
IN_SUBJECT = "is used in the Subject (a mail header)"


def send_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "FromEmailAddress": "Example Team <noreply@mail.example.com>",
        "Destination": ["user@example.com"],
        "Subject": "Hi {{name}}",
        "Template": {"TemplateID": 100001, "TemplateData": {"name": "Ana"}},
    }
    body.update(changes)
    return body


def batch_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "FromEmailAddress": "noreply@mail.example.com",
        "ReceiverId": 123,
        "Subject": "Hi {{name}}",
        "TaskType": 1,
        "Template": {"TemplateID": 100001, "TemplateData": {"name": "Ana"}},
    }
    body.update(changes)
    return body


def campaign_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "FromEmailAddress": "Example News <news@example.com>",
        "Subject": "Hello {{name}}",
        "Template": {"TemplateID": 100001, "TemplateData": {"name": "friend"}},
    }
    body.update(changes)
    return body


def refusal(call: Callable[[], object]) -> dict[str, list[str]]:
    """field path -> messages, from the InvalidInput that `call` must raise."""
    with pytest.raises(InvalidInput) as caught:
        call()
    found: dict[str, list[str]] = {}
    for error in caught.value.errors:
        found.setdefault(error.field, []).append(error.message)
    return found


def send_refusal(body: object) -> dict[str, list[str]]:
    return refusal(lambda: validate_send_email(body, now=NOW))


def batch_refusal(body: object) -> dict[str, list[str]]:
    return refusal(lambda: validate_batch_send_email(body, now=NOW))


def campaign_refusal(body: object) -> dict[str, list[str]]:
    return refusal(lambda: parse_spec(body, now=NOW))


VALIDATORS: dict[str, tuple[Callable[..., dict[str, Any]], Callable[[object], Any]]] = {
    "send": (send_body, send_refusal),
    "batch": (batch_body, batch_refusal),
    "campaign": (campaign_body, campaign_refusal),
}


def accepts(kind: str, body: dict[str, Any]) -> None:
    if kind == "send":
        validate_send_email(body, now=NOW)
    elif kind == "batch":
        validate_batch_send_email(body, now=NOW)
    else:
        parse_spec(body, now=NOW)


def only(found: dict[str, list[str]], field: str, fragment: str) -> None:
    assert list(found) == [field], found
    assert len(found[field]) == 1, found
    assert fragment in found[field][0], found


# -- the Subject's template values --------------------------------------------------------------


@pytest.mark.parametrize("kind", VALIDATORS)
@pytest.mark.parametrize("as_text", [False, True])
def test_the_bcc_injection_through_template_data_is_refused(kind: str, as_text: bool) -> None:
    make, refused = VALIDATORS[kind]
    data: object = {"name": ATTACK}
    if as_text:
        data = json.dumps(data)
    found = refused(make(Template={"TemplateID": 100001, "TemplateData": data}))
    only(found, "Template.TemplateData.name", IN_SUBJECT)
    assert RULE in found["Template.TemplateData.name"][0]
    assert "attacker" not in json.dumps(found)  # the rule, never the value


@pytest.mark.parametrize("kind", VALIDATORS)
@pytest.mark.parametrize("char", UNSAFE)
def test_every_header_breaking_character_in_a_subject_value_is_refused(
    kind: str, char: str
) -> None:
    make, refused = VALIDATORS[kind]
    body = make(Template={"TemplateID": 100001, "TemplateData": {"name": f"A{char}B"}})
    only(refused(body), "Template.TemplateData.name", IN_SUBJECT)


def test_a_raw_json_body_is_refused_the_same_way() -> None:
    body = send_body(Template={"TemplateID": 100001, "TemplateData": {"name": ATTACK}})
    assert send_refusal(json.dumps(body).encode()) == send_refusal(body)


@pytest.mark.parametrize("subject", ["Hi {{ name }}", "{{name}}", "{{code}} and {{  name}}"])
def test_spaces_inside_the_braces_still_name_the_variable(subject: str) -> None:
    data = {"name": ATTACK, "code": "1234"}
    body = send_body(Subject=subject, Template={"TemplateID": 1, "TemplateData": data})
    only(send_refusal(body), "Template.TemplateData.name", IN_SUBJECT)


def test_each_unsafe_subject_variable_is_named() -> None:
    data = {"first": "A\nB", "last": "C\u2028D", "ok": "fine"}
    body = send_body(
        Subject="{{first}} {{ok}} {{last}} {{first}}",
        Template={"TemplateID": 1, "TemplateData": data},
    )
    found = send_refusal(body)
    assert list(found) == ["Template.TemplateData.first", "Template.TemplateData.last"], found


@pytest.mark.parametrize("kind", VALIDATORS)
def test_values_the_subject_does_not_use_may_hold_line_breaks(kind: str) -> None:
    make, _ = VALIDATORS[kind]
    data = {"name": "Ana", "body": "line one\r\nline two", "count": 3, "none": None}
    accepts(kind, make(Template={"TemplateID": 100001, "TemplateData": data}))


@pytest.mark.parametrize(
    "value", ["Ana", "Zoë 深圳", "A-B: C", 7, 2.5, True, None, "", "عربي", "a\u200fb"]
)
def test_plain_subject_values_are_accepted(value: object) -> None:
    body = send_body(Template={"TemplateID": 1, "TemplateData": {"name": value}})
    assert validate_send_email(body, now=NOW).Subject == "Hi {{name}}"


def test_a_subject_variable_missing_from_the_data_is_not_a_header_problem() -> None:
    body = send_body(Template={"TemplateID": 1, "TemplateData": {"other": ATTACK}})
    validate_send_email(body, now=NOW)


def test_the_subject_rule_waits_for_readable_template_data() -> None:
    body = send_body(Template={"TemplateID": 1, "TemplateData": "{not json"})
    only(send_refusal(body), "Template.TemplateData", "not valid JSON")


@pytest.mark.parametrize("field", ["TemplateData", "SmtpHeaders"])
def test_a_json_text_naming_a_key_twice_is_refused(field: str) -> None:
    # SES might read either copy: the line break in the first must not hide behind the second
    if field == "TemplateData":
        text = '{"name": "A\\r\\nBcc: x@attacker.example", "name": "Ana"}'
        body = send_body(Template={"TemplateID": 1, "TemplateData": text})
        path = "Template.TemplateData"
    else:
        text = '{"X-Tag": "a\\r\\nBcc: x@attacker.example", "X-Tag": "b"}'
        body = send_body(SmtpHeaders=text)
        path = "SmtpHeaders"
    only(send_refusal(body), path, "each key once")


def test_campaign_defaults_not_in_the_subject_may_hold_line_breaks() -> None:
    data = {"name": "friend", "footer": "a\nb"}
    spec = parse_spec(campaign_body(Template={"TemplateID": 1, "TemplateData": data}), now=NOW)
    assert spec.defaults() == data


# -- campaign rows ------------------------------------------------------------------------------


def rows_of(validator: RowValidator, rows: Sequence[tuple[object, object]]) -> list[str]:
    return [email for email, _ in validator.validate(rows)]


@pytest.mark.parametrize("as_text", [False, True])
def test_a_row_whose_subject_value_breaks_the_header_is_refused_by_row(as_text: bool) -> None:
    validator = RowValidator({"name": "friend"}, subject="Hello {{name}}")
    bad: object = {"name": ATTACK}
    if as_text:
        bad = json.dumps(bad)
    rows = [
        ("ana@example.org", {"name": "Ana"}),
        ("eve@example.org", bad),
        ("ben@example.org", None),
    ]
    assert rows_of(validator, rows) == ["ana@example.org", "ben@example.org"]
    [problem] = validator.problems
    assert (problem.index, problem.field) == (1, "TemplateData.name")
    assert IN_SUBJECT in problem.message
    assert "attacker" not in problem.message
    assert validator.counts() == {"received": 3, "valid": 2, "duplicates": 0, "invalid": 1}


@pytest.mark.parametrize("char", UNSAFE)
def test_every_header_breaking_character_in_a_row_is_refused(char: str) -> None:
    validator = RowValidator(subject="{{ name }}: news")
    # the second row would take the fast path (same keys, short strings) without the rule
    rows = [("ana@example.org", {"name": "Ana"}), ("eve@example.org", {"name": f"E{char}ve"})]
    assert rows_of(validator, rows) == ["ana@example.org"]
    assert [(p.index, p.field) for p in validator.problems] == [(1, "TemplateData.name")]


def test_a_refused_row_does_not_claim_its_address() -> None:
    validator = RowValidator(subject="Hi {{name}}")
    rows = [("eve@example.org", {"name": ATTACK}), ("EVE@example.org", {"name": "Eve"})]
    assert rows_of(validator, rows) == ["EVE@example.org"]


def test_row_values_the_subject_does_not_use_may_hold_line_breaks() -> None:
    validator = RowValidator(subject="Hi {{name}}")
    rows = [("ana@example.org", {"name": "Ana", "note": "a\r\nb"})]
    assert rows_of(validator, rows) == ["ana@example.org"]
    assert validator.problems == []


def test_without_a_subject_the_row_rules_are_unchanged() -> None:
    validator = RowValidator()
    assert rows_of(validator, [("ana@example.org", {"name": ATTACK})]) == ["ana@example.org"]


# -- header-bound text: line breaks and bidi overrides ------------------------------------------


def attachment(name: str) -> dict[str, str]:
    return {"FileName": name, "Content": base64.b64encode(b"x").decode()}


HEADER_TEXT: list[tuple[str, Callable[[str], dict[str, Any]]]] = [
    ("Subject", lambda text: send_body(Subject=f"Hi{text}there")),
    ("FromEmailAddress", lambda text: send_body(FromEmailAddress=f"Te{text}am <a@example.com>")),
    ("HeaderFrom", lambda text: send_body(HeaderFrom=f"Te{text}am <a@example.com>")),
    ("SmtpHeaders", lambda text: send_body(SmtpHeaders={"X-Tag": f"a{text}b"})),
    ("SmtpMessageId", lambda text: send_body(SmtpMessageId=f"<a{text}b@example.com>")),
    ("Attachments.0.FileName", lambda text: send_body(Attachments=[attachment(f"a{text}.pdf")])),
]


@pytest.mark.parametrize(("field", "make"), HEADER_TEXT, ids=[f for f, _ in HEADER_TEXT])
@pytest.mark.parametrize("char", UNSAFE, ids=[f"U+{ord(c[-1]):04X}" for c in UNSAFE])
def test_header_text_refuses_line_breaks_and_bidi_overrides(
    field: str, make: Callable[[str], dict[str, Any]], char: str
) -> None:
    only(send_refusal(make(char)), field, "line breaks")


@pytest.mark.parametrize(("field", "make"), HEADER_TEXT, ids=[f for f, _ in HEADER_TEXT])
def test_header_text_keeps_right_to_left_text_and_marks(
    field: str, make: Callable[[str], dict[str, Any]]
) -> None:
    validate_send_email(make(" عربي \u200f"), now=NOW)  # Arabic and an RLM mark are not overrides


def test_the_rtlo_file_name_spoof_is_refused() -> None:
    body = send_body(Attachments=[attachment("invoice\u202efdp.exe")])
    only(send_refusal(body), "Attachments.0.FileName", "bidirectional overrides")


def test_batch_and_campaign_subjects_refuse_bidi_overrides_too() -> None:
    only(batch_refusal(batch_body(Subject="Hi \u202eyenom")), "Subject", "bidirectional")
    only(campaign_refusal(campaign_body(Subject="Hi \u2066x\u2069")), "Subject", "bidirectional")


# -- SmtpHeaders that SES builds from the request -----------------------------------------------


@pytest.mark.parametrize(
    ("name", "use"),
    [
        ("From", "FromEmailAddress"),
        ("from", "FromEmailAddress"),
        ("Sender", "FromEmailAddress"),
        ("Reply-To", "ReplyToAddresses"),
        ("REPLY-TO", "ReplyToAddresses"),
        ("To", "Destination"),
        ("Cc", "use Cc instead"),
        ("bcc", "use Bcc instead"),
        ("BCC", "use Bcc instead"),
        ("Return-Path", "FromEmailAddress"),
    ],
)
@pytest.mark.parametrize("as_text", [False, True])
def test_smtp_headers_may_not_set_sender_or_recipients(name: str, use: str, as_text: bool) -> None:
    headers: object = {"X-Campaign": "jan", name: "x@attacker.example"}
    if as_text:
        headers = json.dumps(headers)
    found = send_refusal(send_body(SmtpHeaders=headers))
    only(found, f"SmtpHeaders.{name}", use)
    assert "attacker" not in json.dumps(found)


def test_every_reserved_smtp_header_is_named() -> None:
    headers = {"To": "a@example.com", "X-Ok": "1", "Bcc": "b@example.com"}
    found = send_refusal(send_body(SmtpHeaders=headers))
    assert sorted(found) == ["SmtpHeaders.Bcc", "SmtpHeaders.To"], found


@pytest.mark.parametrize(
    "name", ["X-Campaign", "List-Unsubscribe", "X-From", "Reply-To-Team", "Tox", "X-Bcc-Note"]
)
def test_other_smtp_headers_are_accepted(name: str) -> None:
    params = validate_send_email(send_body(SmtpHeaders={name: "value"}), now=NOW)
    assert params.SmtpHeaders == json.dumps({name: "value"}, separators=(",", ":"))


# -- blank Subject, path-like file names --------------------------------------------------------


@pytest.mark.parametrize("kind", VALIDATORS)
@pytest.mark.parametrize("subject", [" ", "   ", "\u3000", " \u00a0 "])
def test_a_blank_subject_is_refused(kind: str, subject: str) -> None:
    make, refused = VALIDATORS[kind]
    only(refused(make(Subject=subject)), "Subject", "must not be blank")


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("../../etc/passwd", "no '/' or '\\'"),
        ("reports/jan.pdf", "no '/' or '\\'"),
        ("/tmp/a.pdf", "no '/' or '\\'"),
        ("..\\windows\\a.exe", "no '/' or '\\'"),
        ("a\\b.pdf", "no '/' or '\\'"),
        (".", "not only dots"),
        ("..", "not only dots"),
        ("...", "not only dots"),
        (" .. ", "not only dots"),
        ("a\x00.pdf", "control characters"),
    ],
)
def test_a_path_like_file_name_is_refused(name: str, fragment: str) -> None:
    only(
        send_refusal(send_body(Attachments=[attachment(name)])), "Attachments.0.FileName", fragment
    )


@pytest.mark.parametrize(
    "name", ["invoice.pdf", ".profile", "report.v2.final.pdf", "résumé 2026.docx", "a..b.txt", "x."]
)
def test_plain_file_names_are_accepted(name: str) -> None:
    params = validate_send_email(send_body(Attachments=[attachment(name)]), now=NOW)
    assert params.Attachments is not None
    assert params.Attachments[0].FileName == name


# -- lone surrogates: JSON can spell them ("\ud800"), UTF-8 mail cannot carry them --------------

LONE = "\ud800"
SURROGATE = "must be valid Unicode text"


@pytest.mark.parametrize("kind", sorted(VALIDATORS))
@pytest.mark.parametrize(
    "data",
    [{"name": f"A{LONE}"}, {"other": LONE}, {f"n{LONE}": "x"}, json.dumps({"name": LONE})],
    ids=["subject variable", "body variable", "variable name", "as JSON text"],
)
def test_a_lone_surrogate_in_template_data_is_refused(kind: str, data: object) -> None:
    make, refuse = VALIDATORS[kind]
    found = refuse(make(Template={"TemplateID": 100001, "TemplateData": data}))
    assert any(SURROGATE in message for message in found["Template.TemplateData"]), found


def test_a_lone_surrogate_in_the_subject_is_refused() -> None:
    assert "Subject" in send_refusal(send_body(Subject=f"Hi {LONE}"))


def test_a_campaign_row_with_a_lone_surrogate_is_refused_and_others_go_on() -> None:
    validator = RowValidator({})
    rows = list(validator.validate([("a@example.org", {"name": LONE}), ("b@example.org", {})]))
    assert [email for email, _ in rows] == ["b@example.org"]
    [problem] = validator.problems
    assert (problem.index, problem.field) == (0, "TemplateData")
    assert SURROGATE in problem.message


def test_other_unicode_stays_valid() -> None:
    data = {"name": "Zoë 李 😀"}
    body = send_body(Template={"TemplateID": 100001, "TemplateData": data})
    assert validate_send_email(body, now=NOW).Template is not None


def test_a_lone_surrogate_in_a_later_row_is_refused_on_the_fast_path_too() -> None:
    validator = RowValidator({})
    rows = [("a@example.org", {"n": "x"}), ("b@example.org", {"n": f"y{LONE}"})]
    assert [email for email, _ in validator.validate(rows)] == ["a@example.org"]
    [problem] = validator.problems
    assert (problem.index, SURROGATE in problem.message) == (1, True)
