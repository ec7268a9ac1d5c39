"""One list of send actions: the config file accepts exactly the actions the entry points send."""

from __future__ import annotations

import typing

from sesrelay.adapters.ses_sdk import classify
from sesrelay.config.model import FINISH_CAMPAIGNS, Action, JobAction
from sesrelay.errors import Outcome
from sesrelay.gateway import SEND_ACTIONS


def test_config_actions_are_the_send_actions_the_entry_points_accept() -> None:
    # The config models need Literal types, which cannot be built from a tuple: they are
    # spelled out there, and held to gateway.SEND_ACTIONS here.
    assert typing.get_args(Action) == SEND_ACTIONS
    assert typing.get_args(JobAction) == (*SEND_ACTIONS, FINISH_CAMPAIGNS)


def test_a_send_that_timed_out_is_never_blindly_retried() -> None:
    for action in SEND_ACTIONS:
        outcome = classify(action, "ClientNetworkError", "Read timed out. (read timeout=10)")
        assert outcome is Outcome.OUTCOME_UNKNOWN, action
