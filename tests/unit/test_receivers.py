"""The one ListReceivers pager: pages of 100 until TotalCount, and a cap, never endless paging."""

from __future__ import annotations

from typing import Any

import pytest

from sesrelay.campaigns.settle import list_groups
from sesrelay.clock import Deadline, ManualClock
from sesrelay.receivers import TooManyReceivers, iter_receivers
from sesrelay.timers.jobs import find_receiver_ids


class ListingSes:
    """Our SES port answering ListReceivers from a list of group names (ids from 1)."""

    def __init__(self, names: list[str], *, total: int | None = None) -> None:
        self.names = names
        self.total = len(names) if total is None else total  # what SES claims
        self.queries: list[dict[str, Any]] = []

    def call(self, action: str, params: dict[str, Any], deadline: Deadline) -> dict[str, Any]:
        assert action == "ListReceivers"
        self.queries.append(dict(params))
        offset, limit = params["Offset"], params["Limit"]
        page = [
            {"ReceiverId": n + 1, "ReceiversName": name, "ReceiversStatus": 3, "Count": 5}
            for n, name in enumerate(self.names)
        ][offset : offset + limit]
        return {"TotalCount": self.total, "Data": page, "RequestId": "req"}


def deadline() -> Deadline:
    return Deadline(ManualClock(), 30)


def test_an_empty_listing_is_one_call() -> None:
    ses = ListingSes([])
    assert list(iter_receivers(ses, deadline(), keyword="digest")) == []
    assert ses.queries == [{"Offset": 0, "Limit": 100, "KeyWord": "digest"}]


def test_an_exact_multiple_of_100_stops_at_the_total_without_an_empty_page() -> None:
    ses = ListingSes([f"g{n}" for n in range(200)])
    items = list(iter_receivers(ses, deadline(), max_pages=2))
    assert [item["ReceiverId"] for item in items] == list(range(1, 201))
    assert [(q["Offset"], q["Limit"]) for q in ses.queries] == [(0, 100), (100, 100)]
    assert "KeyWord" not in ses.queries[0]


def test_pages_left_after_the_cap_raise_instead_of_paging_on() -> None:
    ses = ListingSes([f"g{n}" for n in range(250)])
    with pytest.raises(TooManyReceivers) as caught:
        list(iter_receivers(ses, deadline(), keyword="g", max_pages=2))
    assert len(ses.queries) == 2
    assert caught.value.code == "too_many_receivers"
    assert "more than 200 recipient groups matching 'g'" in caught.value.message


class EndlessSes(ListingSes):
    """An endpoint that ignores Offset: the same full page forever, TotalCount never reached."""

    def call(self, action: str, params: dict[str, Any], deadline: Deadline) -> dict[str, Any]:
        return super().call(action, {**params, "Offset": 0}, deadline)


def test_an_endpoint_that_never_stops_paging_is_cut_off_at_the_default_cap() -> None:
    ses = EndlessSes([f"g{n}" for n in range(100)], total=10**9)
    with pytest.raises(TooManyReceivers, match="more than 10000 recipient groups"):
        list(iter_receivers(ses, deadline()))
    assert len(ses.queries) == 100


def test_a_job_group_found_on_the_second_page_by_its_exact_name() -> None:
    ses = ListingSes([*(f"digest-archive-{n}" for n in range(150)), "digest"])
    assert find_receiver_ids("digest", ses, deadline()) == [151]
    assert [q["KeyWord"] for q in ses.queries] == ["digest", "digest"]


def test_a_campaigns_groups_by_exact_prefix_across_pages() -> None:
    names = [f"sr-cmp_a-{n}" for n in range(120)] + ["other-sr-cmp_a-1"]
    found = list_groups(ListingSes(names), "sr-cmp_a-", deadline())
    assert len(found) == 120
    assert found["sr-cmp_a-119"] == (120, 3, 5)
