"""SCF timer cron expressions: 7 fields (second .. year) or the legacy 5 (minute .. week).

Rules from Tencent's timer trigger doc (https://cloud.tencent.com/document/product/583/9708):
wildcards `, - * /`, months JAN-DEC, weekdays SUN-SAT (0 = Sunday), years 1970-2099.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


@dataclass(frozen=True)
class _Field:
    label: str
    low: int
    high: int
    names: tuple[str, ...] = ()  # names[i] stands for low + i

    def describe(self) -> str:
        names = f" or {self.names[0]}-{self.names[-1]}" if self.names else ""
        return f"{self.low}-{self.high}{names}"


_SECOND = _Field("second", 0, 59)
_MINUTE = _Field("minute", 0, 59)
_HOUR = _Field("hour", 0, 23)
_DAY = _Field("day of month", 1, 31)
_MONTH = _Field("month", 1, 12, _MONTHS)
_WEEKDAY = _Field("day of week", 0, 6, _DAYS)
_YEAR = _Field("year", 1970, 2099)

SEVEN_FIELDS = (_SECOND, _MINUTE, _HOUR, _DAY, _MONTH, _WEEKDAY, _YEAR)
FIVE_FIELDS = (_MINUTE, _HOUR, _DAY, _MONTH, _WEEKDAY)
_ITEM_RE = re.compile(r"^(?P<base>\*|[A-Za-z0-9]+(?:-[A-Za-z0-9]+)?)(?:/(?P<step>[0-9]+))?$")


def normalize(expression: str) -> str:
    """The expression with single spaces, as SCF stores and compares it."""
    return " ".join(expression.split())


def problems(expression: str) -> list[str]:
    """Every reason `expression` is not a valid SCF cron rule (empty when it is valid)."""
    fields = expression.split()
    layout: tuple[_Field, ...]
    if len(fields) == 7:
        layout = SEVEN_FIELDS
    elif len(fields) == 5:
        layout = FIVE_FIELDS
    else:
        return [
            f"has {len(fields)} fields; SCF wants 7 (second minute hour day month weekday year), "
            "e.g. '0 0 9 * * MON *', or the legacy 5 (minute hour day month weekday)"
        ]
    found: list[str] = []
    for index, (text, spec) in enumerate(zip(fields, layout, strict=True), start=1):
        for item in text.split(","):
            reason = _item_problem(item, spec)
            if reason:
                found.append(f"field {index} ({spec.label}) {item!r}: {reason}")
    return found


def _item_problem(item: str, spec: _Field) -> str | None:
    match = _ITEM_RE.match(item)
    if match is None:
        return f"use numbers {spec.describe()}, '*', 'a-b', 'a,b' or '/step' (no '?', 'L' or '#')"
    step = match.group("step")
    if step is not None and not 1 <= int(step) <= spec.high - spec.low + 1:
        return f"step must be 1 to {spec.high - spec.low + 1}"
    base = match.group("base")
    if base == "*":
        return None
    bounds = [_value(part, spec) for part in base.split("-")]
    if any(value is None for value in bounds):
        return f"out of range; allowed {spec.describe()}"
    low, high = bounds[0], bounds[-1]
    if low is not None and high is not None and low > high:
        return "the range starts after it ends"
    return None


def _value(text: str, spec: _Field) -> int | None:
    upper = text.upper()
    if upper in spec.names:
        return spec.low + spec.names.index(upper)
    if not text.isdigit():
        return None
    number = int(text)
    return number if spec.low <= number <= spec.high else None
