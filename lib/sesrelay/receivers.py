"""SES's recipient groups as ListReceivers pages them: the one pager, with a cap on its pages,
and the per-instance cache of group name -> ReceiverId.

Used by timer jobs (a group looked up by its name) and campaigns (their groups, by name prefix).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sesrelay.clock import Deadline
from sesrelay.errors import RelayError
from sesrelay.gateway import SesGateway

#: ListReceivers' largest page: SES answers FailedOperation.InvalidLimit above it.
PAGE_SIZE = 100
#: 100 pages = 10,000 groups matching one keyword, far more than a job's group name or a
#: campaign's prefix should ever match: past it the listing is refused, never followed forever.
MAX_PAGES = 100


class TooManyReceivers(RelayError):
    """ListReceivers still had pages left after `max_pages`: nothing was decided from a part."""

    code = "too_many_receivers"


def iter_receivers(
    ses: SesGateway,
    deadline: Deadline,
    *,
    keyword: str | None = None,
    page_size: int = PAGE_SIZE,
    max_pages: int = MAX_PAGES,
) -> Iterator[dict[str, Any]]:
    """Every group SES lists (ListReceivers' `Data` items, as SES sent them), page after page.

    `keyword` narrows the listing on the SES side; it is a fuzzy name match, so callers apply
    their exact rule to the items. Stops at an empty page or once `TotalCount` items are seen.
    Raises TooManyReceivers when pages remain after `max_pages`, and SesError as the gateway does.
    """
    offset = 0
    for _page in range(max_pages):
        query: dict[str, Any] = {"Offset": offset, "Limit": page_size}
        if keyword:
            query["KeyWord"] = keyword
        reply = ses.call("ListReceivers", query, deadline)
        data = reply.get("Data") or []
        yield from (item for item in data if isinstance(item, dict))
        offset += len(data)
        total = reply.get("TotalCount")
        if not data or not isinstance(total, int) or offset >= total:
            return
    matching = f" matching {keyword[:64]!r}" if keyword else ""
    raise TooManyReceivers(
        f"SES lists more than {max_pages * page_size} recipient groups{matching} "
        f"(ListReceivers stopped after {max_pages} pages): delete the groups no longer needed "
        "(DeleteReceiver) or give the group a more distinctive name"
    )


class ReceiverCache:
    """Recipient group name -> ReceiverId, kept for the life of a warm instance (a timer job
    names its group; SES's ListReceivers is asked once)."""

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}

    def get(self, name: str) -> int | None:
        return self._ids.get(name)

    def put(self, name: str, receiver_id: int) -> None:
        self._ids[name] = receiver_id

    def clear(self) -> None:
        """Forget every group, e.g. after SES said a remembered ReceiverId no longer exists."""
        self._ids.clear()
