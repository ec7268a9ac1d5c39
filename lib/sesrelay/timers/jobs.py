"""Timer jobs from the config file: a job's params rendered for one tick, its recipient group named.

A job's string params may use tick values, computed from the event's UTC `Time` in the job's
`timezone` (default Asia/Shanghai, UTC+8, the zone SCF cron rules use; reference/scf.md 2.3):

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
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone, tzinfo
from typing import TYPE_CHECKING, Any

from sesrelay.clock import Deadline
from sesrelay.errors import FieldError, InvalidInput
from sesrelay.gateway import SesGateway

if TYPE_CHECKING:
    from sesrelay.config.model import JobConfig, RelayConfig

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
LIST_RECEIVERS_LIMIT = 100  # the SES maximum (reference/ses.md, ListReceivers)
MAX_LIST_PAGES = 100  # a guard against an endpoint that never stops paging


def parse_tick_time(text: str) -> datetime:
    """A timer event's `Time` ("2026-01-05T01:00:00Z") as an aware datetime; no zone means UTC.

    Python 3.10's `fromisoformat` does not read a trailing `Z`, so it is rewritten first.
    """
    value = text.strip()
    if value[-1:] in ("Z", "z"):
        value = value[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        message = "must be an ISO-8601 time such as 2026-01-05T01:00:00Z (SCF timer event)"
        raise InvalidInput([FieldError("Time", message)]) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


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


class ReceiverCache:
    """Recipient group name -> ReceiverId, kept for the life of a warm instance."""

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}

    def get(self, name: str) -> int | None:
        return self._ids.get(name)

    def put(self, name: str, receiver_id: int) -> None:
        self._ids[name] = receiver_id

    def forget(self, name: str) -> None:
        """Drop a name, e.g. after SES said its ReceiverId no longer exists."""
        self._ids.pop(name, None)


def find_receiver_ids(group: str, ses: SesGateway, deadline: Deadline) -> list[int]:
    """The ReceiverIds of every recipient group named exactly `group` (ListReceivers, paged).

    `KeyWord` narrows the listing on the SES side (a fuzzy name match); the exact match is ours.
    """
    found: list[int] = []
    offset = 0
    for _page in range(MAX_LIST_PAGES):
        reply = ses.call(
            "ListReceivers",
            {"Offset": offset, "Limit": LIST_RECEIVERS_LIMIT, "KeyWord": group},
            deadline,
        )
        data = reply.get("Data") or []
        found += [
            item["ReceiverId"]
            for item in data
            if isinstance(item, dict)
            and item.get("ReceiversName") == group
            and isinstance(item.get("ReceiverId"), int)
        ]
        offset += len(data)
        total = reply.get("TotalCount")
        if not data or not isinstance(total, int) or offset >= total:
            break
    return found


def resolve_receiver_id(
    name: str, group: str, ses: SesGateway, deadline: Deadline, cache: ReceiverCache
) -> int:
    cached = cache.get(group)
    if cached is not None:
        return cached
    ids = find_receiver_ids(group, ses, deadline)
    field = f"jobs.{name}.receiver_group"
    if not ids:
        raise InvalidInput(
            [FieldError(field, f"no recipient group named {group!r} (ListReceivers)")]
        )
    if len(ids) > 1:
        message = f"{len(ids)} recipient groups are named {group!r}; give them distinct names"
        raise InvalidInput([FieldError(field, message)])
    cache.put(group, ids[0])
    return ids[0]


def resolve_job(
    name: str,
    config: RelayConfig,
    tick_time: datetime,
    ses: SesGateway,
    deadline: Deadline,
    cache: ReceiverCache,
) -> tuple[str, dict[str, Any]]:
    """(action, raw SES params) of job `name` for the tick at `tick_time`; InvalidInput if unusable.

    Raises SesError as the gateway does when the recipient group lookup fails.
    """
    job = config.jobs.get(name)
    if job is None:
        configured = ", ".join(sorted(config.jobs)[:20]) or "none"
        message = f"no job named {name[:64]!r} in the config file (configured: {configured})"
        raise InvalidInput([FieldError("Message.job", message)])
    params = render_job_params(name, job, tick_time)
    if job.receiver_group is not None:
        params["ReceiverId"] = resolve_receiver_id(name, job.receiver_group, ses, deadline, cache)
    return job.action, params
