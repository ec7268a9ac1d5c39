"""Campaign rows: validation rules, case-insensitive dedupe, CSV reading and the shard plan."""

from __future__ import annotations

import csv
import io
import json
import math
from typing import Any

import pytest

from sesrelay.campaigns.csv import CsvRecipients
from sesrelay.campaigns.rows import (
    BLOCK_ROWS,
    MALFORMED,
    MAX_DATA_BYTES,
    ROWS_PER_GROUP,
    ROWS_PER_UPLOAD,
    RowProblem,
    RowValidator,
    blocks,
    json_recipients,
    plan_shards,
    template_data_text,
)
from sesrelay.ses.fields import is_email_address


def check(rows: list[tuple[object, object]], **kw: Any) -> tuple[RowValidator, list[Any]]:
    validator = RowValidator(**kw)
    return validator, list(validator.validate(rows))


def reasons(validator: RowValidator) -> list[tuple[int, str, str]]:
    return [(p.index, p.field, p.message) for p in validator.problems]


# -- addresses and duplicates ---------------------------------------------------------------------


def test_valid_rows_pass_with_their_data_and_are_counted() -> None:
    validator, rows = check([("ana@example.org", None), (" ben@example.org ", "{}")])
    assert rows == [("ana@example.org", {}), ("ben@example.org", {})]
    assert validator.counts() == {"received": 2, "valid": 2, "duplicates": 0, "invalid": 0}


@pytest.mark.parametrize(
    "email", ["", "ana", "ana@", "@example.org", "ana@example", "a b@example.org", "ana@1.2.3.4"]
)
def test_bad_addresses_are_rejected_without_echoing_them(email: str) -> None:
    validator, rows = check([(email, None)])
    assert rows == []
    [(index, field, message)] = reasons(validator)
    assert (index, field) == (0, "Email")
    assert "valid email address" in message
    assert not email or email not in message


@pytest.mark.parametrize(
    "email",
    [
        *("a@b.co", "first.last+tag@sub.example.org", "x_y-z@a-b.c-d.example", "A@EXAMPLE.ORG"),
        *("a..b@example.org", ".a@example.org", "a.@example.org", "a@-example.org"),
        *("a@example-.org", "a@example..org", "a@example.o", "a@example.123", "a@localhost"),
        *("a!#$%&'*/=?^`{|}~@example.org", "a@xn--80ak6aa92e.com", "a@b--c.example.org"),
        *("x" * 65 + "@example.org", "a@" + "b" * 64 + ".org", "a@b.c" + "o" * 60, "é@example.org"),
    ],
)
def test_the_fast_address_check_agrees_with_ses_fields(email: str) -> None:
    _, rows = check([(email, None)])
    assert bool(rows) is is_email_address(email)  # the fast path only ever agrees


def test_a_missing_or_non_string_address_is_rejected() -> None:
    validator, _ = check([(None, None), (42, None)])
    assert [(i, f) for i, f, _ in reasons(validator)] == [(0, "Email"), (1, "Email")]


def test_duplicates_are_case_insensitive_and_the_first_valid_copy_wins() -> None:
    validator, rows = check(
        [
            ("Ana@Example.org", {"name": "first but bad <b>"}),  # invalid: claims nothing
            ("ana@example.org", {"name": "Ana"}),
            ("ANA@EXAMPLE.ORG", {"name": "again"}),
            ("ana@example.org", {"name": "<i>bad</i>"}),  # a duplicate, not an error
        ]
    )
    assert rows == [("ana@example.org", {"name": "Ana"})]
    assert validator.counts() == {"received": 4, "valid": 1, "duplicates": 2, "invalid": 1}


# -- template data --------------------------------------------------------------------------------


def test_defaults_are_merged_under_each_rows_data() -> None:
    validator, rows = check(
        [
            ("a@example.org", {"name": "Ana"}),
            ("b@example.org", None),
            ("c@example.org", '{"name": "Chen", "plan": "pro"}'),
        ],
        defaults={"name": "friend", "plan": "free"},
    )
    assert [data for _, data in rows] == [
        {"name": "Ana", "plan": "free"},
        {"name": "friend", "plan": "free"},
        {"name": "Chen", "plan": "pro"},
    ]
    assert validator.keys == frozenset({"name", "plan"})


def test_every_row_needs_the_variables_of_the_first_valid_row() -> None:
    validator, rows = check(
        [
            ("a@example.org", {"name": "x" * 900}),  # invalid: does not set the variables
            ("b@example.org", {"name": "Ben"}),
            ("c@example.org", {"nick": "C"}),
            ("d@example.org", {"name": "D", "nick": "D"}),
            ("e@example.org", {"name": "E"}),
        ]
    )
    assert [email for email, _ in rows] == ["b@example.org", "e@example.org"]
    problems = reasons(validator)
    assert [i for i, _, _ in problems] == [0, 2, 3]
    assert "TemplateDataInconsistent" in problems[1][2]
    assert "{nick}" in problems[1][2]
    assert "{name}" in problems[1][2]


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"name": "<b>Ana</b>"}, "HTML"),
        ({"name": "<img src=x>"}, "HTML"),
        ({"name": {"first": "Ana"}}, "flat"),
        ({"tags": ["a"]}, "flat"),
        ("not json", "JSON object"),
        ('["a"]', "JSON object"),
        (["a"], "JSON object"),
        ('{"n": NaN}', "JSON object"),
        ({"n": float("nan")}, "finite"),
        ({"n": 10**5000}, "finite"),
    ],
)
def test_template_data_rules(data: object, fragment: str) -> None:
    validator, rows = check([("a@example.org", data)])
    assert rows == []
    [(_, field, message)] = reasons(validator)
    assert field == "TemplateData"
    assert fragment in message


def test_text_that_only_looks_like_markup_is_fine() -> None:
    _, rows = check([("a@example.org", {"note": "I <3 you", "cmp": "2 < 3 > 1"})])
    assert len(rows) == 1


def test_numbers_booleans_and_null_are_plain_values() -> None:
    _, rows = check([("a@example.org", {"n": 1, "x": 1.5, "ok": True, "none": None})])
    assert rows[0][1] == {"n": 1, "x": 1.5, "ok": True, "none": None}


def _data_of_size(size: int, char: str = "a") -> dict[str, str]:
    overhead = len(template_data_text({"v": ""}).encode())  # {"v":""}
    width = len(char.encode())
    assert (size - overhead) % width == 0
    return {"v": char * ((size - overhead) // width)}


@pytest.mark.parametrize("char", ["a", "é", "中", "😀"])
def test_the_800_byte_rule_measures_compact_utf8_json(char: str) -> None:
    fits = _data_of_size(MAX_DATA_BYTES - (MAX_DATA_BYTES - 8) % len(char.encode()), char)
    too_big = {"v": fits["v"] + char}
    validator, rows = check([("a@example.org", fits), ("b@example.org", too_big)])
    assert [email for email, _ in rows] == ["a@example.org"]
    assert len(template_data_text(rows[0][1]).encode()) <= MAX_DATA_BYTES
    [(index, _, message)] = reasons(validator)
    assert index == 1
    assert "bytes as compact UTF-8 JSON" in message


def test_escapes_count_as_they_are_sent() -> None:
    quotes = {"v": '"' * 395}  # 395 quotes -> 790 bytes escaped, + {"v":""} = 798 bytes
    controls = {"v": "\x01" * 133}  # \u0001 is 6 bytes each: 798 + 8 = 806 bytes
    validator, rows = check([("a@example.org", quotes), ("b@example.org", controls)])
    assert len(rows) == 1
    assert reasons(validator)[0][0] == 1


def test_template_data_text_is_compact_and_keeps_unicode() -> None:
    assert template_data_text({"name": "Zoë", "n": 1}) == '{"name":"Zoë","n":1}'


def test_problems_are_capped_but_all_counted() -> None:
    validator, _ = check([(f"bad{n}", None) for n in range(250)], max_reported=100)
    assert validator.invalid == 250
    assert len(validator.problems) == 100
    assert validator.problems[-1].index == 99


def test_indexes_continue_across_calls() -> None:
    validator = RowValidator()
    list(validator.validate([("a@example.org", None)]))
    list(validator.validate([("bad", None)]))
    assert validator.problems[0].index == 1
    assert validator.received == 2


# -- sources --------------------------------------------------------------------------------------


def test_json_recipients_shapes() -> None:
    items: list[object] = [
        {"Email": "a@example.org"},
        {"Email": "b@example.org", "TemplateData": {"x": "1"}},
        "c@example.org",
        {"Email": "d@example.org", "Name": "D"},
        {"TemplateData": {}},
    ]
    pairs = list(json_recipients(items))
    assert pairs[:2] == [("a@example.org", None), ("b@example.org", {"x": "1"})]
    assert [email for email, _ in pairs[2:]] == [MALFORMED] * 3
    assert "object" in str(pairs[2][1])
    assert "unknown field 'Name'" in str(pairs[3][1])
    assert "Email is required" in str(pairs[4][1])


def test_csv_rows_with_the_email_column_anywhere() -> None:
    text = "\ufeffName,E-Mail,plan\nAna,ana@example.org,pro\n\nBen,ben@example.org,\n"
    source = CsvRecipients(io.StringIO(text, newline=""), defaults={"plan": "free"})
    assert source.columns == ["Name", "plan"]
    assert list(source) == [
        ("ana@example.org", {"Name": "Ana", "plan": "pro"}),
        ("ben@example.org", {"Name": "Ben"}),  # empty cell: the default fills it
    ]
    validator, rows = check(
        list(CsvRecipients(io.StringIO(text), defaults={"plan": "free"})), defaults={"plan": "free"}
    )
    assert rows[1] == ("ben@example.org", {"plan": "free", "Name": "Ben"})
    assert validator.invalid == 0


def test_csv_empty_cell_without_a_default_stays_empty() -> None:
    rows = list(CsvRecipients(["email,name\n", "a@example.org,\n"]))
    assert rows == [("a@example.org", {"name": ""})]


def test_csv_named_email_column_and_ragged_rows() -> None:
    source = CsvRecipients(["to,name\n", "a@example.org,A\n", "b@example.org\n"], email_column="to")
    rows = list(source)
    assert rows[0] == ("a@example.org", {"name": "A"})
    assert rows[1] == (MALFORMED, "has 1 cells; the header names 2 columns")


def test_csv_problems_name_the_file_line_each_row_starts_on() -> None:
    """The header is line 1; blank lines count, and a quoted cell may span lines: the line an
    editor shows, not the row's position among the data rows."""
    text = (
        "email,name\n"  # line 1
        "ana@example.org,Ana\n"  # 2
        "\n"  # 3: blank, not a row
        'ben@example.org,"Ben\r\nSecond"\n'  # 4-5: one row over two lines
        "bad-address,X\n"  # 6
        "c@example.org\n"  # 7: ragged
        "d@example.org,<b>D</b>\n"  # 8
    )
    source = CsvRecipients(io.StringIO(text, newline=""))
    validator = RowValidator(line_of=lambda: source.line)
    valid = list(validator.validate(source))
    assert [email for email, _ in valid] == ["ana@example.org", "ben@example.org"]
    assert [(p.index, p.line, p.field) for p in validator.problems] == [
        (2, 6, "Email"),
        (3, 7, ""),
        (4, 8, "TemplateData"),
    ]


def test_invalid_rows_say_line_for_a_file_and_recipient_index_for_a_json_list() -> None:
    from sesrelay.campaigns.service import problem_entry

    from_file = RowProblem(index=2, field="Email", message="bad", line=4)
    from_json = RowProblem(index=2, field="Email", message="bad")
    assert problem_entry(from_file) == {"Line": 4, "Field": "Email", "Message": "bad"}
    assert problem_entry(from_json) == {"RecipientIndex": 2, "Field": "Email", "Message": "bad"}


def test_a_csv_error_mid_file_names_its_line() -> None:
    text = "email,name\na@example.org,A\nb@example.org," + "x" * (csv.field_size_limit() + 1)
    source = CsvRecipients(io.StringIO(text + "\n", newline=""))
    with pytest.raises(ValueError, match=r"^line 3: "):
        list(source)


@pytest.mark.parametrize(
    ("lines", "column", "message"),
    [
        ([], None, "empty"),
        (["name,plan\n"], None, "no email column"),
        (["email,email\n"], None, "unique"),
        (["email,\n"], None, "unique and not empty"),
        (["email,name\n"], "to", "no email column: name one 'to'"),
    ],
)
def test_csv_header_problems(lines: list[str], column: str | None, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CsvRecipients(lines, email_column=column)


# -- blocks and the shard plan --------------------------------------------------------------------


def test_blocks_split_a_stream() -> None:
    sizes = [len(b) for b in blocks(((f"u{n}@example.org", {}) for n in range(25)), size=10)]
    assert sizes == [10, 10, 5]


def _sizes(total: int) -> list[int]:
    return [min(BLOCK_ROWS, total - start) for start in range(0, total, BLOCK_ROWS)]


def test_120k_rows_make_three_balanced_groups_of_two_uploads() -> None:
    assert plan_shards(_sizes(120_000)) == [
        [[0, 1], [2, 3]],
        [[4, 5], [6, 7]],
        [[8, 9], [10, 11]],
    ]


def _fewest_uploads(total: int) -> int:
    """The fewest uploads (20,000 rows each) with the fewest groups (50,000 rows each)."""
    groups = math.ceil(total / ROWS_PER_GROUP)
    over = max(0, total - 2 * ROWS_PER_UPLOAD * groups)  # rows beyond two full calls a group
    if not over:
        return math.ceil(total / ROWS_PER_UPLOAD)
    return 2 * groups + math.ceil(over / BLOCK_ROWS)  # a group over 40,000 needs a 3rd call


@pytest.mark.parametrize(
    "total",
    [
        *(1, 9_999, 10_000, 20_001, 40_000, 45_000, 50_000, 50_001, 60_000, 99_999, 100_000),
        *(100_001, 130_000, 140_000, 149_999, 150_000, 1_000_000, 1_000_001, 2_345_678),
    ],
)
def test_the_plan_uses_the_fewest_groups_then_the_fewest_uploads(total: int) -> None:
    sizes = _sizes(total)
    plan = plan_shards(sizes)
    assert len(plan) == math.ceil(total / ROWS_PER_GROUP)
    assert sum(len(shard) for shard in plan) == _fewest_uploads(total)
    used = [number for shard in plan for chunk in shard for number in chunk]
    assert used == list(range(len(sizes)))  # every block once, in order
    for shard in plan:
        assert sum(sizes[b] for chunk in shard for b in chunk) <= ROWS_PER_GROUP
        assert all(sum(sizes[b] for b in chunk) <= ROWS_PER_UPLOAD for chunk in shard)


def test_the_plan_refuses_oversized_blocks_and_is_empty_for_no_rows() -> None:
    assert plan_shards([]) == []
    with pytest.raises(ValueError, match="blocks"):
        plan_shards([BLOCK_ROWS + 1])


def test_rows_survive_a_json_round_trip_as_stored() -> None:
    rows = [("a@example.org", {"name": "Zoë"})]
    assert [tuple(r) for r in json.loads(json.dumps(rows))] == rows
