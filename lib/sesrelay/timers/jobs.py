"""Timer jobs at run time: a tick's `Time` read, a job's params rendered for it (config.ticks),
its recipient group looked up as a ReceiverId (ListReceivers) and its template name as a
TemplateID (ListEmailTemplates), both remembered per warm instance."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from sesrelay.clock import Deadline
from sesrelay.config.ticks import render_job_params
from sesrelay.errors import FieldError, InvalidInput
from sesrelay.gateway import SesGateway
from sesrelay.receivers import ReceiverCache, iter_receivers
from sesrelay.template_names import TemplateCache, resolve_template_name

if TYPE_CHECKING:
    from sesrelay.config.model import RelayConfig


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


def find_receiver_ids(group: str, ses: SesGateway, deadline: Deadline) -> list[int]:
    """The ReceiverIds of every recipient group named exactly `group` (ListReceivers, paged).

    `KeyWord` narrows the listing on the SES side (a fuzzy name match); the exact match is ours.
    """
    return [
        item["ReceiverId"]
        for item in iter_receivers(ses, deadline, keyword=group)
        if item.get("ReceiversName") == group and isinstance(item.get("ReceiverId"), int)
    ]


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
    templates: TemplateCache | None = None,
) -> tuple[str, dict[str, Any]]:
    """(action, raw SES params) of job `name` for the tick at `tick_time`; InvalidInput if unusable.

    Raises SesError as the gateway does when the recipient group or template lookup fails.
    """
    job = config.jobs.get(name)
    if job is None:
        configured = ", ".join(sorted(config.jobs)[:20]) or "none"
        message = f"no job named {name[:64]!r} in the config file (configured: {configured})"
        raise InvalidInput([FieldError("Message.job", message)])
    params = render_job_params(name, job, tick_time)
    if job.receiver_group is not None:
        params["ReceiverId"] = resolve_receiver_id(name, job.receiver_group, ses, deadline, cache)
    field = f"jobs.{name}.params.Template.TemplateName"
    params = resolve_template_name(params, ses, deadline, templates or TemplateCache(), field)
    return job.action, params
