"""What a caller may be told: an error whose message describes our infrastructure (the state
store's host and port) reaches answers, direct-invoke replies and campaign records as fixed
text; the message itself is for the operator's log."""

from __future__ import annotations

import json

from sesrelay.direct import error_body
from sesrelay.errors import INTERNAL_MESSAGES, FieldError, InvalidInput, public_message
from sesrelay.http.problems import error_response
from sesrelay.ratelimit import RateLimiterUnavailable
from sesrelay.state import StateStoreError

INTERNAL = "rate limiter redis://10.1.2.3:6379/0: eval failed: ConnectionError"


def test_a_store_failure_is_told_as_fixed_text_everywhere() -> None:
    for error in (RateLimiterUnavailable(INTERNAL), StateStoreError(INTERNAL)):
        assert public_message(error) == INTERNAL_MESSAGES["state_store_unavailable"]
        problem = json.loads(error_response(error, "req-1").body)
        assert "10.1.2.3" not in json.dumps(problem)
        assert problem["code"] == "state_store_unavailable"
        assert "10.1.2.3" not in json.dumps(error_body(error))


def test_other_errors_keep_their_own_message() -> None:
    error = InvalidInput([FieldError("Subject", "must not be blank")], message="bad subject")
    assert public_message(error) == "bad subject"
