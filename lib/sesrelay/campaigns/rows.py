"""Recipient rows of a campaign: streaming validation, case-insensitive dedupe, and the shard plan.

Pure and fast: plain Python in the hot loop (no model per row), so a million CSV rows validate in
seconds and only the dedupe set grows with the list. The limits are SES's upload limits.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from sesrelay.ses.fields import is_email_address
from sesrelay.ses.headers import SUBJECT_VALUE_RULE, subject_variables
from sesrelay.ses.rules import HEADER_BREAKERS, SURROGATE_RULE, has_lone_surrogate

MAX_DATA_BYTES = 800  # CreateReceiverDetailWithData: TemplateData <= 800 bytes "for the whole JSON"
ROWS_PER_UPLOAD = 20_000  # LimitExceeded.ReceiverDetailRequestLimit
ROWS_PER_GROUP = 50_000  # LimitExceeded.ReceiverDetailCountLimit
#: Rows are staged in blocks of half an upload: one or two blocks make a call, five fill a
#: group, so the plan can reach the fewest groups and calls without knowing the total upfront.
BLOCK_ROWS = ROWS_PER_UPLOAD // 2
MAX_REPORTED = 100  # problems listed per campaign; the rest are only counted

Scalar = str | int | float | bool | None
TemplateVars = dict[str, Scalar]
Row = tuple[str, TemplateVars]  # (address as given, merged template data)

#: Marks a source row that has no usable shape; its data slot then holds the reason.
MALFORMED: Final = object()

# Any opening or closing tag: per-recipient data "must not contain HTML tags"
# (CreateReceiverDetailWithData doc, InvalidParameterValue.InValidTemplateData).
_TAG_RE = re.compile(r"<\s*/?\s*[A-Za-z!][^<>]*>")
# The measured serialisation: compact separators, UTF-8 kept as is (ensure_ascii=False), exactly
# the TemplateData text sesrelay uploads; its UTF-8 byte length is what the 800 B rule limits.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
_SYNC_EVERY = 8192  # rows between counter updates that a progress display may read
# A fast path only: it accepts a subset of what ses.addresses.is_email_address accepts (a short
# address of letters, digits, "._+-" and a letter TLD); anything else gets the full check.
_PLAIN_ADDRESS = re.compile(
    r"[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*@(?:[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*\.)+[A-Za-z]{2,}"
)


def template_data_text(data: Mapping[str, Scalar]) -> str:
    """The TemplateData string uploaded for one row (the text the 800-byte rule measures)."""
    return _ENCODER.encode(data)


@dataclass(frozen=True)
class RowProblem:
    """One rejected row: its 0-based index in the source, the field at fault, the rule broken,
    and, for rows read from a file, the file line the row starts on (the header is line 1)."""

    index: int
    field: str  # "Email", "TemplateData", "TemplateData.<var>" or "" (the row itself)
    message: str
    line: int | None = None


@dataclass
class RowValidator:
    """Validates rows as they stream by; yields the good ones once per address (first wins).

    The first valid row fixes the variable names: SES refuses a list whose rows disagree
    (InvalidParameterValue.TemplateDataInconsistent), so later rows must carry the same keys.
    The values of the variables that `subject` uses must be fit for a mail header.
    `line_of`, for rows read from a file, names the file line of the row being validated.
    """

    defaults: Mapping[str, Scalar] = field(default_factory=dict)
    subject: str = ""
    line_of: Callable[[], int] | None = None
    max_reported: int = MAX_REPORTED
    received: int = 0
    valid: int = 0
    duplicates: int = 0
    invalid: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    keys: frozenset[str] | None = None
    _seen: set[str] = field(default_factory=set, repr=False)

    def forget_addresses(self) -> None:
        """Drop the addresses kept to spot duplicates (no more rows will come); the rest stays."""
        self._seen = set()

    def counts(self) -> dict[str, int]:
        return {
            "received": self.received,
            "valid": self.valid,
            "duplicates": self.duplicates,
            "invalid": self.invalid,
        }

    def _reject(self, index: int, where: str, message: str) -> None:
        self.invalid += 1
        if len(self.problems) < self.max_reported:
            line = None if self.line_of is None else self.line_of()
            self.problems.append(RowProblem(index, where, message, line))

    def _reject_shape(self, index: int, email: object, data: object) -> None:
        if email is MALFORMED:
            self._reject(index, "", str(data))
        else:
            self._reject(index, "Email", "is required and must be a string")

    def _reject_data(self, index: int, data: TemplateVars | str, in_subject: Sequence[str]) -> None:
        if isinstance(data, str):
            self._reject(index, "TemplateData", data)
        else:
            name = _header_breaker(data, in_subject)
            self._reject(index, f"TemplateData.{name}", SUBJECT_VALUE_RULE)

    def validate(self, rows: Iterable[tuple[object, object]]) -> Iterator[Row]:
        """The valid, first-seen rows of `rows` ((email, data) pairs), data merged over defaults.

        The loop takes a fast path for the common row (a short plain address, string values, the
        known variables, clearly under 800 bytes); anything else gets the full checks.
        """
        seen, defaults, reject = self._seen, dict(self.defaults), self._reject
        in_subject = subject_variables(self.subject)
        plain_address, keys, fixed = _PLAIN_ADDRESS.fullmatch, self.keys, _key_bytes(self.keys)
        index, valid, duplicates = self.received - 1, 0, 0
        try:
            for raw, data in rows:
                index += 1
                if not index % _SYNC_EVERY:
                    self.received, self.valid, self.duplicates = index, valid, duplicates
                if type(raw) is not str:
                    self._reject_shape(index, raw, data)
                    continue
                email = raw.strip()
                if (len(email) > 64 or not plain_address(email)) and not is_email_address(email):
                    reject(index, "Email", "must be a valid email address (local@domain.tld)")
                    continue
                key = email if email.isascii() and email.islower() else email.lower()  # no copy
                if key in seen:  # only accepted rows are in `seen`: a bad first copy claims nothing
                    duplicates += 1
                    continue
                if type(data) is dict:
                    merged: dict[str, Any] | str = {**defaults, **data} if defaults else data
                elif data is None:
                    merged = defaults
                else:
                    merged = _parse(data, defaults)  # the data, or why it is unusable
                if isinstance(merged, str) or (in_subject and _header_breaker(merged, in_subject)):
                    self._reject_data(index, merged, in_subject)
                    continue
                fast = False
                if keys is not None and merged.keys() == keys:
                    try:
                        joined = "".join(merged.values())
                    except TypeError:  # not all strings: the full rules decide
                        joined = "<"
                    # JSON escapes take at most 6 bytes a character: a cheap upper bound
                    fast = (
                        "<" not in joined
                        and fixed + 6 * len(joined) <= MAX_DATA_BYTES
                        and (joined.isascii() or not has_lone_surrogate(joined))
                    )
                if not fast:
                    problem = self._check_data(merged)  # the full rules
                    if problem:
                        reject(index, "TemplateData", problem)
                        continue
                    keys, fixed = self.keys, _key_bytes(self.keys)
                seen.add(key)
                valid += 1
                yield email, merged
        finally:
            self.received, self.valid, self.duplicates = index + 1, valid, duplicates

    def _check_data(self, data: TemplateVars) -> str:
        """'' when the row's data is acceptable, else the rule it breaks."""
        size = 2
        for name, value in data.items():
            kind = type(value)
            if kind is str:
                assert isinstance(value, str)
                if "<" in value and _TAG_RE.search(value):
                    return "values must not contain HTML tags (SES InValidTemplateData)"
                if has_lone_surrogate(value) or has_lone_surrogate(name):
                    return "names and values " + SURROGATE_RULE
                # JSON escapes take at most 6 bytes per character: a cheap upper bound
                size += 6 * (len(name) + len(value)) + 6
            elif value is None or kind in (int, float, bool):
                size += MAX_DATA_BYTES  # rare in lists: force the exact measurement
            else:
                return "values must be strings, numbers, booleans or null (a flat JSON object)"
        if self.keys is not None and data.keys() != self.keys:
            return (
                f"has variables {_names(data.keys())} but earlier rows have "
                f"{_names(self.keys)}; every row needs the same names (SES "
                "TemplateDataInconsistent)"
            )
        if size > MAX_DATA_BYTES:
            try:
                size = len(template_data_text(data).encode("utf-8"))
            except ValueError:  # NaN/Infinity, or an int too long to print
                return "numbers must be finite and of reasonable length"
            if size > MAX_DATA_BYTES:
                return f"is {size} bytes as compact UTF-8 JSON; SES allows {MAX_DATA_BYTES}"
        if self.keys is None:
            self.keys = frozenset(data)
        return ""


def _header_breaker(data: TemplateVars, names: Iterable[str]) -> str:
    """The first of `names` whose value would break the Subject it is rendered into, or ''."""
    for name in names:  # plain and inlined: this runs for every row of a list
        value = data.get(name)
        if type(value) is str and not HEADER_BREAKERS.isdisjoint(value):
            return name
    return ""


def _key_bytes(keys: frozenset[str] | None) -> int:
    """The most the braces, keys, quotes and separators of a row's JSON can take."""
    return 2 + sum(6 * len(name) + 6 for name in keys or ())


def _names(keys: Iterable[str]) -> str:
    shown = sorted(name[:40] for name in keys)
    text = ", ".join(shown[:10]) + (", ..." if len(shown) > 10 else "")
    return "{" + text + "}"


def _parse(data: object, defaults: TemplateVars) -> TemplateVars | str:
    """Row data given as JSON text, over the defaults; or why it is unusable (a string)."""
    if type(data) is str:
        try:
            data = json.loads(data, parse_constant=_no_constants)
        except (ValueError, RecursionError):
            return "must be a JSON object (or a string holding one)"
    if type(data) is not dict:
        return "must be a JSON object of template variables"
    return {**defaults, **data} if defaults else data


def _no_constants(name: str) -> object:
    raise ValueError(name)  # NaN / Infinity are not JSON


def json_recipients(items: Iterable[object]) -> Iterator[tuple[object, object]]:
    """`Recipients` of an HTTP body ([{Email, TemplateData?}]) as (email, data) pairs."""
    for item in items:
        if type(item) is not dict:
            yield MALFORMED, "must be an object {Email, TemplateData}"
            continue
        size = len(item)
        if "Email" in item and (size == 1 or (size == 2 and "TemplateData" in item)):
            yield item["Email"], item.get("TemplateData")
            continue
        unknown = sorted(str(k)[:64] for k in item if k not in ("Email", "TemplateData"))
        if unknown:
            yield MALFORMED, f"unknown field {unknown[0]!r}: a recipient has Email and TemplateData"
        else:
            yield MALFORMED, "Email is required"


def blocks(rows: Iterable[Row], size: int = BLOCK_ROWS) -> Iterator[list[Row]]:
    """Consecutive lists of `size` rows (the last may be shorter)."""
    block: list[Row] = []
    for row in rows:
        block.append(row)
        if len(block) == size:
            yield block
            block = []
    if block:
        yield block


def plan_shards(block_sizes: Sequence[int]) -> list[list[list[int]]]:
    """Shards (one recipient group each) -> upload calls -> block numbers.

    The fewest groups SES allows (50,000 rows each), then the fewest upload calls (20,000 rows
    each): two blocks per call, at most five blocks per group, and as few odd-sized groups as
    possible (an odd block count costs a call for half a block). 120,000 rows -> 3 x 40,000.
    """
    if any(not 0 < size <= BLOCK_ROWS for size in block_sizes):
        raise ValueError(f"blocks must hold 1 to {BLOCK_ROWS} rows")
    total, count = sum(block_sizes), len(block_sizes)
    groups = math.ceil(total / ROWS_PER_GROUP)
    per_group = ROWS_PER_GROUP // BLOCK_ROWS  # 5
    if count > (per_group - 1) * groups:
        # every group takes 4 blocks, the first (count - 4*groups) of them one more
        sizes = [per_group if n < count - (per_group - 1) * groups else 4 for n in range(groups)]
    else:
        sizes = [min(4, count - 4 * n) for n in range(math.ceil(count / 4))]
    plan: list[list[list[int]]] = []
    start = 0
    for size in sizes:
        numbers = list(range(start, start + size))
        plan.append([numbers[i : i + 2] for i in range(0, size, 2)])
        start += size
    return plan
