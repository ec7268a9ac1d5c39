"""SES templates by name: the ListEmailTemplates pager, with a cap on its pages, and the
per-instance cache of template name -> TemplateID.

`Template.TemplateName` is the relay's own extension of SES's Template, accepted in timer jobs'
`params` and webhook mappings' `send` (never on the HTTP API, whose clients send TemplateID). It
stands in place of `TemplateID` and is replaced by it before the send is validated, so SES only
ever sees a TemplateID. A name must match exactly one template, and that one must be approved.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from sesrelay.clock import Deadline
from sesrelay.errors import FieldError, InvalidInput
from sesrelay.gateway import SesGateway

TEMPLATE_NAME = "TemplateName"
#: Both fields given: which template was meant is not ours to guess.
BOTH_GIVEN = "give Template.TemplateID or Template.TemplateName, not both"
#: ListEmailTemplates' largest page: SES answers FailedOperation.InvalidLimit above it.
PAGE_SIZE = 100
#: 100 pages = 10,000 templates, far beyond what an account holds: past it the listing is
#: refused, never followed forever (ListEmailTemplates has no name filter).
MAX_PAGES = 100
#: TemplateStatus as ListEmailTemplates reports it: 0 approved, 1 under review, 2 rejected;
#: anything else is unavailable.
APPROVED = 0
_NOT_APPROVED = {1: "is still under review", 2: "was rejected"}
#: SES's refusals of a TemplateID that no longer names an approved template (deleted, recreated
#: under a new id, edited back under review): the names remembered are looked up again.
TEMPLATE_GONE = frozenset(
    {"FailedOperation.InvalidTemplateID", "OperationDenied.TemplateStatusError"}
)


class TooManyTemplates(Exception):
    """ListEmailTemplates still had pages left after `max_pages`: nothing was decided."""


def iter_templates(
    ses: SesGateway, deadline: Deadline, *, page_size: int = PAGE_SIZE, max_pages: int = MAX_PAGES
) -> Iterator[dict[str, Any]]:
    """Every template SES lists (ListEmailTemplates' `TemplatesMetadata` items, as SES sent
    them), page after page; stops at an empty page or once `TotalCount` items are seen.

    Raises TooManyTemplates when pages remain after `max_pages`, and SesError as the gateway does.
    """
    offset = 0
    for _page in range(max_pages):
        reply = ses.call("ListEmailTemplates", {"Offset": offset, "Limit": page_size}, deadline)
        data = reply.get("TemplatesMetadata") or []
        yield from (item for item in data if isinstance(item, dict))
        offset += len(data)
        total = reply.get("TotalCount")
        if not data or not isinstance(total, int) or offset >= total:
            return
    raise TooManyTemplates(
        f"SES lists more than {max_pages * page_size} templates "
        f"(ListEmailTemplates stopped after {max_pages} pages)"
    )


class TemplateCache:
    """Template name -> TemplateID of the one approved template of that name, kept for the life
    of a warm instance (one listing answers every name it holds)."""

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}

    def get(self, name: str) -> int | None:
        return self._ids.get(name)

    def put(self, name: str, template_id: int) -> None:
        self._ids[name] = template_id

    def clear(self) -> None:
        """Forget every name, e.g. after SES refused a remembered TemplateID (TEMPLATE_GONE)."""
        self._ids.clear()


def find_template_id(
    name: str, ses: SesGateway, deadline: Deadline, cache: TemplateCache, field: str
) -> int:
    """The TemplateID of the approved template named exactly `name`.

    InvalidInput at `field` when no template has that name, several have, the listing is too
    long, or the template is not approved; SesError as the gateway raises it.
    """
    cached = cache.get(name)
    if cached is not None:
        return cached
    try:
        listed = [item for item in iter_templates(ses, deadline) if _id(item) is not None]
    except TooManyTemplates as exc:
        raise InvalidInput(
            [FieldError(field, f"{exc}: give Template.TemplateID instead")]
        ) from None
    counts = Counter(item.get("TemplateName") for item in listed)
    for item in listed:  # remember every unambiguous approved name of this listing
        other = item.get("TemplateName")
        if isinstance(other, str) and counts[other] == 1 and item.get("TemplateStatus") == APPROVED:
            cache.put(other, int(item["TemplateID"]))
    found = [item for item in listed if item.get("TemplateName") == name]
    shown = repr(name[:64])
    if not found:
        message = f"no template named {shown} in the SES account (ListEmailTemplates)"
        raise InvalidInput([FieldError(field, message)])
    if len(found) > 1:
        ids = ", ".join(str(_id(item)) for item in found[:10])
        message = (
            f"{len(found)} templates are named {shown} (TemplateID {ids}); give them distinct "
            "names or use Template.TemplateID"
        )
        raise InvalidInput([FieldError(field, message)])
    [template] = found
    template_id = _id(template)
    assert template_id is not None
    if template.get("TemplateStatus") != APPROVED:
        raise InvalidInput([FieldError(field, _unapproved(shown, template_id, template))])
    return template_id


def resolve_template_name(
    params: dict[str, Any], ses: SesGateway, deadline: Deadline, cache: TemplateCache, field: str
) -> dict[str, Any]:
    """`params` with `Template.TemplateName` replaced by the template's TemplateID (unchanged
    when there is no name). `field` is the name's path in errors (`send.Template.TemplateName`).
    """
    template = params.get("Template")
    if not isinstance(template, dict) or TEMPLATE_NAME not in template:
        return params
    name = template[TEMPLATE_NAME]
    if "TemplateID" in template:
        raise InvalidInput([FieldError(field, BOTH_GIVEN)])
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput([FieldError(field, "must be the name of a template (text)")])
    rest = {key: value for key, value in template.items() if key != TEMPLATE_NAME}
    template_id = find_template_id(name, ses, deadline, cache, field)
    return {**params, "Template": {"TemplateID": template_id, **rest}}


def _id(item: dict[str, Any]) -> int | None:
    value = item.get("TemplateID")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _unapproved(shown: str, template_id: int, template: dict[str, Any]) -> str:
    status = template.get("TemplateStatus")
    state = _NOT_APPROVED.get(status) if isinstance(status, int) else None
    state = state or f"is unavailable (TemplateStatus {status})"
    reason = template.get("ReviewReason")
    why = f" (review: {reason[:200]})" if isinstance(reason, str) and reason.strip() else ""
    return (
        f"template {shown} (TemplateID {template_id}) {state}{why}; SES sends only with "
        "approved templates"
    )
