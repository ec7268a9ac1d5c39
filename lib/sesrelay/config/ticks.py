"""The `{{tick.X}}` placeholders a job's string params may use (part of the config file format),
and their values for one timer tick, computed in the job's `timezone`.

The default zone is Asia/Shanghai (UTC+8), the zone SCF cron rules are written in:

| placeholder          | example (Time 2026-01-04T18:30:00Z, Asia/Shanghai) |
|----------------------|-----------------------------------------------------|
| `{{tick.date}}`      | `2026-01-05`                                        |
| `{{tick.time}}`      | `02:30:00`                                          |
| `{{tick.datetime}}`  | `2026-01-05 02:30:00` (the SES BeginTime format)    |
| `{{tick.iso_week}}`  | `2026-W02` (ISO year and week)                      |
| `{{tick.week}}`      | `2` (ISO week number, not padded)                   |
| `{{tick.year}}`      | `2026` (calendar year)                              |
| `{{tick.month}}`, `{{tick.day}}` | `01`, `05` (two digits)                 |
| `{{tick.weekday}}`   | `Monday` (English, whatever the locale)             |
| `{{tick.iso}}`       | `2026-01-05T02:30:00+08:00`                         |

Any other `{{...}}` (SES template variables such as `{{name}}`) is left for SES to fill in.
Both the function (sesrelay.timers.jobs) and the offline checker render params with this module,
so a job that passes `sesrelay config check` renders the same way on SCF.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone, tzinfo
from typing import TYPE_CHECKING, Any

from sesrelay.errors import FieldError, InvalidInput

if TYPE_CHECKING:
    from sesrelay.config.model import JobConfig

TICK_FIELDS = (
    "date",
    "time",
    "datetime",
    "iso_week",
    "week",
    "year",
    "month",
    "day",
    "weekday",
    "iso",
)
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_PLACEHOLDER_RE = re.compile(r"\{\{\s*(tick\b[^{}]*?)\s*\}\}")
#: Used when the system has no tz database (minimal images without tzdata): both are fixed.
_FIXED_ZONES: dict[str, tzinfo] = {
    "Asia/Shanghai": timezone(timedelta(hours=8), "Asia/Shanghai"),
    "UTC": timezone.utc,
    "Etc/UTC": timezone.utc,
}


def resolve_timezone(name: str) -> tzinfo:
    """An IANA zone; Asia/Shanghai and UTC still work without a tz database. ValueError if not."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        if name in _FIXED_ZONES:
            return _FIXED_ZONES[name]
        raise ValueError(
            f"unknown time zone {name[:64]!r}: use an IANA name such as Asia/Shanghai or UTC "
            "(if the name is right, this system lacks a tz database: pip install tzdata)"
        ) from None


def tick_values(moment: datetime, zone: tzinfo) -> dict[str, str]:
    """The `{{tick.X}}` values of one tick, in `zone`."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    local = moment.astimezone(zone)
    iso_year, iso_week, iso_day = local.isocalendar()
    return {
        "date": local.strftime("%Y-%m-%d"),
        "time": local.strftime("%H:%M:%S"),
        "datetime": local.strftime("%Y-%m-%d %H:%M:%S"),
        "iso_week": f"{iso_year}-W{iso_week:02d}",
        "week": str(iso_week),
        "year": str(local.year),
        "month": f"{local.month:02d}",
        "day": f"{local.day:02d}",
        "weekday": _WEEKDAYS[iso_day - 1],
        "iso": local.isoformat(timespec="seconds"),
    }


def render_tick(
    value: object, values: Mapping[str, str], path: str
) -> tuple[Any, list[FieldError]]:
    """`value` with `{{tick.X}}` replaced in every string leaf, and the unknown placeholders."""
    errors: list[FieldError] = []
    if isinstance(value, str):

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            field = name[len("tick.") :] if name.startswith("tick.") else ""
            if field in values:
                return values[field]
            known = ", ".join("{{tick." + known + "}}" for known in TICK_FIELDS)
            shown = match.group(0)[:48]
            errors.append(FieldError(path, f"unknown placeholder {shown}; known: {known}"))
            return match.group(0)

        return _PLACEHOLDER_RE.sub(replace, value), errors
    if isinstance(value, dict):
        rendered = {}
        for key, item in value.items():
            rendered[key], found = render_tick(item, values, f"{path}.{key}")
            errors += found
        return rendered, errors
    if isinstance(value, list):
        items = []
        for index, item in enumerate(value):
            rendered_item, found = render_tick(item, values, f"{path}.{index}")
            items.append(rendered_item)
            errors += found
        return items, errors
    return value, errors


def render_job_params(name: str, job: JobConfig, tick_time: datetime) -> dict[str, Any]:
    """The job's params for the tick at `tick_time` (UTC); InvalidInput names config paths."""
    try:
        zone = resolve_timezone(job.timezone)
    except ValueError as exc:
        raise InvalidInput([FieldError(f"jobs.{name}.timezone", str(exc))]) from None
    params, errors = render_tick(job.params, tick_values(tick_time, zone), f"jobs.{name}.params")
    if errors:
        raise InvalidInput(errors)
    assert isinstance(params, dict)
    return params
