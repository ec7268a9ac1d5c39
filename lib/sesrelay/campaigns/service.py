"""Campaigns: an ad-hoc recipient list -> recipient groups -> one batch task per group.

The use case: stage validated rows, plan the shards, launch (the request drives the campaign as
far as its deadline allows), `resume` a keyed request's campaign on its retry, and
`finish_pending`, the `campaigns-finisher` timer job.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import Any

from sesrelay.campaigns.model import (
    ACTIVE_STATES,
    FINAL_STATES,
    Campaign,
    CampaignSpec,
    Shard,
    group_name,
)
from sesrelay.campaigns.rows import Row, RowProblem, RowValidator, blocks, plan_shards
from sesrelay.campaigns.runner import Runner
from sesrelay.campaigns.settle import OnChange
from sesrelay.campaigns.store import CampaignConflict, CampaignStore, new_campaign_id
from sesrelay.clock import Deadline
from sesrelay.errors import RelayError, public_message
from sesrelay.logs import log
from sesrelay.state import StateStoreError
from sesrelay.wiring import Services

LEASE_MARGIN_SECONDS = 5.0
MIN_RUN_SECONDS = 2.0  # the finisher does not start a campaign with less time than this

__all__ = ["CampaignBuilder", "finish_pending", "problem_entry", "resume"]


def problem_entry(problem: RowProblem) -> dict[str, Any]:
    """An invalid row as `InvalidRows` lists it: `Line`, the file line (header = line 1), for
    rows read from a file; `RecipientIndex`, 0-based as in `Recipients.<n>`, for a JSON list."""
    where: dict[str, Any] = (
        {"Line": problem.line} if problem.line is not None else {"RecipientIndex": problem.index}
    )
    return {**where, "Field": problem.field, "Message": problem.message}


class CampaignBuilder:
    """Stages validated rows as blocks, then plans the shards and launches the campaign.

    `campaign_id` names the campaign of a keyed request (`store.keyed_campaign_id`); a record
    of it still validating is taken over (its run died while staging: nothing reached SES).
    Without one the campaign gets a random id.
    """

    def __init__(
        self,
        services: Services,
        spec: CampaignSpec,
        validator: RowValidator,
        campaign_id: str | None = None,
        key_name: str | None = None,
    ) -> None:
        self.services = services
        self.store = CampaignStore(services.state)
        self.validator = validator
        now = services.clock.now().isoformat(timespec="seconds")
        self.campaign = Campaign(
            id=campaign_id or new_campaign_id(),
            state="validating",
            created_at=now,
            updated_at=now,
            batch=spec.batch_params(),
            with_data=False,
            validation=spec.Validation,
            name=spec.Name,
            key=key_name,
        )
        self._create()
        self._sizes: list[int] = []
        #: Set by `launch` when the run stopped early on an error (SES unreachable, throttled,
        #: the state store down) with the campaign still active: that error, as LastError has it.
        self.paused: dict[str, Any] | None = None

    def _create(self) -> None:
        try:
            self.store.create(self.campaign)
        except CampaignConflict:
            earlier = self.store.load(self.campaign.id)
            if earlier is None or earlier.state != "validating":
                raise
            self.campaign.created_at = earlier.created_at
            self.campaign.version = earlier.version  # saved with compare_and_set from here on

    def stage(self, rows: Iterable[Row]) -> None:
        """Store rows (already validated) in blocks as they come: never the whole list at once."""
        for block in blocks(rows):
            self.store.put_block(self.campaign.id, len(self._sizes), block)
            self._sizes.append(len(block))

    def _report(self) -> None:
        camp, validator = self.campaign, self.validator
        camp.counts = validator.counts()
        camp.problems = [problem_entry(p) for p in validator.problems]
        camp.updated_at = self.services.clock.now().isoformat(timespec="seconds")

    def abandon(self, code: str, message: str) -> Campaign:
        """Nothing reached SES (e.g. strict validation refused the list): record why, drop rows."""
        self._report()
        self.campaign.state = "failed"
        self.campaign.errors.append({"Code": code, "Message": message})
        self.store.save(self.campaign)
        self.store.delete_blocks(self.campaign.id, len(self._sizes))
        return self.campaign

    def launch(
        self, deadline: Deadline, *, reserve: float = 0.0, on_change: OnChange | None = None
    ) -> Campaign:
        """Plan the groups, put the campaign on the finisher's list, and drive it until it is
        done or out of time. Past that hand-over, failures only end this invocation's part."""
        camp = self.campaign
        self._report()
        plan = plan_shards(self._sizes)
        if not plan:
            raise ValueError("a campaign needs at least one valid recipient")
        camp.blocks = len(self._sizes)
        camp.with_data = bool(self.validator.keys)  # no variables at all: plain address uploads
        camp.shards = [
            Shard(
                index=n,
                name=group_name(camp.id, n),
                chunks=chunks,
                chunk_rows=[sum(self._sizes[b] for b in chunk) for chunk in chunks],
            )
            for n, chunks in enumerate(plan)
        ]
        camp.state = "uploading"
        self.store.save(camp)
        token = self.store.lease(camp.id, deadline.remaining() + LEASE_MARGIN_SECONDS)
        self.store.add_pending(camp.id)
        runner = Runner(self.services, self.store, camp, deadline, reserve, on_change)
        try:
            runner.run()
            if runner.stopped and camp.state in ACTIVE_STATES:
                self.paused = camp.last_error
        except RelayError as error:  # the store failed mid-way: the finisher carries on
            fields = {"code": error.code, "campaign_id": camp.id}
            log.error("campaign paused: %s", error.message, extra={"fields": fields})
            self.paused = {"Code": error.code, "Message": public_message(error)}
        finally:
            if token is not None:
                with contextlib.suppress(StateStoreError):  # a stale lease expires by itself
                    self.store.release(camp.id, token)
        return camp


def resume(
    services: Services, campaign_id: str, deadline: Deadline, *, reserve: float = 0.0
) -> Campaign | None:
    """The campaign a keyed request started before, driven on within the deadline unless
    another invocation drives it now. None when there is none yet, or when it never got past
    staging its rows (nothing reached SES: the caller stages them again)."""
    store = CampaignStore(services.state)
    camp = store.load(campaign_id)
    if camp is None or camp.state == "validating":
        return None
    if camp.state not in ACTIVE_STATES:
        return camp
    with _leased(store, campaign_id, deadline) as held:
        if not held:  # another invocation drives it: report it as it stands
            return camp
        camp = store.load(campaign_id) or camp
        if camp.state in ACTIVE_STATES:
            Runner(services, store, camp, deadline, reserve).run()
        return camp


def finish_pending(services: Services, deadline: Deadline) -> dict[str, Any]:
    """The `campaigns-finisher` timer job: drive every pending campaign on within the deadline.

    Raises errors.RetryLater only when the state store is unavailable (SCF retries the tick);
    SES trouble is recorded in each campaign's LastError and the next tick carries on.
    """
    from sesrelay.errors import RetryLater

    store = CampaignStore(services.state)
    try:
        ids = store.pending()
        results: list[dict[str, Any]] = []
        for n, campaign_id in enumerate(ids):
            left = deadline.remaining()
            if left < MIN_RUN_SECONDS:
                break
            # a fair share each, so one slow upload cannot starve the campaigns behind it
            share = max(left / (len(ids) - n), MIN_RUN_SECONDS)
            results.append(_drive(services, store, campaign_id, Deadline(services.clock, share)))
        return {"campaigns": results, "pending": len(store.pending())}
    except StateStoreError as error:
        raise RetryLater(f"state store unavailable: {error.message}") from None


def _drive(
    services: Services, store: CampaignStore, campaign_id: str, deadline: Deadline
) -> dict[str, Any]:
    with _leased(store, campaign_id, deadline) as held:
        if not held:
            return {"CampaignId": campaign_id, "State": "busy"}  # another invocation drives it
        camp = store.load(campaign_id)
        if camp is None or camp.state not in ACTIVE_STATES:
            store.remove_pending(campaign_id)
            return {"CampaignId": campaign_id, "State": camp.state if camp else "expired"}
        Runner(services, store, camp, deadline).run()
        summary: dict[str, Any] = {"CampaignId": camp.id, "State": camp.state}
        if camp.state not in FINAL_STATES and camp.last_error:
            summary["LastError"] = camp.last_error
        return summary


@contextlib.contextmanager
def _leased(store: CampaignStore, campaign_id: str, deadline: Deadline) -> Iterator[bool]:
    """Whether this invocation may drive the campaign (for the deadline, plus a margin)."""
    token = store.lease(campaign_id, deadline.remaining() + LEASE_MARGIN_SECONDS)
    try:
        yield token is not None
    finally:
        if token is not None:
            with contextlib.suppress(StateStoreError):  # a stale lease expires by itself
                store.release(campaign_id, token)
