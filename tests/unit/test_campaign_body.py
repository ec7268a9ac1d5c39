"""The campaign body read field by field (`campaigns.body.scan`) means what json.loads and
jsontext mean: the same fields in the same order, the same recipients, the same fingerprint; and
every text it does not read the simple way is left to the full parser, whose verdict stands."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sesrelay import jsontext
from sesrelay.campaigns.body import CampaignBody, RecipientArray, scan
from sesrelay.errors import MalformedRequest
from sesrelay.sending.idempotency import fingerprint

PEOPLE = [
    {"Email": "ana@example.org", "TemplateData": {"name": "Ana", "n": 1.5, "ok": True}},
    {"Email": "Bo@Example.org"},
    {"Email": "chloé@example.org", "TemplateData": {"name": "Chloé ✓", "x": None}},
    {"TemplateData": {"deep": [[{"a": [1, 2]}]]}, "Email": "dee@example.org"},
]
FIELDS = {"FromEmailAddress": "News <news@example.com>", "Subject": "Hi {{name}}", "Zeta": [1]}


def texts() -> list[tuple[str, str]]:
    """(name, text): the same bodies spelled the ways a client may spell them."""
    last = {**FIELDS, "Recipients": PEOPLE}
    first = {"Recipients": PEOPLE, **FIELDS}
    middle = {"FromEmailAddress": FIELDS["FromEmailAddress"], "Recipients": PEOPLE, "Zeta": [1]}
    many = {**FIELDS, "Recipients": [{"Email": f"u{n}@example.org"} for n in range(2500)]}
    return [
        ("compact", json.dumps(last, separators=(",", ":"))),
        ("spaces", json.dumps(first)),
        ("indented", json.dumps(middle, indent=2)),
        ("ascii escapes", json.dumps(last, ensure_ascii=True)),
        ("utf-8 as is", json.dumps(last, ensure_ascii=False)),
        ("padded", "\r\n\t " + json.dumps(last, indent="\t") + " \n"),
        ("over one batch", json.dumps(many)),
        ("one recipient", json.dumps({**FIELDS, "Recipients": PEOPLE[:1]})),
        ("empty list", json.dumps({**FIELDS, "Recipients": []})),
        ("null", json.dumps({**FIELDS, "Recipients": None})),
        ("no recipients", json.dumps(FIELDS)),
        ("not a list", json.dumps({**FIELDS, "Recipients": "ana@example.org"})),
        ("repeated key", '{"Subject": "a", "Recipients": [], "Subject": "b", '
                         '"Recipients": [{"Email": "x@example.org"}], "Name": "n"}'),
        ("empty object", "{}"),
        ("numbers", '{"Recipients": [{"Email": "n@example.org", "TemplateData": '
                    '{"a": 1e3, "b": -0.0, "c": 12345678901234567890, "d": NaN}}], "X": Infinity}'),
    ]  # fmt: skip


@pytest.mark.parametrize(("name", "text"), texts(), ids=[name for name, _ in texts()])
def test_a_scanned_body_equals_the_parsed_one(name: str, text: str) -> None:
    parsed = jsontext.parse(text)
    whole = CampaignBody.of(parsed)
    scanned = scan(text)
    assert scanned is not None, name
    assert list(scanned.fields.items()) == list(whole.fields.items())  # order included
    if isinstance(scanned.recipients, RecipientArray):
        assert list(scanned.items()) == parsed["Recipients"]
        assert len(scanned.recipients) == len(parsed["Recipients"])
        assert list(scanned.items()) == list(scanned.items())  # every pass reads it again
    else:
        assert json.dumps(scanned.recipients) == json.dumps(whole.recipients)
    for method, path in (("POST", "/v1/campaigns"), ("PUT", "/ü")):
        expected = fingerprint(method, path, parsed)
        assert scanned.fingerprint(method, path) == expected
        assert whole.fingerprint(method, path) == expected


def test_a_recipient_list_is_left_in_the_text() -> None:
    scanned = scan(json.dumps({**FIELDS, "Recipients": PEOPLE}))
    assert scanned is not None
    assert isinstance(scanned.recipients, RecipientArray)
    assert scanned.recipients.count == len(PEOPLE)


def _nested(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("malformed", '{"Recipients": [{"Email": "a@example.org"},]}'),
        ("trailing comma", '{"Subject": "x",}'),
        ("missing comma", '{"Subject": "x" "Name": "y"}'),
        ("extra data", '{"Subject": "x"} {}'),
        ("an array", '[{"Email": "a@example.org"}]'),
        ("a scalar", '"text"'),
        ("bom", '\ufeff{"Subject": "x"}'),
        ("too deep in a recipient", json.dumps({"Recipients": [{"T": _nested(62)}]})),
        ("too deep in a field", json.dumps({"Template": _nested(64), "Recipients": []})),
        ("lone surrogate in a recipient", '{"Recipients": [{"Email": "\\ud800@example.org"}]}'),
        ("lone surrogate in a key", '{"\\udc00": 1, "Recipients": []}'),
        ("a number too long", '{"Recipients": [{"Email": "a@x.org", "N": %s}]}' % ("9" * 5000)),
        ("unterminated", '{"Recipients": [{"Email": "a@example.org"}'),
        ("control character", '{"Subject": "a\nb"}'),
    ],
)  # fmt: skip
def test_what_the_scan_does_not_read_is_left_to_the_full_parser(name: str, text: str) -> None:
    assert scan(text) is None, name
    try:
        parsed = jsontext.parse(text)
    except MalformedRequest:
        return  # its message is the one the caller gets
    assert not isinstance(parsed, dict), name  # read_json_object refuses those with a 422


def test_nesting_up_to_the_limit_is_read() -> None:
    text = json.dumps({"Recipients": [{"T": _nested(61)}], "Template": _nested(63)})
    parsed = jsontext.parse(text)
    scanned = scan(text)
    assert scanned is not None
    assert list(scanned.items()) == parsed["Recipients"]
    assert scanned.fingerprint("POST", "/v1/campaigns") == fingerprint(
        "POST", "/v1/campaigns", parsed
    )
