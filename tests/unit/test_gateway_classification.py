"""Which SDK failures are safe to retry, and endpoint parsing."""

from __future__ import annotations

import pytest

from sesrelay.adapters.ses_sdk import classify, parse_endpoint
from sesrelay.errors import Outcome

REFUSED = (
    "HTTPConnectionPool(host='127.0.0.1', port=9): Max retries exceeded with url: / (Caused by "
    "NewConnectionError('<urllib3.connection.HTTPConnection object>: Failed to establish a new "
    "connection: [Errno 111] Connection refused'))"
)
READ_TIMEOUT = "HTTPConnectionPool(host='127.0.0.1', port=9): Read timed out. (read timeout=1)"
DROPPED = (
    "('Connection aborted.', RemoteDisconnected('Remote end closed connection without response'))"
)


@pytest.mark.parametrize(
    ("action", "code", "message", "expected"),
    [
        ("SendEmail", "RequestLimitExceeded", "", Outcome.RETRYABLE),
        ("SendEmail", "RequestLimitExceeded.UinLimitExceeded", "", Outcome.RETRYABLE),
        ("SendEmail", "FailedOperation.ServiceNotAvailable", "", Outcome.RETRYABLE),
        # Blocked for about 10 minutes, then lifted by SES: nothing was sent, retry later.
        ("SendEmail", "FailedOperation.TemporaryBlocked", "", Outcome.RETRYABLE),
        ("SendEmail", "ClientNetworkError", REFUSED, Outcome.RETRYABLE),
        ("SendEmail", "ClientNetworkError", READ_TIMEOUT, Outcome.OUTCOME_UNKNOWN),
        ("SendEmail", "ClientNetworkError", DROPPED, Outcome.OUTCOME_UNKNOWN),
        ("BatchSendEmail", "ServerNetworkError", "502 Bad Gateway", Outcome.OUTCOME_UNKNOWN),
        ("BatchSendEmail", "InternalError", "", Outcome.OUTCOME_UNKNOWN),
        ("SendEmail", "JSONDecodeError", "", Outcome.OUTCOME_UNKNOWN),
        ("CreateReceiverDetail", "ClientNetworkError", READ_TIMEOUT, Outcome.OUTCOME_UNKNOWN),
        ("ListSendTasks", "ClientNetworkError", READ_TIMEOUT, Outcome.RETRYABLE),
        ("ListSendTasks", "ServerNetworkError", "500", Outcome.RETRYABLE),
        ("GetSendEmailStatus", "InternalError", "", Outcome.RETRYABLE),
        ("SendEmail", "FailedOperation.EmailAddrInBlacklist", "", Outcome.FINAL),
        ("SendEmail", "FailedOperation.FrequencyLimit", "", Outcome.FINAL),
        ("SendEmail", "AuthFailure.SignatureFailure", "", Outcome.FINAL),
        ("BatchSendEmail", "OperationDenied.ReceiverNotExist", "", Outcome.FINAL),
    ],
)
def test_classification(action: str, code: str, message: str, expected: Outcome) -> None:
    assert classify(action, code, message) is expected


@pytest.mark.parametrize(
    ("endpoint", "expected"),
    [
        ("http://127.0.0.1:8025", ("127.0.0.1:8025", "http")),
        ("https://ses.intl.tencentcloudapi.com", ("ses.intl.tencentcloudapi.com", "https")),
        ("ses.tencentcloudapi.com", ("ses.tencentcloudapi.com", "https")),
    ],
)
def test_parse_endpoint(endpoint: str, expected: tuple[str, str]) -> None:
    assert parse_endpoint(endpoint) == expected


def test_parse_endpoint_refuses_other_schemes() -> None:
    with pytest.raises(ValueError, match="http"):
        parse_endpoint("ftp://example.com")
